//! `neo4j-webhook`: the admission server (`serve`) and the offline checker (`check`). Both wrap
//! `neo4j_shared::engine`, so every line of policy is shared with the controller. `rules`
//! prints the catalogue of rule ids they report.

pub mod certs;
pub mod check;
pub mod rules;
pub mod serve;
