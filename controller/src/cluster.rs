//! Neo4jEnterpriseCluster: which renderer and status function the reconcile uses, and how the
//! cluster names its StatefulSet and PVCs (defaults and rules come with its `Policy`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;
use neo4j_shared::Verdict;
use neo4j_shared::names::{ClusterNames, VOLUME_CLAIM_DATA};
use neo4j_shared::plugins::{PluginSet, Target};
use neo4j_shared::render::{self, DesiredObject, RenderError, Site};
use neo4j_shared::secrets::Needs;
use neo4j_shared::status::{self, Observed};
use neo4j_shared::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseClusterStatus};

use crate::instance::Instance;

pub const FINALIZER: &str = "neo4j.neo4j.com/cluster-finalizer";

impl Instance for Neo4jEnterpriseCluster {
    type Status = Neo4jEnterpriseClusterStatus;
    const FINALIZER: &'static str = FINALIZER;
    const PLUGIN_TARGET: Target = Target::Cluster;
    const CLAIM_TEMPLATE: &'static str = VOLUME_CLAIM_DATA;

    fn render(&self, site: &Site, plugins: &PluginSet) -> Result<Vec<DesiredObject>, RenderError> {
        render::cluster_in_with_plugins(self, site, plugins)
    }
    fn config(&self) -> Option<&BTreeMap<String, String>> {
        self.spec.config.as_ref()
    }
    fn secret_needs(&self) -> Needs {
        Needs::of_cluster(self)
    }
    fn statefulset_name(&self) -> String {
        ClusterNames::new(&self.name_any()).statefulset()
    }
    fn retention_policy(&self) -> Option<&str> {
        self.spec.storage.retention_policy.as_deref()
    }
    fn current_status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn certificate_name(&self) -> String {
        ClusterNames::new(&self.name_any()).certificate()
    }
    fn compute_status(&self, observed: &Observed, verdict: &Verdict, now: Time) -> Self::Status {
        status::cluster(self, observed, verdict, self.status.as_ref(), now)
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
