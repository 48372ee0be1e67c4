//! Rendering: every Kubernetes object the controller server-side applies for a cluster or a
//! standalone, as pure functions of the defaulted custom resource (`docs/design.md`).
//!
//! Output is deterministic byte for byte (sorted maps, no timestamps, no randomness), so a
//! no-op reconcile produces identical objects and [`DesiredObject::hash`] lets the controller
//! skip the write. Each object carries only the fields the operator owns: server defaults such
//! as `sessionAffinity` or a Service's `clusterIP` are left to the API server, so the two never
//! fight.
//!
//! Design decisions (where this departs from the reference; `docs/design.md`, Rendering
//! decisions):
//!
//! - **Discovery by DNS SRV.** Every server's neo4j.conf names one endpoint,
//!   `_tcp-tx._tcp.<c>-headless.<ns>.svc.<domain>:0` (`<domain>` is `--cluster-domain`,
//!   `cluster.local` by default), with `resolver_type=SRV`. Kubernetes
//!   publishes for a headless Service one SRV record per pod (not-ready pods included, as the
//!   Service sets `publishNotReadyAddresses`), whose target is the pod's FQDN — the same name the
//!   server advertises and its certificate carries, so strict TLS hostname checks hold. The
//!   list therefore follows the pods and never appears in the pod template: scaling 3 → 6 changes
//!   `replicas` (and the PDB and Certificate), nothing that restarts a pod (the reference baked
//!   the server list into the startup script, so every scale rolled every pod). The K8S
//!   resolver was rejected: Neo4j's K8S resolver lists *Services* and needs one Service per
//!   server whose name is the advertised address, plus API access from every pod. LIST needs the
//!   count in the config (a restart on every scale); DNS A records hand out bare pod IPs, which
//!   fail hostname verification under strict peer TLS.
//! - **No Role, no RoleBinding, no `<c>-discovery` Service.** Nothing in a pod talks to the
//!   Kubernetes API any more, so the pods run under the `<c>-discovery` ServiceAccount (kept for
//!   `podServiceAccountAnnotations`, i.e. workload identity) with no token mounted, and the
//!   controller needs no permission to grant RBAC. The `<c>-discovery` Service exposed port 5000
//!   (discovery v1), on which nothing listens. Objects of that name left by the
//!   reference are owned by the cluster and garbage-collected with it.
//! - **First-boot settings are not hashed.** `minimum_initial_system_primaries_count` and
//!   `initial.server.mode_constraint` live in `bootstrap.conf` / `server-modes.conf` and are
//!   appended by `startup.sh` only before the server's first start, the only time Neo4j reads
//!   them. The pod-template annotation `neo4j.com/config-hash` covers every other ConfigMap key
//!   and is the only thing that rolls pods.
//! - **PodDisruptionBudget `<c>-server`**, `maxUnavailable: 1` (0 for two servers): a voluntary
//!   eviction never takes more than one server, so every Raft group of three or more members —
//!   the system database's primaries included, wherever they are placed — keeps its majority,
//!   and the servers left are always a majority of the servers (`servers − 1 ≥ servers/2 + 1`
//!   for 3 and more). A quorum derived from `servers/2 + 1` alone would let a 6-server cluster
//!   lose two of its three system primaries. Two servers cannot lose one and keep a majority, so
//!   their budget allows none (a node drain then waits for an operator).
//! - **PVC retention follows `spec.storage.retentionPolicy`** (`whenDeleted`; `Retain` unless the
//!   user writes `Delete`), so deleting the resource removes or keeps the volumes through the
//!   StatefulSet controller; `whenScaled: Delete` as in the reference.
//! - **TLS** (cert-manager mode): one Certificate per instance, mounted at `/ssl`; with strict peer
//!   validation (the default) the CA is also mounted as `/ssl/trusted/ca.crt` and the cluster
//!   policy requires and verifies peer certificates. The Certificate names the servers by one
//!   wildcard per form of the headless Service's name, so scaling never changes it; the Secret it
//!   writes is mounted without `subPath`, and a renewal restarts the servers one at a time
//!   ([`TLS_REVISION_ANNOTATION`]).
//! - **No Service links.** Kubernetes would inject `<SERVICE>_PORT…` variables into the pods,
//!   and for a Service named `neo4j-…` those are `NEO4J_…` names, which the image turns into
//!   settings that strict validation refuses.
//! - **Immutable StatefulSet fields** (`selector`, `serviceName`, `podManagementPolicy`) derive
//!   from the name only; `volumeClaimTemplates` derive from `spec.storage`, whose size may grow.
//!   For an existing StatefulSet call [`pin_immutable_fields`] before applying.

