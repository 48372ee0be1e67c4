//! Per-object exponential backoff for transient errors: 1 s · 2^n, capped at 5 minutes, reset by
//! the first successful reconcile. Healthy objects are never requeued on a timer.
//!
//! An object being deleted retries with the lower cap [`DELETION_CAP`]: its deletion waits on
//! the controller (the finalizer), so once the API server accepts the finalizer's removal again
//! (a webhook back, a permission granted) the deletion completes within seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub const BASE: Duration = Duration::from_secs(1);
pub const CAP: Duration = Duration::from_secs(300);
/// The cap for an object being deleted.
pub const DELETION_CAP: Duration = Duration::from_secs(4);

/// The delay before retry number `failures` (1 for the first failure).
pub fn delay(failures: u32) -> Duration {
    delay_capped(failures, CAP)
}

/// [`delay`] with the cap `cap`.
pub fn delay_capped(failures: u32, cap: Duration) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    BASE.saturating_mul(1 << exp).min(cap)
}

/// Consecutive failures per object, keyed by `kind/namespace/name`.
#[derive(Debug, Default)]
pub struct Failures {
    counts: Mutex<HashMap<String, u32>>,
}

impl Failures {
    /// Records one more failure and returns the delay before the next attempt.
    pub fn fail(&self, key: &str) -> Duration {
        self.fail_capped(key, CAP)
    }

    /// [`Failures::fail`] with the cap `cap`.
    pub fn fail_capped(&self, key: &str, cap: Duration) -> Duration {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        delay_capped(*n, cap)
    }

    pub fn succeed(&self, key: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.remove(key);
    }

    pub fn count(&self, key: &str) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(key).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_one_second_and_caps_at_five_minutes() {
        let table = [
            (1, 1),
            (2, 2),
            (3, 4),
            (4, 8),
            (5, 16),
            (6, 32),
            (7, 64),
            (8, 128),
            (9, 256),
            (10, 300),
            (50, 300),
            (u32::MAX, 300),
        ];
        for (failures, secs) in table {
            assert_eq!(
                delay(failures),
                Duration::from_secs(secs),
                "failure {failures}"
            );
        }
    }

    #[test]
    fn success_resets_the_schedule_per_object() {
        let f = Failures::default();
        assert_eq!(f.fail("a"), Duration::from_secs(1));
        assert_eq!(f.fail("a"), Duration::from_secs(2));
        assert_eq!(f.fail("b"), Duration::from_secs(1));
        f.succeed("a");
        assert_eq!(f.count("a"), 0);
        assert_eq!(f.count("b"), 1);
        assert_eq!(f.fail("a"), Duration::from_secs(1));
    }

    #[test]
    fn a_deletion_retries_within_seconds() {
        let f = Failures::default();
        let delays: Vec<u64> = (0..6)
            .map(|_| f.fail_capped("d", DELETION_CAP).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 4, 4, 4]);
    }
}
