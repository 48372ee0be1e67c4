//! Reads the Secrets an instance's pods need (the admin Secret; with strict peer TLS the
//! certificate Secret) and judges them with `neo4j_shared::secrets`. Two GETs per reconcile,
//! nothing cached: the controller never holds Secret data beyond the check, and never logs or
//! reports a value from it.

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use neo4j_shared::secrets::{self, Needs, SecretProblem};

use crate::context::Context;

/// What keeps the Secrets of `needs` from working; `None` when they could not be read (the
/// status then claims nothing about them).
pub async fn check(ctx: &Context, namespace: &str, needs: &Needs) -> Option<Vec<SecretProblem>> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let admin = read(&api, &needs.admin).await?;
    let tls = match &needs.tls {
        Some(name) => read(&api, name).await?,
        None => None,
    };
    Some(secrets::check(needs, admin.as_ref(), tls.as_ref()))
}

/// `Some(None)`: the Secret does not exist; `None`: it could not be read.
async fn read(api: &Api<Secret>, name: &str) -> Option<Option<Secret>> {
    match api.get_opt(name).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(secret = name, error = %e, "cannot read the Secret; not checked");
            None
        }
    }
}
