//! `make bench`: submitting suggestions through the gateway with concurrent clients, against a
//! baseline measured in the same run on the same database.
//!
//! The stack is the one the end-to-end tests start (`Stack`): the six real processes, fresh
//! databases, the broker in RENDA_TEST_KAFKA_BROKERS and the PostgreSQL server in
//! RENDA_TEST_PG_URL; `deploy/local/bench.sh` runs it on release binaries.
//!
//! Workloads, each with C concurrent clients, a warm-up, then the measured requests:
//! - baseline: C connections to the suggestion service's database, each running
//!   `BEGIN; INSERT INTO bench_baseline …; COMMIT` — a raw single-row insert transaction;
//! - submit, one county: `POST /v1/counties/330521/suggestions` as deputy-330521, the full path
//!   (HTTP → gateway → gRPC → suggestion service → one transaction → commit), expecting 201;
//! - submit, six counties: the same with the clients spread over the seed's six counties.
//!
//! Latency is `Instant` around each request. Nothing here asserts a timing: the binary fails
//! only when a request fails (e.g. not 201) or the stack does not start or stop cleanly.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use renda_tests::{PROCESSES, Stack, StackOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

const SEED_COUNTIES: [&str; 6] = ["330521", "330782", "331081", "330603", "330523", "330110"];
const DEQING: &str = "330521";
const TITLE: &str = "基准测试：关于农村污水处理设施维护的建议";
const CONTENT: &str = "部分村庄污水处理设施缺少日常维护，建议建立长效管护机制并公开维护记录。";
const CATEGORY: &str = "环保";
/// The gateway's per-caller limit (600 a minute by default) would answer 429 within a second
/// of a benchmark; raised out of the way for this run only.
const RATE_LIMIT_PER_MINUTE: u32 = 100_000_000;
/// How long the event backlog of a workload may take to drain before the next one starts.
const SETTLE_WITHIN: Duration = Duration::from_secs(120);

const USAGE: &str = "\
usage: renda-bench [--clients C] [--requests N | --duration SECS] [--warmup W]

  -c, --clients C     concurrent clients (connections for the baseline)   [RENDA_BENCH_CLIENTS, 8]
  -n, --requests N    measured requests per workload                      [RENDA_BENCH_REQUESTS, 2000]
  -d, --duration S    measure each workload for S seconds instead of N    [RENDA_BENCH_DURATION]
  -w, --warmup W      unmeasured requests before each workload            [RENDA_BENCH_WARMUP, 200]

Needs RENDA_TEST_PG_URL, RENDA_TEST_KAFKA_BROKERS and built binaries (RENDA_BIN_PROFILE=release
for target/release); `make bench` provides all of them.
";

// ------------------------------------------------------------------ settings

#[derive(Debug, Clone, Copy)]
enum Amount {
    Requests(u64),
    Duration(Duration),
}

impl Amount {
    fn describe(self) -> String {
        match self {
            Self::Requests(n) => format!("{n} requests"),
            Self::Duration(d) => format!("{:.0} s", d.as_secs_f64()),
        }
    }
}

#[derive(Debug)]
struct Settings {
    clients: usize,
    amount: Amount,
    warmup: u64,
}

fn parse<T: std::str::FromStr>(what: &str, raw: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    raw.trim().parse().map_err(|e| anyhow!("{what}: {raw:?} is not valid: {e}"))
}

