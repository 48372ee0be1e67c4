//! The objects of a Neo4jEnterpriseCluster (`docs/design.md`, Names and Rendering decisions).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as appsv1;
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::api::policy::v1 as policyv1;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::memory;
use crate::names::{
    APP_INSTANCE, APP_NAME, ClusterNames, LABEL_CLUSTER, LABEL_CLUSTERING, LABEL_SERVER_NAME,
    LABEL_SERVICE_TYPE, Labels, VOLUME_CLAIM_DATA,
};
use crate::topology::{default_primaries, effective_system_primaries};
use crate::types::{
    Neo4jEnterpriseCluster, Neo4jEnterpriseClusterSpec, PlacementConfig, StorageSpec,
};
use crate::version::parse_tag;

use super::conf::{self, CLUSTER_PORT_NAME, ClusterConfInput};
use super::object::{
    self, DesiredObject, Owner, PORT_BACKUP, PORT_BOLT, PORT_CLUSTER, PORT_HTTP, PORT_HTTPS,
    PORT_METRICS, PORT_RAFT, PORT_ROUTING, PORT_TRANSACTION, RenderError, cert_manager_tls,
    desired, service, service_ports, strict_peer_validation,
};
use super::pod::{self, container_port, empty_dir, exec_probe, mount};
use super::site::Site;
use super::tls::{self, CertificateInput, service_names};
use crate::plugins::PluginSet;

/// ConfigMap keys that change what a running server does; their hash rolls the pods.
pub(crate) const HASHED_KEYS: [&str; 6] = [
    "neo4j.conf",
    "apoc.conf",
    "env-settings",
    "startup.sh",
    "health.sh",
    "truststore.sh",
];
/// Long enough for Neo4j to checkpoint and leave the cluster cleanly (the reference's 30 s
/// was not).
pub(crate) const TERMINATION_GRACE_SECONDS: i64 = 120;
const ZONE_KEY: &str = "topology.kubernetes.io/zone";
const HOSTNAME_KEY: &str = "kubernetes.io/hostname";

/// The ports of the headless and internals Services (all TCP).
const INTERNAL_PORTS: [(&str, i32); 7] = [
    ("bolt", PORT_BOLT),
    ("http", PORT_HTTP),
    (CLUSTER_PORT_NAME, PORT_CLUSTER),
    ("routing", PORT_ROUTING),
    ("raft", PORT_RAFT),
    ("transaction", PORT_TRANSACTION),
    ("backup", PORT_BACKUP),
];

/// Everything the objects of one cluster are derived from.
struct Ctx<'a> {
    site: &'a Site,
    owner: Owner,
    names: ClusterNames,
    spec: &'a Neo4jEnterpriseClusterSpec,
    tls: bool,
    strict: bool,
    monitoring: bool,
    cas: Vec<pod::TrustedCa>,
    plugins: &'a PluginSet,
}

impl Ctx<'_> {
    fn ns(&self) -> &str {
        &self.owner.namespace
    }
    fn tag(&self) -> &str {
        &self.spec.image.tag
    }
    /// The base label set with a role, minus `neo4j.com/clustering` (as the reference labels it).
    fn labels(&self, role: Option<&str>) -> Labels {
        let mut l = self.names.base_labels(self.tag(), role);
        l.remove(LABEL_CLUSTERING);
        l
    }
    fn cluster_selector(&self) -> Labels {
        Labels::from([(LABEL_CLUSTER.to_string(), self.names.cluster().to_string())])
    }
    fn headless_fqdn(&self) -> String {
        self.names
            .headless_fqdn_in(self.ns(), &self.site.cluster_domain)
    }
}

pub(super) fn render(
    c: &Neo4jEnterpriseCluster,
    site: &Site,
    plugins: &PluginSet,
) -> Result<Vec<DesiredObject>, RenderError> {
    let owner = Owner::of_cluster(c)?;
    let spec = &c.spec;
    let cx = Ctx {
        site,
        names: ClusterNames::new(&owner.name),
        owner,
        spec,
        tls: cert_manager_tls(spec.tls.as_ref()),
        strict: strict_peer_validation(spec.tls.as_ref()),
        monitoring: conf::monitoring_enabled(spec.monitoring.as_ref()),
        cas: pod::trusted_cas(spec.trusted_ca_secrets.as_deref(), spec.auth.as_ref()),
        plugins,
    };
    let (config_map, config_hash) = config_map(&cx)?;
    let mut out = vec![config_map, service_account(&cx)?];
    out.push(headless_service(&cx)?);
    out.push(internals_service(&cx)?);
    out.push(client_service(&cx)?);
    if cx.monitoring {
        out.push(metrics_service(&cx)?);
    }
    if cx.tls {
        out.push(certificate(&cx)?);
    }
    out.push(pod_disruption_budget(&cx)?);
    out.push(statefulset(&cx, &config_hash)?);
    Ok(out)
}

