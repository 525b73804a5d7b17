//! Typed configuration from `RENDA_*` environment variables, validated at start.
//!
//! A bad value is an error that names the variable, so `main` can exit at once with it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use crate::counties::{self, CountyCode};

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {reason}")]
pub struct ConfigError {
    pub variable: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(variable: &str, reason: impl Into<String>) -> Self {
        Self { variable: variable.to_owned(), reason: reason.into() }
    }
}

/// Where environment values come from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Source for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Reads and parses one variable, falling back to `default` when unset.
pub fn var<T: FromStr>(source: &dyn Source, name: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match source.get(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e| ConfigError::new(name, format!("{raw:?}: {e}"))),
    }
}

/// Reads and parses an optional variable.
pub fn optional<T: FromStr>(source: &dyn Source, name: &str) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    source
        .get(name)
        .map(|raw| raw.trim().parse().map_err(|e| ConfigError::new(name, format!("{raw:?}: {e}"))))
        .transpose()
}

/// How tokens are verified: HS256 with a shared secret (local stack) or RS256 with a public key.
#[derive(Clone)]
pub enum JwtKey {
    Hs256 { secret: String },
    Rs256 { public_key_pem: String },
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hs256 { .. } => f.write_str("Hs256(<redacted>)"),
            Self::Rs256 { .. } => f.write_str("Rs256(<public key>)"),
        }
    }
}

impl JwtKey {
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        if let Some(path) = optional::<PathBuf>(source, "RENDA_JWT_RS256_PUBLIC_KEY_FILE")? {
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::new("RENDA_JWT_RS256_PUBLIC_KEY_FILE", format!("{}: {e}", path.display())))?;
            return Ok(Self::Rs256 { public_key_pem: pem });
        }
        match source.get("RENDA_JWT_HS256_SECRET") {
            Some(secret) if secret.len() >= 16 => Ok(Self::Hs256 { secret }),
            Some(_) => Err(ConfigError::new("RENDA_JWT_HS256_SECRET", "must be at least 16 characters")),
            None => {
                Err(ConfigError::new("RENDA_JWT_HS256_SECRET", "not set (set it, or RENDA_JWT_RS256_PUBLIC_KEY_FILE)"))
            }
        }
    }
}

/// What every service process needs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Service name as in topics and database names, e.g. `suggestion`.
    pub service: &'static str,
    /// PostgreSQL server; the service uses its own database `database` on it.
    pub pg_url: String,
    pub database: String,
    pub kafka_brokers: String,
    /// Counties onboarded on this deployment (their topics exist).
    pub counties: Vec<CountyCode>,
    /// Consumer groups are `renda.<service>.<cell>`.
    pub cell: String,
    pub grpc_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub jwt: JwtKey,
    pub otlp_endpoint: Option<String>,
}

/// The seed's six counties, onboarded by default on the local stack.
pub const SEED_COUNTIES: &str = "330521,330782,331081,330603,330523,330110";

impl ServiceConfig {
    /// Reads the configuration of `service` whose default ports are `grpc_port` and `admin_port`.
    pub fn from_source(
        source: &dyn Source,
        service: &'static str,
        grpc_port: u16,
        admin_port: u16,
    ) -> Result<Self, ConfigError> {
        let pg_url = var(source, "RENDA_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres".to_owned())?;
        if !(pg_url.starts_with("postgres://") || pg_url.starts_with("postgresql://")) {
            return Err(ConfigError::new("RENDA_PG_URL", "must start with postgres://"));
        }
        let database = var(source, "RENDA_DB_NAME", format!("renda_{}", service.replace('-', "_")))?;
        if database.is_empty()
            || database.len() > 63
            || !database.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(ConfigError::new("RENDA_DB_NAME", "use 1-63 lowercase letters, digits and _"));
        }
        let counties = counties::parse_list(&var(source, "RENDA_COUNTIES", SEED_COUNTIES.to_owned())?)
            .map_err(|reason| ConfigError::new("RENDA_COUNTIES", reason))?;
        let cell = var(source, "RENDA_CELL", "local".to_owned())?;
        if cell.is_empty() || !cell.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ConfigError::new("RENDA_CELL", "use letters, digits, - and _"));
        }
        Ok(Self {
            service,
            pg_url,
            database,
            kafka_brokers: var(source, "RENDA_KAFKA_BROKERS", "127.0.0.1:9092".to_owned())?,
            counties,
            cell,
            grpc_addr: var(source, "RENDA_GRPC_ADDR", SocketAddr::from(([0, 0, 0, 0], grpc_port)))?,
            admin_addr: var(source, "RENDA_ADMIN_ADDR", SocketAddr::from(([0, 0, 0, 0], admin_port)))?,
            jwt: JwtKey::from_source(source)?,
            otlp_endpoint: optional(source, "RENDA_OTLP_ENDPOINT")?,
        })
    }

    pub fn from_env(service: &'static str, grpc_port: u16, admin_port: u16) -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv, service, grpc_port, admin_port)
    }

    /// The consumer group of this service's consumers.
    pub fn consumer_group(&self) -> String {
        format!("renda.{}.{}", self.service, self.cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply_when_only_the_secret_is_set() {
        let cfg = ServiceConfig::from_source(
            &env(&[("RENDA_JWT_HS256_SECRET", "0123456789abcdef")]),
            "opinion-ingest",
            50054,
            9104,
        )
        .expect("valid");
        assert_eq!(cfg.database, "renda_opinion_ingest");
        assert_eq!(cfg.grpc_addr.port(), 50054);
        assert_eq!(cfg.counties.len(), 6);
        assert_eq!(cfg.consumer_group(), "renda.opinion-ingest.local");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = ServiceConfig::from_source(
            &env(&[("RENDA_JWT_HS256_SECRET", "0123456789abcdef"), ("RENDA_GRPC_ADDR", "nope")]),
            "suggestion",
            50051,
            9101,
        )
        .expect_err("invalid");
        assert_eq!(err.variable, "RENDA_GRPC_ADDR");

        let err = ServiceConfig::from_source(
            &env(&[("RENDA_JWT_HS256_SECRET", "0123456789abcdef"), ("RENDA_COUNTIES", "330521,999999")]),
            "suggestion",
            50051,
            9101,
        )
        .expect_err("unknown county");
        assert_eq!(err.variable, "RENDA_COUNTIES");
        assert!(err.reason.contains("999999"), "{}", err.reason);
    }

    #[test]
    fn a_missing_or_short_secret_is_refused() {
        let err = ServiceConfig::from_source(&env(&[]), "suggestion", 50051, 9101).expect_err("no key");
        assert_eq!(err.variable, "RENDA_JWT_HS256_SECRET");
        let err = ServiceConfig::from_source(&env(&[("RENDA_JWT_HS256_SECRET", "short")]), "suggestion", 1, 2)
            .expect_err("short");
        assert!(err.reason.contains("16"));
    }
}
