//! Every generated object name and label set, in one place (`docs/design.md`, Names). The
//! controller, the validator's name-length rules and the tests all use these functions, so a
//! suffix is spelled exactly once.

use std::collections::BTreeMap;

/// Labels as a sorted map: rendering must be deterministic byte for byte.
pub type Labels = BTreeMap<String, String>;

/// Longest suffix appended to a cluster name for an object whose name is a DNS-1035 label
/// (Services): `-internals`.
pub const CLUSTER_SERVICE_SUFFIX_MAX: usize = "-internals".len();
/// The StatefulSet controller labels pods `controller-revision-hash=<sts>-<hash ≤ 10 chars>`,
/// a 63-char label value, so a StatefulSet name may be at most 52 characters.
pub const STATEFULSET_NAME_MAX: usize = 52;
/// Longest cluster name: the StatefulSet `<c>-server` must fit [`STATEFULSET_NAME_MAX`].
pub const CLUSTER_NAME_MAX: usize = STATEFULSET_NAME_MAX - SERVER_SUFFIX.len();
/// Longest standalone name: its StatefulSet is named after it.
pub const STANDALONE_NAME_MAX: usize = STATEFULSET_NAME_MAX;

const SERVER_SUFFIX: &str = "-server";

/// Default Secret holding the admin credentials (keys `username`, `password`).
pub const DEFAULT_ADMIN_SECRET: &str = "neo4j-admin-secret";
/// The field manager of every server-side apply the controller makes.
pub const FIELD_MANAGER: &str = "neo4j-controller";
/// Value of `app.kubernetes.io/managed-by` on generated objects (the reference's, kept so
/// existing selectors and dashboards keep matching).
pub const MANAGED_BY: &str = "neo4j-operator";
/// Pod-template annotation carrying the hash of the rendered configuration; the only thing
/// that rolls pods.
pub const CONFIG_HASH_ANNOTATION: &str = "neo4j.com/config-hash";

/// The DNS domain of a Kubernetes cluster unless told otherwise (`--cluster-domain`).
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";

/// The in-cluster DNS name `<service>.<namespace>.svc.<domain>` (also for a pod behind a
/// headless Service: `<pod>.<service>`).
pub fn service_fqdn(service: &str, namespace: &str, domain: &str) -> String {
    format!("{service}.{namespace}.svc.{domain}")
}

