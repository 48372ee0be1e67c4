//! Rules of Neo4jDatabase (the `database-…` ids of `docs/rules.md`). `create` checks the object
//! alone (the name reaches Cypher as an identifier, so its grammar is enforced); `cross` checks
//! it against its host in the inventory: existence (a warning, since one `kubectl apply` may
//! create both in any order), the topology against the host's servers, and point-in-time
//! seeding against the host's version. The seed Secret's contents are the controller's.

use std::sync::LazyLock;

use regex::Regex;

use super::{
    DATABASE_NAME, DATABASE_NAME_MAX, InstanceRef, has_control_chars, key_path, regex,
    require_instance_ref, resolve_instance, set, shown,
};
use crate::cypher::OPTION_KEYS;
use crate::inventory::{InstanceKind, InstanceSummary, Inventory};
use crate::policy::Policy;
use crate::types::{DatabaseTopology, Kind, Neo4jDatabase, SeedConfiguration};
use crate::verdict::Verdict;
use crate::{defaults, version};

const SEED_SCHEMES: [&str; 6] = ["s3", "gs", "azb", "https", "http", "ftp"];
const DELETION_POLICIES: [&str; 2] = ["Retain", "Drop"];
/// The first CalVer release whose `CREATE DATABASE` takes `DEFAULT LANGUAGE CYPHER`.
const DEFAULT_LANGUAGE_SINCE: (i64, i64) = (2025, 6);
const STORE_FORMATS: [&str; 3] = ["standard", "high_limit", "block"];
const INITIAL_SOURCES: [&str; 3] = ["cypher", "dump", "csv"];

static SEED_CONFIG_KEY: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-zA-Z0-9._-]+$"));

const HOST: InstanceRef = InstanceRef {
    field: "spec.clusterRef",
    required: "database-cluster-ref-required",
    role: "that hosts the database",
    checks: "the host, and the topology against its servers",
    not_found: "database-host-exists",
    waiter: "database",
};

/// How the admission engine and the controller reach this kind: its defaults, then the rules
/// of this file.
impl Policy for Neo4jDatabase {
    const KIND: Kind = Kind::Database;
    fn apply_defaults(&mut self) {
        defaults::database(&mut self.spec);
    }
    fn create(&self) -> Verdict {
        create(self)
    }
    fn update(old: &Self, new: &Self) -> Verdict {
        update(old, new)
    }
    fn cross(&self, namespace: &str, inventory: &dyn Inventory) -> Verdict {
        cross(self, namespace, inventory)
    }
}

pub fn create(obj: &Neo4jDatabase) -> Verdict {
    let mut v = Verdict::default();
    let s = &obj.spec;
    require_instance_ref(&mut v, &s.cluster_ref, &HOST);
    not_implemented(&mut v, obj);
    if let Some(policy) = s.deletion_policy.as_deref()
        && !DELETION_POLICIES.contains(&policy)
    {
        v.error(
            "database-deletion-policy",
            "spec.deletionPolicy",
            format!(
                "{} is not a deletion policy; use Retain (keep the database) or Drop (DROP DATABASE on delete)",
                shown(policy)
            ),
        );
    }
    name(&mut v, set(&s.name));
    if let Some(t) = &s.topology {
        topology(&mut v, t);
    }
    if let Some(lang) = &s.default_cypher_language {
        match lang.as_str() {
            "25" => {}
            "5" => v.warn(
                "database-cypher-5",
                "spec.defaultCypherLanguage",
                "Cypher 5 is kept for compatibility; prefer \"25\" for new databases",
            ),
            other => v.error(
                "database-cypher-version",
                "spec.defaultCypherLanguage",
                format!(
                    "{} is not a Cypher version; use \"5\" or \"25\"",
                    shown(other)
                ),
            ),
        }
    }
    let seed_uri = set(&s.seed_uri);
    if let Some(uri) = seed_uri {
        seed(&mut v, obj, uri);
    }
    if let Some(cfg) = &s.seed_config {
        seed_config(&mut v, cfg);
    }
    if let Some(creds) = &s.seed_credentials
        && set(&creds.secret_ref).is_none()
    {
        v.error(
            "database-seed-credentials",
            "spec.seedCredentials.secretRef",
            "is empty; name the Secret with the seed credentials, or remove seedCredentials",
        );
    }
    options(&mut v, obj);
    if seed_uri.is_some() && s.initial_data.is_some() {
        v.error(
            "database-seed-vs-initial",
            "spec.seedURI",
            "seedURI and initialData are exclusive: the seed provides the data; remove one",
        );
        v.warn(
            "database-seed-initial-both",
            "spec.initialData",
            "is ignored while seedURI is set",
        );
    }
    if let Some(src) = s.initial_data.as_ref().and_then(|d| d.source.as_deref())
        && !INITIAL_SOURCES.contains(&src)
    {
        v.error(
            "database-initial-source",
            "spec.initialData.source",
            format!("{} is not a source; use cypher, dump or csv", shown(src)),
        );
    }
    v
}

