//! The suggestion service: owns deputies' suggestions and their closed loop.

pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod scheduler;
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
    scheduler: scheduler::Scheduler,
}

impl App {
    pub async fn build_with_clock(config: ServiceConfig, clock: SharedClock) -> anyhow::Result<Self> {
        let host = Host::build(config, &MIGRATIONS).await?;
        load_shipped_calendars(host.pool()).await?;
        let api = api::SuggestionApi::new(host.pool().clone(), host.verifier().clone(), clock.clone());
        let scheduler = scheduler::Scheduler::new(host.pool().clone(), clock);
        Ok(Self { host, api, scheduler })
    }

    /// The reminder scheduler, for tests that drive time themselves.
    pub fn scheduler(&self) -> &scheduler::Scheduler {
        &self.scheduler
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
        let scheduler = self.scheduler;
        self.host.spawn_worker(move |stop| scheduler.run(stop));
        self.host.serve(SuggestionServiceServer::new(self.api), signal).await
    }
}

/// Loads the holiday calendars shipped with this release for years not loaded yet; a year
/// loaded later through `LoadHolidayCalendar` is kept.
async fn load_shipped_calendars(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    // Two replicas starting at once load each year once.
    sqlx::query("SELECT pg_advisory_xact_lock(7265646101)").execute(&mut *tx).await?;
    let loaded = store::holiday_years(&mut tx).await?;
    for (year, tsv) in renda_platform::calendar::SHIPPED {
        if !loaded.contains(year) {
            let calendar = renda_platform::calendar::YearCalendar::parse_tsv(*year, tsv)?;
            store::load_holiday_year(&mut tx, &calendar, "shipped").await?;
            tracing::info!(year, "loaded the shipped holiday calendar");
        }
    }
    tx.commit().await?;
    Ok(())
}
