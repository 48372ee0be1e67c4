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
    if trimmed.starts_with('@') {
        return if MACROS.contains(&trimmed) {
            Ok(())
        } else {
            Err(format!(
                "is not a known macro; use one of {}",
                MACROS.join(" ")
            ))
        };
    }
    let fields: Vec<&str> = trimmed
        .split([' ', '\t'])
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() != FIELDS.len() {
        return Err(format!(
            "has {} fields; write five (minute hour day-of-month month day-of-week), e.g. \"0 2 * * *\", or a macro such as @daily",
            fields.len()
        ));
    }
    for (text, field) in fields.iter().zip(&FIELDS) {
        check_field(text, field).map_err(|why| format!("{} field {text:?}: {why}", field.name))?;
    }
    Ok(())
}

fn check_field(text: &str, field: &Field) -> Result<(), String> {
    for item in text.split(',') {
        if item.is_empty() {
            return Err("has an empty list item".into());
        }
        check_item(item, field)?;
    }
    Ok(())
}

/// One list item: `*`, `N`, `N-M`, each optionally followed by `/step`.
fn check_item(item: &str, field: &Field) -> Result<(), String> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step {
        match number(step) {
            Some(s) if s >= 1 => {}
            _ => return Err(format!("step {step:?} is not a positive number")),
        }
    }
    if range == "*" || (field.question_mark && range == "?") {
        return Ok(());
    }
    let (start, end) = match range.split_once('-') {
        Some((a, b)) => (value(a, field)?, value(b, field)?),
        None => {
            let v = value(range, field)?;
            (v, v)
        }
    };
    if start > end {
        return Err(format!("range {range:?} runs backwards"));
    }
    Ok(())
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
}
