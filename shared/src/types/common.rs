//! Types shared by more than one kind: the building blocks of the cluster and standalone specs
//! (image, storage, TLS, auth, service, monitoring, MCP, Aura Fleet Management, upgrade strategy),
//! the backup storage location used by backup / restore / database. The status types both
//! deployment kinds report are in `instance_status.rs`, re-exported here.
//!
//! Every field the reference operator's CRD schema declares is here under the same JSON name.
//! Everything a user may leave out is an `Option` (lists and maps included), so a manifest
//! deserializes and serializes back unchanged: an explicit `false`, `0` or `[]` survives, and
//! nothing the user did not write is invented. Defaults are applied by the defaulting code, not by
//! these types.
//!
//! Embedded Kubernetes types are always written with their module path (`corev1::…`, `metav1::…`):
//! [`ResourceRequirements`] here is the reference operator's own string-map type of that name, not
//! `k8s_openapi::api::core::v1::ResourceRequirements`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds;
pub use super::instance_status::*;

// ---------------------------------------------------------------------------------------------
// Image, storage, scheduling helpers
// ---------------------------------------------------------------------------------------------

/// The Neo4j container image.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// Image repository, e.g. `neo4j`. Required: the webhook refuses an empty one
    /// (`image-repo-required`), so the schema leaves it optional and the user sees that rule.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = bounds::IMAGE_MAX))]
    pub repo: String,
    /// Image tag, e.g. `5.26-enterprise` or `2025.01.0-enterprise`. Required: the webhook
    /// refuses an empty one (`image-tag-required`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = bounds::IMAGE_TAG_MAX))]
    pub tag: String,
    /// Image pull policy (default `IfNotPresent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub pull_policy: Option<String>,
    /// Names of image pull Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::OBJECT_NAME_MAX)))]
    pub pull_secrets: Option<Vec<String>>,
}

/// The MCP server's image. Unlike the Neo4j image (whose missing parts the webhook reports by
/// rule id), the schema requires both parts: no webhook rule checks them while the MCP server is
/// not run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MCPImageSpec {
    /// Image repository, e.g. `mcp/neo4j`.
    #[schemars(length(max = bounds::IMAGE_MAX))]
    pub repo: String,
    /// Image tag.
    #[schemars(length(max = bounds::IMAGE_TAG_MAX))]
    pub tag: String,
    /// Image pull policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub pull_policy: Option<String>,
    /// Names of image pull Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::OBJECT_NAME_MAX)))]
    pub pull_secrets: Option<Vec<String>>,
}

impl ImageSpec {
    /// Nothing given: the `spec.image` a manifest without one decodes to.
    pub fn is_unset(&self) -> bool {
        *self == ImageSpec::default()
    }
}

/// Storage of the data volume of each Neo4j server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageSpec {
    /// StorageClass of the data PVCs; omitted or empty means the cluster's default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub class_name: Option<String>,
    /// Size of each data PVC, e.g. `10Gi`. Required: the webhook refuses an empty one
    /// (`storage-size-required`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub size: String,
    /// What happens to the PVCs when the resource is deleted: `Retain` (default; the volumes
    /// and their data stay) or `Delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Delete", "Retain"]))]
    pub retention_policy: Option<String>,
}

impl StorageSpec {
    /// Nothing given: the `spec.storage` a manifest without one decodes to.
    pub fn is_unset(&self) -> bool {
        *self == StorageSpec::default()
    }
}

/// A Secret holding a PEM CA certificate that Neo4j-the-server trusts for outgoing TLS.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustedCASecret {
    /// Secret name; also the keytool alias, so unique within the list.
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub name: String,
    /// Key within the Secret (default `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub key: Option<String>,
}

/// Pod- and container-level security context overrides (e.g. for OpenShift SCCs).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContextSpec {
    /// Pod-level security settings for every Neo4j pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<corev1::PodSecurityContext>,
    /// Container-level security settings for the Neo4j containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_security_context: Option<corev1::SecurityContext>,
}

/// The reference operator's own resource-requirements type: plain string maps.
///
/// No field of any kind uses it (every `resources` field embeds the Kubernetes
/// `corev1::ResourceRequirements`); it is kept for parity with the reference API.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequirements {
    /// Resource limits, e.g. `{"cpu": "2", "memory": "4Gi"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<BTreeMap<String, String>>,
    /// Resource requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<BTreeMap<String, String>>,
}

