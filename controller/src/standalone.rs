//! Neo4jEnterpriseStandalone: which renderer and status function the reconcile uses, and how the
//! standalone names its StatefulSet and PVC (defaults and rules come with its `Policy`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;
use neo4j_shared::Verdict;
use neo4j_shared::names::{StandaloneNames, VOLUME_CLAIM_STANDALONE_DATA};
use neo4j_shared::plugins::{PluginSet, Target};
use neo4j_shared::render::{self, DesiredObject, RenderError, Site};
use neo4j_shared::secrets::Needs;
use neo4j_shared::status::{self, Observed};
use neo4j_shared::status_restore::holder;
use neo4j_shared::types::{Neo4jEnterpriseStandalone, Neo4jEnterpriseStandaloneStatus};

use crate::context::Context;
use crate::instance::Instance;

pub const FINALIZER: &str = "neo4j.neo4j.com/standalone-finalizer";

impl Instance for Neo4jEnterpriseStandalone {
    type Status = Neo4jEnterpriseStandaloneStatus;
    const FINALIZER: &'static str = FINALIZER;
    const PLUGIN_TARGET: Target = Target::Standalone;
    const CLAIM_TEMPLATE: &'static str = VOLUME_CLAIM_STANDALONE_DATA;

    fn render(&self, site: &Site, plugins: &PluginSet) -> Result<Vec<DesiredObject>, RenderError> {
        render::standalone_in_with_plugins(self, site, plugins)
    }
    fn config(&self) -> Option<&BTreeMap<String, String>> {
        self.spec.config.as_ref()
    }
    fn secret_needs(&self) -> Needs {
        Needs::of_standalone(self)
    }
    /// Stopped (0 replicas) while a Neo4jRestore is at a step that needs it so.
    fn render_in(&self, ctx: &Context) -> Result<Vec<DesiredObject>, RenderError> {
        let mut objects = self.render(&ctx.site, &self.plugins(ctx))?;
        if let (Some(restores), Some(namespace)) = (ctx.restores.get(), self.namespace()) {
            let all = restores.state();
            let name = self.name_any();
            if let Some(holder) = holder(all.iter().map(|r| &**r), &namespace, &name) {
                render::restore::hold_standalone(&mut objects, &holder);
            }
        }
        Ok(objects)
    }
    fn statefulset_name(&self) -> String {
        StandaloneNames::new(&self.name_any()).statefulset()
    }
    fn retention_policy(&self) -> Option<&str> {
        self.spec.storage.retention_policy.as_deref()
    }
    fn current_status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn certificate_name(&self) -> String {
        StandaloneNames::new(&self.name_any()).certificate()
    }
    fn compute_status(&self, observed: &Observed, verdict: &Verdict, now: Time) -> Self::Status {
        status::standalone(self, observed, verdict, self.status.as_ref(), now)
    }
    fn observed_generation(status: &Self::Status) -> Option<i64> {
        status.observed_generation
    }
    fn phase(status: &Self::Status) -> Option<&str> {
        status.phase.as_deref()
    }
    fn conditions(status: &Self::Status) -> &[Condition] {
        status.conditions.as_deref().unwrap_or_default()
    }
}
