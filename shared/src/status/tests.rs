//! Unit tests of the status functions: phases, conditions and their transitions.

use super::*;
use k8s_openapi::api::apps::v1::StatefulSetStatus;
use serde_json::json;

fn at(seconds: i64) -> Time {
    Time(k8s_openapi::jiff::Timestamp::from_second(seconds).expect("valid timestamp"))
}

fn cluster_from(spec: serde_json::Value) -> Neo4jEnterpriseCluster {
    let mut c: Neo4jEnterpriseCluster = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseCluster",
        "metadata": {"name": "graph", "namespace": "db", "uid": "u", "generation": 4},
        "spec": spec,
    }))
    .expect("manifest");
    crate::defaults::cluster(&mut c.spec);
    c
}

fn plain_spec() -> serde_json::Value {
    json!({
        "image": {"repo": "neo4j", "tag": "5.26.1"},
        "topology": {"servers": 3},
        "storage": {"size": "1Gi"},
        "acceptLicenseAgreement": "yes"
    })
}

fn plain() -> Neo4jEnterpriseCluster {
    cluster_from(plain_spec())
}

fn with_tls() -> Neo4jEnterpriseCluster {
    let mut spec = plain_spec();
    spec["tls"] = json!({"mode": "cert-manager", "issuerRef": {"name": "ca"}});
    cluster_from(spec)
}

/// A StatefulSet at generation 2 with the given status counts and revisions.
fn sts(
    observed: i64,
    replicas: i32,
    ready: i32,
    updated: i32,
    revisions: (&str, &str),
) -> StatefulSet {
    let mut s = StatefulSet::default();
    s.metadata.generation = Some(2);
    s.status = Some(StatefulSetStatus {
        observed_generation: Some(observed),
        replicas,
        ready_replicas: Some(ready),
        updated_replicas: Some(updated),
        current_revision: Some(revisions.0.into()),
        update_revision: Some(revisions.1.into()),
        ..Default::default()
    });
    s
}

fn observed(s: Option<StatefulSet>) -> Observed {
    Observed {
        statefulset: s,
        ..Default::default()
    }
}

fn established(version: &str) -> Neo4jEnterpriseClusterStatus {
    Neo4jEnterpriseClusterStatus {
        version: Some(version.into()),
        ..Default::default()
    }
}

fn condition<'a>(s: &'a Neo4jEnterpriseClusterStatus, t: &str) -> &'a Condition {
    s.conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == t)
        .unwrap_or_else(|| panic!("no {t} condition"))
}

fn invalid() -> Verdict {
    let mut v = Verdict::default();
    v.error(
        "cluster-min-servers",
        "spec.topology.servers",
        "spec.topology.servers is 1; use 2 or more",
    );
    v.error(
        "memory-heap-format",
        "spec.config[server.memory.heap.max_size]",
        "not a size",
    );
    v.error("cluster-min-servers", "spec.topology.servers", "again");
    v
}