/// Fields the database controller does not act on yet: accepted, kept, and named.
fn not_implemented(v: &mut Verdict, obj: &Neo4jDatabase) {
    let s = &obj.spec;
    if s.initial_data.is_some() {
        v.warn(
            "field-not-implemented",
            "spec.initialData",
            "is stored but not run by this operator version; load the data after the database is Ready",
        );
    }
    if s.seed_credentials.is_some() {
        v.warn(
            "field-not-implemented",
            "spec.seedCredentials",
            "is stored but not projected onto the servers by this operator version; give the servers the credentials through the host's extraEnvFrom",
        );
    }
}

/// The database name reaches Cypher as an identifier: its grammar is enforced, not escaped.
fn name(v: &mut Verdict, name: Option<&str>) {
    let Some(name) = name else {
        v.error(
            "database-name-required",
            "spec.name",
            "is empty; set the name of the database in Neo4j",
        );
        return;
    };
    if name.len() > DATABASE_NAME_MAX {
        v.error(
            "database-name-max-len",
            "spec.name",
            format!(
                "{} has {} characters; use at most {DATABASE_NAME_MAX}",
                shown(name),
                name.len()
            ),
        );
    }
    if !DATABASE_NAME.is_match(name) {
        v.error(
            "database-name-pattern",
            "spec.name",
            format!(
                "{} is not a database name: start with a letter, then letters, digits, '.' or '-'",
                shown(name)
            ),
        );
    }
    if name.eq_ignore_ascii_case("system") {
        v.error(
            "database-name-system",
            "spec.name",
            format!("{} is reserved by Neo4j; choose another name", shown(name)),
        );
    }
    if name.eq_ignore_ascii_case("neo4j") {
        v.warn(
            "database-name-neo4j",
            "spec.name",
            format!(
                "{} is the default database's name; this Neo4jDatabase manages that database",
                shown(name)
            ),
        );
    }
}

fn counts(t: &DatabaseTopology) -> (i64, i64) {
    (
        i64::from(t.primaries.unwrap_or(0)),
        i64::from(t.secondaries.unwrap_or(0)),
    )
}

fn topology(v: &mut Verdict, t: &DatabaseTopology) {
    let (p, s) = counts(t);
    if p < 1 {
        v.error(
            "database-topology-primaries",
            "spec.topology.primaries",
            format!("{p}: a database needs at least 1 primary"),
        );
    }
    if s < 0 {
        v.error(
            "database-topology-secondaries",
            "spec.topology.secondaries",
            format!("{s} is negative; set 0 or more"),
        );
    }
    if p >= 1 && s >= 0 {
        if s > 2 * p {
            v.warn(
                "database-secondary-ratio",
                "spec.topology.secondaries",
                format!("{s} secondaries for {p} primaries (more than 2 to 1) may slow writes; add primaries or drop secondaries"),
            );
        }
        if p == 1 && s > 3 {
            v.warn(
                "database-single-primary",
                "spec.topology.primaries",
                format!("1 primary serves every write for {s} secondaries; add primaries"),
            );
        }
    }
}

/// Checks the seed URI as the reference reads it (scheme, host, path), then warns about how it
/// will be read (the reference warns only about a usable URI).
fn seed(v: &mut Verdict, obj: &Neo4jDatabase, uri: &str) {
    if let Err(why) = check_seed_uri(uri) {
        v.error(
            "database-seed-uri",
            "spec.seedURI",
            format!("{} {why}", shown(uri)),
        );
        return;
    }
    let s = &obj.spec;
    if s.seed_credentials.is_none() {
        v.warn(
            "database-seed-system-auth",
            "spec.seedURI",
            "has no seedCredentials: the servers' own identity (workload identity, IAM role) must be able to read it",
        );
    }
    if s.seed_config
        .as_ref()
        .and_then(|c| set(&c.restore_until))
        .is_some()
    {
        v.warn(
            "database-restore-until",
            "spec.seedConfig.restoreUntil",
            "point-in-time seeding works only on Neo4j 2025.x and later with the CloudSeedProvider",
        );
    }
    if uri.ends_with(".dump") {
        v.warn(
            "database-seed-dump",
            "spec.seedURI",
            "seeds from a dump; a .backup file seeds large databases faster",
        );
    }
}

