//! Who the instance is and what it runs: the object name (it prefixes every derived object), the
//! Enterprise licence acceptance, and the image (repository, a supported Enterprise tag, pull
//! policy, a tag that is also a valid label value).

use std::sync::LazyLock;

use regex::Regex;

use super::fields::{DNS_LABEL_MAX, is_blank};
use crate::inventory::InstanceKind;
use crate::names::{CLUSTER_NAME_MAX, STANDALONE_NAME_MAX};
use crate::types::ImageSpec;
use crate::validate::{DNS1035_LABEL, regex, shown};
use crate::verdict::Verdict;
use crate::version::parse_tag;

/// The reference operator's name allowance: 56 for a cluster, 63 for a standalone
/// (`cluster-name-max-length`, `standalone-name-max-length`).
const CLUSTER_NAME_REFERENCE_MAX: usize = 56;
const STANDALONE_NAME_REFERENCE_MAX: usize = 63;

static IMAGE_TAG_LABEL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"));

/// `name-dns1035-label`, the reference operator's length limits and the stricter ones
/// (`cluster-name-max-45`, `standalone-name-max-52`): every derived object name must stay valid.
pub fn name(kind: InstanceKind, name: &str, v: &mut Verdict) {
    // A generateName object gets its name after mutation; the validating call sees it.
    if name.is_empty() {
        return;
    }
    let field = "metadata.name";
    let len = name.len();
    match kind {
        InstanceKind::Cluster => {
            if len > CLUSTER_NAME_REFERENCE_MAX {
                v.error(
                    "cluster-name-max-length",
                    field,
                    format!("metadata.name is {len} characters; a cluster name may have at most {CLUSTER_NAME_REFERENCE_MAX} because generated names append suffixes to it — shorten it"),
                );
            }
            if len > CLUSTER_NAME_MAX {
                v.error(
                    "cluster-name-max-45",
                    field,
                    format!("metadata.name is {len} characters; the StatefulSet {name}-server and its pods' revision label allow at most {CLUSTER_NAME_MAX} — shorten it"),
                );
            }
        }
        InstanceKind::Standalone => {
            if len > STANDALONE_NAME_REFERENCE_MAX {
                v.error(
                    "standalone-name-max-length",
                    field,
                    format!("metadata.name is {len} characters; a standalone name may have at most {STANDALONE_NAME_REFERENCE_MAX} — shorten it"),
                );
            }
            if len > STANDALONE_NAME_MAX {
                v.error(
                    "standalone-name-max-52",
                    field,
                    format!("metadata.name is {len} characters; the StatefulSet of that name and its pod's revision label allow at most {STANDALONE_NAME_MAX} — shorten it"),
                );
            }
        }
    }
    if !DNS1035_LABEL.is_match(name) {
        v.error(
            "name-dns1035-label",
            field,
            format!("metadata.name is {}; it names Services, so use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit", shown(name)),
        );
    }
}

/// `license-required`, `license-value`: the user must accept the Enterprise licence themselves.
pub fn license(value: Option<&str>, v: &mut Verdict) {
    let field = "spec.acceptLicenseAgreement";
    match value {
        None | Some("") => v.error(
            "license-required",
            field,
            "spec.acceptLicenseAgreement is not set; Neo4j Enterprise needs a licence — set yes (you hold a commercial licence) or eval (30-day evaluation); the operator never accepts on your behalf, see https://neo4j.com/licensing/",
        ),
        Some("yes" | "eval") => {}
        Some(other) => v.error(
            "license-value",
            field,
            format!("spec.acceptLicenseAgreement is {}; set yes (commercial licence) or eval (30-day evaluation)", shown(other)),
        ),
    }
}

const PULL_POLICIES: [&str; 3] = ["Always", "Never", "IfNotPresent"];

/// The image rules and `image-tag-label-safe`; the community and pull-policy rules apply to a
/// standalone under their own ids (`standalone-image-community`, `standalone-image-pull-policy`).
pub fn image(kind: InstanceKind, image: &ImageSpec, v: &mut Verdict) {
    let tag = image.tag.as_str();
    // `image-required`: the schema does not require spec.image, so that this rule and its hint
    // reach the user; nothing else about an image that is not there is worth saying.
    if is_blank(&image.repo) && tag.is_empty() {
        v.error(
            "image-required",
            "spec.image",
            "spec.image is not set (no repo, no tag); give the Neo4j Enterprise image, e.g. image: {repo: neo4j, tag: 5.26.0-enterprise}",
        );
        return;
    }
    if is_blank(&image.repo) {
        v.error(
            "image-repo-required",
            "spec.image.repo",
            "spec.image.repo is empty; give the image repository, e.g. neo4j",
        );
    }
    if tag.is_empty() {
        v.error(
            "image-tag-required",
            "spec.image.tag",
            "spec.image.tag is empty; give an Enterprise tag such as 5.26.0-enterprise or 2025.01.0-enterprise",
        );
    }
    // The reference's standalone reports an empty tag twice; the cluster only once.
    if !tag.is_empty() || kind == InstanceKind::Standalone {
        match parse_tag(tag) {
            None => v.error(
                "image-version-supported",
                "spec.image.tag",
                format!("spec.image.tag is {}, which names no Neo4j version; use 5.26.x (the last SemVer LTS) or a 2025.01+ CalVer release, e.g. 5.26.0-enterprise", shown(tag)),
            ),
            Some(ver) if !ver.is_supported() => v.error(
                "image-version-supported",
                "spec.image.tag",
                format!("spec.image.tag is {} (Neo4j {ver}), which this operator does not support; use 5.26.x or a 2025.01+ CalVer release", shown(tag)),
            ),
            Some(_) => {}
        }
    }
    if tag.to_lowercase().contains("community") {
        let rule = match kind {
            InstanceKind::Cluster => "image-community-tag",
            InstanceKind::Standalone => "standalone-image-community",
        };
        v.error(
            rule,
            "spec.image.tag",
            format!("spec.image.tag is {}, a Community image; the operator configures Enterprise-only features — use an Enterprise image such as neo4j:5.26-enterprise", shown(tag)),
        );
    }
    if let Some(policy) = image.pull_policy.as_deref().filter(|p| !p.is_empty())
        && !PULL_POLICIES.contains(&policy)
    {
        let rule = match kind {
            InstanceKind::Cluster => "image-pull-policy",
            InstanceKind::Standalone => "standalone-image-pull-policy",
        };
        v.error(
            rule,
            "spec.image.pullPolicy",
            format!(
                "spec.image.pullPolicy is {}; use Always, Never or IfNotPresent",
                shown(policy)
            ),
        );
    }
    if tag.len() > DNS_LABEL_MAX || !IMAGE_TAG_LABEL.is_match(tag) {
        v.error(
            "image-tag-label-safe",
            "spec.image.tag",
            format!("spec.image.tag is {} ({} characters); it becomes the label app.kubernetes.io/version, so use at most 63 letters, digits, '-', '_' or '.' (no digest '@' or ':')", shown(tag), tag.len()),
        );
    }
}
