//! How the official Neo4j image reads `NEO4J_*` environment variables (its
//! `docker-entrypoint.sh`, the same on 5.26 and CalVer), and where the operator puts settings
//! that are not Neo4j's own.
//!
//! The entrypoint turns every `NEO4J_<x>` variable except its own control variables into a
//! setting: drop `NEO4J_`, `_` → `.`, then `..` → `_` (so `__` stands for `_`), and writes it into
//! `$NEO4J_HOME/conf/neo4j.conf` — `apoc.*` into `apoc.conf` — unless the value is empty or the
//! name starts with a digit. `NEO4J_<x>_FILE` names a file whose content is the value of
//! `NEO4J_<x>`. Neo4j reads `$NEO4J_CONF/neo4j.conf`, and the operator points `NEO4J_CONF` at the
//! configuration it renders, so the entrypoint's file is never read: the operator renders these
//! settings itself (`render::conf`).

/// Variables the entrypoint reads itself and never turns into settings, plus the ones the
/// operator or the launcher set (`NEO4J_UDC_PACKAGING`, `NEO4J_CONF`), which are not settings
/// either.
pub const ENTRYPOINT_VARIABLES: [&str; 12] = [
    "NEO4J_ACCEPT_LICENSE_AGREEMENT",
    "NEO4J_AUTH",
    "NEO4J_AUTH_PATH",
    "NEO4J_DEBUG",
    "NEO4J_EDITION",
    "NEO4J_HOME",
    "NEO4J_PLUGINS",
    "NEO4J_SHA256",
    "NEO4J_TARBALL",
    "NEO4J_DEPRECATION_WARNING",
    "NEO4J_UDC_PACKAGING",
    "NEO4J_CONF",
];

/// What an environment variable of the Neo4j container means to the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvVar {
    /// Not `NEO4J_*`: the image leaves it alone.
    Other,
    /// One of [`ENTRYPOINT_VARIABLES`].
    EntryPoint,
    /// `NEO4J_<x>_FILE`: the setting `key`, whose value is the content of the file it names.
    File { key: String },
    /// `NEO4J_<x>`: the setting `key`.
    Setting { key: String },
}

/// The setting name the image derives from `NEO4J_<x>` (`None` for other names).
pub fn setting_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix("NEO4J_")?;
    // As the entrypoint's sed does: every `_` becomes `.`, then each `..` becomes `_`, left to
    // right (so `___` is `_.`).
    Some(rest.replace('_', ".").replace("..", "_"))
}

/// How the image treats the variable `name`.
pub fn classify(name: &str) -> EnvVar {
    if !name.starts_with("NEO4J_") {
        return EnvVar::Other;
    }
    if ENTRYPOINT_VARIABLES.contains(&name) {
        return EnvVar::EntryPoint;
    }
    if let Some(base) = name.strip_suffix("_FILE") {
        return match setting_key(base) {
            Some(key) if !ENTRYPOINT_VARIABLES.contains(&base) => EnvVar::File { key },
            // NEO4J_AUTH_FILE and the like feed an entrypoint variable.
            _ => EnvVar::EntryPoint,
        };
    }
    match setting_key(name) {
        Some(key) => EnvVar::Setting { key },
        None => EnvVar::Other,
    }
}

/// Where a setting goes: Neo4j's own settings into `neo4j.conf`; APOC's into `apoc.conf` (Neo4j 5
/// refuses `apoc.*` in neo4j.conf under strict validation and APOC reads `apoc.conf` next to
/// it); other plugins' settings stay in `neo4j.conf`, where the plugin declares them to Neo4j
/// when it is installed (and Neo4j refuses them when it is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    Neo4j,
    Apoc,
    /// A plugin's setting: the plugin's name.
    Plugin(&'static str),
}

/// Prefixes of plugin settings and the plugin that declares them.
const PLUGIN_PREFIXES: [(&str, &str); 6] = [
    ("gds.", "Graph Data Science"),
    ("dbms.bloom.", "Bloom"),
    ("genai.", "GenAI"),
    ("n10s.", "neosemantics (n10s)"),
    ("streams.", "Neo4j Streams"),
    ("kafka.", "the Kafka connector"),
];

pub fn namespace(key: &str) -> Namespace {
    if key.starts_with("apoc.") {
        return Namespace::Apoc;
    }
    PLUGIN_PREFIXES
        .iter()
        .find(|(prefix, _)| key.starts_with(prefix))
        .map_or(Namespace::Neo4j, |(_, plugin)| Namespace::Plugin(plugin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_translate_like_the_entrypoint() {
        for (name, key) in [
            (
                "NEO4J_server_memory_heap_max__size",
                "server.memory.heap.max_size",
            ),
            ("NEO4J_db_format", "db.format"),
            (
                "NEO4J_dbms_security_procedures_unrestricted",
                "dbms.security.procedures.unrestricted",
            ),
            ("NEO4J_a___b", "a_.b"),
            ("NEO4J_a____b", "a__b"),
            ("NEO4J_apoc_export_file_enabled", "apoc.export.file.enabled"),
        ] {
            assert_eq!(setting_key(name).as_deref(), Some(key), "{name}");
        }
        assert_eq!(setting_key("JAVA_OPTS"), None);
    }

    #[test]
    fn variables_are_classified() {
        assert_eq!(classify("JAVA_OPTS"), EnvVar::Other);
        assert_eq!(classify("NEO4J_AUTH"), EnvVar::EntryPoint);
        assert_eq!(classify("NEO4J_AUTH_FILE"), EnvVar::EntryPoint);
        assert_eq!(classify("NEO4J_UDC_PACKAGING"), EnvVar::EntryPoint);
        assert_eq!(
            classify("NEO4J_dbms_security_ldap_authorization_system__password_FILE"),
            EnvVar::File {
                key: "dbms.security.ldap.authorization.system_password".into()
            }
        );
        assert_eq!(
            classify("NEO4J_db_transaction_timeout"),
            EnvVar::Setting {
                key: "db.transaction.timeout".into()
            }
        );
    }

    #[test]
    fn namespaces() {
        assert_eq!(namespace("apoc.export.file.enabled"), Namespace::Apoc);
        assert_eq!(
            namespace("gds.enterprise.license_file"),
            Namespace::Plugin("Graph Data Science")
        );
        assert_eq!(
            namespace("dbms.bloom.license_file"),
            Namespace::Plugin("Bloom")
        );
        assert_eq!(namespace("dbms.memory.heap.max_size"), Namespace::Neo4j);
    }
}
