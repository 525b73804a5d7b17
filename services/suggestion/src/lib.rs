//! The suggestion service: owns deputies' suggestions and their closed loop.

pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod store;

use std::future::Future;

use renda_platform::clock::{self, SharedClock};
use renda_platform::config::ServiceConfig;
use renda_platform::host::{Host, ServiceApp};
use renda_proto::suggestion::v1::suggestion_service_server::SuggestionServiceServer;
use sqlx::migrate::Migrator;

pub const SERVICE: &str = "suggestion";
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub struct App {
    host: Host,
    api: api::SuggestionApi,
}

impl App {
    pub async fn build_with_clock(config: ServiceConfig, clock: SharedClock) -> anyhow::Result<Self> {
        let host = Host::build(config, &MIGRATIONS).await?;
        let api = api::SuggestionApi::new(host.pool().clone(), host.verifier().clone(), clock);
        Ok(Self { host, api })
    }

    pub fn host(&self) -> &Host {
        &self.host
    }
}

impl ServiceApp for App {
    const SERVICE: &'static str = SERVICE;
    const GRPC_PORT: u16 = 50051;
    const ADMIN_PORT: u16 = 9101;

    async fn build(config: ServiceConfig) -> anyhow::Result<Self> {
        Self::build_with_clock(config, clock::system()).await
    }

    async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        self.host.spawn_relay();
        self.host.serve(SuggestionServiceServer::new(self.api), signal).await
    }
}