/// Whether `domain` can be a cluster's DNS domain: a DNS-1123 subdomain of at most 253
/// characters, without a trailing dot.
pub fn valid_cluster_domain(domain: &str) -> bool {
    domain.len() <= 253
        && !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Names of the objects generated for one Neo4jEnterpriseCluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNames {
    cluster: String,
}

impl ClusterNames {
    pub fn new(cluster: &str) -> Self {
        Self {
            cluster: cluster.to_string(),
        }
    }
    pub fn cluster(&self) -> &str {
        &self.cluster
    }
    fn with(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.cluster)
    }
    /// The one StatefulSet holding every server.
    pub fn statefulset(&self) -> String {
        self.with(SERVER_SUFFIX)
    }
    /// Pod `i` of the server StatefulSet.
    pub fn pod(&self, index: u32) -> String {
        format!("{}-{index}", self.statefulset())
    }
    /// PVC of pod `i` (claim template `data`).
    pub fn pvc(&self, index: u32) -> String {
        format!("{}-{}", VOLUME_CLAIM_DATA, self.pod(index))
    }
    pub fn headless_service(&self) -> String {
        self.with("-headless")
    }
    pub fn client_service(&self) -> String {
        self.with("-client")
    }
    pub fn internals_service(&self) -> String {
        self.with("-internals")
    }
    pub fn discovery_service(&self) -> String {
        self.with("-discovery")
    }
    pub fn metrics_service(&self) -> String {
        self.with("-metrics")
    }
    pub fn config_map(&self) -> String {
        self.with("-config")
    }
    /// ServiceAccount, Role and RoleBinding used by discovery share one name.
    pub fn discovery_rbac(&self) -> String {
        self.with("-discovery")
    }
    pub fn certificate(&self) -> String {
        self.with("-tls")
    }
    pub fn tls_secret(&self) -> String {
        self.with("-tls-secret")
    }
    pub fn pod_disruption_budget(&self) -> String {
        self.with("-server")
    }
    pub fn ingress(&self) -> String {
        self.with("-ingress")
    }
    pub fn network_policy(&self) -> String {
        self.with("-server-netpol")
    }
    pub fn route(&self) -> String {
        self.with("-client-route")
    }
    pub fn mcp_route(&self) -> String {
        self.with("-mcp-route")
    }
    pub fn service_monitor(&self) -> String {
        self.with("-monitoring")
    }
    /// In-cluster DNS name of pod `i` behind the headless Service (in `cluster.local`).
    pub fn pod_fqdn(&self, index: u32, namespace: &str) -> String {
        self.pod_fqdn_in(index, namespace, DEFAULT_CLUSTER_DOMAIN)
    }
    /// In-cluster DNS name of pod `i` behind the headless Service, in `domain`.
    pub fn pod_fqdn_in(&self, index: u32, namespace: &str, domain: &str) -> String {
        service_fqdn(
            &format!("{}.{}", self.pod(index), self.headless_service()),
            namespace,
            domain,
        )
    }
    /// In-cluster DNS name of the client Service (in `cluster.local`).
    pub fn client_fqdn(&self, namespace: &str) -> String {
        self.client_fqdn_in(namespace, DEFAULT_CLUSTER_DOMAIN)
    }
    /// In-cluster DNS name of the client Service, in `domain`.
    pub fn client_fqdn_in(&self, namespace: &str, domain: &str) -> String {
        service_fqdn(&self.client_service(), namespace, domain)
    }
    /// In-cluster DNS name of the headless Service, in `domain`.
    pub fn headless_fqdn_in(&self, namespace: &str, domain: &str) -> String {
        service_fqdn(&self.headless_service(), namespace, domain)
    }

    /// Base label set (`getLabelsForEnterprise`): every generated object carries it, with a
    /// role where one is given.
    pub fn base_labels(&self, image_tag: &str, role: Option<&str>) -> Labels {
        let mut l = Labels::new();
        l.insert(APP_NAME.into(), "neo4j".into());
        l.insert(APP_INSTANCE.into(), self.cluster.clone());
        l.insert(APP_VERSION.into(), image_tag.into());
        l.insert(APP_COMPONENT.into(), "database".into());
        l.insert("app.kubernetes.io/part-of".into(), "neo4j-cluster".into());
        l.insert(APP_MANAGED_BY.into(), MANAGED_BY.into());
        l.insert(LABEL_CLUSTER.into(), self.cluster.clone());
        l.insert(LABEL_CLUSTERING.into(), "true".into());
        l.insert(LABEL_SERVICE_TYPE.into(), "internals".into());
        if let Some(role) = role.filter(|r| !r.is_empty()) {
            l.insert(LABEL_ROLE.into(), role.into());
        }
        l
    }
    /// Labels of server pods: the base set without a role, plus `neo4j.com/server-name=server`.
    pub fn pod_labels(&self, image_tag: &str) -> Labels {
        let mut l = self.base_labels(image_tag, None);
        l.insert(LABEL_SERVER_NAME.into(), "server".into());
        l
    }
    /// Selector of the server StatefulSet (immutable after creation).
    pub fn statefulset_selector(&self) -> Labels {
        Labels::from([
            (LABEL_CLUSTER.to_string(), self.cluster.clone()),
            (LABEL_SERVER_NAME.to_string(), "server".to_string()),
        ])
    }
    /// Selector of every server pod, used by Services and the PodDisruptionBudget.
    pub fn server_pod_selector(&self) -> Labels {
        Labels::from([
            (APP_INSTANCE.to_string(), self.cluster.clone()),
            (APP_COMPONENT.to_string(), "database".to_string()),
        ])
    }
    /// Labels of the server PVCs (`GetLabelsForPVC(c, "server")`).
    pub fn pvc_labels(&self) -> Labels {
        pvc_labels(&self.cluster, "server")
    }
    /// Every object name derived from the cluster name whose length is bounded by a DNS label
    /// (63), paired with the limit — for the name-length rules.
    pub fn bounded_names(&self) -> Vec<(String, usize)> {
        vec![
            (self.statefulset(), STATEFULSET_NAME_MAX),
            (self.headless_service(), 63),
            (self.client_service(), 63),
            (self.internals_service(), 63),
            (self.discovery_service(), 63),
            (self.metrics_service(), 63),
            (self.pod(99), 63),
        ]
    }
}

