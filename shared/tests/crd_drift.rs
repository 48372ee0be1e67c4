//! The committed CRDs in `manifests/crds/` and their copies in the Helm chart
//! (`manifests/helm/neo4j-operator/crds/`) must be exactly what the types generate; run
//! `make crds` after changing a type.

use neo4j_shared::crd;
use neo4j_shared::types::Kind;

#[test]
fn committed_crds_match_the_types() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifests");
    let mut drifted = Vec::new();
    for dir in [root.join("crds"), root.join("helm/neo4j-operator/crds")] {
        for kind in Kind::ALL {
            let path = dir.join(crd::file_name(kind));
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            let generated = crd::yaml(kind).unwrap_or_else(|e| panic!("{kind}: {e}"));
            if committed != generated {
                drifted.push(path.display().to_string());
            }
        }
    }
    assert!(
        drifted.is_empty(),
        "CRDs out of date (run `make crds`): {drifted:?}"
    );
}

#[test]
fn crds_serve_one_version_with_status_and_the_schema_invariants() {
    let c = crd::definition(Kind::Cluster);
    assert_eq!(c.spec.group, "neo4j.neo4j.com");
    assert_eq!(c.spec.scope, "Namespaced");
    assert_eq!(c.spec.versions.len(), 1);
    let v = &c.spec.versions[0];
    assert_eq!(v.name, "v1beta1");
    assert!(v.served && v.storage);
    assert!(
        v.subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some()
    );
    let schema = serde_json::to_value(&v.schema).unwrap_or_default();
    let servers = schema
        .pointer("/openAPIV3Schema/properties/spec/properties/topology/properties/servers")
        .cloned()
        .unwrap_or_default();
    // The floor of 2 servers is the webhook's (cluster-min-servers, with its hint); the schema
    // keeps the ceiling (docs/rules.md, who owns each constraint).
    assert_eq!(servers.get("minimum"), None);
    assert_eq!(servers["maximum"], 100.0);
    let topo = schema
        .pointer("/openAPIV3Schema/properties/spec/properties/topology")
        .cloned()
        .unwrap_or_default();
    assert!(
        topo["x-kubernetes-validations"]
            .as_array()
            .is_some_and(|a| a.len() == 3),
        "{topo}"
    );
    let columns: Vec<_> = v
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(columns, ["Servers", "Ready", "Phase", "Age"]);
}
