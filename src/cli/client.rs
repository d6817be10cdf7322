//! How the client subcommands reach a server: its address and the caller's token.

use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use tonic::{
    Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

/// Where the server is and who calls it.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The server's address: `http://host:port` (or `host:port`).
    #[arg(long, env = "HRPLAN_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,
    /// Bearer token presented on every call (see `hrplan token`); none for a
    /// server in development mode.
    #[arg(long, env = "HRPLAN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Longest a single call may take, in seconds.
    #[arg(long, env = "HRPLAN_CALL_TIMEOUT_SECONDS", default_value_t = 600)]
    pub call_timeout_seconds: u64,
}

/// Adds `authorization: Bearer <token>` to every call, when there is a token.
#[derive(Debug, Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl Bearer {
    /// The interceptor presenting `token`, or none.
    pub fn new(token: Option<&str>) -> anyhow::Result<Self> {
        token
            .map(|token| {
                format!("Bearer {}", token.trim())
                    .parse()
                    .map_err(|_| anyhow::anyhow!("the token holds characters a header cannot carry"))
            })
            .transpose()
            .map(Self)
    }
}

/// A channel with the caller's token, ready for any generated client:
/// `PersonServiceClient::new(connection.channel())`.
pub type AuthChannel = InterceptedService<Channel, Bearer>;

impl ClientArgs {
    /// Connects to the server.
    pub async fn connect(&self) -> anyhow::Result<AuthChannel> {
        let address = if self.server.contains("://") { self.server.clone() } else { format!("http://{}", self.server) };
        let endpoint = Endpoint::from_shared(address.clone())
            .with_context(|| format!("`{}` is not a server address", self.server))?
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(self.call_timeout_seconds))
            .tcp_nodelay(true);
        let channel =
            endpoint.connect().await.with_context(|| format!("connecting to the hrplan server at {address}"))?;
        Ok(InterceptedService::new(channel, Bearer::new(self.token.as_deref())?))
    }
}

/// Turns a failed call into an error that says what the server answered,
/// with every field and precondition violation it detailed.
pub fn call_error(what: &str, status: &Status) -> anyhow::Error {
    use std::fmt::Write as _;
    use tonic_types::StatusExt as _;

    let mut message = format!("{what}: {:?}: {}", status.code(), status.message());
    let details = status.get_error_details();
    if let Some(bad_request) = details.bad_request() {
        for violation in &bad_request.field_violations {
            let _ = write!(message, "\n  {}: {}", violation.field, violation.description);
        }
    }
    if let Some(failure) = details.precondition_failure() {
        for violation in &failure.violations {
            let _ = write!(message, "\n  {}: {}", violation.subject, violation.description);
        }
    }
    anyhow::anyhow!(message)
}