fn parse_duration(what: &str, raw: &str) -> anyhow::Result<Duration> {
    let secs: f64 = parse(what, raw.trim().trim_end_matches('s'))?;
    if !(secs.is_finite() && secs > 0.0) {
        bail!("{what}: {raw:?} must be a positive number of seconds");
    }
    Ok(Duration::from_secs_f64(secs))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn settings() -> anyhow::Result<Settings> {
    let mut clients: usize =
        env("RENDA_BENCH_CLIENTS").map(|v| parse("RENDA_BENCH_CLIENTS", &v)).transpose()?.unwrap_or(8);
    let mut requests: Option<u64> =
        env("RENDA_BENCH_REQUESTS").map(|v| parse("RENDA_BENCH_REQUESTS", &v)).transpose()?;
    let mut duration = env("RENDA_BENCH_DURATION").map(|v| parse_duration("RENDA_BENCH_DURATION", &v)).transpose()?;
    if requests.is_some() && duration.is_some() {
        bail!("set RENDA_BENCH_REQUESTS or RENDA_BENCH_DURATION, not both");
    }
    let mut warmup: u64 =
        env("RENDA_BENCH_WARMUP").map(|v| parse("RENDA_BENCH_WARMUP", &v)).transpose()?.unwrap_or(200);

    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with('-') => (flag.to_owned(), Some(value.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value =
            || inline.clone().or_else(|| args.next()).ok_or_else(|| anyhow!("{flag} needs a value\n\n{USAGE}"));
        match flag.as_str() {
            "-c" | "--clients" => clients = parse(&flag, &value()?)?,
            "-n" | "--requests" => {
                requests = Some(parse(&flag, &value()?)?);
                duration = None;
            }
            "-d" | "--duration" => {
                duration = Some(parse_duration(&flag, &value()?)?);
                requests = None;
            }
            "-w" | "--warmup" => warmup = parse(&flag, &value()?)?,
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            _ => bail!("unknown argument {arg:?}\n\n{USAGE}"),
        }
    }
    if clients == 0 {
        bail!("--clients must be at least 1");
    }
    let amount = match (requests, duration) {
        (_, Some(d)) => Amount::Duration(d),
        (Some(0), None) => bail!("--requests must be at least 1"),
        (n, None) => Amount::Requests(n.unwrap_or(2000)),
    };
    Ok(Settings { clients, amount, warmup })
}

// ------------------------------------------------------------------ the driver

/// One client's request, repeated; `seq` numbers the requests of a run across all clients.
trait Op: Send + 'static {
    fn call(&mut self, seq: u64) -> impl Future<Output = Result<(), String>> + Send;
}

struct Outcome {
    /// Latencies of the successful requests, sorted.
    latencies: Vec<Duration>,
    errors: u64,
    first_errors: Vec<String>,
    elapsed: Duration,
}

impl Outcome {
    fn requests(&self) -> u64 {
        self.latencies.len() as u64 + self.errors
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile in milliseconds (NaN when nothing succeeded).
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1].as_secs_f64() * 1000.0
    }
}

/// Runs every op on its own task until `amount` is used up; gives the ops back for reuse.
async fn drive<O: Op>(ops: Vec<O>, amount: Amount) -> anyhow::Result<(Vec<O>, Outcome)> {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let (limit, deadline) = match amount {
        Amount::Requests(n) => (n, None),
        Amount::Duration(d) => (u64::MAX, Some(start + d)),
    };
    let mut tasks = Vec::with_capacity(ops.len());
    for mut op in ops {
        let next = Arc::clone(&next);
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors, mut first_errors) = (Vec::new(), 0u64, Vec::new());
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= limit {
                    break;
                }
                let began = Instant::now();
                match op.call(seq).await {
                    Ok(()) => latencies.push(began.elapsed()),
                    Err(e) => {
                        errors += 1;
                        if first_errors.len() < 3 {
                            first_errors.push(e);
                        }
                    }
                }
            }
            (op, latencies, errors, first_errors)
        }));
    }
    let mut ops = Vec::with_capacity(tasks.len());
    let mut outcome = Outcome { latencies: Vec::new(), errors: 0, first_errors: Vec::new(), elapsed: Duration::ZERO };
    for task in tasks {
        let (op, latencies, errors, first_errors) = task.await.context("a client task panicked")?;
        ops.push(op);
        outcome.latencies.extend(latencies);
        outcome.errors += errors;
        outcome.first_errors.extend(first_errors);
    }
    outcome.elapsed = start.elapsed();
    outcome.latencies.sort_unstable();
    outcome.first_errors.truncate(5);
    Ok((ops, outcome))
}

// ------------------------------------------------------------------ the two kinds of request

/// `POST /v1/counties/<county>/suggestions` through the gateway.
struct Submit {
    http: reqwest::Client,
    url: String,
    token: String,
    client: usize,
}

impl Op for Submit {
    async fn call(&mut self, seq: u64) -> Result<(), String> {
        let body = json!({
            "kind": "suggestion",
            "title": format!("{TITLE}（{}-{seq}）", self.client),
            "content": CONTENT,
            "category": CATEGORY,
        });
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("idempotency-key", Uuid::now_v7().to_string())
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST {}: {e}", self.url))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("POST {}: reading the body: {e}", self.url))?;
        if status != StatusCode::CREATED {
            return Err(format!("POST {}: {status} {}", self.url, text.chars().take(300).collect::<String>()));
        }
        Ok(())
    }
}

/// `BEGIN; INSERT INTO bench_baseline …; COMMIT` on one connection of its own.
struct Insert {
    conn: PgConnection,
    client: usize,
}

const BASELINE_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_baseline (
    id         uuid PRIMARY KEY,
    county     text        NOT NULL,
    title      text        NOT NULL,
    content    text        NOT NULL,
    created_at timestamptz NOT NULL
)";

