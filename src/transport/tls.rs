//! TLS on the gRPC port: the server certificate, optional client-certificate
//! verification (mTLS), and reloading both when their files change.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use anyhow::Context as _;
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self, RootCertStore, ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
        server::WebPkiClientVerifier,
    },
};
use tracing::{info, warn};

/// Where the server's TLS material is: PEM files, read at start-up and again whenever
/// they change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate chain (leaf first).
    pub cert_file: PathBuf,
    /// The server certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// When set, clients must present a certificate signed by one of these CAs.
    pub client_ca_file: Option<PathBuf>,
}

impl TlsFiles {
    fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(self.cert_file.as_path()), Some(self.key_file.as_path()), self.client_ca_file.as_deref()]
            .into_iter()
            .flatten()
    }

    /// Reads the files and builds the rustls configuration they describe.
    pub fn load(&self) -> anyhow::Result<ServerConfig> {
        let chain_pem = read(&self.cert_file, "TLS certificate")?;
        let chain = CertificateDer::pem_slice_iter(&chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("parsing the TLS certificate {}", self.cert_file.display()))?;
        anyhow::ensure!(!chain.is_empty(), "no certificate in {}", self.cert_file.display());
        let key_pem = read(&self.key_file, "TLS private key")?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .with_context(|| format!("parsing the TLS private key {}", self.key_file.display()))?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("choosing the TLS protocol versions")?;
        let builder = match &self.client_ca_file {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let ca_pem = read(path, "TLS client CA")?;
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&ca_pem) {
                    let cert = cert.with_context(|| format!("parsing the TLS client CA {}", path.display()))?;
                    roots.add(cert).with_context(|| format!("adding the TLS client CA {}", path.display()))?;
                }
                anyhow::ensure!(!roots.is_empty(), "no certificate in {}", path.display());
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .context("building the client certificate verifier")?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .with_context(|| format!("the key {} does not fit the certificate", self.key_file.display()))?;
        // gRPC needs HTTP/2; HTTP/1.1 stays for gRPC-Web from browsers.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// The files' modification times, to notice a replacement.
    fn stamp(&self) -> Vec<Option<SystemTime>> {
        self.paths().map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok()).collect()
    }
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
}

/// The TLS configuration in force, swapped whole when the files change: connections
/// already open keep the one they started with.
#[derive(Debug, Clone)]
pub struct TlsReloader {
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl TlsReloader {
    /// Loads the files once (an error stops start-up) and keeps them current: every
    /// `interval`, and at once on SIGHUP, changed files are read again. A new set that
    /// does not load is logged and the previous one kept. The task ends with the
    /// returned handle's owner dropping it.
    pub fn start(files: TlsFiles, interval: Duration) -> anyhow::Result<(Self, tokio::task::JoinHandle<()>)> {
        let config = files.load()?;
        let reloader = Self { current: Arc::new(RwLock::new(Arc::new(config))) };
        let task = tokio::spawn(reloader.clone().watch(files, interval));
        Ok((reloader, task))
    }

    /// An acceptor with the configuration in force now.
    pub fn acceptor(&self) -> TlsAcceptor {
        let config = match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        TlsAcceptor::from(config)
    }

    async fn watch(self, files: TlsFiles, interval: Duration) {
        let mut stamp = files.stamp();
        let mut hangup = hangup_signal();
        loop {
            let forced = tokio::select! {
                () = tokio::time::sleep(interval) => false,
                () = next_hangup(&mut hangup) => true,
            };
            let now = files.stamp();
            if !forced && now == stamp {
                continue;
            }
            stamp = now;
            match files.load() {
                Ok(config) => {
                    match self.current.write() {
                        Ok(mut guard) => *guard = Arc::new(config),
                        Err(poisoned) => *poisoned.into_inner() = Arc::new(config),
                    }
                    info!(certificate = %files.cert_file.display(), "reloaded the TLS certificate");
                }
                Err(error) => {
                    warn!(
                        error = format!("{error:#}"),
                        "the new TLS files do not load; keeping the previous certificate"
                    );
                }
            }
        }
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangup_signal() -> Hangup {}

#[cfg(unix)]
async fn next_hangup(signal: &mut Hangup) {
    let received = match signal {
        Some(signal) => signal.recv().await.is_some(),
        None => false,
    };
    if !received {
        std::future::pending::<()>().await;
    }
}
#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending().await
}
