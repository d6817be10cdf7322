//! Configuration from flags and `HRPLAN_*` environment variables.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::Args;

use crate::auth::{KeyConfig, Role};

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE?mode=rwc` (created if missing) or `postgres://…`.
    #[arg(long, env = "HRPLAN_DATABASE_URL", default_value = "sqlite://hrplan.db?mode=rwc")]
    pub database_url: String,
    /// Largest number of pooled database connections.
    #[arg(long, env = "HRPLAN_DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
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
    /// Longest a request may run, in seconds (a shorter client deadline wins).
    #[arg(long, env = "HRPLAN_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
    /// Largest request message accepted, in bytes.
    #[arg(long, env = "HRPLAN_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,
    /// Most requests served at once; more wait.
    #[arg(long, env = "HRPLAN_MAX_CONCURRENT_REQUESTS", default_value_t = 256)]
    pub max_concurrent_requests: usize,
    /// Browser origins allowed to call over gRPC-Web (comma separated; `*` for any).
    #[arg(long, env = "HRPLAN_CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,
    /// Report cells smaller than this are hidden from callers without the
    /// personal-data role.
    #[arg(long, env = "HRPLAN_REPORT_SUPPRESSION_THRESHOLD", default_value_t = 5)]
    pub report_suppression_threshold: i64,
    /// How often (seconds) the server rebuilds the person facts of records written
    /// around it (SQL by hand); writes through the server need no wait.
    #[arg(long, env = "HRPLAN_FACTS_CATCH_UP_SECONDS", default_value_t = 10)]
    pub facts_catch_up_seconds: u64,
    /// Start without applying migrations (a replica whose database role may only
    /// read; another instance, or `hrplan migrate`, keeps the schema current).
    #[arg(long, env = "HRPLAN_SKIP_MIGRATIONS")]
    pub skip_migrations: bool,
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
    /// Pool size.
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
    /// Longest request.
    pub request_timeout: Duration,
    /// Largest request message.
    pub max_message_bytes: usize,
    /// Most concurrent requests.
    pub max_concurrent_requests: usize,
    /// Allowed gRPC-Web origins.
    pub cors_allowed_origins: Vec<String>,
    /// How often the database is probed for the health service.
    pub health_probe_interval: Duration,
    /// Smallest report cell shown to callers without the personal-data role.
    pub report_suppression_threshold: i64,
    /// How often the person facts of records written around the server are rebuilt.
    pub facts_catch_up_interval: Duration,
    /// Whether start-up applies the migrations (and catches the facts up).
    pub migrate: bool,
}

impl ServerConfig {
    /// Defaults for `database_url`: development mode, loopback, port 0 (for tests).
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            database_max_connections: 8,
            demo: false,
            keys: KeyConfig::Development,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_max_lifetime: crate::auth::DEFAULT_MAX_LIFETIME,
            jwt_jwks_refresh_interval: Duration::from_secs(10),
            trust_forwarded_for: false,
            audit_refusal_queue: crate::store::audit::REFUSAL_QUEUE,
            audit_database_url: None,
            request_timeout: Duration::from_secs(30),
            max_message_bytes: 4 * 1024 * 1024,
            max_concurrent_requests: 256,
            cors_allowed_origins: Vec::new(),
            health_probe_interval: Duration::from_secs(2),
            report_suppression_threshold: 5,
            facts_catch_up_interval: Duration::from_secs(10),
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
            // No flag yet says that a proxy terminates TLS; until one does, the socket's
            // peer is the caller's address.
            trust_forwarded_for: false,
            audit_refusal_queue: crate::store::audit::REFUSAL_QUEUE,
            audit_database_url: args.audit_database_url,
            request_timeout: Duration::from_secs(args.request_timeout_seconds),
            max_message_bytes: args.max_message_bytes,
            max_concurrent_requests: args.max_concurrent_requests,
            cors_allowed_origins: args.cors_allowed_origins,
            health_probe_interval: Duration::from_secs(2),
            report_suppression_threshold: args.report_suppression_threshold,
            facts_catch_up_interval: Duration::from_secs(args.facts_catch_up_seconds.max(1)),
            migrate: !args.skip_migrations,
        })
    }
}
