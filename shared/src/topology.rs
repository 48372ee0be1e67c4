//! Values derived from a cluster's topology that both the rules and the renderer need, so a
//! check and the setting it guards are computed by the same lines.

use crate::types::TopologyConfiguration;

/// The fewest servers a cluster runs; one server is a standalone.
pub const MIN_SERVERS: i32 = 2;

/// `dbms.cluster.minimum_initial_system_primaries_count` as rendered:
/// s = max(servers, 2); explicit m ⇒ min(max(m, 2), s); unset ⇒ min(s, 3).
pub fn effective_system_primaries(t: &TopologyConfiguration) -> i32 {
    let s = t.servers.max(MIN_SERVERS);
    match t.min_system_primaries {
        Some(m) => m.max(MIN_SERVERS).min(s),
        None => s.min(3),
    }
}

/// The mode constraint server `index` starts with: its own hint, else the global one.
fn server_mode(t: &TopologyConfiguration, index: i32) -> &str {
    t.server_roles
        .iter()
        .flatten()
        .find(|h| h.server_index == index)
        .map(|h| h.mode_constraint.as_str())
        .or(t.server_mode_constraint.as_deref())
        .unwrap_or("NONE")
}

/// `initial.dbms.default_primaries_count` as rendered: as many primaries for the default
/// database as the system database has (the effective system primaries), but no more than the
/// servers that may host a primary (not constrained to SECONDARY), at least 1, at most 11
/// (Neo4j's maximum).
pub fn default_primaries(t: &TopologyConfiguration) -> i32 {
    let capable = (0..t.servers.max(0))
        .filter(|i| server_mode(t, *i) != "SECONDARY")
        .count();
    let capable = i32::try_from(capable).unwrap_or(i32::MAX);
    effective_system_primaries(t).min(capable).clamp(1, 11)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_primaries_follow_the_system_database_and_the_constraints() {
        let t = |v: serde_json::Value| -> TopologyConfiguration {
            serde_json::from_value(v).expect("topology")
        };
        for (topology, want) in [
            (serde_json::json!({"servers": 3}), 3),
            (serde_json::json!({"servers": 2}), 2),
            (serde_json::json!({"servers": 7}), 3),
            (
                serde_json::json!({"servers": 7, "minSystemPrimaries": 5}),
                5,
            ),
            (
                serde_json::json!({"servers": 3, "serverRoles": [{"serverIndex": 2, "modeConstraint": "SECONDARY"}]}),
                2,
            ),
            (
                serde_json::json!({"servers": 4, "serverModeConstraint": "SECONDARY", "serverRoles": [{"serverIndex": 0, "modeConstraint": "PRIMARY"}]}),
                1,
            ),
            (
                serde_json::json!({"servers": 3, "serverModeConstraint": "SECONDARY"}),
                1,
            ),
        ] {
            assert_eq!(default_primaries(&t(topology.clone())), want, "{topology}");
        }
    }

    #[test]
    fn effective_system_primaries_follow_the_renderer() {
        let t = |servers, m| TopologyConfiguration {
            servers,
            min_system_primaries: m,
            ..Default::default()
        };
        for (servers, m, want) in [
            (3, None, 3),
            (2, None, 2),
            (7, None, 3),
            (1, None, 2),
            (5, Some(5), 5),
            (5, Some(9), 5),
            (5, Some(1), 2),
            (-4, None, 2),
        ] {
            assert_eq!(
                effective_system_primaries(&t(servers, m)),
                want,
                "servers {servers} m {m:?}"
            );
        }
    }
}
