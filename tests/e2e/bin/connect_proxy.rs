//! `connect-proxy`: the HTTP CONNECT proxy the install tests give kube-apiserver as its egress
//! for cluster traffic (`--egress-selector-config-file`, selection `cluster`, which carries the
//! calls to admission webhooks), on a Unix socket (kube-apiserver 1.36 needs TLS settings for a
//! TCP egress proxy).
//!
//! Why: EndpointSlices may not list loopback addresses, yet the webhook "pods" of the tests are
//! processes on 127.0.0.2 and 127.0.0.3. The slices list the documentation addresses
//! 192.0.2.2 and 192.0.2.3 instead (TEST-NET-1, never routed), and this proxy connects
//! `192.0.2.N:P` to `127.0.0.N:P`. Loopback destinations pass through; anything else is refused
//! with 403, so nothing leaves the machine.
//!
//! Usage: connect-proxy --socket PATH   (serves until killed)

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "connect-proxy",
    about = "HTTP CONNECT proxy mapping 192.0.2.N to 127.0.0.N"
)]
struct Args {
    /// Unix socket to listen on (replaced if it exists).
    #[arg(long)]
    socket: PathBuf,
}

/// Where a CONNECT target really goes; `None` when refused.
fn route(target: SocketAddr) -> Option<SocketAddr> {
    match target.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => Some(target),
        IpAddr::V4(ip) if ip.octets()[..3] == [192, 0, 2] => Some(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, ip.octets()[3])),
            target.port(),
        )),
        _ => None,
    }
}

fn handle(client: UnixStream) -> anyhow::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Headers up to the empty line; none of them matters here.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut out = client.try_clone()?;
    let mut parts = request.split_whitespace();
    let (Some("CONNECT"), Some(authority)) = (parts.next(), parts.next()) else {
        out.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")?;
        return Ok(());
    };
    let Some(upstream) = authority.parse::<SocketAddr>().ok().and_then(route) else {
        out.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n")?;
        return Ok(());
    };
    let server = match TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("connect-proxy: {authority} -> {upstream}: {e}");
            out.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")?;
            return Ok(());
        }
    };
    out.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.set_read_timeout(None)?;
    // Bytes the reader already buffered belong to the tunnel.
    let buffered = reader.buffer().to_vec();
    let mut to_server = server.try_clone()?;
    to_server.write_all(&buffered)?;
    let mut from_server = server;
    let mut to_client = client.try_clone()?;
    let mut from_client = reader.into_inner();
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut from_server, &mut to_client);
    let _ = to_client.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = std::fs::remove_file(&args.socket);
    let listener = UnixListener::bind(&args.socket)
        .with_context(|| format!("bind {}", args.socket.display()))?;
    eprintln!("connect-proxy: listening on {}", args.socket.display());
    for conn in listener.incoming() {
        match conn {
            Ok(client) => {
                std::thread::spawn(move || {
                    if let Err(e) = handle(client) {
                        eprintln!("connect-proxy: {e:#}");
                    }
                });
            }
            Err(e) => eprintln!("connect-proxy: accept: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn routes_documentation_addresses_to_loopback_and_refuses_the_rest() {
        let r = |s: &str| route(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")));
        assert_eq!(
            r("192.0.2.3:8443"),
            Some("127.0.0.3:8443".parse().unwrap_or_else(|e| panic!("{e}")))
        );
        assert_eq!(
            r("127.0.0.1:80"),
            Some("127.0.0.1:80".parse().unwrap_or_else(|e| panic!("{e}")))
        );
        assert_eq!(r("10.0.0.1:443"), None);
        assert_eq!(r("8.8.8.8:53"), None);
    }
}
