//! The opinion-ingest service: records from 12345, 信访, grid, online, stations and diaries; hotspots.

pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod store;

use std::future::Future;

use renda_platform::config::ServiceConfig;
use renda_platform::host::{Host, ServiceApp};
use renda_proto::opinion::v1::opinion_ingest_service_server::OpinionIngestServiceServer;
use sqlx::migrate::Migrator;

pub const SERVICE: &str = "opinion-ingest";
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub struct App {
    host: Host,
}

impl ServiceApp for App {
    const SERVICE: &'static str = SERVICE;
    const GRPC_PORT: u16 = 50054;
    const ADMIN_PORT: u16 = 9104;

    async fn build(config: ServiceConfig) -> anyhow::Result<Self> {
        Ok(Self { host: Host::build(config, &MIGRATIONS).await? })
    }

    async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let host = self.host;
        host.spawn_relay();
        let api = api::OpinionApi::new(host.pool().clone(), host.verifier().clone());
        host.serve(OpinionIngestServiceServer::new(api), signal).await
    }
}