// ---------------------------------------------------------------------------------------------
// TLS and external secrets
// ---------------------------------------------------------------------------------------------

/// TLS configuration of the Neo4j servers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TLSSpec {
    /// `cert-manager` (default) or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["cert-manager", "disabled"]))]
    pub mode: Option<String>,
    /// The cert-manager(-compatible) issuer; its name is required in `cert-manager` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_ref: Option<IssuerRef>,
    /// Manual certificate configuration: name of an existing TLS Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub certificate_secret: Option<String>,
    /// Secret with a trusted CA certificate (key `ca.crt`) to verify Neo4j TLS connections.
    #[serde(rename = "trustedCASecret")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub trusted_ca_secret: Option<String>,
    /// External Secrets Operator configuration for the TLS certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_secrets: Option<ExternalSecretsConfig>,
    /// Certificate duration, e.g. `2160h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub duration: Option<String>,
    /// Renew the certificate this long before it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub renew_before: Option<String>,
    /// Additional certificate subject fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<CertificateSubject>,
    /// Certificate key usages; when set they must include `server auth` and `client auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TLS_USAGES_MAX_ITEMS), inner(length(max = bounds::TLS_USAGE_MAX)))]
    pub usages: Option<Vec<String>>,
    /// Strict intra-cluster peer validation (mutual TLS, trust only the issuer CA); default true.
    /// No effect on a standalone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict_peer_validation: Option<bool>,
}

/// Certificate subject fields.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSubject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub organizations: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub countries: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub organizational_units: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub localities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub provinces: Option<Vec<String>>,
}

/// A reference to a cert-manager-compatible issuer (standard or external issuers).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRef {
    /// Issuer name.
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub name: String,
    /// Issuer kind (default `ClusterIssuer`), or the kind of an external issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub kind: Option<String>,
    /// Issuer API group (cert-manager.io when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub group: Option<String>,
}

/// External Secrets Operator integration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretsConfig {
    /// Enable the integration (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The SecretStore or ClusterSecretStore to read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_store_ref: Option<SecretStoreRef>,
    /// Refresh interval (default `1h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub refresh_interval: Option<String>,
    /// Data mapping from the external store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS))]
    pub data: Option<Vec<ExternalSecretData>>,
}

/// A reference to an External Secrets SecretStore or ClusterSecretStore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretStoreRef {
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub name: String,
    /// `SecretStore` (default) or `ClusterSecretStore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub kind: Option<String>,
}

/// One key mapped from the external secret store.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretData {
    /// Key in the resulting Kubernetes Secret.
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub secret_key: String,
    /// Where the value lives in the external store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ref: Option<ExternalSecretRemoteRef>,
}

/// A reference to a secret in the external store.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretRemoteRef {
    #[schemars(length(max = bounds::PATH_MAX))]
    pub key: String,
    /// Property within the secret (for JSON/YAML secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub property: Option<String>,
    /// Version of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub version: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Authentication and authorization
// ---------------------------------------------------------------------------------------------

/// Authentication and authorization: providers, admin secret, LDAP, OIDC, truststore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// Ordered authentication providers: `native`, `ldap`, `oidc-<name>`, `kerberos`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub authentication_providers: Option<Vec<String>>,
    /// Ordered authorization providers: `native`, `ldap`, `oidc-<name>`, `kerberos`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub authorization_providers: Option<Vec<String>>,
    /// Secret with the initial admin credentials (keys `username`, `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub admin_secret: Option<String>,
    /// External Secrets configuration for the auth secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_secrets: Option<ExternalSecretsConfig>,
    /// LDAP authentication and authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap: Option<Neo4jLDAPSpec>,
    /// OIDC/SSO providers keyed by provider name (`dbms.security.oidc.<name>.*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::named_objects_map)]
    pub oidc: Option<BTreeMap<String, Neo4jOIDCProviderSpec>>,
    /// `dbms.security.auth_cache_ttl`, e.g. `10m`.
    #[serde(rename = "authCacheTTL")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub auth_cache_ttl: Option<String>,
    /// Legacy single CA Secret for LDAPS/OIDC (superseded by `trustedCASecrets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_store: Option<SecretKeyRef>,
}

