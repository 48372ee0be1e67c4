//! A small Bolt 5 client: just what the operator's database Jobs need — the handshake, HELLO
//! and LOGON, RUN with bound parameters, PULL, and Neo4j's failures — over TCP or TLS (rustls
//! with ring, the one crypto provider of the workspace).
//!
//! Why not a driver crate: the statements are single auto-commit queries on one connection;
//! server-side routing (`dbms.routing.default_router=SERVER` in the operator's cluster
//! configuration) takes a write to the system database's leader when HELLO carries a routing
//! context, so no client-side routing table, pool or retry logic is needed; and this stays
//! inside the dependencies the controller already has (tokio, tokio-rustls, serde_json).

pub mod packstream;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub use packstream::Value;

const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];
/// Bolt 5.8 down to 5.0, then nothing else (Neo4j 5.26 and every CalVer release speak 5.x).
const PROPOSALS: [[u8; 4]; 4] = [[0, 8, 8, 5], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
/// Largest chunk body.
const CHUNK_MAX: usize = 0xFFFF;
/// Largest message accepted from the server (a result of `SHOW DATABASES` is far below).
const MESSAGE_MAX: usize = 64 * 1024 * 1024;

mod tag {
    pub const HELLO: u8 = 0x01;
    pub const GOODBYE: u8 = 0x02;
    pub const RUN: u8 = 0x10;
    pub const PULL: u8 = 0x3F;
    pub const LOGON: u8 = 0x6A;
    pub const SUCCESS: u8 = 0x70;
    pub const RECORD: u8 = 0x71;
    pub const IGNORED: u8 = 0x7E;
    pub const FAILURE: u8 = 0x7F;
}

/// What went wrong talking to Neo4j.
#[derive(Debug, thiserror::Error)]
pub enum BoltError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the server speaks no Bolt 5 version")]
    NoVersion,
    #[error("protocol: {0}")]
    Protocol(String),
    /// Neo4j refused a request: its status code and message.
    #[error("{code}: {message}")]
    Neo4j { code: String, message: String },
}

impl BoltError {
    /// Neo4j's code and message, when Neo4j refused the request.
    pub fn neo4j(&self) -> Option<(&str, &str)> {
        match self {
            BoltError::Neo4j { code, message } => Some((code, message)),
            _ => None,
        }
    }
}

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub address: String,
    pub tls: Option<Tls>,
    /// Send a routing context in HELLO, so the server routes writes to the leader.
    pub routing: bool,
}

/// TLS settings: the CA to trust (the host's own, from its TLS Secret) and the name to verify.
#[derive(Debug, Clone)]
pub struct Tls {
    pub ca_file: PathBuf,
    /// Defaults to the host of the address.
    pub server_name: Option<String>,
}

/// Basic-auth credentials.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A result: column names, rows, and the summary metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub fields: Vec<String>,
    pub records: Vec<Vec<Value>>,
    pub summary: BTreeMap<String, Value>,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// One authenticated Bolt connection.
pub struct Connection {
    stream: Box<dyn Stream>,
    /// Framed messages not sent yet.
    pending: Vec<u8>,
    /// Negotiated (major, minor).
    pub version: (u8, u8),
    /// What HELLO's SUCCESS said (`server`, `connection_id`, …).
    pub server: BTreeMap<String, Value>,
}

fn host_of(address: &str) -> &str {
    match address.rsplit_once(':') {
        Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => address,
    }
}

