use clap::Parser;
use neo4j_controller::cypher_cli::{CypherArgs, run as run_cypher};
use neo4j_controller::{Config, init_tracing, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `neo4j-controller cypher …`: the Bolt client a database Job runs (cypher_cli.rs).
    if std::env::args_os().nth(1).is_some_and(|a| a == "cypher") {
        let args = CypherArgs::parse_from(std::env::args_os().skip(1));
        std::process::exit(run_cypher(args).await);
    }
    let config = Config::parse();
    init_tracing(config.log_format);
    run(config).await
}