fn config_map(cx: &Ctx<'_>) -> Result<(DesiredObject, String), RenderError> {
    let spec = cx.spec;
    let version = parse_tag(cx.tag()).ok_or_else(|| RenderError::UnsupportedImageTag {
        tag: cx.tag().to_string(),
    })?;
    let sharding = spec
        .property_sharding
        .as_ref()
        .and_then(|p| p.config.as_ref());
    let plan = memory::plan(
        memory::container_limit(spec.resources.as_ref()),
        &memory::explicit_keys(spec.config.as_ref(), sharding),
    )?;
    let files = conf::cluster_conf(&ClusterConfInput {
        headless_fqdn: cx.headless_fqdn(),
        version,
        memory: &plan,
        tls: spec.tls.as_ref(),
        monitoring: spec.monitoring.as_ref(),
        auth: spec.auth.as_ref(),
        config: spec.config.as_ref(),
        env: spec.env.as_deref(),
        trusted_cas: !cx.cas.is_empty(),
        plugins: &cx.plugins.settings,
        plugin_apoc: &cx.plugins.apoc,
    });
    // The user's own value stays in neo4j.conf.
    let default_primaries = (!spec
        .config
        .as_ref()
        .is_some_and(|c| c.contains_key(conf::DEFAULT_PRIMARIES_KEY)))
    .then(|| default_primaries(&spec.topology));
    let mut data = BTreeMap::from([
        ("neo4j.conf".to_string(), files.neo4j),
        (
            "startup.sh".to_string(),
            conf::CLUSTER_STARTUP_SH.to_string(),
        ),
        ("health.sh".to_string(), conf::CLUSTER_HEALTH_SH.to_string()),
        ("truststore.sh".to_string(), conf::TRUSTSTORE_SH.to_string()),
        (
            "bootstrap.conf".to_string(),
            conf::bootstrap_conf(
                effective_system_primaries(&spec.topology),
                default_primaries,
            ),
        ),
        (
            "server-modes.conf".to_string(),
            conf::server_modes(&spec.topology),
        ),
    ]);
    if let Some(apoc) = files.apoc {
        data.insert("apoc.conf".to_string(), apoc);
    }
    if let Some(env) = files.env_settings {
        data.insert("env-settings".to_string(), env);
    }
    object::config_map(
        &cx.owner,
        cx.names.config_map(),
        cx.names.base_labels(cx.tag(), Some("config")),
        data,
        &HASHED_KEYS,
    )
}

fn service_account(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let name = cx.names.discovery_rbac();
    let sa = corev1::ServiceAccount {
        metadata: cx.owner.meta(
            name.clone(),
            cx.names
                .base_labels(cx.tag(), Some("discovery-service-account")),
            cx.spec
                .pod_service_account_annotations
                .clone()
                .unwrap_or_default(),
        ),
        ..Default::default()
    };
    desired("v1", "ServiceAccount", "serviceaccounts", name, &sa)
}

fn headless_service(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let mut labels = cx.labels(None);
    labels.remove(LABEL_SERVICE_TYPE);
    service(
        &cx.owner,
        cx.names.headless_service(),
        labels,
        Labels::new(),
        corev1::ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            selector: Some(cx.cluster_selector()),
            // Discovery needs every pod's SRV record before any pod is ready.
            publish_not_ready_addresses: Some(true),
            ports: Some(service_ports(&INTERNAL_PORTS)),
            ..Default::default()
        },
    )
}

fn internals_service(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    service(
        &cx.owner,
        cx.names.internals_service(),
        cx.labels(None),
        Labels::new(),
        corev1::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(cx.cluster_selector()),
            publish_not_ready_addresses: Some(true),
            ports: Some(service_ports(&INTERNAL_PORTS)),
            ..Default::default()
        },
    )
}