async fn tls_stream(
    tcp: TcpStream,
    tls: &Tls,
    address: &str,
) -> Result<Box<dyn Stream>, BoltError> {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    let path = &tls.ca_file;
    let unreadable = |e: &dyn std::fmt::Display| BoltError::Tls(format!("{}: {e}", path.display()));
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(&e))? {
        roots
            .add(cert.map_err(|e| unreadable(&e))?)
            .map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(BoltError::Tls("no trusted CA certificate".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BoltError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = tls
        .server_name
        .clone()
        .unwrap_or_else(|| host_of(address).to_string());
    let name = ServerName::try_from(name).map_err(|e| BoltError::Tls(e.to_string()))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    Ok(Box::new(stream))
}

impl Connection {
    /// Connects, negotiates a Bolt 5 version and authenticates.
    pub async fn connect(target: &Target, credentials: &Credentials) -> Result<Self, BoltError> {
        let tcp = TcpStream::connect(&target.address).await?;
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Stream> = match &target.tls {
            Some(tls) => tls_stream(tcp, tls, &target.address).await?,
            None => Box::new(tcp),
        };
        let mut c = Connection {
            stream,
            pending: Vec::new(),
            version: (0, 0),
            server: BTreeMap::new(),
        };
        c.handshake().await?;
        c.hello(target, credentials).await?;
        Ok(c)
    }

    async fn handshake(&mut self) -> Result<(), BoltError> {
        let mut out = MAGIC.to_vec();
        PROPOSALS.iter().for_each(|p| out.extend_from_slice(p));
        self.stream.write_all(&out).await?;
        self.stream.flush().await?;
        let mut answer = [0u8; 4];
        self.stream.read_exact(&mut answer).await?;
        match answer {
            [0, 0, minor, 5] => {
                self.version = (5, minor);
                Ok(())
            }
            _ => Err(BoltError::NoVersion),
        }
    }

    async fn hello(&mut self, target: &Target, credentials: &Credentials) -> Result<(), BoltError> {
        let agent = concat!("neo4j-operator/", env!("CARGO_PKG_VERSION"));
        let mut extra = BTreeMap::from([("user_agent".to_string(), Value::string(agent))]);
        if self.version.1 >= 3 {
            extra.insert(
                "bolt_agent".into(),
                Value::map([("product", Value::string(agent))]),
            );
        }
        if target.routing {
            extra.insert(
                "routing".into(),
                Value::map([("address", Value::string(target.address.clone()))]),
            );
        }
        let auth = [
            ("scheme", Value::string("basic")),
            ("principal", Value::string(credentials.user.clone())),
            ("credentials", Value::string(credentials.password.clone())),
        ];
        if self.version.1 == 0 {
            // Bolt 5.0 authenticates in HELLO; 5.1 and later in LOGON.
            for (k, v) in auth.clone() {
                extra.insert(k.to_string(), v);
            }
        }
        self.send(tag::HELLO, vec![Value::Map(extra)]).await?;
        self.server = self.success().await?;
        if self.version.1 >= 1 {
            self.send(tag::LOGON, vec![Value::map(auth)]).await?;
            self.success().await?;
        }
        Ok(())
    }

    /// Runs `query` with `parameters` in an auto-commit transaction on `database` and pulls
    /// every record.
    pub async fn run(
        &mut self,
        query: &str,
        parameters: BTreeMap<String, Value>,
        database: Option<&str>,
    ) -> Result<QueryResult, BoltError> {
        let mut extra = BTreeMap::new();
        if let Some(db) = database {
            extra.insert("db".to_string(), Value::string(db));
        }
        // RUN and PULL go out together; after a failed RUN the server ignores the PULL.
        self.write_message(
            tag::RUN,
            vec![
                Value::string(query),
                Value::Map(parameters),
                Value::Map(extra),
            ],
        );
        self.write_message(tag::PULL, vec![Value::map([("n", Value::Int(-1))])]);
        self.flush().await?;
        let run = self.success().await;
        let meta = match run {
            Ok(meta) => meta,
            Err(e) => {
                // Drain the PULL's IGNORED so the connection stays in step.
                let _ = self.receive().await;
                return Err(e);
            }
        };
        let fields = match meta.get("fields") {
            Some(Value::List(l)) => l
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let mut records = Vec::new();
        loop {
            let (t, mut fields_of) = self.receive().await?;
            match t {
                tag::RECORD => match fields_of.pop() {
                    Some(Value::List(row)) => records.push(row),
                    _ => return Err(BoltError::Protocol("RECORD without a list".into())),
                },
                tag::SUCCESS => {
                    return Ok(QueryResult {
                        fields,
                        records,
                        summary: metadata(fields_of),
                    });
                }
                tag::FAILURE => return Err(failure(fields_of)),
                other => {
                    return Err(BoltError::Protocol(format!(
                        "unexpected message 0x{other:02X} while pulling"
                    )));
                }
            }
        }
    }

    /// Says goodbye (best effort) and closes.
    pub async fn close(mut self) {
        if self.send(tag::GOODBYE, vec![]).await.is_ok() {
            let _ = self.stream.shutdown().await;
        }
    }

    fn write_message(&mut self, t: u8, fields: Vec<Value>) {
        let mut body = Vec::new();
        Value::Struct(t, fields).encode(&mut body);
        let mut framed = Vec::with_capacity(body.len() + 4);
        for chunk in body.chunks(CHUNK_MAX) {
            framed.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            framed.extend_from_slice(chunk);
        }
        framed.extend_from_slice(&[0, 0]);
        self.pending.extend_from_slice(&framed);
    }

    async fn flush(&mut self) -> Result<(), BoltError> {
        let pending = std::mem::take(&mut self.pending);
        self.stream.write_all(&pending).await?;
        self.stream.flush().await?;
        Ok(())
    }

    async fn send(&mut self, t: u8, fields: Vec<Value>) -> Result<(), BoltError> {
        self.write_message(t, fields);
        self.flush().await
    }

    /// The next message: its tag and fields (NOOP chunks are skipped).
    async fn receive(&mut self) -> Result<(u8, Vec<Value>), BoltError> {
        let mut body = Vec::new();
        loop {
            let mut len = [0u8; 2];
            self.stream.read_exact(&mut len).await?;
            let len = usize::from(u16::from_be_bytes(len));
            if len == 0 {
                if body.is_empty() {
                    continue;
                }
                break;
            }
            if body.len() + len > MESSAGE_MAX {
                return Err(BoltError::Protocol("message too large".into()));
            }
            let start = body.len();
            body.resize(start + len, 0);
            self.stream.read_exact(&mut body[start..]).await?;
        }
        match Value::decode(&body) {
            Ok((Value::Struct(t, fields), [])) => Ok((t, fields)),
            Ok(_) => Err(BoltError::Protocol("a message is one structure".into())),
            Err(e) => Err(BoltError::Protocol(e.to_string())),
        }
    }

    /// Reads a SUCCESS (its metadata), or turns a FAILURE into [`BoltError::Neo4j`].
    async fn success(&mut self) -> Result<BTreeMap<String, Value>, BoltError> {
        let (t, fields) = self.receive().await?;
        match t {
            tag::SUCCESS => Ok(metadata(fields)),
            tag::FAILURE => Err(failure(fields)),
            tag::IGNORED => Err(BoltError::Protocol("request ignored".into())),
            other => Err(BoltError::Protocol(format!(
                "unexpected message 0x{other:02X}"
            ))),
        }
    }
}

fn metadata(mut fields: Vec<Value>) -> BTreeMap<String, Value> {
    match fields.pop() {
        Some(Value::Map(m)) => m,
        _ => BTreeMap::new(),
    }
}

/// Neo4j's code and message from a FAILURE (`code`, or `neo4j_code` from Bolt 5.7).
fn failure(fields: Vec<Value>) -> BoltError {
    let meta = metadata(fields);
    let text = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_string);
    BoltError::Neo4j {
        code: text("neo4j_code")
            .or_else(|| text("code"))
            .unwrap_or_else(|| "Neo.Unknown".into()),
        message: text("message").unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted server on a loopback socket: answers the handshake with `version`, then
    /// replies to each message with the next of `replies`, recording what it received.
    async fn scripted(
        version: [u8; 4],
        replies: Vec<Vec<Value>>,
    ) -> (String, tokio::task::JoinHandle<Vec<(u8, Vec<Value>)>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut hello = [0u8; 20];
            s.read_exact(&mut hello).await.expect("handshake");
            assert_eq!(hello[..4], MAGIC);
            s.write_all(&version).await.expect("version");
            let mut seen = Vec::new();
            let mut c = Connection {
                stream: Box::new(s),
                pending: Vec::new(),
                version: (5, 0),
                server: BTreeMap::new(),
            };
            for reply in replies {
                let Ok(m) = c.receive().await else { break };
                seen.push(m);
                for r in reply {
                    if let Value::Struct(t, f) = r {
                        let _ = c.send(t, f).await;
                    }
                }
            }
            seen
        });
        (address, task)
    }

    fn target(address: String) -> Target {
        Target {
            address,
            tls: None,
            routing: true,
        }
    }

    fn creds() -> Credentials {
        Credentials {
            user: "neo4j".into(),
            password: "secret".into(),
        }
    }

    fn ok(meta: Value) -> Value {
        Value::Struct(tag::SUCCESS, vec![meta])
    }

    #[tokio::test]
    async fn logs_on_runs_with_parameters_and_pulls() {
        let (address, server) = scripted(
            [0, 0, 4, 5],
            vec![
                vec![ok(Value::map([("server", Value::string("Neo4j/5.26.0"))]))],
                vec![ok(Value::map([]))],
                vec![],
                vec![
                    ok(Value::map([(
                        "fields",
                        Value::List(vec![Value::string("name")]),
                    )])),
                    Value::Struct(tag::RECORD, vec![Value::List(vec![Value::string("neo4j")])]),
                    ok(Value::map([("type", Value::string("r"))])),
                ],
            ],
        )
        .await;
        let mut c = Connection::connect(&target(address.clone()), &creds())
            .await
            .expect("connect");
        assert_eq!(c.version, (5, 4));
        let params = BTreeMap::from([("name".to_string(), Value::string("a'b`c"))]);
        let r = c
            .run("SHOW DATABASES YIELD name", params.clone(), Some("system"))
            .await
            .expect("run");
        assert_eq!(r.fields, ["name"]);
        assert_eq!(r.records, [vec![Value::string("neo4j")]]);
        c.close().await;
        let seen = server.await.expect("server");
        let (hello_tag, hello) = &seen[0];
        assert_eq!(*hello_tag, tag::HELLO);
        assert_eq!(
            hello[0].get("routing"),
            Some(&Value::map([("address", Value::string(address))]))
        );
        assert!(
            hello[0].get("credentials").is_none(),
            "5.4 logs on separately"
        );
        assert!(hello[0].get("bolt_agent").is_some());
        assert_eq!(seen[1].0, tag::LOGON);
        assert_eq!(
            seen[1].1[0].get("credentials"),
            Some(&Value::string("secret"))
        );
        assert_eq!(seen[2].0, tag::RUN);
        assert_eq!(
            seen[2].1[1],
            Value::Map(params),
            "parameters travel apart from the text"
        );
        assert_eq!(seen[2].1[2], Value::map([("db", Value::string("system"))]));
        assert_eq!(seen[3].0, tag::PULL);
    }

    #[tokio::test]
    async fn a_refused_statement_is_neo4js_code_and_message() {
        let failure = Value::Struct(
            tag::FAILURE,
            vec![Value::map([
                (
                    "code",
                    Value::string("Neo.ClientError.Statement.UnsupportedAdministrationCommand"),
                ),
                (
                    "message",
                    Value::string("Unsupported administration command"),
                ),
            ])],
        );
        let (address, _server) = scripted(
            [0, 0, 0, 5],
            vec![
                vec![ok(Value::map([]))],
                vec![failure],
                vec![Value::Struct(tag::IGNORED, vec![])],
            ],
        )
        .await;
        let mut c = Connection::connect(&target(address), &creds())
            .await
            .expect("connect");
        assert_eq!(c.version, (5, 0));
        let e = c
            .run("CREATE DATABASE $name", BTreeMap::new(), Some("system"))
            .await
            .unwrap_err();
        assert_eq!(
            e.neo4j(),
            Some((
                "Neo.ClientError.Statement.UnsupportedAdministrationCommand",
                "Unsupported administration command"
            ))
        );
    }

    #[tokio::test]
    async fn a_server_without_bolt_5_is_refused() {
        let (address, _server) = scripted([0, 0, 4, 4], vec![]).await;
        let e = Connection::connect(&target(address), &creds())
            .await
            .err()
            .expect("refused");
        assert!(matches!(e, BoltError::NoVersion), "{e}");
    }

    #[test]
    fn hosts_are_taken_from_addresses() {
        assert_eq!(
            host_of("graph-client.ns.svc.cluster.local:7687"),
            "graph-client.ns.svc.cluster.local"
        );
        assert_eq!(host_of("[::1]:7687"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }
}