pub mod backup;
mod cluster;
mod conf;
pub mod database;
mod object;
pub mod ops;
pub mod plugin;
mod pod;
pub mod restore;
pub mod sha256;
mod site;
mod standalone;
mod tls;

use k8s_openapi::api::apps::v1::StatefulSet;
use serde_json::Value;

use crate::types::{Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone};

pub use crate::plugins::PluginSet;
pub use object::{
    DESIRED_HASH_ANNOTATION, DesiredObject, Owner, RenderError, canonical_json, content_hash,
};
pub(crate) use object::{cert_manager_tls, strict_peer_validation};
pub(crate) use pod::admin_secret as admin_secret_name;
pub use site::Site;

/// Every object of a cluster, in apply order: ConfigMap, ServiceAccount, Services,
/// Certificate (cert-manager mode), PodDisruptionBudget, StatefulSet. For a cluster whose DNS
/// domain is `cluster.local`; see [`cluster_in`].
pub fn cluster(c: &Neo4jEnterpriseCluster) -> Result<Vec<DesiredObject>, RenderError> {
    cluster::render(c, &Site::default(), &PluginSet::default())
}

/// [`cluster`] for the Kubernetes cluster `site` describes.
pub fn cluster_in(
    c: &Neo4jEnterpriseCluster,
    site: &Site,
) -> Result<Vec<DesiredObject>, RenderError> {
    cluster::render(c, site, &PluginSet::default())
}

/// [`cluster`] with the cluster's Neo4jPlugins folded in ([`plugin::merge`]).
pub fn cluster_with_plugins(
    c: &Neo4jEnterpriseCluster,
    plugins: &PluginSet,
) -> Result<Vec<DesiredObject>, RenderError> {
    cluster::render(c, &Site::default(), plugins)
}

/// [`cluster_in`] with the cluster's Neo4jPlugins folded in (what the controller renders).
pub fn cluster_in_with_plugins(
    c: &Neo4jEnterpriseCluster,
    site: &Site,
    plugins: &PluginSet,
) -> Result<Vec<DesiredObject>, RenderError> {
    cluster::render(c, site, plugins)
}

/// Every object of a standalone, in apply order: ConfigMap, Services, Certificate
/// (cert-manager mode), StatefulSet. No PodDisruptionBudget: one server has no quorum to keep,
/// and a budget of zero would only block node drains. For `cluster.local`; see
/// [`standalone_in`].
pub fn standalone(s: &Neo4jEnterpriseStandalone) -> Result<Vec<DesiredObject>, RenderError> {
    standalone::render(s, &Site::default(), &PluginSet::default())
}

/// [`standalone`] for the Kubernetes cluster `site` describes.
pub fn standalone_in(
    s: &Neo4jEnterpriseStandalone,
    site: &Site,
) -> Result<Vec<DesiredObject>, RenderError> {
    standalone::render(s, site, &PluginSet::default())
}

/// [`standalone`] with the standalone's Neo4jPlugins folded in ([`plugin::merge`]).
pub fn standalone_with_plugins(
    s: &Neo4jEnterpriseStandalone,
    plugins: &PluginSet,
) -> Result<Vec<DesiredObject>, RenderError> {
    standalone::render(s, &Site::default(), plugins)
}

/// [`standalone_in`] with the standalone's Neo4jPlugins folded in (what the controller
/// renders).
pub fn standalone_in_with_plugins(
    s: &Neo4jEnterpriseStandalone,
    site: &Site,
    plugins: &PluginSet,
) -> Result<Vec<DesiredObject>, RenderError> {
    standalone::render(s, site, plugins)
}