/// LDAP configuration (`dbms.security.ldap.*`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jLDAPSpec {
    /// LDAP server URL, e.g. `ldaps://ldap.example.com:636`.
    #[schemars(length(max = bounds::URL_MAX))]
    pub host: String,
    /// STARTTLS on the connection; defaults to true for `ldap://` hosts.
    #[serde(rename = "useStartTLS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_start_tls: Option<bool>,
    /// How users authenticate against LDAP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<LDAPAuthenticationSpec>,
    /// How roles and groups are resolved from LDAP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<LDAPAuthorizationSpec>,
    /// Debug-level logging of LDAP group lookups (not for production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_group_logging: Option<bool>,
}

/// LDAP authentication settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LDAPAuthenticationSpec {
    /// DN template for binding users, `{0}` being the username.
    #[serde(rename = "userDNTemplate")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub user_dn_template: Option<String>,
    /// Look the user up by attribute instead of binding with the DN template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_for_attribute: Option<bool>,
    /// Attribute searched when `searchForAttribute` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub attribute: Option<String>,
    /// Cache LDAP authentication results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_enabled: Option<bool>,
}

/// LDAP authorization (group / role lookup) settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LDAPAuthorizationSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub user_search_base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub user_search_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub group_membership_attributes: Option<Vec<String>>,
    /// LDAP group DN to comma-separated Neo4j roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::role_mapping_map)]
    pub group_to_role_mapping: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub access_permitted_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_system_account: Option<bool>,
    /// Secret with the LDAP system account (`username` = full DN, `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub system_account_secret_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested_groups_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub nested_groups_search_filter: Option<String>,
}

/// One OIDC/SSO provider (`dbms.security.oidc.<name>.*`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Neo4jOIDCProviderSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub display_name: Option<String>,
    /// OIDC discovery endpoint; or set the endpoints below by hand.
    #[serde(rename = "wellKnownDiscoveryURI")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub well_known_discovery_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub auth_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub token_endpoint: Option<String>,
    #[serde(rename = "jwksURI")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub jwks_uri: Option<String>,
    #[serde(rename = "userInfoURI")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub user_info_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub issuer: Option<String>,
    /// Expected JWT `aud` claim (typically the OIDC client ID).
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub audience: String,
    /// `pkce` (default) or `implicit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub auth_flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<OIDCClaimsSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_groups_from_user_info: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_username_from_user_info: Option<bool>,
    /// IdP group to comma-separated Neo4j roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::role_mapping_map)]
    pub group_to_role_mapping: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub auth_params: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub token_params: Option<String>,
}

/// The JWT claims used for the username and the groups.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OIDCClaimsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub groups: Option<String>,
}

/// A key within a Kubernetes Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub name: String,
    /// Key within the Secret; the default depends on where the reference is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub key: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Service exposure
// ---------------------------------------------------------------------------------------------

/// The front-facing Service and its optional Ingress / OpenShift Route.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `ClusterIP` (default), `NodePort` or `LoadBalancer`.
    #[serde(rename = "type")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ClusterIP", "NodePort", "LoadBalancer"]))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::annotation_map)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(rename = "loadBalancerIP")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub load_balancer_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub load_balancer_source_ranges: Option<Vec<String>>,
    /// `Cluster` or `Local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Cluster", "Local"]))]
    pub external_traffic_policy: Option<String>,
    /// Public DNS name: external-dns annotation and an extra certificate SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    /// OpenShift only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteSpec>,
}

/// Ingress configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::annotation_map)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub tls_secret_name: Option<String>,
}

/// OpenShift Route configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Hostname (generated by OpenShift when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub host: Option<String>,
    /// Path (default `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::PATH_MAX))]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::annotation_map)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RouteTLSSpec>,
    /// Target port on the Service (default 7474).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<i32>,
}

/// TLS options of an OpenShift Route.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteTLSSpec {
    /// `edge`, `reencrypt` or `passthrough`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub termination: Option<String>,
    /// `None`, `Allow` or `Redirect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub insecure_edge_termination_policy: Option<String>,
    /// Secret with the certificate (reencrypt / passthrough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub secret_name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Backup storage location (Neo4jBackup, Neo4jRestore, Neo4jDatabase)
// ---------------------------------------------------------------------------------------------

/// Where backups live: a bucket in S3 / GCS / Azure, or a PVC.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageLocation {
    /// `s3`, `gcs`, `azure` or `pvc`.
    #[serde(rename = "type")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::PATH_MAX))]
    pub path: Option<String>,
    /// PVC configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<PVCSpec>,
    /// Cloud provider configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudBlock>,
}

