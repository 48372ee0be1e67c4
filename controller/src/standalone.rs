//! Neo4jEnterpriseStandalone: which shared policy, renderer and status function the reconcile
//! uses, and how the standalone names its StatefulSet and PVC.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use neo4j_shared::Verdict;
use neo4j_shared::names::{StandaloneNames, VOLUME_CLAIM_STANDALONE_DATA};
use neo4j_shared::types::{Neo4jEnterpriseStandalone, Neo4jEnterpriseStandaloneStatus};

use crate::reconcile::{Instance, Observed};
use crate::render::{self, DesiredObject, RenderError};
use crate::status::{self, ObservedStandalone};

pub const FINALIZER: &str = "neo4j.neo4j.com/standalone-finalizer";

impl Instance for Neo4jEnterpriseStandalone {
    type Status = Neo4jEnterpriseStandaloneStatus;
    const KIND: &'static str = "Neo4jEnterpriseStandalone";
    const PLURAL: &'static str = "neo4jenterprisestandalones";
    const FINALIZER: &'static str = FINALIZER;
    const CLAIM_TEMPLATE: &'static str = VOLUME_CLAIM_STANDALONE_DATA;

    fn defaulted(&self) -> Self {
        let mut s = self.clone();
        neo4j_shared::defaults::standalone(&mut s.spec);
        s
    }
    fn validate(&self) -> Verdict {
        neo4j_shared::validate::standalone::create(self)
    }
    fn render(&self) -> Result<Vec<DesiredObject>, RenderError> {
        render::standalone(self)
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
    fn compute_status(&self, observed: Observed, verdict: &Verdict, now: Time) -> Self::Status {
        let observed = ObservedStandalone {
            statefulset: observed.statefulset,
            certificate_ready: observed.certificate_ready,
            render_error: observed.render_error,
        };
        status::standalone(self, &observed, verdict, self.status.as_ref(), now)
    }
    fn observed_generation(status: &Self::Status) -> Option<i64> {
        status.observed_generation
    }
    fn phase(status: &Self::Status) -> Option<&str> {
        status.phase.as_deref()
    }
}
