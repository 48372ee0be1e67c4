//! `spec.tls`: the mode, the cert-manager issuer, certificate lifetimes and key usages, and (for a
//! cluster) the External Secrets source of the certificates.

use super::fields::is_blank;
use crate::inventory::InstanceKind;
use crate::types::{ExternalSecretsConfig, TLSSpec};
use crate::units::go_duration_seconds;
use crate::validate::{item_path, shown};
use crate::verdict::Verdict;

/// Certificate lifetime cert-manager uses when `duration` is unset.
const CERT_MANAGER_DEFAULT_DURATION_SECS: f64 = 2160.0 * 3600.0;

const TLS_USAGES: [&str; 15] = [
    "digital signature",
    "key encipherment",
    "key agreement",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
];
const TLS_USAGES_MAX_ITEMS: usize = crate::types::bounds::TLS_USAGES_MAX_ITEMS as usize;
const TLS_USAGE_MAX_LEN: usize = crate::types::bounds::TLS_USAGE_MAX as usize;

/// The `tls-*` rules (durations and usages checked for both kinds; External Secrets for clusters,
/// as in the reference operator).
pub fn tls(kind: InstanceKind, t: &TLSSpec, v: &mut Verdict) {
    let mode = t.mode.as_deref().unwrap_or("");
    if !mode.is_empty() && mode != "cert-manager" && mode != "disabled" {
        v.error(
            "tls-mode-enum",
            "spec.tls.mode",
            format!(
                "spec.tls.mode is {}; use cert-manager or disabled",
                shown(mode)
            ),
        );
    }
    let cert_manager = mode == "cert-manager";
    if cert_manager {
        match &t.issuer_ref {
            None => v.error(
                "tls-issuer-ref-required",
                "spec.tls.issuerRef",
                "spec.tls.issuerRef is not set, but spec.tls.mode is cert-manager; set spec.tls.issuerRef.name or set mode: disabled",
            ),
            Some(issuer) if is_blank(&issuer.name) => v.error(
                "tls-issuer-name-required",
                "spec.tls.issuerRef.name",
                "spec.tls.issuerRef.name is empty; name the cert-manager (or external) issuer, or set spec.tls.mode: disabled",
            ),
            Some(_) => {}
        }
        tls_durations(t, v);
        for (i, usage) in t.usages.iter().flatten().enumerate() {
            if !TLS_USAGES.contains(&usage.as_str()) {
                let field = item_path("spec.tls.usages", i, "");
                v.error(
                    "tls-usage-enum",
                    &field,
                    format!("{field} is {}, not a cert-manager key usage; use e.g. server auth, client auth, digital signature or key encipherment", shown(usage)),
                );
            }
        }
    }
    if let Some(usages) = t.usages.as_deref() {
        if usages.len() > TLS_USAGES_MAX_ITEMS {
            v.error(
                "tls-usages-bounds",
                "spec.tls.usages",
                format!(
                    "spec.tls.usages has {} items; at most {TLS_USAGES_MAX_ITEMS} are allowed",
                    usages.len()
                ),
            );
        }
        for (i, usage) in usages
            .iter()
            .enumerate()
            .filter(|(_, u)| u.len() > TLS_USAGE_MAX_LEN)
        {
            v.error(
                "tls-usages-bounds",
                item_path("spec.tls.usages", i, ""),
                format!("spec.tls.usages[{i}] is {} characters; at most {TLS_USAGE_MAX_LEN} are allowed", usage.len()),
            );
        }
        if !usages.is_empty() {
            for eku in ["server auth", "client auth"] {
                if !usages.iter().any(|u| u == eku) {
                    v.error(
                        "tls-usages-required-ekus",
                        "spec.tls.usages",
                        format!("spec.tls.usages lacks {eku:?}; Neo4j needs server auth (Bolt, HTTPS, cluster) and client auth (mutual TLS between servers) — add it or omit usages for the operator's defaults"),
                    );
                }
            }
        }
    }
    if kind == InstanceKind::Cluster
        && let Some(es) = t
            .external_secrets
            .as_ref()
            .filter(|e| e.enabled == Some(true))
    {
        tls_external_secrets(es, v);
    }
}

