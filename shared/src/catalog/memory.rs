//! Memory rules of a cluster server (`memory.rs`): the explicit memory keys of `spec.config`
//! (or `spec.propertySharding.config`) against each other and against the container limit
//! (2Gi when `spec.resources.limits.memory` is unset). The limit checks run only when the
//! keys raised no error.

use super::rule::Severity::*;
use super::rule::Stage::*;
use super::rule::{CLUSTER, Rule};

/// Where a memory key is read from: `spec.config` wins over `spec.propertySharding.config`.
const KEY: &[&str] = &["spec.config[*]", "spec.propertySharding.config[*]"];
const LIMIT: &[&str] = &["spec.resources.limits.memory"];

pub const RULES: &[Rule] = &[
    Rule {
        id: "memory-cluster-size-min",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: LIMIT,
        message: "{limit} is too little for a cluster of {n} servers; give each at least 2Gi (more than 3 servers)",
        hint: "raise spec.resources.limits.memory to 2Gi or more",
    },
    Rule {
        id: "memory-container-min",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: LIMIT,
        message: "{limit} is below the 1Gi a Neo4j Enterprise server needs",
        hint: "raise spec.resources.limits.memory to 1Gi or more",
    },
    Rule {
        id: "memory-exceeds-limit",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "heap {heap} + page cache {pc} + the {reserve} the JVM and the OS need outside them exceed the {limit} container limit, so the server cannot fit (the page cache is half the heap when only the heap is set)",
        hint: "lower server.memory.heap.max_size or server.memory.pagecache.size, or raise spec.resources.limits.memory (the reserve is 256Mi up to a 2Gi limit, 512Mi above)",
    },
    Rule {
        id: "memory-headroom-thin",
        severity: Warning,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "heap {heap} + page cache {pc} leave {left} of the {limit} container limit for the JVM's own memory, off-heap buffers and the OS; that fits, but less than twice the OS reserve (512Mi up to a 2Gi limit, 1Gi above) or 5 % of the limit is thin",
        hint: "lower the heap or the page cache a little, or raise spec.resources.limits.memory",
    },
    Rule {
        id: "memory-heap-format",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "{value} is not a memory size (server.memory.heap.max_size, server.memory.heap.initial_size)",
        hint: "use Neo4j syntax such as 4g or 512m",
    },
    Rule {
        id: "memory-heap-initial-le-max",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "initial heap ({initial}) is larger than the maximum heap ({max}); the JVM refuses to start",
        hint: "lower server.memory.heap.initial_size to at most server.memory.heap.max_size",
    },
    Rule {
        id: "memory-heap-min",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "heap {size} is below the 256Mi minimum",
        hint: "set server.memory.heap.max_size to 256m or more",
    },
    Rule {
        id: "memory-heap-over-31g",
        severity: Warning,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "heap {size} is above 31Gi, where the JVM loses compressed pointers",
        hint: "prefer 31g and give the rest to the page cache",
    },
    Rule {
        id: "memory-key-nonempty",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "{key} is empty (heap max, heap initial or page cache)",
        hint: "give a size such as 2g, or remove the key",
    },
    Rule {
        id: "memory-orphan-keys",
        severity: Warning,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "{key} is ignored unless server.memory.heap.max_size is also set; sizing stays automatic",
        hint: "set server.memory.heap.max_size too, or remove the key",
    },
    Rule {
        id: "memory-pagecache-format",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "{value} is not a memory size (server.memory.pagecache.size)",
        hint: "use Neo4j syntax such as 4g or 512m",
    },
    Rule {
        id: "memory-pagecache-min",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "page cache {size} is below the 128Mi minimum",
        hint: "set server.memory.pagecache.size to 128m or more",
    },
    Rule {
        id: "memory-tx-exceeds-heap",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "transaction memory ({tx}) cannot exceed the heap ({heap})",
        hint: "lower dbms.memory.transaction.total.max or raise the heap",
    },
    Rule {
        id: "memory-tx-format",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "{value} is not a memory size (dbms.memory.transaction.total.max)",
        hint: "use Neo4j syntax such as 4g or 512m",
    },
    Rule {
        id: "memory-tx-per-le-total",
        severity: Warning,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "per-transaction memory {max} exceeds the total transaction memory {total}; one transaction could starve all others",
        hint: "lower db.memory.transaction.max below dbms.memory.transaction.total.max (both default from the heap)",
    },
    Rule {
        id: "memory-value-neo4j-syntax",
        severity: Error,
        kinds: CLUSTER,
        operation: CreateUpdate,
        fields: KEY,
        message: "{value} is Kubernetes syntax, which Neo4j refuses; write it as {neo4j size} | {value} is not a Neo4j memory size (db.memory.transaction.max)",
        hint: "write memory settings in Neo4j syntax: 4g, 512m (not 4Gi)",
    },
];