/// A backup PVC: an existing one by name, or one to create.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PVCSpec {
    /// Name of an existing PVC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub storage_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub size: Option<String>,
}

/// Cloud provider configuration of a storage location.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudBlock {
    /// `aws`, `gcp` or `azure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<CloudIdentity>,
    /// Secret with cloud credentials as environment variables (optional with workload identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub credentials_secret_ref: Option<String>,
    /// S3 endpoint override for S3-compatible stores (MinIO, Ceph RGW, R2); `aws` only.
    #[serde(rename = "endpointURL")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub endpoint_url: Option<String>,
    /// Path-style S3 addressing; only with `endpointURL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_path_style: Option<bool>,
}

/// Cloud identity (IRSA / Workload Identity / Managed Identity) of backup and restore Jobs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudIdentity {
    /// `aws`, `gcp` or `azure`.
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub provider: String,
    /// Reserved; currently a no-op in the reference operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_create: Option<AutoCreateSpec>,
}

/// Auto-creation of the backup / restore ServiceAccount.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoCreateSpec {
    /// Reserved; the ServiceAccount is always ensured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Annotations for the ServiceAccount, e.g. `eks.amazonaws.com/role-arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::annotation_map)]
    pub annotations: Option<BTreeMap<String, String>>,
}

// ---------------------------------------------------------------------------------------------
// Audit, network policy, monitoring
// ---------------------------------------------------------------------------------------------

/// Compliance-oriented logging (security log and query log content).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditSpec {
    /// Opt into compliance defaults (`obfuscateQueryLiterals` true when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `dbms.security.log_successful_authentication`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_successful_authentication: Option<bool>,
    /// `db.logs.query.obfuscate_literals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obfuscate_query_literals: Option<bool>,
    /// `db.logs.query.parameter_logging_enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_logging: Option<bool>,
}

/// Emission of a NetworkPolicy restricting ingress to the server pods.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    /// Emit the NetworkPolicy (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Monitoring, metrics and query logging.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringSpec {
    /// Enable query monitoring (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `db.logs.query.threshold` (default `5s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub slow_query_threshold: Option<String>,
    /// Log query plans (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain_plan: Option<bool>,
    /// `OFF`, `INFO` (default) or `VERBOSE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["OFF", "INFO", "VERBOSE"]))]
    pub query_log_level: Option<String>,
    /// Obfuscate literals in the query log (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obfuscate_literals: Option<bool>,
    /// `server.metrics.filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TEXT_MAX))]
    pub metrics_filter: Option<String>,
    /// `server.metrics.prefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub metrics_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<QuerySamplingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_export: Option<QueryMetricsExportConfig>,
}

/// Query sampling.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuerySamplingConfig {
    /// Decimal between 0 and 1, e.g. `0.5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub rate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queries_per_second: Option<i32>,
}

/// Metrics export.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryMetricsExportConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::URL_MAX))]
    pub custom_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub interval: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Aura Fleet Management
// ---------------------------------------------------------------------------------------------

/// Neo4j Aura Fleet Management integration. At most one of `provision` and `tokenSecretRef`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuraFleetManagementSpec {
    /// Install the pre-bundled fleet-management plugin and register the token (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Secret with the registration token (key default `token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret_ref: Option<SecretKeyRef>,
    /// Let the operator register the deployment and mint the token (beta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision: Option<AuraFleetProvisionSpec>,
}

/// Operator-driven Fleet Manager onboarding. Exactly one of `providerConfigRef` and
/// `credentialsSecretRef`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuraFleetProvisionSpec {
    /// An AuraProviderConfig in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_config_ref: Option<corev1::LocalObjectReference>,
    /// Aura API credentials, when no AuraProviderConfig is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<AuraCredentialsSecretRef>,
    #[serde(rename = "organizationId")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub organization_id: Option<String>,
    #[serde(rename = "projectId")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub project_id: Option<String>,
    /// Name in Fleet Manager (at most 30 characters; default `<namespace>-<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub deployment_name: Option<String>,
    /// Secret the minted token is written to (default `<name>-aura-fleet-token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub token_secret_name: Option<String>,
    /// `CreateIfMissing` (default) or `Rotate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub token_policy: Option<String>,
    /// `Orphan` (default) or `Delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub deletion_policy: Option<String>,
    /// Allowed actions: `Observe`, `Create`, `Delete`, `*` (default `["*"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::FEW_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub management_policies: Option<Vec<String>>,
    /// Mirror Aura's view of servers and databases into status (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect_telemetry: Option<bool>,
}

