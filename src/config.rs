//! Configuration from flags and `HRPLAN_*` environment variables.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::Args;

use crate::{
    auth::{KeyConfig, Role},
    transport::TlsFiles,
};

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE?mode=rwc` (created if missing) or `postgres://…`.
    #[arg(long, env = "HRPLAN_DATABASE_URL", default_value = "sqlite://hrplan.db?mode=rwc")]
    pub database_url: String,
    /// Largest number of pooled database connections; 0 sizes the pool from the cores
    /// and the backend (PostgreSQL: 8 per core, 16 to 64; SQLite: 2 per core, at least 8).
    #[arg(long, env = "HRPLAN_DATABASE_MAX_CONNECTIONS", default_value_t = 0)]
    pub database_max_connections: u32,
}

/// Options of `hrplan serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on. Without a JWT key only loopback addresses are allowed.
    #[arg(long, env = "HRPLAN_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Log filter, in `tracing` EnvFilter syntax.
    #[arg(long, env = "HRPLAN_LOG", default_value = "info")]
    pub log_filter: String,
    /// Load the demo data: the locality tree, the workforce and the records every report
    /// reads, each part only into a database that holds none of it yet.
    #[arg(long, env = "HRPLAN_DEMO")]
    pub demo: bool,
    /// Verify bearer tokens with HS256 and this secret (at least 16 bytes). Prefer the
    /// environment variable or `--jwt-hs256-secret-file`: a flag shows in the process list.
    #[arg(long, env = "HRPLAN_JWT_HS256_SECRET", hide_env_values = true)]
    pub jwt_hs256_secret: Option<String>,
    /// Verify bearer tokens with RS256 or ES256 and the public key in this PEM file.
    #[arg(long, env = "HRPLAN_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Require this `iss` claim.
    #[arg(long, env = "HRPLAN_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Require this `aud` claim.
    #[arg(long, env = "HRPLAN_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Verify bearer tokens with HS256 and the secret in this file (one trailing line
    /// break ignored).
    #[arg(long, env = "HRPLAN_JWT_HS256_SECRET_FILE")]
    pub jwt_hs256_secret_file: Option<PathBuf>,
    /// Verify bearer tokens with the keys of this JWKS file (RSA, EC P-256, `oct`
    /// HS256), chosen by the token's `kid`; the file is re-read when it changes.
    #[arg(long, env = "HRPLAN_JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,
    /// How often (seconds) the JWKS file is checked for changes.
    #[arg(long, env = "HRPLAN_JWT_JWKS_REFRESH_SECONDS", default_value_t = 10)]
    pub jwt_jwks_refresh_seconds: u64,
    /// Longest lifetime of an accepted token, in seconds: `exp − iat`, or for a token
    /// without `iat`, `exp − now`.
    #[arg(long, env = "HRPLAN_JWT_MAX_LIFETIME_SECONDS", default_value_t = 24 * 3600)]
    pub jwt_max_lifetime_seconds: u64,
    /// Record reads of personal data and refused calls in this database (the primary of
    /// a read-only replica) rather than the one served.
    #[arg(long, env = "HRPLAN_AUDIT_DATABASE_URL", hide_env_values = true)]
    pub audit_database_url: Option<String>,
    /// On PostgreSQL, commit the audit records of reads without waiting for the disk
    /// (`synchronous_commit = off` for them): a read no longer waits for a disk flush, but
    /// a crash of the database host may lose the records of the last fraction of a
    /// second. Writes and their records are always committed durably.
    #[arg(long, env = "HRPLAN_AUDIT_READS_ASYNC_COMMIT")]
    pub audit_reads_async_commit: bool,
    /// Longest a request may run, in seconds (a shorter client deadline wins).
    #[arg(long, env = "HRPLAN_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "HRPLAN_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Most requests to the token-checked services served at once; more wait, up to
    /// --queue-timeout-ms.
    #[arg(long, env = "HRPLAN_MAX_CONCURRENT_REQUESTS", default_value_t = 256)]
    pub max_concurrent_requests: usize,
    /// Browser origins allowed to call over gRPC-Web (comma separated; `*` for any).
    #[arg(long, env = "HRPLAN_CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,
    /// The transport: TLS and the limits on connections and callers.
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Report cells smaller than this are hidden from callers without the
    /// personal-data role.
    #[arg(long, env = "HRPLAN_REPORT_SUPPRESSION_THRESHOLD", default_value_t = 5)]
    pub report_suppression_threshold: i64,
    /// How often (seconds) the server rebuilds the person facts of records written
    /// around it (SQL by hand); writes through the server need no wait.
    #[arg(long, env = "HRPLAN_FACTS_CATCH_UP_SECONDS", default_value_t = 10)]
    pub facts_catch_up_seconds: u64,
    /// How reports are aggregated: `memory` (the report engine: the person facts held
    /// as columns, loaded at start-up and kept in step with every write) or `sql` (in
    /// the database; less memory, slower at scale).
    #[arg(long, env = "HRPLAN_REPORT_ENGINE", value_enum, default_value_t = ReportEngine::Memory)]
    pub report_engine: ReportEngine,
    /// Start without applying migrations (a replica whose database role may only
    /// read; another instance, or `hrplan migrate`, keeps the schema current).
    #[arg(long, env = "HRPLAN_SKIP_MIGRATIONS")]
    pub skip_migrations: bool,
}

