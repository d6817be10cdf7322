//! The server under test: `hrplan serve` as a separate process (the release build
//! cargo made for this bench), so that its memory is its own and can be read from
//! `/proc/PID/status`.

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

/// The HS256 secret the bench's server verifies tokens with.
pub const SECRET: &str = "hrplan-national-bench-secret-0123456789";

/// How long the server may take to become ready before the bench gives up.
const READY_LIMIT: Duration = Duration::from_secs(900);

/// A running server.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// Its address, `http://127.0.0.1:PORT`.
    pub url: String,
    /// From spawning to health SERVING for `hrplan.v1.ReportService`.
    pub ready_after: Duration,
}

/// Memory of a process, from `/proc/PID/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident set now (kB).
    pub rss_kb: u64,
    /// Peak resident set (kB).
    pub hwm_kb: u64,
}

impl Memory {
    /// Formats kB as MB.
    pub fn mb(kb: u64) -> String {
        format!("{:.0} MB", kb as f64 / 1024.0)
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Server {
    /// Starts `hrplan serve` on `database_url` and waits until the report service is
    /// SERVING; its log goes to `log`.
    pub async fn start(database_url: &str, log: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log_file = std::fs::File::create(log)?;
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_hrplan"))
            .arg("serve")
            .env("HRPLAN_DATABASE_URL", database_url)
            .env("HRPLAN_LISTEN", format!("127.0.0.1:{port}"))
            .env("HRPLAN_JWT_HS256_SECRET", SECRET)
            .env("HRPLAN_LOG", "warn")
            .env_remove("HRPLAN_DEMO")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or_else(|| anyhow::anyhow!("the server exited at once"))?;
        let mut server = Self { child, pid, url: format!("http://127.0.0.1:{port}"), ready_after: Duration::ZERO };
        loop {
            if let Some(status) = server.child.try_wait()? {
                anyhow::bail!("the server exited ({status}) before it was ready; see {}", log.display());
            }
            if server.serving().await {
                server.ready_after = started.elapsed();
                return Ok(server);
            }
            if started.elapsed() > READY_LIMIT {
                anyhow::bail!("the server was not ready within {READY_LIMIT:?}; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn serving(&self) -> bool {
        let Ok(endpoint) = Channel::from_shared(self.url.clone()) else { return false };
        let Ok(channel) = endpoint.connect_timeout(Duration::from_secs(1)).connect().await else { return false };
        let request = HealthCheckRequest { service: "hrplan.v1.ReportService".into() };
        match HealthClient::new(channel).check(request).await {
            Ok(response) => response.into_inner().status == ServingStatus::Serving as i32,
            Err(_) => false,
        }
    }

    /// Its memory now.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_default()
        };
        Ok(Memory { rss_kb: field("VmRSS:"), hwm_kb: field("VmHWM:") })
    }

    /// Stops it: SIGTERM, then SIGKILL if it has not exited within ten seconds.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.pid.to_string()).status();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
            self.child.kill().await?;
        }
        Ok(())
    }
}