/// (case, cluster, observed, verdict, previous, phase, Ready reason, Progressing,
/// Degraded, version)
type PhaseCase = (
    &'static str,
    Neo4jEnterpriseCluster,
    Observed,
    Verdict,
    Option<Neo4jEnterpriseClusterStatus>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

#[test]
fn observed_states_map_to_phases_and_conditions() {
    let rev = ("r1", "r1");
    let roll = ("r1", "r2");
    let render_error = Observed {
        statefulset: Some(sts(2, 3, 3, 3, rev)),
        render_error: Some(RenderError::MissingUid),
        ..Default::default()
    };
    let cert_pending = Observed {
        statefulset: Some(sts(2, 3, 0, 3, rev)),
        certificate_ready: Some(false),
        ..Default::default()
    };
    let table: Vec<PhaseCase> = vec![
        (
            "invalid",
            plain(),
            observed(Some(sts(2, 3, 3, 3, rev))),
            invalid(),
            None,
            Phase::Failed.as_str(),
            "ValidationFailed",
            "False",
            "False",
            None,
        ),
        (
            "render error",
            plain(),
            render_error,
            Verdict::default(),
            None,
            Phase::Failed.as_str(),
            "RenderFailed",
            "False",
            "False",
            None,
        ),
        (
            "nothing yet",
            plain(),
            observed(None),
            Verdict::default(),
            None,
            Phase::Pending.as_str(),
            "StatefulSetNotFound",
            "True",
            "False",
            None,
        ),
        (
            "waiting for cert",
            with_tls(),
            cert_pending,
            Verdict::default(),
            None,
            Phase::Pending.as_str(),
            "WaitingForCertificate",
            "True",
            "False",
            None,
        ),
        (
            "cert not observed",
            with_tls(),
            observed(Some(sts(2, 3, 0, 3, rev))),
            Verdict::default(),
            None,
            Phase::Initializing.as_str(),
            "Forming",
            "True",
            "False",
            None,
        ),
        (
            "forming",
            plain(),
            observed(Some(sts(2, 3, 1, 3, rev))),
            Verdict::default(),
            None,
            Phase::Initializing.as_str(),
            "Forming",
            "True",
            "False",
            None,
        ),
        (
            "stale generation",
            plain(),
            observed(Some(sts(1, 3, 3, 3, rev))),
            Verdict::default(),
            None,
            Phase::Initializing.as_str(),
            "Forming",
            "True",
            "False",
            None,
        ),
        (
            "ready",
            plain(),
            observed(Some(sts(2, 3, 3, 3, rev))),
            Verdict::default(),
            None,
            Phase::Ready.as_str(),
            "AllServersReady",
            "False",
            "False",
            Some("5.26.1"),
        ),
        (
            "config roll",
            plain(),
            observed(Some(sts(2, 3, 2, 1, roll))),
            Verdict::default(),
            Some(established("5.26.1")),
            Phase::Upgrading.as_str(),
            "RollingUpdate",
            "True",
            "False",
            Some("5.26.1"),
        ),
        (
            "image upgrade",
            plain(),
            observed(Some(sts(2, 3, 2, 1, roll))),
            Verdict::default(),
            Some(established("5.26.0")),
            Phase::Upgrading.as_str(),
            "ImageUpgrade",
            "True",
            "False",
            Some("5.26.0"),
        ),
        (
            "upgrade done",
            plain(),
            observed(Some(sts(2, 3, 3, 3, ("r2", "r2")))),
            Verdict::default(),
            Some(established("5.26.0")),
            Phase::Ready.as_str(),
            "AllServersReady",
            "False",
            "False",
            Some("5.26.1"),
        ),
        (
            "lost servers",
            plain(),
            observed(Some(sts(2, 3, 1, 3, rev))),
            Verdict::default(),
            Some(established("5.26.1")),
            Phase::Initializing.as_str(),
            "ServersNotReady",
            "True",
            "True",
            Some("5.26.1"),
        ),
        (
            "scaling up",
            plain(),
            observed(Some(sts(2, 2, 2, 2, rev))),
            Verdict::default(),
            Some(established("5.26.1")),
            Phase::Initializing.as_str(),
            "ServersNotReady",
            "True",
            "False",
            Some("5.26.1"),
        ),
    ];
    for (case, c, obs, verdict, previous, phase, reason, progressing, degraded, version) in table {
        let s = cluster(&c, &obs, &verdict, previous.as_ref(), at(1_000));
        assert_eq!(s.phase.as_deref(), Some(phase), "{case}");
        assert_eq!(s.ready, Some(phase == Phase::Ready.as_str()), "{case}");
        let ready = condition(&s, ConditionType::Ready.as_str());
        assert_eq!(ready.reason, reason, "{case}");
        assert_eq!(
            ready.status,
            if phase == Phase::Ready.as_str() {
                "True"
            } else {
                "False"
            },
            "{case}"
        );
        assert_eq!(
            condition(&s, ConditionType::Progressing.as_str()).status,
            progressing,
            "{case}"
        );
        assert_eq!(
            condition(&s, ConditionType::Degraded.as_str()).status,
            degraded,
            "{case}"
        );
        assert_eq!(s.version.as_deref(), version, "{case}");
        assert_eq!(s.observed_generation, Some(4), "{case}");
        let types: Vec<&str> = s
            .conditions
            .iter()
            .flatten()
            .map(|c| c.type_.as_str())
            .collect();
        assert_eq!(
            types,
            [
                ConditionType::Ready.as_str(),
                ConditionType::Valid.as_str(),
                ConditionType::Progressing.as_str(),
                ConditionType::Degraded.as_str()
            ]
        );
        for cond in s.conditions.iter().flatten() {
            assert_eq!(cond.observed_generation, Some(4), "{case}");
            assert!(!cond.message.contains('\n'), "{case}");
        }
        assert!(!s.message.as_deref().unwrap_or_default().contains('\n'));
    }
}

#[test]
fn phase_and_condition_names_are_the_status_strings() {
    let phases: Vec<&str> = Phase::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        phases,
        [
            "Pending",
            "Initializing",
            "Ready",
            "Upgrading",
            "Failed",
            "Terminating"
        ]
    );
    let types: Vec<&str> = ConditionType::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        types,
        ["Ready", "Valid", "Progressing", "Degraded", "SecretsReady"]
    );
}

