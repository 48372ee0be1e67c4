//! `neo4j-controller cypher`: the program a database Job runs (`shared::render::database`).
//! It runs one statement with its parameters over Bolt and reports the outcome in the ways a
//! Job can: the exit code, the container's termination message (which the controller copies
//! into the Neo4jDatabase's status), and the result as one JSON line on stdout.
//!
//! The statement and the parameters are separate arguments and reach Neo4j separately (RUN's
//! query and parameter map): nothing here parses, quotes or splices a value. The password is
//! read only from the environment (`NEO4J_PASSWORD`, from the host's Secret), never from argv.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use neo4j_shared::render::database::EXIT_REFUSED;
use serde_json::Value as Json;

use crate::bolt::{BoltError, Connection, Credentials, Target, Tls, Value};

/// Exit code for anything but a refusal by Neo4j (bad arguments, no connection, timeout).
pub const EXIT_ERROR: i32 = 2;
/// Kubernetes keeps at most this many bytes of a termination message.
const TERMINATION_MAX: usize = 4096;

/// Runs one Cypher statement against Neo4j over Bolt.
#[derive(Debug, Clone, Parser)]
#[command(name = "neo4j-controller cypher", bin_name = "neo4j-controller cypher")]
pub struct CypherArgs {
    /// Server address, `host:port`.
    #[arg(long)]
    pub address: String,
    /// Database of the session.
    #[arg(long, default_value = "system")]
    pub database: String,
    /// The statement, verbatim.
    #[arg(long)]
    pub statement: String,
    /// The parameters, one JSON object.
    #[arg(long, default_value = "{}")]
    pub parameters: String,
    /// Send a routing context, so a cluster routes the statement to the leader.
    #[arg(long)]
    pub routing: bool,
    /// Connect with TLS, trusting the CA certificates of --ca-file.
    #[arg(long, requires = "ca_file")]
    pub tls: bool,
    /// PEM file of the CA certificates to trust (with --tls).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Name the server certificate must carry (TLS; default: the host of --address).
    #[arg(long)]
    pub server_name: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
    /// User name.
    #[arg(long, env = "NEO4J_USERNAME", default_value = "neo4j")]
    pub username: String,
    /// Where the outcome is written for Kubernetes to keep.
    #[arg(long, default_value = "/dev/termination-log")]
    pub termination_log: PathBuf,
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    Done(crate::bolt::QueryResult),
    Failed(BoltError),
    BadInput(String),
    TimedOut(u64),
}

/// Runs the statement; `password` is the `NEO4J_PASSWORD` of the environment.
pub async fn execute(args: &CypherArgs, password: Option<String>) -> Outcome {
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Outcome::BadInput("NEO4J_PASSWORD is not set".into());
    };
    let parameters = match serde_json::from_str::<Json>(&args.parameters) {
        Ok(Json::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect::<BTreeMap<_, _>>(),
        Ok(_) => return Outcome::BadInput("--parameters is not a JSON object".into()),
        Err(e) => return Outcome::BadInput(format!("--parameters: {e}")),
    };
    let target = Target {
        address: args.address.clone(),
        tls: match (&args.tls, &args.ca_file) {
            (true, Some(ca_file)) => Some(Tls {
                ca_file: ca_file.clone(),
                server_name: args.server_name.clone(),
            }),
            (true, None) => return Outcome::BadInput("--tls needs --ca-file".into()),
            (false, _) => None,
        },
        routing: args.routing,
    };
    let credentials = Credentials {
        user: args.username.clone(),
        password,
    };
    let work = async {
        let mut c = Connection::connect(&target, &credentials).await?;
        let result = c
            .run(&args.statement, parameters, Some(&args.database))
            .await;
        c.close().await;
        result
    };
    match tokio::time::timeout(Duration::from_secs(args.timeout_seconds.max(1)), work).await {
        Ok(Ok(r)) => Outcome::Done(r),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(_) => Outcome::TimedOut(args.timeout_seconds),
    }
}

/// The exit code and the one-line report of an outcome.
pub fn report(args: &CypherArgs, outcome: &Outcome) -> (i32, String) {
    match outcome {
        Outcome::Done(r) => {
            let json = serde_json::json!({
                "fields": r.fields,
                "records": r.records.iter().map(|row| row.iter().map(Value::to_json).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "summary": r.summary.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<serde_json::Map<_, _>>(),
            });
            (0, json.to_string())
        }
        Outcome::Failed(e @ BoltError::Neo4j { .. }) => (EXIT_REFUSED, e.to_string()),
        Outcome::Failed(e) => (EXIT_ERROR, format!("no answer from {}: {e}", args.address)),
        Outcome::BadInput(why) => (EXIT_ERROR, why.clone()),
        Outcome::TimedOut(s) => (
            EXIT_ERROR,
            format!("no answer from {} within {s} s", args.address),
        ),
    }
}

/// `text` on one line, cut to what Kubernetes keeps.
pub fn termination_message(text: &str) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > TERMINATION_MAX {
        let mut cut = TERMINATION_MAX;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
    }
    line
}

/// The `cypher` subcommand: runs, prints, records, and returns the exit code.
pub async fn run(args: CypherArgs) -> i32 {
    // One crypto provider in the tree (ring); ignore "already installed".
    let _ = rustls::crypto::ring::default_provider().install_default();
    let outcome = execute(&args, std::env::var("NEO4J_PASSWORD").ok()).await;
    let (code, text) = report(&args, &outcome);
    if code == 0 {
        println!("{text}");
    } else {
        eprintln!("{text}");
        // Best effort: outside a pod there may be no such file.
        let _ = std::fs::write(&args.termination_log, termination_message(&text));
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> CypherArgs {
        let mut argv = vec![
            "cypher",
            "--address",
            "127.0.0.1:1",
            "--statement",
            "RETURN $x",
        ];
        argv.extend_from_slice(extra);
        CypherArgs::try_parse_from(argv).expect("arguments")
    }

    #[tokio::test]
    async fn bad_input_never_connects() {
        let a = args(&["--parameters", "[1]"]);
        assert!(matches!(
            execute(&a, Some("pw".into())).await,
            Outcome::BadInput(_)
        ));
        assert!(matches!(execute(&a, None).await, Outcome::BadInput(_)));
        let (code, text) = report(&a, &execute(&args(&[]), None).await);
        assert_eq!(
            (code, text.as_str()),
            (EXIT_ERROR, "NEO4J_PASSWORD is not set")
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error_not_a_refusal() {
        let a = args(&["--timeout-seconds", "5"]);
        let (code, text) = report(&a, &execute(&a, Some("pw".into())).await);
        assert_eq!(code, EXIT_ERROR);
        assert!(text.starts_with("no answer from 127.0.0.1:1"), "{text}");
    }

    #[test]
    fn refusals_exit_with_their_own_code() {
        let a = args(&[]);
        let refused = Outcome::Failed(BoltError::Neo4j {
            code: "Neo.ClientError.Statement.SyntaxError".into(),
            message: "line 1\nline 2".into(),
        });
        let (code, text) = report(&a, &refused);
        assert_eq!(code, EXIT_REFUSED);
        assert_eq!(
            termination_message(&text),
            "Neo.ClientError.Statement.SyntaxError: line 1 line 2"
        );
    }

    #[test]
    fn termination_messages_fit_kubernetes() {
        let long = "é".repeat(5000);
        let m = termination_message(&long);
        assert!(m.len() <= TERMINATION_MAX && m.chars().all(|c| c == 'é'));
    }
}
