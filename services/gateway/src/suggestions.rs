//! The closed loop of suggestions (提交→登记→交办→办理→答复→评价) over HTTP/JSON, with its audit
//! log, statistics and the county's configuration: each route is one `SuggestionService` call.
//!
//! Enums travel as lowercase strings; an unknown one in a request is a 400 naming its field,
//! and a value a newer service sends that this gateway does not know yet is `unspecified`.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use renda_platform::auth::Caller;
use renda_platform::counties::CountyCode;
use renda_proto::suggestion::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Authenticated, Json, OptionalJson, Query, TextBody};
use crate::routes::{Page, PageQuery, grpc, rfc3339, scope};

const MAX_IDEMPOTENCY_KEY: usize = 100;

/// The JSON name of an enum value that a service sent but this gateway does not know.
pub const UNSPECIFIED: &str = "unspecified";

// ---- enums

pub const KINDS: &[(&str, pb::SuggestionKind)] = &[
    ("suggestion", pb::SuggestionKind::Suggestion),
    ("motion", pb::SuggestionKind::Motion),
    ("citizen_opinion", pb::SuggestionKind::CitizenOpinion),
];

pub const STATES: &[(&str, pb::SuggestionState)] = &[
    ("draft", pb::SuggestionState::Draft),
    ("submitted", pb::SuggestionState::Submitted),
    ("registered", pb::SuggestionState::Registered),
    ("not_registered", pb::SuggestionState::NotRegistered),
    ("assigned", pb::SuggestionState::Assigned),
    ("returned", pb::SuggestionState::Returned),
    ("in_progress", pb::SuggestionState::InProgress),
    ("replied", pb::SuggestionState::Replied),
    ("under_supervision", pb::SuggestionState::UnderSupervision),
    ("closed", pb::SuggestionState::Closed),
    ("merged", pb::SuggestionState::Merged),
];

pub const RESULTS: &[(&str, pb::ResultClass)] =
    &[("a", pb::ResultClass::A), ("b", pb::ResultClass::B), ("c", pb::ResultClass::C)];

pub const SATISFACTIONS: &[(&str, pb::Satisfaction)] = &[
    ("satisfied", pb::Satisfaction::Satisfied),
    ("basically_satisfied", pb::Satisfaction::BasicallySatisfied),
    ("unsatisfied", pb::Satisfaction::Unsatisfied),
];

pub const MODES: &[(&str, pb::DeadlineMode)] = &[
    ("months", pb::DeadlineMode::Months),
    ("calendar_days", pb::DeadlineMode::CalendarDays),
    ("working_days", pb::DeadlineMode::WorkingDays),
];

/// The wire value of `raw`, or a 400 naming `field` and the values it may take.
pub fn enum_from_json<E: Copy>(field: &str, table: &[(&str, E)], raw: &str) -> Result<E, ApiError> {
    table.iter().find(|(name, _)| *name == raw).map(|(_, value)| *value).ok_or_else(|| {
        let names: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
        ApiError::invalid(field, format!("{raw:?} is not one of {}", names.join(", ")))
    })
}

