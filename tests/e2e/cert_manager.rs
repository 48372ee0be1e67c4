//! Real cert-manager (controller and cainjector built from cert-manager's Go module by
//! tests/tools/build.sh) issues the webhook's serving certificate from the shipped objects,
//! cainjector fills in the caBundle of the shipped webhook configurations, and
//! `neo4j-webhook serve` on the issued files admits through the webhook Service. A renewal
//! forced while a loop applies objects fails none of them. Run by tests/scripts/install-e2e.sh.

#[path = "support/installed.rs"]
mod installed;

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use installed::{
    NAMESPACE, Proc, Replica, apply_loop, ca_bundle, decode_base64, failures, install,
    service_account_kubeconfig, set_endpoints, tool,
};
use neo4j_e2e::{ControlPlane, wait_for, wait_until_admission_active};
use serde_json::json;

/// The Secret's data, decoded: (tls.crt, tls.key, ca.crt).
fn secret(cp: &ControlPlane, name: &str) -> Option<(String, String, String)> {
    let s = cp.get_json(NAMESPACE, "secret", name)?;
    let field =
        |k: &str| String::from_utf8(decode_base64(s["data"][k].as_str().unwrap_or_default())).ok();
    Some((field("tls.crt")?, field("tls.key")?, field("ca.crt")?))
}

