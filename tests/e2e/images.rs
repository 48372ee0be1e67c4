//! Container images without a container engine: each binary's Dockerfile is multi-stage with a
//! distroless, non-root runtime stage and no shell, and the binaries themselves need nothing
//! that runtime lacks: only glibc's libraries (at most the glibc of Debian 12, which
//! distroless `cc-debian12` ships), no system CA store, no environment. Checks the release
//! binaries when `target/release` has them, else the debug ones (same linking).
//! Run by tests/scripts/install-e2e.sh.

#[path = "support/installed.rs"]
mod installed;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use installed::{Proc, free_port_on, http_get, run_ok};
use neo4j_e2e::{ControlPlane, root, wait_for};

/// Shared libraries distroless `cc-debian12` provides (glibc and libgcc).
const RUNTIME_LIBS: [&str; 8] = [
    "linux-vdso.so.1",
    "libc.so.6",
    "libm.so.6",
    "libgcc_s.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "ld-linux-x86-64.so.2",
];
/// glibc of Debian 12 (bookworm), the distroless runtime.
const RUNTIME_GLIBC: (u32, u32) = (2, 36);

fn binary(name: &str) -> PathBuf {
    let release = root().join("target/release").join(name);
    if release.is_file() {
        release
    } else {
        root().join("target/debug").join(name)
    }
}

/// Highest `GLIBC_x.y` symbol version the binary references.
fn max_glibc(path: &PathBuf) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut max = (0, 0);
    for (i, w) in bytes.windows(6).enumerate() {
        if w != b"GLIBC_" {
            continue;
        }
        let tail: String = bytes[i + 6..]
            .iter()
            .take(8)
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|b| *b as char)
            .collect();
        let mut parts = tail.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            max = max.max((major, minor));
        }
    }
    max
}

#[test]
fn dockerfiles_are_multi_stage_distroless_and_non_root() {
    for (dockerfile, bin) in [
        ("webhook/Dockerfile", "neo4j-webhook"),
        ("controller/Dockerfile", "neo4j-controller"),
    ] {
        let text = std::fs::read_to_string(root().join(dockerfile))
            .unwrap_or_else(|e| panic!("{dockerfile}: {e}"));
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let froms: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("FROM "))
            .map(|(i, _)| i)
            .collect();
        assert!(froms.len() >= 2, "{dockerfile}: not multi-stage");
        let runtime = &lines[froms[froms.len() - 1]..];
        assert!(
            runtime[0].contains("gcr.io/distroless/") && runtime[0].ends_with(":nonroot"),
            "{dockerfile}: runtime stage {:?} is not distroless nonroot",
            runtime[0]
        );
        assert!(
            !runtime.iter().any(|l| l.starts_with("RUN ")),
            "{dockerfile}: the runtime stage has no shell to RUN"
        );
        let user = runtime
            .iter()
            .find_map(|l| l.strip_prefix("USER "))
            .unwrap_or_else(|| panic!("{dockerfile}: no USER"));
        let uid: u32 = user
            .split(':')
            .next()
            .and_then(|u| u.parse().ok())
            .unwrap_or_else(|| panic!("{dockerfile}: USER {user} is not numeric"));
        assert_ne!(uid, 0, "{dockerfile}: runs as root");
        let entry = runtime
            .iter()
            .find_map(|l| l.strip_prefix("ENTRYPOINT "))
            .unwrap_or_else(|| panic!("{dockerfile}: no ENTRYPOINT"));
        assert_eq!(
            entry,
            format!("[\"/usr/local/bin/{bin}\"]"),
            "{dockerfile}: exec-form ENTRYPOINT"
        );
        assert!(
            text.contains(&format!("cargo build --release --locked -p {bin}")),
            "{dockerfile}: builds {bin}"
        );
    }
}

#[test]
fn binaries_need_only_what_the_distroless_runtime_has() {
    for name in ["neo4j-webhook", "neo4j-controller"] {
        let path = binary(name);
        let file = run_ok(Command::new("file").arg("-L").arg(&path));
        assert!(file.contains("ELF 64-bit"), "{name}: {file}");
        let ldd = run_ok(Command::new("ldd").arg(&path));
        let libs: Vec<String> = ldd
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|l| l.rsplit('/').next().unwrap_or(l).to_string())
            .collect();
        assert!(!libs.is_empty(), "{name}: ldd said {ldd}");
        for lib in &libs {
            assert!(
                RUNTIME_LIBS.contains(&lib.as_str()),
                "{name} needs {lib}, which distroless cc does not ship:\n{ldd}"
            );
        }
        let glibc = max_glibc(&path);
        assert!(
            glibc <= RUNTIME_GLIBC,
            "{name} needs GLIBC_{}.{}, Debian 12 has {}.{}",
            glibc.0,
            glibc.1,
            RUNTIME_GLIBC.0,
            RUNTIME_GLIBC.1
        );
        eprintln!(
            "{}: {} libraries ({}), glibc ≥ {}.{}",
            path.display(),
            libs.len(),
            libs.join(", "),
            glibc.0,
            glibc.1
        );
    }
}

#[test]
fn webhook_starts_with_an_empty_environment_and_no_ca_store() {
    let cp = ControlPlane::from_env();
    let dir = cp.state_dir.join("images");
    let _ = std::fs::remove_dir_all(&dir);
    // `certs` and `serve --no-cluster` need no HOME, no SSL_CERT_FILE, no /etc/ssl: the API
    // server's CA comes from the ServiceAccount (or kubeconfig), the serving pair from files.
    let certs = dir.join("certs");
    run_ok(
        Command::new(binary("neo4j-webhook"))
            .env_clear()
            .arg("certs")
            .arg("--out")
            .arg(&certs),
    );
    let ip: IpAddr = [127, 0, 0, 1].into();
    let (port, metrics) = (free_port_on(ip), free_port_on(ip));
    let mut proc = Proc::spawn(
        &cp,
        "images-webhook",
        Command::new(binary("neo4j-webhook"))
            .env_clear()
            .arg("serve")
            .arg("--no-cluster")
            .arg(format!("--listen=127.0.0.1:{port}"))
            .arg(format!("--metrics-listen=127.0.0.1:{metrics}"))
            .arg(format!(
                "--tls-cert-file={}",
                certs.join("tls.crt").display()
            ))
            .arg(format!(
                "--tls-key-file={}",
                certs.join("tls.key").display()
            )),
    );
    wait_for("the webhook to be ready", Duration::from_secs(30), || {
        proc.assert_running();
        (http_get(ip, metrics, "/readyz").map(|(c, _)| c) == Some(200)).then_some(())
    });
}
