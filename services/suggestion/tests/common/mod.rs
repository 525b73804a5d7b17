//! Shared helpers: the service on a fresh database, real gRPC over a socket, tokens per role.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use renda_platform::auth::Role;
use renda_platform::clock::ManualClock;
use renda_platform::config::ServiceConfig;
use renda_platform::host::ServiceApp;
use renda_platform::testing;
use renda_proto::suggestion::v1 as pb;
use renda_proto::suggestion::v1::suggestion_service_client::SuggestionServiceClient;
use renda_suggestion::App;
use renda_suggestion::scheduler::Scheduler;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::Request;
use tonic::transport::Channel;

pub struct TestApp {
    pub client: SuggestionServiceClient<Channel>,
    pub pool: PgPool,
    pub clock: ManualClock,
    pub scheduler: Scheduler,
    pub config: ServiceConfig,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("time").to_utc()
}

/// The service on a fresh database, its clock at Monday 2026-03-02 10:00 in China.
pub async fn spawn_app() -> TestApp {
    let config = testing::service_config("suggestion").expect("config");
    spawn_app_with(config, ManualClock::at(at("2026-03-02T02:00:00Z"))).await
}

/// Another process of the service on the same database (a replica, or the same after a restart).
pub async fn spawn_app_with(config: ServiceConfig, clock: ManualClock) -> TestApp {
    renda_platform::telemetry::init_for_tests();
    let app = App::build_with_clock(config.clone(), Arc::new(clock.clone())).await.expect("app builds");
    let addr = app.host().grpc_addr();
    let pool = app.host().pool().clone();
    let scheduler = app.scheduler().clone();
    let stop = CancellationToken::new();
    tokio::spawn(app.run(stop.clone().cancelled_owned()));
    let channel = Channel::from_shared(format!("http://{addr}")).expect("url").connect_lazy();
    TestApp { client: SuggestionServiceClient::new(channel), pool, clock, scheduler, config, stop }
}

pub fn deputy(sub: &str, county: &str) -> String {
    testing::token(sub, &format!("代表{sub}"), &[Role::Deputy], &[county], None)
}

pub fn staff(county: &str) -> String {
    testing::token("staff-1", "工作人员", &[Role::Staff], &[county], None)
}

pub fn agency_user(sub: &str, county: &str, agency: &str) -> String {
    testing::token(sub, &format!("承办人{sub}"), &[Role::Agency], &[county], Some(agency))
}

pub fn admin() -> String {
    testing::token("admin-1", "省运维", &[Role::Admin], &[], None)
}

pub fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", testing::bearer(token));
    request
}

pub fn submission(county: &str, title: &str, key: &str) -> pb::CreateSuggestionRequest {
    pb::CreateSuggestionRequest {
        county: county.into(),
        kind: pb::SuggestionKind::Suggestion as i32,
        title: title.into(),
        content: "建议内容".into(),
        category: "环保".into(),
        request_id: key.into(),
        ..Default::default()
    }
}

pub fn action(county: &str, id: &str) -> pb::SuggestionAction {
    pb::SuggestionAction { county: county.into(), id: id.into(), expected_version: 0 }
}

/// Registers the county's agencies as staff.
pub async fn agencies(app: &mut TestApp, county: &str, codes: &[(&str, &str)]) {
    for (code, name) in codes {
        app.client
            .put_agency(with_token(
                pb::Agency { county: county.into(), code: (*code).into(), name: (*name).into(), active: true },
                &staff(county),
            ))
            .await
            .expect("agency");
    }
}

/// The event types the service put in its outbox, in order.
pub async fn outbox_types(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT event_type FROM outbox ORDER BY id").fetch_all(pool).await.expect("outbox")
}
