//! The objects of a Neo4jEnterpriseStandalone (`docs/design.md`, Names and Rendering decisions).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as appsv1;
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::names::{Labels, StandaloneNames, VOLUME_CLAIM_STANDALONE_DATA};
use crate::types::{Neo4jEnterpriseStandalone, Neo4jEnterpriseStandaloneSpec, TLSSpec};
use crate::version::parse_tag;

use super::cluster::{
    TERMINATION_GRACE_SECONDS, certs_volume, client_annotations, client_service_spec,
    config_volume, startup_probe, statefulset_spec,
};
use super::conf::{self, StandaloneConfInput};
use super::object::{
    self, DesiredObject, Owner, PORT_BACKUP, PORT_BOLT, PORT_HTTP, PORT_HTTPS, PORT_METRICS,
    RenderError, cert_manager_tls, service, service_ports,
};
use super::pod::{self, container_port, empty_dir, exec_probe, mount};
use super::site::Site;
use super::tls::{self, CertificateInput, service_names};
use crate::plugins::PluginSet;

const HASHED_KEYS: [&str; 6] = [
    "neo4j.conf",
    "apoc.conf",
    "env-settings",
    "startup.sh",
    "health.sh",
    "truststore.sh",
];

struct Ctx<'a> {
    site: &'a Site,
    owner: Owner,
    names: StandaloneNames,
    spec: &'a Neo4jEnterpriseStandaloneSpec,
    tls: bool,
    monitoring: bool,
    cas: Vec<pod::TrustedCa>,
    plugins: &'a PluginSet,
}

impl Ctx<'_> {
    fn client_fqdn(&self) -> String {
        self.names
            .client_fqdn_in(&self.owner.namespace, &self.site.cluster_domain)
    }
}

pub(super) fn render(
    s: &Neo4jEnterpriseStandalone,
    site: &Site,
    plugins: &PluginSet,
) -> Result<Vec<DesiredObject>, RenderError> {
    let owner = Owner::of_standalone(s)?;
    let spec = &s.spec;
    let cx = Ctx {
        site,
        names: StandaloneNames::new(&owner.name),
        owner,
        spec,
        tls: cert_manager_tls(spec.tls.as_ref()),
        monitoring: conf::monitoring_enabled(spec.monitoring.as_ref()),
        cas: pod::trusted_cas(spec.trusted_ca_secrets.as_deref(), spec.auth.as_ref()),
        plugins,
    };
    let (config_map, config_hash) = config_map(&cx)?;
    let mut out = vec![config_map, headless_service(&cx)?, client_service(&cx)?];
    out.push(alias_service(&cx)?);
    if cx.tls {
        out.push(certificate(&cx)?);
    }
    out.push(statefulset(&cx, &config_hash)?);
    Ok(out)
}

fn config_map(cx: &Ctx<'_>) -> Result<(DesiredObject, String), RenderError> {
    let spec = cx.spec;
    let files = conf::standalone_conf(&StandaloneConfInput {
        client_fqdn: cx.client_fqdn(),
        version: parse_tag(&spec.image.tag),
        tls: spec.tls.as_ref(),
        monitoring: spec.monitoring.as_ref(),
        auth: spec.auth.as_ref(),
        config: spec.config.as_ref(),
        env: spec.env.as_deref(),
        trusted_cas: !cx.cas.is_empty(),
        plugins: &cx.plugins.settings,
        plugin_apoc: &cx.plugins.apoc,
    });
    let mut data = BTreeMap::from([
        ("neo4j.conf".to_string(), files.neo4j),
        (
            "startup.sh".to_string(),
            conf::STANDALONE_STARTUP_SH.to_string(),
        ),
        (
            "health.sh".to_string(),
            conf::STANDALONE_HEALTH_SH.to_string(),
        ),
        ("truststore.sh".to_string(), conf::TRUSTSTORE_SH.to_string()),
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
        Labels::new(),
        data,
        &HASHED_KEYS,
    )
}

fn headless_service(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let mut list = vec![
        ("bolt", PORT_BOLT),
        ("http", PORT_HTTP),
        ("backup", PORT_BACKUP),
    ];
    if cx.tls {
        list.push(("https", PORT_HTTPS));
    }
    service(
        &cx.owner,
        cx.names.headless_service(),
        cx.names.component_labels("standalone-headless"),
        Labels::new(),
        corev1::ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            selector: Some(cx.names.selector()),
            publish_not_ready_addresses: Some(true),
            ports: Some(service_ports(&list)),
            ..Default::default()
        },
    )
}

/// The client ports: http, bolt, metrics (monitoring), https (TLS).
fn client_ports(cx: &Ctx<'_>) -> Vec<(&'static str, i32)> {
    let mut list = vec![("http", PORT_HTTP), ("bolt", PORT_BOLT)];
    if cx.monitoring {
        list.push(("metrics", PORT_METRICS));
    }
    if cx.tls {
        list.push(("https", PORT_HTTPS));
    }
    list
}

fn client_service(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let mut labels = cx.names.component_labels("standalone");
    labels.insert("neo4j.com/metrics-endpoint".into(), "true".into());
    let service_spec = cx.spec.service.as_ref();
    service(
        &cx.owner,
        cx.names.client_service(),
        labels,
        client_annotations(service_spec),
        client_service_spec(
            service_spec,
            cx.names.selector(),
            service_ports(&client_ports(cx)),
        ),
    )
}

