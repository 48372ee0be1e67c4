//! The `neo4j-webhook` binary: `serve` runs the admission server, `check` runs the same
//! defaults and rules over manifest files offline, `rules` lists every rule id.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc, configured at build time (`.cargo/config.toml`) with a background thread and a
/// one-second decay, hands memory freed after a burst (large reviews, many connections) back to
/// the operating system within seconds; glibc's per-thread arenas kept the peak resident. It
/// also allocates and frees the decoder's many small strings and maps with fewer instructions.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Mutating and validating admission webhook for the Neo4j operator (neo4j.neo4j.com/v1beta1).
#[derive(Parser)]
#[command(name = "neo4j-webhook", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve /mutate and /validate over TLS, with health and metrics on a plain port.
    Serve(Box<neo4j_webhook::serve::Args>),
    /// Run the webhook's defaults and validation over manifest files, without a cluster.
    Check(neo4j_webhook::check::Args),
    /// List every rule id admission can report: severity, kinds, when it is checked, fields,
    /// message and what to do. Ids are stable: metric labels, event reasons and dashboards
    /// use them.
    Rules(neo4j_webhook::rules::Args),
    /// Write a CA, a serving certificate, its Secret and the caBundle patch (no cert-manager).
    Certs(neo4j_webhook::certs::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => neo4j_webhook::serve::run(*args),
        Command::Check(args) => neo4j_webhook::check::run(args),
        Command::Rules(args) => neo4j_webhook::rules::run(args),
        Command::Certs(args) => neo4j_webhook::certs::run(args),
    }
}