#[test]
fn validation_failure_names_the_rule_ids() {
    let s = cluster(&plain(), &observed(None), &invalid(), None, at(5));
    let valid = condition(&s, ConditionType::Valid.as_str());
    assert_eq!(valid.status, "False");
    assert_eq!(valid.reason, "ValidationFailed");
    assert!(
        valid
            .message
            .contains("cluster-min-servers, memory-heap-format"),
        "{}",
        valid.message
    );
    assert_eq!(
        valid.message.matches("cluster-min-servers").count(),
        2,
        "listed once, plus the first finding"
    );
    assert_eq!(s.phase.as_deref(), Some(Phase::Failed.as_str()));
    assert!(
        s.message
            .as_deref()
            .unwrap_or_default()
            .contains("memory-heap-format")
    );

    let mut warned = Verdict::default();
    warned.warn("cluster-even-servers", "spec.topology.servers", "even");
    let s = cluster(&plain(), &observed(None), &warned, None, at(5));
    let valid = condition(&s, ConditionType::Valid.as_str());
    assert_eq!(
        (valid.status.as_str(), valid.reason.as_str()),
        ("True", "Validated")
    );
    assert!(valid.message.contains("cluster-even-servers"));
}

#[test]
fn steady_status_is_byte_identical_and_keeps_transition_times() {
    let c = plain();
    let obs = observed(Some(sts(2, 3, 3, 3, ("r", "r"))));
    let v = Verdict::default();
    let first = cluster(&c, &obs, &v, None, at(100));
    let again = cluster(&c, &obs, &v, Some(&first), at(200));
    assert_eq!(first, again);
    assert_eq!(
        serde_json::to_string(&first).expect("json"),
        serde_json::to_string(&again).expect("json")
    );
    assert!(
        again
            .conditions
            .iter()
            .flatten()
            .all(|c| c.last_transition_time == at(100))
    );

    // One server goes: Ready and Progressing transition, Valid keeps its time.
    let degraded = observed(Some(sts(2, 3, 2, 3, ("r", "r"))));
    let later = cluster(&c, &degraded, &v, Some(&again), at(300));
    assert_eq!(
        condition(&later, ConditionType::Ready.as_str()).last_transition_time,
        at(300)
    );
    assert_eq!(
        condition(&later, ConditionType::Progressing.as_str()).last_transition_time,
        at(300)
    );
    assert_eq!(
        condition(&later, ConditionType::Valid.as_str()).last_transition_time,
        at(100)
    );
    // Degraded stays False with the same reason: its time is kept though the message moved.
    assert_eq!(
        condition(&later, ConditionType::Degraded.as_str()).last_transition_time,
        at(100)
    );
}