/// Why `uri` is not a seed URI: an unknown scheme, no host, or no path.
fn check_seed_uri(uri: &str) -> Result<(), String> {
    if let Some(c) = uri.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "holds {c:?}; a URI has no spaces or control characters"
        ));
    }
    let bytes = uri.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err("has a % not followed by two hex digits; escape it as %25".into());
        }
    }
    let unsupported = || {
        format!(
            "has no supported scheme; start it with one of {}",
            SEED_SCHEMES.map(|s| format!("{s}://")).join(", ")
        )
    };
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err(unsupported());
    };
    let scheme = scheme.to_ascii_lowercase();
    if !SEED_SCHEMES.contains(&scheme.as_str()) {
        return Err(unsupported());
    }
    let Some(rest) = rest.strip_prefix("//") else {
        return Err("has no host; write it as scheme://host/path".into());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() {
        return Err("has no host (bucket); write it as scheme://host/path".into());
    }
    let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    if path.is_empty() || path == "/" {
        return Err("has no path; name the backup or dump file after the host".into());
    }
    Ok(())
}

fn seed_config(v: &mut Verdict, cfg: &SeedConfiguration) {
    if let Some(until) = set(&cfg.restore_until)
        && !restore_until_ok(until)
    {
        v.error(
            "database-restore-until",
            "spec.seedConfig.restoreUntil",
            format!("{} is neither an RFC 3339 time (2025-01-15T10:30:00Z) nor a transaction (txId:12345)", shown(until)),
        );
    }
    for (key, value) in cfg.config.iter().flatten() {
        let field = key_path("spec.seedConfig.config", key);
        if !SEED_CONFIG_KEY.is_match(key) {
            v.error(
                "database-seed-config-key",
                field.clone(),
                format!(
                    "{} may hold only letters, digits, '.', '_' and '-'",
                    shown(key)
                ),
            );
        }
        if value.contains([',', '=', '\'', '`']) || has_control_chars(value) || value.contains('\t')
        {
            v.error(
                "database-seed-config-value",
                field,
                format!(
                    "{} may not hold ',', '=', quotes, backticks or control characters",
                    shown(value)
                ),
            );
        }
    }
}

/// `txId:<digits fitting a signed 64-bit integer>` or an RFC 3339 time.
fn restore_until_ok(s: &str) -> bool {
    match s.strip_prefix("txId:") {
        Some(tx) => {
            !tx.is_empty() && tx.bytes().all(|b| b.is_ascii_digit()) && tx.parse::<i64>().is_ok()
        }
        None => rfc3339(s),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with every part in range, as Go's RFC 3339
/// parser accepts it.
fn rfc3339(s: &str) -> bool {
    fn num(s: &str, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().filter(|n| range.contains(n))
    }
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || !s.is_ascii()
    {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (
        num(&s[0..4], 0..=9999),
        num(&s[5..7], 1..=12),
        num(&s[8..10], 1..=31),
    ) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > month_days
        || num(&s[11..13], 0..=23).is_none()
        || num(&s[14..16], 0..=59).is_none()
        || num(&s[17..19], 0..=59).is_none()
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &frac[digits..];
    }
    match rest.as_bytes() {
        [b'Z'] => true,
        [b'+' | b'-', _, _, b':', _, _] => {
            num(&rest[1..3], 0..=23).is_some() && num(&rest[4..6], 0..=59).is_some()
        }
        _ => false,
    }
}

fn options(v: &mut Verdict, obj: &Neo4jDatabase) {
    for (key, value) in obj.spec.options.iter().flatten() {
        let field = key_path("spec.options", key);
        let clean = key.trim_matches('"');
        let converted = clean.replace('.', "_");
        if clean.contains('.') {
            v.warn(
                "database-option-dotted-key",
                field.clone(),
                format!(
                    "{} holds '.', which OPTIONS keys cannot; it will be sent as {}",
                    shown(clean),
                    shown(&converted)
                ),
            );
        }
        if value.is_empty() {
            v.error(
                "database-option-value",
                field.clone(),
                "is empty; give the option a value or remove it",
            );
        }
        let Some(known) = OPTION_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&converted) || k.eq_ignore_ascii_case(clean))
        else {
            v.error(
                "database-option-key",
                field,
                format!(
                    "{} is not a CREATE DATABASE option; use one of {} (other settings belong in the server configuration)",
                    shown(clean),
                    OPTION_KEYS.join(", ")
                ),
            );
            continue;
        };
        match *known {
            "storeFormat" if !STORE_FORMATS.contains(&value.as_str()) => {
                v.error(
                    "database-option-store-format",
                    field,
                    format!(
                        "{} is not a store format; use standard, high_limit or block",
                        shown(value)
                    ),
                );
            }
            "txLogEnrichment" if !matches!(value.to_ascii_uppercase().as_str(), "OFF" | "DIFF") => {
                v.error(
                    "database-option-txlog",
                    field,
                    format!("{} is not supported; use OFF or DIFF", shown(value)),
                );
            }
            "existingData" if !matches!(value.as_str(), "use" | "fail") => {
                v.error(
                    "database-option-existing-data",
                    field,
                    format!("{} is not supported; use use or fail", shown(value)),
                );
            }
            "seedConfig" | "seedURI" => v.warn(
                "database-option-deprecated",
                field,
                format!("{known} in options is deprecated; set spec.{known} instead"),
            ),
            _ => {}
        }
    }
}