/// TLS and the limits that protect the server from hostile or greedy callers.
#[derive(Debug, Clone, Args)]
pub struct TransportArgs {
    /// Serve TLS with the certificate chain in this PEM file (needs --tls-key-file).
    #[arg(long, env = "HRPLAN_TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// The private key of --tls-cert-file, in PEM.
    #[arg(long, env = "HRPLAN_TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,
    /// Require clients to present a certificate signed by a CA in this PEM file (mTLS).
    #[arg(long, env = "HRPLAN_TLS_CLIENT_CA_FILE", requires = "tls_cert_file")]
    pub tls_client_ca_file: Option<PathBuf>,
    /// How often (seconds) the TLS files are checked for changes (SIGHUP reloads at once).
    #[arg(long, env = "HRPLAN_TLS_RELOAD_SECONDS", default_value_t = 5)]
    pub tls_reload_seconds: u64,
    /// Longest a TLS handshake may take, in seconds.
    #[arg(long, env = "HRPLAN_TLS_HANDSHAKE_TIMEOUT_SECONDS", default_value_t = 10)]
    pub tls_handshake_timeout_seconds: u64,
    /// State that a proxy in front terminates TLS, which allows plaintext on a
    /// non-loopback address.
    #[arg(long, env = "HRPLAN_TLS_TERMINATED_BY_PROXY", conflicts_with = "tls_cert_file")]
    pub tls_terminated_by_proxy: bool,
    /// Most requests to the health and open reflection services served at once (a
    /// budget of their own, apart from --max-concurrent-requests).
    #[arg(long, env = "HRPLAN_MAX_CONCURRENT_TOKEN_FREE", default_value_t = 16)]
    pub max_concurrent_token_free: usize,
    /// Longest a request waits for a free slot before RESOURCE_EXHAUSTED, in
    /// milliseconds (a shorter client deadline wins).
    #[arg(long, env = "HRPLAN_QUEUE_TIMEOUT_MS", default_value_t = 1000)]
    pub queue_timeout_ms: u64,
    /// Longest the request message may take to arrive after the request starts, in
    /// seconds; DEADLINE_EXCEEDED after that.
    #[arg(long, env = "HRPLAN_REQUEST_BODY_TIMEOUT_SECONDS", default_value_t = 5)]
    pub request_body_timeout_seconds: u64,
    /// Longest a client-streaming import may pause between two messages, in seconds.
    #[arg(long, env = "HRPLAN_STREAM_IDLE_TIMEOUT_SECONDS", default_value_t = 15)]
    pub stream_idle_timeout_seconds: u64,
    /// Most HTTP/2 streams (concurrent calls) one connection may open.
    #[arg(long, env = "HRPLAN_MAX_STREAMS_PER_CONNECTION", default_value_t = 100)]
    pub max_streams_per_connection: u32,
    /// Most connections open at once; more are closed when accepted.
    #[arg(long, env = "HRPLAN_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// A connection that carries no call for this many seconds is closed.
    #[arg(long, env = "HRPLAN_IDLE_CONNECTION_TIMEOUT_SECONDS", default_value_t = 300)]
    pub idle_connection_timeout_seconds: u64,
    /// Seconds between HTTP/2 keep-alive pings (0: none).
    #[arg(long, env = "HRPLAN_KEEPALIVE_INTERVAL_SECONDS", default_value_t = 60)]
    pub keepalive_interval_seconds: u64,
    /// Seconds to wait for a keep-alive ping's answer before closing the connection.
    #[arg(long, env = "HRPLAN_KEEPALIVE_TIMEOUT_SECONDS", default_value_t = 20)]
    pub keepalive_timeout_seconds: u64,
    /// Requests per second allowed to one caller (the token's subject) on average;
    /// 0 turns the limit off.
    #[arg(long, env = "HRPLAN_RATE_LIMIT_PER_SECOND", default_value_t = 100)]
    pub rate_limit_per_second: u32,
    /// Requests one caller may send in a burst above the average rate.
    #[arg(long, env = "HRPLAN_RATE_LIMIT_BURST", default_value_t = 500)]
    pub rate_limit_burst: u32,
    /// Server reflection: `on` (token-free), `token` (a valid token required) or `off`.
    #[arg(long, env = "HRPLAN_REFLECTION", value_enum, default_value_t = Reflection::On)]
    pub reflection: Reflection,
}

