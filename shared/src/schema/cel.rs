//! The CEL rules (`x-kubernetes-validations`) our CRDs declare, each implemented here in Rust
//! against the JSON value of the object the rule sits on (`self`). There is no CEL interpreter:
//! a rule is recognised by its text, and a test fails when a CRD holds a rule this file does not
//! implement. Each implementation is tested against the API server through the manifest corpus.

use serde_json::Value;

/// An implemented rule: whether it holds for `self`.
pub type Check = fn(&Value) -> bool;

/// The rule's text with every run of whitespace made one space (YAML folds long rules).
fn normalized(rule: &str) -> String {
    rule.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The implementation of `rule`, when it is one of ours.
pub fn of(rule: &str) -> Option<Check> {
    let rule = normalized(rule);
    RULES
        .iter()
        .find(|(text, _)| normalized(text) == rule)
        .map(|(_, check)| *check)
}

/// `has(self.<key>)`: the field is there (a `null` counts as absent).
fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// `size(self.<key>)` of a string (characters) or a list (items).
fn size(v: &Value, key: &str) -> usize {
    match v.get(key) {
        Some(Value::String(s)) => s.chars().count(),
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(o)) => o.len(),
        _ => 0,
    }
}

/// `self.installMode != 'VerifiedDownload'`.
fn not_verified_download(v: &Value) -> bool {
    v.get("installMode").and_then(Value::as_str) != Some("VerifiedDownload")
}

