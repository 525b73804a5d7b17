//! A harness that starts the whole system as separate processes, the way `make run` does,
//! but on ports the OS picks, with fresh databases and consumer groups, against the test
//! broker (RENDA_TEST_KAFKA_BROKERS) and PostgreSQL server (RENDA_TEST_PG_URL).
//!
//! The binaries come from `cargo build --workspace --bins` (`make test` builds them first);
//! with RENDA_BIN_PROFILE=release from `target/release` instead (`make bench` builds those).

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use renda_platform::{envelope, kafka, testing};
use tokio::process::{Child, Command};

/// The six processes and their gRPC service names (the gateway has none).
pub const PROCESSES: &[(&str, Option<&str>)] = &[
    ("suggestion", Some("renda.suggestion.v1.SuggestionService")),
    ("deputy", Some("renda.deputy.v1.DeputyService")),
    ("supervision", Some("renda.supervision.v1.SupervisionService")),
    ("opinion-ingest", Some("renda.opinion.v1.OpinionIngestService")),
    ("notification", Some("renda.notification.v1.NotificationService")),
    ("gateway", None),
];

/// Services that publish on `renda.<county>.<service>`.
pub const PUBLISHERS: &[&str] = &["suggestion", "deputy", "supervision", "opinion-ingest", "notification"];

pub struct Process {
    pub name: &'static str,
    pub child: Child,
    /// gRPC port, or the HTTP port for the gateway.
    pub port: u16,
    pub admin_port: u16,
    pub log: PathBuf,
}

pub struct Stack {
    pub processes: Vec<Process>,
    pub counties: Vec<String>,
    pub gateway_url: String,
    /// Prefix of every database name, consumer group and the log directory of this run.
    pub run_id: String,
    /// The PostgreSQL server the processes use (RENDA_TEST_PG_URL).
    pub pg_url: String,
}

/// What may differ between runs of the stack; `Default` is what the tests use.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Prefix of the run id (database names, consumer groups, log directory).
    pub prefix: &'static str,
    /// The gateway's RENDA_RATE_LIMIT_PER_MINUTE; its own default (600 per caller) when `None`.
    pub rate_limit_per_minute: Option<u32>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self { prefix: "e2e", rate_limit_per_minute: None }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo profile whose binaries run: RENDA_BIN_PROFILE (`debug` when unset, or `release`).
fn bin_profile() -> anyhow::Result<String> {
    let profile = std::env::var("RENDA_BIN_PROFILE").unwrap_or_default();
    match profile.as_str() {
        "" => Ok("debug".to_owned()),
        "debug" | "release" => Ok(profile),
        other => bail!("RENDA_BIN_PROFILE: {other:?} is neither `debug` nor `release`"),
    }
}

/// The path of a built `renda-<name>` binary of the profile RENDA_BIN_PROFILE names.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let profile = bin_profile()?;
    let path = target.join(&profile).join(format!("renda-{name}"));
    if !path.exists() {
        let build = if profile == "release" {
            "cargo build --release --workspace --bins"
        } else {
            "cargo build --workspace --bins"
        };
        bail!("{} is missing: run `{build}` first (`make test` and `make bench` do)", path.display());
    }
    Ok(path)
}

fn database_name(run_id: &str, process: &str) -> String {
    format!("{run_id}_{}", process.replace('-', "_"))
}

impl Stack {
    /// Creates the counties' topics and starts every process; returns once all are SERVING.
    pub async fn start(counties: &[&str]) -> anyhow::Result<Self> {
        Self::start_with(counties, &StackOptions::default()).await
    }

