//! Cron schedules as a Kubernetes CronJob accepts them: five standard fields (minute, hour,
//! day of month, month, day of week) with lists, ranges, steps and `jan`..`dec` / `sun`..`sat`
//! names, or one of the `@yearly`-style macros. Time-zone prefixes (`TZ=`, `CRON_TZ=`) and
//! anything else are refused here, because the schedule is copied into a CronJob verbatim and the
//! API server would refuse it only when the controller creates that CronJob.

/// The macros a CronJob schedule may be instead of five fields.
pub const MACROS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// One of the five fields: its name in messages, its bounds and the names it accepts.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names standing for `min`, `min + 1`, … (case-insensitive).
    names: &'static [&'static str],
    /// Whether `?` may stand for `*` (day of month and day of week, as the CronJob parser allows).
    question_mark: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        question_mark: false,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        question_mark: false,
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        question_mark: true,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
        question_mark: false,
    },
    Field {
        name: "day of week",
        min: 0,
        max: 6,
        names: &WEEKDAYS,
        question_mark: true,
    },
];

/// Checks a schedule; the error says what is wrong in words a user can act on.
pub fn check(schedule: &str) -> Result<(), String> {
    parse(schedule).map(|_| ())
}

/// A parsed schedule: the set of values each of the five fields allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    fields: [Set; 5],
}

/// The values one field allows (bit `v` set for value `v`), and whether the field was
/// written as `*` or `?`, which changes how day of month and day of week combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Set {
    mask: u64,
    star: bool,
}

impl Set {
    fn has(self, v: u32) -> bool {
        v < 64 && self.mask & (1 << v) != 0
    }
}

