//! What the user adds to the pods: trusted CA Secrets, extra volumes and their mounts, each named
//! once and never in place of (or over) what the operator mounts itself.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;

use super::fields::is_blank;
use crate::types::TrustedCASecret;
use crate::validate::{item_path, shown};
use crate::verdict::Verdict;

/// Checks that the names of a list are set (`required`) and unique (`unique`).
fn names_required_unique<'n>(
    list_path: &str,
    names: impl Iterator<Item = &'n str>,
    required: &'static str,
    unique: &'static str,
    what: &str,
    v: &mut Verdict,
) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in names.enumerate() {
        let field = item_path(list_path, i, "name");
        if is_blank(name) {
            v.error(required, &field, format!("{field} is empty; {what}"));
            continue;
        }
        match seen.get(name) {
            Some(first) => v.error(
                unique,
                &field,
                format!(
                    "{field} is {}, already used at index {first}; give each entry its own name",
                    shown(name)
                ),
            ),
            None => {
                seen.insert(name, i);
            }
        }
    }
}

/// `trusted-ca-name-required`, `trusted-ca-name-unique`: the Secret name is also the keystore
/// alias.
pub fn trusted_cas(list: Option<&[TrustedCASecret]>, v: &mut Verdict) {
    names_required_unique(
        "spec.trustedCASecrets",
        list.into_iter().flatten().map(|t| t.name.as_str()),
        "trusted-ca-name-required",
        "trusted-ca-name-unique",
        "name the Secret holding the CA certificate",
        v,
    );
}

/// `extra-volume-name-required`, `extra-volume-name-unique`, `extra-volume-name-reserved`.
pub fn extra_volumes(list: Option<&[corev1::Volume]>, v: &mut Verdict) {
    names_required_unique(
        "spec.extraVolumes",
        list.into_iter().flatten().map(|vol| vol.name.as_str()),
        "extra-volume-name-required",
        "extra-volume-name-unique",
        "name the volume (extraVolumeMounts refer to it by name)",
        v,
    );
    for (i, vol) in list.into_iter().flatten().enumerate() {
        if crate::names::is_reserved_volume(&vol.name) {
            v.error(
                "extra-volume-name-reserved",
                item_path("spec.extraVolumes", i, "name"),
                format!(
                    "{} is a volume the operator mounts itself; give your volume another name",
                    shown(&vol.name)
                ),
            );
        }
    }
}

/// Paths the operator mounts itself. `/var/lib/neo4j` is reserved only as a whole: the image
/// keeps user directories such as `/var/lib/neo4j/import` below it.
const RESERVED_MOUNT_PATHS: [&str; 13] = [
    "/data",
    "/logs",
    "/conf",
    "/ssl",
    "/plugins",
    "/truststore",
    "/truststore-ca",
    "/var/lib/neo4j",
    "/var/lib/neo4j/data",
    "/var/lib/neo4j/logs",
    "/var/lib/neo4j/conf",
    "/var/lib/neo4j/plugins",
    "/var/lib/neo4j/certificates",
];
const NEO4J_HOME: &str = "/var/lib/neo4j";

/// A mount path with `//`, `.` and `..` collapsed (always absolute).
pub fn normalize_mount_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The reserved path a normalised mount path would shadow: the path itself, one below a
/// reserved directory, or a parent of one (which hides it).
fn shadowed_reserved(normalized: &str) -> Option<&'static str> {
    RESERVED_MOUNT_PATHS.iter().copied().find(|r| {
        let under = |parent: &str, child: &str| {
            child
                .strip_prefix(parent)
                .is_some_and(|rest| rest.starts_with('/'))
                || (parent == "/" && child != "/")
        };
        normalized == *r || (*r != NEO4J_HOME && under(r, normalized)) || under(normalized, r)
    })
}

/// The `extra-mount-*` rules: a name and a path, each path mounted once and clear of the paths the
/// operator mounts.
pub fn extra_volume_mounts(list: Option<&[corev1::VolumeMount]>, v: &mut Verdict) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, m) in list.into_iter().flatten().enumerate() {
        if is_blank(&m.name) {
            let field = item_path("spec.extraVolumeMounts", i, "name");
            v.error(
                "extra-mount-name-required",
                &field,
                format!("{field} is empty; name the extra volume to mount"),
            );
        }
        let field = item_path("spec.extraVolumeMounts", i, "mountPath");
        let path = m.mount_path.as_str();
        if is_blank(path) {
            v.error(
                "extra-mount-path-required",
                &field,
                format!("{field} is empty; give the directory to mount the volume at"),
            );
            continue;
        }
        let trimmed = path.trim_end_matches('/');
        let normalized = normalize_mount_path(path);
        if RESERVED_MOUNT_PATHS.contains(&trimmed) {
            v.error(
                "extra-mount-path-reserved",
                &field,
                format!(
                    "{field} is {}, where the operator mounts its own volume; choose another path",
                    shown(path)
                ),
            );
        } else if let Some(reserved) = shadowed_reserved(&normalized) {
            v.error(
                "extra-mount-path-normalized",
                &field,
                format!("{field} is {} (that is {normalized}), which overlaps the operator-managed {reserved}; choose a path outside it", shown(path)),
            );
        }
        match seen.get(&normalized) {
            Some(first) => v.error(
                "extra-mount-path-unique",
                &field,
                format!(
                    "{field} is {}, already used at index {first}; mount each path once",
                    shown(path)
                ),
            ),
            None => {
                seen.insert(normalized, i);
            }
        }
    }
}
