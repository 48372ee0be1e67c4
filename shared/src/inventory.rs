//! What admission may know about other objects: a short summary of each cluster or standalone,
//! read through an [`Inventory`] (a watch cache in the webhook, the other documents of the run
//! in `check`), never a live API call. Rules take an inventory; they never build one.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::defaults;
use crate::types::{
    Kind, Neo4jEnterpriseCluster, Neo4jEnterpriseStandalone, Neo4jPlugin, Neo4jPluginSpec,
};
use crate::verdict::Verdict;

/// Whether a Neo4j instance is a cluster or a standalone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceKind {
    Cluster,
    Standalone,
}

/// What cross-object checks need to know about a cluster or standalone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSummary {
    pub kind: InstanceKind,
    /// `spec.topology.servers` (1 for a standalone).
    pub servers: i64,
    pub server_mode_constraint: Option<String>,
    pub image_tag: Option<String>,
    pub property_sharding: bool,
    /// The servers keep their data on a volume of a positive size (a restore writes there).
    pub persistent_storage: bool,
    /// The database every server creates first (`initial.dbms.default_database`, `neo4j`).
    pub default_database: String,
}

/// The default database of an instance with `config`.
fn default_database(config: Option<&std::collections::BTreeMap<String, String>>) -> String {
    config
        .and_then(|c| c.get("initial.dbms.default_database"))
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("neo4j")
        .to_string()
}

fn persistent(size: &str) -> bool {
    crate::units::quantity_bytes(size.trim()).is_some_and(|b| b > 0)
}

impl InstanceSummary {
    pub fn of_cluster(c: &Neo4jEnterpriseCluster) -> Self {
        InstanceSummary {
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
            persistent_storage: persistent(&c.spec.storage.size),
            default_database: default_database(c.spec.config.as_ref()),
        }
    }
    pub fn of_standalone(s: &Neo4jEnterpriseStandalone) -> Self {
        InstanceSummary {
            kind: InstanceKind::Standalone,
            servers: 1,
            server_mode_constraint: None,
            image_tag: Some(s.spec.image.tag.clone()),
            property_sharding: false,
            persistent_storage: persistent(&s.spec.storage.size),
            default_database: default_database(s.spec.config.as_ref()),
        }
    }
}

/// A Neo4jPlugin as cross checks see it: its `metadata.name` and its defaulted spec.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSummary {
    pub name: String,
    pub spec: Neo4jPluginSpec,
}

impl PluginSummary {
    pub fn of(p: &Neo4jPlugin) -> Self {
        let mut spec = p.spec.clone();
        defaults::plugin(&mut spec);
        PluginSummary {
            name: p.metadata.name.clone().unwrap_or_default(),
            spec,
        }
    }
}

/// Read access to the other objects admission may consult (a watch cache in the webhook, the
/// other documents of the run in `check`). Never a live API call.
pub trait Inventory {
    /// False when there is no view of the cluster at all: cross-object checks are skipped.
    fn available(&self) -> bool;
    /// The cluster or standalone `name` in `namespace` (a cluster is looked up first).
    fn instance(&self, namespace: &str, name: &str) -> Option<InstanceSummary>;
    /// The Neo4jPlugins of `namespace` whose `spec.clusterRef` is `target`, sorted by name.
    /// An inventory that does not watch plugins has none.
    fn plugins(&self, namespace: &str, target: &str) -> Vec<PluginSummary> {
        let _ = (namespace, target);
        Vec::new()
    }
    /// The DNS domain of the Kubernetes cluster (`--cluster-domain`), in which the operator's
    /// names are checked.
    fn cluster_domain(&self) -> &str {
        crate::names::DEFAULT_CLUSTER_DOMAIN
    }
}

/// `inner`, in a Kubernetes cluster whose DNS domain is `domain`.
pub struct InDomain<'a> {
    pub inner: &'a dyn Inventory,
    pub domain: &'a str,
}

impl Inventory for InDomain<'_> {
    fn available(&self) -> bool {
        self.inner.available()
    }
    fn instance(&self, namespace: &str, name: &str) -> Option<InstanceSummary> {
        self.inner.instance(namespace, name)
    }
    fn plugins(&self, namespace: &str, target: &str) -> Vec<PluginSummary> {
        self.inner.plugins(namespace, target)
    }
    fn cluster_domain(&self) -> &str {
        self.domain
    }
}

/// No view of other objects (the webhook without a cluster connection).
pub struct NoInventory;

impl Inventory for NoInventory {
    fn available(&self) -> bool {
        false
    }
    fn instance(&self, _: &str, _: &str) -> Option<InstanceSummary> {
        None
    }
}

/// An inventory held in memory: the documents of one `check` run, or a test's fixture.
#[derive(Debug, Clone, Default)]
pub struct MapInventory {
    instances: BTreeMap<(String, String), InstanceSummary>,
    /// Plugins by (namespace, name).
    plugins: BTreeMap<(String, String), PluginSummary>,
}

impl MapInventory {
    pub fn insert(&mut self, namespace: &str, name: &str, instance: InstanceSummary) {
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
    pub fn insert_plugin(&mut self, namespace: &str, plugin: PluginSummary) {
        self.plugins
            .insert((namespace.to_string(), plugin.name.clone()), plugin);
    }
    /// Adds the object if it is a cluster, standalone or plugin that decodes.
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
                    self.insert(&namespace, name, InstanceSummary::of_cluster(&c));
                }
            }
            Some(Kind::Standalone) => {
                if let Ok(mut s) =
                    serde_json::from_value::<Neo4jEnterpriseStandalone>(object.clone())
                {
                    defaults::standalone(&mut s.spec);
                    self.insert(&namespace, name, InstanceSummary::of_standalone(&s));
                }
            }
            Some(Kind::Plugin) => {
                if let Ok(p) = serde_json::from_value::<Neo4jPlugin>(object.clone()) {
                    let mut summary = PluginSummary::of(&p);
                    summary.name = name.to_string();
                    self.insert_plugin(&namespace, summary);
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
    fn instance(&self, namespace: &str, name: &str) -> Option<InstanceSummary> {
        self.instances
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }
    fn plugins(&self, namespace: &str, target: &str) -> Vec<PluginSummary> {
        self.plugins
            .iter()
            .filter(|((ns, _), p)| ns == namespace && p.spec.cluster_ref.as_deref() == Some(target))
            .map(|(_, p)| p.clone())
            .collect()
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

/// Where a rule's cross-object check could not run for lack of a cluster view.
pub fn skipped_cross_check(v: &mut Verdict, field: &str, what: &str) {
    v.warn(
        "cross-check-skipped",
        field,
        format!("{what} was not checked: the webhook has no view of the cluster"),
    );
}