/// The JSON name of a wire enum value; `unspecified` for 0 and for values this gateway does not know.
pub fn enum_to_json<E: Copy + Into<i32>>(table: &[(&'static str, E)], value: i32) -> &'static str {
    table.iter().find(|(_, known)| (*known).into() == value).map_or(UNSPECIFIED, |(name, _)| name)
}

/// `expected_version` of a mutation: absent means 0, "do not check".
fn expected_version(raw: Option<i64>) -> Result<i32, ApiError> {
    match raw {
        None => Ok(0),
        Some(v) => i32::try_from(v).ok().filter(|v| *v >= 0).ok_or_else(|| {
            ApiError::invalid("expected_version", format!("{v} is not an integer from 0 to 2147483647"))
        }),
    }
}

/// A county-local date `YYYY-MM-DD` from a query parameter.
fn local_date(field: &str, raw: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .ok()
            .filter(|_| value.len() == 10)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(field, format!("{value:?} is not a date YYYY-MM-DD"))),
    }
}

// ---- the suggestion, as clients see it

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginJson {
    pub source: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct DeadlineJson {
    pub due_date: String,
    pub provisional: bool,
    pub missing_calendar_years: Vec<i32>,
}

#[derive(Debug, Serialize)]
pub struct AssignmentJson {
    pub lead_agency: String,
    pub lead_agency_name: String,
    pub co_agencies: Vec<String>,
    pub assigned_at: Option<String>,
    pub deadline: Option<DeadlineJson>,
    pub round: i32,
    pub accepted: bool,
}

#[derive(Debug, Serialize)]
pub struct ProgressJson {
    pub id: String,
    pub agency: String,
    pub author_id: String,
    pub text: String,
    pub attachments: Vec<String>,
    pub co_agency_opinion: bool,
    pub at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExtensionJson {
    pub id: String,
    pub requested_due_date: String,
    pub reason: String,
    pub status: String,
    pub decided_by: String,
    pub requested_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ReplyJson {
    pub result: &'static str,
    pub content: String,
    pub contact_note: String,
    pub replied_at: Option<String>,
    pub on_time: bool,
    pub round: i32,
}

#[derive(Debug, Serialize)]
pub struct EvaluationJson {
    pub satisfaction: &'static str,
    pub comment: String,
    pub at: Option<String>,
    pub round: i32,
}

#[derive(Debug, Serialize)]
pub struct SuggestionJson {
    pub id: String,
    pub county: String,
    pub number: String,
    pub kind: &'static str,
    pub state: &'static str,
    pub title: String,
    pub content: String,
    pub category: String,
    pub deputy_id: String,
    pub deputy_name: String,
    pub submitted_at: Option<String>,
    pub created_at: Option<String>,
    pub co_signers: Vec<String>,
    pub origin: Option<OriginJson>,
    pub version: i32,
    pub key: bool,
    pub overdue: bool,
    pub merged_into: String,
    pub reason: String,
    pub proposed_agency: String,
    pub assignment: Option<AssignmentJson>,
    pub progress: Vec<ProgressJson>,
    pub extensions: Vec<ExtensionJson>,
    pub replies: Vec<ReplyJson>,
    pub evaluations: Vec<EvaluationJson>,
    pub allowed_actions: Vec<String>,
}

impl From<pb::Origin> for OriginJson {
    fn from(o: pb::Origin) -> Self {
        Self { source: o.source, reference: o.reference, note: o.note }
    }
}

impl From<OriginJson> for pb::Origin {
    fn from(o: OriginJson) -> Self {
        Self { source: o.source, reference: o.reference, note: o.note }
    }
}

impl From<pb::Assignment> for AssignmentJson {
    fn from(a: pb::Assignment) -> Self {
        Self {
            assigned_at: rfc3339(a.assigned_at.as_ref()),
            deadline: a.deadline.map(|d| DeadlineJson {
                due_date: d.due_date,
                provisional: d.provisional,
                missing_calendar_years: d.missing_calendar_years,
            }),
            lead_agency: a.lead_agency,
            lead_agency_name: a.lead_agency_name,
            co_agencies: a.co_agencies,
            round: a.round,
            accepted: a.accepted,
        }
    }
}

impl From<pb::ProgressUpdate> for ProgressJson {
    fn from(p: pb::ProgressUpdate) -> Self {
        Self {
            at: rfc3339(p.at.as_ref()),
            id: p.id,
            agency: p.agency,
            author_id: p.author_id,
            text: p.text,
            attachments: p.attachments,
            co_agency_opinion: p.co_agency_opinion,
        }
    }
}

impl From<pb::ExtensionRequest> for ExtensionJson {
    fn from(e: pb::ExtensionRequest) -> Self {
        Self {
            requested_at: rfc3339(e.requested_at.as_ref()),
            id: e.id,
            requested_due_date: e.requested_due_date,
            reason: e.reason,
            status: e.status,
            decided_by: e.decided_by,
        }
    }
}

impl From<pb::Reply> for ReplyJson {
    fn from(r: pb::Reply) -> Self {
        Self {
            result: enum_to_json(RESULTS, r.result),
            replied_at: rfc3339(r.replied_at.as_ref()),
            content: r.content,
            contact_note: r.contact_note,
            on_time: r.on_time,
            round: r.round,
        }
    }
}

impl From<pb::Evaluation> for EvaluationJson {
    fn from(e: pb::Evaluation) -> Self {
        Self {
            satisfaction: enum_to_json(SATISFACTIONS, e.satisfaction),
            at: rfc3339(e.at.as_ref()),
            comment: e.comment,
            round: e.round,
        }
    }
}

impl From<pb::Suggestion> for SuggestionJson {
    fn from(s: pb::Suggestion) -> Self {
        Self {
            kind: enum_to_json(KINDS, s.kind),
            state: enum_to_json(STATES, s.state),
            submitted_at: rfc3339(s.submitted_at.as_ref()),
            created_at: rfc3339(s.created_at.as_ref()),
            origin: s.origin.map(Into::into),
            assignment: s.assignment.map(Into::into),
            progress: s.progress.into_iter().map(Into::into).collect(),
            extensions: s.extensions.into_iter().map(Into::into).collect(),
            replies: s.replies.into_iter().map(Into::into).collect(),
            evaluations: s.evaluations.into_iter().map(Into::into).collect(),
            id: s.id,
            county: s.county,
            number: s.number,
            title: s.title,
            content: s.content,
            category: s.category,
            deputy_id: s.deputy_id,
            deputy_name: s.deputy_name,
            co_signers: s.co_signers,
            version: s.version,
            key: s.key,
            overdue: s.overdue,
            merged_into: s.merged_into,
            reason: s.reason,
            proposed_agency: s.proposed_agency,
            allowed_actions: s.allowed_actions,
        }
    }
}

type SuggestionResponse = Result<axum::Json<SuggestionJson>, ApiError>;

fn suggestion(found: tonic::Response<pb::Suggestion>) -> SuggestionResponse {
    Ok(axum::Json(found.into_inner().into()))
}

// ---- create, read, list

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSuggestion {
    pub kind: String,
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub co_signers: Vec<String>,
    #[serde(default)]
    pub origin: Option<OriginJson>,
    #[serde(default)]
    pub draft: bool,
}

impl CreateSuggestion {
    pub fn into_wire(self, county: &CountyCode, request_id: String) -> Result<pb::CreateSuggestionRequest, ApiError> {
        Ok(pb::CreateSuggestionRequest {
            county: county.to_string(),
            kind: enum_from_json("kind", KINDS, &self.kind)? as i32,
            title: self.title,
            content: self.content,
            category: self.category,
            request_id,
            co_signers: self.co_signers,
            origin: self.origin.map(Into::into),
            draft: self.draft,
        })
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(String::new()) };
    let key = value.to_str().map_err(|_| ApiError::invalid("Idempotency-Key", "must be ASCII"))?;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
        return Err(ApiError::invalid("Idempotency-Key", format!("must be 1 to {MAX_IDEMPOTENCY_KEY} characters")));
    }
    Ok(key.to_owned())
}

/// `POST /v1/counties/{county}/suggestions`: creates (submitted, or a draft); `Idempotency-Key` makes retries safe.
pub async fn create_suggestion(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    headers: HeaderMap,
    Json(body): Json<CreateSuggestion>,
) -> Result<(StatusCode, axum::Json<SuggestionJson>), ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = body.into_wire(&county, idempotency_key(&headers)?)?;
    let created = state.clients.suggestion.clone().create_suggestion(grpc(message, &auth)).await?.into_inner();
    Ok((StatusCode::CREATED, axum::Json(created.into())))
}

/// The body of `PUT /v1/counties/{county}/suggestions/{id}`: a draft's new content, whole.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateDraft {
    pub expected_version: Option<i64>,
    pub kind: String,
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub co_signers: Vec<String>,
    #[serde(default)]
    pub origin: Option<OriginJson>,
}

impl UpdateDraft {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::UpdateDraftRequest, ApiError> {
        Ok(pb::UpdateDraftRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            kind: enum_from_json("kind", KINDS, &self.kind)? as i32,
            title: self.title,
            content: self.content,
            category: self.category,
            co_signers: self.co_signers,
            origin: self.origin.map(Into::into),
        })
    }
}

/// `PUT /v1/counties/{county}/suggestions/{id}`: the author replaces a draft's content.
pub async fn update_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((county, id)): Path<(String, String)>,
    Json(body): Json<UpdateDraft>,
) -> Result<axum::Json<SuggestionJson>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = body.into_wire(&county, id)?;
    let updated = state.clients.suggestion.clone().update_draft(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(updated.into()))
}

/// The filters of `GET /v1/counties/{county}/suggestions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSuggestionsQuery {
    /// Comma-separated states, e.g. `assigned,in_progress`.
    pub state: Option<String>,
    pub agency: Option<String>,
    /// A deputy's id, or `me` for the caller.
    pub deputy_id: Option<String>,
    pub category: Option<String>,
    pub overdue: Option<bool>,
    pub text: Option<String>,
    pub key: Option<bool>,
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
}

/// `assigned,in_progress` as wire states, in order and without repeats; empty items are skipped.
pub fn parse_states(raw: &str) -> Result<Vec<i32>, ApiError> {
    let mut states = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let state = enum_from_json("state", STATES, item)? as i32;
        if !states.contains(&state) {
            states.push(state);
        }
    }
    Ok(states)
}