/// The client Service's type and the options that type allows (the API server refuses
/// `externalTrafficPolicy` on a ClusterIP Service, and load-balancer fields elsewhere).
pub(crate) fn client_service_spec(
    service: Option<&crate::types::ServiceSpec>,
    selector: Labels,
    ports: Vec<corev1::ServicePort>,
) -> corev1::ServiceSpec {
    let type_ = service
        .and_then(|s| s.type_.as_deref())
        .filter(|t| !t.is_empty())
        .unwrap_or("ClusterIP")
        .to_string();
    let lb = type_ == "LoadBalancer";
    let external = lb || type_ == "NodePort";
    corev1::ServiceSpec {
        selector: Some(selector),
        ports: Some(ports),
        load_balancer_ip: service
            .and_then(|s| s.load_balancer_ip.clone())
            .filter(|ip| lb && !ip.is_empty()),
        load_balancer_source_ranges: service
            .and_then(|s| s.load_balancer_source_ranges.clone())
            .filter(|r| lb && !r.is_empty()),
        external_traffic_policy: service
            .and_then(|s| s.external_traffic_policy.clone())
            .filter(|p| external && !p.is_empty()),
        type_: Some(type_),
        ..Default::default()
    }
}

/// `spec.service.annotations` plus the external-dns hostname for `dnsName`, unless given.
pub(crate) fn client_annotations(service: Option<&crate::types::ServiceSpec>) -> Labels {
    let mut a = service
        .and_then(|s| s.annotations.clone())
        .unwrap_or_default();
    if let Some(dns) = service
        .and_then(|s| s.dns_name.as_deref())
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        a.entry("external-dns.alpha.kubernetes.io/hostname".to_string())
            .or_insert_with(|| dns.to_string());
    }
    a
}

fn client_service(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let mut ports = vec![("bolt", PORT_BOLT), ("http", PORT_HTTP)];
    if cx.tls {
        ports.push(("https", PORT_HTTPS));
    }
    let service_spec = cx.spec.service.as_ref();
    service(
        &cx.owner,
        cx.names.client_service(),
        cx.labels(Some("client")),
        client_annotations(service_spec),
        client_service_spec(service_spec, cx.cluster_selector(), service_ports(&ports)),
    )
}

fn metrics_service(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let mut labels = cx.names.base_labels(cx.tag(), Some("metrics"));
    labels.insert(LABEL_SERVICE_TYPE.into(), "metrics".into());
    let selector = Labels::from([
        (APP_NAME.to_string(), "neo4j".to_string()),
        (LABEL_CLUSTER.to_string(), cx.names.cluster().to_string()),
    ]);
    service(
        &cx.owner,
        cx.names.metrics_service(),
        labels,
        Labels::new(),
        corev1::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector),
            ports: Some(service_ports(&[("metrics", PORT_METRICS)])),
            ..Default::default()
        },
    )
}

/// DNS names of the cluster certificate: the four names of each of the three Services, and for
/// the servers one wildcard per form of the headless Service's name (`*.<c>-headless.<ns>.svc.
/// <domain>` and its shorter forms). A server's name is `<pod>.<c>-headless…`, which the wildcard
/// covers whatever the server count: a scaled-up server is in the certificate before it starts,
/// and scaling changes neither the names nor the certificate.
pub(crate) fn certificate_dns_names(names: &ClusterNames, ns: &str, domain: &str) -> Vec<String> {
    let mut out: Vec<String> = [
        names.client_service(),
        names.internals_service(),
        names.headless_service(),
    ]
    .iter()
    .flat_map(|s| service_names(s, ns, domain))
    .collect();
    out.extend(
        service_names(&names.headless_service(), ns, domain)
            .into_iter()
            .skip(1)
            .map(|n| format!("*.{n}")),
    );
    out
}

fn certificate(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let default_tls = crate::types::TLSSpec::default();
    tls::certificate(CertificateInput {
        owner: &cx.owner,
        name: cx.names.certificate(),
        secret_name: cx.names.tls_secret(),
        labels: cx.names.base_labels(cx.tag(), Some("tls")),
        common_name: Some(cx.names.cluster().to_string()),
        dns_names: certificate_dns_names(&cx.names, cx.ns(), &cx.site.cluster_domain),
        tls: cx.spec.tls.as_ref().unwrap_or(&default_tls),
        dns_name: cx.spec.service.as_ref().and_then(|s| s.dns_name.as_deref()),
    })
}

/// Period of the startup probe, in seconds.
const STARTUP_PROBE_PERIOD: i32 = 10;
/// The startup probe's smallest budget, in seconds: the official Helm chart's.
const STARTUP_BUDGET_MIN: u64 = 5_000;
/// Seconds of budget per GiB of storage above that: a large store may replay a long
/// transaction log or rebuild indexes before it opens the HTTP port.
const STARTUP_SECONDS_PER_GIB: u64 = 6;

