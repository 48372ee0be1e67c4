//! The serving certificate: loaded from the PEM files a cert-manager Secret mounts, handed to
//! rustls through a resolver whose slot is swapped when the files change, so new handshakes get
//! the new pair without a restart and in-flight connections keep theirs. Kubernetes updates a
//! mounted Secret by swapping a `..data` symlink, so the reloader compares file contents rather
//! than watching inodes or modification times.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, version};

use super::metrics::Metrics;

/// Why a certificate/key pair cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no PEM certificate found", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: not valid PEM: {message}", path.display())]
    Pem { path: PathBuf, message: String },
    #[error("{}: no usable private key: {message}", path.display())]
    NoKey { path: PathBuf, message: String },
    #[error("the private key does not fit the certificate: {0}")]
    Key(rustls::Error),
    #[error("the certificate is not valid X.509 DER: {0}")]
    Der(&'static str),
    #[error("the files kept changing while they were read; will retry")]
    Unsettled,
    #[error("TLS configuration: {0}")]
    Config(rustls::Error),
}

/// What the webhook reports about the certificate it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The serial number's DER content bytes.
    pub serial: Vec<u8>,
    /// `notAfter` as a Unix timestamp.
    pub not_after: i64,
}

impl CertFacts {
    pub fn serial_hex(&self) -> String {
        self.serial.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A parsed, consistent certificate chain and key.
#[derive(Debug)]
pub struct CertPair {
    pub certified: Arc<CertifiedKey>,
    pub facts: CertFacts,
}

/// The crypto provider: ring, the only one in the dependency tree.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as the process-wide default provider, for code that builds rustls configs
/// without naming one. A second call (tests start many servers) is harmless.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Parses and checks a pair: the chain parses, the first certificate carries a readable
/// `notAfter`, the key parses and its public key is the certificate's.
pub fn load_pair(
    cert_pem: &[u8],
    key_pem: &[u8],
    files: &CertFiles,
    provider: &CryptoProvider,
) -> Result<CertPair, TlsError> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: files.cert.clone(),
            message: e.to_string(),
        })?;
    let Some(leaf) = certs.first() else {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    };
    let facts = certificate_facts(leaf)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::NoKey {
        path: files.key.clone(),
        message: e.to_string(),
    })?;
    let certified = CertifiedKey::from_der(certs, key, provider).map_err(TlsError::Key)?;
    Ok(CertPair {
        certified: Arc::new(certified),
        facts,
    })
}

/// The slot rustls reads on every handshake.
#[derive(Debug)]
pub struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    pub fn new(initial: Arc<CertifiedKey>) -> Self {
        CertResolver {
            current: RwLock::new(initial),
        }
    }

    fn swap(&self, next: Arc<CertifiedKey>) {
        // A poisoned lock only means a writer panicked mid-assignment of an Arc, which cannot
        // leave a torn value: keep serving.
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = next;
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// The rustls configuration of the admission port: TLS 1.3 and 1.2 only, ALPN h2 then
/// http/1.1, no client authentication (the API server authenticates us, not the reverse).
pub fn server_config(resolver: Arc<CertResolver>) -> Result<ServerConfig, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&version::TLS13, &version::TLS12])
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Where the pair lives on disk.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads a file inline: two small files of a Secret volume (tmpfs) cost microseconds, less than
/// a trip through tokio's blocking pool, whose threads would be started and retired around
/// every poll (and each would grow the allocator's arenas).
fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl CertFiles {
    /// Reads both files so that they belong together: the certificate is read again after the
    /// key, and a change in between (the `..data` swap happened mid-read) means read again.
    pub fn read_consistent(&self) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
        for _ in 0..3 {
            let cert = read(&self.cert)?;
            let key = read(&self.key)?;
            if read(&self.cert)? == cert {
                return Ok((cert, key));
            }
        }
        Err(TlsError::Unsettled)
    }
}

/// Result of one poll of the files.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    Reloaded,
    /// The new pair is refused (or was already refused); the old one stays.
    Refused,
}

/// Polls the files and swaps a new, valid pair into the resolver.
pub struct CertReloader {
    files: CertFiles,
    resolver: Arc<CertResolver>,
    metrics: Arc<Metrics>,
    provider: Arc<CryptoProvider>,
    /// Contents of the pair in use.
    serving: (Vec<u8>, Vec<u8>),
    /// Contents last refused, so one bad pair is logged and counted once, not every poll.
    refused: Option<(Vec<u8>, Vec<u8>)>,
}

impl CertReloader {
    /// Loads the initial pair; the server does not start without one.
    pub async fn load(
        files: CertFiles,
        metrics: Arc<Metrics>,
    ) -> Result<(CertReloader, Arc<CertResolver>), TlsError> {
        let provider = provider();
        let (cert, key) = files.read_consistent()?;
        let pair = load_pair(&cert, &key, &files, &provider)?;
        metrics.certificate_expiry.set(pair.facts.not_after);
        tracing::info!(cert = %files.cert.display(), serial = %pair.facts.serial_hex(), not_after = pair.facts.not_after, "serving certificate loaded");
        let resolver = Arc::new(CertResolver::new(pair.certified));
        let reloader = CertReloader {
            files,
            resolver: resolver.clone(),
            metrics,
            provider,
            serving: (cert, key),
            refused: None,
        };
        Ok((reloader, resolver))
    }