/// Names of the objects generated for one Neo4jEnterpriseStandalone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandaloneNames {
    standalone: String,
}

impl StandaloneNames {
    pub fn new(standalone: &str) -> Self {
        Self {
            standalone: standalone.to_string(),
        }
    }
    fn with(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.standalone)
    }
    /// The StatefulSet is named after the standalone itself.
    pub fn statefulset(&self) -> String {
        self.standalone.clone()
    }
    pub fn pod(&self) -> String {
        self.with("-0")
    }
    pub fn pvc(&self) -> String {
        format!("{}-{}", VOLUME_CLAIM_STANDALONE_DATA, self.pod())
    }
    pub fn headless_service(&self) -> String {
        self.with("-headless")
    }
    pub fn client_service(&self) -> String {
        self.with("-client")
    }
    /// Deprecated alias of the client Service, kept for users who still connect to it.
    pub fn alias_service(&self) -> String {
        self.with("-service")
    }
    pub fn config_map(&self) -> String {
        self.with("-config")
    }
    pub fn certificate(&self) -> String {
        self.with("-tls-cert")
    }
    pub fn tls_secret(&self) -> String {
        self.with("-tls-secret")
    }
    pub fn ingress(&self) -> String {
        self.with("-ingress")
    }
    pub fn network_policy(&self) -> String {
        self.with("-standalone-netpol")
    }
    pub fn route(&self) -> String {
        self.with("-route")
    }
    pub fn service_monitor(&self) -> String {
        self.with("-monitoring")
    }
    pub fn client_fqdn(&self, namespace: &str) -> String {
        self.client_fqdn_in(namespace, DEFAULT_CLUSTER_DOMAIN)
    }
    pub fn client_fqdn_in(&self, namespace: &str, domain: &str) -> String {
        service_fqdn(&self.client_service(), namespace, domain)
    }
    /// In-cluster DNS name of the server pod behind the headless Service, in `domain`.
    pub fn pod_fqdn_in(&self, namespace: &str, domain: &str) -> String {
        service_fqdn(
            &format!("{}.{}", self.pod(), self.headless_service()),
            namespace,
            domain,
        )
    }
    /// Pod selector of the standalone StatefulSet and Services.
    pub fn selector(&self) -> Labels {
        Labels::from([("app".to_string(), self.standalone.clone())])
    }
    /// Pod template labels.
    pub fn pod_labels(&self) -> Labels {
        let mut l = self.selector();
        l.insert(APP_NAME.into(), "neo4j".into());
        l.insert(APP_INSTANCE.into(), self.standalone.clone());
        l.insert(APP_MANAGED_BY.into(), MANAGED_BY.into());
        l
    }
    /// Labels of a standalone object with the given `app.kubernetes.io/component`.
    pub fn component_labels(&self, component: &str) -> Labels {
        Labels::from([
            (APP_NAME.to_string(), "neo4j".to_string()),
            (APP_INSTANCE.to_string(), self.standalone.clone()),
            (APP_COMPONENT.to_string(), component.to_string()),
            (APP_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        ])
    }
    pub fn pvc_labels(&self) -> Labels {
        pvc_labels(&self.standalone, "data")
    }
    /// Derived names bounded by a DNS label, paired with their limit.
    pub fn bounded_names(&self) -> Vec<(String, usize)> {
        vec![
            (self.statefulset(), STATEFULSET_NAME_MAX),
            (self.headless_service(), 63),
            (self.client_service(), 63),
            (self.alias_service(), 63),
            (self.pod(), 63),
        ]
    }
}

