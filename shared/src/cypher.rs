//! The Cypher statements the operator runs against Neo4j, as fixed text plus parameters.
//!
//! No user value is ever spliced into statement text. The database name and every OPTIONS
//! value travel as parameters, bound by the Bolt client (`neo4j-controller cypher`); the only
//! values written into the text are the ones the grammar accepts nowhere else — the topology
//! counts and the default Cypher language — and those are integers and enum members checked
//! here again (the validator refuses them at admission first). OPTIONS keys come from the
//! operator's own allow-list spelling, never from the user's map key.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::types::Neo4jDatabaseSpec;

/// Neo4j database names as the operator accepts them (`^[a-zA-Z][a-zA-Z0-9.\-]*$`, ≤ 65): no
/// quote, backtick, `;`, `$`, space or line break can appear.
pub static DATABASE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-zA-Z][a-zA-Z0-9.\-]*$")
        .unwrap_or_else(|e| panic!("invalid built-in pattern: {e}"))
});
pub const DATABASE_NAME_MAX: usize = crate::types::bounds::DATABASE_NAME_MAX as usize;

/// Every statement of this module runs in a session on this database.
pub const SYSTEM_DATABASE: &str = "system";

/// The `CREATE DATABASE … OPTIONS` keys, in Neo4j's spelling (matched case-insensitively).
pub const OPTION_KEYS: [&str; 9] = [
    "seedConfig",
    "existingDataSeedServer",
    "existingData",
    "seedCredentials",
    "seedURI",
    "existingDataSeedInstance",
    "existingMetadata",
    "txLogEnrichment",
    "storeFormat",
];

/// A parameter value: the statements here only bind text and integers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Parameter {
    Integer(i64),
    Text(String),
}

/// A statement and its parameters, for a session on `database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub database: &'static str,
    pub text: String,
    pub parameters: BTreeMap<String, Parameter>,
}