    /// Reads the files once; swaps in a changed, valid pair.
    pub async fn poll(&mut self) -> Reload {
        let contents = match self.files.read_consistent() {
            Ok(c) => c,
            // Mid-rotation the files can be briefly missing; the next poll sees the result.
            Err(e) => {
                tracing::debug!(error = %e, "certificate files not readable this time");
                return Reload::Unchanged;
            }
        };
        if contents == self.serving {
            return Reload::Unchanged;
        }
        if self.refused.as_ref() == Some(&contents) {
            return Reload::Refused;
        }
        match load_pair(&contents.0, &contents.1, &self.files, &self.provider) {
            Ok(pair) => {
                self.resolver.swap(pair.certified);
                self.metrics.certificate_expiry.set(pair.facts.not_after);
                self.metrics.certificate_reload(true);
                tracing::info!(serial = %pair.facts.serial_hex(), not_after = pair.facts.not_after, "serving certificate reloaded");
                self.serving = contents;
                self.refused = None;
                Reload::Reloaded
            }
            Err(e) => {
                self.metrics.certificate_reload(false);
                tracing::error!(error = %e, "new certificate pair refused; still serving the previous one");
                self.refused = Some(contents);
                Reload::Refused
            }
        }
    }

    /// Polls every `interval` until `shutdown` resolves.
    pub async fn run(
        mut self,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = ticker.tick() => {
                    self.poll().await;
                }
            }
        }
    }
}

/// One DER element: (tag, content, rest). Only definite lengths of up to four bytes, which is
/// all a certificate uses.
fn der_element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), TlsError> {
    let (&tag, rest) = input
        .split_first()
        .ok_or(TlsError::Der("truncated element"))?;
    let (&first, rest) = rest
        .split_first()
        .ok_or(TlsError::Der("truncated length"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(TlsError::Der("unsupported length"));
        }
        let (bytes, rest) = rest.split_at(n);
        (
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
            rest,
        )
    };
    if rest.len() < len {
        return Err(TlsError::Der("element longer than its input"));
    }
    let (content, rest) = rest.split_at(len);
    Ok((tag, content, rest))
}

fn expect(tag: u8, want: u8, what: &'static str) -> Result<(), TlsError> {
    if tag == want {
        Ok(())
    } else {
        Err(TlsError::Der(what))
    }
}

/// Serial number and `notAfter` of a DER certificate (RFC 5280 §4.1), read without a full
/// X.509 parser: the fields sit at fixed positions at the start of `tbsCertificate`.
pub fn certificate_facts(der: &[u8]) -> Result<CertFacts, TlsError> {
    const SEQUENCE: u8 = 0x30;
    let (tag, cert, _) = der_element(der)?;
    expect(tag, SEQUENCE, "certificate is not a SEQUENCE")?;
    let (tag, tbs, _) = der_element(cert)?;
    expect(tag, SEQUENCE, "tbsCertificate is not a SEQUENCE")?;
    let (mut tag, mut serial, mut rest) = der_element(tbs)?;
    // [0] EXPLICIT version, absent for v1 certificates.
    if tag == 0xa0 {
        (tag, serial, rest) = der_element(rest)?;
    }
    expect(tag, 0x02, "serialNumber is not an INTEGER")?;
    let (_, _, rest) = der_element(rest)?; // signature AlgorithmIdentifier
    let (_, _, rest) = der_element(rest)?; // issuer Name
    let (tag, validity, _) = der_element(rest)?;
    expect(tag, SEQUENCE, "validity is not a SEQUENCE")?;
    let (_, _, rest) = der_element(validity)?; // notBefore
    let (tag, not_after, _) = der_element(rest)?;
    Ok(CertFacts {
        serial: serial.to_vec(),
        not_after: der_time(tag, not_after)?,
    })
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as Unix seconds.
fn der_time(tag: u8, text: &[u8]) -> Result<i64, TlsError> {
    let digits = |s: &[u8]| -> Result<i64, TlsError> {
        s.iter().try_fold(0i64, |acc, &b| {
            if b.is_ascii_digit() {
                Ok(acc * 10 + i64::from(b - b'0'))
            } else {
                Err(TlsError::Der("time is not digits"))
            }
        })
    };
    let (year, rest) = match (tag, text.len()) {
        (0x17, 13) => {
            let yy = digits(&text[..2])?;
            // RFC 5280: two-digit years 50–99 are 19xx, 00–49 are 20xx.
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 15) => (digits(&text[..4])?, &text[4..]),
        _ => {
            return Err(TlsError::Der(
                "notAfter is not a UTCTime or GeneralizedTime",
            ));
        }
    };
    if rest.last() != Some(&b'Z') {
        return Err(TlsError::Der("time is not in UTC"));
    }
    let field = |i: usize| digits(&rest[i..i + 2]);
    let (month, day, hour, minute, second) =
        (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(TlsError::Der("time out of range"));
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_convert_to_unix_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2038, 1, 19), 24_855);
    }

    #[test]
    fn reads_both_time_encodings() {
        assert_eq!(der_time(0x17, b"491231235959Z").ok(), Some(2_524_607_999));
        assert_eq!(der_time(0x18, b"20380119031407Z").ok(), Some(2_147_483_647));
        assert!(der_time(0x17, b"4912312359Z").is_err());
        assert!(der_time(0x18, b"2038011903140+0").is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            &b""[..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x03, 0x30, 0x01],
            &[0x02, 0x00],
        ] {
            assert!(certificate_facts(input).is_err());
        }
    }
}
