//! The supervision service: livelihood projects (民生实事), ballots, inquiries, evaluations.

pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod store;

use std::future::Future;

use renda_platform::config::ServiceConfig;
use renda_platform::host::{Host, ServiceApp};
use renda_proto::supervision::v1::supervision_service_server::SupervisionServiceServer;
use sqlx::migrate::Migrator;

pub const SERVICE: &str = "supervision";
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub struct App {
    host: Host,
}

impl ServiceApp for App {
    const SERVICE: &'static str = SERVICE;
    const GRPC_PORT: u16 = 50053;
    const ADMIN_PORT: u16 = 9103;

    async fn build(config: ServiceConfig) -> anyhow::Result<Self> {
        Ok(Self { host: Host::build(config, &MIGRATIONS).await? })
    }

    async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let host = self.host;
        host.spawn_relay();
        let api = api::SupervisionApi::new(host.pool().clone(), host.verifier().clone());
        host.serve(SupervisionServiceServer::new(api), signal).await
    }
}