/// What the kubelet does for a mounted Secret: replace the files when the Secret changes
/// (atomically, by rename). Returns true when the files changed.
fn sync_files(cp: &ControlPlane, dir: &Path) -> bool {
    let Some((crt, key, ca)) = secret(cp, "neo4j-webhook-tls") else {
        return false;
    };
    let current = std::fs::read_to_string(dir.join("tls.crt")).unwrap_or_default();
    if current == crt {
        return false;
    }
    for (name, content) in [("tls.key", &key), ("ca.crt", &ca), ("tls.crt", &crt)] {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, content).unwrap_or_else(|e| panic!("{}: {e}", tmp.display()));
        std::fs::rename(&tmp, dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    true
}

/// Forces a renewal the way `cmctl renew` does: an `Issuing=True` condition on the status.
fn renew(cp: &ControlPlane, certificate: &str) {
    let patch = json!([{"op": "add", "path": "/status/conditions/-", "value":
        {"type": "Issuing", "status": "True", "reason": "ManuallyTriggered", "message": "forced by the e2e test"}}])
    .to_string();
    cp.kubectl_ok(&[
        "patch",
        "certificate",
        certificate,
        "-n",
        NAMESPACE,
        "--subresource=status",
        "--type=json",
        "-p",
        &patch,
    ]);
}

fn ready(cp: &ControlPlane, certificate: &str) -> bool {
    cp.get_json(NAMESPACE, "certificate", certificate)
        .and_then(|c| c["status"]["conditions"].as_array().cloned())
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn reloads(replica: &Replica) -> u64 {
    replica
        .metrics()
        .lines()
        .find_map(|l| {
            l.strip_prefix("neo4j_webhook_certificate_reloads_total{result=\"success\"} ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn cert_manager_issues_injects_and_rotates_without_failed_applies() {
    let cp = ControlPlane::from_env();
    install(&cp);
    let kubeconfig = cp.kubeconfig.to_string_lossy().into_owned();
    let _controller = Proc::spawn(
        &cp,
        "cert-manager-controller",
        Command::new(tool("cert-manager-controller"))
            .arg(format!("--kubeconfig={kubeconfig}"))
            .arg(format!("--cluster-resource-namespace={NAMESPACE}")),
    );
    let _cainjector = Proc::spawn(
        &cp,
        "cainjector",
        Command::new(tool("cainjector"))
            .arg(format!("--kubeconfig={kubeconfig}"))
            .arg("-v=2"),
    );

    // Issued from the shipped Issuers and Certificates.
    wait_for(
        "the serving Certificate to be Ready",
        Duration::from_secs(180),
        || (ready(&cp, "neo4j-webhook-ca") && ready(&cp, "neo4j-webhook")).then_some(()),
    );
    let (_, _, ca) = secret(&cp, "neo4j-webhook-tls").unwrap_or_else(|| panic!("no Secret"));
    // cainjector copies the CA into both configurations (annotation inject-ca-from). It merges:
    // a CA already in the bundle stays, so a CA rotation keeps both trusted.
    for kind in [
        "mutatingwebhookconfiguration",
        "validatingwebhookconfiguration",
    ] {
        wait_for(
            &format!("the caBundle of {kind}"),
            Duration::from_secs(120),
            || ca_bundle(&cp, kind).contains(ca.trim()).then_some(()),
        );
    }

    // The webhook on the issued files, reached through the Service (its DNS name is what the
    // certificate is for) and an EndpointSlice, as the API server reaches a pod.
    let dir = cp.state_dir.join("cert-manager-files");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    assert!(sync_files(&cp, &dir), "no certificate files written");
    let sa = service_account_kubeconfig(&cp, "neo4j-webhook");
    let ip: IpAddr = [127, 0, 0, 2].into();
    let mut replica = Replica::start(&cp, "webhook-cert-manager", ip, &dir, &sa);
    set_endpoints(&cp, replica.port, &[(ip, true)]);
    wait_until_admission_active(&cp);
    cp.create_namespace("certs-e2e");

    // Forced renewal of the serving certificate while applies run.
    let before = std::fs::read_to_string(dir.join("tls.crt")).unwrap_or_default();
    let reloads_before = reloads(&replica);
    let mut renewed_at = None;
    let mut reloaded_at = None;
    let attempts = apply_loop(&cp, "certs-e2e", "rotating", 400, |n| {
        replica.proc.assert_running();
        if n == 5 {
            renew(&cp, "neo4j-webhook");
        }
        if renewed_at.is_none() && sync_files(&cp, &dir) {
            renewed_at = Some(n);
        }
        if renewed_at.is_some() && reloaded_at.is_none() && reloads(&replica) > reloads_before {
            reloaded_at = Some(n);
        }
        // Go on for 20 applies after the new certificate is in use; the upper bound only
        // matters when the renewal never happens, which the asserts below report.
        reloaded_at.is_none_or(|r| n <= r + 20)
    });
    let renewed_at = renewed_at.unwrap_or_else(|| panic!("the certificate was not renewed"));
    let reloaded_at = reloaded_at.unwrap_or_else(|| {
        panic!(
            "the webhook did not reload the renewed certificate; log:\n{}",
            replica.proc.log_text()
        )
    });
    let after = std::fs::read_to_string(dir.join("tls.crt")).unwrap_or_default();
    assert_ne!(before, after, "renewal must issue a new certificate");
    let failed = failures(&attempts);
    eprintln!(
        "serving certificate renewal: {} applies, new files at apply {renewed_at}, webhook reloaded by apply {reloaded_at}, {} failed",
        attempts.len(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "applies failed during renewal: {failed:#?}"
    );
    let (_, _, ca_after) = secret(&cp, "neo4j-webhook-tls").unwrap_or_else(|| panic!("no Secret"));
    assert!(
        ca_bundle(&cp, "validatingwebhookconfiguration").contains(ca_after.trim()),
        "the caBundle trusts the issuing CA"
    );

    // Rotating the CA itself: once the serving certificate is re-issued by the new CA,
    // cainjector adds the new CA to the bundle (keeping the old one). The files here change as
    // soon as the Secret does (a kubelet takes up to a minute or so), so the webhook may serve
    // the new chain a moment before the API server trusts it: such in-flight failures are
    // counted and reported; every apply after both sides switched must succeed.
    let ca_before = ca_after;
    let ca_secret = |cp: &ControlPlane| -> Option<String> {
        let s = cp.get_json(NAMESPACE, "secret", "neo4j-webhook-ca")?;
        String::from_utf8(decode_base64(s["data"]["tls.crt"].as_str()?)).ok()
    };
    let mut ca_renewed = false;
    let mut settled_at = None;
    let attempts = apply_loop(&cp, "certs-e2e", "rotating", 400, |n| {
        replica.proc.assert_running();
        if n == 3 {
            renew(&cp, "neo4j-webhook-ca");
        }
        // Re-issue the serving certificate as soon as the new CA exists.
        if n > 3 && !ca_renewed && ca_secret(&cp).is_some_and(|c| c.trim() != ca_before.trim()) {
            renew(&cp, "neo4j-webhook");
            ca_renewed = true;
        }
        sync_files(&cp, &dir);
        if ca_renewed && settled_at.is_none() {
            let served = std::fs::read_to_string(dir.join("ca.crt")).unwrap_or_default();
            if served.trim() != ca_before.trim()
                && ca_bundle(&cp, "validatingwebhookconfiguration").contains(served.trim())
                && ca_bundle(&cp, "mutatingwebhookconfiguration").contains(served.trim())
            {
                settled_at = Some(n);
            }
        }
        settled_at.is_none_or(|s| n <= s + 20)
    });
    let settled_at = settled_at.unwrap_or_else(|| panic!("the caBundle never took in the new CA"));
    let bundle = ca_bundle(&cp, "validatingwebhookconfiguration");
    assert!(
        bundle.contains(ca_before.trim()),
        "the previous CA stays in the bundle (cainjector merges)"
    );
    let in_flight = failures(&attempts);
    eprintln!(
        "CA rotation: {} applies, caBundle and files on the new CA by apply {settled_at}, {} failed in flight",
        attempts.len(),
        in_flight.len()
    );
    // The webhook reloads within 200 ms of the files; give it 3 applies after both switched.
    let late: Vec<_> = in_flight.iter().filter(|a| a.n > settled_at + 3).collect();
    assert!(
        late.is_empty(),
        "applies failed after the CA rotation settled: {late:#?}"
    );
}
