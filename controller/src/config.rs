//! Command-line flags (each with an environment equivalent).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// neo4j-controller: turns admitted Neo4j resources into Kubernetes objects by server-side
/// apply and reports their status.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "neo4j-controller",
    version,
    after_help = "Also: `neo4j-controller cypher --help`, the Bolt client Neo4jDatabase Jobs run."
)]
pub struct Config {
    /// Kubeconfig file; without it the in-cluster service account (or $KUBECONFIG,
    /// ~/.kube/config) is used.
    #[arg(long, env = "NEO4J_CONTROLLER_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Address of the plain HTTP server for /metrics, /healthz and /readyz.
    #[arg(
        long,
        env = "NEO4J_CONTROLLER_METRICS_LISTEN",
        default_value = "0.0.0.0:8081"
    )]
    pub metrics_listen: SocketAddr,
    #[arg(
        long,
        env = "NEO4J_CONTROLLER_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "NEO4J_CONTROLLER_NAMESPACE")]
    pub namespace: Option<String>,
    /// DNS domain of the Kubernetes cluster, in every in-cluster name the operator renders
    /// (discovery, advertised addresses, certificate names, status endpoints).
    #[arg(
        long,
        env = "NEO4J_CONTROLLER_CLUSTER_DOMAIN",
        default_value = neo4j_shared::names::DEFAULT_CLUSTER_DOMAIN,
        value_parser = cluster_domain
    )]
    pub cluster_domain: String,
    /// Elect a leader through a coordination.k8s.io Lease, so several replicas can run.
    #[arg(long, env = "NEO4J_CONTROLLER_LEADER_ELECT", default_value_t = false)]
    pub leader_elect: bool,
    /// Namespace of the Lease (default: the pod's namespace, else `default`).
    #[arg(long, env = "NEO4J_CONTROLLER_LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,
    /// Name of the Lease.
    #[arg(
        long,
        env = "NEO4J_CONTROLLER_LEADER_ELECTION_NAME",
        default_value = "neo4j-controller"
    )]
    pub leader_election_name: String,
    /// Identity of this replica in the Lease and in events (default: $POD_NAME, else the
    /// host name and process id).
    #[arg(long, env = "NEO4J_CONTROLLER_IDENTITY")]
    pub identity: Option<String>,
    /// Seconds a Lease stays valid without renewal.
    #[arg(long, env = "NEO4J_CONTROLLER_LEASE_DURATION", default_value_t = 15)]
    pub lease_duration_seconds: u64,
    /// Seconds the leader keeps trying to renew before it gives up and exits.
    #[arg(long, env = "NEO4J_CONTROLLER_RENEW_DEADLINE", default_value_t = 10)]
    pub renew_deadline_seconds: u64,
    /// Seconds between election attempts and renewals.
    #[arg(long, env = "NEO4J_CONTROLLER_RETRY_PERIOD", default_value_t = 2)]
    pub retry_period_seconds: u64,
    /// Image of the Neo4jDatabase Jobs: this controller's own (they run `neo4j-controller
    /// cypher`).
    #[arg(
        long,
        env = "NEO4J_CONTROLLER_DATABASE_JOB_IMAGE",
        default_value = "ghcr.io/neo4j-operator/neo4j-controller:0.1.0"
    )]
    pub database_job_image: String,
}

/// `--cluster-domain`: a DNS subdomain (a trailing dot is dropped).
pub fn cluster_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    if neo4j_shared::names::valid_cluster_domain(&d) {
        Ok(d)
    } else {
        Err(format!(
            "{s:?} is not a DNS domain (lower-case labels of letters, digits and '-', separated by dots)"
        ))
    }
}

impl Config {
    /// What the rendered objects depend on besides the resources.
    pub fn site(&self) -> neo4j_shared::render::Site {
        neo4j_shared::render::Site {
            cluster_domain: self.cluster_domain.clone(),
        }
    }

    /// The configuration with every default, as if run without flags (for in-process runs).
    pub fn defaults() -> Config {
        Config::parse_from(["neo4j-controller"])
    }

    pub fn identity(&self) -> String {
        if let Some(id) = self.identity.clone().filter(|s| !s.is_empty()) {
            return id;
        }
        if let Ok(pod) = std::env::var("POD_NAME")
            && !pod.is_empty()
        {
            return pod;
        }
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "neo4j-controller".into());
        format!("{host}-{}", std::process::id())
    }

    pub fn lease_namespace(&self) -> String {
        if let Some(ns) = self
            .leader_election_namespace
            .clone()
            .filter(|s| !s.is_empty())
        {
            return ns;
        }
        if let Ok(ns) = std::env::var("POD_NAMESPACE")
            && !ns.is_empty()
        {
            return ns;
        }
        std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
            .map(|s| s.trim().to_string())
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into())
    }

    pub fn lease_durations(&self) -> (Duration, Duration, Duration) {
        (
            Duration::from_secs(self.lease_duration_seconds.max(2)),
            Duration::from_secs(self.renew_deadline_seconds.max(1)),
            Duration::from_secs(self.retry_period_seconds.max(1)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_flags() {
        let c = Config::defaults();
        assert_eq!(c.metrics_listen.to_string(), "0.0.0.0:8081");
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(!c.leader_elect);
        assert_eq!(c.leader_election_name, "neo4j-controller");
        assert!(c.namespace.is_none());
        assert_eq!(c.cluster_domain, "cluster.local");
    }

    #[test]
    fn the_cluster_domain_must_be_a_dns_domain() {
        let c = Config::parse_from(["neo4j-controller", "--cluster-domain", "Corp.Example."]);
        assert_eq!(c.site().cluster_domain, "corp.example");
        for bad in ["", "a_b.local", "-x.local", "a..b"] {
            assert!(
                Config::try_parse_from(["neo4j-controller", "--cluster-domain", bad]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn flags_parse() {
        let c = Config::parse_from([
            "neo4j-controller",
            "--namespace",
            "db",
            "--leader-elect",
            "--leader-election-namespace",
            "ops",
            "--log-format",
            "json",
            "--metrics-listen",
            "127.0.0.1:9000",
        ]);
        assert_eq!(c.namespace.as_deref(), Some("db"));
        assert!(c.leader_elect);
        assert_eq!(c.lease_namespace(), "ops");
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.metrics_listen.port(), 9000);
    }
}
