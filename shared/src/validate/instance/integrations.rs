//! The optional side services: the MCP server (transport, ports, Secrets) and Aura fleet
//! management (a registration token or provisioning, never both, with one source of credentials).

use super::fields::{MCP_LOG_LEVELS, blank, enum_check, is_blank, service_enums};
use crate::types::{AuraFleetManagementSpec, MCPServerSpec};
use crate::validate::{ItemPath, SubPath, shown};
use crate::verdict::Verdict;

fn port_out_of_range(port: Option<i32>) -> Option<i32> {
    port.filter(|p| !(0..=65535).contains(p))
}

/// The `mcp-*` rules (the `mcp-crd-bounds` schema bounds hold whether or not the MCP server is
/// enabled).
pub fn mcp(m: Option<&MCPServerSpec>, v: &mut Verdict) {
    let Some(m) = m else { return };
    let bounds = "mcp-crd-bounds";
    if let Some(s) = m.schema_sample_size.filter(|s| *s < -1) {
        v.error(bounds, "spec.mcp.schemaSampleSize", format!("spec.mcp.schemaSampleSize is {s}; use -1 (whole graph) or a non-negative sample size"));
    }
    enum_check(
        bounds,
        "spec.mcp.logLevel",
        m.log_level.as_deref(),
        &MCP_LOG_LEVELS,
        v,
    );
    enum_check(
        bounds,
        "spec.mcp.logFormat",
        m.log_format.as_deref(),
        &["text", "json"],
        v,
    );
    if let Some(svc) = m.http.as_ref().and_then(|h| h.service.as_ref()) {
        service_enums(
            bounds,
            "spec.mcp.http.service",
            svc.type_.as_deref(),
            svc.external_traffic_policy.as_deref(),
            v,
        );
    }
    if m.enabled != Some(true) {
        return;
    }
    let transport = m
        .transport
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("http");
    if transport != "http" && transport != "stdio" {
        v.error(
            "mcp-transport-enum",
            "spec.mcp.transport",
            format!(
                "spec.mcp.transport is {}; use http or stdio",
                shown(transport)
            ),
        );
    }
    if transport == "http"
        && let Some(http) = &m.http
    {
        if let Some(p) = port_out_of_range(http.port) {
            v.error(
                "mcp-http-port-range",
                "spec.mcp.http.port",
                format!(
                    "spec.mcp.http.port is {p}; use a port from 1 to 65535, or 0 for the default"
                ),
            );
        }
        if let Some(t) = &http.tls
            && is_blank(&t.secret_name)
        {
            v.error("mcp-http-tls-secret", "spec.mcp.http.tls.secretName", "spec.mcp.http.tls.secretName is empty; name the kubernetes.io/tls Secret, or remove spec.mcp.http.tls");
        }
        if let Some(p) = port_out_of_range(http.service.as_ref().and_then(|s| s.port)) {
            v.error("mcp-service-port-range", "spec.mcp.http.service.port", format!("spec.mcp.http.service.port is {p}; use a port from 1 to 65535, or 0 for the default"));
        }
    }
    if let Some(a) = &m.auth
        && blank(a.secret_name.as_deref())
    {
        v.error("mcp-auth-secret", "spec.mcp.auth.secretName", "spec.mcp.auth.secretName is empty; name the Secret with the MCP credentials, or remove spec.mcp.auth");
    }
}

const FLEET_DEPLOYMENT_NAME_MAX: usize = 30;

/// The `fleet-*` rules: schema rules always, the others only when enabled.
pub fn fleet(f: Option<&AuraFleetManagementSpec>, v: &mut Verdict) {
    let Some(f) = f else { return };
    let enabled = f.enabled == Some(true);
    let base = "spec.auraFleetManagement";
    if let Some(t) = &f.token_secret_ref
        && is_blank(&t.name)
    {
        v.error("fleet-token-secret-name", format!("{base}.tokenSecretRef.name"), format!("{base}.tokenSecretRef.name is empty; name the Secret holding the registration token"));
    }
    let Some(p) = &f.provision else { return };
    if f.token_secret_ref.is_some() {
        v.error(
            "fleet-provision-xor-token",
            format!("{base}.provision"),
            format!("{base}.provision and {base}.tokenSecretRef are both set; set provision to let the operator mint the token, or tokenSecretRef to supply it, not both"),
        );
    }
    let base = format!("{base}.provision");
    let provider_named = p
        .provider_config_ref
        .as_ref()
        .is_some_and(|r| !is_blank(&r.name));
    if enabled
        && let Some(r) = &p.provider_config_ref
        && is_blank(&r.name)
    {
        v.error(
            "fleet-provider-config-name",
            format!("{base}.providerConfigRef.name"),
            format!("{base}.providerConfigRef.name is empty; name the AuraProviderConfig"),
        );
    }
    if let Some(c) = &p.credentials_secret_ref
        && is_blank(&c.name)
    {
        v.error("fleet-credentials-secret-name", format!("{base}.credentialsSecretRef.name"), format!("{base}.credentialsSecretRef.name is empty; name the Secret with the Aura API client credentials"));
    }
    let sources = usize::from(p.provider_config_ref.is_some())
        + usize::from(p.credentials_secret_ref.is_some());
    if sources != 1 {
        v.error(
            "fleet-credentials-exactly-one",
            base.as_str(),
            format!("{base} has {sources} credential sources; set exactly one of providerConfigRef and credentialsSecretRef to give the Aura API credentials"),
        );
    }
    if let Some(name) = p.deployment_name.as_deref()
        && name.chars().count() > FLEET_DEPLOYMENT_NAME_MAX
    {
        v.error(
            "fleet-deployment-name-length",
            format!("{base}.deploymentName"),
            format!("{base}.deploymentName is {} characters; the Aura API allows at most {FLEET_DEPLOYMENT_NAME_MAX}", name.chars().count()),
        );
    }
    if enabled && !provider_named {
        for (field, value) in [
            ("organizationId", &p.organization_id),
            ("projectId", &p.project_id),
        ] {
            if blank(value.as_deref()) {
                v.error(
                    "fleet-org-project-required",
                    format!("{base}.{field}"),
                    format!("{base}.{field} is empty and no AuraProviderConfig supplies it; set it, or name one in providerConfigRef"),
                );
            }
        }
    }
    let enums = "fleet-crd-enums";
    enum_check(
        enums,
        SubPath(&base, "tokenPolicy"),
        p.token_policy.as_deref(),
        &["CreateIfMissing", "Rotate"],
        v,
    );
    enum_check(
        enums,
        SubPath(&base, "deletionPolicy"),
        p.deletion_policy.as_deref(),
        &["Orphan", "Delete"],
        v,
    );
    for (i, policy) in p.management_policies.iter().flatten().enumerate() {
        enum_check(
            enums,
            ItemPath(SubPath(&base, "managementPolicies"), i, ""),
            Some(policy.as_str()),
            &["Observe", "Create", "Delete", "*"],
            v,
        );
    }
}