    /// `start` with options (the benchmark raises the gateway's rate limit).
    pub async fn start_with(counties: &[&str], options: &StackOptions) -> anyhow::Result<Self> {
        renda_platform::telemetry::init_for_tests();
        let topics: Vec<String> =
            counties.iter().flat_map(|c| PUBLISHERS.iter().map(move |s| envelope::topic(c, s))).collect();
        kafka::create_topics(&testing::brokers(), &topics, 3).await.context("creating topics")?;

        let run_id = testing::unique_name(options.prefix);
        let log_dir = workspace_root().join("target").join("e2e-logs").join(&run_id);
        std::fs::create_dir_all(&log_dir)?;
        let ports: HashMap<&str, (u16, u16)> = PROCESSES
            .iter()
            .map(|(name, _)| Ok((*name, (free_port()?, free_port()?))))
            .collect::<anyhow::Result<_>>()?;
        let upstream = |name: &str| format!("http://127.0.0.1:{}", ports[name].0);

        let mut processes = Vec::new();
        for (name, _) in PROCESSES {
            let (port, admin_port) = ports[name];
            let log = log_dir.join(format!("{name}.log"));
            let file = std::fs::File::create(&log)?;
            let mut command = Command::new(binary(name)?);
            command
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("RENDA_PG_URL", testing::pg_url())
                .env("RENDA_DB_NAME", database_name(&run_id, name))
                .env("RENDA_KAFKA_BROKERS", testing::brokers())
                .env("RENDA_COUNTIES", counties.join(","))
                .env("RENDA_CELL", &run_id)
                .env("RENDA_JWT_HS256_SECRET", testing::SECRET)
                .env("RENDA_LOG", "info,sqlx::postgres::notice=warn")
                .env("RENDA_ADMIN_ADDR", format!("127.0.0.1:{admin_port}"))
                .stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file)
                .kill_on_drop(true);
            if *name == "gateway" {
                command
                    .env("RENDA_HTTP_ADDR", format!("127.0.0.1:{port}"))
                    .env("RENDA_DEMO_USERS", workspace_root().join("deploy/local/demo-users.json"))
                    .env("RENDA_SUGGESTION_URL", upstream("suggestion"))
                    .env("RENDA_DEPUTY_URL", upstream("deputy"))
                    .env("RENDA_SUPERVISION_URL", upstream("supervision"))
                    .env("RENDA_OPINION_URL", upstream("opinion-ingest"))
                    .env("RENDA_NOTIFICATION_URL", upstream("notification"));
                if let Some(limit) = options.rate_limit_per_minute {
                    command.env("RENDA_RATE_LIMIT_PER_MINUTE", limit.to_string());
                }
            } else {
                command.env("RENDA_GRPC_ADDR", format!("127.0.0.1:{port}"));
            }
            let child = command.spawn().with_context(|| format!("starting renda-{name}"))?;
            processes.push(Process { name, child, port, admin_port, log });
        }
        let stack = Self {
            gateway_url: format!("http://127.0.0.1:{}", ports["gateway"].0),
            processes,
            counties: counties.iter().map(|c| (*c).to_owned()).collect(),
            run_id,
            pg_url: testing::pg_url(),
        };
        stack.await_ready(Duration::from_secs(90)).await?;
        Ok(stack)
    }

    /// Waits until every process's `/healthz` answers 200.
    async fn await_ready(&self, within: Duration) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + within;
        for process in &self.processes {
            loop {
                let url = format!("http://127.0.0.1:{}/healthz", process.admin_port);
                if matches!(http.get(&url).send().await, Ok(r) if r.status().is_success()) {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("renda-{} not ready within {within:?}; log: {}", process.name, process.log.display());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    /// The database of process `name` (e.g. `suggestion`) on `pg_url`'s server.
    pub fn database(&self, name: &str) -> String {
        database_name(&self.run_id, name)
    }

    pub fn process(&self, name: &str) -> &Process {
        self.processes.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no process {name}"))
    }

    /// Sends SIGTERM to every process and returns each one's exit code.
    pub async fn terminate(mut self) -> anyhow::Result<Vec<(&'static str, Option<i32>)>> {
        for process in &self.processes {
            if let Some(pid) = process.child.id() {
                // std has no signal API; `kill` is in every Debian base system (procps).
                std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status()?;
            }
        }
        let mut codes = Vec::new();
        for process in &mut self.processes {
            let status = tokio::time::timeout(Duration::from_secs(40), process.child.wait())
                .await
                .with_context(|| format!("renda-{} did not exit within 40s of SIGTERM", process.name))??;
            codes.push((process.name, status.code()));
        }
        Ok(codes)
    }
}
