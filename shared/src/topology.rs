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

#[cfg(test)]
mod tests {
    use super::*;

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
