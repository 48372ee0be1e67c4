//! Whether the controller can see: one [`WatchHealth`] per watch (the custom resources and
//! every child kind), and the [`Health`] `/readyz` answers from.
//!
//! A watch is healthy once it has its initial list and, after an error, once an event arrived
//! again or no error came for [`QUIET_AFTER_ERROR`]. While the API server is away every retry
//! fails (at most [`crate::cache::WATCH_BACKOFF_MAX`] apart), so a watch stays unhealthy for
//! the whole outage and turns healthy within seconds of the API server answering again, even
//! when a resumed watch has nothing to deliver.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::runtime::watcher;
use prometheus_client::metrics::counter::Counter;

use crate::metrics::Metrics;

/// How long after the last watch error a watch counts as healthy again without an event:
/// longer than the longest pause between two retries.
pub const QUIET_AFTER_ERROR: Duration = Duration::from_secs(5);

/// The state of one watch.
#[derive(Debug, Default)]
pub struct WatchHealth {
    /// The initial list arrived (the cache can be trusted).
    synced: AtomicBool,
    /// An event arrived since the last error.
    flowing: AtomicBool,
    last_error: Mutex<Option<Instant>>,
    errors: AtomicU64,
    /// `neo4j_controller_watch_errors_total` of this watch.
    counter: Option<Counter>,
}

impl WatchHealth {
    /// Records one item of the watch stream.
    pub fn observe<K>(&self, item: &Result<watcher::Event<K>, watcher::Error>) {
        match item {
            // `Init` may be emitted before any request is answered (a paged list): no proof.
            Ok(watcher::Event::Init) => {}
            Ok(watcher::Event::InitDone) => {
                self.synced.store(true, Ordering::Relaxed);
                self.flowing.store(true, Ordering::Relaxed);
            }
            Ok(_) => self.flowing.store(true, Ordering::Relaxed),
            Err(_) => self.error(),
        }
    }

    pub fn error(&self) {
        self.flowing.store(false, Ordering::Relaxed);
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = &self.counter {
            c.inc();
        }
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    pub fn synced(&self) -> bool {
        self.synced.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn healthy(&self) -> bool {
        if !self.synced() {
            return false;
        }
        if self.flowing.load(Ordering::Relaxed) {
            return true;
        }
        match *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(at) => at.elapsed() >= QUIET_AFTER_ERROR,
            None => true,
        }
    }
}

/// Readiness facts, flipped by `run`.
#[derive(Debug, Default)]
pub struct Health {
    /// This replica is the leader (always, without leader election).
    pub leading: AtomicBool,
    /// The leader's caches have their initial lists and the controllers run.
    pub synced: AtomicBool,
    watches: Mutex<BTreeMap<String, Arc<WatchHealth>>>,
    metrics: Option<Arc<Metrics>>,
}

impl Health {
    /// Health whose watches count their errors in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Health {
        Health {
            metrics: Some(metrics),
            ..Default::default()
        }
    }

    /// The health of the watch `name` (one per watched kind), registered on first use.
    pub fn watch(&self, name: &str) -> Arc<WatchHealth> {
        let mut w = self.watches.lock().unwrap_or_else(|p| p.into_inner());
        w.entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(WatchHealth {
                    counter: self.metrics.as_ref().map(|m| m.watch_error_counter(name)),
                    ..Default::default()
                })
            })
            .clone()
    }

    /// Publishes each watch's state as `neo4j_controller_watch_healthy`.
    pub fn export(&self) {
        if let Some(m) = &self.metrics {
            for (name, w) in self.watches() {
                m.set_watch_healthy(&name, w.healthy());
            }
        }
    }

    /// Every watch by name, for `/readyz` and the metrics.
    pub fn watches(&self) -> Vec<(String, Arc<WatchHealth>)> {
        let w = self.watches.lock().unwrap_or_else(|p| p.into_inner());
        w.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The watches that are not healthy.
    pub fn blind(&self) -> Vec<String> {
        self.watches()
            .into_iter()
            .filter(|(_, w)| !w.healthy())
            .map(|(n, _)| n)
            .collect()
    }

    /// A standby is ready to take over; a leader is ready once its caches are synced and every
    /// watch is healthy.
    pub fn ready(&self) -> Result<(), String> {
        if !self.leading.load(Ordering::Relaxed) {
            return Ok(());
        }
        if !self.synced.load(Ordering::Relaxed) {
            return Err("caches not synced".into());
        }
        let blind = self.blind();
        if blind.is_empty() {
            Ok(())
        } else {
            Err(format!("watches failing: {}", blind.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    fn err() -> Result<watcher::Event<ConfigMap>, watcher::Error> {
        Err(watcher::Error::NoResourceVersion)
    }

    #[test]
    fn a_watch_is_healthy_after_its_list_and_again_after_an_event_following_an_error() {
        let w = WatchHealth::default();
        assert!(!w.healthy(), "not before the initial list");
        w.observe::<ConfigMap>(&Ok(watcher::Event::Init));
        assert!(!w.healthy(), "not synced before InitDone");
        w.observe::<ConfigMap>(&Ok(watcher::Event::InitDone));
        assert!(w.healthy());
        w.observe(&err());
        assert!(!w.healthy(), "blind right after an error");
        assert_eq!(w.errors(), 1);
        w.observe(&Ok(watcher::Event::Apply(ConfigMap::default())));
        assert!(w.healthy(), "an event proves the watch flows again");
    }

    #[test]
    fn a_leader_is_ready_only_with_synced_healthy_watches_and_a_standby_always() {
        let h = Health::default();
        assert!(h.ready().is_ok(), "standby");
        h.leading.store(true, Ordering::Relaxed);
        assert!(h.ready().is_err());
        h.synced.store(true, Ordering::Relaxed);
        let w = h.watch("ConfigMap");
        assert_eq!(h.ready(), Err("watches failing: ConfigMap".into()));
        w.observe::<ConfigMap>(&Ok(watcher::Event::InitDone));
        assert!(h.ready().is_ok());
        w.error();
        assert!(h.ready().is_err());
    }
}