fn alias_service(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    service(
        &cx.owner,
        cx.names.alias_service(),
        cx.names.component_labels("standalone"),
        Labels::from([(
            "neo4j.com/deprecated-alias-of".to_string(),
            cx.names.client_service(),
        )]),
        corev1::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(cx.names.selector()),
            ports: Some(service_ports(&client_ports(cx))),
            ..Default::default()
        },
    )
}

fn certificate(cx: &Ctx<'_>) -> Result<DesiredObject, RenderError> {
    let ns = &cx.owner.namespace;
    let default_tls = TLSSpec::default();
    let dns_names = [cx.names.client_service(), cx.names.alias_service()]
        .iter()
        .flat_map(|s| service_names(s, ns, &cx.site.cluster_domain))
        .collect();
    tls::certificate(CertificateInput {
        owner: &cx.owner,
        name: cx.names.certificate(),
        secret_name: cx.names.tls_secret(),
        labels: Labels::new(),
        common_name: None,
        dns_names,
        tls: cx.spec.tls.as_ref().unwrap_or(&default_tls),
        dns_name: cx.spec.service.as_ref().and_then(|s| s.dns_name.as_deref()),
    })
}

fn statefulset(cx: &Ctx<'_>, config_hash: &str) -> Result<DesiredObject, RenderError> {
    let spec = cx.spec;
    let security = pod::container_security_context(spec.security_context.as_ref());
    let image = pod::image(&spec.image);
    // NEO4J_CONF is exported by startup.sh, which points it at the copy it completes.
    let mut env = pod::env(
        spec.accept_license_agreement.as_deref(),
        spec.auth.as_ref(),
        Vec::new(),
        spec.env.as_deref(),
    )?;
    cx.plugins.add_env(&mut env);

    let mut ports = vec![
        container_port("http", PORT_HTTP),
        container_port("https", PORT_HTTPS),
        container_port("bolt", PORT_BOLT),
        container_port("backup", PORT_BACKUP),
    ];
    if cx.monitoring {
        ports.push(container_port("metrics", PORT_METRICS));
    }
    let mut mounts = vec![
        mount(VOLUME_CLAIM_STANDALONE_DATA, "/data", false),
        mount("neo4j-config", "/conf", true),
        // Plugin installers write here (the reference's standalone pod lacked this volume).
        mount("plugins", "/plugins", false),
    ];
    let mut volumes = vec![
        config_volume("neo4j-config", cx.names.config_map()),
        empty_dir("plugins"),
    ];
    if cx.tls {
        mounts.push(mount("neo4j-certs", "/ssl", true));
        volumes.push(certs_volume("neo4j-certs", cx.names.tls_secret(), false));
    }
    let init_containers = pod::truststore(
        &cx.cas,
        image.clone(),
        spec.image.pull_policy.clone(),
        "neo4j-config",
        security.clone(),
    )
    .map(|t| vec![t.attach(&mut mounts, &mut volumes)]);
    let init_containers = cx
        .plugins
        .add_init_containers(init_containers, &cx.cas, &mut volumes);
    let health = ["/bin/bash", "/conf/health.sh"];
    let container = corev1::Container {
        name: "neo4j".into(),
        image: Some(image),
        image_pull_policy: spec.image.pull_policy.clone(),
        command: Some(vec!["/bin/bash".into(), "/conf/startup.sh".into()]),
        env: Some(env),
        env_from: spec.extra_env_from.clone().filter(|e| !e.is_empty()),
        ports: Some(ports),
        resources: spec.resources.clone(),
        startup_probe: Some(startup_probe(&health, &spec.storage)),
        readiness_probe: Some(exec_probe(&health, 0, 10, 5, 3, None)),
        liveness_probe: Some(exec_probe(&health, 0, 30, 5, 3, None)),
        security_context: Some(security),
        volume_mounts: Some(pod::with_user_mounts(
            mounts,
            spec.extra_volume_mounts.as_deref(),
        )),
        ..Default::default()
    };
    let template = corev1::PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(cx.names.pod_labels()),
            annotations: Some(pod::pod_annotations(config_hash, cx.monitoring)),
            ..Default::default()
        }),
        spec: Some(corev1::PodSpec {
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            security_context: Some(pod::pod_security_context(spec.security_context.as_ref())),
            termination_grace_period_seconds: Some(TERMINATION_GRACE_SECONDS),
            image_pull_secrets: pod::image_pull_secrets(&spec.image),
            node_selector: spec.node_selector.clone().filter(|n| !n.is_empty()),
            tolerations: spec.tolerations.clone().filter(|t| !t.is_empty()),
            affinity: spec.affinity.clone(),
            init_containers,
            containers: vec![container],
            volumes: Some(pod::with_user_volumes(
                volumes,
                spec.extra_volumes.as_deref(),
            )),
            ..Default::default()
        }),
    };
    let sts = appsv1::StatefulSetSpec {
        replicas: Some(1),
        service_name: Some(cx.names.headless_service()),
        selector: LabelSelector {
            match_labels: Some(cx.names.selector()),
            ..Default::default()
        },
        template,
        ..statefulset_spec(
            &spec.storage,
            VOLUME_CLAIM_STANDALONE_DATA,
            cx.names.pvc_labels(),
            "Retain",
        )
    };
    object::statefulset(&cx.owner, cx.names.statefulset(), Labels::new(), sts)
}