/// The rules, as written in the types (`shared/src/types/`), with their implementation.
const RULES: &[(&str, Check)] = &[
    // spec.topology of a cluster
    (
        "!has(self.minSystemPrimaries) || self.minSystemPrimaries <= self.servers",
        |t| {
            !has(t, "minSystemPrimaries")
                || matches!((int(t, "minSystemPrimaries"), int(t, "servers")), (Some(m), Some(s)) if m <= s)
        },
    ),
    (
        "!has(self.serverRoles) || self.serverRoles.all(r, r.serverIndex < self.servers)",
        |t| {
            !has(t, "serverRoles")
                || t["serverRoles"].as_array().is_some_and(|roles| {
                    roles.iter().all(|r| {
                        matches!((int(r, "serverIndex"), int(t, "servers")), (Some(i), Some(s)) if i < s)
                    })
                })
        },
    ),
    (
        "!has(self.serverRoles) || size(self.serverRoles) < self.servers || self.serverRoles.exists(r, r.modeConstraint != 'SECONDARY')",
        |t| {
            !has(t, "serverRoles")
                || int(t, "servers").is_some_and(|s| (size(t, "serverRoles") as i64) < s)
                || t["serverRoles"].as_array().is_some_and(|roles| {
                    roles.iter().any(|r| {
                        r.get("modeConstraint").and_then(Value::as_str) != Some("SECONDARY")
                    })
                })
        },
    ),
    // spec.source of a plugin
    (
        "!has(self.url) || size(self.url) == 0 || self.url.matches('(?i)^https://')",
        |s| {
            !has(s, "url")
                || size(s, "url") == 0
                || s["url"].as_str().is_some_and(|u| {
                    u.get(..8)
                        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
                })
        },
    ),
    // spec of a plugin
    (
        "self.installMode != 'VerifiedDownload' || (has(self.source) && has(self.source.url) && size(self.source.url) > 0)",
        |p| {
            not_verified_download(p)
                || (has(p, "source") && has(&p["source"], "url") && size(&p["source"], "url") > 0)
        },
    ),
    (
        "self.installMode != 'VerifiedDownload' || (has(self.source) && has(self.source.checksum) && size(self.source.checksum) > 0)",
        |p| {
            not_verified_download(p)
                || (has(p, "source")
                    && has(&p["source"], "checksum")
                    && size(&p["source"], "checksum") > 0)
        },
    ),
    (
        "self.installMode != 'VerifiedDownload' || !has(self.source) || !(self.source.type in ['official', 'community'])",
        |p| {
            not_verified_download(p)
                || !has(p, "source")
                || !matches!(
                    p["source"].get("type").and_then(Value::as_str),
                    Some("official" | "community")
                )
        },
    ),
    (
        "self.installMode != 'VerifiedDownload' || !has(self.dependencies) || size(self.dependencies) == 0",
        |p| not_verified_download(p) || !has(p, "dependencies") || size(p, "dependencies") == 0,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(rule: &str) -> Check {
        of(rule).unwrap_or_else(|| panic!("not implemented: {rule}"))
    }

    #[test]
    fn rules_are_found_whatever_the_whitespace() {
        assert!(
            of("!has(self.url) ||   size(self.url) == 0 ||\n self.url.matches('(?i)^https://')")
                .is_some()
        );
        assert!(of("self.x > 0").is_none());
    }

    #[test]
    fn topology_rules() {
        let msp = check("!has(self.minSystemPrimaries) || self.minSystemPrimaries <= self.servers");
        assert!(msp(&json!({"servers": 3})));
        assert!(msp(&json!({"servers": 3, "minSystemPrimaries": 3})));
        assert!(!msp(&json!({"servers": 3, "minSystemPrimaries": 4})));
        let index = check(
            "!has(self.serverRoles) || self.serverRoles.all(r, r.serverIndex < self.servers)",
        );
        assert!(index(
            &json!({"servers": 3, "serverRoles": [{"serverIndex": 2}]})
        ));
        assert!(!index(
            &json!({"servers": 3, "serverRoles": [{"serverIndex": 3}]})
        ));
        assert!(index(&json!({"servers": 3, "serverRoles": []})));
        let primary = check(
            "!has(self.serverRoles) || size(self.serverRoles) < self.servers || self.serverRoles.exists(r, r.modeConstraint != 'SECONDARY')",
        );
        let secondary = |i: i64| json!({"serverIndex": i, "modeConstraint": "SECONDARY"});
        assert!(!primary(
            &json!({"servers": 2, "serverRoles": [secondary(0), secondary(1)]})
        ));
        assert!(primary(
            &json!({"servers": 3, "serverRoles": [secondary(0), secondary(1)]})
        ));
        assert!(primary(
            &json!({"servers": 2, "serverRoles": [secondary(0), {"serverIndex": 1, "modeConstraint": "NONE"}]})
        ));
    }

    #[test]
    fn plugin_rules() {
        let https =
            check("!has(self.url) || size(self.url) == 0 || self.url.matches('(?i)^https://')");
        assert!(https(&json!({"url": "HTTPS://x"})));
        assert!(https(&json!({"url": ""})));
        assert!(https(&json!({})));
        assert!(!https(&json!({"url": "http://x"})));
        let url = check(
            "self.installMode != 'VerifiedDownload' || (has(self.source) && has(self.source.url) && size(self.source.url) > 0)",
        );
        assert!(url(&json!({"installMode": "Managed"})));
        assert!(!url(
            &json!({"installMode": "VerifiedDownload", "source": {"url": ""}})
        ));
        assert!(url(
            &json!({"installMode": "VerifiedDownload", "source": {"url": "https://x"}})
        ));
        let sum = check(
            "self.installMode != 'VerifiedDownload' || (has(self.source) && has(self.source.checksum) && size(self.source.checksum) > 0)",
        );
        assert!(!sum(&json!({"installMode": "VerifiedDownload"})));
        let ty = check(
            "self.installMode != 'VerifiedDownload' || !has(self.source) || !(self.source.type in ['official', 'community'])",
        );
        assert!(!ty(
            &json!({"installMode": "VerifiedDownload", "source": {"type": "community"}})
        ));
        assert!(ty(
            &json!({"installMode": "VerifiedDownload", "source": {"type": "url"}})
        ));
        let deps = check(
            "self.installMode != 'VerifiedDownload' || !has(self.dependencies) || size(self.dependencies) == 0",
        );
        assert!(!deps(
            &json!({"installMode": "VerifiedDownload", "dependencies": [{"name": "x"}]})
        ));
        assert!(deps(
            &json!({"installMode": "VerifiedDownload", "dependencies": []})
        ));
    }
}
