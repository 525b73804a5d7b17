//! Shared machinery of every Renda service, written once.
//!
//! A service is built from these parts: [`config`] (typed `RENDA_*` environment),
//! [`telemetry`] (logs, traces, metrics), [`db`] (its own database and migrations),
//! [`outbox`] (state change and event in one transaction, relayed to Kafka),
//! [`consumer`] (events applied once through an inbox, poison to a dead-letter table),
//! [`auth`] (JWT, roles, county scope), [`error`] (one mapping to gRPC codes),
//! [`host`] (gRPC server with health and reflection, admin HTTP, graceful shutdown).

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod consumer;
pub mod counties;
pub mod db;
pub mod deadline;
pub mod envelope;
pub mod error;
pub mod host;
pub mod kafka;
pub mod outbox;
pub mod page;
pub mod telemetry;
pub mod testing;
pub mod wire;

pub use renda_proto as proto;
