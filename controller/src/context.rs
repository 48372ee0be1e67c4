//! The state every reconcile shares: the client, the child caches, the fence, the event
//! recorder, the metrics, the per-object failure counts that drive the backoff, and which
//! failures were already reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::Store;
use neo4j_shared::render::Site;
use neo4j_shared::types::Neo4jRestore;

use crate::backoff::Failures;
use crate::cache::Caches;
use crate::fence::Fence;
use crate::metrics::Metrics;

pub struct Context {
    /// The fenced client: every write it sends is refused once the lease is not held with
    /// margin.
    pub client: Client,
    pub caches: Arc<Caches>,
    pub fence: Arc<Fence>,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub failures: Failures,
    /// Per object, the generation and reason of the last failure reported by an event, so a
    /// failure is reported once per generation.
    pub reported: Mutex<HashMap<String, (Option<i64>, &'static str)>>,
    /// What rendering depends on besides the resources (`--cluster-domain`).
    pub site: Site,
    /// The restores' watch cache, once started: a restore's step decides whether its
    /// standalone runs (`Instance::render_in`).
    pub restores: OnceLock<Store<Neo4jRestore>>,
}

impl Context {
    /// The context rendering for `site`.
    pub fn with_site(mut self, site: Site) -> Self {
        self.site = site;
        self
    }

    pub fn new(
        client: Client,
        caches: Arc<Caches>,
        fence: Arc<Fence>,
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
            fence,
            metrics,
            failures: Failures::default(),
            reported: Mutex::new(HashMap::new()),
            site: Site::default(),
            restores: OnceLock::new(),
        }
    }
}
