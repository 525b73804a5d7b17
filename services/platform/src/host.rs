//! The process around a service: listeners, database, gRPC server with health and
//! reflection, admin HTTP (`/metrics`, `/healthz`), background workers, graceful shutdown.
//!
//! Invariants: health is SERVING only while the database and the broker answer; on the
//! shutdown signal health turns NOT_SERVING, the server stops taking calls and finishes
//! in-flight ones, workers stop (the relay flushes), and `serve` returns.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use rdkafka::producer::FutureProducer;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::auth::Verifier;
use crate::config::{ConfigError, ServiceConfig};
use crate::consumer::{ConsumerConfig, EventConsumer, Handler};
use crate::outbox::Relay;
use crate::{db, envelope, kafka, telemetry};

/// Whether the process is ready, shared by gRPC health and `/healthz`.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Serves `/healthz` (200 when ready, 503 otherwise) and `/metrics` until `shutdown`.
pub async fn serve_admin(listener: TcpListener, readiness: Readiness, shutdown: CancellationToken) {
    let app = axum::Router::new()
        .route(
            "/healthz",
            get(move || {
                let ready = readiness.get();
                async move {
                    if ready { (StatusCode::OK, "serving") } else { (StatusCode::SERVICE_UNAVAILABLE, "not serving") }
                }
            }),
        )
        .route("/metrics", get(|| async { telemetry::metrics_handle().render() }));
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await {
        tracing::error!(error = %e, "admin server failed");
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// A built service process, ready to serve.
pub struct Host {
    config: ServiceConfig,
    pool: PgPool,
    producer: FutureProducer,
    verifier: Verifier,
    grpc_listener: TcpListener,
    admin_listener: TcpListener,
    workers: CancellationToken,
    tasks: TaskTracker,
}

impl Host {
    /// Binds both listeners, opens the service's database (creating and migrating it) and
    /// the Kafka producer.
    pub async fn build(config: ServiceConfig, migrations: &Migrator) -> anyhow::Result<Self> {
        let grpc_listener = TcpListener::bind(config.grpc_addr).await?;
        let admin_listener = TcpListener::bind(config.admin_addr).await?;
        let pool = db::connect_and_migrate(&config.pg_url, &config.database, migrations).await?;
        let producer = kafka::producer(&config.kafka_brokers)?;
        let verifier = Verifier::new(&config.jwt)?;
        Ok(Self {
            config,
            pool,
            producer,
            verifier,
            grpc_listener,
            admin_listener,
            workers: CancellationToken::new(),
            tasks: TaskTracker::new(),
        })
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_listener.local_addr().unwrap_or(self.config.grpc_addr)
    }
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_listener.local_addr().unwrap_or(self.config.admin_addr)
    }

    /// The topics of `service`'s events for every onboarded county.
    pub fn topics_of(&self, service: &str) -> Vec<String> {
        self.config.counties.iter().map(|c| envelope::topic(c.as_str(), service)).collect()
    }

    /// Runs the outbox relay until shutdown.
    pub fn spawn_relay(&self) {
        let relay = Relay::new(self.pool.clone(), self.producer.clone());
        self.tasks.spawn(relay.run(self.workers.clone()));
    }

    /// Runs a background worker until shutdown; it gets the token that says when to stop.
    pub fn spawn_worker<F>(&self, worker: impl FnOnce(CancellationToken) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(worker(self.workers.clone()));
    }

    /// Runs a consumer of `topics` in this service's consumer group until shutdown.
    pub fn spawn_consumer<H: Handler>(&self, topics: Vec<String>, handler: H) -> anyhow::Result<()> {
        let config = ConsumerConfig::new(&self.config.kafka_brokers, self.config.consumer_group(), topics);
        let consumer = EventConsumer::new(self.pool.clone(), handler, config)?;
        self.tasks.spawn(consumer.run(self.workers.clone()));
        Ok(())
    }

    /// Serves `service` (plus health and reflection) until `signal`, then drains and stops workers.
    pub async fn serve<S>(self, service: S, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()>
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_service_status("", ServingStatus::NotServing).await;
        health.set_service_status(S::NAME, ServingStatus::NotServing).await;
        // Liveness only says the process answers; an outage of a dependency must not restart it.
        health.set_service_status("liveness", ServingStatus::Serving).await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(renda_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;

        let (grpc_addr, admin_addr) = (self.grpc_addr(), self.admin_addr());
        let readiness = Readiness::default();
        let admin_stop = CancellationToken::new();
        let admin = tokio::spawn(serve_admin(self.admin_listener, readiness.clone(), admin_stop.clone()));

        // Readiness follows the database and the broker, checked now and then.
        let watcher = {
            let (health, readiness, pool, producer, stop) =
                (health.clone(), readiness.clone(), self.pool.clone(), self.producer.clone(), self.workers.clone());
            tokio::spawn(async move {
                loop {
                    let ready = db::ping(&pool).await && kafka::ping(&producer, Duration::from_secs(3)).await;
                    if ready != readiness.get() {
                        tracing::info!(ready, "readiness changed");
                        let status = if ready { ServingStatus::Serving } else { ServingStatus::NotServing };
                        health.set_service_status("", status).await;
                        health.set_service_status(S::NAME, status).await;
                        readiness.set(ready);
                    }
                    let pause = if ready { Duration::from_secs(10) } else { Duration::from_secs(1) };
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            })
        };

        let stopping = {
            let (health, readiness, workers) = (health.clone(), readiness.clone(), self.workers.clone());
            async move {
                signal.await;
                readiness.set(false);
                workers.cancel();
                health.set_service_status("", ServingStatus::NotServing).await;
                health.set_service_status(S::NAME, ServingStatus::NotServing).await;
            }
        };

        tracing::info!(addr = %grpc_addr, admin = %admin_addr, service = S::NAME, "serving");
        tonic::transport::Server::builder()
            .layer(
                tower_http::trace::TraceLayer::new_for_grpc()
                    .make_span_with(grpc_span)
                    // A refused call is the client's business; server faults are logged where they are mapped.
                    .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG)),
            )
            .add_service(health_service)
            .add_service(reflection)
            .add_service(service)
            // Without TCP_NODELAY small responses wait ~40 ms for delayed ACKs (measured by make bench).
            .serve_with_incoming_shutdown(TcpIncoming::from(self.grpc_listener).with_nodelay(Some(true)), stopping)
            .await?;

        // In-flight calls are done; let the workers finish their current item.
        self.workers.cancel();
        self.tasks.close();
        if tokio::time::timeout(Duration::from_secs(20), self.tasks.wait()).await.is_err() {
            tracing::warn!("workers did not stop within 20s");
        }
        let _ = watcher.await;
        admin_stop.cancel();
        let _ = admin.await;
        self.pool.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The span of one gRPC call, a child of the caller's trace when it sent `traceparent`.
fn grpc_span<B>(request: &http::Request<B>) -> tracing::Span {
    let span = tracing::info_span!("grpc", method = %request.uri().path());
    let traceparent = request.headers().get("traceparent").and_then(|v| v.to_str().ok());
    telemetry::set_parent_from_traceparent(&span, traceparent);
    span
}

/// A service process as `run_main` drives it.
pub trait ServiceApp: Sized + Send + 'static {
    /// Name in topics, databases and consumer groups, e.g. `suggestion`.
    const SERVICE: &'static str;
    const GRPC_PORT: u16;
    const ADMIN_PORT: u16;

    fn build(config: ServiceConfig) -> impl Future<Output = anyhow::Result<Self>> + Send;
    fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The whole of a service's `main`: telemetry, typed config, build, serve until SIGTERM, drain, flush.
pub fn run_main<A: ServiceApp>() -> std::process::ExitCode {
    run_process(
        A::SERVICE,
        || ServiceConfig::from_env(A::SERVICE, A::GRPC_PORT, A::ADMIN_PORT),
        |config| async move { A::build(config).await?.run(shutdown_signal()).await },
    )
}

/// Runs a process: telemetry, then `load_config` (a bad configuration exits with status 2
/// naming the variable), then `run` (a failure to start or serve exits with 1), then flush.
pub fn run_process<C, F, Fut>(
    service: &'static str,
    load_config: impl FnOnce() -> Result<C, ConfigError>,
    run: F,
) -> std::process::ExitCode
where
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    use std::process::ExitCode;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        let telemetry = match telemetry::init(service) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("renda-{service}: {e}");
                return ExitCode::from(2);
            }
        };
        let config = match load_config() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(variable = %e.variable, reason = %e.reason, "invalid configuration");
                eprintln!("renda-{service}: {e}");
                telemetry.shutdown();
                return ExitCode::from(2);
            }
        };
        let code = match run(config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "service failed");
                ExitCode::FAILURE
            }
        };
        telemetry.shutdown();
        code
    });
    // A librdkafka client closing against a broker that is gone can block its thread for
    // long; do not let that keep a drained process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    code
}