impl Statement {
    /// The parameters as one JSON object (the form the Bolt client takes on its command line).
    pub fn parameters_json(&self) -> String {
        serde_json::to_string(&self.parameters).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Why a statement cannot be built: the spec holds a value admission refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CypherError {
    #[error("spec.name {0:?} is not a database name Neo4j accepts")]
    Name(String),
    #[error("spec.topology.{field} {value} is out of range")]
    Topology { field: &'static str, value: i32 },
    #[error("spec.defaultCypherLanguage {0:?} is neither \"5\" nor \"25\"")]
    Language(String),
    #[error("spec.options[{0}] is not a CREATE DATABASE option")]
    OptionKey(String),
}

/// Where the database is created: a cluster takes a topology, a standalone does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Cluster,
    Standalone,
}

/// The database name, checked again against Neo4j's naming rules.
fn checked_name(spec: &Neo4jDatabaseSpec) -> Result<String, CypherError> {
    let name = spec.name.clone().unwrap_or_default();
    if name.is_empty()
        || name.len() > DATABASE_NAME_MAX
        || !DATABASE_NAME.is_match(&name)
        || name.eq_ignore_ascii_case(SYSTEM_DATABASE)
    {
        return Err(CypherError::Name(name));
    }
    Ok(name)
}

/// `n PRIMARY` / `n PRIMARIES`; the grammar takes a literal count, so the integer is written.
fn count(n: i32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The canonical spelling of an OPTIONS key the user wrote (quotes trimmed, `.` read as `_`,
/// any case), or `None` when it is not an option.
pub fn option_key(user_key: &str) -> Option<&'static str> {
    let clean = user_key.trim_matches('"');
    let converted = clean.replace('.', "_");
    OPTION_KEYS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(clean) || k.eq_ignore_ascii_case(&converted))
}

/// `CREATE DATABASE $name [IF NOT EXISTS] [DEFAULT LANGUAGE CYPHER v] [TOPOLOGY …]
/// [OPTIONS {k: $opt_k, …}] WAIT|NOWAIT`.
///
/// OPTIONS: the user's keys in canonical spelling, then `seedURI` and `seedConfig` from their
/// spec fields (which win), `existingData: 'use'` whenever a seed URI is given and the user did
/// not choose (Cypher 5 requires it; Cypher 25 only deprecates it), sorted by key, and last
/// `seedRestoreUntil` (a transaction id as an integer, else a time through `datetime()`).
pub fn create_database(spec: &Neo4jDatabaseSpec, host: HostKind) -> Result<Statement, CypherError> {
    let name = checked_name(spec)?;
    let mut text = String::from("CREATE DATABASE $name");
    let mut parameters = BTreeMap::from([("name".to_string(), Parameter::Text(name))]);
    if spec.if_not_exists != Some(false) {
        text.push_str(" IF NOT EXISTS");
    }
    if let Some(lang) = spec.default_cypher_language.as_deref() {
        match lang {
            "5" | "25" => text.push_str(&format!(" DEFAULT LANGUAGE CYPHER {lang}")),
            other => return Err(CypherError::Language(other.to_string())),
        }
    }
    if host == HostKind::Cluster
        && let Some(t) = &spec.topology
    {
        let primaries = t.primaries.unwrap_or(1);
        let secondaries = t.secondaries.unwrap_or(0);
        if primaries < 1 {
            return Err(CypherError::Topology {
                field: "primaries",
                value: primaries,
            });
        }
        if secondaries < 0 {
            return Err(CypherError::Topology {
                field: "secondaries",
                value: secondaries,
            });
        }
        text.push_str(&format!(
            " TOPOLOGY {}",
            count(primaries, "PRIMARY", "PRIMARIES")
        ));
        if secondaries > 0 {
            text.push_str(&format!(
                " {}",
                count(secondaries, "SECONDARY", "SECONDARIES")
            ));
        }
    }

    let mut options: BTreeMap<&'static str, String> = BTreeMap::new();
    for (key, value) in spec.options.iter().flatten() {
        let canonical = option_key(key).ok_or_else(|| CypherError::OptionKey(key.clone()))?;
        options.insert(canonical, value.clone());
    }
    let seed_uri = spec.seed_uri.as_deref().filter(|u| !u.is_empty());
    if let Some(uri) = seed_uri {
        options.insert("seedURI", uri.to_string());
        options
            .entry("existingData")
            .or_insert_with(|| "use".into());
    }
    if let Some(config) = spec
        .seed_config
        .as_ref()
        .and_then(|c| c.config.as_ref())
        .filter(|c| !c.is_empty())
    {
        let joined: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        options.insert("seedConfig", joined.join(","));
    }
    let mut entries: Vec<String> = Vec::new();
    for (key, value) in options {
        let param = format!("opt_{key}");
        entries.push(format!("{key}: ${param}"));
        parameters.insert(param, Parameter::Text(value));
    }
    if let Some(until) = spec
        .seed_config
        .as_ref()
        .and_then(|c| c.restore_until.as_deref())
        .filter(|u| !u.is_empty())
    {
        let param = "opt_seedRestoreUntil".to_string();
        match until.strip_prefix("txId:").map(str::parse::<i64>) {
            Some(Ok(tx)) => {
                entries.push(format!("seedRestoreUntil: ${param}"));
                parameters.insert(param, Parameter::Integer(tx));
            }
            _ => {
                entries.push(format!("seedRestoreUntil: datetime(${param})"));
                parameters.insert(param, Parameter::Text(until.to_string()));
            }
        }
    }
    if !entries.is_empty() {
        text.push_str(&format!(" OPTIONS {{{}}}", entries.join(", ")));
    }
    text.push_str(if spec.wait == Some(false) {
        " NOWAIT"
    } else {
        " WAIT"
    });
    Ok(Statement {
        database: SYSTEM_DATABASE,
        text,
        parameters,
    })
}

/// `DROP DATABASE $name IF EXISTS WAIT`: a database that is already gone counts as dropped.
pub fn drop_database(spec: &Neo4jDatabaseSpec) -> Result<Statement, CypherError> {
    let name = checked_name(spec)?;
    Ok(Statement {
        database: SYSTEM_DATABASE,
        text: "DROP DATABASE $name IF EXISTS WAIT".to_string(),
        parameters: BTreeMap::from([("name".to_string(), Parameter::Text(name))]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> Neo4jDatabaseSpec {
        let mut base = json!({"clusterRef": "graph", "name": "orders"});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), v.as_object()) {
            for (k, val) in extra {
                b.insert(k.clone(), val.clone());
            }
        }
        let mut s: Neo4jDatabaseSpec = serde_json::from_value(base).expect("spec");
        crate::defaults::database(&mut s);
        s
    }

    fn params(s: &Statement) -> serde_json::Value {
        serde_json::from_str(&s.parameters_json()).expect("json")
    }

    #[test]
    fn plain_create_binds_the_name() {
        let s = create_database(&spec(json!({})), HostKind::Cluster).unwrap();
        assert_eq!(s.text, "CREATE DATABASE $name IF NOT EXISTS WAIT");
        assert_eq!(params(&s), json!({"name": "orders"}));
        assert_eq!(s.database, "system");
    }

    #[test]
    fn full_create_has_every_clause_in_grammar_order() {
        let s = create_database(
            &spec(json!({
                "ifNotExists": false, "wait": false, "defaultCypherLanguage": "25",
                "topology": {"primaries": 3, "secondaries": 1},
                "options": {"storeformat": "block", "\"txLogEnrichment\"": "DIFF"},
                "seedURI": "s3://bucket/orders.backup",
                "seedConfig": {"restoreUntil": "txId:42", "config": {"region": "eu-west-1", "a": "b"}}
            })),
            HostKind::Cluster,
        )
        .unwrap();
        assert_eq!(
            s.text,
            "CREATE DATABASE $name DEFAULT LANGUAGE CYPHER 25 TOPOLOGY 3 PRIMARIES 1 SECONDARY \
             OPTIONS {existingData: $opt_existingData, seedConfig: $opt_seedConfig, seedURI: $opt_seedURI, \
             storeFormat: $opt_storeFormat, txLogEnrichment: $opt_txLogEnrichment, \
             seedRestoreUntil: $opt_seedRestoreUntil} NOWAIT"
        );
        assert_eq!(
            params(&s),
            json!({"name": "orders", "opt_existingData": "use", "opt_seedConfig": "a=b,region=eu-west-1",
                "opt_seedURI": "s3://bucket/orders.backup", "opt_storeFormat": "block",
                "opt_txLogEnrichment": "DIFF", "opt_seedRestoreUntil": 42})
        );
    }

    #[test]
    fn seed_fields_win_and_existing_data_is_kept_when_chosen() {
        let s = create_database(
            &spec(
                json!({"options": {"seedURI": "s3://old/x.backup", "existingData": "fail"},
                "seedURI": "gs://new/x.backup",
                "seedConfig": {"restoreUntil": "2025-01-15T10:30:00Z"}}),
            ),
            HostKind::Standalone,
        )
        .unwrap();
        assert!(
            s.text
                .ends_with("seedRestoreUntil: datetime($opt_seedRestoreUntil)} WAIT"),
            "{}",
            s.text
        );
        let p = params(&s);
        assert_eq!(p["opt_seedURI"], "gs://new/x.backup");
        assert_eq!(p["opt_existingData"], "fail");
        assert_eq!(p["opt_seedRestoreUntil"], "2025-01-15T10:30:00Z");
    }

    #[test]
    fn standalone_ignores_topology_and_single_counts_are_singular() {
        let t = json!({"topology": {"primaries": 1, "secondaries": 2}});
        let standalone = create_database(&spec(t.clone()), HostKind::Standalone).unwrap();
        assert!(!standalone.text.contains("TOPOLOGY"));
        let cluster = create_database(&spec(t), HostKind::Cluster).unwrap();
        assert!(
            cluster
                .text
                .contains(" TOPOLOGY 1 PRIMARY 2 SECONDARIES WAIT"),
            "{}",
            cluster.text
        );
    }

    #[test]
    fn user_values_never_reach_the_text() {
        let nasty = "x'}) RETURN 1; DROP DATABASE neo4j //`$\n";
        let s = create_database(
            &spec(json!({"options": {"existingDataSeedServer": nasty}, "seedURI": format!("s3://b/{nasty}")})),
            HostKind::Cluster,
        )
        .unwrap();
        assert!(!s.text.contains("DROP"), "{}", s.text);
        assert!(!s.text.contains('\''), "{}", s.text);
        assert_eq!(params(&s)["opt_existingDataSeedServer"], nasty);
    }

    #[test]
    fn refuses_what_admission_refuses() {
        for (extra, want) in [
            (json!({"name": "a`b"}), CypherError::Name("a`b".to_string())),
            (
                json!({"name": "SYSTEM"}),
                CypherError::Name("SYSTEM".to_string()),
            ),
            (
                json!({"topology": {"primaries": 0}}),
                CypherError::Topology {
                    field: "primaries",
                    value: 0,
                },
            ),
            (
                json!({"defaultCypherLanguage": "4"}),
                CypherError::Language("4".to_string()),
            ),
            (
                json!({"options": {"dbFormat": "x"}}),
                CypherError::OptionKey("dbFormat".to_string()),
            ),
        ] {
            assert_eq!(
                create_database(&spec(extra.clone()), HostKind::Cluster),
                Err(want),
                "{extra}"
            );
        }
    }

    #[test]
    fn drop_binds_the_name_and_tolerates_absence() {
        let s = drop_database(&spec(json!({}))).unwrap();
        assert_eq!(s.text, "DROP DATABASE $name IF EXISTS WAIT");
        assert_eq!(params(&s), json!({"name": "orders"}));
    }
}
