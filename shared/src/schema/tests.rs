//! The API server's checks: one hit and one near miss per rule id of the `schema` table (against
//! the generated CRDs where they have the constraint, against small schemas where they do not),
//! ratcheting on UPDATE, and the catalogue's record of which constraints the schema owns.

use serde_json::{Value, json};

use super::*;
use crate::catalog::schema::{Constraint, OWNERSHIP, Owner};

fn object(kind: Kind, spec: Value) -> Value {
    json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": kind.name(),
        "metadata": {"name": "graph", "namespace": "db"}, "spec": spec})
}

fn cluster(spec: Value) -> Value {
    let mut base = json!({"acceptLicenseAgreement": "yes",
        "image": {"repo": "neo4j", "tag": "5.26.0-enterprise"},
        "topology": {"servers": 3}, "storage": {"size": "10Gi"}});
    json_patch::merge(&mut base, &spec);
    object(Kind::Cluster, base)
}

/// The findings the API server would give `object` (on CREATE, or UPDATE from `old`).
fn findings(kind: Kind, object: &Value, old: Option<&Value>) -> Vec<(&'static str, String)> {
    let s = of(kind);
    let unknown = s.unknown_fields(object);
    if !unknown.is_empty() {
        return unknown.into_iter().map(|f| (f.rule, f.field)).collect();
    }
    let prepare = |o: &Value| {
        let mut o = o.clone();
        s.default(&mut o);
        o
    };
    let old = old.map(prepare);
    s.validate(&prepare(object), old.as_ref())
        .into_iter()
        .map(|f| (f.rule, f.field))
        .collect()
}

/// A small schema for the constraints the CRDs do not use.
fn synthetic() -> Structural {
    Structural::from_json(
        Kind::Plugin,
        &json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "short": {"type": "string", "minLength": 2},
            "few": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            "labels": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1},
            "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "level": {"type": "string", "default": "INFO", "enum": ["INFO", "DEBUG"]},
            "nothing": {"type": "string"},
            "maybe": {"type": "string", "nullable": true}
        }}}}),
    )
}

fn synthetic_findings(spec: Value) -> Vec<(&'static str, String)> {
    let s = synthetic();
    let object = object(Kind::Plugin, spec);
    let unknown = s.unknown_fields(&object);
    if !unknown.is_empty() {
        return unknown.into_iter().map(|f| (f.rule, f.field)).collect();
    }
    let mut o = object;
    s.default(&mut o);
    s.validate(&o, None)
        .into_iter()
        .map(|f| (f.rule, f.field))
        .collect()
}

