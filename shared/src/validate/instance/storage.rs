//! The data volume: present, a size that is a positive quantity, a known retention policy (a
//! warning when it deletes the data with the object), and on update a size that never shrinks
//! and a storage class that never changes.

use std::sync::LazyLock;

use regex::Regex;

use super::fields::is_blank;
use crate::inventory::InstanceKind;
use crate::types::StorageSpec;
use crate::units::{quantity, quantity_bytes};
use crate::validate::{regex, shown};
use crate::verdict::Verdict;

static STORAGE_SIZE: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d+([KMGT]i?)?$"));

/// `storage-required`, `storage-size-required`, `storage-size-format`, `storage-size-quantity`,
/// `storage-retention-enum`, and the `storage-retention-delete` warning.
pub fn storage(kind: InstanceKind, storage: &StorageSpec, v: &mut Verdict) {
    let size = storage.size.as_str();
    let field = "spec.storage.size";
    // `storage-required`: the schema does not require spec.storage, so that this rule and its
    // hint reach the user.
    if storage.is_unset() {
        v.error(
            "storage-required",
            "spec.storage",
            "spec.storage is not set; give the data volume, e.g. storage: {size: 10Gi} (and className for a StorageClass other than the default)",
        );
        return;
    }
    if let Some("Delete") = storage.retention_policy.as_deref() {
        v.warn(
            "storage-retention-delete",
            "spec.storage.retentionPolicy",
            "spec.storage.retentionPolicy is Delete: deleting this object deletes its volumes and every database on them; remove the field (Retain, the default) to keep the data after a deletion",
        );
    }
    if is_blank(size) {
        v.error(
            "storage-size-required",
            field,
            "spec.storage.size is empty; give the data volume size, e.g. 10Gi",
        );
    } else if kind == InstanceKind::Cluster && !STORAGE_SIZE.is_match(size) {
        v.error(
            "storage-size-format",
            field,
            format!("spec.storage.size is {}; use a whole number with an optional K, M, G or T suffix (binary Ki, Mi, Gi, Ti allowed), e.g. 100Gi or 1Ti", shown(size)),
        );
    } else if quantity_bytes(size).is_none_or(|b| b == 0) {
        v.error(
            "storage-size-quantity",
            field,
            format!(
                "spec.storage.size is {}; give a positive Kubernetes quantity such as 10Gi",
                shown(size)
            ),
        );
    }
    if let Some(policy) = storage.retention_policy.as_deref()
        && !["Delete", "Retain"].contains(&policy)
    {
        v.error(
            "storage-retention-enum",
            "spec.storage.retentionPolicy",
            format!(
                "spec.storage.retentionPolicy is {}; use Delete or Retain",
                shown(policy)
            ),
        );
    }
}

/// Update rules on storage: `storage-size-no-shrink`, and the class immutability
/// (`standalone-storage-class-immutable`, `cluster-storage-class-immutable`: PVC templates cannot
/// change).
pub fn storage_update(kind: InstanceKind, old: &StorageSpec, new: &StorageSpec, v: &mut Verdict) {
    if let (Some(before), Some(after)) = (quantity(&old.size), quantity(&new.size))
        && after < before
    {
        v.error(
            "storage-size-no-shrink",
            "spec.storage.size",
            format!("spec.storage.size is {}, smaller than the current {}; volumes can only grow — keep at least the current size", shown(&new.size), shown(&old.size)),
        );
    }
    let (before, after) = (
        old.class_name.as_deref().unwrap_or(""),
        new.class_name.as_deref().unwrap_or(""),
    );
    if before != after {
        let rule = match kind {
            InstanceKind::Cluster => "cluster-storage-class-immutable",
            InstanceKind::Standalone => "standalone-storage-class-immutable",
        };
        v.error(
            rule,
            "spec.storage.className",
            format!("spec.storage.className is {}, but the volumes were created with {}; the storage class cannot change after creation — restore the previous value", shown(after), shown(before)),
        );
    }
}
