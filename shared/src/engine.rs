//! The admission engine: what the API server runs through the webhook, as pure functions.
//! Mutation (defaults → RFC 6902 patch) and validation (errors and warnings) for every kind,
//! shared line for line by `neo4j-webhook serve`, `neo4j-webhook check` and the controller.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::types::{
    self, Neo4jBackup, Neo4jDatabase, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone,
    Neo4jPlugin, Neo4jRestore,
};
use crate::verdict::{Finding, Verdict};
use crate::{defaults, validate};

/// The six kinds the product serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Cluster,
    Standalone,
    Backup,
    Restore,
    Database,
    Plugin,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Cluster,
        Kind::Standalone,
        Kind::Backup,
        Kind::Restore,
        Kind::Database,
        Kind::Plugin,
    ];

    /// The kind's name as in `kind:` of a manifest.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cluster => "Neo4jEnterpriseCluster",
            Kind::Standalone => "Neo4jEnterpriseStandalone",
            Kind::Backup => "Neo4jBackup",
            Kind::Restore => "Neo4jRestore",
            Kind::Database => "Neo4jDatabase",
            Kind::Plugin => "Neo4jPlugin",
        }
    }
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Cluster => "neo4jenterpriseclusters",
            Kind::Standalone => "neo4jenterprisestandalones",
            Kind::Backup => "neo4jbackups",
            Kind::Restore => "neo4jrestores",
            Kind::Database => "neo4jdatabases",
            Kind::Plugin => "neo4jplugins",
        }
    }
    pub fn from_name(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == kind)
    }
    pub fn from_plural(plural: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.plural() == plural)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The admission operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Operation> {
        match s {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// Whether a Neo4j instance is a cluster or a standalone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKind {
    Cluster,
    Standalone,
}

/// What cross-object checks need to know about a cluster or standalone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub kind: InstanceKind,
    /// `spec.topology.servers` (1 for a standalone).
    pub servers: i64,
    pub server_mode_constraint: Option<String>,
    pub image_tag: Option<String>,
    pub property_sharding: bool,
}

impl Instance {
    pub fn of_cluster(c: &Neo4jEnterpriseCluster) -> Self {
        Instance {
            kind: InstanceKind::Cluster,
            servers: i64::from(c.spec.topology.servers),
            server_mode_constraint: c.spec.topology.server_mode_constraint.clone(),
            image_tag: Some(c.spec.image.tag.clone()),
            property_sharding: c
                .spec
                .property_sharding
                .as_ref()
                .and_then(|p| p.enabled)
                .unwrap_or(false),
        }
    }
    pub fn of_standalone(s: &Neo4jEnterpriseStandalone) -> Self {
        Instance {
            kind: InstanceKind::Standalone,
            servers: 1,
            server_mode_constraint: None,
            image_tag: Some(s.spec.image.tag.clone()),
            property_sharding: false,
        }
    }
}

/// Read access to the other objects admission may consult (a watch cache in the webhook, the
/// other documents of the run in `check`). Never a live API call.
pub trait Inventory {
    /// False when there is no view of the cluster at all: cross-object checks are skipped.
    fn available(&self) -> bool;
    /// The cluster or standalone `name` in `namespace` (a cluster is looked up first).
    fn instance(&self, namespace: &str, name: &str) -> Option<Instance>;
}

/// No view of other objects (the webhook without a cluster connection).
pub struct NoInventory;

impl Inventory for NoInventory {
    fn available(&self) -> bool {
        false
    }
    fn instance(&self, _: &str, _: &str) -> Option<Instance> {
        None
    }
}

/// An inventory held in memory: the documents of one `check` run, or a test's fixture.
#[derive(Debug, Clone, Default)]
pub struct MapInventory {
    instances: BTreeMap<(String, String), Instance>,
}

impl MapInventory {
    pub fn insert(&mut self, namespace: &str, name: &str, instance: Instance) {
        let key = (namespace.to_string(), name.to_string());
        // A cluster wins over a standalone of the same name, as the reference looks it up first.
        match self.instances.get(&key) {
            Some(existing)
                if existing.kind == InstanceKind::Cluster
                    && instance.kind == InstanceKind::Standalone => {}
            _ => {
                self.instances.insert(key, instance);
            }
        }
    }
    /// Adds the object if it is a cluster or standalone that decodes.
    pub fn insert_object(&mut self, object: &Value) {
        let namespace = namespace_of(object);
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match object
            .get("kind")
            .and_then(Value::as_str)
            .and_then(Kind::from_name)
        {
            Some(Kind::Cluster) => {
                if let Ok(mut c) = serde_json::from_value::<Neo4jEnterpriseCluster>(object.clone())
                {
                    defaults::cluster(&mut c.spec);
                    self.insert(&namespace, name, Instance::of_cluster(&c));
                }
            }
            Some(Kind::Standalone) => {
                if let Ok(mut s) =
                    serde_json::from_value::<Neo4jEnterpriseStandalone>(object.clone())
                {
                    defaults::standalone(&mut s.spec);
                    self.insert(&namespace, name, Instance::of_standalone(&s));
                }
            }
            _ => {}
        }
    }
}

