//! The cert-manager `Certificate` of an instance in `cert-manager` TLS mode (`docs/design.md`,
//! Rendering decisions): cert-manager writes the key pair and CA into `<name>-tls-secret`,
//! mounted at `/ssl`.

use serde_json::{Map, Value, json};

use crate::names::{APP_COMPONENT, APP_MANAGED_BY, Labels, MANAGED_BY};
use crate::types::TLSSpec;
use crate::units::go_duration_seconds;

use super::object::{DesiredObject, Owner, RenderError, desired};

/// Usages of a certificate whose spec names none: Bolt/HTTPS/cluster servers, and clients of
/// the mutual TLS on cluster links.
const DEFAULT_USAGES: [&str; 4] = [
    "digital signature",
    "key encipherment",
    "server auth",
    "client auth",
];
const REQUIRED_USAGES: [&str; 2] = ["server auth", "client auth"];

pub(crate) struct CertificateInput<'a> {
    pub owner: &'a Owner,
    pub name: String,
    pub secret_name: String,
    pub labels: Labels,
    pub common_name: Option<String>,
    /// In order; `spec.service.dnsName` is appended by [`certificate`].
    pub dns_names: Vec<String>,
    pub tls: &'a TLSSpec,
    pub dns_name: Option<&'a str>,
}

/// The four in-cluster names of a Service: `X`, `X.<ns>`, `X.<ns>.svc`,
/// `X.<ns>.svc.<domain>`.
pub(crate) fn service_names(service: &str, namespace: &str, domain: &str) -> [String; 4] {
    [
        service.to_string(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        crate::names::service_fqdn(service, namespace, domain),
    ]
}

/// The user's usages in order without duplicates, with both EKUs the servers need appended
/// when missing; the defaults when the list is empty.
fn usages(tls: &TLSSpec) -> Vec<String> {
    let user: Vec<&str> = tls
        .usages
        .iter()
        .flatten()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .collect();
    if user.is_empty() {
        return DEFAULT_USAGES.iter().map(|u| u.to_string()).collect();
    }
    let mut out: Vec<String> = Vec::new();
    for u in user.into_iter().chain(REQUIRED_USAGES) {
        if !out.iter().any(|have| have == u) {
            out.push(u.to_string());
        }
    }
    out
}

/// A Go duration cert-manager accepts, or nothing (the validator refuses anything else).
fn duration(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| go_duration_seconds(v).is_some_and(|s| s > 0.0))
        .map(str::to_string)
}

pub(crate) fn certificate(i: CertificateInput<'_>) -> Result<DesiredObject, RenderError> {
    let issuer = i.tls.issuer_ref.as_ref();
    let mut issuer_ref = Map::new();
    issuer_ref.insert(
        "name".into(),
        json!(issuer.map(|r| r.name.as_str()).unwrap_or_default()),
    );
    issuer_ref.insert(
        "kind".into(),
        json!(
            issuer
                .and_then(|r| r.kind.as_deref())
                .filter(|k| !k.is_empty())
                .unwrap_or("ClusterIssuer")
        ),
    );
    if let Some(group) = issuer
        .and_then(|r| r.group.as_deref())
        .filter(|g| !g.is_empty())
    {
        issuer_ref.insert("group".into(), json!(group));
    }

    let mut dns_names = i.dns_names;
    if let Some(extra) = i.dns_name.map(str::trim).filter(|d| !d.is_empty())
        && !dns_names.iter().any(|d| d == extra)
    {
        dns_names.push(extra.to_string());
    }

    let mut spec = Map::new();
    spec.insert("secretName".into(), json!(i.secret_name));
    spec.insert("issuerRef".into(), Value::Object(issuer_ref));
    if let Some(cn) = i.common_name {
        spec.insert("commonName".into(), json!(cn));
    }
    spec.insert("dnsNames".into(), json!(dns_names));
    if let Some(d) = duration(i.tls.duration.as_deref()) {
        spec.insert("duration".into(), json!(d));
    }
    if let Some(d) = duration(i.tls.renew_before.as_deref()) {
        spec.insert("renewBefore".into(), json!(d));
    }
    if let Some(s) = i.tls.subject.as_ref() {
        let mut subject = Map::new();
        for (key, list) in [
            ("organizations", &s.organizations),
            ("countries", &s.countries),
            ("organizationalUnits", &s.organizational_units),
            ("localities", &s.localities),
            ("provinces", &s.provinces),
        ] {
            if let Some(list) = list.as_ref().filter(|l| !l.is_empty()) {
                subject.insert(key.into(), json!(list));
            }
        }
        if !subject.is_empty() {
            spec.insert("subject".into(), Value::Object(subject));
        }
    }
    spec.insert("usages".into(), json!(usages(i.tls)));
    let secret_labels = Labels::from([
        (APP_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        (APP_COMPONENT.to_string(), "tls".to_string()),
        ("neo4j.com/owner-kind".to_string(), i.owner.kind.clone()),
        ("neo4j.com/owner-name".to_string(), i.owner.name.clone()),
    ]);
    spec.insert("secretTemplate".into(), json!({ "labels": secret_labels }));

    let meta = serde_json::to_value(i.owner.meta(i.name.clone(), i.labels, Labels::new()))
        .map_err(|e| RenderError::Serialize {
            kind: "Certificate",
            message: e.to_string(),
        })?;
    let object = json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": meta,
        "spec": Value::Object(spec),
    });
    desired(
        "cert-manager.io/v1",
        "Certificate",
        "certificates",
        i.name,
        &object,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usages_default_and_required_ekus() {
        let mut t = TLSSpec::default();
        assert_eq!(usages(&t), DEFAULT_USAGES);
        t.usages = Some(vec![
            "digital signature".into(),
            "client auth".into(),
            "digital signature".into(),
        ]);
        assert_eq!(
            usages(&t),
            ["digital signature", "client auth", "server auth"]
        );
    }

    #[test]
    fn durations_must_be_go_durations() {
        assert_eq!(duration(Some("2160h")), Some("2160h".into()));
        assert_eq!(duration(Some("90d")), None);
        assert_eq!(duration(Some("-1h")), None);
        assert_eq!(duration(None), None);
    }
}