impl Op for Insert {
    async fn call(&mut self, seq: u64) -> Result<(), String> {
        let mut tx = self.conn.begin().await.map_err(|e| format!("BEGIN: {e}"))?;
        sqlx::query(
            "INSERT INTO bench_baseline (id, county, title, content, created_at) VALUES ($1, $2, $3, $4, now())",
        )
        .bind(Uuid::now_v7())
        .bind(DEQING)
        .bind(format!("{TITLE}（{}-{seq}）", self.client))
        .bind(CONTENT)
        .execute(&mut *tx)
        .await
        .map_err(|e| format!("INSERT: {e}"))?;
        tx.commit().await.map_err(|e| format!("COMMIT: {e}"))
    }
}

// ------------------------------------------------------------------ the stack's databases

/// Watches the five services' databases for the event backlog a workload leaves behind.
struct Backlog {
    pools: Vec<PgPool>,
}

impl Backlog {
    async fn connect(stack: &Stack) -> anyhow::Result<Self> {
        let mut pools = Vec::new();
        for (name, service) in PROCESSES {
            if service.is_none() {
                continue; // the gateway has no database
            }
            let db = stack.database(name);
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(renda_platform::db::options(&stack.pg_url, &db)?)
                .await
                .with_context(|| format!("connecting to database {db}"))?;
            pools.push(pool);
        }
        Ok(Self { pools })
    }

    /// (outbox rows not yet published, inbox rows) over all services.
    async fn snapshot(&self) -> anyhow::Result<(i64, i64)> {
        let (mut unpublished, mut consumed) = (0, 0);
        for pool in &self.pools {
            let (u, c): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL), (SELECT count(*) FROM inbox)",
            )
            .fetch_one(pool)
            .await?;
            unpublished += u;
            consumed += c;
        }
        Ok((unpublished, consumed))
    }

    /// Waits until every outbox is published and no consumer has applied anything for a second,
    /// so one workload's events are not processed during the next. Returns when it went quiet,
    /// or `None` when it did not within `within`.
    async fn settle(&self, within: Duration) -> anyhow::Result<Option<Duration>> {
        let start = Instant::now();
        let mut last = self.snapshot().await?;
        let mut quiet_since = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = self.snapshot().await?;
            if now != last {
                last = now;
                quiet_since = Instant::now();
            } else if now.0 == 0 && quiet_since.elapsed() >= Duration::from_secs(1) {
                return Ok(Some(quiet_since.duration_since(start)));
            }
            if start.elapsed() > within {
                return Ok(None);
            }
        }
    }
}

// ------------------------------------------------------------------ the run

struct Row {
    label: String,
    outcome: Outcome,
}