/// The startup probe's failure threshold: a budget of max(5,000 s, 6 s per GiB of
/// `spec.storage.size`) after its 30 s initial delay, so a server recovering a large store is
/// not killed while it starts (liveness and readiness begin only after it).
pub(crate) fn startup_failure_threshold(storage: &StorageSpec) -> i32 {
    let gib = crate::units::quantity_bytes(storage.size.trim()).unwrap_or(0) >> 30;
    let budget = STARTUP_BUDGET_MIN.max(gib.saturating_mul(STARTUP_SECONDS_PER_GIB));
    i32::try_from(budget.div_ceil(STARTUP_PROBE_PERIOD as u64)).unwrap_or(i32::MAX)
}

/// The startup probe running `args`.
pub(crate) fn startup_probe(args: &[&str], storage: &StorageSpec) -> corev1::Probe {
    exec_probe(
        args,
        30,
        STARTUP_PROBE_PERIOD,
        5,
        startup_failure_threshold(storage),
        Some(1),
    )
}

/// Voluntary disruptions allowed at once: one, or none for two servers (see the module docs).
pub(crate) fn max_unavailable(servers: i32) -> i32 {
    if servers >= 3 { 1 } else { 0 }
}

fn pod_disruption_budget(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let name = cx.names.pod_disruption_budget();
    let pdb = policyv1::PodDisruptionBudget {
        metadata: cx.owner.meta(
            name.clone(),
            cx.labels(Some("disruption-budget")),
            Labels::new(),
        ),
        spec: Some(policyv1::PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(max_unavailable(cx.spec.topology.servers))),
            selector: Some(LabelSelector {
                match_labels: Some(cx.names.server_pod_selector()),
                ..Default::default()
            }),
            // A pod that is not ready serves nothing: let drains evict it.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    desired(
        "policy/v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        name,
        &pdb,
    )
}

/// Requests 500m / 1Gi, limits 1000m / 2Gi unless `spec.resources` is given (the reference's
/// defaults).
fn resources(spec: &Neo4jEnterpriseClusterSpec) -> corev1::ResourceRequirements {
    spec.resources
        .clone()
        .unwrap_or_else(|| pod::resources(("500m", "1Gi"), ("1000m", "2Gi")))
}

/// `spec.affinity` with the placement's anti-affinity term added to (never replacing) the
/// user's own pod anti-affinity (the reference overwrote it). The default topology key is the
/// node: zone anti-affinity cannot place three servers in two zones.
fn affinity(cx: &Ctx<'_>) -> Option<corev1::Affinity> {
    let user = cx.spec.affinity.clone();
    let Some(anti) = cx
        .spec
        .topology
        .placement
        .as_ref()
        .and_then(|p| p.anti_affinity.as_ref())
        .filter(|a| a.enabled == Some(true))
    else {
        return user;
    };
    let term = corev1::PodAffinityTerm {
        label_selector: Some(LabelSelector {
            match_labels: Some(Labels::from([
                (APP_NAME.to_string(), "neo4j".to_string()),
                (APP_INSTANCE.to_string(), cx.names.cluster().to_string()),
            ])),
            ..Default::default()
        }),
        topology_key: anti
            .topology_key
            .clone()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| HOSTNAME_KEY.to_string()),
        ..Default::default()
    };
    let required = anti.type_.as_deref() == Some("required")
        || cx.spec.topology.enforce_distribution == Some(true);
    let mut affinity = user.unwrap_or_default();
    let pod_anti = affinity
        .pod_anti_affinity
        .get_or_insert_with(Default::default);
    if required {
        pod_anti
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(term);
    } else {
        pod_anti
            .preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(corev1::WeightedPodAffinityTerm {
                pod_affinity_term: term,
                weight: 100,
            });
    }
    Some(affinity)
}

/// `app.kubernetes.io/name=neo4j` plus the server pod selector (instance, component).
fn spread_selector(names: &ClusterNames) -> Labels {
    let mut l = names.server_pod_selector();
    l.insert(APP_NAME.into(), "neo4j".into());
    l
}