/// A Secret with Aura API client credentials.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuraCredentialsSecretRef {
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub name: String,
    /// Key of the OAuth client ID (default `clientId`).
    #[serde(rename = "clientIdKey")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub client_id_key: Option<String>,
    /// Key of the OAuth client secret (default `clientSecret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub client_secret_key: Option<String>,
}

/// Registration state of the Aura Fleet Management plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuraFleetManagementStatus {
    /// True once Aura acknowledged the token registration.
    pub registered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_registration_time: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<bool>,
    #[serde(rename = "deploymentId")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_creation_time: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expiry_time: Option<metav1::Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_auto_rotate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<AuraFleetServerStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<AuraFleetDatabaseStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_error: Option<String>,
}

/// Aura Fleet Manager's view of one DBMS server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuraFleetServerStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ping: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
}

/// Aura Fleet Manager's view of one database as reported by one server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuraFleetDatabaseStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "serverId")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_committed_txn: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_lag: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_shards: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_shards: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// MCP server (mcp_types.go)
// ---------------------------------------------------------------------------------------------

/// A Neo4j MCP server (official `mcp/neo4j` image) next to the deployment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MCPServerSpec {
    /// Deploy the MCP server (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Image (default `mcp/neo4j:latest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<MCPImageSpec>,
    /// `http` (default) or `stdio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub transport: Option<String>,
    /// Disable the write tool (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// Default database for MCP queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub database: Option<String>,
    /// Sample size of get-schema; -1 samples the whole graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_sample_size: Option<i32>,
    /// Anonymous usage telemetry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<bool>,
    /// `debug` … `emergency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub log_level: Option<String>,
    /// `text` or `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub log_format: Option<String>,
    /// HTTP settings (transport `http` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<MCPHTTPConfig>,
    /// Credentials override (transport `stdio` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<MCPAuthSpec>,
    /// Number of MCP pods (HTTP mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Resources of the MCP pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<corev1::ResourceRequirements>,
    /// Environment variables of the MCP pods (operator-managed names are ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::ENV_MAX_ITEMS))]
    pub env: Option<Vec<corev1::EnvVar>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContextSpec>,
}

/// HTTP transport settings of the MCP server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MCPHTTPConfig {
    /// Bind address (default `0.0.0.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub host: Option<String>,
    /// Bind port (default 8080, or 8443 with TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Container-level TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<MCPTLSSpec>,
    /// Header carrying the credentials (default `Authorization`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub auth_header_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<MCPServiceSpec>,
}

/// Container-level TLS of the MCP HTTP server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MCPTLSSpec {
    /// A `kubernetes.io/tls` Secret.
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub secret_name: String,
    /// Default `tls.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub cert_key: Option<String>,
    /// Default `tls.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub key_key: Option<String>,
}

/// Service exposure of the MCP HTTP server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MCPServiceSpec {
    /// `ClusterIP` (default), `NodePort` or `LoadBalancer`.
    #[serde(rename = "type")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = bounds::annotation_map)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(rename = "loadBalancerIP")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub load_balancer_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::MANY_ITEMS), inner(length(max = bounds::TOKEN_MAX)))]
    pub load_balancer_source_ranges: Option<Vec<String>>,
    /// `Cluster` or `Local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub external_traffic_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteSpec>,
}

/// Credentials override of the MCP server in stdio mode.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MCPAuthSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub secret_name: Option<String>,
    /// Default `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub username_key: Option<String>,
    /// Default `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::OBJECT_NAME_MAX))]
    pub password_key: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Upgrades
// ---------------------------------------------------------------------------------------------

/// How version upgrades are rolled out.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStrategySpec {
    /// `RollingUpgrade` (default) or `Recreate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["RollingUpgrade", "Recreate"]))]
    pub strategy: Option<String>,
    /// Check cluster health before upgrading (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_upgrade_health_check: Option<bool>,
    /// Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable_during_upgrade: Option<i32>,
    /// Timeout of each rolling step (default `30m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub upgrade_timeout: Option<String>,
    /// Check cluster health after upgrading (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_upgrade_health_check: Option<bool>,
    /// Default `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub health_check_timeout: Option<String>,
    /// Default `3m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = bounds::TOKEN_MAX))]
    pub stabilization_timeout: Option<String>,
    /// Pause for manual intervention on failure (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_pause_on_failure: Option<bool>,
}
