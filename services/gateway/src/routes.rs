//! The HTTP API (`/v1/...`): JSON in and out, each route one gRPC call with the caller's token.
//! The helpers every route uses live here; the suggestion routes are in `crate::suggestions`.

use std::time::Duration;

use axum::extract::{Path, State};
use renda_platform::auth::Caller;
use renda_platform::counties::CountyCode;
use renda_platform::telemetry;
use renda_proto::common::v1::PageRequest;
use renda_proto::deputy::v1 as deputy;
use renda_proto::notification::v1 as notification;
use renda_proto::opinion::v1 as opinion;
use renda_proto::supervision::v1 as supervision;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Authenticated, Query};

/// Every route of the API, as the OpenAPI document lists them (checked by a test).
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/dev/tokens"),
    ("post", "/v1/counties/{county}/suggestions"),
    ("get", "/v1/counties/{county}/suggestions"),
    ("get", "/v1/counties/{county}/suggestions/{id}"),
    ("put", "/v1/counties/{county}/suggestions/{id}"),
    ("post", "/v1/counties/{county}/suggestions/{id}/submit"),
    ("post", "/v1/counties/{county}/suggestions/{id}/register"),
    ("post", "/v1/counties/{county}/suggestions/{id}/refuse-registration"),
    ("post", "/v1/counties/{county}/suggestions/{id}/assign"),
    ("post", "/v1/counties/{county}/suggestions/{id}/accept"),
    ("post", "/v1/counties/{county}/suggestions/{id}/return"),
    ("post", "/v1/counties/{county}/suggestions/{id}/progress"),
    ("post", "/v1/counties/{county}/suggestions/{id}/co-agency-opinions"),
    ("post", "/v1/counties/{county}/suggestions/{id}/extension-requests"),
    ("post", "/v1/counties/{county}/suggestions/{id}/extension-decision"),
    ("post", "/v1/counties/{county}/suggestions/{id}/reply"),
    ("post", "/v1/counties/{county}/suggestions/{id}/evaluation"),
    ("post", "/v1/counties/{county}/suggestions/{id}/merge"),
    ("post", "/v1/counties/{county}/suggestions/{id}/key"),
    ("post", "/v1/counties/{county}/suggestions/{id}/close"),
    ("get", "/v1/counties/{county}/suggestions/{id}/audit"),
    ("get", "/v1/counties/{county}/audit/verification"),
    ("get", "/v1/counties/{county}/statistics"),
    ("get", "/v1/counties/{county}/suggestion-policy"),
    ("put", "/v1/counties/{county}/suggestion-policy"),
    ("get", "/v1/counties/{county}/agencies"),
    ("put", "/v1/counties/{county}/agencies/{code}"),
    ("get", "/v1/counties/{county}/routing-rules"),
    ("post", "/v1/counties/{county}/routing-rules"),
    ("put", "/v1/holiday-calendars/{year}"),
    ("get", "/v1/counties/{county}/inbox"),
    ("get", "/v1/counties/{county}/deputies/{deputy_id}/activities"),
    ("get", "/v1/counties/{county}/projects"),
    ("get", "/v1/counties/{county}/opinions"),
];

/// Checks the county in the path against the token before calling a service (which checks again).
pub(crate) fn scope(caller: &Caller, county: &str) -> Result<CountyCode, ApiError> {
    let county: CountyCode = county.parse().map_err(|e: String| ApiError::invalid("county", e))?;
    caller.require_county(&county).map_err(|e| ApiError::forbidden(e.to_string()))?;
    Ok(county)
}

/// A gRPC request carrying the caller's token, the request id and the trace context.
pub(crate) fn grpc<T>(message: T, auth: &Authenticated) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(Duration::from_secs(15));
    let metadata = request.metadata_mut();
    if let Ok(value) = format!("Bearer {}", auth.caller.token).parse() {
        metadata.insert("authorization", value);
    }
    if let Some(value) = auth.request_id.as_deref().and_then(|id| id.parse().ok()) {
        metadata.insert("x-request-id", value);
    }
    if let Some(value) = telemetry::current_traceparent().and_then(|tp| tp.parse().ok()) {
        metadata.insert("traceparent", value);
    }
    request
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
}

impl PageQuery {
    pub(crate) fn into_wire(self) -> Option<PageRequest> {
        Some(PageRequest { page_size: self.page_size.unwrap_or(0), page_token: self.page_token.unwrap_or_default() })
    }
}

