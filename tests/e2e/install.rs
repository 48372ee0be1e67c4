//! The one-command install: `kubectl apply -k manifests/` and the Helm chart render the same
//! objects, pass a server-side dry run on the real API server (with cert-manager's and the
//! Prometheus Operator's CRDs) without a single pod security warning, and give each
//! ServiceAccount exactly the committed permissions. Run by tests/scripts/install-e2e.sh.

#[path = "support/installed.rs"]
mod installed;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use installed::{NAMESPACE, install, install_all_crds, run, run_ok, tool};
use neo4j_e2e::{ControlPlane, root, wait_for, warnings};
use serde_json::{Value, json};

/// Objects keyed by `kind/namespace/name`.
type Objects = BTreeMap<String, Value>;

/// Whole floats as integers: kustomize re-serializes `1.0` as `1`, Helm passes files through.
fn normalize(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                // Exact: |f| < 2^53 and integral.
                *v = json!(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

fn parse_objects(yaml: &str) -> Objects {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml)
        .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}"));
    let mut out = Objects::new();
    for mut doc in docs.into_iter().filter(|d| d.is_object()) {
        normalize(&mut doc);
        let key = format!(
            "{}/{}/{}",
            doc["kind"].as_str().unwrap_or("?"),
            doc["metadata"]["namespace"].as_str().unwrap_or(""),
            doc["metadata"]["name"].as_str().unwrap_or("?")
        );
        assert!(
            out.insert(key.clone(), doc).is_none(),
            "{key} rendered twice"
        );
    }
    out
}

fn kustomize(cp: &ControlPlane, dir: &str) -> Objects {
    parse_objects(&cp.kubectl_ok(&["kustomize", &root().join(dir).to_string_lossy()]))
}

fn chart() -> PathBuf {
    root().join("manifests/helm/neo4j-operator")
}

/// `helm` with its cache and config kept under the state directory.
fn helm(cp: &ControlPlane) -> Command {
    let home = cp.state_dir.join("helm-home");
    let mut cmd = Command::new(tool("helm"));
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    cmd
}

fn helm_template(cp: &ControlPlane, set: &[&str]) -> String {
    let mut cmd = helm(cp);
    cmd.args(["template", "neo4j-operator"])
        .arg(chart())
        .arg("--include-crds");
    for s in set {
        cmd.args(["--set", s]);
    }
    run_ok(&mut cmd)
}

fn assert_same_objects(what: &str, helm: &Objects, kustomize: &Objects) {
    let only_helm: Vec<_> = helm
        .keys()
        .filter(|k| !kustomize.contains_key(*k))
        .collect();
    let only_kustomize: Vec<_> = kustomize
        .keys()
        .filter(|k| !helm.contains_key(*k))
        .collect();
    assert!(
        only_helm.is_empty() && only_kustomize.is_empty(),
        "{what}: only in Helm {only_helm:?}, only in kustomize {only_kustomize:?}"
    );
    for (key, k) in kustomize {
        let h = &helm[key];
        assert!(
            h == k,
            "{what}: {key} differs\nHelm:\n{h:#}\nkustomize:\n{k:#}"
        );
    }
}

fn get<'a>(objects: &'a Objects, key: &str) -> &'a Value {
    objects
        .get(key)
        .unwrap_or_else(|| panic!("{key} is not rendered; have {:?}", objects.keys()))
}

