//! The gateway: the one door for app clients (APP, WeChat mini-program, PC). HTTP/JSON with
//! an OpenAPI document, bearer JWT, county scope, rate limits, request ids; every route is
//! one gRPC call to the service that owns the data. It keeps no domain data.

pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod ratelimit;
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use renda_platform::auth::{Issuer, Verifier};
use renda_platform::config::JwtKey;
use renda_platform::host::{Readiness, serve_admin};
use renda_proto::deputy::v1::deputy_service_client::DeputyServiceClient;
use renda_proto::notification::v1::notification_service_client::NotificationServiceClient;
use renda_proto::opinion::v1::opinion_ingest_service_client::OpinionIngestServiceClient;
use renda_proto::suggestion::v1::suggestion_service_client::SuggestionServiceClient;
use renda_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::config::{GatewayConfig, Upstreams};
use crate::error::ApiError;

/// The OpenAPI 3 document of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

#[derive(Clone)]
pub struct Clients {
    pub suggestion: SuggestionServiceClient<Channel>,
    pub deputy: DeputyServiceClient<Channel>,
    pub supervision: SupervisionServiceClient<Channel>,
    pub opinion: OpinionIngestServiceClient<Channel>,
    pub notification: NotificationServiceClient<Channel>,
}

fn channel(url: &str) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(3))
        .tcp_nodelay(true)
        .connect_lazy())
}

impl Clients {
    pub fn connect_lazy(upstreams: &Upstreams) -> anyhow::Result<Self> {
        Ok(Self {
            suggestion: SuggestionServiceClient::new(channel(&upstreams.suggestion)?),
            deputy: DeputyServiceClient::new(channel(&upstreams.deputy)?),
            supervision: SupervisionServiceClient::new(channel(&upstreams.supervision)?),
            opinion: OpinionIngestServiceClient::new(channel(&upstreams.opinion)?),
            notification: NotificationServiceClient::new(channel(&upstreams.notification)?),
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub verifier: Verifier,
    pub clients: Clients,
    pub rate_limiter: Arc<ratelimit::RateLimiter>,
    pub demo: Option<Arc<demo::DemoLogin>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/openapi.json", get(|| async { ([(http::header::CONTENT_TYPE, "application/json")], OPENAPI) }))
        .route("/v1/dev/tokens", post(demo::issue_token))
        .route("/v1/counties/{county}/suggestions", post(routes::submit_suggestion).get(routes::list_suggestions))
        .route("/v1/counties/{county}/suggestions/{id}", get(routes::get_suggestion))
        .route("/v1/counties/{county}/inbox", get(routes::list_inbox))
        .route("/v1/counties/{county}/deputies/{deputy_id}/activities", get(routes::list_activities))
        .route("/v1/counties/{county}/projects", get(routes::list_projects))
        .route("/v1/counties/{county}/opinions", get(routes::list_opinions))
        .fallback(|| async { ApiError::not_found("no such route") })
        .with_state(state)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

pub struct App {
    listener: TcpListener,
    admin_listener: TcpListener,
    router: Router,
}

impl App {
    pub async fn build(config: GatewayConfig) -> anyhow::Result<Self> {
        let verifier = Verifier::new(&config.jwt)?;
        let demo = match (&config.demo_users, &config.jwt) {
            (None, _) => None,
            (Some(path), JwtKey::Hs256 { secret }) => Some(Arc::new(demo::DemoLogin::load(path, Issuer::hs256(secret))?)),
            (Some(_), JwtKey::Rs256 { .. }) => {
                anyhow::bail!("RENDA_DEMO_USERS: demo login needs HS256 tokens (RENDA_JWT_HS256_SECRET)")
            }
        };
        let state = AppState {
            verifier,
            clients: Clients::connect_lazy(&config.upstreams)?,
            rate_limiter: Arc::new(ratelimit::RateLimiter::new(config.rate_limit_per_minute)),
            demo,
        };
        Ok(Self {
            listener: TcpListener::bind(config.http_addr).await?,
            admin_listener: TcpListener::bind(config.admin_addr).await?,
            router: router(state),
        })
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until `signal`, then finishes in-flight requests.
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let readiness = Readiness::default();
        let admin_stop = CancellationToken::new();
        let admin = tokio::spawn(serve_admin(self.admin_listener, readiness.clone(), admin_stop.clone()));
        readiness.set(true);
        tracing::info!(addr = %self.listener.local_addr()?, "gateway serving");
        let stopping = {
            let readiness = readiness.clone();
            async move {
                signal.await;
                readiness.set(false);
            }
        };
        axum::serve(self.listener, self.router).with_graceful_shutdown(stopping).await?;
        admin_stop.cancel();
        let _ = admin.await;
        tracing::info!("gateway stopped");
        Ok(())
    }
}