/// What each macro stands for.
fn expand_macro(m: &str) -> Option<&'static str> {
    Some(match m {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

/// Parses a schedule as [`check`] judges it.
pub fn parse(schedule: &str) -> Result<Schedule, String> {
    let trimmed = schedule.trim_matches([' ', '\t']);
    if trimmed.is_empty() {
        return Err(
            "is empty; write five fields such as \"0 2 * * *\" or a macro such as @daily".into(),
        );
    }
    if trimmed.starts_with("TZ=") || trimmed.starts_with("CRON_TZ=") {
        return Err("embeds a time zone (TZ=/CRON_TZ=), which a CronJob schedule may not; write it in UTC, e.g. \"0 2 * * *\"".into());
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ' || *c == '\t'))
    {
        return Err(format!(
            "contains {c:?}; a schedule holds only digits, names, spaces and the characters * , - / ?"
        ));
    }
    let text = if trimmed.starts_with('@') {
        match expand_macro(trimmed) {
            Some(t) => t,
            None => {
                return Err(format!(
                    "is not a known macro; use one of {}",
                    MACROS.join(" ")
                ));
            }
        }
    } else {
        trimmed
    };
    let fields: Vec<&str> = text.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
    if fields.len() != FIELDS.len() {
        return Err(format!(
            "has {} fields; write five (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\", or a macro such as @daily",
            fields.len()
        ));
    }
    let mut sets = [Set {
        mask: 0,
        star: false,
    }; 5];
    for (i, (text, field)) in fields.iter().zip(&FIELDS).enumerate() {
        sets[i] = check_field(text, field)
            .map_err(|why| format!("{} field {text:?}: {why}", field.name))?;
    }
    Ok(Schedule { fields: sets })
}

fn check_field(text: &str, field: &Field) -> Result<Set, String> {
    let mut set = Set {
        mask: 0,
        star: false,
    };
    for item in text.split(',') {
        if item.is_empty() {
            return Err("has an empty list item".into());
        }
        let (mask, star) = check_item(item, field)?;
        set.mask |= mask;
        set.star |= star;
    }
    Ok(set)
}

/// One list item: `*`, `N`, `N-M`, each optionally followed by `/step` (`N/step` runs from N
/// to the field's maximum, as the CronJob parser reads it). Returns the values it allows and
/// whether it is an unstepped `*` or `?`.
fn check_item(item: &str, field: &Field) -> Result<(u64, bool), String> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    let stepped = step.is_some();
    let step = match step {
        None => 1,
        Some(step) => match number(step) {
            Some(s) if s >= 1 => s,
            _ => return Err(format!("step {step:?} is not a positive number")),
        },
    };
    let (start, end, star) = if range == "*" || (field.question_mark && range == "?") {
        (field.min, field.max, !stepped)
    } else {
        match range.split_once('-') {
            Some((a, b)) => {
                let (start, end) = (value(a, field)?, value(b, field)?);
                if start > end {
                    return Err(format!("range {range:?} runs backwards"));
                }
                (start, end, false)
            }
            None => {
                let v = value(range, field)?;
                (v, if stepped { field.max } else { v }, false)
            }
        }
    };
    let mut mask = 0u64;
    let mut v = start;
    while v <= end {
        mask |= 1 << v;
        v = v.saturating_add(step);
    }
    Ok((mask, star))
}

impl Schedule {
    /// The first minute strictly after `after` (Unix seconds, UTC) the schedule fires at, as
    /// Unix seconds; `None` when it never fires within five years (e.g. `0 0 30 2 *`).
    ///
    /// Day of month and day of week combine as the CronJob controller combines them: when
    /// either is `*` (or `?`), both must match; otherwise either may.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        const MINUTE: i64 = 60;
        const HOUR: i64 = 3600;
        const DAY: i64 = 86_400;
        let [minute, hour, dom, month, dow] = self.fields;
        let mut t = after.div_euclid(MINUTE) * MINUTE + MINUTE;
        let limit = t + 5 * 366 * DAY;
        while t < limit {
            let days = t.div_euclid(DAY);
            let (y, m, d) = civil_from_days(days);
            if !month.has(m) {
                // The first day of the next month.
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                t = days_from_civil(ny, nm, 1) * DAY;
                continue;
            }
            // 1970-01-01 was a Thursday (4, counting from Sunday = 0).
            let weekday = (days + 4).rem_euclid(7) as u32;
            let (dom_ok, dow_ok) = (dom.has(d), dow.has(weekday));
            let day_ok = if dom.star || dow.star {
                dom_ok && dow_ok
            } else {
                dom_ok || dow_ok
            };
            if !day_ok {
                t = (days + 1) * DAY;
                continue;
            }
            let secs = t.rem_euclid(DAY);
            let (h, min) = ((secs / HOUR) as u32, ((secs % HOUR) / MINUTE) as u32);
            if !hour.has(h) {
                t = days * DAY + (i64::from(h) + 1) * HOUR;
                continue;
            }
            if !minute.has(min) {
                t += MINUTE;
                continue;
            }
            return Some(t);
        }
        None
    }
}

/// Year, month (1-12) and day (1-31) of a count of days since 1970-01-01 (proleptic
/// Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A number or name within the field's bounds.
fn value(text: &str, field: &Field) -> Result<u32, String> {
    let v = match number(text) {
        Some(n) => n,
        None => {
            let lower = text.to_ascii_lowercase();
            match field.names.iter().position(|n| *n == lower) {
                Some(i) => field.min + i as u32,
                None => return Err(format!("{text:?} is not a number or a name")),
            }
        }
    };
    if v < field.min || v > field.max {
        return Err(format!("{v} is outside {}-{}", field.min, field.max));
    }
    Ok(v)
}

/// Plain decimal digits (no sign), `None` otherwise or on overflow.
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_a_cronjob_accepts() {
        for s in [
            "0 2 * * *",
            "*/15 * * * *",
            "0,30 * * * *",
            "0 9-17 * * 1-5",
            "1-30/5 * * * *",
            "5/15 * * * *",
            "0 0 1 jan *",
            "0 0 * JAN-MAR MON-FRI",
            "0 0 ? * sun",
            "0 0 31 12 6",
            "  0 2 * * *  ",
            "0\t2 * *  *",
            "@yearly",
            "@annually",
            "@monthly",
            "@weekly",
            "@daily",
            "@midnight",
            "@hourly",
            "00 02 * * *",
        ] {
            assert_eq!(check(s), Ok(()), "{s:?}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for (s, why) in [
            ("", "is empty"),
            ("   ", "is empty"),
            ("TZ=UTC 0 2 * * *", "time zone"),
            ("CRON_TZ=Europe/Paris 0 2 * * *", "time zone"),
            ("0 2 * *", "has 4 fields"),
            ("0 0 2 * * *", "has 6 fields"),
            ("@every 1h", "not a known macro"),
            ("@DAILY", "not a known macro"),
            ("@reboot", "not a known macro"),
            ("60 * * * *", "outside 0-59"),
            ("0 24 * * *", "outside 0-23"),
            ("0 0 0 * *", "outside 1-31"),
            ("0 0 32 * *", "outside 1-31"),
            ("0 0 * 13 *", "outside 1-12"),
            ("0 0 * 0 *", "outside 1-12"),
            ("0 0 * * 7", "outside 0-6"),
            ("*/0 * * * *", "not a positive number"),
            ("*/ * * * *", "not a positive number"),
            ("5-1 * * * *", "runs backwards"),
            ("1-2-3 * * * *", "not a number or a name"),
            ("0,,30 * * * *", "empty list item"),
            ("0, * * * *", "empty list item"),
            ("? * * * *", "not a number or a name"),
            ("0 0 * * funday", "not a number or a name"),
            ("0 0 * jan-foo *", "not a number or a name"),
            ("0 0 * * mon#2", "not a number or a name"),
            ("0 0 L * *", "not a number or a name"),
            ("+5 * * * *", "not a number or a name"),
            ("-5 * * * *", "not a number or a name"),
            ("99999999999 * * * *", "not a number or a name"),
            ("0 2 * * *\n0 3 * * *", "contains"),
            ("0 2 * * *; rm -rf /", "has 8 fields"),
            ("0 2 * * $(id)", "not a number or a name"),
            ("0 2 * * é", "contains"),
        ] {
            match check(s) {
                Ok(()) => panic!("{s:?} was accepted"),
                Err(e) => assert!(e.contains(why), "{s:?}: {e:?} lacks {why:?}"),
            }
        }
    }

    #[test]
    fn names_the_field_in_the_reason() {
        assert_eq!(
            check("0 25 * * *"),
            Err("hour field \"25\": 25 is outside 0-23".into())
        );
    }

    /// Unix seconds of a UTC date and time.
    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [-1, 0, 59, 60, 11_016, 11_017, 19_723, 20_000, 47_482] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn next_run_follows_each_field() {
        // 2026-01-02 is a Friday.
        let now = at(2026, 1, 2, 10, 30);
        let table = [
            ("0 2 * * *", at(2026, 1, 3, 2, 0)),
            ("*/15 * * * *", at(2026, 1, 2, 10, 45)),
            ("30 10 * * *", at(2026, 1, 3, 10, 30)),
            ("@hourly", at(2026, 1, 2, 11, 0)),
            ("@daily", at(2026, 1, 3, 0, 0)),
            ("@weekly", at(2026, 1, 4, 0, 0)),
            ("@monthly", at(2026, 2, 1, 0, 0)),
            ("@yearly", at(2027, 1, 1, 0, 0)),
            ("0 0 29 2 *", at(2028, 2, 29, 0, 0)),
            ("0 9 * * MON-FRI", at(2026, 1, 5, 9, 0)),
            // Both day fields restricted: either matches (the 13th, or a Monday).
            ("0 0 13 * 1", at(2026, 1, 5, 0, 0)),
            // Day of week `*`: only the day of month counts.
            ("0 0 13 * *", at(2026, 1, 13, 0, 0)),
            ("5/20 * * * *", at(2026, 1, 2, 10, 45)),
            ("0 0 1 jan,jul *", at(2026, 7, 1, 0, 0)),
        ];
        for (schedule, want) in table {
            let s = parse(schedule).unwrap_or_else(|e| panic!("{schedule}: {e}"));
            assert_eq!(s.next_after(now), Some(want), "{schedule}");
        }
    }

    #[test]
    fn a_schedule_that_never_fires_has_no_next_run() {
        let s = parse("0 0 30 2 *").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.next_after(at(2026, 1, 1, 0, 0)), None);
    }

    #[test]
    fn next_run_is_strictly_after() {
        let s = parse("30 10 * * *").unwrap_or_else(|e| panic!("{e}"));
        let now = at(2026, 1, 2, 10, 30);
        assert_eq!(s.next_after(now - 1), Some(now));
        assert_eq!(s.next_after(now), Some(now + 86_400));
    }
}
