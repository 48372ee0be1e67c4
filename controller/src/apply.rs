//! Server-side apply of desired objects, and the two pure decisions around it: skip an apply
//! only when the live child already holds what would be applied, and never change an immutable
//! StatefulSet field.
//!
//! "Already holds" is judged by content: the desired-hash annotation says the child was last
//! applied from the same rendering, and the digest of the fields the controller owns on the
//! live child (`owned.rs`) equals the digest of the body about to be sent. An edit of any owned
//! field, a removed field, a deleted child all fail the second test, so drift is applied back
//! (one apply, for that child only); fields other managers own never enter it.

use k8s_openapi::api::apps::v1::StatefulSet;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use neo4j_shared::names::FIELD_MANAGER;
use neo4j_shared::render::{self, DesiredObject};
use serde_json::Value;

use crate::cache::Cached;
use crate::context::Context;
use crate::error::{Error, Result, is_conflict};
use crate::owned::{self, Digest};

/// Fields of a StatefulSet's spec the API server refuses to change after creation.
pub const IMMUTABLE_STATEFULSET_FIELDS: [&str; 4] = [
    "selector",
    "serviceName",
    "volumeClaimTemplates",
    "podManagementPolicy",
];

/// Whether to send an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The live child holds the desired content: nothing would change.
    Skip,
    Apply,
}

/// The skip rule: skip only when the cached child carries exactly this hash and its owned
/// fields hold exactly the desired content (`desired`, the digest of the body to send), or
/// what the API server made of that content last time (`equivalent`). A kind without a cache
/// falls back to the hash this process applied.
pub fn decide(
    cached: &Cached,
    desired_hash: &str,
    desired: &Digest,
    equivalent: impl Fn(&Digest) -> bool,
) -> Decision {
    let skip = match cached {
        Cached::Present(child) => {
            child.hash.as_deref() == Some(desired_hash)
                && child
                    .owned
                    .as_ref()
                    .is_some_and(|live| live == desired || equivalent(live))
        }
        Cached::Uncached(Some(h)) => h == desired_hash,
        Cached::Absent | Cached::Uncached(None) => false,
    };
    if skip {
        Decision::Skip
    } else {
        Decision::Apply
    }
}

