//! The deletion finalizer, used only for the PVC retention policy: `Delete` removes the data
//! PVCs of this instance's StatefulSet when the resource is deleted, `Retain` keeps them. Every
//! other child goes with the resource through its owner reference (garbage collection).
//!
//! The finalizer is added and removed by a server-side apply of `metadata.finalizers` alone,
//! never a full update (which would write in-memory defaults back into the user's spec).

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use neo4j_shared::names::{FIELD_MANAGER, instance_pvc_selector};
use serde_json::json;

use crate::context::Context;
use crate::error::{Error, Result, is_conflict, is_not_found};
use crate::instance::Instance;

/// What to do about the finalizer in this reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Nothing,
    Add,
    Remove,
    /// The resource is being deleted under `Delete`: delete the PVCs, then remove it.
    DeletePvcsThenRemove,
}

/// Whether the retention policy asks for the PVCs to be deleted: only an explicit `Delete`
/// (the default is `Retain`, filled in by the shared defaults before this is called; an object
/// stored without one keeps its data too).
pub fn deletes_pvcs(retention_policy: Option<&str>) -> bool {
    retention_policy == Some("Delete")
}

pub fn step(deleting: bool, has_finalizer: bool, retention_policy: Option<&str>) -> Step {
    let needed = deletes_pvcs(retention_policy);
    match (deleting, has_finalizer, needed) {
        (true, true, true) => Step::DeletePvcsThenRemove,
        (true, true, false) => Step::Remove,
        (true, false, _) => Step::Nothing,
        (false, false, true) => Step::Add,
        (false, true, false) => Step::Remove,
        (false, false, false) | (false, true, true) => Step::Nothing,
    }
}

/// Whether `pvc` is a data PVC of the StatefulSet `statefulset` with claim template `claim`:
/// exactly `<claim>-<statefulset>-<ordinal>`. A same-named instance of the other kind, or an
/// instance whose name extends this one, never matches.
pub fn is_instance_pvc(pvc: &str, claim: &str, statefulset: &str) -> bool {
    pvc.strip_prefix(claim)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_prefix(statefulset))
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|ordinal| !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit()))
}

fn api<K: Instance>(ctx: &Context, namespace: &str) -> Api<K> {
    Api::namespaced(ctx.client.clone(), namespace)
}

/// Sets this controller's entry of `metadata.finalizers` (`present`) or gives it up.
pub async fn set<K: Instance>(ctx: &Context, obj: &K, present: bool) -> Result<()> {
    let namespace = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = obj.name_any();
    let mut metadata = json!({"name": name});
    if present {
        metadata["finalizers"] = json!([K::FINALIZER]);
    }
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": metadata,
    });
    ctx.fence.check()?;
    ctx.metrics.wrote(K::KIND.name(), K::KIND.plural(), "apply");
    let params = PatchParams::apply(FIELD_MANAGER).force();
    match api::<K>(ctx, &namespace)
        .patch(&name, &params, &Patch::Apply(&patch))
        .await
    {
        Ok(_) => Ok(()),
        // Gone already: nothing left to hold.
        Err(e) if !present && is_not_found(&e) => Ok(()),
        Err(e) => {
            if is_conflict(&e) {
                ctx.metrics.conflict(K::KIND.plural());
            }
            Err(Error::kube("apply", K::KIND.plural(), name, e))
        }
    }
}

/// Deletes the data PVCs of `obj` (selected by instance label AND this instance's StatefulSet
/// naming). PVCs already being deleted are left alone; missing ones are fine.
pub async fn delete_pvcs<K: Instance>(ctx: &Context, obj: &K) -> Result<usize> {
    let namespace = obj.namespace().ok_or(Error::MissingField("namespace"))?;
    let name = obj.name_any();
    let statefulset = obj.statefulset_name();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &namespace);
    let list = pvcs
        .list(&ListParams::default().labels(&instance_pvc_selector(&name)))
        .await
        .map_err(|e| Error::kube("list", "persistentvolumeclaims", &name, e))?;
    let mut deleted = 0;
    for pvc in list.items {
        let pvc_name = pvc.name_any();
        if !is_instance_pvc(&pvc_name, K::CLAIM_TEMPLATE, &statefulset)
            || pvc.meta().deletion_timestamp.is_some()
        {
            continue;
        }
        ctx.fence.check()?;
        ctx.metrics
            .wrote(K::KIND.name(), "persistentvolumeclaims", "delete");
        match pvcs.delete(&pvc_name, &DeleteParams::default()).await {
            Ok(_) => deleted += 1,
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(Error::kube("delete", "persistentvolumeclaims", pvc_name, e)),
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finalizer_steps_follow_the_retention_policy() {
        use Step::*;
        let table = [
            // deleting, has, policy, step
            (false, false, Some("Delete"), Add),
            (false, true, Some("Delete"), Nothing),
            (false, false, Some("Retain"), Nothing),
            (false, true, Some("Retain"), Remove),
            (true, true, Some("Delete"), DeletePvcsThenRemove),
            (true, true, Some("Retain"), Remove),
            (true, false, Some("Delete"), Nothing),
            (true, false, Some("Retain"), Nothing),
            (false, false, None, Nothing),
            (true, true, None, Remove),
        ];
        for (deleting, has, policy, want) in table {
            assert_eq!(
                step(deleting, has, policy),
                want,
                "{deleting} {has} {policy:?}"
            );
        }
    }

    #[test]
    fn pvc_selection_matches_only_this_instances_statefulset() {
        // cluster "graph": StatefulSet graph-server, claim template data
        let cluster = |pvc| is_instance_pvc(pvc, "data", "graph-server");
        assert!(cluster("data-graph-server-0"));
        assert!(cluster("data-graph-server-12"));
        // a standalone named "graph" has claim neo4j-data and StatefulSet graph
        assert!(!cluster("neo4j-data-graph-0"));
        // a cluster named "graph-server" has StatefulSet graph-server-server
        assert!(!cluster("data-graph-server-server-0"));
        // a cluster named "graph-server-1"? its StatefulSet is graph-server-1-server
        assert!(!cluster("data-graph-server-1-server-0"));
        assert!(!cluster("data-graph-server-"));
        assert!(!cluster("data-graph-server-x"));
        assert!(!cluster("other-data-graph-server-0"));

        // standalone "graph": StatefulSet graph, claim neo4j-data
        let standalone = |pvc| is_instance_pvc(pvc, "neo4j-data", "graph");
        assert!(standalone("neo4j-data-graph-0"));
        assert!(
            !standalone("data-graph-server-0"),
            "never the same-named cluster's"
        );
        assert!(
            !standalone("neo4j-data-graph-server-0"),
            "never standalone graph-server's"
        );
    }

    #[test]
    fn retention_default_is_retain() {
        assert!(!deletes_pvcs(None));
        assert!(deletes_pvcs(Some("Delete")));
        assert!(!deletes_pvcs(Some("Retain")));
    }
}
