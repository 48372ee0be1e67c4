//! Size bounds of the CRD schemas: the `maxLength` of every free-form string, the `maxItems` of
//! every list and the `maxProperties` of every map of the six specs, so that the API server
//! itself refuses an absurd object (a cluster with 100,000 `spec.env` entries, a 3 MB config
//! value) before a webhook has to decode it, and so that the API server's cost estimate of the
//! CEL rules stays small.
//!
//! Every bound is generous: it is the limit Kubernetes, the OCI distribution specification or
//! Neo4j itself sets where there is one, and otherwise a multiple of the largest value a real
//! manifest holds, so that no real manifest is refused. A field whose value a webhook rule
//! checks against a tighter limit gets a schema bound no lower than the rule's, so the rule's
//! clearer message still reaches the user (`docs/rules.md`, "Schema or webhook: who refuses
//! what"). The reasons are summarised in `docs/design.md`, "Size bounds in the CRDs".
//!
//! Status fields have no bounds: the controller writes them, not the user, and a bound there
//! would turn an unusual but real state into a failed status write.
//!
//! Map keys carry no bound: a structural schema cannot bound property names without a CEL rule
//! per map, and `maxProperties` with the bounded values already caps the size of a map.

use schemars::Schema;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

/// The name of a Kubernetes object (Secret, ConfigMap, PVC, StorageClass, ServiceAccount,
/// issuer, one of our own kinds) or a DNS host name: a DNS-1123 subdomain has at most 253
/// characters. Keys of Secrets and ConfigMaps are bounded the same by Kubernetes.
pub const OBJECT_NAME_MAX: u32 = 253;
/// A Kubernetes label value, and a DNS-1123 label (container and port names): 63 characters.
pub const LABEL_VALUE_MAX: u32 = 63;
/// A label or annotation key used as a value (`topologyKey`): a qualified name, an optional
/// DNS-subdomain prefix (253), `/` and a name of 63 characters.
pub const QUALIFIED_NAME_MAX: u32 = 253 + 1 + 63;
/// An image repository or a whole image reference. The distribution reference grammar allows a
/// name of 255 characters (registry host and path included), a tag of 128 and a digest of 71
/// (`sha256:` and 64 hex digits): 255 + 1 + 128 + 1 + 71 = 456 for the longest pullable
/// reference, rounded up.
pub const IMAGE_MAX: u32 = 512;
/// An image tag: the OCI distribution specification allows 128 characters.
pub const IMAGE_TAG_MAX: u32 = 128;
/// A Neo4j database name: Neo4j allows 65 characters (`crate::cypher::DATABASE_NAME_MAX`, which
/// the webhook rules check). The bound of a backup's or restore's `spec.database`; a
/// Neo4jDatabase's `spec.name` has the looser [`TOKEN_MAX`], so that `database-name-max-len`
/// says what is wrong.
pub const DATABASE_NAME_MAX: u32 = 65;
/// One TLS key usage (`spec.tls.usages[]`): cert-manager's usage names have under 20
/// characters. The webhook rule `tls-usages-bounds` checks the same bound.
pub const TLS_USAGE_MAX: u32 = 64;
/// A short token: a duration (`2160h`), a quantity (`10Gi`), a version, a cron schedule, an
/// identifier, a provider or policy name the schema does not enumerate, an attribute or header
/// name, a CIDR. Real ones have tens of characters.
pub const TOKEN_MAX: u32 = 256;
/// A URL. 2,048 characters is the limit common HTTP clients, proxies and CDNs keep to, and the
/// one the plugin rules check (`plugin-url-https`).
pub const URL_MAX: u32 = 2048;
/// A file or object-store path: Linux's `PATH_MAX` is 4,096 bytes.
pub const PATH_MAX: u32 = 4096;
/// Free text Neo4j reads as one setting: an LDAP search filter or DN template, a metrics filter
/// (a list of regular expressions), an OIDC parameter list, a security policy. Real ones are
/// under 1 KiB.
pub const TEXT_MAX: u32 = 4096;
/// One command-line argument of a job container or of `neo4j-admin`: the same as [`TEXT_MAX`].
pub const ARG_MAX: u32 = TEXT_MAX;
/// One Cypher statement. Seeds and hooks are schema and a few rows; a statement longer than
/// 16 KiB is a data load, which belongs in a dump, CSV files or a ConfigMap
/// (`spec.initialData.configMapRef`).
pub const CYPHER_MAX: u32 = 16 * 1024;
/// One value of `spec.config` (a `neo4j.conf` setting). The longest real values are
/// `server.jvm.additional` (a dozen JVM flags, each under 200 characters),
/// `dbms.security.procedures.allowlist` (lists of procedure names) and
/// `dbms.security.ldap.authorization.group_to_role_mapping` (dozens of group DNs of ~100
/// characters each): a few KiB. 16 KiB leaves room for four times that.
pub const CONFIG_VALUE_MAX: u32 = 16 * 1024;
/// One annotation value. Kubernetes bounds the annotations of an object to 256 KiB in total;
/// a quarter of that for one value fits the JSON documents some controllers keep in
/// annotations.
pub const ANNOTATION_VALUE_MAX: u32 = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

