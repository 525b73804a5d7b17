//! The gateway: the one door for app clients (APP, WeChat mini-program, PC). HTTP/JSON with
//! an OpenAPI document, bearer JWT, county scope, rate limits, request ids; every route is
//! one gRPC call to the service that owns the data. It keeps no domain data.

pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod ratelimit;
pub mod routes;
pub mod suggestions;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post, put};
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
    Ok(Endpoint::from_shared(url.to_owned())?.connect_timeout(Duration::from_secs(3)).tcp_nodelay(true).connect_lazy())
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
        .merge(suggestion_routes())
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

/// The suggestion service's routes (see `routes::ROUTES` and openapi.json).
fn suggestion_routes() -> Router<AppState> {
    use suggestions as s;
    const ONE: &str = "/v1/counties/{county}/suggestions/{id}";
    Router::new()
        .route("/v1/counties/{county}/suggestions", post(s::create_suggestion).get(s::list_suggestions))
        .route(ONE, get(s::get_suggestion).put(s::update_draft))
        .route(&format!("{ONE}/submit"), post(s::submit_draft))
        .route(&format!("{ONE}/register"), post(s::register))
        .route(&format!("{ONE}/refuse-registration"), post(s::refuse_registration))
        .route(&format!("{ONE}/assign"), post(s::assign))
        .route(&format!("{ONE}/accept"), post(s::accept))
        .route(&format!("{ONE}/return"), post(s::return_assignment))
        .route(&format!("{ONE}/progress"), post(s::report_progress))
        .route(&format!("{ONE}/co-agency-opinions"), post(s::submit_co_agency_opinion))
        .route(&format!("{ONE}/extension-requests"), post(s::request_extension))
        .route(&format!("{ONE}/extension-decision"), post(s::decide_extension))
        .route(&format!("{ONE}/reply"), post(s::reply))
        .route(&format!("{ONE}/evaluation"), post(s::evaluate))
        .route(&format!("{ONE}/merge"), post(s::merge))
        .route(&format!("{ONE}/key"), post(s::mark_key))
        .route(&format!("{ONE}/close"), post(s::close))
        .route(&format!("{ONE}/audit"), get(s::list_audit))
        .route("/v1/counties/{county}/audit/verification", get(s::verify_audit))
        .route("/v1/counties/{county}/statistics", get(s::get_statistics))
        .route("/v1/counties/{county}/suggestion-policy", get(s::get_policy).put(s::put_policy))
        .route("/v1/counties/{county}/agencies", get(s::list_agencies))
        .route("/v1/counties/{county}/agencies/{code}", put(s::put_agency))
        .route("/v1/counties/{county}/routing-rules", get(s::list_routing_rules).post(s::put_routing_rule))
        .route("/v1/holiday-calendars/{year}", put(s::load_holiday_calendar))
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
            (Some(path), JwtKey::Hs256 { secret }) => {
                Some(Arc::new(demo::DemoLogin::load(path, Issuer::hs256(secret))?))
            }
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
        // Small JSON answers must not wait for delayed ACKs.
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        axum::serve(listener, self.router).with_graceful_shutdown(stopping).await?;
        admin_stop.cancel();
        let _ = admin.await;
        tracing::info!("gateway stopped");
        Ok(())
    }
}

#[cfg(test)]
mod openapi_tests {
    //! The OpenAPI document served at GET /openapi.json must describe exactly the routes of `routes::ROUTES`.

    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::OPENAPI;
    use crate::routes::ROUTES;

    const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    /// The document itself: served by the router, not an API route in ROUTES.
    const SELF_PATH: &str = "/openapi.json";

    fn document() -> Value {
        serde_json::from_str(OPENAPI).unwrap_or_else(|e| panic!("services/gateway/openapi.json is not valid JSON: {e}"))
    }

