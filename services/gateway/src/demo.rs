//! Demo users of the local stack and the token endpoint that logs in as one of them.
//! Enabled only when RENDA_DEMO_USERS names a file and tokens are HS256 (never in production,
//! where tokens come from the province's identity provider).

use std::path::Path;

use axum::extract::State;
use renda_platform::auth::{Claims, Issuer, Role};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Json;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DemoUser {
    pub login: String,
    pub id: String,
    pub name: String,
    pub county: String,
    pub roles: Vec<String>,
    #[serde(default)]
    pub agency: Option<String>,
    #[serde(default)]
    pub agency_name: Option<String>,
}

pub struct DemoLogin {
    users: Vec<DemoUser>,
    issuer: Issuer,
}

impl DemoLogin {
    pub fn load(path: &Path, issuer: Issuer) -> anyhow::Result<Self> {
        let raw =
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("RENDA_DEMO_USERS: {}: {e}", path.display()))?;
        let users: Vec<DemoUser> =
            serde_json::from_str(&raw).map_err(|e| anyhow::anyhow!("RENDA_DEMO_USERS: {}: {e}", path.display()))?;
        for user in &users {
            user.county
                .parse::<renda_platform::counties::CountyCode>()
                .map_err(|e| anyhow::anyhow!("RENDA_DEMO_USERS: user {}: county {e}", user.login))?;
            if let Some(bad) = user.roles.iter().find(|r| Role::parse(r).is_none()) {
                anyhow::bail!("RENDA_DEMO_USERS: user {}: unknown role {bad:?}", user.login);
            }
        }
        Ok(Self { users, issuer })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub login: String,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub token: String,
    pub expires_at: String,
    pub user: DemoUser,
}

/// `POST /v1/dev/tokens {"login": "deputy-330521"}`: a token for a demo user.
pub async fn issue_token(
    State(state): State<AppState>,
    Json(request): Json<TokenRequest>,
) -> Result<axum::Json<TokenResponse>, ApiError> {
    let demo = state.demo.as_ref().ok_or_else(|| ApiError::not_found("demo login is not enabled"))?;
    let user = demo
        .users
        .iter()
        .find(|u| u.login == request.login)
        .ok_or_else(|| ApiError::invalid("login", format!("{:?} is not a demo user", request.login)))?;
    let roles: Vec<Role> = user.roles.iter().filter_map(|r| Role::parse(r)).collect();
    let claims = Claims::new(
        &user.id,
        &user.name,
        &roles,
        &[user.county.as_str()],
        user.agency.clone(),
        chrono::Duration::hours(12),
    );
    let token = demo.issuer.issue(&claims).map_err(|e| {
        tracing::error!(error = %e, "signing a demo token failed");
        ApiError::new(http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    })?;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
    Ok(axum::Json(TokenResponse { token, expires_at, user: user.clone() }))
}
