//! The state every reconcile shares: the client, the child caches, the event recorder, the
//! metrics and the per-object failure counts that drive the backoff.

use std::sync::{Arc, OnceLock};

use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::Store;
use neo4j_shared::types::Neo4jRestore;

use crate::backoff::Failures;
use crate::cache::Caches;
use crate::metrics::Metrics;

pub struct Context {
    pub client: Client,
    pub caches: Arc<Caches>,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub failures: Failures,
    /// The restores' watch cache, once started: a restore's step decides whether its
    /// standalone runs (`Instance::render_in`).
    pub restores: OnceLock<Store<Neo4jRestore>>,
}

impl Context {
    pub fn new(
        client: Client,
        caches: Arc<Caches>,
        metrics: Arc<Metrics>,
        instance: Option<String>,
    ) -> Self {
        let reporter = Reporter {
            controller: neo4j_shared::names::FIELD_MANAGER.to_string(),
            instance,
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            caches,
            metrics,
            failures: Failures::default(),
            restores: OnceLock::new(),
        }
    }
}