impl ListSuggestionsQuery {
    pub fn into_wire(self, county: &CountyCode, caller: &Caller) -> Result<pb::ListSuggestionsRequest, ApiError> {
        let text = |v: Option<String>| v.map(|s| s.trim().to_owned()).unwrap_or_default();
        let deputy_id = match text(self.deputy_id) {
            me if me == "me" => caller.id.clone(),
            other => other,
        };
        Ok(pb::ListSuggestionsRequest {
            county: county.to_string(),
            page: PageQuery { page_size: self.page_size, page_token: self.page_token }.into_wire(),
            states: parse_states(self.state.as_deref().unwrap_or_default())?,
            agency: text(self.agency),
            deputy_id,
            category: text(self.category),
            overdue_only: self.overdue.unwrap_or(false),
            text: text(self.text),
            key_only: self.key.unwrap_or(false),
        })
    }
}

pub async fn list_suggestions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    Query(query): Query<ListSuggestionsQuery>,
) -> Result<axum::Json<Page<SuggestionJson>>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = query.into_wire(&county, &auth.caller)?;
    let response = state.clients.suggestion.clone().list_suggestions(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(Page::new(response.suggestions.into_iter().map(Into::into).collect(), response.next_page_token)))
}

pub async fn get_suggestion(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((county, id)): Path<(String, String)>,
) -> SuggestionResponse {
    let county = scope(&auth.caller, &county)?;
    let message = pb::GetSuggestionRequest { county: county.to_string(), id };
    suggestion(state.clients.suggestion.clone().get_suggestion(grpc(message, &auth)).await?)
}

// ---- the closed loop: one route per action

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub expected_version: Option<i64>,
}

