//! The state every reconcile shares: the client, the child caches, the event recorder, the
//! metrics and the per-object failure counts that drive the backoff.

use std::sync::Arc;

use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use neo4j_shared::render::Site;

use crate::backoff::Failures;
use crate::cache::Caches;
use crate::metrics::Metrics;

pub struct Context {
    pub client: Client,
    pub caches: Arc<Caches>,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub failures: Failures,
    /// What rendering depends on besides the resources (`--cluster-domain`).
    pub site: Site,
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
            site: Site::default(),
        }
    }
}
