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
    /// Verify bearer tokens with HS256 and this secret (at least 16 bytes).
    #[arg(long, env = "HRPLAN_JWT_HS256_SECRET", hide_env_values = true, conflicts_with = "jwt_public_key_file")]
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
    /// The server's HS256 secret.
    #[arg(long, env = "HRPLAN_JWT_HS256_SECRET", hide_env_values = true)]
    pub secret: String,
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
        let keys = match (args.jwt_hs256_secret, args.jwt_public_key_file) {
            (Some(secret), _) => KeyConfig::Hs256(secret.into_bytes()),
            (None, Some(path)) => KeyConfig::PublicKeyPem(
                std::fs::read(&path).with_context(|| format!("reading the JWT public key {}", path.display()))?,
            ),
            (None, None) => KeyConfig::Development,
        };
        Ok(Self {
            listen: args.listen,
            database_url: args.database.database_url,
            database_max_connections: args.database.database_max_connections,
            demo: args.demo,
            keys,
            jwt_issuer: args.jwt_issuer,
            jwt_audience: args.jwt_audience,
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
