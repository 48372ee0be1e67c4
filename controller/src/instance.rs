//! What the shared reconcile needs to know about a kind, on top of its admission policy: the
//! [`Instance`] trait, implemented in `cluster.rs` and `standalone.rs`. The kind's name,
//! plural, defaults and rules come from [`Policy`], so the controller and the webhook cannot
//! disagree about them.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{Resource, ResourceExt};
use neo4j_shared::Verdict;
use std::collections::BTreeMap;

use neo4j_shared::plugins::{PluginSet, Target};
use neo4j_shared::policy::Policy;
use neo4j_shared::render::{DesiredObject, RenderError, Site};
use neo4j_shared::secrets::Needs;
use neo4j_shared::status::Observed;
use serde::Serialize;

use crate::context::Context;

/// A Neo4j instance kind the controller materializes. `KIND.name()` is the `kind` metric label
/// and log field; `KIND.plural()` the `resource` label of writes to the object itself.
pub trait Instance:
    Policy + Resource<DynamicType = (), Scope = NamespaceResourceScope> + Debug + Send + Sync + 'static
{
    type Status: Clone + PartialEq + Debug + Serialize + Send + Sync;
    const FINALIZER: &'static str;
    /// The StatefulSet's volume claim template (PVC names are `<claim>-<sts>-<i>`).
    const CLAIM_TEMPLATE: &'static str;
    /// How Neo4jPlugins are folded into this kind.
    const PLUGIN_TARGET: Target;

    /// A copy with every default applied (in memory only; never written back).
    fn defaulted(&self) -> Self {
        let mut defaulted = self.clone();
        defaulted.apply_defaults();
        defaulted
    }
    /// The rules admission runs on a create: the controller judges the object as it stands.
    fn validate(&self) -> Verdict {
        self.create()
    }

    /// The children, with the plugins that reference this object folded in.
    fn render(&self, site: &Site, plugins: &PluginSet) -> Result<Vec<DesiredObject>, RenderError>;
    /// `spec.config`, which plugin settings never override.
    fn config(&self) -> Option<&BTreeMap<String, String>>;
    /// The objects to apply: [`Self::render`] with this object's Neo4jPlugins folded in
    /// (`plugin_fold.rs`), adjusted for what another kind asks of this one through its status
    /// (a restore holding a standalone stopped). The adjustment is made here, by the object's
    /// own controller, so each child keeps one writer.
    fn render_in(&self, ctx: &Context) -> Result<Vec<DesiredObject>, RenderError> {
        self.render(&ctx.site, &self.plugins(ctx))
    }
    /// The Neo4jPlugins that name this object (defaulted), merged (`plugin_fold.rs`).
    fn plugins(&self, ctx: &Context) -> PluginSet {
        crate::plugin_fold::plugin_set(
            &ctx.caches.plugins,
            &self.namespace().unwrap_or_default(),
            &self.name_any(),
            Self::PLUGIN_TARGET,
            self.config(),
        )
    }
    /// The Secrets the pods need, which the reconcile checks.
    fn secret_needs(&self) -> Needs;
    fn statefulset_name(&self) -> String;
    fn certificate_name(&self) -> String;
    fn retention_policy(&self) -> Option<&str>;
    fn current_status(&self) -> Option<&Self::Status>;
    fn compute_status(&self, observed: &Observed, verdict: &Verdict, now: Time) -> Self::Status;
    fn observed_generation(status: &Self::Status) -> Option<i64>;
    fn phase(status: &Self::Status) -> Option<&str>;
    fn conditions(status: &Self::Status) -> &[Condition];
}