#[test]
fn kustomize_install_has_every_piece() {
    let cp = ControlPlane::from_env();
    let objects = kustomize(&cp, "manifests");

    let ns = get(&objects, "Namespace//neo4j-operator");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );

    // Every generated CRD file is part of the install (manifests/crds/Kustomization lists them).
    let mut files: Vec<String> = std::fs::read_dir(root().join("manifests/crds"))
        .unwrap_or_else(|e| panic!("manifests/crds: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml"))
        .map(|f| f.trim_end_matches(".yaml").to_string())
        .collect();
    files.sort();
    let crds: Vec<String> = objects
        .values()
        .filter(|o| o["kind"] == "CustomResourceDefinition")
        .map(|o| {
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(crds, files);

    for sa in ["neo4j-webhook", "neo4j-controller"] {
        get(&objects, &format!("ServiceAccount/{NAMESPACE}/{sa}"));
    }
    // The webhook reads clusters and standalones through a watch cache and writes nothing.
    let role = get(&objects, "ClusterRole//neo4j-webhook");
    assert_eq!(
        role["rules"],
        json!([{"apiGroups": ["neo4j.neo4j.com"],
            "resources": ["neo4jenterpriseclusters", "neo4jenterprisestandalones"],
            "verbs": ["list", "watch"]}])
    );

    let webhook = get(&objects, &format!("Deployment/{NAMESPACE}/neo4j-webhook"));
    assert_eq!(webhook["spec"]["replicas"], 2);
    assert!(
        webhook["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"].is_object(),
        "webhook pods need anti-affinity"
    );
    let controller = get(
        &objects,
        &format!("Deployment/{NAMESPACE}/neo4j-controller"),
    );
    assert_eq!(controller["spec"]["replicas"], 2);
    assert!(
        controller["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("--leader-elect"))),
        "two controller replicas need leader election"
    );
    for deployment in [webhook, controller] {
        let pod = &deployment["spec"]["template"]["spec"];
        for c in pod["containers"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("?");
            assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{name}");
            assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{name}");
            assert!(c["resources"]["requests"]["cpu"].is_string(), "{name}");
            assert!(c["resources"]["requests"]["memory"].is_string(), "{name}");
            assert!(c["resources"]["limits"]["memory"].is_string(), "{name}");
            let sc = &c["securityContext"];
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
            assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{name}");
            assert_eq!(sc["runAsNonRoot"], true, "{name}");
            assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
        }
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
    }
    let pdb = get(
        &objects,
        &format!("PodDisruptionBudget/{NAMESPACE}/neo4j-webhook"),
    );
    assert_eq!(pdb["spec"]["minAvailable"], 1);

    for kind in [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        let cfg = get(&objects, &format!("{kind}//neo4j-webhook"));
        assert_eq!(
            cfg["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            "neo4j-operator/neo4j-webhook",
            "{kind}"
        );
        for hook in cfg["webhooks"].as_array().into_iter().flatten() {
            assert_eq!(hook["admissionReviewVersions"], json!(["v1"]), "{kind}");
            assert_eq!(hook["sideEffects"], "None", "{kind}");
            assert_eq!(hook["failurePolicy"], "Fail", "{kind}");
            assert_eq!(hook["matchPolicy"], "Equivalent", "{kind}");
            assert!(
                hook["timeoutSeconds"].as_u64().is_some_and(|t| t <= 5),
                "{kind}"
            );
            assert_eq!(hook["clientConfig"]["service"]["name"], "neo4j-webhook");
            for rule in hook["rules"].as_array().into_iter().flatten() {
                assert_eq!(rule["apiGroups"], json!(["neo4j.neo4j.com"]), "{kind}");
            }
        }
    }

    // cert-manager: self-signed Issuer → CA Certificate → CA Issuer → serving Certificate for
    // the Service's names, in the Secret the webhook mounts; short-lived and renewed early.
    let ca = get(
        &objects,
        &format!("Certificate/{NAMESPACE}/neo4j-webhook-ca"),
    );
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(ca["spec"]["issuerRef"]["name"], "neo4j-webhook-selfsigned");
    get(
        &objects,
        &format!("Issuer/{NAMESPACE}/neo4j-webhook-selfsigned"),
    );
    let ca_issuer = get(&objects, &format!("Issuer/{NAMESPACE}/neo4j-webhook-ca"));
    assert_eq!(
        ca_issuer["spec"]["ca"]["secretName"],
        ca["spec"]["secretName"]
    );
    let serving = get(&objects, &format!("Certificate/{NAMESPACE}/neo4j-webhook"));
    assert_eq!(serving["spec"]["issuerRef"]["name"], "neo4j-webhook-ca");
    assert_eq!(
        serving["spec"]["dnsNames"],
        json!([
            "neo4j-webhook.neo4j-operator.svc",
            "neo4j-webhook.neo4j-operator.svc.cluster.local"
        ])
    );
    assert!(serving["spec"]["renewBefore"].is_string());
    assert_eq!(
        serving["spec"]["secretName"],
        webhook["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"]
    );
}

#[test]
fn helm_chart_lints_and_renders_the_kustomize_objects() {
    let cp = ControlPlane::from_env();
    let lint = run_ok(helm(&cp).arg("lint").arg(chart()));
    assert!(lint.contains("0 chart(s) failed"), "{lint}");

    assert_same_objects(
        "default values vs manifests/",
        &parse_objects(&helm_template(&cp, &[])),
        &kustomize(&cp, "manifests"),
    );

    let mut with_monitoring = kustomize(&cp, "manifests");
    with_monitoring.extend(kustomize(&cp, "manifests/monitoring"));
    assert_same_objects(
        "monitoring.enabled=true vs manifests/ + manifests/monitoring/",
        &parse_objects(&helm_template(&cp, &["monitoring.enabled=true"])),
        &with_monitoring,
    );

    // Without cert-manager: the base plus the caBundle, no Issuer or Certificate.
    let external = parse_objects(&helm_template(
        &cp,
        &["certificates.mode=external", "certificates.caBundle=Q0E="],
    ));
    let mut base = kustomize(&cp, "manifests/base");
    for kind in [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        let cfg = base
            .get_mut(&format!("{kind}//neo4j-webhook"))
            .unwrap_or_else(|| panic!("{kind} missing from manifests/base"));
        cfg["webhooks"][0]["clientConfig"]["caBundle"] = json!("Q0E=");
    }
    assert_same_objects(
        "certificates.mode=external vs manifests/base",
        &external,
        &base,
    );

    // Values change what they say they change.
    let scaled = parse_objects(&helm_template(
        &cp,
        &[
            "webhook.replicas=3",
            "namespace.name=graphs",
            "webhook.timeoutSeconds=3",
        ],
    ));
    assert_eq!(
        get(&scaled, "Deployment/graphs/neo4j-webhook")["spec"]["replicas"],
        3
    );
    let cfg = get(&scaled, "ValidatingWebhookConfiguration//neo4j-webhook");
    assert_eq!(cfg["webhooks"][0]["timeoutSeconds"], 3);
    assert_eq!(
        cfg["webhooks"][0]["clientConfig"]["service"]["namespace"],
        "graphs"
    );
    assert_eq!(
        cfg["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "graphs/neo4j-webhook"
    );

    let bad = run(helm(&cp)
        .args(["template", "neo4j-operator"])
        .arg(chart())
        .args(["--set", "certificates.mode=external"]));
    assert!(
        !bad.status.success()
            && String::from_utf8_lossy(&bad.stderr).contains("needs certificates.caBundle"),
        "external mode without a caBundle must not render"
    );
}

/// `kubectl apply --server-side --dry-run=server` of a rendering; returns kubectl's warnings.
fn dry_run(cp: &ControlPlane, args: &[&str], stdin: Option<&str>) -> Vec<String> {
    let mut full = vec![
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=neo4j-install-e2e",
        "--dry-run=server",
    ];
    full.extend_from_slice(args);
    let out = cp.kubectl_in(&full, stdin);
    assert!(
        out.status.success(),
        "dry run {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    warnings(&out.stderr)
}

#[test]
fn dry_run_installs_pass_without_pod_security_warnings() {
    let cp = ControlPlane::from_env();
    install_all_crds(&cp);
    // Namespaced objects need their namespace to exist even in a dry run.
    cp.kubectl_ok(&[
        "apply",
        "-f",
        &root()
            .join("manifests/base/namespace.yaml")
            .to_string_lossy(),
    ]);

    let manifests = root().join("manifests");
    let monitoring = root().join("manifests/monitoring");
    for (what, warned) in [
        (
            "kubectl apply -k manifests/",
            dry_run(&cp, &["-k", &manifests.to_string_lossy()], None),
        ),
        (
            "kubectl apply -k manifests/monitoring/",
            dry_run(&cp, &["-k", &monitoring.to_string_lossy()], None),
        ),
        (
            "helm template (monitoring on) | kubectl apply",
            dry_run(
                &cp,
                &["-f", "-"],
                Some(&helm_template(&cp, &["monitoring.enabled=true"])),
            ),
        ),
    ] {
        assert!(warned.is_empty(), "{what}: warnings {warned:?}");
    }

    // The namespace's `warn: restricted` label is live: a pod template that breaks the
    // profile does get a warning (so the silence above means something).
    let loose = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "loose", "namespace": NAMESPACE},
        "spec": {"selector": {"matchLabels": {"app": "loose"}},
            "template": {"metadata": {"labels": {"app": "loose"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
    .to_string();
    let out = cp.kubectl_in(&["apply", "--dry-run=server", "-f", "-"], Some(&loose));
    let warned = warnings(&out.stderr);
    assert!(
        warned
            .iter()
            .any(|w| w.contains("PodSecurity \"restricted:latest\"")),
        "expected a pod security warning for a loose template, got {warned:?}"
    );
}

/// `kubectl auth can-i --list` as a ServiceAccount in the install's namespace: the header,
/// then one rule per line, runs of spaces collapsed, sorted (the authorizer's order is not a
/// contract).
fn can_i_list(cp: &ControlPlane, sa: &str) -> String {
    let user = format!("--as=system:serviceaccount:{NAMESPACE}:{sa}");
    let out = cp.kubectl_ok(&["auth", "can-i", "--list", &user, "-n", NAMESPACE]);
    let mut lines = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty());
    let header = lines.next().unwrap_or_default();
    let mut rules: Vec<String> = lines.collect();
    rules.sort();
    std::iter::once(header)
        .chain(rules)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn expected_file(sa: &str) -> PathBuf {
    root().join(format!("tests/e2e/expected/rbac-{sa}.txt"))
}

#[test]
fn service_accounts_have_exactly_the_committed_permissions() {
    let cp = ControlPlane::from_env();
    install(&cp);
    for sa in ["neo4j-webhook", "neo4j-controller"] {
        let actual = can_i_list(&cp, sa);
        let path = expected_file(sa);
        if std::env::var_os("UPDATE_EXPECTED").is_some() {
            std::fs::write(&path, &actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (UPDATE_EXPECTED=1 writes it from the live cluster)",
                path.display()
            )
        });
        assert_eq!(
            actual,
            expected,
            "`kubectl auth can-i --list` as {sa} differs from {}",
            path.display()
        );
    }
    // The webhook may not write anything, not even its own kinds.
    let user = format!("--as=system:serviceaccount:{NAMESPACE}:neo4j-webhook");
    let out = cp.kubectl(&[
        "auth",
        "can-i",
        "patch",
        "neo4jenterpriseclusters",
        &user,
        "-A",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no");
}

#[test]
fn real_install_creates_every_pod_under_restricted_enforcement() {
    let cp = ControlPlane::from_env();
    install(&cp);
    // No scheduler runs, so the pods stay Pending; that the ReplicaSets could create them at
    // all shows pod security admission (`enforce: restricted`) accepted the templates.
    for app in ["neo4j-webhook", "neo4j-controller"] {
        let selector = format!("app.kubernetes.io/name={app}");
        wait_for(&format!("two {app} pods"), Duration::from_secs(60), || {
            let out = cp.kubectl_ok(&[
                "get", "pods", "-n", NAMESPACE, "-l", &selector, "-o", "name",
            ]);
            (out.lines().count() == 2).then_some(())
        });
    }
    let events = cp.kubectl_ok(&[
        "get",
        "events",
        "-n",
        NAMESPACE,
        "--field-selector=reason=FailedCreate",
        "-o",
        "name",
    ]);
    assert!(events.trim().is_empty(), "pods refused: {events}");
}