/// Pod-template annotation of a StatefulSet in cert-manager TLS mode: the revision of the
/// Certificate (cert-manager's `status.revision`, 1 for the first issue) the servers run with.
/// Neo4j reads its certificate only at start (a reload needs a procedure call on each server,
/// which the controller does not make), so a renewed certificate must restart the servers: a
/// new value changes the pod template, and the StatefulSet replaces one pod at a time, each
/// only after the previous one is Ready (`docs/design.md`, TLS renewal).
pub const TLS_REVISION_ANNOTATION: &str = "neo4j.com/tls-revision";

/// The Certificate revision the pods should run with: `running` (the annotation of the live
/// StatefulSet, `None` when there is none yet) until cert-manager has `issued` a newer one and
/// every server is ready on the current pod template (`live` settled), so the restart of one
/// server never overlaps another one's absence; a new StatefulSet starts with the issued
/// revision (1 before the first issue, which is the same certificate).
pub fn tls_revision(running: Option<i64>, issued: Option<i64>, live: Option<&StatefulSet>) -> i64 {
    let issued = issued.unwrap_or(1).max(1);
    match running {
        None => issued,
        Some(r) if issued > r && live.is_some_and(settled) => issued,
        Some(r) => r,
    }
}

/// Whether every pod of `sts` is ready and runs its current template.
fn settled(sts: &StatefulSet) -> bool {
    let Some(status) = sts.status.as_ref() else {
        return false;
    };
    let desired = sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let seen = match (sts.metadata.generation, status.observed_generation) {
        (Some(g), Some(o)) => o >= g,
        _ => false,
    };
    seen && status.replicas == desired
        && status.ready_replicas.unwrap_or(0) == desired
        && status.updated_replicas.unwrap_or(0) == desired
        && status.current_revision.is_some()
        && status.current_revision == status.update_revision
}

/// Writes [`TLS_REVISION_ANNOTATION`] into the pod template of the rendered StatefulSet, when the
/// objects hold a Certificate (cert-manager TLS), and re-hashes it.
pub fn set_tls_revision(objects: &mut [DesiredObject], revision: i64) {
    if !objects.iter().any(|o| o.kind == "Certificate") {
        return;
    }
    for d in objects.iter_mut().filter(|o| o.kind == "StatefulSet") {
        let Some(annotations) = d
            .object
            .pointer_mut("/spec/template/metadata/annotations")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        annotations.insert(
            TLS_REVISION_ANNOTATION.to_string(),
            Value::String(revision.to_string()),
        );
        object::rehash(d);
    }
}

/// Replaces the immutable fields of a desired StatefulSet (`selector`, `serviceName`,
/// `podManagementPolicy`, `volumeClaimTemplates`) by those of the live one.
///
/// Call it on the object about to be applied to a StatefulSet that already exists. Leaving
/// the fields out is not an option under server-side apply: fields the manager applied before
/// and omits now are removed, which the API server refuses for these. A grown
/// `spec.storage.size` therefore reaches the PVCs only through PVC expansion, never through
/// the claim template.
///
/// [`DesiredObject::hash`] and its annotation are left as rendered, on purpose: the hash names
/// the rendered state, so "skip when the cached annotation equals the hash" keeps working
/// without the live object, and a changed render (a grown size included) is applied once.
/// Does nothing to objects of other kinds.
pub fn pin_immutable_fields(desired: &mut DesiredObject, live: &StatefulSet) {
    if desired.kind != "StatefulSet" {
        return;
    }
    let Some(live_spec) = live.spec.as_ref() else {
        return;
    };
    let Ok(Value::Object(live_spec)) = serde_json::to_value(live_spec) else {
        return;
    };
    let Some(spec) = desired
        .object
        .get_mut("spec")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for field in [
        "selector",
        "serviceName",
        "podManagementPolicy",
        "volumeClaimTemplates",
    ] {
        match live_spec.get(field) {
            Some(v) => {
                spec.insert(field.to_string(), v.clone());
            }
            None => {
                spec.remove(field);
            }
        }
    }
}

#[cfg(test)]
mod tests;