#[test]
fn replicas_endpoints_and_upgrade_time() {
    let c = with_tls();
    let obs = Observed {
        statefulset: Some(sts(2, 3, 3, 3, ("r", "r"))),
        certificate_ready: Some(true),
        ..Default::default()
    };
    let s = cluster(
        &c,
        &obs,
        &Verdict::default(),
        Some(&established("5.26.0")),
        at(42),
    );
    assert_eq!(
        s.replicas,
        Some(ReplicaStatus {
            servers: Some(3),
            ready: Some(3)
        })
    );
    let e = s.endpoints.clone().unwrap_or_default();
    assert_eq!(
        e.bolt.as_deref(),
        Some("bolt+s://graph-client.db.svc.cluster.local:7687")
    );
    assert_eq!(
        e.http.as_deref(),
        Some("http://graph-client.db.svc.cluster.local:7474")
    );
    assert_eq!(
        e.https.as_deref(),
        Some("https://graph-client.db.svc.cluster.local:7473")
    );
    let internal = e.internal.unwrap_or_default();
    assert_eq!(
        internal.headless.as_deref(),
        Some("graph-headless.db.svc.cluster.local")
    );
    assert_eq!(
        internal.client.as_deref(),
        Some("graph-client.db.svc.cluster.local")
    );
    assert_eq!(
        e.connection_examples.and_then(|x| x.neo4j_uri).as_deref(),
        Some("neo4j+s://graph-client.db.svc.cluster.local:7687")
    );
    assert_eq!(s.version.as_deref(), Some("5.26.1"));
    assert_eq!(s.last_upgrade_time, Some(at(42)));

    let s = cluster(&plain(), &observed(None), &Verdict::default(), None, at(1));
    let e = s.endpoints.unwrap_or_default();
    assert_eq!(
        e.bolt.as_deref(),
        Some("bolt://graph-client.db.svc.cluster.local:7687")
    );
    assert_eq!(e.https, None);
    assert_eq!(s.last_upgrade_time, None);
    assert_eq!(
        s.replicas,
        Some(ReplicaStatus {
            servers: Some(3),
            ready: Some(0)
        })
    );
}

#[test]
fn standalone_status_follows_its_statefulset() {
    let s: Neo4jEnterpriseStandalone = serde_json::from_value(json!({
        "apiVersion": "neo4j.neo4j.com/v1beta1",
        "kind": "Neo4jEnterpriseStandalone",
        "metadata": {"name": "solo", "namespace": "db", "generation": 2},
        "spec": {"image": {"repo": "neo4j", "tag": "2025.01.0"}, "storage": {"size": "1Gi"}}
    }))
    .expect("manifest");
    let pending = standalone(&s, &Observed::default(), &Verdict::default(), None, at(1));
    assert_eq!(pending.phase.as_deref(), Some(Phase::Pending.as_str()));
    assert_eq!(pending.version, None);
    let obs = Observed {
        statefulset: Some(sts(2, 1, 1, 1, ("r", "r"))),
        ..Default::default()
    };
    let ready = standalone(&s, &obs, &Verdict::default(), Some(&pending), at(2));
    assert_eq!(ready.phase.as_deref(), Some(Phase::Ready.as_str()));
    assert_eq!(ready.ready, Some(true));
    assert_eq!(ready.version.as_deref(), Some("2025.01.0"));
    assert_eq!(ready.message.as_deref(), Some("1/1 server ready"));
    let e = ready.endpoints.clone().unwrap_or_default();
    assert_eq!(
        e.bolt.as_deref(),
        Some("bolt://solo-client.db.svc.cluster.local:7687")
    );
    assert_eq!(e.internal, None);
    // The Valid condition did not change between the two.
    let valid = |st: &Neo4jEnterpriseStandaloneStatus| {
        st.conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == ConditionType::Valid.as_str())
            .map(|c| c.last_transition_time.clone())
    };
    assert_eq!(valid(&ready), Some(at(1)));
}