/// The body to apply: the desired object, with the immutable fields of an existing
/// StatefulSet pinned to the live values (`render::pin_immutable_fields`).
///
/// Leaving them out of the apply is not enough: server-side apply would then *remove* fields
/// the controller used to own (no other manager owns them), which the API server rejects for a
/// StatefulSet (`spec.selector: Required value`, `spec: Forbidden`). Sending the live values
/// keeps ownership and changes nothing; a spec edit that would need a different value (the
/// webhook rejects those) never reaches the StatefulSet.
pub fn body(desired: &DesiredObject, live: Option<&StatefulSet>) -> Value {
    match live {
        Some(live) if desired.kind == "StatefulSet" => {
            let mut pinned = desired.clone();
            render::pin_immutable_fields(&mut pinned, live);
            pinned.object
        }
        _ => desired.object.clone(),
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

pub fn api_resource(d: &DesiredObject) -> ApiResource {
    let (group, version) = split_api_version(d.api_version);
    ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: d.api_version.to_string(),
        kind: d.kind.to_string(),
        plural: d.plural.to_string(),
    }
}

/// Applies one desired object unless the live child already holds it. Returns whether a
/// write was sent.
pub async fn apply(
    ctx: &Context,
    owner_kind: &'static str,
    namespace: &str,
    desired: &DesiredObject,
) -> Result<bool> {
    if desired.kind == "Certificate" && !ctx.caches.watches("Certificate") {
        return Err(Error::CertManagerMissing);
    }
    let live = if desired.kind == "StatefulSet" {
        ctx.caches.statefulset(namespace, &desired.name)
    } else {
        None
    };
    let object = body(desired, live.as_ref());
    let wanted = owned::digest(&object);
    let cached = ctx.caches.lookup(desired.kind, namespace, &desired.name);
    let equivalent = |live: &Digest| {
        ctx.caches
            .is_equivalent(desired.kind, namespace, &desired.name, &wanted, live)
    };
    if decide(&cached, &desired.hash, &wanted, equivalent) == Decision::Skip {
        ctx.metrics.skipped(owner_kind, desired.plural);
        return Ok(false);
    }
    let existed = matches!(&cached, Cached::Present(_));
    let drift =
        matches!(&cached, Cached::Present(c) if c.hash.as_deref() == Some(desired.hash.as_str()));
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), namespace, &api_resource(desired));
    let params = PatchParams::apply(FIELD_MANAGER).force();
    ctx.fence.check()?;
    ctx.metrics.wrote(owner_kind, desired.plural, "apply");
    match api
        .patch(&desired.name, &params, &Patch::Apply(&object))
        .await
    {
        Ok(stored) => {
            ctx.caches
                .remember(desired.kind, namespace, &desired.name, &desired.hash);
            if let Ok(json) = serde_json::to_value(&stored)
                && let Some(read_back) = owned::owned_digest(&json, &stored.metadata, FIELD_MANAGER)
            {
                // A new StatefulSet is sent without the server defaults of its claim
                // templates (nothing to pin yet); any other difference is worth knowing.
                if read_back != wanted && existed {
                    tracing::warn!(kind = desired.kind, name = %desired.name,
                        "the API server stores the applied object differently from how it was sent");
                }
                ctx.caches.remember_equivalent(
                    desired.kind,
                    namespace,
                    &desired.name,
                    wanted,
                    read_back,
                );
            }
            if drift {
                tracing::info!(kind = desired.kind, name = %desired.name, "restored fields changed by someone else");
            } else {
                tracing::debug!(kind = desired.kind, name = %desired.name, "applied");
            }
            Ok(true)
        }
        Err(e) => {
            if is_conflict(&e) {
                ctx.metrics.conflict(desired.plural);
            }
            Err(Error::kube("apply", desired.plural, &desired.name, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn present(hash: Option<&str>, owned: Option<Digest>) -> Cached {
        Cached::Present(std::sync::Arc::new(crate::cache::Child {
            hash: hash.map(str::to_string),
            owned,
            ..Default::default()
        }))
    }

    #[test]
    fn skips_only_when_hash_and_owned_content_both_match() {
        let want = [7u8; 32];
        let drifted = [8u8; 32];
        let table = [
            (present(Some("abc"), Some(want)), Decision::Skip),
            (present(Some("abc"), Some(drifted)), Decision::Apply),
            (present(Some("abc"), None), Decision::Apply),
            (present(Some("old"), Some(want)), Decision::Apply),
            (present(None, Some(want)), Decision::Apply),
            (Cached::Absent, Decision::Apply),
            (Cached::Uncached(None), Decision::Apply),
            (Cached::Uncached(Some("abc".into())), Decision::Skip),
            (Cached::Uncached(Some("old".into())), Decision::Apply),
        ];
        for (cached, expected) in table {
            assert_eq!(
                decide(&cached, "abc", &want, |_| false),
                expected,
                "{cached:?}"
            );
        }
        // What the API server made of the same content last time counts as in place.
        assert_eq!(
            decide(&present(Some("abc"), Some(drifted)), "abc", &want, |d| *d
                == drifted),
            Decision::Skip
        );
    }

    fn statefulset_desired(spec: Value) -> DesiredObject {
        DesiredObject {
            api_version: "apps/v1",
            kind: "StatefulSet",
            plural: "statefulsets",
            name: "g-server".into(),
            object: json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": "g-server", "annotations": {"neo4j.com/desired-hash": "h1"}},
                "spec": spec}),
            hash: "h1".into(),
        }
    }

    #[test]
    fn existing_statefulset_keeps_its_immutable_fields_and_takes_the_rest() {
        let desired = statefulset_desired(json!({
            "replicas": 6,
            "serviceName": "g-headless",
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"a": "b"}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "20Gi"}}}}],
            "template": {"metadata": {"annotations": {"h": "1"}}}
        }));
        let live: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "g-server"},
            "spec": {
                "replicas": 3,
                "serviceName": "g-headless",
                "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": {"a": "b"}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "10Gi"}}, "volumeMode": "Filesystem"}}],
                "template": {"metadata": {"annotations": {"h": "0"}}}
            }
        }))
        .unwrap();
        let live_spec = serde_json::to_value(live.spec.as_ref().unwrap()).unwrap();
        let sent = body(&desired, Some(&live));
        let spec = &sent["spec"];
        assert_eq!(spec["replicas"], 6, "mutable fields stay desired");
        assert_eq!(spec["template"]["metadata"]["annotations"]["h"], "1");
        for f in IMMUTABLE_STATEFULSET_FIELDS {
            assert_eq!(spec[f], live_spec[f], "{f} must equal the live value");
        }
        assert_eq!(
            sent["metadata"]["annotations"]["neo4j.com/desired-hash"], "h1",
            "the hash names the rendered state, not the pinned body"
        );
    }

    #[test]
    fn new_statefulset_is_sent_as_rendered() {
        let desired =
            statefulset_desired(json!({"replicas": 3, "podManagementPolicy": "Parallel"}));
        assert_eq!(body(&desired, None), desired.object);
    }

    #[test]
    fn api_resource_splits_core_and_grouped_versions() {
        let d = |api_version: &'static str| DesiredObject {
            api_version,
            kind: "X",
            plural: "xs",
            name: "n".into(),
            object: json!({}),
            hash: String::new(),
        };
        let core = api_resource(&d("v1"));
        assert_eq!((core.group.as_str(), core.version.as_str()), ("", "v1"));
        let apps = api_resource(&d("apps/v1"));
        assert_eq!((apps.group.as_str(), apps.version.as_str()), ("apps", "v1"));
    }
}