/// Labels of the PVCs of an instance (the reference sets `neo4j.com/cluster` even on standalone
/// PVCs; kept so deletion selectors match both).
fn pvc_labels(instance: &str, role: &str) -> Labels {
    Labels::from([
        (APP_NAME.to_string(), "neo4j".to_string()),
        (APP_INSTANCE.to_string(), instance.to_string()),
        (APP_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        (LABEL_CLUSTER.to_string(), instance.to_string()),
        (LABEL_ROLE.to_string(), role.to_string()),
    ])
}

/// Selector of every PVC of an instance, used when deleting them.
pub fn instance_pvc_selector(instance: &str) -> String {
    format!("{APP_NAME}=neo4j,{APP_INSTANCE}={instance}")
}

/// Name of the Job of one backup run, and of the CronJob of a scheduled backup.
pub fn backup_job(backup: &str) -> String {
    format!("{backup}-backup")
}
pub fn backup_cronjob(backup: &str) -> String {
    format!("{backup}-backup-cron")
}
/// Name of the Job of a restore: `neo4j-admin database restore` on a standalone's volume, or
/// the seeding of a cluster database.
pub fn restore_job(restore: &str) -> String {
    format!("{restore}-restore")
}
/// Name of the Job that creates (or starts) the restored database on a standalone once its
/// server is back.
pub fn restore_create_job(restore: &str) -> String {
    format!("{restore}-create")
}
/// Name of the staging PVC of a backup with `options.tempStorage`.
pub fn backup_temp_pvc(backup: &str) -> String {
    format!("{backup}-temp-staging")
}
/// Longest Job name: the Job controller labels each pod `job-name=<job>`, a label value.
pub const JOB_NAME_MAX: usize = 63;
/// Labels of a backup's Job, CronJob and pods: what the reference put there, so existing
/// selectors keep matching (`component` is `backup` or `backup-cron`; `part-of` the chain).
pub fn backup_labels(backup: &str, component: &str, chain: &str, target: &str) -> Labels {
    Labels::from([
        (APP_NAME.to_string(), "neo4j-backup".to_string()),
        (APP_INSTANCE.to_string(), backup.to_string()),
        (APP_COMPONENT.to_string(), component.to_string()),
        (APP_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        ("app.kubernetes.io/part-of".to_string(), chain.to_string()),
        (LABEL_BACKUP_TARGET.to_string(), target.to_string()),
    ])
}
/// Labels of a restore's Jobs and pods (`component` is `restore` or `create`).
pub fn restore_labels(restore: &str, component: &str, target: &str) -> Labels {
    Labels::from([
        (APP_NAME.to_string(), "neo4j-restore".to_string()),
        (APP_INSTANCE.to_string(), restore.to_string()),
        (APP_COMPONENT.to_string(), component.to_string()),
        (APP_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        (LABEL_RESTORE_TARGET.to_string(), target.to_string()),
    ])
}

/// Pod volume names the operator uses itself (cluster and standalone), plus the prefix of the
/// per-CA volumes: a user's `spec.extraVolumes` may not take them.
pub const RESERVED_VOLUME_NAMES: [&str; 9] = [
    "data",
    "config",
    "logs",
    "plugins",
    "certs",
    "truststore",
    "neo4j-data",
    "neo4j-config",
    "neo4j-certs",
];
pub const RESERVED_VOLUME_PREFIX: &str = "trusted-ca-";

/// Whether a pod volume name is one the operator renders itself.
pub fn is_reserved_volume(name: &str) -> bool {
    RESERVED_VOLUME_NAMES.contains(&name) || name.starts_with(RESERVED_VOLUME_PREFIX)
}

pub const VOLUME_CLAIM_DATA: &str = "data";
pub const VOLUME_CLAIM_STANDALONE_DATA: &str = "neo4j-data";

pub const APP_NAME: &str = "app.kubernetes.io/name";
pub const APP_INSTANCE: &str = "app.kubernetes.io/instance";
pub const APP_VERSION: &str = "app.kubernetes.io/version";
pub const APP_COMPONENT: &str = "app.kubernetes.io/component";
pub const APP_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const LABEL_CLUSTER: &str = "neo4j.com/cluster";
pub const LABEL_CLUSTERING: &str = "neo4j.com/clustering";
pub const LABEL_SERVICE_TYPE: &str = "neo4j.com/service-type";
pub const LABEL_ROLE: &str = "neo4j.com/role";
pub const LABEL_SERVER_NAME: &str = "neo4j.com/server-name";
pub const LABEL_BACKUP_TARGET: &str = "neo4j.com/backup-target";
pub const LABEL_RESTORE_TARGET: &str = "neo4j.com/restore-target";
/// Label the Job controller puts on every pod of a Job.
pub const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_are_derived_from_the_cluster_name() {
        let n = ClusterNames::new("graph");
        assert_eq!(n.statefulset(), "graph-server");
        assert_eq!(n.pod(2), "graph-server-2");
        assert_eq!(n.pvc(0), "data-graph-server-0");
        assert_eq!(n.headless_service(), "graph-headless");
        assert_eq!(n.client_service(), "graph-client");
        assert_eq!(n.internals_service(), "graph-internals");
        assert_eq!(n.discovery_service(), "graph-discovery");
        assert_eq!(n.metrics_service(), "graph-metrics");
        assert_eq!(n.config_map(), "graph-config");
        assert_eq!(n.certificate(), "graph-tls");
        assert_eq!(n.tls_secret(), "graph-tls-secret");
        assert_eq!(
            n.pod_fqdn(1, "db"),
            "graph-server-1.graph-headless.db.svc.cluster.local"
        );
    }

    #[test]
    fn standalone_names_are_derived_from_the_standalone_name() {
        let n = StandaloneNames::new("solo");
        assert_eq!(n.statefulset(), "solo");
        assert_eq!(n.pod(), "solo-0");
        assert_eq!(n.pvc(), "neo4j-data-solo-0");
        assert_eq!(n.certificate(), "solo-tls-cert");
        assert_eq!(n.alias_service(), "solo-service");
    }

    #[test]
    fn longest_allowed_names_fit_every_bound() {
        let c = ClusterNames::new(&"a".repeat(CLUSTER_NAME_MAX));
        for (name, max) in c.bounded_names() {
            assert!(name.len() <= max, "{name} exceeds {max}");
        }
        let s = StandaloneNames::new(&"a".repeat(STANDALONE_NAME_MAX));
        for (name, max) in s.bounded_names() {
            assert!(name.len() <= max, "{name} exceeds {max}");
        }
        // One more character breaks the StatefulSet bound.
        let c = ClusterNames::new(&"a".repeat(CLUSTER_NAME_MAX + 1));
        assert!(c.bounded_names().iter().any(|(n, max)| n.len() > *max));
    }

    #[test]
    fn pod_labels_carry_selector() {
        let n = ClusterNames::new("g");
        let pod = n.pod_labels("5.26.0");
        for (k, v) in n
            .statefulset_selector()
            .iter()
            .chain(n.server_pod_selector().iter())
        {
            assert_eq!(pod.get(k), Some(v), "pod labels miss selector {k}");
        }
        assert!(!pod.contains_key(LABEL_ROLE));
    }
}