impl Inventory for MapInventory {
    fn available(&self) -> bool {
        true
    }
    fn instance(&self, namespace: &str, name: &str) -> Option<Instance> {
        self.instances
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }
}

/// The namespace of an object; objects without one are taken to be in `default`.
pub fn namespace_of(object: &Value) -> String {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string()
}

/// An object that cannot be decoded as its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DecodeError {
    /// Field path of the offending value, e.g. `spec.topology.servers`.
    pub path: String,
    pub message: String,
}

fn decode<T: DeserializeOwned>(object: &Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize::<_, T>(object).map_err(|e| {
        let path = e.path().to_string();
        DecodeError {
            path: if path == "." { "(object)".into() } else { path },
            message: e.into_inner().to_string(),
        }
    })
}

/// Per-kind policy: the defaults and rules of one kind, as the engine calls them.
pub trait Policy: Serialize + DeserializeOwned + Clone {
    const KIND: Kind;
    fn apply_defaults(&mut self);
    fn create(&self) -> Verdict;
    /// Create rules on the new object plus the rules that compare with the old one.
    fn update(old: &Self, new: &Self) -> Verdict;
    /// Checks against other objects; warnings unless the rule says otherwise.
    fn cross(&self, _namespace: &str, _inventory: &dyn Inventory) -> Verdict {
        Verdict::default()
    }
}

macro_rules! policy {
    ($ty:ty, $kind:expr, $defaults:path, $module:ident) => {
        impl Policy for $ty {
            const KIND: Kind = $kind;
            fn apply_defaults(&mut self) {
                $defaults(&mut self.spec);
            }
            fn create(&self) -> Verdict {
                validate::$module::create(self)
            }
            fn update(old: &Self, new: &Self) -> Verdict {
                validate::$module::update(old, new)
            }
            fn cross(&self, namespace: &str, inventory: &dyn Inventory) -> Verdict {
                validate::$module::cross(self, namespace, inventory)
            }
        }
    };
}

policy!(
    Neo4jEnterpriseCluster,
    Kind::Cluster,
    defaults::cluster,
    cluster
);
policy!(
    Neo4jEnterpriseStandalone,
    Kind::Standalone,
    defaults::standalone,
    standalone
);
policy!(Neo4jBackup, Kind::Backup, defaults::backup, backup);
policy!(Neo4jRestore, Kind::Restore, defaults::restore, restore);
policy!(Neo4jDatabase, Kind::Database, defaults::database, database);
policy!(Neo4jPlugin, Kind::Plugin, defaults::plugin, plugin);

/// The mutating webhook's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// RFC 6902 operations turning the request object into the defaulted one; empty when the
    /// object needs no default.
    pub patch: json_patch::Patch,
    /// The object after defaults (what the API server stores).
    pub defaulted: Value,
}

/// Computes the defaults of `object` as a JSON patch. Only `spec` is touched, and nothing the
/// user wrote is removed (fields this version does not know are carried over untouched).
pub fn mutate(kind: Kind, object: &Value) -> Result<Mutation, DecodeError> {
    match kind {
        Kind::Cluster => mutate_as::<Neo4jEnterpriseCluster>(object),
        Kind::Standalone => mutate_as::<Neo4jEnterpriseStandalone>(object),
        Kind::Backup => mutate_as::<Neo4jBackup>(object),
        Kind::Restore => mutate_as::<Neo4jRestore>(object),
        Kind::Database => mutate_as::<Neo4jDatabase>(object),
        Kind::Plugin => mutate_as::<Neo4jPlugin>(object),
    }
}

fn mutate_as<P: Policy>(object: &Value) -> Result<Mutation, DecodeError> {
    let mut typed: P = decode(object)?;
    typed.apply_defaults();
    let typed = serde_json::to_value(&typed).map_err(|e| DecodeError {
        path: "(object)".into(),
        message: e.to_string(),
    })?;
    let mut defaulted = object.clone();
    if let (Some(target), Some(spec)) = (defaulted.as_object_mut(), typed.get("spec")) {
        match target.get_mut("spec") {
            Some(existing) => merge_preserving(existing, spec),
            None => {
                target.insert("spec".into(), spec.clone());
            }
        }
    }
    let patch = json_patch::diff(object, &defaulted);
    Ok(Mutation { patch, defaulted })
}