pub fn update(old: &Neo4jDatabase, new: &Neo4jDatabase) -> Verdict {
    let mut v = create(new);
    for (field, before, after, why) in [
        (
            "spec.name",
            &old.spec.name,
            &new.spec.name,
            "a database is never renamed; create another Neo4jDatabase",
        ),
        (
            "spec.clusterRef",
            &old.spec.cluster_ref,
            &new.spec.cluster_ref,
            "a database is never moved; create a Neo4jDatabase on the other host",
        ),
    ] {
        if before != after {
            v.error(
                "database-immutable-field",
                field,
                format!(
                    "cannot change from {} to {}: {why}",
                    shown(before.as_deref().unwrap_or_default()),
                    shown(after.as_deref().unwrap_or_default())
                ),
            );
        }
    }
    v
}

pub fn cross(obj: &Neo4jDatabase, namespace: &str, inventory: &dyn Inventory) -> Verdict {
    let mut v = Verdict::default();
    let Some((host, instance)) =
        resolve_instance(&mut v, inventory, namespace, &obj.spec.cluster_ref, &HOST)
    else {
        return v;
    };
    if let Some(until) = obj
        .spec
        .seed_config
        .as_ref()
        .and_then(|c| set(&c.restore_until))
        && let Some(tag) = instance.image_tag.as_deref()
        && version::parse_tag(tag).is_some_and(|ver| !ver.is_calver())
    {
        v.error(
            "database-restore-until",
            "spec.seedConfig.restoreUntil",
            format!(
                "{} needs Neo4j 2025.x or later, but {} runs {}; remove it or upgrade the host",
                shown(until),
                shown(host),
                shown(tag)
            ),
        );
    }
    if let Some(lang) = obj.spec.default_cypher_language.as_deref()
        && let Some(tag) = instance.image_tag.as_deref()
        && let Some(ver) = version::parse_tag(tag)
        && (ver.major, ver.minor) < DEFAULT_LANGUAGE_SINCE
    {
        v.error(
            "database-cypher-language-version",
            "spec.defaultCypherLanguage",
            format!(
                "{} sets DEFAULT LANGUAGE, which CREATE DATABASE takes from Neo4j 2025.06 on, but {} runs {}; remove it or upgrade the host",
                shown(lang),
                shown(host),
                shown(tag)
            ),
        );
    }
    if let Some(t) = &obj.spec.topology {
        host_topology(&mut v, t, host, &instance);
    }
    v
}

