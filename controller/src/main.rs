use clap::Parser;
use neo4j_controller::{Config, init_tracing, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    init_tracing(config.log_format);
    run(config).await
}