/// Where reports are aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportEngine {
    /// In memory, from the report engine (SQL while it loads).
    Memory,
    /// In the database.
    Sql,
}

/// Whether and to whom server reflection is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Reflection {
    /// To anyone, with the token-free budget.
    On,
    /// To callers with a valid token, with the shared budget.
    Token,
    /// Not at all.
    Off,
}

/// Options of `hrplan token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The server's HS256 secret. Prefer the environment variable or `--secret-file`: a
    /// flag shows in the process list.
    #[arg(long, env = "HRPLAN_JWT_HS256_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// A file holding the server's HS256 secret (one trailing line break ignored).
    #[arg(long, env = "HRPLAN_JWT_HS256_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// The `kid` header: which key of the server's JWKS file verifies the token.
    #[arg(long)]
    pub kid: Option<String>,
    /// Make the token valid only this many seconds from now (`nbf`).
    #[arg(long)]
    pub not_before_seconds: Option<u64>,
    /// Who the token is for.
    #[arg(long, default_value = "operator")]
    pub subject: String,
    /// A locality code whose subtree the caller may act on (repeatable; `*` for all).
    #[arg(long = "locality", required = true)]
    pub localities: Vec<String>,
    /// A role: aggregate_reader, personal_data_reader, editor, admin (repeatable).
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,
    /// Lifetime of the token, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl_seconds: u64,
}

impl TokenArgs {
    /// The secret to sign with: the file's, else the flag's or environment's.
    pub fn secret(&self) -> anyhow::Result<Vec<u8>> {
        match (&self.secret_file, &self.secret) {
            (Some(path), _) => read_secret(path),
            (None, Some(secret)) => Ok(secret.as_bytes().to_vec()),
            (None, None) => {
                anyhow::bail!("no secret: set HRPLAN_JWT_HS256_SECRET, HRPLAN_JWT_HS256_SECRET_FILE or --secret-file")
            }
        }
    }
}

/// The secret held in `path`, without one trailing line break (as editors and `echo`
/// leave).
pub fn read_secret(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = std::fs::read(path).with_context(|| format!("reading the secret file {}", path.display()))?;
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    Ok(bytes)
}

fn parse_role(value: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).map_err(|_| {
        format!("unknown role `{value}`; expected aggregate_reader, personal_data_reader, editor or admin")
    })
}