/// `tls-duration-format`, `tls-renew-before-format` and `tls-cert-duration-bounds` (cert-manager
/// mode only).
fn tls_durations(t: &TLSSpec, v: &mut Verdict) {
    let parse = |value: Option<&str>,
                 rule: &'static str,
                 field: &str,
                 v: &mut Verdict|
     -> Option<f64> {
        let value = value?;
        let secs = go_duration_seconds(value);
        if secs.is_none() {
            v.error(rule, field, format!("{field} is {}, not a duration; use Go syntax such as 2160h or 720h30m (no d unit)", shown(value)));
        }
        secs
    };
    let duration = parse(
        t.duration.as_deref(),
        "tls-duration-format",
        "spec.tls.duration",
        v,
    );
    let renew = parse(
        t.renew_before.as_deref(),
        "tls-renew-before-format",
        "spec.tls.renewBefore",
        v,
    );
    let bounds = "tls-cert-duration-bounds";
    if let Some(d) = duration
        && d < 3600.0
    {
        v.error(
            bounds,
            "spec.tls.duration",
            format!(
                "spec.tls.duration is {}; cert-manager needs a certificate lifetime of at least 1h",
                shown(t.duration.as_deref().unwrap_or_default())
            ),
        );
    }
    if let Some(r) = renew {
        let lifetime = duration.unwrap_or(CERT_MANAGER_DEFAULT_DURATION_SECS);
        if r <= 0.0 {
            v.error(
                bounds,
                "spec.tls.renewBefore",
                format!("spec.tls.renewBefore is {}; give a positive duration shorter than spec.tls.duration", shown(t.renew_before.as_deref().unwrap_or_default())),
            );
        } else if r >= lifetime {
            v.error(
                bounds,
                "spec.tls.renewBefore",
                format!("spec.tls.renewBefore is {}, not shorter than the certificate lifetime ({}); lower it below the duration", shown(t.renew_before.as_deref().unwrap_or_default()), t.duration.as_deref().unwrap_or("2160h, cert-manager's default")),
            );
        }
    }
}

/// The `tls-es-*` rules: the External Secrets source of the TLS certificates.
fn tls_external_secrets(es: &ExternalSecretsConfig, v: &mut Verdict) {
    let base = "spec.tls.externalSecrets";
    match &es.secret_store_ref {
        None => v.error(
            "tls-es-store-required",
            format!("{base}.secretStoreRef"),
            format!("{base}.secretStoreRef is not set, but externalSecrets is enabled; name the SecretStore to read the certificates from"),
        ),
        Some(store) => {
            if is_blank(&store.name) {
                v.error(
                    "tls-es-store-name",
                    format!("{base}.secretStoreRef.name"),
                    format!("{base}.secretStoreRef.name is empty; name the SecretStore or ClusterSecretStore"),
                );
            }
            if let Some(kind) = store.kind.as_deref().filter(|k| !k.is_empty())
                && kind != "SecretStore"
                && kind != "ClusterSecretStore"
            {
                v.error(
                    "tls-es-store-kind",
                    format!("{base}.secretStoreRef.kind"),
                    format!("{base}.secretStoreRef.kind is {}; use SecretStore or ClusterSecretStore", shown(kind)),
                );
            }
        }
    }
    if let Some(interval) = es.refresh_interval.as_deref().filter(|i| !i.is_empty())
        && go_duration_seconds(interval).is_none()
    {
        v.error(
            "tls-es-refresh-format",
            format!("{base}.refreshInterval"),
            format!("{base}.refreshInterval is {}, not a duration; use Go syntax such as 1h, or 0 for no polling", shown(interval)),
        );
    }
    let data = es.data.as_deref().unwrap_or_default();
    if data.is_empty() {
        v.error(
            "tls-es-data-required",
            format!("{base}.data"),
            format!(
                "{base}.data is empty; map at least one key (e.g. tls.crt) from the external store"
            ),
        );
    }
    for (i, d) in data.iter().enumerate() {
        if is_blank(&d.secret_key) {
            let field = item_path(&format!("{base}.data"), i, "secretKey");
            v.error(
                "tls-es-secret-key",
                &field,
                format!("{field} is empty; name the key of the resulting Secret, e.g. tls.crt"),
            );
        }
        if let Some(remote) = &d.remote_ref
            && is_blank(&remote.key)
        {
            let field = item_path(&format!("{base}.data"), i, "remoteRef.key");
            v.error(
                "tls-es-remote-key",
                &field,
                format!("{field} is empty; name the secret in the external store"),
            );
        }
    }
}