pub(crate) fn rfc3339(ts: Option<&prost_types::Timestamp>) -> Option<String> {
    renda_platform::wire::from_timestamp(ts).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// One page of a list: `{"items": [...], "next_page_token": "..." | null}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, token: String) -> Self {
        Self { items, next_page_token: (!token.is_empty()).then_some(token) }
    }
}

// ---- inbox

#[derive(Debug, Serialize)]
pub struct InboxItemJson {
    pub id: String,
    pub county: String,
    pub recipient: String,
    pub title: String,
    pub body: String,
    pub source_type: String,
    pub subject_id: String,
    pub created_at: Option<String>,
}

pub async fn list_inbox(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<InboxItemJson>>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = notification::ListInboxRequest { county: county.to_string(), page: page.into_wire() };
    let response = state.clients.notification.clone().list_inbox(grpc(message, &auth)).await?.into_inner();
    let items = response
        .items
        .into_iter()
        .map(|i| InboxItemJson {
            created_at: rfc3339(i.created_at.as_ref()),
            id: i.id,
            county: i.county,
            recipient: i.recipient,
            title: i.title,
            body: i.body,
            source_type: i.source_type,
            subject_id: i.subject_id,
        })
        .collect();
    Ok(axum::Json(Page::new(items, response.next_page_token)))
}

// ---- duty activities

#[derive(Debug, Serialize)]
pub struct ActivityJson {
    pub id: String,
    pub deputy_id: String,
    pub deputy_name: String,
    pub kind: &'static str,
    pub summary: String,
    pub reference_id: String,
    pub occurred_at: Option<String>,
}

/// `GET /v1/counties/{county}/deputies/{deputy_id}/activities`; `me` names the caller.
pub async fn list_activities(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((county, deputy_id)): Path<(String, String)>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<ActivityJson>>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let deputy_id = if deputy_id == "me" { auth.caller.id.clone() } else { deputy_id };
    let message = deputy::ListDutyActivitiesRequest { county: county.to_string(), deputy_id, page: page.into_wire() };
    let response = state.clients.deputy.clone().list_duty_activities(grpc(message, &auth)).await?.into_inner();
    let items = response
        .activities
        .into_iter()
        .map(|a| ActivityJson {
            occurred_at: rfc3339(a.occurred_at.as_ref()),
            kind: match deputy::ActivityKind::try_from(a.kind) {
                Ok(deputy::ActivityKind::SuggestionSubmitted) => "suggestion_submitted",
                _ => "unspecified",
            },
            id: a.id,
            deputy_id: a.deputy_id,
            deputy_name: a.deputy_name,
            summary: a.summary,
            reference_id: a.reference_id,
        })
        .collect();
    Ok(axum::Json(Page::new(items, response.next_page_token)))
}

// ---- projects and opinions

#[derive(Debug, Serialize)]
pub struct ProjectJson {
    pub id: String,
    pub title: String,
    pub year: i32,
}

pub async fn list_projects(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<ProjectJson>>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = supervision::ListProjectsRequest { county: county.to_string(), page: page.into_wire() };
    let response = state.clients.supervision.clone().list_projects(grpc(message, &auth)).await?.into_inner();
    let items = response.projects.into_iter().map(|p| ProjectJson { id: p.id, title: p.title, year: p.year }).collect();
    Ok(axum::Json(Page::new(items, response.next_page_token)))
}

#[derive(Debug, Serialize)]
pub struct OpinionJson {
    pub id: String,
    pub source: String,
    pub content: String,
    pub received_at: Option<String>,
}

pub async fn list_opinions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<OpinionJson>>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = opinion::ListOpinionsRequest { county: county.to_string(), page: page.into_wire() };
    let response = state.clients.opinion.clone().list_opinions(grpc(message, &auth)).await?.into_inner();
    let items = response
        .opinions
        .into_iter()
        .map(|o| OpinionJson {
            received_at: rfc3339(o.received_at.as_ref()),
            source: opinion::OpinionSource::try_from(o.source)
                .map(|s| s.as_str_name().trim_start_matches("OPINION_SOURCE_").to_ascii_lowercase())
                .unwrap_or_default(),
            id: o.id,
            content: o.content,
        })
        .collect();
    Ok(axum::Json(Page::new(items, response.next_page_token)))
}
