//! Neo4j image tag parsing (`docs/design.md`, Versions): which tags are supported, CalVer
//! switches, and the upgrade matrix.

use std::cmp::Ordering;

/// A parsed Neo4j version: SemVer (`5.26.x`) or CalVer (`2025.01`+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Neo4jVersion {
    pub major: i64,
    pub minor: i64,
    pub patch: i64,
}

impl Neo4jVersion {
    /// CalVer releases are numbered by year.
    pub fn is_calver(&self) -> bool {
        self.major >= 2025
    }
    /// 5.26.x (the last SemVer LTS) or any CalVer release.
    pub fn is_supported(&self) -> bool {
        self.is_calver() || (self.major == 5 && self.minor == 26)
    }
    /// Property sharding needs CalVer 2025.12 or later.
    pub fn supports_property_sharding(&self) -> bool {
        self.major > 2025 || (self.major == 2025 && self.minor >= 12)
    }
}

impl std::fmt::Display for Neo4jVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

fn parse_core(s: &str) -> Option<Neo4jVersion> {
    let core = s.split('-').next().unwrap_or_default();
    let mut parts = core.split('.');
    let major = parts.next()?.parse::<i64>().ok()?;
    let minor = parts.next()?.parse::<i64>().ok()?;
    // A non-numeric third part (`5.26.x`, `5.26.0@sha256:…`) counts as patch 0.
    let patch = parts
        .next()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0);
    Some(Neo4jVersion {
        major,
        minor,
        patch,
    })
}

/// Parses an image tag as the reference's version parser does: strip one leading `v`,
/// then `neo4j-`, then `neo4j:`, cut at the first `-`, need two integer parts.
pub fn parse_tag(tag: &str) -> Option<Neo4jVersion> {
    if tag.is_empty() {
        return None;
    }
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let t = t.strip_prefix("neo4j-").unwrap_or(t);
    let t = t.strip_prefix("neo4j:").unwrap_or(t);
    parse_core(t)
}

/// The upgrade matrix's parser: strips a leading `v` only.
fn parse_upgrade_tag(tag: &str) -> Option<Neo4jVersion> {
    parse_core(tag.strip_prefix('v').unwrap_or(tag))
}

/// Why an image tag change is refused (`cluster-version-upgrade`), or `None` when it is
/// allowed.
pub fn upgrade_refusal(old_tag: &str, new_tag: &str) -> Option<String> {
    if old_tag == new_tag {
        return None;
    }
    let (Some(old), Some(new)) = (parse_upgrade_tag(old_tag), parse_upgrade_tag(new_tag)) else {
        return Some(format!(
            "invalid version format (current {old_tag:?}, target {new_tag:?})"
        ));
    };
    if new.cmp(&old) == Ordering::Less {
        return Some(format!(
            "downgrade is not supported (current {old}, target {new})"
        ));
    }
    match (old.is_calver(), new.is_calver()) {
        (true, true) => None,
        (false, true) if old.major == 5 && old.minor == 26 => None,
        (false, true) if (4..=10).contains(&old.major) => Some(format!(
            "upgrading to CalVer requires 5.26.x first (current {old})"
        )),
        (false, false) if old.major == 5 && new.major == 5 => {
            if old.minor == 26 && new.minor == 26 {
                None
            } else {
                Some(format!(
                    "only 5.26.x or 2025.x are supported (current {old}, target {new})"
                ))
            }
        }
        (false, false) if old.major == 4 && new.major == 4 => {
            Some("Neo4j 4.x is not supported".into())
        }
        (false, false) if (4..=10).contains(&old.major) && (4..=10).contains(&new.major) => Some(
            format!("major version upgrades are not supported (current {old}, target {new})"),
        ),
        _ => Some(format!(
            "unsupported upgrade path (current {old}, target {new})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_tags_table() {
        for tag in [
            "5.26.0",
            "5.26.12-enterprise",
            "5.26",
            "v5.26.1",
            "5.26-enterprise-ubi9",
            "2025.01.0",
            "2025.1",
            "2025.10.1-enterprise",
            "2026.4.0",
            "5.26.0-community",
        ] {
            assert!(
                parse_tag(tag).is_some_and(|v| v.is_supported()),
                "{tag} should be supported"
            );
        }
        for tag in ["5.25.1", "5.27.0", "4.4.30", "2024.12.0"] {
            assert!(
                parse_tag(tag).is_some_and(|v| !v.is_supported()),
                "{tag} should parse but be unsupported"
            );
        }
        for tag in ["latest", "enterprise", "2025", ""] {
            assert!(parse_tag(tag).is_none(), "{tag} should not parse");
        }
    }

    #[test]
    fn patch_that_is_not_a_number_counts_as_zero() {
        assert_eq!(
            parse_tag("5.26.x"),
            Some(Neo4jVersion {
                major: 5,
                minor: 26,
                patch: 0
            })
        );
    }

    #[test]
    fn property_sharding_gate() {
        assert!(parse_tag("2025.12.0").is_some_and(|v| v.supports_property_sharding()));
        assert!(parse_tag("2026.1.0").is_some_and(|v| v.supports_property_sharding()));
        assert!(parse_tag("2025.11.0").is_some_and(|v| !v.supports_property_sharding()));
    }

    #[test]
    fn upgrade_matrix() {
        let allowed = [
            ("5.26.0", "5.26.3"),
            ("5.26.3", "2025.01.0"),
            ("2025.01.0", "2025.10.1"),
            ("x", "x"),
        ];
        for (a, b) in allowed {
            assert_eq!(upgrade_refusal(a, b), None, "{a} -> {b}");
        }
        let refused = [
            ("5.26.3", "5.26.1", "downgrade"),
            ("2025.01.0", "5.26.0", "downgrade"),
            ("5.25.0", "5.26.0", "only 5.26.x"),
            ("5.25.0", "2025.01.0", "requires 5.26.x"),
            ("4.4.0", "5.26.0", "major version"),
            ("4.3.0", "4.4.0", "4.x"),
            ("latest", "5.26.0", "invalid version"),
        ];
        for (a, b, why) in refused {
            let r = upgrade_refusal(a, b).unwrap_or_default();
            assert!(r.contains(why), "{a} -> {b}: {r:?} lacks {why:?}");
        }
    }
}
