//! `spec.auth`: provider names Neo4j accepts, LDAP and OIDC provider settings, the trust store,
//! and every auth string that is written into neo4j.conf kept on one line.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::fields::{blank, is_blank, single_line, single_line_map, single_lines};
use crate::types::{AuthSpec, Neo4jOIDCProviderSpec};
use crate::validate::{ItemPath, SubPath, item_path, key_path, regex, shown};
use crate::verdict::Verdict;

static OIDC_PROVIDER_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-zA-Z][a-zA-Z0-9-]*$"));

/// Provider names the reference operator accepts (`auth-provider-allowed`); `oidc-…` passes
/// unchecked.
const REFERENCE_PROVIDERS: [&str; 7] = [
    "native", "ldap", "oidc", "jwt", "kerberos", "saml", "custom",
];

/// `auth-provider-allowed`, `auth-provider-neo4j-names`, `auth-oidc-ref-exists`, the LDAP, OIDC
/// and trust-store rules, and `typed-conf-fields-single-line` for auth. Whether the admin Secret
/// exists is not checked: admission has no view of Secrets.
pub fn auth(a: &AuthSpec, v: &mut Verdict) {
    let oidc = a.oidc.as_ref();
    for (field, provider) in providers(a) {
        auth_provider(provider, &field, oidc, v);
    }
    if let Some(ldap) = &a.ldap {
        if is_blank(&ldap.host) {
            v.error(
                "auth-ldap-host-required",
                "spec.auth.ldap.host",
                "spec.auth.ldap.host is empty; give the LDAP server URL, e.g. ldaps://ldap.example.com:636",
            );
        }
        if let Some(authz) = &ldap.authorization
            && authz.use_system_account == Some(true)
            && blank(authz.system_account_secret_ref.as_deref())
        {
            v.error(
                "auth-ldap-system-account",
                "spec.auth.ldap.authorization.systemAccountSecretRef",
                "spec.auth.ldap.authorization.systemAccountSecretRef is empty, but useSystemAccount is true; name the Secret holding the system account, or set useSystemAccount: false",
            );
        }
    }
    for (name, p) in oidc.into_iter().flatten() {
        oidc_provider(name, p, v);
    }
    if let Some(ts) = &a.trust_store
        && is_blank(&ts.name)
    {
        v.error(
            "auth-truststore-name",
            "spec.auth.trustStore.name",
            "spec.auth.trustStore.name is empty; name the Secret holding the CA certificate",
        );
    }
    auth_single_line(a, v);
}

/// Every entry of `spec.auth.authenticationProviders`, then of `authorizationProviders`, with
/// its field path.
fn providers(a: &AuthSpec) -> impl Iterator<Item = (String, &str)> {
    [
        (
            &a.authentication_providers,
            "spec.auth.authenticationProviders",
        ),
        (
            &a.authorization_providers,
            "spec.auth.authorizationProviders",
        ),
    ]
    .into_iter()
    .flat_map(|(list, path)| {
        list.iter()
            .flatten()
            .enumerate()
            .map(move |(i, p)| (item_path(path, i, ""), p.as_str()))
    })
}

fn auth_provider(
    provider: &str,
    field: &str,
    oidc: Option<&BTreeMap<String, Neo4jOIDCProviderSpec>>,
    v: &mut Verdict,
) {
    // `plugin-<name>` is what Neo4j expects for custom providers; the reference's list lacks it,
    // which would leave the names Neo4j accepts (native, ldap, oidc-<name>, plugin-<name>)
    // unreachable.
    let prefixed = provider.starts_with("oidc-") || provider.starts_with("plugin-");
    if !prefixed && !REFERENCE_PROVIDERS.contains(&provider) {
        v.error(
            "auth-provider-allowed",
            field,
            format!(
                "{field} is {}; use native, ldap, oidc-<name> or plugin-<name>",
                shown(provider)
            ),
        );
        return;
    }
    let suffix = provider
        .strip_prefix("oidc-")
        .or_else(|| provider.strip_prefix("plugin-"));
    let plain_neo4j_name = provider == "native" || provider == "ldap";
    if (!prefixed && !plain_neo4j_name) || suffix.is_some_and(str::is_empty) {
        v.error(
            "auth-provider-neo4j-names",
            field,
            format!("{field} is {}, which Neo4j does not accept as a provider; use native, ldap, oidc-<name> or plugin-<name>", shown(provider)),
        );
        return;
    }
    if let Some(name) = provider.strip_prefix("oidc-")
        && !oidc.is_some_and(|o| o.contains_key(name))
    {
        v.error(
            "auth-oidc-ref-exists",
            field,
            format!("{field} is {}, but spec.auth.oidc has no provider {}; add spec.auth.oidc.{name} or remove the entry", shown(provider), shown(name)),
        );
    }
}

