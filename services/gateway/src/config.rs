//! The gateway's configuration from `RENDA_*` variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use renda_platform::config::{self, ConfigError, JwtKey, ProcessEnv, Source};

#[derive(Debug, Clone)]
pub struct Upstreams {
    pub suggestion: String,
    pub deputy: String,
    pub supervision: String,
    pub opinion: String,
    pub notification: String,
}

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub http_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub jwt: JwtKey,
    pub upstreams: Upstreams,
    /// Demo users the local stack may log in as (`POST /v1/dev/tokens`); off when unset.
    pub demo_users: Option<PathBuf>,
    /// Requests per minute per caller (or per client address before login).
    pub rate_limit_per_minute: u32,
}

fn upstream(source: &dyn Source, name: &str, port: u16) -> Result<String, ConfigError> {
    let url = config::var(source, name, format!("http://127.0.0.1:{port}"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError::new(name, format!("{url:?} is not an http(s) URL")));
    }
    Ok(url)
}

impl GatewayConfig {
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let rate_limit_per_minute = config::var(source, "RENDA_RATE_LIMIT_PER_MINUTE", 600u32)?;
        if rate_limit_per_minute == 0 {
            return Err(ConfigError::new("RENDA_RATE_LIMIT_PER_MINUTE", "must be at least 1"));
        }
        Ok(Self {
            http_addr: config::var(source, "RENDA_HTTP_ADDR", SocketAddr::from(([0, 0, 0, 0], 8080)))?,
            admin_addr: config::var(source, "RENDA_ADMIN_ADDR", SocketAddr::from(([0, 0, 0, 0], 9100)))?,
            jwt: JwtKey::from_source(source)?,
            upstreams: Upstreams {
                suggestion: upstream(source, "RENDA_SUGGESTION_URL", 50051)?,
                deputy: upstream(source, "RENDA_DEPUTY_URL", 50052)?,
                supervision: upstream(source, "RENDA_SUPERVISION_URL", 50053)?,
                opinion: upstream(source, "RENDA_OPINION_URL", 50054)?,
                notification: upstream(source, "RENDA_NOTIFICATION_URL", 50055)?,
            },
            demo_users: config::optional(source, "RENDA_DEMO_USERS")?,
            rate_limit_per_minute,
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }
}
