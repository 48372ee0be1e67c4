//! What every rendered object is made of: the [`DesiredObject`] with its content hash, the
//! [`Owner`] whose reference each child carries, the ports, the [`RenderError`], and the
//! builders of the object kinds both instance kinds share (ConfigMap, Service, StatefulSet).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde_json::Value;

use super::sha256;
use crate::memory::MemoryError;
use crate::names::{APP_MANAGED_BY, Labels, MANAGED_BY};
use crate::types::{
    API_VERSION, Kind, Neo4jDatabase, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, TLSSpec,
};

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
    /// Built from constants and metadata, never from TypeMeta.
    pub(crate) fn new(kind: Kind, meta: &ObjectMeta) -> Result<Owner, RenderError> {
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

    pub fn of_database(d: &Neo4jDatabase) -> Result<Owner, RenderError> {
        Owner::new(Kind::Database, &d.metadata)
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

    /// Metadata of a child: name, namespace, labels, annotations, owner reference. Every child
    /// carries `app.kubernetes.io/managed-by: neo4j-operator`: the controller watches its
    /// children by that label.
    pub(crate) fn meta(&self, name: String, mut labels: Labels, annotations: Labels) -> ObjectMeta {
        labels
            .entry(APP_MANAGED_BY.to_string())
            .or_insert_with(|| MANAGED_BY.to_string());
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
    #[error("{0}")]
    Statement(#[from] crate::cypher::CypherError),
    /// A generated name Kubernetes would refuse.
    #[error("{name:?} has more than the {max} characters a {kind} name may have")]
    NameTooLong {
        kind: &'static str,
        name: String,
        max: usize,
    },
    /// The spec asks for something this operator version does not do.
    #[error("{field}: {why}")]
    Unsupported { field: &'static str, why: String },
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
            RenderError::Statement(_) => "InvalidStatement",
            RenderError::NameTooLong { .. } => "NameTooLong",
            RenderError::Unsupported { .. } => "Unsupported",
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
pub(crate) fn rehash(d: &mut DesiredObject) {
    set_hash_annotation(&mut d.object, None);
    d.hash = content_hash(&d.object);
    set_hash_annotation(&mut d.object, Some(&d.hash));
}

/// Sets (`Some`) or removes (`None`) the hash annotation; an emptied map is removed too, so
/// the hashed form never depends on whether the annotation was there before.
pub(super) fn set_hash_annotation(object: &mut Value, hash: Option<&str>) {
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