fn oidc_provider(name: &str, p: &Neo4jOIDCProviderSpec, v: &mut Verdict) {
    let base = key_path("spec.auth.oidc", name);
    if !OIDC_PROVIDER_NAME.is_match(name) {
        v.error(
            "auth-oidc-provider-name",
            &base,
            format!("spec.auth.oidc has a provider named {}; the name becomes part of a setting name, so start with a letter and use letters, digits and '-' only", shown(name)),
        );
    }
    if is_blank(&p.audience) {
        v.error(
            "auth-oidc-audience",
            format!("{base}.audience"),
            format!("{base}.audience is empty; give the expected JWT audience (usually the OIDC client ID)"),
        );
    }
    let endpoints = [&p.auth_endpoint, &p.token_endpoint, &p.jwks_uri, &p.issuer];
    if blank(p.well_known_discovery_uri.as_deref()) && endpoints.iter().all(|e| blank(e.as_deref()))
    {
        v.error(
            "auth-oidc-endpoints",
            format!("{base}.wellKnownDiscoveryURI"),
            format!("{base}.wellKnownDiscoveryURI is empty and no endpoint is given; set the discovery URI, or authEndpoint, tokenEndpoint, jwksURI and issuer by hand"),
        );
    }
    if let Some(flow) = p.auth_flow.as_deref()
        && flow != "pkce"
        && flow != "implicit"
    {
        v.error(
            "auth-oidc-auth-flow",
            format!("{base}.authFlow"),
            format!("{base}.authFlow is {}; use pkce or implicit", shown(flow)),
        );
    }
}

fn auth_single_line(a: &AuthSpec, v: &mut Verdict) {
    for (field, p) in providers(a) {
        single_line(&field, Some(p), v);
    }
    single_line("spec.auth.authCacheTTL", a.auth_cache_ttl.as_deref(), v);
    if let Some(l) = &a.ldap {
        single_line("spec.auth.ldap.host", Some(&l.host), v);
        if let Some(authn) = &l.authentication {
            single_lines(
                "spec.auth.ldap.authentication",
                &[
                    ("userDNTemplate", authn.user_dn_template.as_deref()),
                    ("attribute", authn.attribute.as_deref()),
                ],
                v,
            );
        }
        if let Some(z) = &l.authorization {
            let base = "spec.auth.ldap.authorization";
            single_lines(
                base,
                &[
                    ("userSearchBase", z.user_search_base.as_deref()),
                    ("userSearchFilter", z.user_search_filter.as_deref()),
                ],
                v,
            );
            for (i, attr) in z.group_membership_attributes.iter().flatten().enumerate() {
                single_line(
                    ItemPath(SubPath(&base, "groupMembershipAttributes"), i, ""),
                    Some(attr),
                    v,
                );
            }
            single_line_map(
                &format!("{base}.groupToRoleMapping"),
                z.group_to_role_mapping.as_ref(),
                v,
            );
            single_lines(
                base,
                &[
                    ("accessPermittedGroup", z.access_permitted_group.as_deref()),
                    (
                        "nestedGroupsSearchFilter",
                        z.nested_groups_search_filter.as_deref(),
                    ),
                ],
                v,
            );
        }
    }
    for (name, p) in a.oidc.iter().flatten() {
        let base = key_path("spec.auth.oidc", name);
        single_lines(
            &base,
            &[
                ("displayName", p.display_name.as_deref()),
                (
                    "wellKnownDiscoveryURI",
                    p.well_known_discovery_uri.as_deref(),
                ),
                ("authEndpoint", p.auth_endpoint.as_deref()),
                ("tokenEndpoint", p.token_endpoint.as_deref()),
                ("jwksURI", p.jwks_uri.as_deref()),
                ("userInfoURI", p.user_info_uri.as_deref()),
                ("issuer", p.issuer.as_deref()),
                ("audience", Some(p.audience.as_str())),
                ("authParams", p.auth_params.as_deref()),
                ("tokenParams", p.token_params.as_deref()),
                (
                    "claims.username",
                    p.claims.as_ref().and_then(|c| c.username.as_deref()),
                ),
                (
                    "claims.groups",
                    p.claims.as_ref().and_then(|c| c.groups.as_deref()),
                ),
            ],
            v,
        );
        single_line_map(
            &format!("{base}.groupToRoleMapping"),
            p.group_to_role_mapping.as_ref(),
            v,
        );
    }
}
