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
//!   `_tcp-tx._tcp.<c>-headless.<ns>.svc.cluster.local:0`, with `resolver_type=SRV`. Kubernetes
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
//! - **PVC retention follows `spec.storage.retentionPolicy`** (`whenDeleted`), so deleting the
//!   resource removes or keeps the volumes through the StatefulSet controller, with no finalizer;
//!   `whenScaled: Delete` as in the reference.
//! - **TLS** (cert-manager mode): one Certificate per instance, mounted at `/ssl`; with strict peer
//!   validation (the default) the CA is also mounted as `/ssl/trusted/ca.crt` and the cluster
//!   policy requires and verifies peer certificates. The Certificate's DNS names grow with the
//!   servers; the Secret it writes is mounted without `subPath`, so renewals reach running pods.
//! - **No Service links.** Kubernetes would inject `<SERVICE>_PORT…` variables into the pods,
//!   and for a Service named `neo4j-…` those are `NEO4J_…` names, which the image turns into
//!   settings that strict validation refuses.
//! - **Immutable StatefulSet fields** (`selector`, `serviceName`, `podManagementPolicy`) derive
//!   from the name only; `volumeClaimTemplates` derive from `spec.storage`, whose size may grow.
//!   For an existing StatefulSet call [`pin_immutable_fields`] before applying.

mod cluster;
mod conf;
mod pod;
pub mod sha256;
mod standalone;
mod tls;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::Value;

use crate::engine::Kind;
use crate::memory::MemoryError;
use crate::names::Labels;
use crate::types::{API_VERSION, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, TLSSpec};

/// Annotation holding [`DesiredObject::hash`] on every rendered object.
pub const DESIRED_HASH_ANNOTATION: &str = "neo4j.com/desired-hash";

pub(crate) const PORT_BOLT: i32 = 7687;
pub(crate) const PORT_HTTP: i32 = 7474;
pub(crate) const PORT_HTTPS: i32 = 7473;
pub(crate) const PORT_CLUSTER: i32 = 6000;
pub(crate) const PORT_ROUTING: i32 = 7688;
pub(crate) const PORT_RAFT: i32 = 7000;
pub(crate) const PORT_TRANSACTION: i32 = 7689;
pub(crate) const PORT_BACKUP: i32 = 6362;
pub(crate) const PORT_METRICS: i32 = 2004;

/// One object to server-side apply: a complete manifest (apiVersion, kind, metadata with
/// name, namespace, labels, annotations, ownerReferences, then spec or data) holding only the
/// fields the operator owns, plus its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    /// e.g. `apps/v1`, `v1`, `cert-manager.io/v1`, `policy/v1`.
    pub api_version: &'static str,
    /// e.g. `StatefulSet`, `Service`, `ConfigMap`, `ServiceAccount`, `PodDisruptionBudget`,
    /// `Certificate`.
    pub kind: &'static str,
    /// e.g. `statefulsets`.
    pub plural: &'static str,
    pub name: String,
    pub object: Value,
    /// SHA-256 hex of the canonical JSON (sorted keys, no whitespace) of `object` without the
    /// [`DESIRED_HASH_ANNOTATION`] itself; also stored in that annotation, so the controller can
    /// skip an apply whose hash equals the one on the cached object.
    pub hash: String,
}

/// The custom resource that owns the rendered objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub namespace: String,
}

impl Owner {
    /// Built from constants and metadata, never from TypeMeta (which may be empty on typed
    /// objects).
    fn new(kind: Kind, meta: &ObjectMeta) -> Result<Owner, RenderError> {
        let name = meta
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or(RenderError::MissingName)?;
        let namespace = meta
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or(RenderError::MissingNamespace)?;
        let uid = meta
            .uid
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or(RenderError::MissingUid)?;
        Ok(Owner {
            api_version: API_VERSION.to_string(),
            kind: kind.name().to_string(),
            name,
            uid,
            namespace,
        })
    }