/// Environment variables (`spec.env`): Kubernetes sets no limit, real manifests have tens.
pub const ENV_MAX_ITEMS: u32 = 1024;
/// Cypher statements of a seed or a restore hook: the same as [`ENV_MAX_ITEMS`].
pub const CYPHER_MAX_ITEMS: u32 = 1024;
/// Server role hints (`spec.topology.serverRoles`): one per server, and a cluster has at most
/// 100 servers (the schema's maximum of `spec.topology.servers`). The webhook rule
/// `cluster-server-roles-max-items` checks the same bound.
pub const SERVER_ROLES_MAX_ITEMS: u32 = 100;
/// TLS key usages (`spec.tls.usages`): cert-manager knows about twenty. The webhook rule
/// `tls-usages-bounds` checks the same bound.
pub const TLS_USAGES_MAX_ITEMS: u32 = 32;
/// Lists a manifest holds a handful of: providers, pull Secrets, availability zones, CA
/// Secrets, subject fields, group attributes, policies, plugin dependencies.
pub const FEW_ITEMS: u32 = 64;
/// Lists that may grow with the installation: tolerations, volumes, volume mounts, `envFrom`
/// sources, external-secret mappings, source ranges, procedure lists, command lines.
pub const MANY_ITEMS: u32 = 256;

// ---------------------------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------------------------

/// Settings maps (`spec.config` and the like): Neo4j documents about 350 settings (341 for 5.26,
/// 357 for the CalVer releases, `shared/data/neo4j-settings/`), so 1,024 entries hold all of them
/// and the per-provider ones (OIDC, LDAP) besides.
pub const CONFIG_MAX_PROPERTIES: u32 = 1024;
/// Label- and annotation-like maps (node selectors, Service and ServiceAccount annotations):
/// real ones have a few to a few tens of entries.
pub const LABELS_MAX_PROPERTIES: u32 = 256;
/// Maps keyed by a name the user picks (OIDC providers): a handful.
pub const FEW_PROPERTIES: u32 = 64;

/// Sets `maxProperties` on a map's schema and, when its values are strings, `maxLength` on them.
fn bounded_map(schema: &mut Schema, properties: u32, value_length: Option<u32>) {
    schema.insert("maxProperties".into(), Value::from(properties));
    if let Some(max) = value_length
        && let Some(values) = schema
            .get_mut("additionalProperties")
            .and_then(Value::as_object_mut)
    {
        values.insert("maxLength".into(), Value::from(max));
    }
}

/// `transform` of a `neo4j.conf` settings map: [`CONFIG_MAX_PROPERTIES`] entries of at most
/// [`CONFIG_VALUE_MAX`] characters.
pub fn config_map(schema: &mut Schema) {
    bounded_map(schema, CONFIG_MAX_PROPERTIES, Some(CONFIG_VALUE_MAX));
}

/// `transform` of a node selector: [`LABELS_MAX_PROPERTIES`] label values.
pub fn label_map(schema: &mut Schema) {
    bounded_map(schema, LABELS_MAX_PROPERTIES, Some(LABEL_VALUE_MAX));
}

/// `transform` of an annotations map: [`LABELS_MAX_PROPERTIES`] values of at most
/// [`ANNOTATION_VALUE_MAX`] characters.
pub fn annotation_map(schema: &mut Schema) {
    bounded_map(schema, LABELS_MAX_PROPERTIES, Some(ANNOTATION_VALUE_MAX));
}

/// `transform` of a group-to-role mapping (LDAP, OIDC): as many entries as a settings map,
/// each value a comma-separated list of roles.
pub fn role_mapping_map(schema: &mut Schema) {
    bounded_map(schema, CONFIG_MAX_PROPERTIES, Some(TEXT_MAX));
}

