//! The deputy service: deputies, their duty record (履职) and points.

pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod store;

use std::future::Future;

use renda_platform::config::ServiceConfig;
use renda_platform::host::{Host, ServiceApp};
use renda_proto::deputy::v1::deputy_service_server::DeputyServiceServer;
use sqlx::migrate::Migrator;

pub const SERVICE: &str = "deputy";
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub struct App {
    host: Host,
}

impl App {
    pub fn host(&self) -> &Host {
        &self.host
    }
}

impl ServiceApp for App {
    const SERVICE: &'static str = SERVICE;
    const GRPC_PORT: u16 = 50052;
    const ADMIN_PORT: u16 = 9102;

    async fn build(config: ServiceConfig) -> anyhow::Result<Self> {
        Ok(Self { host: Host::build(config, &MIGRATIONS).await? })
    }

    async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let host = self.host;
        host.spawn_relay();
        host.spawn_consumer(host.topics_of("suggestion"), events::SuggestionEvents)?;
        let api = api::DeputyApi::new(host.pool().clone(), host.verifier().clone());
        host.serve(DeputyServiceServer::new(api), signal).await
    }
}