fn topology_spread(
    names: &ClusterNames,
    placement: Option<&PlacementConfig>,
) -> Option<Vec<corev1::TopologySpreadConstraint>> {
    let spread = placement
        .and_then(|p| p.topology_spread.as_ref())
        .filter(|s| s.enabled == Some(true))?;
    let when = match spread.when_unsatisfiable.as_deref() {
        Some("ScheduleAnyway") => "ScheduleAnyway",
        _ => "DoNotSchedule",
    };
    Some(vec![corev1::TopologySpreadConstraint {
        max_skew: spread.max_skew.filter(|s| *s > 0).unwrap_or(1),
        topology_key: spread
            .topology_key
            .clone()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| ZONE_KEY.to_string()),
        when_unsatisfiable: when.to_string(),
        label_selector: Some(LabelSelector {
            match_labels: Some(spread_selector(names)),
            ..Default::default()
        }),
        // The API server allows minDomains only with DoNotSchedule.
        min_domains: spread
            .min_domains
            .filter(|m| *m > 0 && when == "DoNotSchedule"),
        ..Default::default()
    }])
}

/// The certs volume: the Secret cert-manager writes. With strict peer validation the CA is
/// also the trust anchor of the cluster policy (`/ssl/trusted/ca.crt`).
pub(crate) fn certs_volume(name: &str, secret: String, strict_items: bool) -> corev1::Volume {
    let item = |key: &str, path: &str| corev1::KeyToPath {
        key: key.into(),
        path: path.into(),
        ..Default::default()
    };
    corev1::Volume {
        name: name.into(),
        secret: Some(corev1::SecretVolumeSource {
            secret_name: Some(secret),
            default_mode: Some(0o440),
            items: strict_items.then(|| {
                vec![
                    item("tls.crt", "tls.crt"),
                    item("tls.key", "tls.key"),
                    item("ca.crt", "ca.crt"),
                    item("ca.crt", "trusted/ca.crt"),
                ]
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn config_volume(name: &str, config_map: String) -> corev1::Volume {
    corev1::Volume {
        name: name.into(),
        config_map: Some(corev1::ConfigMapVolumeSource {
            name: config_map,
            default_mode: Some(0o755),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What both kinds' StatefulSet specs share: rolling updates, and the one data claim template
/// `claim` from `spec.storage`, whose PVCs follow its `retentionPolicy` when the resource is
/// deleted and `when_scaled` on scale-down. The caller sets the rest.
pub(crate) fn statefulset_spec(
    storage: &StorageSpec,
    claim: &str,
    claim_labels: Labels,
    when_scaled: &str,
) -> appsv1::StatefulSetSpec {
    appsv1::StatefulSetSpec {
        update_strategy: Some(appsv1::StatefulSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            ..Default::default()
        }),
        persistent_volume_claim_retention_policy: Some(retention_policy(
            storage.retention_policy.as_deref(),
            when_scaled,
        )),
        volume_claim_templates: Some(vec![claim_template(
            claim,
            claim_labels,
            &storage.size,
            storage.class_name.as_deref(),
        )]),
        ..Default::default()
    }
}

/// A claim template requesting `size` (RWO), in `class` when one is named.
fn claim_template(
    name: &str,
    labels: Labels,
    size: &str,
    class: Option<&str>,
) -> corev1::PersistentVolumeClaim {
    corev1::PersistentVolumeClaim {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(corev1::PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(corev1::VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(size.trim().to_string()),
                )])),
                ..Default::default()
            }),
            storage_class_name: class
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `whenDeleted` from `spec.storage.retentionPolicy`: Delete only when asked for; the default
/// is Retain (the reference defaults to Delete; keeping the data is the safer default).
fn retention_policy(
    retention: Option<&str>,
    when_scaled: &str,
) -> appsv1::StatefulSetPersistentVolumeClaimRetentionPolicy {
    let when_deleted = match retention {
        Some("Delete") => "Delete",
        _ => "Retain",
    };
    appsv1::StatefulSetPersistentVolumeClaimRetentionPolicy {
        when_deleted: Some(when_deleted.into()),
        when_scaled: Some(when_scaled.into()),
    }
}

fn statefulset(cx: &Ctx<'_>, config_hash: &str) -> Result<DesiredObject, RenderError> {
    let spec = cx.spec;
    let security = pod::container_security_context(spec.security_context.as_ref());
    let image = pod::image(&spec.image);

    let mut env = pod::env(
        spec.accept_license_agreement.as_deref(),
        spec.auth.as_ref(),
        vec![corev1::EnvVar {
            // Read by startup.sh to build the pod's FQDN; not a NEO4J_ name, which the image
            // would turn into a setting.
            name: "SERVER_SUBDOMAIN".into(),
            value: Some(cx.headless_fqdn()),
            ..Default::default()
        }],
        spec.env.as_deref(),
    )?;
    cx.plugins.add_env(&mut env);

    let mut ports = vec![
        container_port("bolt", PORT_BOLT),
        container_port("http", PORT_HTTP),
        container_port("https", PORT_HTTPS),
        container_port(CLUSTER_PORT_NAME, PORT_CLUSTER),
        container_port("routing", PORT_ROUTING),
        container_port("raft", PORT_RAFT),
        container_port("transaction", PORT_TRANSACTION),
        container_port("backup", PORT_BACKUP),
    ];
    if cx.monitoring {
        ports.push(container_port("metrics", PORT_METRICS));
    }

    let mut mounts = vec![
        mount(VOLUME_CLAIM_DATA, "/data", false),
        mount("config", "/conf", true),
        mount("logs", "/logs", false),
        mount("plugins", "/plugins", false),
    ];
    let mut volumes = vec![
        config_volume("config", cx.names.config_map()),
        empty_dir("logs"),
        empty_dir("plugins"),
    ];
    if cx.tls {
        mounts.push(mount("certs", "/ssl", true));
        volumes.push(certs_volume("certs", cx.names.tls_secret(), cx.strict));
    }
    let init_containers = pod::truststore(
        &cx.cas,
        image.clone(),
        spec.image.pull_policy.clone(),
        "config",
        security.clone(),
    )
    .map(|t| vec![t.attach(&mut mounts, &mut volumes)]);
    let init_containers = cx
        .plugins
        .add_init_containers(init_containers, &cx.cas, &mut volumes);

    let health = |probe: &'static str| ["/bin/bash", "/conf/health.sh", probe];
    let container = corev1::Container {
        name: "neo4j".into(),
        image: Some(image),
        image_pull_policy: spec.image.pull_policy.clone(),
        command: Some(vec!["/bin/bash".into(), "/conf/startup.sh".into()]),
        env: Some(env),
        env_from: spec.extra_env_from.clone().filter(|e| !e.is_empty()),
        ports: Some(ports),
        resources: Some(resources(spec)),
        startup_probe: Some(startup_probe(&health("startup"), &spec.storage)),
        readiness_probe: Some(exec_probe(&health("readiness"), 45, 15, 5, 8, None)),
        liveness_probe: Some(exec_probe(&health("liveness"), 120, 60, 10, 3, None)),
        security_context: Some(security),
        volume_mounts: Some(pod::with_user_mounts(
            mounts,
            spec.extra_volume_mounts.as_deref(),
        )),
        ..Default::default()
    };

    let template = corev1::PodTemplateSpec {
        metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            labels: Some(cx.names.pod_labels(cx.tag())),
            annotations: Some(pod::pod_annotations(config_hash, cx.monitoring)),
            ..Default::default()
        }),
        spec: Some(corev1::PodSpec {
            service_account_name: Some(cx.names.discovery_rbac()),
            // Nothing in the pod calls the Kubernetes API.
            automount_service_account_token: Some(false),
            // Service environment variables named NEO4J_* would become settings.
            enable_service_links: Some(false),
            security_context: Some(pod::pod_security_context(spec.security_context.as_ref())),
            termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
            image_pull_secrets: pod::image_pull_secrets(&spec.image),
            node_selector: spec.node_selector.clone().filter(|n| !n.is_empty()),
            tolerations: spec.tolerations.clone().filter(|t| !t.is_empty()),
            affinity: affinity(cx),
            topology_spread_constraints: topology_spread(
                &cx.names,
                spec.topology.placement.as_ref(),
            ),
            init_containers,
            containers: vec![container],
            volumes: Some(pod::with_user_volumes(
                volumes,
                spec.extra_volumes.as_deref(),
            )),
            ..Default::default()
        }),
    };

    let mut labels = cx.labels(Some("server"));
    labels.insert(LABEL_SERVER_NAME.into(), "server".into());
    let sts = appsv1::StatefulSetSpec {
        replicas: Some(spec.topology.servers),
        service_name: Some(cx.names.headless_service()),
        pod_management_policy: Some("Parallel".into()),
        selector: LabelSelector {
            match_labels: Some(cx.names.statefulset_selector()),
            ..Default::default()
        },
        template,
        ..statefulset_spec(
            &spec.storage,
            VOLUME_CLAIM_DATA,
            cx.names.pvc_labels(),
            "Delete",
        )
    };
    object::statefulset(&cx.owner, cx.names.statefulset(), labels, sts)
}