#[test]
fn refused_and_failing_writes_and_blocked_deletions_show_in_ready() {
    let ready_sts = || Some(sts(2, 3, 3, 3, ("r1", "r1")));
    let failure = |kind| WriteFailure {
        kind,
        message: "apply services/graph-client: Service \"graph-client\" is invalid".into(),
    };
    let cases = [
        (
            "apply refused",
            Observed {
                statefulset: ready_sts(),
                write_failure: Some(failure(FailureKind::Rejected)),
                ..Default::default()
            },
            Phase::Failed,
            "ApplyRejected",
        ),
        (
            "writes failing",
            Observed {
                statefulset: ready_sts(),
                write_failure: Some(failure(FailureKind::Unavailable)),
                ..Default::default()
            },
            Phase::Failed,
            "ApiError",
        ),
        (
            "deletion blocked",
            Observed {
                statefulset: ready_sts(),
                write_failure: Some(failure(FailureKind::DeletionBlocked)),
                deleting: true,
                ..Default::default()
            },
            Phase::Terminating,
            "DeletionBlocked",
        ),
        (
            "deleting",
            Observed {
                statefulset: ready_sts(),
                deleting: true,
                ..Default::default()
            },
            Phase::Terminating,
            "Deleting",
        ),
    ];
    for (case, obs, phase, reason) in cases {
        let st = cluster(&plain(), &obs, &Verdict::default(), None, at(5));
        assert_eq!(st.phase.as_deref(), Some(phase.as_str()), "{case}");
        assert_eq!(st.ready, Some(false), "{case}");
        let ready = condition(&st, "Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", reason),
            "{case}"
        );
        if let Some(f) = &obs.write_failure {
            assert_eq!(ready.message, f.message, "{case}: the API server's message");
        }
        assert_eq!(condition(&st, "Progressing").status, "False", "{case}");
        assert_eq!(
            st.replicas.as_ref().and_then(|r| r.ready),
            Some(3),
            "{case}"
        );
    }
    // Near miss: the same observation without a failure is Ready.
    let fine = Observed {
        statefulset: ready_sts(),
        ..Default::default()
    };
    let st = cluster(&plain(), &fine, &Verdict::default(), None, at(5));
    assert_eq!(st.phase.as_deref(), Some(Phase::Ready.as_str()));
    // Validation still comes first: an invalid spec is not reported as a refused apply.
    let obs = Observed {
        write_failure: Some(failure(FailureKind::Rejected)),
        ..Default::default()
    };
    let st = cluster(&plain(), &obs, &invalid(), None, at(5));
    assert_eq!(condition(&st, "Ready").reason, "ValidationFailed");
}

#[test]
fn secret_problems_become_a_condition_and_the_reason_not_to_be_ready() {
    let problem = SecretProblem {
        reason: "AdminSecretMissing",
        message: "the admin Secret creds does not exist".into(),
    };
    let forming = Observed {
        statefulset: Some(sts(2, 3, 0, 3, ("r", "r"))),
        secrets: Some(vec![problem.clone()]),
        ..Default::default()
    };
    let s = cluster(&plain(), &forming, &Verdict::default(), None, at(1));
    let secrets = condition(&s, "SecretsReady");
    assert_eq!(
        (secrets.status.as_str(), secrets.reason.as_str()),
        ("False", "AdminSecretMissing")
    );
    let ready = condition(&s, "Ready");
    assert_eq!(ready.reason, "AdminSecretMissing");
    assert_eq!(ready.message, problem.message);
    // Fixed: the condition turns True; unchecked: no condition at all.
    let fine = Observed {
        secrets: Some(vec![]),
        ..forming.clone()
    };
    let s = cluster(&plain(), &fine, &Verdict::default(), None, at(2));
    assert_eq!(condition(&s, "SecretsReady").status, "True");
    assert_eq!(condition(&s, "Ready").reason, "Forming");
    let unchecked = Observed {
        secrets: None,
        ..forming
    };
    let s = cluster(&plain(), &unchecked, &Verdict::default(), None, at(3));
    assert!(
        s.conditions
            .iter()
            .flatten()
            .all(|c| c.type_ != "SecretsReady")
    );
}

#[test]
fn endpoints_follow_the_cluster_domain() {
    let obs = Observed {
        cluster_domain: Some("corp.example".into()),
        ..Default::default()
    };
    let s = cluster(&plain(), &obs, &Verdict::default(), None, at(1));
    let e = s.endpoints.unwrap_or_default();
    assert_eq!(
        e.bolt.as_deref(),
        Some("bolt://graph-client.db.svc.corp.example:7687")
    );
    assert_eq!(
        e.internal.and_then(|i| i.headless).as_deref(),
        Some("graph-headless.db.svc.corp.example")
    );
}
