//! Facts about the Kubernetes cluster the objects are rendered for.

use crate::names::DEFAULT_CLUSTER_DOMAIN;

/// What the objects depend on besides the resource: facts about the Kubernetes cluster they are
/// rendered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The cluster's DNS domain (`--cluster-domain`), in every in-cluster name the objects
    /// carry: discovery's SRV name, advertised addresses, certificate names.
    pub cluster_domain: String,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            cluster_domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
        }
    }
}