/// One row: the rule, whether it must fire, and the findings expected (rule, field).
struct Row {
    rule: &'static str,
    hit: bool,
    got: Vec<(&'static str, String)>,
    want: Vec<(&'static str, &'static str)>,
}

fn hit(
    rule: &'static str,
    got: Vec<(&'static str, String)>,
    want: &[(&'static str, &'static str)],
) -> Row {
    Row {
        rule,
        hit: true,
        got,
        want: want.to_vec(),
    }
}

fn miss(rule: &'static str, got: Vec<(&'static str, String)>) -> Row {
    Row {
        rule,
        hit: false,
        got,
        want: Vec::new(),
    }
}

fn plugin(spec: Value) -> Value {
    let mut base = json!({"clusterRef": "graph", "name": "apoc", "version": "5.26.0"});
    json_patch::merge(&mut base, &spec);
    object(Kind::Plugin, base)
}

#[test]
fn every_schema_rule_has_a_hit_and_a_near_miss() {
    let c = |spec: Value| findings(Kind::Cluster, &cluster(spec), None);
    let p = |spec: Value| findings(Kind::Plugin, &plugin(spec), None);
    let rows = vec![
        hit(
            "unknown-field",
            c(json!({"replicas": 3, "tls": {"issuer": {"name": "ca"}}})),
            &[
                ("unknown-field", "spec.replicas"),
                ("unknown-field", "spec.tls.issuer"),
            ],
        ),
        hit(
            "unknown-field",
            findings(
                Kind::Cluster,
                &json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster", "metadata": {"name": "g", "label": "x"}, "spec": {"topology": {"servers": 3}}}),
                None,
            ),
            &[("unknown-field", "metadata.label")],
        ),
        hit(
            "unknown-field",
            c(json!({"env": [{"name": "A", "valu": "x"}]})),
            &[("unknown-field", "spec.env[0].valu")],
        ),
        miss(
            "unknown-field",
            c(json!({"env": [{"name": "A", "value": "x"}], "config": {"any.key": "1"}})),
        ),
        miss(
            "unknown-field",
            synthetic_findings(json!({"open": {"anything": {"goes": 1}}})),
        ),
        hit(
            "schema-type",
            c(json!({"topology": {"servers": "three"}})),
            &[("schema-type", "spec.topology.servers")],
        ),
        hit(
            "schema-type",
            c(json!({"acceptLicenseAgreement": true})),
            &[("schema-type", "spec.acceptLicenseAgreement")],
        ),
        hit(
            "schema-type",
            c(json!({"config": {"server.bolt.enabled": true}})),
            &[("schema-type", "spec.config.server.bolt.enabled")],
        ),
        hit(
            "schema-type",
            findings(
                Kind::Restore,
                &object(
                    Kind::Restore,
                    json!({"source": {"type": "pitr", "pointInTime": "2025-02-30T10:00:00Z"}}),
                ),
                None,
            ),
            &[("schema-type", "spec.source.pointInTime")],
        ),
        miss(
            "schema-type",
            findings(
                Kind::Restore,
                &object(
                    Kind::Restore,
                    json!({"source": {"type": "pitr", "pointInTime": "2024-02-29t23:59:59.5+02:00"}}),
                ),
                None,
            ),
        ),
        miss(
            "schema-type",
            c(json!({"resources": {"limits": {"cpu": 2, "memory": "4Gi"}}})),
        ),
        hit(
            "schema-required",
            c(json!({"topology": {"servers": null}})),
            &[("schema-required", "spec.topology.servers")],
        ),
        miss(
            "schema-required",
            c(json!({"image": null, "storage": null})),
        ),
        hit(
            "schema-enum",
            c(json!({"topology": {"serverModeConstraint": "LEADER"}})),
            &[("schema-enum", "spec.topology.serverModeConstraint")],
        ),
        miss(
            "schema-enum",
            c(
                json!({"topology": {"serverModeConstraint": "PRIMARY"}, "acceptLicenseAgreement": "no"}),
            ),
        ),
        hit(
            "schema-range",
            c(json!({"topology": {"servers": 101}})),
            &[("schema-range", "spec.topology.servers")],
        ),
        hit(
            "schema-range",
            synthetic_findings(json!({"ratio": 0})),
            &[("schema-range", "spec.ratio")],
        ),
        miss("schema-range", c(json!({"topology": {"servers": 1}}))),
        miss("schema-range", synthetic_findings(json!({"ratio": 1}))),
        hit(
            "schema-pattern",
            findings(
                Kind::Backup,
                &object(
                    Kind::Backup,
                    json!({"database": "orders!", "storage": {"type": "pvc"}}),
                ),
                None,
            ),
            &[("schema-pattern", "spec.database")],
        ),
        miss(
            "schema-pattern",
            findings(
                Kind::Backup,
                &object(
                    Kind::Backup,
                    json!({"database": "orders", "storage": {"type": "pvc"}}),
                ),
                None,
            ),
        ),
        hit(
            "schema-length",
            c(
                json!({"tls": {"mode": "cert-manager", "usages": ["server auth", "client auth", "x".repeat(65)]}}),
            ),
            &[("schema-length", "spec.tls.usages[2]")],
        ),
        hit(
            "schema-length",
            synthetic_findings(json!({"short": "a"})),
            &[("schema-length", "spec.short")],
        ),
        miss(
            "schema-length",
            c(
                json!({"tls": {"mode": "cert-manager", "usages": ["server auth", "client auth", "x".repeat(64)]}}),
            ),
        ),
        hit(
            "schema-size",
            c(json!({"tls": {"mode": "disabled", "usages": vec!["server auth"; 33]}})),
            &[("schema-size", "spec.tls.usages")],
        ),
        hit(
            "schema-size",
            synthetic_findings(json!({"few": [], "labels": {"a": "1", "b": "2"}})),
            &[("schema-size", "spec.few"), ("schema-size", "spec.labels")],
        ),
        miss(
            "schema-size",
            c(json!({"tls": {"mode": "disabled", "usages": vec!["server auth"; 32]}})),
        ),
        hit(
            "schema-duplicate",
            c(
                json!({"topology": {"serverRoles": [{"serverIndex": 1, "modeConstraint": "PRIMARY"}, {"serverIndex": 1, "modeConstraint": "NONE"}]}}),
            ),
            &[("schema-duplicate", "spec.topology.serverRoles[1]")],
        ),
        hit(
            "schema-duplicate",
            synthetic_findings(json!({"tags": ["a", "b", "a", "a"]})),
            &[("schema-duplicate", "spec.tags[2]")],
        ),
        miss(
            "schema-duplicate",
            c(
                json!({"topology": {"serverRoles": [{"serverIndex": 1, "modeConstraint": "PRIMARY"}, {"serverIndex": 2, "modeConstraint": "NONE"}]}}),
            ),
        ),
        hit(
            "schema-rule",
            c(json!({"topology": {"minSystemPrimaries": 4}})),
            &[("schema-rule", "spec.topology")],
        ),
        hit(
            "schema-rule",
            p(
                json!({"installMode": "VerifiedDownload", "source": {"type": "url", "url": "http://x/a.jar"}}),
            ),
            &[("schema-rule", "spec.source"), ("schema-rule", "spec")],
        ),
        miss(
            "schema-rule",
            c(json!({"topology": {"minSystemPrimaries": 3}})),
        ),
        miss(
            "schema-rule",
            p(json!({"source": {"type": "url", "url": "https://x/a.jar"}})),
        ),
        hit(
            "metadata-name-invalid",
            findings(
                Kind::Cluster,
                &json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster", "metadata": {"name": "My_Graph"}, "spec": {"topology": {"servers": 3}}}),
                None,
            ),
            &[("metadata-name-invalid", "metadata.name")],
        ),
        miss(
            "metadata-name-invalid",
            findings(
                Kind::Cluster,
                &json!({"apiVersion": "neo4j.neo4j.com/v1beta1", "kind": "Neo4jEnterpriseCluster", "metadata": {"name": "graph.prod"}, "spec": {"topology": {"servers": 3}}}),
                None,
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let mut got: Vec<(&str, &str)> = r.got.iter().map(|(a, b)| (*a, b.as_str())).collect();
        got.sort_unstable();
        let mut want = r.want.clone();
        want.sort_unstable();
        if got != want {
            failures.push(format!(
                "row {i} ({} hit={}): got {got:?}, want {want:?}",
                r.rule, r.hit
            ));
        }
    }
    for rule in crate::catalog::coverage::schema() {
        if !rows.iter().any(|r| r.rule == rule && r.hit) {
            failures.push(format!("{rule}: no case where it fires"));
        }
        if !rows.iter().any(|r| r.rule == rule && !r.hit) {
            failures.push(format!("{rule}: no near miss"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn messages_are_the_api_servers() {
    let messages = |spec: Value| -> Vec<String> {
        let mut o = cluster(spec);
        of(Kind::Cluster).default(&mut o);
        of(Kind::Cluster)
            .validate(&o, None)
            .into_iter()
            .map(|f| f.message)
            .collect()
    };
    assert_eq!(
        messages(json!({"topology": {"servers": 101}})),
        [
            "spec.topology.servers: Invalid value: 101: spec.topology.servers in body should be less than or equal to 100"
        ]
    );
    assert_eq!(
        messages(json!({"topology": {"servers": "three"}})),
        [
            "spec.topology.servers: Invalid value: \"string\": spec.topology.servers in body must be of type integer: \"string\""
        ]
    );
    assert_eq!(
        messages(json!({"tls": {"mode": "enabled"}})),
        [
            "spec.tls.mode: Unsupported value: \"enabled\": supported values: \"cert-manager\", \"disabled\""
        ]
    );
    assert_eq!(
        messages(json!({"topology": {"minSystemPrimaries": 4}})),
        ["spec.topology: Invalid value: minSystemPrimaries must not exceed servers"]
    );
    let unknown = of(Kind::Cluster).unknown_fields(&cluster(json!({"replicas": 3})));
    assert!(
        unknown[0]
            .message
            .starts_with("spec.replicas: unknown field"),
        "{unknown:?}"
    );
}

#[test]
fn blocking_errors_keep_the_cel_rules_from_running() {
    // A type error blocks the rules, as the API server does; a range error does not.
    let blocked = findings(
        Kind::Cluster,
        &cluster(json!({"topology": {"minSystemPrimaries": 4, "serverModeConstraint": 5}})),
        None,
    );
    assert_eq!(
        blocked,
        [(TYPE, "spec.topology.serverModeConstraint".to_string())]
    );
    let mut not_blocked = findings(
        Kind::Cluster,
        &cluster(json!({"topology": {"servers": 101, "minSystemPrimaries": 102}})),
        None,
    );
    not_blocked.sort();
    assert_eq!(
        not_blocked,
        [
            (RANGE, "spec.topology.servers".to_string()),
            (RULE, "spec.topology".to_string())
        ]
    );
}

#[test]
fn defaults_and_nulls_are_applied_as_the_api_server_does() {
    let s = synthetic();
    let mut o = object(
        Kind::Plugin,
        json!({"nothing": null, "maybe": null, "extra": 1}),
    );
    s.default(&mut o);
    assert_eq!(o["spec"], json!({"maybe": null, "level": "INFO"}));
    let mut o = object(Kind::Plugin, json!({"level": null}));
    s.default(&mut o);
    assert_eq!(o["spec"]["level"], "INFO");
}

#[test]
fn an_update_is_refused_only_for_what_it_changes() {
    // Stored before the schema had its ceiling: 101 servers and an unknown mode.
    let stored = cluster(json!({"topology": {"servers": 101, "serverModeConstraint": "LEADER"}}));
    let relabelled = {
        let mut o = stored.clone();
        o["metadata"]["labels"] = json!({"team": "graph"});
        o
    };
    assert!(findings(Kind::Cluster, &relabelled, Some(&stored)).is_empty());
    // Another field changed: the unchanged bad values still pass.
    let mut other = stored.clone();
    other["spec"]["config"] = json!({"db.transaction.timeout": "30s"});
    assert!(findings(Kind::Cluster, &other, Some(&stored)).is_empty());
    // The bad value itself changed to another bad value: refused.
    let mut worse = stored.clone();
    worse["spec"]["topology"]["servers"] = json!(102);
    assert_eq!(
        findings(Kind::Cluster, &worse, Some(&stored)),
        [(RANGE, "spec.topology.servers".to_string())]
    );
    // List items are matched by key in a keyed list only.
    let roles = |i: i64| json!({"topology": {"serverRoles": [{"serverIndex": 0, "modeConstraint": "PRIMARY"}, {"serverIndex": i, "modeConstraint": "BAD"}]}});
    let stored = cluster(roles(1));
    let mut moved = cluster(roles(1));
    moved["spec"]["topology"]["serverRoles"][0]["modeConstraint"] = json!("NONE");
    assert!(findings(Kind::Cluster, &moved, Some(&stored)).is_empty());
    assert_eq!(
        findings(Kind::Cluster, &cluster(roles(2)), Some(&stored)),
        [(
            ENUM,
            "spec.topology.serverRoles[1].modeConstraint".to_string()
        )]
    );
}

#[test]
fn every_cel_rule_of_every_crd_is_implemented() {
    let rules = cel_rules();
    assert!(rules.len() >= 8, "{rules:?}");
    let missing: Vec<_> = rules.iter().filter(|(_, _, ok)| !ok).collect();
    assert!(
        missing.is_empty(),
        "CEL rules without an implementation in schema/cel.rs: {missing:?}"
    );
}

#[test]
fn every_pattern_compiles_and_no_spec_field_asks_for_a_format_we_ignore() {
    for kind in Kind::ALL {
        let spec = of(kind)
            .root()
            .at("spec")
            .unwrap_or_else(|| panic!("{kind}: no spec"));
        spec.visit(&mut |n| {
            if let Some((p, re)) = &n.pattern {
                assert!(re.is_some(), "{kind}: pattern {p} does not compile");
            }
            // Of the string formats the API server checks, only date-time is checked here, so
            // no other may appear under spec. It checks no integer format (int32, int64).
            if let Some(f) = &n.format {
                assert!(
                    n.ty != compile::Type::String || f == "date-time",
                    "{kind}: a spec field has string format {f}"
                );
            }
        });
    }
}

fn holds(node: &Node, parent: Option<&Node>, field: &str, c: Constraint) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    match c {
        Constraint::Required => parent.is_some_and(|p| p.required.iter().any(|r| r == last)),
        Constraint::Enum => node.enumeration.is_some(),
        Constraint::Minimum(n) => node.minimum.is_some_and(|b| b.value == n),
        Constraint::Maximum(n) => node.maximum.is_some_and(|b| b.value == n),
        Constraint::Pattern => node.pattern.is_some(),
        Constraint::MaxLength(n) => node.max_length == Some(n),
        Constraint::MaxItems(n) => node.max_items == Some(n),
        Constraint::Rule(message) => node.rules.iter().any(|r| r.message == message),
    }
}

#[test]
fn the_catalogue_records_who_owns_each_duplicated_constraint() {
    let mut problems = Vec::new();
    for o in OWNERSHIP {
        if crate::catalog::get(o.rule).is_none() {
            problems.push(format!(
                "{}: rule {} is not in the catalogue",
                o.field, o.rule
            ));
        }
        for kind in o.kinds {
            let root = of(*kind).root();
            let Some(node) = root.at(o.field) else {
                problems.push(format!("{kind} has no field {}", o.field));
                continue;
            };
            let parent = o.field.rsplit_once('.').and_then(|(p, _)| root.at(p));
            let present = holds(node, parent, o.field, o.constraint);
            if present != (o.owner == Owner::Schema) {
                problems.push(format!(
                    "{kind} {}: {} is {} the schema, but the catalogue gives it to the {}",
                    o.field,
                    o.constraint.describe(),
                    if present { "in" } else { "not in" },
                    o.owner.as_str()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