    pub fn of_cluster(c: &Neo4jEnterpriseCluster) -> Result<Owner, RenderError> {
        Owner::new(Kind::Cluster, &c.metadata)
    }

    pub fn of_standalone(s: &Neo4jEnterpriseStandalone) -> Result<Owner, RenderError> {
        Owner::new(Kind::Standalone, &s.metadata)
    }

    /// The controller owner reference every child carries.
    pub fn reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// Metadata of a child: name, namespace, labels, annotations, owner reference.
    pub(crate) fn meta(&self, name: String, labels: Labels, annotations: Labels) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace.clone()),
            labels: (!labels.is_empty()).then_some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            owner_references: Some(vec![self.reference()]),
            ..Default::default()
        }
    }
}

/// Why objects could not be rendered. The controller reports it on the status (the validator
/// refuses every one of these at admission; an object stored before the webhook can still
/// carry them).
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum RenderError {
    #[error("metadata.name is missing")]
    MissingName,
    #[error("metadata.namespace is missing")]
    MissingNamespace,
    #[error("metadata.uid is missing (render the stored object, not a manifest)")]
    MissingUid,
    #[error("{field} is missing; {hint}")]
    MissingField {
        field: &'static str,
        hint: &'static str,
    },
    #[error("spec.image.tag {tag:?} names no Neo4j version; use a 5.26.x or CalVer (2025.01+) tag")]
    UnsupportedImageTag { tag: String },
    #[error("spec.resources.limits.memory: {0}")]
    Memory(#[from] MemoryError),
    #[error("internal error serializing {kind}: {message}")]
    Serialize { kind: &'static str, message: String },
}

impl RenderError {
    /// A CamelCase reason for conditions and events.
    pub fn reason(&self) -> &'static str {
        match self {
            RenderError::MissingName | RenderError::MissingNamespace | RenderError::MissingUid => {
                "MissingMetadata"
            }
            RenderError::MissingField { .. } => "MissingField",
            RenderError::UnsupportedImageTag { .. } => "UnsupportedImageTag",
            RenderError::Memory(_) => "MemoryLimitTooSmall",
            RenderError::Serialize { .. } => "InternalError",
        }
    }
}

/// Every object of a cluster, in apply order: ConfigMap, ServiceAccount, Services,
/// Certificate (cert-manager mode), PodDisruptionBudget, StatefulSet.
pub fn cluster(c: &Neo4jEnterpriseCluster) -> Result<Vec<DesiredObject>, RenderError> {
    cluster::render(c)
}

/// Every object of a standalone, in apply order: ConfigMap, Services, Certificate
/// (cert-manager mode), StatefulSet. No PodDisruptionBudget: one server has no quorum to keep,
/// and a budget of zero would only block node drains.
pub fn standalone(s: &Neo4jEnterpriseStandalone) -> Result<Vec<DesiredObject>, RenderError> {
    standalone::render(s)
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

/// Whether TLS is issued by cert-manager (`spec.tls.mode`).
pub(crate) fn cert_manager_tls(tls: Option<&TLSSpec>) -> bool {
    tls.and_then(|t| t.mode.as_deref()) == Some("cert-manager")
}

/// Strict intra-cluster peer validation, on unless explicitly `false`.
pub(crate) fn strict_peer_validation(tls: Option<&TLSSpec>) -> bool {
    tls.and_then(|t| t.strict_peer_validation) != Some(false)
}

/// Serializes a typed object into a [`DesiredObject`] with its hash annotation.
pub(crate) fn desired<T: Serialize>(
    api_version: &'static str,
    kind: &'static str,
    plural: &'static str,
    name: String,
    object: &T,
) -> Result<DesiredObject, RenderError> {
    let object = serde_json::to_value(object).map_err(|e| RenderError::Serialize {
        kind,
        message: e.to_string(),
    })?;
    let mut d = DesiredObject {
        api_version,
        kind,
        plural,
        name,
        object,
        hash: String::new(),
    };
    rehash(&mut d);
    Ok(d)
}

/// The ConfigMap `name` holding `data`, and the config hash of its `hashed` keys (those whose
/// change must roll the pods).
pub(crate) fn config_map(
    owner: &Owner,
    name: String,
    labels: Labels,
    data: BTreeMap<String, String>,
    hashed: &[&str],
) -> Result<(DesiredObject, String), RenderError> {
    let hashed: BTreeMap<String, String> = data
        .iter()
        .filter(|(k, _)| hashed.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let cm = corev1::ConfigMap {
        metadata: owner.meta(name.clone(), labels, Labels::new()),
        data: Some(data),
        ..Default::default()
    };
    Ok((
        desired("v1", "ConfigMap", "configmaps", name, &cm)?,
        data_hash(&hashed),
    ))
}

/// TCP Service ports, each targeting the container port of the same number.
pub(crate) fn service_ports(ports: &[(&str, i32)]) -> Vec<corev1::ServicePort> {
    ports
        .iter()
        .map(|(name, port)| corev1::ServicePort {
            name: Some(name.to_string()),
            port: *port,
            target_port: Some(IntOrString::Int(*port)),
            protocol: Some("TCP".into()),
            ..Default::default()
        })
        .collect()
}

/// The Service `name` with `spec`.
pub(crate) fn service(
    owner: &Owner,
    name: String,
    labels: Labels,
    annotations: Labels,
    spec: corev1::ServiceSpec,
) -> Result<DesiredObject, RenderError> {
    let svc = corev1::Service {
        metadata: owner.meta(name.clone(), labels, annotations),
        spec: Some(spec),
        ..Default::default()
    };
    desired("v1", "Service", "services", name, &svc)
}

/// The StatefulSet `name` with `spec`.
pub(crate) fn statefulset(
    owner: &Owner,
    name: String,
    labels: Labels,
    spec: StatefulSetSpec,
) -> Result<DesiredObject, RenderError> {
    let sts = StatefulSet {
        metadata: owner.meta(name.clone(), labels, Labels::new()),
        spec: Some(spec),
        ..Default::default()
    };
    desired("apps/v1", "StatefulSet", "statefulsets", name, &sts)
}

/// Recomputes the hash over the object without its hash annotation, and stores it there.
fn rehash(d: &mut DesiredObject) {
    set_hash_annotation(&mut d.object, None);
    d.hash = content_hash(&d.object);
    set_hash_annotation(&mut d.object, Some(&d.hash));
}

/// Sets (`Some`) or removes (`None`) the hash annotation; an emptied map is removed too, so
/// the hashed form never depends on whether the annotation was there before.
fn set_hash_annotation(object: &mut Value, hash: Option<&str>) {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    match hash {
        None => {
            let emptied = match meta.get_mut("annotations") {
                Some(Value::Object(a)) => {
                    a.remove(DESIRED_HASH_ANNOTATION);
                    a.is_empty()
                }
                _ => false,
            };
            if emptied {
                meta.remove("annotations");
            }
        }
        Some(hash) => {
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(
                    DESIRED_HASH_ANNOTATION.to_string(),
                    Value::String(hash.to_string()),
                );
            }
        }
    }
}

/// SHA-256 hex of the canonical JSON of `value`.
pub fn content_hash(value: &Value) -> String {
    sha256::hex(canonical_json(value).as_bytes())
}

/// JSON with object keys sorted and no whitespace, independent of how `serde_json` orders maps.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The config hash of a ConfigMap's data: SHA-256 hex of its canonical JSON.
pub(crate) fn data_hash(data: &BTreeMap<String, String>) -> String {
    let value = Value::Object(
        data.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    );
    content_hash(&value)
}

#[cfg(test)]
mod tests;