/// Overlays `typed` onto `target`: objects merge key by key (keys only in `target` stay), lists
/// of the same length merge item by item, anything else is replaced.
fn merge_preserving(target: &mut Value, typed: &Value) {
    match (target, typed) {
        (Value::Object(t), Value::Object(s)) => {
            for (k, v) in s {
                match t.get_mut(k) {
                    Some(existing) => merge_preserving(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) if t.len() == s.len() => {
            for (a, b) in t.iter_mut().zip(s) {
                merge_preserving(a, b);
            }
        }
        (t, s) => *t = s.clone(),
    }
}

/// HTTP-style status of a decision, as the validating webhook reports it.
pub const CODE_ALLOWED: u16 = 200;
/// A policy violation.
pub const CODE_FORBIDDEN: u16 = 403;
/// The object cannot be decoded as its kind.
pub const CODE_UNPROCESSABLE: u16 = 422;

/// The validating webhook's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub code: u16,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

impl Decision {
    fn from_verdict(v: Verdict) -> Self {
        let allowed = v.allowed();
        Decision {
            allowed,
            code: if allowed {
                CODE_ALLOWED
            } else {
                CODE_FORBIDDEN
            },
            errors: v.errors,
            warnings: v.warnings,
        }
    }
    fn undecodable(e: DecodeError) -> Self {
        Decision {
            allowed: false,
            code: CODE_UNPROCESSABLE,
            errors: vec![Finding::new(
                "object-decode",
                e.path.clone(),
                format!("cannot be decoded: {}", e.message),
            )],
            warnings: vec![],
        }
    }
    /// Every error as `<rule>: <field>: <message>`, one per line, for `status.message`.
    pub fn message(&self) -> String {
        self.errors
            .iter()
            .map(Finding::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Rules every object of our group must pass before its kind's rules: the served version and
/// a name (the API server refuses both too; the offline checker must say so).
fn envelope(object: &Value) -> Verdict {
    let mut v = Verdict::default();
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version != types::API_VERSION {
        v.error(
            "api-version-unsupported",
            "apiVersion",
            format!("{api_version:?} is not served; use {}", types::API_VERSION),
        );
    }
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let generate = object
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() && generate.is_empty() {
        v.error(
            "metadata-name-required",
            "metadata.name",
            "the object has no name; set metadata.name",
        );
    }
    v
}

/// Validates `object` for `operation` (`old` is the stored object on UPDATE). Defaults are
/// applied in memory first, so the verdict is the same whether or not the mutating webhook ran.
pub fn validate(
    kind: Kind,
    operation: Operation,
    old: Option<&Value>,
    object: &Value,
    inventory: &dyn Inventory,
) -> Decision {
    match operation {
        Operation::Delete | Operation::Connect => return Decision::from_verdict(Verdict::default()),
        Operation::Create | Operation::Update => {}
    }
    let envelope = envelope(object);
    if !envelope.allowed() {
        return Decision::from_verdict(envelope);
    }
    let old = if operation == Operation::Update {
        old
    } else {
        None
    };
    match kind {
        Kind::Cluster => validate_as::<Neo4jEnterpriseCluster>(old, object, inventory),
        Kind::Standalone => validate_as::<Neo4jEnterpriseStandalone>(old, object, inventory),
        Kind::Backup => validate_as::<Neo4jBackup>(old, object, inventory),
        Kind::Restore => validate_as::<Neo4jRestore>(old, object, inventory),
        Kind::Database => validate_as::<Neo4jDatabase>(old, object, inventory),
        Kind::Plugin => validate_as::<Neo4jPlugin>(old, object, inventory),
    }
}

fn validate_as<P: Policy>(
    old: Option<&Value>,
    object: &Value,
    inventory: &dyn Inventory,
) -> Decision {
    let mut new: P = match decode(object) {
        Ok(n) => n,
        Err(e) => return Decision::undecodable(e),
    };
    new.apply_defaults();
    let mut verdict = match old.map(decode::<P>) {
        Some(Ok(mut old)) => {
            old.apply_defaults();
            P::update(&old, &new)
        }
        // An old object that no longer decodes cannot be compared; judge the new one alone.
        Some(Err(_)) | None => new.create(),
    };
    verdict.extend(new.cross(&namespace_of(object), inventory));
    Decision::from_verdict(verdict)
}

/// Where a rule's cross-object check could not run for lack of a cluster view.
pub fn skipped_cross_check(v: &mut Verdict, field: &str, what: &str) {
    v.warn(
        "cross-check-skipped",
        field,
        format!("{what} was not checked: the webhook has no view of the cluster"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keeps_unknown_keys_and_adds_defaults() {
        let mut target = json!({"a": {"x": 1, "unknown": true}, "list": [{"k": 1, "extra": 2}]});
        merge_preserving(
            &mut target,
            &json!({"a": {"x": 1, "d": "default"}, "list": [{"k": 1, "z": 0}]}),
        );
        assert_eq!(
            target,
            json!({"a": {"x": 1, "unknown": true, "d": "default"}, "list": [{"k": 1, "extra": 2, "z": 0}]})
        );
    }

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
            assert_eq!(Kind::from_plural(k.plural()), Some(k));
        }
        assert_eq!(Kind::from_name("Neo4jUser"), None);
    }
}
