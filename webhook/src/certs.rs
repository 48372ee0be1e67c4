//! `neo4j-webhook certs`: the webhook's serving certificate without cert-manager (air-gapped
//! clusters). Writes a fresh CA and a serving certificate for the webhook Service's DNS names,
//! the `kubernetes.io/tls` Secret the Deployment mounts, a JSON patch that sets `caBundle` on
//! both webhook configurations and, with `--base`, a kustomize overlay of the install that uses
//! them.
//!
//! Rotation without failed requests: run it again on the same `--out`. The new CA bundle
//! carries the previous CA too, so applying the patch first and the Secret second keeps every
//! replica trusted while the kubelet swaps the mounted files.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Options of `neo4j-webhook certs`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to write into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Namespace of the webhook Service and of the Secret.
    #[arg(long, default_value = "neo4j-operator")]
    pub namespace: String,
    /// Name of the webhook Service (the certificate is for <service>.<namespace>.svc).
    #[arg(long, default_value = "neo4j-webhook")]
    pub service: String,
    /// Name of the Secret the webhook Deployment mounts.
    #[arg(long, default_value = "neo4j-webhook-tls")]
    pub secret_name: String,
    /// Name of the two webhook configurations to patch.
    #[arg(long, default_value = "neo4j-webhook")]
    pub configuration_name: String,
    /// Extra subject alternative name (DNS name or IP address); repeatable.
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// Days the serving certificate is valid.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Days the CA is valid.
    #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub ca_days: u32,
    /// Install base to overlay (e.g. manifests/base): also writes <out>/kustomization.yaml, so
    /// `kubectl apply -k <out>` installs everything with this certificate.
    #[arg(long)]
    pub base: Option<PathBuf>,
}

/// What `certs` wrote, for callers and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub ca_bundle_pem: String,
}

pub fn run(args: Args) -> ExitCode {
    match write(&args, SystemTime::now()) {
        Ok(written) => {
            for f in &written.files {
                println!("{}", f.display());
            }
            eprintln!("{}", next_steps(&args));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("neo4j-webhook certs: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn next_steps(args: &Args) -> String {
    let out = args.out.display();
    let kinds = "mutatingwebhookconfiguration validatingwebhookconfiguration";
    if args.base.is_some() {
        format!("install: kubectl apply -k {out}")
    } else {
        format!(
            "apply the CA bundle first, then the Secret:\n  for k in {kinds}; do kubectl patch $k {name} --type=json --patch-file {out}/cabundle-patch.json; done\n  kubectl apply -f {out}/secret.yaml",
            name = args.configuration_name
        )
    }
}

/// Generates and writes everything; `now` fixes the validity window.
pub fn write(args: &Args, now: SystemTime) -> anyhow::Result<Written> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let previous_ca = match std::fs::read_to_string(args.out.join("ca.crt")) {
        Ok(text) => first_pem_certificate(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).context(format!("{}", args.out.join("ca.crt").display())),
    };

    let at = |days: u32| -> anyhow::Result<_> {
        let (y, m, d) = date_after(now, days)?;
        Ok(rcgen::date_time_ymd(y, m, d))
    };
    let (today, end_ca, end_leaf) = (at(0)?, at(args.ca_days)?, at(args.days)?);

    let ca_key = KeyPair::generate().context("generating the CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{}-ca", args.service));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = today;
    ca_params.not_after = end_ca;
    let ca_cert = ca_params.self_signed(&ca_key).context("signing the CA")?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let mut names = vec![
        format!("{}.{}.svc", args.service, args.namespace),
        format!("{}.{}.svc.cluster.local", args.service, args.namespace),
    ];
    for h in &args.hosts {
        if !names.contains(h) {
            names.push(h.clone());
        }
    }
    let leaf_key = KeyPair::generate().context("generating the serving key")?;
    let mut leaf_params =
        CertificateParams::new(names.clone()).context("serving certificate names")?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, names[0].clone());
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.not_before = today;
    leaf_params.not_after = end_leaf;
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .context("signing the serving certificate")?;

    let ca_pem = ca_cert.pem();
    let mut bundle = ca_pem.clone();
    if let Some(prev) = previous_ca.filter(|p| p.trim() != ca_pem.trim()) {
        bundle.push_str(prev.trim_end());
        bundle.push('\n');
    }
    let tls_crt = leaf_cert.pem();
    let tls_key = leaf_key.serialize_pem();

    let mut files = Vec::new();
    let mut put = |name: &str, content: &str, secret: bool| -> anyhow::Result<()> {
        let path = args.out.join(name);
        write_file(&path, content, secret)?;
        files.push(path);
        Ok(())
    };
    put("ca.crt", &ca_pem, false)?;
    put("ca.key", &ca_key.serialize_pem(), true)?;
    put("tls.crt", &tls_crt, false)?;
    put("tls.key", &tls_key, true)?;
    put("ca-bundle.crt", &bundle, false)?;
    put(
        "secret.yaml",
        &secret_yaml(args, &tls_crt, &tls_key, &ca_pem),
        true,
    )?;
    put("cabundle-patch.json", &ca_bundle_patch(&bundle), false)?;
    if let Some(base) = &args.base {
        if !base.is_dir() {
            bail!("--base {}: not a directory", base.display());
        }
        let rel = relative_path(&args.out, base)?;
        put(
            "kustomization.yaml",
            &kustomization(args, &rel.to_string_lossy()),
            false,
        )?;
    }
    Ok(Written {
        files,
        ca_bundle_pem: bundle,
    })
}