/// Everything the server needs, however it was configured.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Database URL.
    pub database_url: String,
    /// Pool size (0: sized from the cores and the backend, `store::pool_size`).
    pub database_max_connections: u32,
    /// Load the demo data, each part only into a database that holds none of it.
    pub demo: bool,
    /// How tokens are verified.
    pub keys: KeyConfig,
    /// Required `iss`.
    pub jwt_issuer: Option<String>,
    /// Required `aud`.
    pub jwt_audience: Option<String>,
    /// Longest lifetime of an accepted token.
    pub jwt_max_lifetime: Duration,
    /// How often a JWKS file is checked for changes.
    pub jwt_jwks_refresh_interval: Duration,
    /// Take the caller's address from `x-forwarded-for` (a proxy terminates TLS).
    pub trust_forwarded_for: bool,
    /// How many refused calls may wait to be audited; more are dropped and counted.
    pub audit_refusal_queue: usize,
    /// Where reads and refusals are audited, when not in the database served.
    pub audit_database_url: Option<String>,
    /// Commit the audit records of reads without waiting for the disk (PostgreSQL).
    pub audit_reads_async_commit: bool,
    /// Longest request.
    pub request_timeout: Duration,
    /// Largest request message.
    pub max_message_bytes: usize,
    /// Most concurrent requests.
    pub max_concurrent_requests: usize,
    /// Allowed gRPC-Web origins.
    pub cors_allowed_origins: Vec<String>,
    /// TLS files, or `None` for plaintext.
    pub tls: Option<TlsFiles>,
    /// How often the TLS files are checked for changes.
    pub tls_reload_interval: Duration,
    /// Longest TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// A proxy terminates TLS, so plaintext beyond loopback is allowed.
    pub tls_terminated_by_proxy: bool,
    /// Most concurrent requests to the token-free services.
    pub max_concurrent_token_free: usize,
    /// Longest wait for a slot.
    pub queue_timeout: Duration,
    /// Longest wait for the request message.
    pub request_body_timeout: Duration,
    /// Longest pause between the messages of a client stream.
    pub stream_idle_timeout: Duration,
    /// Most HTTP/2 streams per connection.
    pub max_streams_per_connection: u32,
    /// Most open connections.
    pub max_connections: usize,
    /// A connection without a call for this long is closed.
    pub idle_connection_timeout: Duration,
    /// HTTP/2 keep-alive ping interval (`None`: no pings).
    pub keepalive_interval: Option<Duration>,
    /// How long a keep-alive ping may go unanswered.
    pub keepalive_timeout: Duration,
    /// Average requests per second per caller (0: no limit).
    pub rate_limit_per_second: u32,
    /// Burst of requests per caller.
    pub rate_limit_burst: u32,
    /// Whether and to whom reflection is served.
    pub reflection: Reflection,
    /// How often the database is probed for the health service.
    pub health_probe_interval: Duration,
    /// Smallest report cell shown to callers without the personal-data role.
    pub report_suppression_threshold: i64,
    /// How often the person facts of records written around the server are rebuilt.
    pub facts_catch_up_interval: Duration,
    /// Where reports are aggregated.
    pub report_engine: ReportEngine,
    /// How often the report engine catches up with writes between calls.
    pub report_engine_interval: Duration,
    /// Whether start-up applies the migrations (and catches the facts up).
    pub migrate: bool,
}

impl ServerConfig {
    /// Defaults for `database_url`: development mode, loopback, port 0, no per-caller
    /// rate limit (for tests and benchmarks); the other limits as `hrplan serve` has them.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            database_max_connections: 0,
            demo: false,
            keys: KeyConfig::Development,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_max_lifetime: crate::auth::DEFAULT_MAX_LIFETIME,
            jwt_jwks_refresh_interval: Duration::from_secs(10),
            trust_forwarded_for: false,
            audit_refusal_queue: crate::store::audit::REFUSAL_QUEUE,
            audit_database_url: None,
            audit_reads_async_commit: false,
            request_timeout: Duration::from_secs(30),
            max_message_bytes: 4 * 1024 * 1024,
            max_concurrent_requests: 256,
            cors_allowed_origins: Vec::new(),
            tls: None,
            tls_reload_interval: Duration::from_secs(5),
            tls_handshake_timeout: Duration::from_secs(10),
            tls_terminated_by_proxy: false,
            max_concurrent_token_free: 16,
            queue_timeout: Duration::from_secs(1),
            request_body_timeout: Duration::from_secs(5),
            stream_idle_timeout: Duration::from_secs(15),
            max_streams_per_connection: 100,
            max_connections: 1024,
            idle_connection_timeout: Duration::from_secs(300),
            keepalive_interval: Some(Duration::from_secs(60)),
            keepalive_timeout: Duration::from_secs(20),
            // Off here, on in `hrplan serve`: a test or a benchmark is one caller making
            // thousands of calls, and turns the limit on where it is the subject.
            rate_limit_per_second: 0,
            rate_limit_burst: 500,
            reflection: Reflection::On,
            health_probe_interval: Duration::from_secs(2),
            report_suppression_threshold: 5,
            facts_catch_up_interval: Duration::from_secs(10),
            report_engine: ReportEngine::Memory,
            report_engine_interval: Duration::from_secs(1),
            migrate: true,
        }
    }
}