impl VersionBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::SuggestionAction, ApiError> {
        Ok(pb::SuggestionAction {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub expected_version: Option<i64>,
    pub reason: String,
}

impl ReasonBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::ReasonRequest, ApiError> {
        Ok(pb::ReasonRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            reason: self.reason,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    pub expected_version: Option<i64>,
    pub lead_agency: String,
    #[serde(default)]
    pub co_agencies: Vec<String>,
    pub due_date: Option<String>,
}

impl AssignBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::AssignRequest, ApiError> {
        Ok(pb::AssignRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            lead_agency: self.lead_agency,
            co_agencies: self.co_agencies,
            due_date: self.due_date.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressBody {
    pub expected_version: Option<i64>,
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<String>,
}

impl ProgressBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::ReportProgressRequest, ApiError> {
        Ok(pb::ReportProgressRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            text: self.text,
            attachments: self.attachments,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    pub expected_version: Option<i64>,
    pub due_date: String,
    pub reason: String,
}

impl ExtensionBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::RequestExtensionRequest, ApiError> {
        Ok(pb::RequestExtensionRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            due_date: self.due_date,
            reason: self.reason,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub expected_version: Option<i64>,
    pub approve: bool,
    #[serde(default)]
    pub note: String,
}

impl DecisionBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::DecideExtensionRequest, ApiError> {
        Ok(pb::DecideExtensionRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            approve: self.approve,
            note: self.note,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    pub expected_version: Option<i64>,
    pub result: String,
    pub content: String,
    pub contacted_deputy: bool,
    #[serde(default)]
    pub contact_note: String,
}

impl ReplyBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::ReplyRequest, ApiError> {
        Ok(pb::ReplyRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            result: enum_from_json("result", RESULTS, &self.result)? as i32,
            content: self.content,
            contacted_deputy: self.contacted_deputy,
            contact_note: self.contact_note,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationBody {
    pub expected_version: Option<i64>,
    pub satisfaction: String,
    #[serde(default)]
    pub comment: String,
}

impl EvaluationBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::EvaluateRequest, ApiError> {
        Ok(pb::EvaluateRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            satisfaction: enum_from_json("satisfaction", SATISFACTIONS, &self.satisfaction)? as i32,
            comment: self.comment,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    pub expected_version: Option<i64>,
    pub into_id: String,
}

impl MergeBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::MergeRequest, ApiError> {
        Ok(pb::MergeRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            into_id: self.into_id,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    pub expected_version: Option<i64>,
    pub key: bool,
}

impl KeyBody {
    pub fn into_wire(self, county: &CountyCode, id: String) -> Result<pb::MarkKeyRequest, ApiError> {
        Ok(pb::MarkKeyRequest {
            county: county.to_string(),
            id,
            expected_version: expected_version(self.expected_version)?,
            key: self.key,
        })
    }
}

/// One handler per action: scope the county, convert the body, call the RPC, answer the suggestion.
macro_rules! action {
    ($(#[$doc:meta])* $name:ident, $extract:ident<$body:ty>, $rpc:ident) => {
        $(#[$doc])*
        pub async fn $name(
            State(state): State<AppState>,
            auth: Authenticated,
            Path((county, id)): Path<(String, String)>,
            $extract(body): $extract<$body>,
        ) -> SuggestionResponse {
            let county = scope(&auth.caller, &county)?;
            let message = body.into_wire(&county, id)?;
            suggestion(state.clients.suggestion.clone().$rpc(grpc(message, &auth)).await?)
        }
    };
}

action!(
    /// `POST .../suggestions/{id}/submit`: the author submits a draft.
    submit_draft, OptionalJson<VersionBody>, submit_draft
);
action!(
    /// `POST .../suggestions/{id}/register`: staff register it (立案).
    register, OptionalJson<VersionBody>, register
);
action!(
    /// `POST .../suggestions/{id}/refuse-registration`: staff do not register it (不予立案).
    refuse_registration, Json<ReasonBody>, refuse_registration
);
action!(
    /// `POST .../suggestions/{id}/assign`: staff assign it (交办).
    assign, Json<AssignBody>, assign
);
action!(
    /// `POST .../suggestions/{id}/accept`: the lead agency accepts it.
    accept, OptionalJson<VersionBody>, accept
);
action!(
    /// `POST .../suggestions/{id}/return`: the lead agency returns it for reassignment (退回).
    return_assignment, Json<ReasonBody>, return_assignment
);
action!(
    /// `POST .../suggestions/{id}/progress`: the lead agency reports progress.
    report_progress, Json<ProgressBody>, report_progress
);
action!(
    /// `POST .../suggestions/{id}/co-agency-opinions`: a co-agency's opinion to the lead agency.
    submit_co_agency_opinion, Json<ProgressBody>, submit_co_agency_opinion
);
action!(
    /// `POST .../suggestions/{id}/extension-requests`: the lead agency asks for more time (延期).
    request_extension, Json<ExtensionBody>, request_extension
);
action!(
    /// `POST .../suggestions/{id}/extension-decision`: staff approve or refuse the pending extension.
    decide_extension, Json<DecisionBody>, decide_extension
);
action!(
    /// `POST .../suggestions/{id}/reply`: the lead agency replies (答复).
    reply, Json<ReplyBody>, reply
);
action!(
    /// `POST .../suggestions/{id}/evaluation`: the author evaluates the reply.
    evaluate, Json<EvaluationBody>, evaluate
);
action!(
    /// `POST .../suggestions/{id}/merge`: staff merge a duplicate into another (并案).
    merge, Json<MergeBody>, merge
);
action!(
    /// `POST .../suggestions/{id}/key`: staff set or clear the key flag (重点督办).
    mark_key, Json<KeyBody>, mark_key
);
action!(
    /// `POST .../suggestions/{id}/close`: staff close it (办结).
    close, Json<ReasonBody>, close
);

// ---- audit

#[derive(Debug, Serialize)]
pub struct AuditEntryJson {
    pub seq: i64,
    pub suggestion_id: String,
    pub action: String,
    pub actor_id: String,
    pub from_state: String,
    pub to_state: String,
    /// The action's details: the JSON the service recorded (a string if it is not JSON, null if empty).
    pub detail: serde_json::Value,
    pub at: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<pb::AuditEntry> for AuditEntryJson {
    fn from(e: pb::AuditEntry) -> Self {
        let detail = if e.detail.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail))
        };
        Self {
            at: rfc3339(e.at.as_ref()),
            detail,
            seq: e.seq,
            suggestion_id: e.suggestion_id,
            action: e.action,
            actor_id: e.actor_id,
            from_state: e.from_state,
            to_state: e.to_state,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

pub async fn list_audit(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((county, id)): Path<(String, String)>,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<AuditEntryJson>>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = pb::ListAuditRequest { county: county.to_string(), suggestion_id: id, page: page.into_wire() };
    let response = state.clients.suggestion.clone().list_audit(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(Page::new(response.entries.into_iter().map(Into::into).collect(), response.next_page_token)))
}

#[derive(Debug, Serialize)]
pub struct AuditVerificationJson {
    pub intact: bool,
    pub entries_checked: i64,
    /// The first entry whose hash does not match; null when intact.
    pub first_broken_seq: Option<i64>,
    /// What is wrong; null when intact.
    pub problem: Option<String>,
}

impl From<pb::VerifyAuditResponse> for AuditVerificationJson {
    fn from(v: pb::VerifyAuditResponse) -> Self {
        Self {
            intact: v.intact,
            entries_checked: v.entries_checked,
            first_broken_seq: (!v.intact).then_some(v.first_broken_seq),
            problem: (!v.problem.is_empty()).then_some(v.problem),
        }
    }
}

pub async fn verify_audit(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<AuditVerificationJson>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = pb::VerifyAuditRequest { county: county.to_string() };
    let response = state.clients.suggestion.clone().verify_audit(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(response.into()))
}

// ---- statistics

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsQuery {
    pub agency: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl StatisticsQuery {
    pub fn into_wire(self, county: &CountyCode) -> Result<pb::GetStatisticsRequest, ApiError> {
        let from = local_date("from", self.from)?;
        let to = local_date("to", self.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(ApiError::invalid("to", format!("{to} is before from {from}")));
        }
        let date = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
        Ok(pb::GetStatisticsRequest {
            county: county.to_string(),
            agency: self.agency.map(|a| a.trim().to_owned()).unwrap_or_default(),
            from_date: date(from),
            to_date: date(to),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct StatisticsJson {
    pub county: String,
    pub agency: String,
    pub total: i64,
    /// Every state, 0 when none (plus `unspecified` if a service sent a state this gateway does not know).
    pub by_state: BTreeMap<&'static str, i64>,
    pub replied: i64,
    pub replied_on_time: i64,
    pub on_time_rate: f64,
    pub average_days_to_reply: f64,
    pub evaluated: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
    pub satisfaction_rate: f64,
    pub rehandled: i64,
    pub rehandling_rate: f64,
    pub overdue: Vec<SuggestionJson>,
}

impl From<pb::Statistics> for StatisticsJson {
    fn from(s: pb::Statistics) -> Self {
        let mut by_state: BTreeMap<&'static str, i64> = STATES.iter().map(|(name, _)| (*name, 0)).collect();
        for count in &s.by_state {
            *by_state.entry(enum_to_json(STATES, count.state)).or_default() += count.count;
        }
        Self {
            by_state,
            overdue: s.overdue.into_iter().map(Into::into).collect(),
            county: s.county,
            agency: s.agency,
            total: s.total,
            replied: s.replied,
            replied_on_time: s.replied_on_time,
            on_time_rate: s.on_time_rate,
            average_days_to_reply: s.average_days_to_reply,
            evaluated: s.evaluated,
            satisfied: s.satisfied,
            basically_satisfied: s.basically_satisfied,
            unsatisfied: s.unsatisfied,
            satisfaction_rate: s.satisfaction_rate,
            rehandled: s.rehandled,
            rehandling_rate: s.rehandling_rate,
        }
    }
}

pub async fn get_statistics(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    Query(query): Query<StatisticsQuery>,
) -> Result<axum::Json<StatisticsJson>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = query.into_wire(&county)?;
    let response = state.clients.suggestion.clone().get_statistics(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(response.into()))
}

// ---- county configuration: policy, agencies, routing rules

#[derive(Debug, Serialize)]
pub struct PolicyJson {
    pub county: String,
    pub mode: &'static str,
    pub handling_period: i32,
    pub rehandling_period: i32,
    pub max_months_with_extension: i32,
    pub remind_days_before: Vec<i32>,
    pub urge_after_days: i32,
    pub supervise_after_days: i32,
    pub auto_assign: bool,
    pub motion_min_cosigners: i32,
}

impl From<pb::Policy> for PolicyJson {
    fn from(p: pb::Policy) -> Self {
        Self {
            county: p.county,
            mode: enum_to_json(MODES, p.mode),
            handling_period: p.handling_period,
            rehandling_period: p.rehandling_period,
            max_months_with_extension: p.max_months_with_extension,
            remind_days_before: p.remind_days_before,
            urge_after_days: p.urge_after_days,
            supervise_after_days: p.supervise_after_days,
            auto_assign: p.auto_assign,
            motion_min_cosigners: p.motion_min_cosigners,
        }
    }
}

/// The body of `PUT .../suggestion-policy`: the whole policy (the county comes from the path).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub mode: String,
    pub handling_period: i32,
    pub rehandling_period: i32,
    pub max_months_with_extension: i32,
    pub remind_days_before: Vec<i32>,
    pub urge_after_days: i32,
    pub supervise_after_days: i32,
    pub auto_assign: bool,
    pub motion_min_cosigners: i32,
}

impl PolicyBody {
    pub fn into_wire(self, county: &CountyCode) -> Result<pb::Policy, ApiError> {
        Ok(pb::Policy {
            county: county.to_string(),
            mode: enum_from_json("mode", MODES, &self.mode)? as i32,
            handling_period: self.handling_period,
            rehandling_period: self.rehandling_period,
            max_months_with_extension: self.max_months_with_extension,
            remind_days_before: self.remind_days_before,
            urge_after_days: self.urge_after_days,
            supervise_after_days: self.supervise_after_days,
            auto_assign: self.auto_assign,
            motion_min_cosigners: self.motion_min_cosigners,
        })
    }
}

pub async fn get_policy(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<PolicyJson>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = pb::GetPolicyRequest { county: county.to_string() };
    let response = state.clients.suggestion.clone().get_policy(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(response.into()))
}

pub async fn put_policy(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    Json(body): Json<PolicyBody>,
) -> Result<axum::Json<PolicyJson>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = body.into_wire(&county)?;
    let response = state.clients.suggestion.clone().put_policy(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(response.into()))
}

#[derive(Debug, Serialize)]
pub struct AgencyJson {
    pub county: String,
    pub code: String,
    pub name: String,
    pub active: bool,
}

impl From<pb::Agency> for AgencyJson {
    fn from(a: pb::Agency) -> Self {
        Self { county: a.county, code: a.code, name: a.name, active: a.active }
    }
}

#[derive(Debug, Serialize)]
pub struct AgencyList {
    pub items: Vec<AgencyJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyBody {
    pub name: String,
    pub active: bool,
}

pub async fn list_agencies(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<AgencyList>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = pb::ListAgenciesRequest { county: county.to_string() };
    let response = state.clients.suggestion.clone().list_agencies(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(AgencyList { items: response.agencies.into_iter().map(Into::into).collect() }))
}

pub async fn put_agency(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((county, code)): Path<(String, String)>,
    Json(body): Json<AgencyBody>,
) -> Result<axum::Json<AgencyJson>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = pb::Agency { county: county.to_string(), code, name: body.name, active: body.active };
    let response = state.clients.suggestion.clone().put_agency(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(response.into()))
}

#[derive(Debug, Serialize)]
pub struct RoutingRuleJson {
    pub county: String,
    pub id: String,
    pub category: String,
    pub keywords: Vec<String>,
    pub agency: String,
    pub priority: i32,
}

impl From<pb::RoutingRule> for RoutingRuleJson {
    fn from(r: pb::RoutingRule) -> Self {
        Self {
            county: r.county,
            id: r.id,
            category: r.category,
            keywords: r.keywords,
            agency: r.agency,
            priority: r.priority,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RoutingRuleList {
    pub items: Vec<RoutingRuleJson>,
}

/// The body of `POST .../routing-rules`: a new rule, or (with `id`) a replacement of that rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRuleBody {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub agency: String,
    #[serde(default)]
    pub priority: i32,
}

impl RoutingRuleBody {
    pub fn into_wire(self, county: &CountyCode) -> pb::RoutingRule {
        pb::RoutingRule {
            county: county.to_string(),
            id: self.id,
            category: self.category,
            keywords: self.keywords,
            agency: self.agency,
            priority: self.priority,
        }
    }
}

pub async fn list_routing_rules(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
) -> Result<axum::Json<RoutingRuleList>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = pb::ListRoutingRulesRequest { county: county.to_string() };
    let response = state.clients.suggestion.clone().list_routing_rules(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(RoutingRuleList { items: response.rules.into_iter().map(Into::into).collect() }))
}

pub async fn put_routing_rule(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(county): Path<String>,
    Json(body): Json<RoutingRuleBody>,
) -> Result<axum::Json<RoutingRuleJson>, ApiError> {
    let county = scope(&auth.caller, &county)?;
    let message = body.into_wire(&county);
    let response = state.clients.suggestion.clone().put_routing_rule(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(response.into()))
}

// ---- reference data: the holiday calendar (province operators)

/// Years a holiday calendar may be loaded for.
pub const CALENDAR_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The year of `PUT /v1/holiday-calendars/{year}`: four digits within [`CALENDAR_YEARS`].
pub fn calendar_year(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>().ok().filter(|y| raw.len() == 4 && CALENDAR_YEARS.contains(y)).ok_or_else(|| {
        ApiError::invalid(
            "year",
            format!("{raw:?} is not a year from {} to {}", CALENDAR_YEARS.start(), CALENDAR_YEARS.end()),
        )
    })
}

#[derive(Debug, Serialize)]
pub struct HolidayCalendarJson {
    pub year: i32,
    pub days_off: i32,
    pub make_up_working_days: i32,
}

/// `PUT /v1/holiday-calendars/{year}` with the TSV as the body; the service requires the role admin.
pub async fn load_holiday_calendar(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(year): Path<String>,
    TextBody(tsv): TextBody,
) -> Result<axum::Json<HolidayCalendarJson>, ApiError> {
    let year = calendar_year(&year)?;
    let message = pb::LoadHolidayCalendarRequest { year, tsv };
    let response = state.clients.suggestion.clone().load_holiday_calendar(grpc(message, &auth)).await?.into_inner();
    Ok(axum::Json(HolidayCalendarJson {
        year: response.year,
        days_off: response.days_off,
        make_up_working_days: response.make_up_working_days,
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::http::{StatusCode, Uri};
    use prost_types::Timestamp;
    use serde_json::{Value, json};

    use super::*;

    fn county() -> CountyCode {
        "330521".parse().expect("德清县")
    }

    fn caller() -> Caller {
        Caller {
            id: "01941f29-7fe8-798a-a66c-7491a5739424".into(),
            name: "沈建国".into(),
            roles: BTreeSet::new(),
            counties: BTreeSet::from(["330521".to_owned()]),
            agency: None,
            token: "t".into(),
        }
    }

    /// The 400 of `result`, with the one field it names.
    fn bad_field<T: std::fmt::Debug>(result: Result<T, ApiError>) -> (String, String) {
        let error = result.expect_err("a 400");
        assert_eq!(error.status, StatusCode::BAD_REQUEST, "{error:?}");
        assert_eq!(error.code, "invalid_argument");
        assert_eq!(error.fields.len(), 1, "{error:?}");
        (error.fields[0].field.clone(), error.fields[0].description.clone())
    }

    /// Every table maps both ways, covers every non-zero value of its proto enum, and maps 0
    /// and values from a newer proto to `unspecified`.
    fn check_table<E>(table: &[(&'static str, E)], known: impl Fn(i32) -> bool)
    where
        E: Copy + Into<i32> + PartialEq + std::fmt::Debug,
    {
        for (name, value) in table {
            assert_eq!(enum_from_json("f", table, name).expect("known"), *value);
            assert_eq!(enum_to_json(table, (*value).into()), *name);
        }
        for wire in 1..64 {
            assert_eq!(known(wire), enum_to_json(table, wire) != UNSPECIFIED, "wire value {wire}");
        }
        assert_eq!(enum_to_json(table, 0), UNSPECIFIED);
        assert_eq!(enum_to_json(table, 99), UNSPECIFIED);
        assert_eq!(enum_to_json(table, -1), UNSPECIFIED);
        assert_eq!(bad_field(enum_from_json("f", table, UNSPECIFIED)).0, "f");
        assert_eq!(bad_field(enum_from_json("f", table, "")).0, "f");
    }

    #[test]
    fn enums_map_both_ways_and_unknown_values_are_unspecified() {
        check_table(KINDS, |v| pb::SuggestionKind::try_from(v).is_ok());
        check_table(STATES, |v| pb::SuggestionState::try_from(v).is_ok());
        check_table(RESULTS, |v| pb::ResultClass::try_from(v).is_ok());
        check_table(SATISFACTIONS, |v| pb::Satisfaction::try_from(v).is_ok());
        check_table(MODES, |v| pb::DeadlineMode::try_from(v).is_ok());
        assert_eq!(enum_to_json(STATES, pb::SuggestionState::InProgress as i32), "in_progress");
        assert_eq!(enum_to_json(STATES, pb::SuggestionState::UnderSupervision as i32), "under_supervision");
        assert_eq!(enum_to_json(SATISFACTIONS, pb::Satisfaction::BasicallySatisfied as i32), "basically_satisfied");
        assert_eq!(enum_to_json(MODES, pb::DeadlineMode::WorkingDays as i32), "working_days");
        assert_eq!(enum_to_json(RESULTS, pb::ResultClass::B as i32), "b");
    }

    #[test]
    fn a_bad_enum_string_is_a_400_naming_its_field() {
        let reply = ReplyBody {
            expected_version: None,
            result: "A".into(),
            content: "已列入2026年计划".into(),
            contacted_deputy: true,
            contact_note: String::new(),
        };
        let (field, description) = bad_field(reply.into_wire(&county(), "id".into()));
        assert_eq!(field, "result");
        assert_eq!(description, "\"A\" is not one of a, b, c");

        let evaluation =
            EvaluationBody { expected_version: None, satisfaction: "happy".into(), comment: String::new() };
        assert_eq!(bad_field(evaluation.into_wire(&county(), "id".into())).0, "satisfaction");

        let create: CreateSuggestion =
            serde_json::from_value(json!({"kind": "proposal", "title": "t", "content": "c"})).expect("decodes");
        let (field, description) = bad_field(create.into_wire(&county(), String::new()));
        assert_eq!(field, "kind");
        assert_eq!(description, "\"proposal\" is not one of suggestion, motion, citizen_opinion");

        let policy: PolicyBody = serde_json::from_value(json!({
            "mode": "weeks", "handling_period": 3, "rehandling_period": 1, "max_months_with_extension": 6,
            "remind_days_before": [7, 3, 1], "urge_after_days": 3, "supervise_after_days": 10,
            "auto_assign": false, "motion_min_cosigners": 10
        }))
        .expect("decodes");
        assert_eq!(bad_field(policy.into_wire(&county())).0, "mode");
    }

    #[test]
    fn request_bodies_convert_to_the_wire() {
        let reply: ReplyBody = serde_json::from_value(json!({
            "expected_version": 7, "result": "a", "content": "已完成莫干山镇12个行政村污水终端提标改造。",
            "contacted_deputy": true, "contact_note": "3月20日电话沟通"
        }))
        .expect("decodes");
        let wire = reply.into_wire(&county(), "s1".into()).expect("valid");
        assert_eq!(wire.county, "330521");
        assert_eq!(wire.id, "s1");
        assert_eq!(wire.expected_version, 7);
        assert_eq!(wire.result, pb::ResultClass::A as i32);
        assert!(wire.contacted_deputy);
        assert_eq!(wire.contact_note, "3月20日电话沟通");

        let create: CreateSuggestion = serde_json::from_value(json!({
            "kind": "citizen_opinion", "title": "关于村道路灯维修的意见", "content": "路灯损坏较多", "category": "城乡建设",
            "co_signers": ["d2"], "origin": {"source": "station", "reference": "新市镇代表联络站"}, "draft": true
        }))
        .expect("decodes");
        let wire = create.into_wire(&county(), "key-1".into()).expect("valid");
        assert_eq!(wire.kind, pb::SuggestionKind::CitizenOpinion as i32);
        assert_eq!(wire.request_id, "key-1");
        assert_eq!(wire.co_signers, ["d2"]);
        assert!(wire.draft);
        assert_eq!(
            wire.origin,
            Some(pb::Origin {
                source: "station".into(), reference: "新市镇代表联络站".into(), note: String::new()
            })
        );

        let assign: AssignBody =
            serde_json::from_value(json!({"lead_agency": "330521-hbj", "co_agencies": ["330521-zjj"]})).expect("ok");
        let wire = assign.into_wire(&county(), "s1".into()).expect("valid");
        assert_eq!((wire.expected_version, wire.due_date.as_str()), (0, ""));
        assert_eq!(wire.co_agencies, ["330521-zjj"]);

        let evaluation: EvaluationBody =
            serde_json::from_value(json!({"satisfaction": "basically_satisfied"})).expect("decodes");
        let wire = evaluation.into_wire(&county(), "s1".into()).expect("valid");
        assert_eq!(wire.satisfaction, pb::Satisfaction::BasicallySatisfied as i32);

        let policy: PolicyBody = serde_json::from_value(json!({
            "mode": "working_days", "handling_period": 60, "rehandling_period": 30, "max_months_with_extension": 6,
            "remind_days_before": [7, 3, 1], "urge_after_days": 3, "supervise_after_days": 10,
            "auto_assign": true, "motion_min_cosigners": 10
        }))
        .expect("decodes");
        let wire = policy.into_wire(&county()).expect("valid");
        assert_eq!(wire.mode, pb::DeadlineMode::WorkingDays as i32);
        assert_eq!(wire.remind_days_before, [7, 3, 1]);
        assert!(wire.auto_assign);
    }

    #[test]
    fn unknown_and_missing_fields_do_not_decode() {
        assert!(serde_json::from_value::<ReasonBody>(json!({"reason": "重复", "force": true})).is_err());
        assert!(serde_json::from_value::<ReasonBody>(json!({})).is_err());
        assert!(serde_json::from_value::<VersionBody>(json!({"version": 3})).is_err());
        assert!(
            serde_json::from_value::<CreateSuggestion>(
                json!({"kind": "suggestion", "title": "t", "content": "c", "origin": {"source": "x", "phone": "1"}})
            )
            .is_err()
        );
        assert!(serde_json::from_value::<PolicyBody>(json!({"mode": "months"})).is_err());
        assert!(serde_json::from_value::<KeyBody>(json!({"key": "yes"})).is_err());
        assert_eq!(serde_json::from_value::<VersionBody>(json!({})).expect("empty").expected_version, None);
    }

    #[test]
    fn expected_version_is_0_when_absent_and_must_fit_an_i32() {
        assert_eq!(expected_version(None).expect("absent"), 0);
        assert_eq!(expected_version(Some(12)).expect("set"), 12);
        assert_eq!(bad_field(expected_version(Some(-1))).0, "expected_version");
        assert_eq!(bad_field(expected_version(Some(i64::from(i32::MAX) + 1))).0, "expected_version");
        let body = VersionBody { expected_version: Some(-3) };
        assert_eq!(bad_field(body.into_wire(&county(), "s1".into())).0, "expected_version");
    }

    #[test]
    fn the_state_filter_is_a_comma_separated_list() {
        let assigned = pb::SuggestionState::Assigned as i32;
        let in_progress = pb::SuggestionState::InProgress as i32;
        assert_eq!(parse_states("assigned,in_progress").expect("valid"), [assigned, in_progress]);
        assert_eq!(parse_states(" in_progress , ,assigned,in_progress,").expect("valid"), [in_progress, assigned]);
        assert_eq!(parse_states("").expect("empty"), Vec::<i32>::new());
        let (field, description) = bad_field(parse_states("assigned,open"));
        assert_eq!(field, "state");
        assert!(description.starts_with("\"open\" is not one of draft, submitted,"), "{description}");
        assert_eq!(bad_field(parse_states("Assigned")).0, "state");
    }

    fn list_query(query: &str) -> Result<pb::ListSuggestionsRequest, ApiError> {
        let uri: Uri = format!("/v1/counties/330521/suggestions?{query}").parse().expect("uri");
        let axum::extract::Query(parsed) = axum::extract::Query::<ListSuggestionsQuery>::try_from_uri(&uri)
            .map_err(|e| ApiError::invalid("query", e.body_text()))?;
        parsed.into_wire(&county(), &caller())
    }

    #[test]
    fn list_filters_convert_to_the_wire() {
        let wire = list_query(
            "state=assigned,in_progress&agency=330521-hbj&deputy_id=me&category=%E7%94%9F%E6%80%81%E7%8E%AF%E5%A2%83\
             &overdue=true&text=%E6%B1%A1%E6%B0%B4&key=true&page_size=20&page_token=abc",
        )
        .expect("valid");
        assert_eq!(wire.county, "330521");
        assert_eq!(wire.states, [pb::SuggestionState::Assigned as i32, pb::SuggestionState::InProgress as i32]);
        assert_eq!(wire.agency, "330521-hbj");
        assert_eq!(wire.deputy_id, caller().id, "`me` is the caller");
        assert_eq!(wire.category, "生态环境");
        assert!(wire.overdue_only && wire.key_only);
        assert_eq!(wire.text, "污水");
        assert_eq!(wire.page, Some(renda_proto::common::v1::PageRequest { page_size: 20, page_token: "abc".into() }));

        let none = list_query("").expect("no filters");
        assert_eq!(
            none,
            pb::ListSuggestionsRequest { county: "330521".into(), page: none.page.clone(), ..Default::default() }
        );
        assert_eq!(list_query("deputy_id=d-7").expect("valid").deputy_id, "d-7");
        assert!(!list_query("overdue=false&key=false").expect("valid").overdue_only);

        assert_eq!(bad_field(list_query("state=assigned,bogus")).0, "state");
        assert_eq!(bad_field(list_query("overdue=yes")).0, "query");
        assert_eq!(bad_field(list_query("states=assigned")).0, "query");
        assert_eq!(bad_field(list_query("page_size=-1")).0, "query");
    }

    fn ts(seconds: i64) -> Option<Timestamp> {
        Some(Timestamp { seconds, nanos: 532_000_000 })
    }

    fn full_suggestion() -> pb::Suggestion {
        pb::Suggestion {
            id: "0195832e-6a1c-7d4b-8f3e-2c9a51b7e640".into(),
            county: "330521".into(),
            number: "德清〔2026〕第0001号".into(),
            kind: pb::SuggestionKind::Suggestion as i32,
            state: pb::SuggestionState::Replied as i32,
            title: "关于加快农村生活污水处理设施提标改造的建议".into(),
            content: "莫干山镇部分行政村污水处理终端建成较早。".into(),
            category: "生态环境".into(),
            deputy_id: "d1".into(),
            deputy_name: "沈建国".into(),
            submitted_at: ts(1_773_282_069),
            co_signers: vec!["d2".into()],
            origin: None,
            version: 9,
            key: true,
            merged_into: String::new(),
            reason: String::new(),
            proposed_agency: "330521-hbj".into(),
            assignment: Some(pb::Assignment {
                lead_agency: "330521-hbj".into(),
                lead_agency_name: "德清县生态环境局".into(),
                co_agencies: vec!["330521-zjj".into()],
                assigned_at: ts(1_773_800_000),
                deadline: Some(pb::Deadline {
                    due_date: "2026-06-17".into(),
                    provisional: false,
                    missing_calendar_years: vec![],
                }),
                round: 1,
                accepted: true,
            }),
            progress: vec![pb::ProgressUpdate {
                id: "p1".into(),
                agency: "330521-hbj".into(),
                author_id: "a1".into(),
                text: "已完成现场踏勘".into(),
                attachments: vec!["files/p1.jpg".into()],
                co_agency_opinion: false,
                at: ts(1_774_000_000),
            }],
            extensions: vec![pb::ExtensionRequest {
                id: "e1".into(),
                requested_due_date: "2026-07-17".into(),
                reason: "需协调资金".into(),
                status: "approved".into(),
                decided_by: "s1".into(),
                requested_at: ts(1_774_100_000),
            }],
            replies: vec![pb::Reply {
                result: pb::ResultClass::A as i32,
                content: "已完成提标改造".into(),
                contact_note: "电话沟通".into(),
                replied_at: ts(1_775_000_000),
                on_time: true,
                round: 1,
            }],
            evaluations: vec![pb::Evaluation { satisfaction: 42, comment: String::new(), at: None, round: 1 }],
            overdue: false,
            allowed_actions: vec!["evaluate".into()],
            created_at: ts(1_773_282_000),
        }
    }

    #[test]
    fn a_suggestion_has_every_field_of_the_proto() {
        let json = serde_json::to_value(SuggestionJson::from(full_suggestion())).expect("serializes");
        let keys: BTreeSet<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
        let proto_fields = [
            "id",
            "county",
            "number",
            "kind",
            "state",
            "title",
            "content",
            "category",
            "deputy_id",
            "deputy_name",
            "submitted_at",
            "co_signers",
            "origin",
            "version",
            "key",
            "merged_into",
            "reason",
            "proposed_agency",
            "assignment",
            "progress",
            "extensions",
            "replies",
            "evaluations",
            "overdue",
            "allowed_actions",
            "created_at",
        ];
        assert_eq!(keys, BTreeSet::from(proto_fields));
        assert_eq!(json["state"], "replied");
        assert_eq!(json["kind"], "suggestion");
        assert_eq!(json["submitted_at"], "2026-03-12T02:21:09.532Z");
        assert_eq!(json["origin"], Value::Null);
        assert_eq!(json["version"], 9);
        assert_eq!(json["key"], true);
        assert_eq!(
            json["assignment"]["deadline"],
            json!({"due_date": "2026-06-17", "provisional": false, "missing_calendar_years": []})
        );
        assert_eq!(json["assignment"]["lead_agency_name"], "德清县生态环境局");
        assert_eq!(json["progress"][0]["attachments"], json!(["files/p1.jpg"]));
        assert_eq!(json["extensions"][0]["status"], "approved");
        assert_eq!(json["replies"][0]["result"], "a");
        assert_eq!(json["evaluations"][0]["satisfaction"], "unspecified", "a value from a newer proto");
        assert_eq!(json["evaluations"][0]["at"], Value::Null);
        assert_eq!(json["allowed_actions"], json!(["evaluate"]));

        let empty = serde_json::to_value(SuggestionJson::from(pb::Suggestion::default())).expect("serializes");
        assert_eq!((empty["kind"].as_str(), empty["state"].as_str()), (Some("unspecified"), Some("unspecified")));
        assert_eq!(empty["assignment"], Value::Null);
        let with_origin = pb::Suggestion {
            origin: Some(pb::Origin { source: "diary".into(), reference: "r".into(), note: "n".into() }),
            ..Default::default()
        };
        let json = serde_json::to_value(SuggestionJson::from(with_origin)).expect("serializes");
        assert_eq!(json["origin"], json!({"source": "diary", "reference": "r", "note": "n"}));
    }

    #[test]
    fn statistics_count_by_state_as_an_object() {
        let stats = pb::Statistics {
            county: "330521".into(),
            total: 5,
            by_state: vec![
                pb::StateCount { state: pb::SuggestionState::Assigned as i32, count: 3 },
                pb::StateCount { state: pb::SuggestionState::Closed as i32, count: 1 },
                pb::StateCount { state: 77, count: 1 },
            ],
            on_time_rate: 0.75,
            overdue: vec![full_suggestion()],
            ..Default::default()
        };
        let json = serde_json::to_value(StatisticsJson::from(stats)).expect("serializes");
        let by_state = json["by_state"].as_object().expect("object");
        assert_eq!(by_state.len(), STATES.len() + 1);
        assert_eq!(json["by_state"]["assigned"], 3);
        assert_eq!(json["by_state"]["closed"], 1);
        assert_eq!(json["by_state"]["draft"], 0);
        assert_eq!(json["by_state"]["unspecified"], 1);
        assert_eq!(json["on_time_rate"], 0.75);
        assert_eq!(json["overdue"][0]["number"], "德清〔2026〕第0001号");
    }

    #[test]
    fn statistics_periods_are_local_dates() {
        let query = |from: Option<&str>, to: Option<&str>| {
            StatisticsQuery { agency: Some(" 330521-hbj ".into()), from: from.map(Into::into), to: to.map(Into::into) }
                .into_wire(&county())
        };
        let wire = query(Some("2026-01-01"), Some("2026-12-31")).expect("valid");
        assert_eq!(
            (wire.agency.as_str(), wire.from_date.as_str(), wire.to_date.as_str()),
            ("330521-hbj", "2026-01-01", "2026-12-31")
        );
        let open = query(None, Some("")).expect("open period");
        assert_eq!((open.from_date.as_str(), open.to_date.as_str()), ("", ""));
        assert_eq!(bad_field(query(Some("2026-13-01"), None)).0, "from");
        assert_eq!(bad_field(query(Some("2026-1-1"), None)).0, "from");
        assert_eq!(bad_field(query(None, Some("2026/12/31"))).0, "to");
        assert_eq!(bad_field(query(Some("2026-06-01"), Some("2026-05-31"))).0, "to");
    }

    #[test]
    fn audit_entries_and_verification() {
        let entry = |detail: &str| {
            serde_json::to_value(AuditEntryJson::from(pb::AuditEntry {
                seq: 4,
                action: "assign".into(),
                detail: detail.into(),
                at: ts(1_773_800_000),
                ..Default::default()
            }))
            .expect("serializes")
        };
        assert_eq!(entry(r#"{"lead_agency":"330521-hbj"}"#)["detail"], json!({"lead_agency": "330521-hbj"}));
        assert_eq!(entry("not json")["detail"], "not json");
        assert_eq!(entry("")["detail"], Value::Null);
        assert_eq!(entry("")["at"], "2026-03-18T02:13:20.532Z");

        let intact = serde_json::to_value(AuditVerificationJson::from(pb::VerifyAuditResponse {
            intact: true,
            entries_checked: 120,
            ..Default::default()
        }))
        .expect("serializes");
        assert_eq!(intact, json!({"intact": true, "entries_checked": 120, "first_broken_seq": null, "problem": null}));
        let broken = serde_json::to_value(AuditVerificationJson::from(pb::VerifyAuditResponse {
            intact: false,
            entries_checked: 57,
            first_broken_seq: 57,
            problem: "hash mismatch".into(),
        }))
        .expect("serializes");
        assert_eq!(broken["first_broken_seq"], 57);
        assert_eq!(broken["problem"], "hash mismatch");
    }

    #[test]
    fn policy_and_configuration_convert_from_the_wire() {
        let json = serde_json::to_value(PolicyJson::from(pb::Policy {
            county: "330521".into(),
            mode: pb::DeadlineMode::Months as i32,
            handling_period: 3,
            remind_days_before: vec![7, 3, 1],
            ..Default::default()
        }))
        .expect("serializes");
        assert_eq!(json["mode"], "months");
        assert_eq!(json["remind_days_before"], json!([7, 3, 1]));
        let rule = RoutingRuleBody {
            id: String::new(),
            category: "生态环境".into(),
            keywords: vec!["污水".into()],
            agency: "330521-hbj".into(),
            priority: 10,
        }
        .into_wire(&county());
        assert_eq!((rule.county.as_str(), rule.priority), ("330521", 10));
        assert!(
            serde_json::from_value::<RoutingRuleBody>(json!({"keywords": ["污水"]})).is_err(),
            "agency is required"
        );
    }

    #[test]
    fn calendar_years_are_four_digits_in_range() {
        assert_eq!(calendar_year("2026").expect("valid"), 2026);
        for bad in ["26", "abcd", "1999", "2101", "20260", "+202", "", "2026.0"] {
            assert_eq!(bad_field(calendar_year(bad)).0, "year", "{bad:?}");
        }
    }
}