/// The UTC date `after_days` days after `now`.
fn date_after(now: SystemTime, after_days: u32) -> anyhow::Result<(i32, u8, u8)> {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs();
    let day = i64::try_from(secs / 86_400).context("the clock is far in the future")?;
    Ok(civil_from_days(day + i64::from(after_days)))
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Ranges: d in 1..=31, m in 1..=12; y fits i32 for any date a certificate can carry.
    (
        i32::try_from(y).unwrap_or(i32::MAX),
        u8::try_from(m).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
    )
}

/// The first `-----BEGIN CERTIFICATE-----` block of a PEM file.
fn first_pem_certificate(text: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = text.find(BEGIN)?;
    let end = text[start..].find(END)? + start + END.len();
    Some(format!("{}\n", &text[start..end]))
}

fn b64(data: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(data.as_bytes())
}

fn labels() -> &'static str {
    "  labels:\n    app.kubernetes.io/name: neo4j-webhook\n    app.kubernetes.io/part-of: neo4j-operator\n"
}

fn secret_yaml(args: &Args, tls_crt: &str, tls_key: &str, ca: &str) -> String {
    let mut s = String::new();
    s.push_str("# Serving certificate of neo4j-webhook, written by `neo4j-webhook certs`.\n");
    s.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n");
    let _ = writeln!(s, "  name: {}", args.secret_name);
    let _ = writeln!(s, "  namespace: {}", args.namespace);
    s.push_str(labels());
    s.push_str("type: kubernetes.io/tls\ndata:\n");
    let _ = writeln!(s, "  ca.crt: {}", b64(ca));
    let _ = writeln!(s, "  tls.crt: {}", b64(tls_crt));
    let _ = writeln!(s, "  tls.key: {}", b64(tls_key));
    s
}

/// RFC 6902 patch setting the caBundle of the (single) webhook of a configuration.
fn ca_bundle_patch(bundle: &str) -> String {
    let patch = serde_json::json!([
        {"op": "add", "path": "/webhooks/0/clientConfig/caBundle", "value": b64(bundle)}
    ]);
    format!("{patch:#}\n")
}

fn kustomization(args: &Args, base: &str) -> String {
    let mut s = String::new();
    s.push_str(
        "# The install with a serving certificate from `neo4j-webhook certs` (no cert-manager).\n",
    );
    s.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
    let _ = writeln!(s, "  - {base}");
    s.push_str("  - secret.yaml\npatches:\n");
    for kind in [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        s.push_str("  - path: cabundle-patch.json\n    target:\n");
        s.push_str("      group: admissionregistration.k8s.io\n      version: v1\n");
        let _ = writeln!(s, "      kind: {kind}");
        let _ = writeln!(s, "      name: {}", args.configuration_name);
    }
    s
}

fn write_file(path: &Path, content: &str, secret: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(content.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    if secret {
        // `mode` only applies to new files: tighten one left by an earlier run too.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    Ok(())
}

/// `to` relative to the directory `from` (both made absolute first).
fn relative_path(from: &Path, to: &Path) -> anyhow::Result<PathBuf> {
    let from = std::fs::canonicalize(from).with_context(|| format!("{}", from.display()))?;
    let to = std::fs::canonicalize(to).with_context(|| format!("{}", to.display()))?;
    let a: Vec<Component<'_>> = from.components().collect();
    let b: Vec<Component<'_>> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..a.len() {
        rel.push("..");
    }
    for c in &b[common..] {
        rel.push(c.as_os_str());
    }
    if rel.as_os_str().is_empty() {
        rel.push(".");
    }
    Ok(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn first_certificate_block_is_taken() {
        let two = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBB==\n-----END CERTIFICATE-----\n";
        assert_eq!(
            first_pem_certificate(two).as_deref(),
            Some("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")
        );
        assert_eq!(first_pem_certificate("nothing"), None);
    }
}