    /// Every (method, path, operation) of the document.
    fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
        let paths = doc["paths"].as_object().unwrap_or_else(|| panic!("openapi.json has no `paths` object"));
        let mut out = Vec::new();
        for (path, item) in paths {
            let item = item.as_object().unwrap_or_else(|| panic!("paths.{path} is not an object"));
            for (method, operation) in item {
                if METHODS.contains(&method.as_str()) {
                    out.push((method.as_str(), path.as_str(), operation));
                }
            }
        }
        out
    }

    /// Follows a local `$ref` (if `value` is one) to what it names.
    fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let target = reference
                    .strip_prefix('#')
                    .and_then(|pointer| doc.pointer(pointer))
                    .unwrap_or_else(|| panic!("$ref {reference} does not resolve"));
                resolve(doc, target)
            }
            None => value,
        }
    }

    fn show(method: &str, path: &str) -> String {
        format!("{} {path}", method.to_ascii_uppercase())
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let doc = document();
        let version = doc["openapi"].as_str().unwrap_or_default();
        assert!(version.starts_with("3.1"), "openapi.json declares `openapi: {version:?}`, expected 3.1.x");
        assert_eq!(doc["info"]["title"], "Renda gateway API");
        assert!(doc["info"]["version"].is_string(), "info.version is missing");
    }

    #[test]
    fn every_route_is_documented() {
        let doc = document();
        let missing: Vec<String> = ROUTES
            .iter()
            .filter(|(method, path)| !doc["paths"][*path][*method].is_object())
            .map(|(method, path)| show(method, path))
            .collect();
        assert!(missing.is_empty(), "routes in routes::ROUTES missing from services/gateway/openapi.json: {missing:?}");
    }

    #[test]
    fn every_documented_operation_is_a_route() {
        let doc = document();
        let routes: BTreeSet<(&str, &str)> = ROUTES.iter().copied().collect();
        let unknown: Vec<String> = operations(&doc)
            .into_iter()
            .filter(|(method, path, _)| *path != SELF_PATH && !routes.contains(&(*method, *path)))
            .map(|(method, path, _)| show(method, path))
            .collect();
        assert!(unknown.is_empty(), "operations in openapi.json that are not in routes::ROUTES: {unknown:?}");
        assert!(doc["paths"][SELF_PATH]["get"].is_object(), "GET {SELF_PATH} is missing from openapi.json");
    }

    #[test]
    fn every_operation_has_an_operation_id_and_a_4xx_response() {
        let doc = document();
        let mut problems = Vec::new();
        let mut ids = BTreeSet::new();
        for (method, path, operation) in operations(&doc) {
            let route = show(method, path);
            match operation["operationId"].as_str() {
                Some(id) if !id.is_empty() => {
                    if !ids.insert(id) {
                        problems.push(format!("{route}: operationId {id:?} is used twice"));
                    }
                }
                _ => problems.push(format!("{route}: no operationId")),
            }
            let responses = operation["responses"].as_object();
            if responses.is_none_or(|r| r.is_empty()) {
                problems.push(format!("{route}: no responses"));
            }
            // The document itself cannot fail with a 4xx; every API route can.
            let has_4xx = responses.is_some_and(|r| r.keys().any(|code| code.starts_with('4')));
            if path != SELF_PATH && !has_4xx {
                problems.push(format!("{route}: no 4xx response"));
            }
        }
        assert!(problems.is_empty(), "openapi.json: {problems:#?}");
    }

    #[test]
    fn path_parameters_match_the_path_templates() {
        let doc = document();
        let mut problems = Vec::new();
        for (method, path, operation) in operations(&doc) {
            let in_template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            let declared = [&doc["paths"][path]["parameters"], &operation["parameters"]];
            let in_parameters: BTreeSet<&str> = declared
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .map(|p| resolve(&doc, p))
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if in_template != in_parameters {
                problems.push(format!(
                    "{}: path parameters {in_parameters:?} do not match the template {in_template:?}",
                    show(method, path)
                ));
            }
        }
        assert!(problems.is_empty(), "openapi.json: {problems:#?}");
    }

    #[test]
    fn request_bodies_refuse_unknown_fields_like_the_server() {
        let doc = document();
        let mut problems = Vec::new();
        for (method, path, operation) in operations(&doc) {
            let Some(content) = operation["requestBody"]["content"].as_object() else { continue };
            for (media_type, media) in content {
                let schema = resolve(&doc, &media["schema"]);
                if media_type == "application/json" {
                    if schema["additionalProperties"] != Value::Bool(false) {
                        problems.push(format!(
                            "{} {media_type}: body schema lacks additionalProperties: false",
                            show(method, path)
                        ));
                    }
                } else if !crate::extract::TEXT_MEDIA_TYPES.contains(&media_type.as_str()) || schema["type"] != "string"
                {
                    // The only other bodies the server takes are text (extract::TextBody).
                    problems.push(format!("{} {media_type}: not JSON, so it must be a text body", show(method, path)));
                }
            }
        }
        assert!(problems.is_empty(), "openapi.json: {problems:#?}");
    }

    #[test]
    fn only_the_token_endpoint_and_the_document_need_no_token() {
        let doc = document();
        assert!(doc["components"]["securitySchemes"]["bearerAuth"].is_object(), "bearerAuth is not defined");
        assert_eq!(doc["security"], serde_json::json!([{ "bearerAuth": [] }]), "global security must be bearerAuth");
        let mut public: Vec<String> = operations(&doc)
            .into_iter()
            .filter(|(_, _, operation)| operation["security"].as_array().is_some_and(Vec::is_empty))
            .map(|(method, path, _)| show(method, path))
            .collect();
        public.sort();
        assert_eq!(public, [show("get", SELF_PATH), show("post", "/v1/dev/tokens")], "operations with `security: []`");
    }

    #[test]
    fn every_ref_resolves() {
        fn walk<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        if key == "$ref" {
                            found.push((at.clone(), child.as_str().unwrap_or("<not a string>")));
                        } else {
                            walk(child, format!("{at}/{key}"), found);
                        }
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        walk(child, format!("{at}/{i}"), found);
                    }
                }
                _ => {}
            }
        }
        let doc = document();
        let mut refs = Vec::new();
        walk(&doc, String::from("#"), &mut refs);
        assert!(!refs.is_empty(), "openapi.json has no $ref at all");
        let broken: Vec<String> = refs
            .into_iter()
            .filter(|(_, reference)| {
                !reference.starts_with("#/components/")
                    || reference.strip_prefix('#').and_then(|pointer| doc.pointer(pointer)).is_none()
            })
            .map(|(at, reference)| format!("{at}: $ref {reference}"))
            .collect();
        assert!(broken.is_empty(), "$refs in openapi.json that name no existing component: {broken:#?}");
    }
}
