//! Helpers for tests against the real stack: PostgreSQL, the broker, tokens.
//!
//! `make test` points RENDA_TEST_PG_URL and RENDA_TEST_KAFKA_BROKERS at the servers it started.

use std::collections::HashMap;

use crate::auth::{Claims, Issuer, Role};
use crate::config::{ConfigError, ServiceConfig};

/// The HS256 secret test services and tokens share.
pub const SECRET: &str = "renda-test-secret-0123456789";

pub fn pg_url() -> String {
    std::env::var("RENDA_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub fn brokers() -> String {
    std::env::var("RENDA_TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:19092".to_owned())
}

/// A name no other test uses: `<prefix>_<random>`, valid as a database or group name.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{:016x}", rand::random::<u64>())
}

/// Config for a service under test: its own fresh database, ports chosen by the OS, its own consumer group.
pub fn service_config(service: &'static str) -> Result<ServiceConfig, ConfigError> {
    let env: HashMap<String, String> = [
        ("RENDA_PG_URL", pg_url()),
        ("RENDA_DB_NAME", unique_name(&format!("test_{}", service.replace('-', "_")))),
        ("RENDA_KAFKA_BROKERS", brokers()),
        ("RENDA_CELL", unique_name("test")),
        ("RENDA_GRPC_ADDR", "127.0.0.1:0".to_owned()),
        ("RENDA_ADMIN_ADDR", "127.0.0.1:0".to_owned()),
        ("RENDA_JWT_HS256_SECRET", SECRET.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    ServiceConfig::from_source(&env, service, 0, 0)
}

/// A signed token for a test user.
pub fn token(sub: &str, name: &str, roles: &[Role], counties: &[&str], agency: Option<&str>) -> String {
    let claims = Claims::new(sub, name, roles, counties, agency.map(str::to_owned), chrono::Duration::hours(1));
    Issuer::hs256(SECRET).issue(&claims).unwrap_or_else(|e| panic!("signing a test token: {e}"))
}

/// `authorization` metadata value for a token.
pub fn bearer(token: &str) -> tonic::metadata::MetadataValue<tonic::metadata::Ascii> {
    format!("Bearer {token}").parse().unwrap_or_else(|e| panic!("token is not ASCII: {e}"))
}