async fn login(http: &reqwest::Client, gateway: &str, login: &str) -> anyhow::Result<String> {
    let response = http
        .post(format!("{gateway}/v1/dev/tokens"))
        .json(&json!({ "login": login }))
        .send()
        .await
        .with_context(|| format!("logging in as {login}"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body["token"].as_str() {
        Some(token) if status == StatusCode::OK => Ok(token.to_owned()),
        _ => bail!("logging in as {login}: {status} {body}"),
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(1).timeout(Duration::from_secs(30)).build()?)
}

fn progress(message: &str) {
    eprintln!("[bench] {message}");
}

/// Warm-up, then the measured run, then waits for the backlog; returns the outcome and the
/// time the backlog took to drain.
async fn workload<O: Op>(
    label: &str,
    ops: Vec<O>,
    settings: &Settings,
    backlog: &Backlog,
) -> anyhow::Result<(Outcome, Option<Duration>)> {
    let mut ops = ops;
    if settings.warmup > 0 {
        progress(&format!("{label}: warm-up, {} requests", settings.warmup));
        let (back, warm) = drive(ops, Amount::Requests(settings.warmup)).await?;
        ops = back;
        if warm.errors > 0 {
            progress(&format!("{label}: {} of the warm-up requests failed: {:?}", warm.errors, warm.first_errors));
        }
        if backlog.settle(SETTLE_WITHIN).await?.is_none() {
            progress(&format!("{label}: warm-up backlog not drained within {SETTLE_WITHIN:?}; measuring anyway"));
        }
    }
    progress(&format!("{label}: measuring, {} with {} clients", settings.amount.describe(), settings.clients));
    let (_, outcome) = drive(ops, settings.amount).await?;
    let drained = backlog.settle(SETTLE_WITHIN).await?;
    progress(&format!(
        "{label}: {} ok, {} errors, {:.1} req/s",
        outcome.latencies.len(),
        outcome.errors,
        outcome.throughput()
    ));
    Ok((outcome, drained))
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 { format!("{:.2}x", a / b) } else { "n/a".to_owned() }
}

async fn bench(stack: &Stack, settings: &Settings) -> anyhow::Result<u64> {
    let suggestion_db = stack.database("suggestion");
    let options = renda_platform::db::options(&stack.pg_url, &suggestion_db)?;
    let backlog = Backlog::connect(stack).await?;
    let server: (String, String, String) = sqlx::query_as(
        "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')",
    )
    .fetch_one(&backlog.pools[0])
    .await
    .context("reading the server's settings")?;

    // Baseline: raw single-row insert transactions on the suggestion service's database.
    let mut conn =
        PgConnection::connect_with(&options).await.with_context(|| format!("connecting to {suggestion_db}"))?;
    sqlx::query(BASELINE_TABLE).execute(&mut conn).await.context("creating bench_baseline")?;
    let mut inserts = vec![Insert { conn, client: 0 }];
    for client in 1..settings.clients {
        let conn =
            PgConnection::connect_with(&options).await.with_context(|| format!("connecting to {suggestion_db}"))?;
        inserts.push(Insert { conn, client });
    }
    let (baseline, _) = workload("baseline", inserts, settings, &backlog).await?;

    // Submit through the gateway: all clients in one county, then spread over six.
    let gateway = &stack.gateway_url;
    let http = http_client()?;
    let mut tokens = Vec::new();
    for county in SEED_COUNTIES {
        tokens.push(login(&http, gateway, &format!("deputy-{county}")).await?);
    }
    let submits = |spread: bool| -> anyhow::Result<Vec<Submit>> {
        (0..settings.clients)
            .map(|client| {
                let i = if spread { client % SEED_COUNTIES.len() } else { 0 };
                Ok(Submit {
                    http: http_client()?,
                    url: format!("{gateway}/v1/counties/{}/suggestions", SEED_COUNTIES[i]),
                    token: tokens[i].clone(),
                    client,
                })
            })
            .collect()
    };
    let (one, one_drained) = workload("submit, 1 county", submits(false)?, settings, &backlog).await?;
    let (six, six_drained) = workload("submit, 6 counties", submits(true)?, settings, &backlog).await?;

    let spread: Vec<String> = SEED_COUNTIES
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c}×{}", (0..settings.clients).filter(|k| k % SEED_COUNTIES.len() == i).count()))
        .collect();
    let rows = [
        Row { label: "baseline: raw insert tx (BEGIN; INSERT; COMMIT)".to_owned(), outcome: baseline },
        Row { label: format!("submit: 1 county ({DEQING})"), outcome: one },
        Row { label: "submit: 6 counties".to_owned(), outcome: six },
    ];
    report(stack, settings, &server, &suggestion_db, &rows, &spread, [one_drained, six_drained]);

    let mut errors = 0;
    for row in &rows {
        errors += row.outcome.errors;
        for e in &row.outcome.first_errors {
            eprintln!("[bench] {}: error: {e}", row.label);
        }
    }
    Ok(errors)
}

fn report(
    stack: &Stack,
    settings: &Settings,
    server: &(String, String, String),
    database: &str,
    rows: &[Row; 3],
    spread: &[String],
    drained: [Option<Duration>; 2],
) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let profile =
        std::env::var("RENDA_BIN_PROFILE").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "debug".to_owned());
    let (version, fsync, sync_commit) = server;
    let log_dir = stack
        .process("gateway")
        .log
        .parent()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned()).display().to_string())
        .unwrap_or_default();
    println!();
    println!(
        "renda bench — {} concurrent clients, {} per workload after {} warm-up requests; {profile} binaries, {cpus} CPUs",
        settings.clients,
        settings.amount.describe(),
        settings.warmup
    );
    println!("  PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync_commit}), database {database}");
    println!("  stack logs in {log_dir}; gateway rate limit raised to {RATE_LIMIT_PER_MINUTE}/min for the run");
    println!();
    println!(
        "{:<50} {:>8} {:>6} {:>9} {:>9} {:>8} {:>8}",
        "workload", "requests", "errors", "elapsed s", "req/s", "p50 ms", "p99 ms"
    );
    for row in rows {
        let o = &row.outcome;
        println!(
            "{:<50} {:>8} {:>6} {:>9.2} {:>9.1} {:>8.2} {:>8.2}",
            row.label,
            o.requests(),
            o.errors,
            o.elapsed.as_secs_f64(),
            o.throughput(),
            o.percentile_ms(0.50),
            o.percentile_ms(0.99)
        );
    }
    let base = &rows[0].outcome;
    println!();
    println!("{:<50} {:>10} {:>8} {:>8}", "submit / baseline", "throughput", "p50", "p99");
    for row in &rows[1..] {
        let o = &row.outcome;
        println!(
            "{:<50} {:>10} {:>8} {:>8}",
            row.label,
            ratio(o.throughput(), base.throughput()),
            ratio(o.percentile_ms(0.50), base.percentile_ms(0.50)),
            ratio(o.percentile_ms(0.99), base.percentile_ms(0.99))
        );
    }
    println!();
    println!(
        "note: by design (ADR 0003) a submission holds its county's numbering-counter row and audit-chain head \
         locks until commit, so submissions in one county serialise; counties do not contend with each other. The \
         6-county variant spreads the clients to separate that effect (clients per county: {}); 6 counties / 1 county: \
         throughput {}, p50 {}, p99 {}.",
        spread.join(", "),
        ratio(rows[2].outcome.throughput(), rows[1].outcome.throughput()),
        ratio(rows[2].outcome.percentile_ms(0.50), rows[1].outcome.percentile_ms(0.50)),
        ratio(rows[2].outcome.percentile_ms(0.99), rows[1].outcome.percentile_ms(0.99))
    );
    println!(
        "note: each submission is HTTP → gateway → gRPC → suggestion service → one transaction (numbering row lock, \
         insert, audit chain append, outbox row) → commit; meanwhile the relay publishes the event and the deputy and \
         notification services consume it on the same {cpus} CPUs. The event backlog drained {} after the 1-county \
         run and {} after the 6-county run (waited for before the next workload).",
        drained_text(drained[0]),
        drained_text(drained[1])
    );
    let summary: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let o = &row.outcome;
            let name = match i {
                0 => "baseline raw insert tx".to_owned(),
                1 => "submit 1 county".to_owned(),
                _ => "submit 6 counties".to_owned(),
            };
            let mut text = format!(
                "{name} {:.0} req/s p50 {:.1} ms p99 {:.1} ms",
                o.throughput(),
                o.percentile_ms(0.50),
                o.percentile_ms(0.99)
            );
            if i > 0 {
                text.push_str(&format!(
                    " ({} throughput, {} p50, {} p99 of baseline)",
                    ratio(o.throughput(), base.throughput()),
                    ratio(o.percentile_ms(0.50), base.percentile_ms(0.50)),
                    ratio(o.percentile_ms(0.99), base.percentile_ms(0.99))
                ));
            }
            text
        })
        .collect();
    let errors: u64 = rows.iter().map(|r| r.outcome.errors).sum();
    println!();
    println!(
        "bench: C={} {} (warm-up {}), {profile}, {cpus} CPUs, PG {version} fsync={fsync} synchronous_commit={sync_commit} | {} | errors {errors}",
        settings.clients,
        settings.amount.describe(),
        settings.warmup,
        summary.join(" | ")
    );
}

