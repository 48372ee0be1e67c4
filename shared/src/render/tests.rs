//! Rendering tests, one file per topic: the objects with their names, labels, ports and
//! selectors (`objects.rs`), the pod template (`pods.rs`), neo4j.conf (`neo4j_conf.rs`), and
//! determinism, what rolls pods, the disruption budget and that no user value reaches a shell
//! script (`rollout.rs`), and what the user's settings, the image's stock JVM flags and the
//! cluster domain become (`settings.rs`). This file holds the builders and lookups they share.

mod neo4j_conf;
mod objects;
mod operations;
mod plugins;
mod pods;
mod rollout;
mod settings;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::object::set_hash_annotation;
use super::*;
use crate::memory;
use crate::names::CONFIG_HASH_ANNOTATION;

fn minimal_spec() -> Value {
    json!({
        "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
        "topology": {"servers": 3},
        "storage": {"size": "10Gi"},
        "acceptLicenseAgreement": "yes"
    })
}

/// `minimal_spec` with the top-level fields of `patch` replaced.
fn spec_with(patch: Value) -> Value {
    let mut spec = minimal_spec();
    if let (Some(s), Some(p)) = (spec.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            s.insert(k.clone(), v.clone());
        }
    }
    spec
}

fn cluster_from(spec: Value) -> Neo4jEnterpriseCluster {
    let mut c: Neo4jEnterpriseCluster = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "graph", "namespace": "db", "uid": "uid-1", "generation": 3},
        "spec": spec,
    }))
    .expect("cluster manifest");
    crate::defaults::cluster(&mut c.spec);
    c
}

fn standalone_from(spec: Value) -> Neo4jEnterpriseStandalone {
    let mut s: Neo4jEnterpriseStandalone = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseStandalone",
        "metadata": {"name": "solo", "namespace": "db", "uid": "uid-2", "generation": 1},
        "spec": spec,
    }))
    .expect("standalone manifest");
    crate::defaults::standalone(&mut s.spec);
    s
}

fn render_cluster(spec: Value) -> Vec<DesiredObject> {
    cluster(&cluster_from(spec)).expect("cluster renders")
}

fn find<'a>(objects: &'a [DesiredObject], kind: &str, name: &str) -> &'a DesiredObject {
    objects
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn labels(o: &DesiredObject) -> BTreeMap<String, String> {
    serde_json::from_value(o.object["metadata"]["labels"].clone()).unwrap_or_default()
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn ports(service: &DesiredObject) -> Vec<(String, i64)> {
    service.object["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["port"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

fn conf_of(objects: &[DesiredObject], name: &str) -> String {
    find(objects, "ConfigMap", name).object["data"]["neo4j.conf"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn settings(conf: &str) -> Vec<(String, String)> {
    conf.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn setting(conf: &str, key: &str) -> Option<String> {
    settings(conf)
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn pod_template(objects: &[DesiredObject], name: &str) -> Value {
    find(objects, "StatefulSet", name).object["spec"]["template"].clone()
}

fn l(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const TAG: &str = "5.26.0-enterprise";

/// (name, selector, ports, clusterIP, publishNotReadyAddresses)
type ServiceRow<'a> = (
    &'a str,
    BTreeMap<String, String>,
    Vec<(String, i64)>,
    Value,
    Value,
);
/// (name, labels, ports)
type StandaloneServiceRow<'a> = (&'a str, BTreeMap<String, String>, Vec<(String, i64)>);

fn base_labels(role: Option<&str>) -> BTreeMap<String, String> {
    crate::names::ClusterNames::new("graph").base_labels(TAG, role)
}

fn without(mut m: BTreeMap<String, String>, keys: &[&str]) -> BTreeMap<String, String> {
    for k in keys {
        m.remove(*k);
    }
    m
}