/// `transform` of a map keyed by a user-chosen name whose values are objects.
pub fn named_objects_map(schema: &mut Schema) {
    bounded_map(schema, FEW_PROPERTIES, None);
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::types::Kind;

    /// Subtrees of the specs whose schema is an embedded Kubernetes type (k8s-openapi), as the
    /// upstream API defines it: its own strings, lists and maps are left as Kubernetes has them
    /// (the API server bounds the objects they end up in). The list or map that holds them is
    /// ours and is bounded. A path names the node where the upstream type begins; `[]` steps
    /// into list items.
    const UPSTREAM: &[(&str, &[&str])] = &[
        ("corev1::Affinity", &["spec.affinity"]),
        (
            "corev1::ResourceRequirements",
            &[
                "spec.resources",
                "spec.mcp.resources",
                "spec.options.resources",
            ],
        ),
        (
            "corev1::PodSecurityContext and corev1::SecurityContext",
            &[
                "spec.securityContext.podSecurityContext",
                "spec.securityContext.containerSecurityContext",
                "spec.mcp.securityContext.podSecurityContext",
                "spec.mcp.securityContext.containerSecurityContext",
            ],
        ),
        (
            "corev1::EnvVar",
            &[
                "spec.env[]",
                "spec.mcp.env[]",
                "spec.options.preRestore.job.template.container.env[]",
                "spec.options.postRestore.job.template.container.env[]",
            ],
        ),
        ("corev1::EnvFromSource", &["spec.extraEnvFrom[]"]),
        ("corev1::Volume", &["spec.extraVolumes[]"]),
        ("corev1::VolumeMount", &["spec.extraVolumeMounts[]"]),
        ("corev1::Toleration", &["spec.tolerations[]"]),
        (
            "corev1::LocalObjectReference",
            &["spec.auraFleetManagement.provision.providerConfigRef"],
        ),
    ];

    fn upstream(path: &str) -> Option<&'static str> {
        UPSTREAM.iter().find_map(|(ty, roots)| {
            roots
                .iter()
                .any(|r| {
                    path == *r
                        || path
                            .strip_prefix(r)
                            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
                })
                .then_some(*ty)
        })
    }

    /// Every string, list and map under `node` that has no size bound, by path; the upstream
    /// subtrees met are added to `met`.
    fn unbounded(node: &Value, path: &str, met: &mut Vec<String>, out: &mut Vec<String>) {
        if upstream(path).is_some() {
            met.push(path.to_string());
            return;
        }
        let has = |key: &str| node.get(key).is_some();
        match node.get("type").and_then(Value::as_str) {
            // An enumeration bounds a string by itself, and so does the RFC 3339 format of a
            // time (`metav1::Time`, e.g. a restore's `pointInTime`).
            Some("string")
                if !has("maxLength")
                    && !has("enum")
                    && node.get("format").and_then(Value::as_str) != Some("date-time") =>
            {
                out.push(format!("{path}: string without maxLength"));
            }
            Some("array") if !has("maxItems") => out.push(format!("{path}: list without maxItems")),
            _ => {}
        }
        if let Some(items) = node.get("items") {
            unbounded(items, &format!("{path}[]"), met, out);
        }
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            for (name, child) in properties {
                unbounded(child, &format!("{path}.{name}"), met, out);
            }
        }
        if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
            if !has("maxProperties") {
                out.push(format!("{path}: map without maxProperties"));
            }
            unbounded(values, &format!("{path}.*"), met, out);
        }
    }

    fn spec_schema(kind: Kind) -> Value {
        let crd = serde_json::to_value(crate::crd::definition(kind)).unwrap_or_default();
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
    }

    /// The specs are what users write; `status` is the controller's and has no bounds (see the
    /// module documentation).
    #[test]
    fn every_string_list_and_map_of_every_spec_has_a_size_bound() {
        let (mut met, mut problems) = (Vec::new(), Vec::new());
        for kind in Kind::ALL {
            let spec = spec_schema(kind);
            assert!(spec.is_object(), "{kind}: no spec schema");
            let mut out = Vec::new();
            unbounded(&spec, "spec", &mut met, &mut out);
            problems.extend(out.into_iter().map(|p| format!("{kind} {p}")));
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // Every exemption is used, so that the list cannot outlive the fields it names.
        for (ty, roots) in UPSTREAM {
            for root in *roots {
                assert!(
                    met.iter().any(|m| m == root),
                    "{ty} at {root} is in no spec"
                );
            }
        }
    }

    #[test]
    fn the_walk_finds_an_unbounded_string_list_and_map() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "array", "items": {"type": "string", "maxLength": 1}},
                "c": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 1}},
                "d": {"type": "string", "enum": ["x"]},
                "env": {
                    "type": "array",
                    "maxItems": 1,
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}}
                }
            }
        });
        let (mut met, mut out) = (Vec::new(), Vec::new());
        unbounded(&schema, "spec", &mut met, &mut out);
        assert_eq!(
            out,
            [
                "spec.a: string without maxLength",
                "spec.b: list without maxItems",
                "spec.c: map without maxProperties"
            ]
        );
        assert_eq!(met, ["spec.env[]"]);
    }

    #[test]
    fn the_env_list_and_the_config_map_carry_the_documented_bounds() {
        for kind in [Kind::Cluster, Kind::Standalone] {
            let spec = spec_schema(kind);
            let props = &spec["properties"];
            assert_eq!(props["env"]["maxItems"], super::ENV_MAX_ITEMS, "{kind}");
            assert_eq!(
                props["config"]["maxProperties"],
                super::CONFIG_MAX_PROPERTIES,
                "{kind}"
            );
            assert_eq!(
                props["config"]["additionalProperties"]["maxLength"],
                super::CONFIG_VALUE_MAX,
                "{kind}"
            );
            assert_eq!(
                props["nodeSelector"]["additionalProperties"]["maxLength"],
                super::LABEL_VALUE_MAX,
                "{kind}"
            );
        }
    }
}
