//! Two webhook replicas behind the webhook Service: with `--enable-aggregator-routing=true` the
//! API server resolves the Service to an EndpointSlice, here listing 127.0.0.2 and 127.0.0.3
//! (two `neo4j-webhook serve` processes standing in for pods). The replica carrying the traffic
//! is killed and its endpoint marked not ready (what its failing readiness probe does) while
//! four loops apply objects: once the API server routes to the survivor, every apply succeeds;
//! the failures in flight at the kill are counted and reported. The certificate comes from
//! `neo4j-webhook certs` (the path without cert-manager), installed with its kustomize overlay.
//! Run by tests/scripts/install-e2e.sh.

#[path = "support/installed.rs"]
mod installed;

use std::net::{IpAddr, TcpListener};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use installed::{
    Attempt, NAMESPACE, Replica, ca_bundle, install_all_crds, run_ok, service_account_kubeconfig,
    set_endpoints, standalone, webhook_certs,
};
use neo4j_e2e::{ControlPlane, root, wait_for, wait_until_admission_active};

/// Admission requests a replica answered so far (its own counter).
fn answered(replica: &Replica) -> u64 {
    replica
        .metrics()
        .lines()
        .filter(|l| l.starts_with("neo4j_admission_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.trim().parse::<u64>().ok())
        .sum()
}

/// A port free on both addresses (two pods listen on the same container port).
fn common_port(a: IpAddr, b: IpAddr) -> u16 {
    wait_for(
        "a port free on both addresses",
        Duration::from_secs(10),
        || {
            let la = TcpListener::bind((a, 0)).ok()?;
            let port = la.local_addr().ok()?.port();
            TcpListener::bind((b, port)).ok().map(|_| port)
        },
    )
}

#[test]
fn killing_the_serving_replica_fails_only_requests_in_flight() {
    let cp = ControlPlane::from_env();
    install_all_crds(&cp);

    // Without cert-manager: `neo4j-webhook certs` writes the CA, the serving pair, the Secret
    // and the caBundle patch, plus an overlay of manifests/base that applies them.
    let certs = cp.state_dir.join("replicas-certs");
    let _ = std::fs::remove_dir_all(&certs);
    let bin = neo4j_e2e::webhook_bin();
    run_ok(
        std::process::Command::new(&bin)
            .arg("certs")
            .arg("--out")
            .arg(&certs)
            .arg("--base")
            .arg(root().join("manifests/base")),
    );
    cp.kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=neo4j-install-e2e",
        "-k",
        &certs.to_string_lossy(),
    ]);
    let ca = std::fs::read_to_string(certs.join("ca.crt")).unwrap_or_default();
    for kind in [
        "mutatingwebhookconfiguration",
        "validatingwebhookconfiguration",
    ] {
        assert_eq!(ca_bundle(&cp, kind).trim(), ca.trim(), "{kind} caBundle");
    }
    let secret = cp
        .get_json(NAMESPACE, "secret", "neo4j-webhook-tls")
        .unwrap_or_else(|| panic!("the overlay did not create the Secret"));
    assert_eq!(secret["type"], "kubernetes.io/tls");
    // A second run keeps the previous CA in the bundle, for a rotation without failures.
    webhook_certs(&certs, &[]);
    let bundle = std::fs::read_to_string(certs.join("ca-bundle.crt")).unwrap_or_default();
    assert!(
        bundle.matches("BEGIN CERTIFICATE").count() == 2 && bundle.contains(ca.trim()),
        "the new bundle must carry the previous CA"
    );
    cp.kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=neo4j-install-e2e",
        "-k",
        &certs.to_string_lossy(),
    ]);

    let sa = service_account_kubeconfig(&cp, "neo4j-webhook");
    let (a, b): (IpAddr, IpAddr) = ([127, 0, 0, 2].into(), [127, 0, 0, 3].into());
    let port = common_port(a, b);
    let ra = Replica::start_on(
        &cp,
        "replica-a",
        a,
        port,
        installed::free_port_on(a),
        &certs,
        &sa,
    );
    let rb = Replica::start_on(
        &cp,
        "replica-b",
        b,
        port,
        installed::free_port_on(b),
        &certs,
        &sa,
    );
    set_endpoints(&cp, port, &[(a, true), (b, true)]);
    wait_until_admission_active(&cp);
    cp.create_namespace("replicas-e2e");

    let stop = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let attempts: Mutex<Vec<Attempt>> = Mutex::new(Vec::new());
    let mut replicas = [ra, rb];
    let (kill_at, settled_at, killed, survivor_before) = std::thread::scope(|s| {
        for worker in 0..4 {
            let (cp, stop, done, attempts) = (&cp, &stop, &done, &attempts);
            s.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Acquire) && n < 2000 {
                    let at = Instant::now();
                    let out = cp.kubectl_in(
                        &["apply", "--request-timeout=20s", "-f", "-"],
                        Some(&standalone("replicas-e2e", &format!("w{worker}"), n)),
                    );
                    let attempt = Attempt {
                        n,
                        at,
                        ok: out.status.success(),
                        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                    };
                    attempts
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(attempt);
                    done.fetch_add(1, Ordering::AcqRel);
                    n += 1;
                }
            });
        }
        // Warm up, then kill whichever replica carries the traffic (the API server keeps one
        // HTTP/2 connection, so one replica usually answers everything).
        wait_for(
            "40 applies before the kill",
            Duration::from_secs(300),
            || (done.load(Ordering::Acquire) >= 40).then_some(()),
        );
        let counts = [answered(&replicas[0]), answered(&replicas[1])];
        let victim = usize::from(counts[1] > counts[0]);
        let survivor = 1 - victim;
        let survivor_before = answered(&replicas[survivor]);
        let kill_at = Instant::now();
        replicas[victim].proc.kill();
        let (victim_ip, survivor_ip) = (replicas[victim].ip, replicas[survivor].ip);
        set_endpoints(&cp, port, &[(survivor_ip, true), (victim_ip, false)]);
        // Settled once a server-side dry run is admitted through the survivor.
        wait_until_admission_active(&cp);
        let settled_at = Instant::now();
        let settled_done = done.load(Ordering::Acquire);
        wait_for(
            "40 applies after the switch",
            Duration::from_secs(300),
            || (done.load(Ordering::Acquire) >= settled_done + 40).then_some(()),
        );
        stop.store(true, Ordering::Release);
        (kill_at, settled_at, victim_ip, survivor_before)
    });
    let attempts = attempts.into_inner().unwrap_or_else(|p| p.into_inner());
    let survivor = replicas
        .iter()
        .find(|r| r.ip != killed)
        .unwrap_or_else(|| panic!("no survivor"));
    assert!(
        answered(survivor) > survivor_before,
        "the survivor must answer after the kill"
    );
    let failed_in_flight = attempts
        .iter()
        .filter(|a| !a.ok && a.at < settled_at)
        .count();
    let started_in_window = attempts
        .iter()
        .filter(|a| a.at >= kill_at && a.at < settled_at)
        .count();
    let after: Vec<_> = attempts.iter().filter(|a| a.at >= settled_at).collect();
    let failed_after: Vec<_> = after.iter().filter(|a| !a.ok).collect();
    eprintln!(
        "two replicas: {} applies by 4 loops; killed {killed}; {failed_in_flight} failed before the API server routed to the survivor ({started_in_window} started in that window, {:?} long); {} after, {} of them failed",
        attempts.len(),
        settled_at.duration_since(kill_at),
        after.len(),
        failed_after.len()
    );
    assert!(after.len() >= 40, "too few applies after the switch");
    assert!(
        failed_after.is_empty(),
        "applies failed after the endpoint was marked not ready: {failed_after:#?}"
    );
}
