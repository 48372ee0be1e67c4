//! The admission server (being written).

use std::process::ExitCode;

/// Options of `neo4j-webhook serve`.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    eprintln!("neo4j-webhook serve: not built yet");
    ExitCode::from(2)
}