impl TryFrom<ServeArgs> for ServerConfig {
    type Error = anyhow::Error;

    fn try_from(args: ServeArgs) -> anyhow::Result<Self> {
        let sources = [
            args.jwt_hs256_secret.is_some(),
            args.jwt_hs256_secret_file.is_some(),
            args.jwt_public_key_file.is_some(),
            args.jwt_jwks_file.is_some(),
        ];
        anyhow::ensure!(
            sources.iter().filter(|s| **s).count() <= 1,
            "configure one JWT key source: an HS256 secret (or its file), a public key file or a JWKS file"
        );
        let keys = if let Some(secret) = args.jwt_hs256_secret {
            KeyConfig::Hs256(secret.into_bytes())
        } else if let Some(path) = args.jwt_hs256_secret_file {
            KeyConfig::Hs256(read_secret(&path)?)
        } else if let Some(path) = args.jwt_public_key_file {
            KeyConfig::PublicKeyPem(
                std::fs::read(&path).with_context(|| format!("reading the JWT public key {}", path.display()))?,
            )
        } else if let Some(path) = args.jwt_jwks_file {
            KeyConfig::Jwks(path)
        } else {
            KeyConfig::Development
        };
        let t = args.transport;
        Ok(Self {
            listen: args.listen,
            database_url: args.database.database_url,
            database_max_connections: args.database.database_max_connections,
            demo: args.demo,
            keys,
            jwt_issuer: args.jwt_issuer,
            jwt_audience: args.jwt_audience,
            jwt_max_lifetime: Duration::from_secs(args.jwt_max_lifetime_seconds),
            jwt_jwks_refresh_interval: Duration::from_secs(args.jwt_jwks_refresh_seconds.max(1)),
            // Behind a proxy that terminates TLS the socket's peer is the proxy: the
            // caller's address is the one the proxy forwards.
            trust_forwarded_for: t.tls_terminated_by_proxy,
            audit_refusal_queue: crate::store::audit::REFUSAL_QUEUE,
            audit_database_url: args.audit_database_url,
            audit_reads_async_commit: args.audit_reads_async_commit,
            request_timeout: Duration::from_secs(args.request_timeout_seconds),
            max_message_bytes: args.max_message_bytes,
            max_concurrent_requests: args.max_concurrent_requests,
            cors_allowed_origins: args.cors_allowed_origins,
            tls: t.tls_cert_file.zip(t.tls_key_file).map(|(cert_file, key_file)| TlsFiles {
                cert_file,
                key_file,
                client_ca_file: t.tls_client_ca_file,
            }),
            tls_reload_interval: Duration::from_secs(t.tls_reload_seconds.max(1)),
            tls_handshake_timeout: Duration::from_secs(t.tls_handshake_timeout_seconds.max(1)),
            tls_terminated_by_proxy: t.tls_terminated_by_proxy,
            max_concurrent_token_free: t.max_concurrent_token_free,
            queue_timeout: Duration::from_millis(t.queue_timeout_ms),
            request_body_timeout: Duration::from_secs(t.request_body_timeout_seconds.max(1)),
            stream_idle_timeout: Duration::from_secs(t.stream_idle_timeout_seconds.max(1)),
            max_streams_per_connection: t.max_streams_per_connection.max(1),
            max_connections: t.max_connections.max(1),
            idle_connection_timeout: Duration::from_secs(t.idle_connection_timeout_seconds.max(1)),
            keepalive_interval: (t.keepalive_interval_seconds > 0)
                .then(|| Duration::from_secs(t.keepalive_interval_seconds)),
            keepalive_timeout: Duration::from_secs(t.keepalive_timeout_seconds.max(1)),
            rate_limit_per_second: t.rate_limit_per_second,
            rate_limit_burst: t.rate_limit_burst,
            reflection: t.reflection,
            health_probe_interval: Duration::from_secs(2),
            report_suppression_threshold: args.report_suppression_threshold,
            facts_catch_up_interval: Duration::from_secs(args.facts_catch_up_seconds.max(1)),
            report_engine: args.report_engine,
            report_engine_interval: Duration::from_secs(1),
            migrate: !args.skip_migrations,
        })
    }
}