fn host_topology(v: &mut Verdict, t: &DatabaseTopology, host: &str, instance: &InstanceSummary) {
    let (p, s) = counts(t);
    if instance.kind == InstanceKind::Standalone {
        v.warn(
            "database-topology-standalone",
            "spec.topology",
            format!(
                "is ignored: {} is a standalone, which hosts every database on its one server",
                shown(host)
            ),
        );
        if s > 0 {
            v.warn(
                "database-secondaries-standalone",
                "spec.topology.secondaries",
                format!("{s} secondaries: a standalone has no read replicas"),
            );
        }
        return;
    }
    if p < 0 || s < 0 {
        return;
    }
    let (total, servers) = (p + s, instance.servers);
    if total > servers {
        v.error(
            "database-topology-capacity",
            "spec.topology",
            format!("{p} primaries + {s} secondaries need {total} servers, but {} has {servers}; lower the topology or add servers", shown(host)),
        );
    }
    if total == servers && servers >= 2 {
        v.warn(
            "database-topology-all-servers",
            "spec.topology",
            format!("uses all {servers} servers of {}, leaving none for databases with other topologies", shown(host)),
        );
    }
    let constraint = instance.server_mode_constraint.as_deref().unwrap_or("NONE");
    if constraint == "PRIMARY" && s > 0 {
        v.warn(
            "database-mode-conflict-primary",
            "spec.topology.secondaries",
            format!(
                "{} runs every server as PRIMARY: the {s} secondaries cannot serve reads",
                shown(host)
            ),
        );
    }
    if constraint == "SECONDARY" && p > 0 {
        v.warn(
            "database-mode-conflict-secondary",
            "spec.topology.primaries",
            format!("{} runs every server as SECONDARY: the {p} primaries may leave the database unwritable", shown(host)),
        );
    }
    if servers >= 3 && total < servers - 1 {
        v.warn(
            "database-underused-servers",
            "spec.topology",
            format!("uses {total} of the {servers} servers of {}; the other {} could add fault tolerance or reads", shown(host), servers - total),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::validate::testkit::{
        self, Case, Kind, NAMESPACE, Via, build, hit, inventory, manifest, miss, nasty_string, run,
        with,
    };

    fn base() -> Value {
        manifest(
            "Neo4jDatabase",
            "orders",
            json!({"clusterRef": "graph", "name": "orders"}),
        )
    }

    const KIND: Kind<Neo4jDatabase> = Kind {
        base,
        not_run_yet: false,
        defaults: |d| crate::defaults::database(&mut d.spec),
        create,
        update,
        cross,
        rules: || crate::catalog::coverage::kind(crate::types::Kind::Database),
    };

    /// A seed that raises no warning of its own.
    fn seeded(uri: &str) -> Value {
        json!({"seedURI": uri, "seedCredentials": {"secretRef": "seed-creds"}})
    }

    fn cases() -> Vec<Case> {
        use Via::*;
        let until = |u: &str| {
            with(
                seeded("s3://b/orders.backup"),
                json!({"seedConfig": {"restoreUntil": u}}),
            )
        };
        vec![
            hit("database-cluster-ref-required", json!({"clusterRef": null})),
            hit("database-cluster-ref-required", json!({"clusterRef": " "})),
            miss("database-cluster-ref-required", json!({"clusterRef": "solo"})),
            // Name.
            hit("database-name-required", json!({"name": null})),
            hit("database-name-required", json!({"name": ""})),
            miss("database-name-required", json!({"name": "a"})),
            hit("database-name-max-len", json!({"name": "a".repeat(66)})),
            miss("database-name-max-len", json!({"name": "a".repeat(65)})),
            hit("database-name-pattern", json!({"name": "1orders"})),
            hit("database-name-pattern", json!({"name": "orders_2024"})),
            hit("database-name-pattern", json!({"name": "o`; DROP DATABASE neo4j; //"})),
            hit("database-name-pattern", json!({"name": "o'rders"})),
            hit("database-name-pattern", json!({"name": "o\"rders"})),
            hit("database-name-pattern", json!({"name": "o`rders"})),
            hit("database-name-pattern", json!({"name": "orders;"})),
            hit("database-name-pattern", json!({"name": "orders$name"})),
            hit("database-name-pattern", json!({"name": "orders\nDROP"})),
            hit("database-name-pattern", json!({"name": "orders "})),
            miss("database-name-pattern", json!({"name": "sales.eu-1"})),
            // Deletion policy.
            hit("database-deletion-policy", json!({"deletionPolicy": "Delete"})),
            hit("database-deletion-policy", json!({"deletionPolicy": "drop"})),
            miss("database-deletion-policy", json!({"deletionPolicy": "Drop"})),
            miss("database-deletion-policy", json!({"deletionPolicy": null})),
            hit("database-name-system", json!({"name": "System"})),
            miss("database-name-system", json!({"name": "systemic"})),
            hit("database-name-neo4j", json!({"name": "NEO4J"})).warning(),
            miss("database-name-neo4j", json!({"name": "neo4j2"})),
            // Topology (local).
            hit("database-topology-primaries", json!({"topology": {}})),
            hit("database-topology-primaries", json!({"topology": {"primaries": 0, "secondaries": 1}})),
            hit("database-topology-primaries", json!({"topology": {"primaries": -1}})),
            miss("database-topology-primaries", json!({"topology": {"primaries": 1}})),
            hit("database-topology-secondaries", json!({"topology": {"primaries": 1, "secondaries": -1}})),
            miss("database-topology-secondaries", json!({"topology": {"primaries": 1, "secondaries": 0}})),
            hit("database-secondary-ratio", json!({"topology": {"primaries": 1, "secondaries": 3}})).warning(),
            miss("database-secondary-ratio", json!({"topology": {"primaries": 2, "secondaries": 4}})),
            hit("database-single-primary", json!({"topology": {"primaries": 1, "secondaries": 4}}))
                .errors(&[])
                .warnings(&["database-secondary-ratio", "database-single-primary"]),
            miss("database-single-primary", json!({"topology": {"primaries": 2, "secondaries": 4}})),
            // Cypher version.
            hit("database-cypher-version", json!({"defaultCypherLanguage": "4"})),
            hit("database-cypher-version", json!({"defaultCypherLanguage": ""})),
            miss("database-cypher-version", json!({"defaultCypherLanguage": "25"})),
            hit("database-cypher-5", json!({"defaultCypherLanguage": "5"})).warning(),
            miss("database-cypher-5", json!({"defaultCypherLanguage": "25"})),
            // Seed URI.
            hit("database-seed-uri", seeded("s3//bucket/orders.backup")),
            hit("database-seed-uri", seeded("file:///tmp/orders.backup")),
            hit("database-seed-uri", seeded("s3:///orders.backup")),
            hit("database-seed-uri", seeded("s3:bucket/orders.backup")),
            hit("database-seed-uri", seeded("s3://bucket")),
            hit("database-seed-uri", seeded("s3://bucket/")),
            hit("database-seed-uri", seeded("s3://bucket/?x=1")),
            hit("database-seed-uri", seeded("s3://bucket/%zz.backup")),
            hit("database-seed-uri", seeded("s3://bucket/a b.backup")),
            hit("database-seed-uri", json!({"seedURI": "s3://b/x\n.backup"})),
            miss("database-seed-uri", seeded("S3://bucket/orders.backup")),
            miss("database-seed-uri", seeded("https://user:pw@files.example.com:8443/seeds/orders.backup?sig=a%2Fb")),
            miss("database-seed-uri", seeded("azb://account.blob.core.windows.net/container/orders.backup")),
            hit("database-seed-system-auth", json!({"seedURI": "gs://bucket/orders.backup"})).warning(),
            miss("database-seed-system-auth", seeded("gs://bucket/orders.backup")),
            hit("database-seed-dump", seeded("https://host/orders.dump")).warning(),
            miss("database-seed-dump", seeded("https://host/orders.dump.backup")),
            hit("database-restore-until", until("2025-01-15T10:30:00Z")).warning(),
            hit("database-restore-until", until("2024-02-29T23:59:59.999+05:30")).warning(),
            hit("database-restore-until", until("txId:9223372036854775807")).warning(),
            hit("database-restore-until", until("yesterday")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("2025-02-29T00:00:00Z")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("2025-01-15 10:30:00Z")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("2025-01-15T24:00:00Z")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("2025-01-15T10:30:00+24:00")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("2025-01-15T10:30:00.Z")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("txId:9223372036854775808")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("txId:-1")).warnings(&["database-restore-until"]),
            hit("database-restore-until", until("txId:")).warnings(&["database-restore-until"]),
            hit("database-restore-until", json!({"seedConfig": {"restoreUntil": "soon"}})),
            miss("database-restore-until", seeded("s3://b/orders.backup")),
            miss("database-restore-until", json!({"seedConfig": {"restoreUntil": "txId:0"}})),
            // Seed configuration and credentials.
            hit("database-seed-config-key", json!({"seedConfig": {"config": {"bad key": "v"}}})),
            miss("database-seed-config-key", json!({"seedConfig": {"config": {"aws.region_1-x": "eu-west-1"}}})),
            hit("database-seed-config-value", json!({"seedConfig": {"config": {"region": "eu,west"}}})),
            hit("database-seed-config-value", json!({"seedConfig": {"config": {"region": "it's"}}})),
            hit("database-seed-config-value", json!({"seedConfig": {"config": {"region": "a=b"}}})),
            hit("database-seed-config-value", json!({"seedConfig": {"config": {"region": "a\nb"}}})),
            miss("database-seed-config-value", json!({"seedConfig": {"config": {"region": "eu-west-1"}}})),
            hit("database-seed-credentials", json!({"seedCredentials": {}})),
            hit("database-seed-credentials", json!({"seedCredentials": {"secretRef": ""}})),
            miss("database-seed-credentials", json!({"seedCredentials": {"secretRef": "creds"}})),
            // Options.
            hit("database-option-value", json!({"options": {"existingDataSeedServer": ""}})),
            hit("database-option-value", json!({"options": {"storeFormat": ""}})).errors(&["database-option-value", "database-option-store-format"]),
            miss("database-option-value", json!({"options": {"existingDataSeedServer": "server-1"}})),
            hit("database-option-key", json!({"options": {"dbFormat": "x"}})),
            hit("database-option-key", json!({"options": {"storeFormat\"; DROP": "block"}})),
            miss("database-option-key", json!({"options": {"\"ExistingDataSeedInstance\"": "abc", "existingMetadata": "use"}})),
            hit("database-option-store-format", json!({"options": {"storeFormat": "aligned"}})),
            miss("database-option-store-format", json!({"options": {"storeformat": "block"}})),
            hit("database-option-txlog", json!({"options": {"txLogEnrichment": "FULL"}})),
            miss("database-option-txlog", json!({"options": {"txLogEnrichment": "diff"}})),
            hit("database-option-existing-data", json!({"options": {"existingData": "USE"}})),
            miss("database-option-existing-data", json!({"options": {"existingData": "fail"}})),
            hit("database-option-dotted-key", json!({"options": {"store.format": "block"}})).errors(&["database-option-key"]).warnings(&["database-option-dotted-key"]),
            miss("database-option-dotted-key", json!({"options": {"storeFormat": "block"}})),
            hit("database-option-deprecated", json!({"options": {"seedURI": "s3://b/x.backup", "seedConfig": "region=eu"}}))
                .errors(&[])
                .warnings(&["database-option-deprecated", "database-option-deprecated"]),
            miss("database-option-deprecated", json!({"options": {"seedCredentials": "x"}})),
            // Seed against initial data.
            hit("database-seed-vs-initial", with(seeded("s3://b/x.backup"), json!({"initialData": {"source": "cypher"}})))
                .warnings(&["database-seed-initial-both"]),
            hit("database-seed-initial-both", with(seeded("s3://b/x.backup"), json!({"initialData": {}})))
                .errors(&["database-seed-vs-initial"])
                .warnings(&["database-seed-initial-both"]),
            miss("database-seed-vs-initial", json!({"initialData": {"source": "cypher", "cypherStatements": ["CREATE (:A)"]}})),
            miss("database-seed-initial-both", seeded("s3://b/x.backup")),
            hit("database-initial-source", json!({"initialData": {"source": "parquet"}})),
            miss("database-initial-source", json!({"initialData": {"source": "csv"}})),
            // Updates.
            hit("database-immutable-field", json!({"name": "sales"})).updated_from(json!({})),
            hit("database-immutable-field", json!({"clusterRef": "solo"})).updated_from(json!({})),
            hit("database-immutable-field", json!({"clusterRef": "solo", "name": "sales"}))
                .errors(&["database-immutable-field", "database-immutable-field"])
                .updated_from(json!({})),
            miss("database-immutable-field", json!({"wait": false, "topology": {"primaries": 1}})).updated_from(json!({})),
            miss("database-immutable-field", json!({})).updated_from(json!({})),
            // Cross checks.
            hit("database-host-exists", json!({"clusterRef": "nowhere"})).warning().via(Cross),
            miss("database-host-exists", json!({"clusterRef": "solo"})).via(Cross),
            hit("database-topology-capacity", json!({"topology": {"primaries": 2, "secondaries": 2}})).via(Cross),
            hit("database-topology-capacity", json!({"clusterRef": "old", "topology": {"primaries": 3}})).via(Cross),
            miss("database-topology-capacity", json!({"topology": {"primaries": 1, "secondaries": 1}})).via(Cross),
            miss("database-topology-capacity", json!({"topology": {"primaries": 2, "secondaries": -9}})).via(Cross),
            hit("database-topology-standalone", json!({"clusterRef": "solo", "topology": {"primaries": 1}})).warning().via(Cross),
            miss("database-topology-standalone", json!({"clusterRef": "solo"})).via(Cross),
            hit("database-secondaries-standalone", json!({"clusterRef": "solo", "topology": {"primaries": 1, "secondaries": 1}}))
                .errors(&[])
                .warnings(&["database-topology-standalone", "database-secondaries-standalone"])
                .via(Cross),
            miss("database-secondaries-standalone", json!({"clusterRef": "solo", "topology": {"primaries": 1, "secondaries": 0}}))
                .warnings(&["database-topology-standalone"])
                .via(Cross),
            hit("database-topology-all-servers", json!({"topology": {"primaries": 3}})).warning().via(Cross),
            miss("database-topology-all-servers", json!({"topology": {"primaries": 2}})).via(Cross),
            hit("database-mode-conflict-primary", json!({"clusterRef": "old", "topology": {"primaries": 1, "secondaries": 1}}))
                .errors(&[])
                .warnings(&["database-mode-conflict-primary", "database-topology-all-servers"])
                .via(Cross),
            miss("database-mode-conflict-primary", json!({"clusterRef": "old", "topology": {"primaries": 1}})).via(Cross),
            hit("database-mode-conflict-secondary", json!({"clusterRef": "duo", "topology": {"primaries": 1}})).warning().via(Cross),
            miss("database-mode-conflict-secondary", json!({"clusterRef": "graph", "topology": {"primaries": 2}})).via(Cross),
            hit("database-underused-servers", json!({"clusterRef": "big", "topology": {"primaries": 1, "secondaries": 1}})).warning().via(Cross),
            miss("database-underused-servers", json!({"clusterRef": "big", "topology": {"primaries": 3, "secondaries": 2}})).via(Cross),
            hit("database-restore-until", json!({"clusterRef": "solo", "seedConfig": {"restoreUntil": "txId:5"}})).via(Cross),
            hit("database-restore-until", json!({"clusterRef": "old", "seedConfig": {"restoreUntil": "2025-01-15T10:30:00Z"}})).via(Cross),
            miss("database-restore-until", json!({"seedConfig": {"restoreUntil": "txId:5"}})).via(Cross),
            hit("database-cypher-language-version", json!({"clusterRef": "old", "defaultCypherLanguage": "25"})).via(Cross),
            hit("database-cypher-language-version", json!({"clusterRef": "duo", "defaultCypherLanguage": "5"})).via(Cross),
            miss("database-cypher-language-version", json!({"defaultCypherLanguage": "25"})).via(Cross),
            miss("database-cypher-language-version", json!({"clusterRef": "old"})).via(Cross),
            hit("cross-check-skipped", json!({"topology": {"primaries": 9}})).warning().via(CrossBlind),
            miss("cross-check-skipped", json!({"clusterRef": null})).via(CrossBlind),
        ]
    }

    #[test]
    fn minimal_database_is_clean() {
        let d = build(&KIND, &json!({}), None);
        assert_eq!(create(&d), Verdict::default());
        assert_eq!(cross(&d, NAMESPACE, &inventory()), Verdict::default());
        assert_eq!(
            (
                d.spec.wait,
                d.spec.if_not_exists,
                d.spec.deletion_policy.as_deref()
            ),
            (Some(true), Some(true), Some("Retain")),
            "defaults ran"
        );
    }

    #[test]
    fn fields_the_controller_does_not_run_are_named() {
        let d = build(
            &KIND,
            &json!({"initialData": {"source": "cypher", "cypherStatements": ["CREATE (:A)"]},
                "seedURI": "s3://b/x.backup", "seedCredentials": {"secretRef": "creds"}}),
            None,
        );
        let verdict = create(&d);
        let notices: Vec<&str> = verdict
            .warnings
            .iter()
            .filter(|w| w.rule == "field-not-implemented")
            .map(|w| w.field.as_str())
            .collect();
        assert_eq!(notices, vec!["spec.initialData", "spec.seedCredentials"]);
    }

    #[test]
    fn database_rule_table() {
        run(&KIND, &cases());
    }

    #[test]
    fn option_findings_name_the_key() {
        let d = build(&KIND, &json!({"options": {"dbFormat": "x"}}), None);
        let v = create(&d);
        assert_eq!(v.errors[0].field, "spec.options[dbFormat]");
        assert!(v.errors[0].message.contains("\"dbFormat\""));
    }

    #[test]
    fn capacity_message_counts_servers() {
        let d = build(
            &KIND,
            &json!({"topology": {"primaries": 2, "secondaries": 2}}),
            None,
        );
        let v = cross(&d, NAMESPACE, &inventory());
        assert!(
            v.errors[0].message.contains("need 4 servers"),
            "{}",
            v.errors[0].message
        );
        assert!(
            v.errors[0].message.contains("has 3"),
            "{}",
            v.errors[0].message
        );
    }

    #[test]
    fn rfc3339_table() {
        for ok in [
            "2025-01-15T10:30:00Z",
            "2000-02-29T00:00:00Z",
            "2025-12-31T23:59:59.123456789-08:00",
        ] {
            assert!(rfc3339(ok), "{ok}");
        }
        for bad in [
            "1900-02-29T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-01-15T10:30:60Z",
            "2025-01-15t10:30:00z",
            "2025-1-15T10:30:00Z",
            "2025-01-15T10:30:00+0100",
            "",
        ] {
            assert!(!rfc3339(bad), "{bad}");
        }
    }

    fn rich() -> Value {
        manifest(
            "Neo4jDatabase",
            "orders",
            json!({
                "clusterRef": "graph", "name": "orders", "options": {"storeFormat": "block", "txLogEnrichment": "OFF"},
                "initialData": {"source": "cypher", "cypherStatements": ["CREATE (:A)"], "configMapRef": "cm", "secretRef": "s",
                    "storage": {"type": "s3", "bucket": "seed", "path": "x"}},
                "wait": true, "ifNotExists": true, "topology": {"primaries": 2, "secondaries": 1}, "defaultCypherLanguage": "25",
                "seedURI": "s3://seed/orders.backup",
                "seedConfig": {"restoreUntil": "2026-01-01T00:00:00Z", "config": {"region": "eu-west-1"}},
                "seedCredentials": {"secretRef": "seed-creds"}
            }),
        )
    }

    testkit::never_panic!(
        KIND,
        database_rules_never_panic_on_mutated_specs(rich()),
        database_rules_never_panic_on_arbitrary_specs(base()),
    );

    proptest::proptest! {
        #[test]
        fn seed_uri_and_restore_until_checks_never_panic(s in nasty_string()) {
            let _ = check_seed_uri(&s);
            let _ = restore_until_ok(&s);
            let _ = rfc3339(&s);
        }
    }
}