fn drained_text(drained: Option<Duration>) -> String {
    match drained {
        Some(d) => format!("in {:.1} s", d.as_secs_f64()),
        None => format!("not within {} s", SETTLE_WITHIN.as_secs()),
    }
}

async fn run(settings: &Settings) -> anyhow::Result<()> {
    progress(&format!("starting the stack (six processes, counties {})", SEED_COUNTIES.join(",")));
    let options = StackOptions { prefix: "bench", rate_limit_per_minute: Some(RATE_LIMIT_PER_MINUTE) };
    let stack = Stack::start_with(&SEED_COUNTIES, &options).await.context("starting the stack")?;
    progress(&format!("stack up: gateway {}, run {}", stack.gateway_url, stack.run_id));
    let outcome = bench(&stack, settings).await;
    progress("stopping the stack");
    let stopped = stack.terminate().await;
    let errors = outcome?;
    let unclean: Vec<String> = stopped
        .context("stopping the stack")?
        .into_iter()
        .filter(|(_, code)| *code != Some(0))
        .map(|(name, code)| format!("renda-{name} exited with {code:?}"))
        .collect();
    if !unclean.is_empty() {
        bail!("the stack did not stop cleanly: {}", unclean.join(", "));
    }
    if errors > 0 {
        bail!("{errors} requests failed (see the errors above)");
    }
    Ok(())
}

async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("renda-bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    // On SIGINT or SIGTERM the stack is dropped, which kills its processes.
    let result = tokio::select! {
        result = run(&settings) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        _ = terminated() => Err(anyhow!("terminated")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("renda-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
