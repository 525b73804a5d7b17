//! Suggestions and everything around them in PostgreSQL. Functions that change state take
//! the caller's connection, so the change, its audit entry and its event share a transaction.

use chrono::{DateTime, NaiveDate, Utc};
use renda_platform::calendar::{DayKind, HolidayCalendar, YearCalendar};
use renda_platform::counties::CountyCode;
use renda_platform::page::Page;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::policy::{DeadlineMode, Policy};
use crate::domain::routing::Rule;
use crate::domain::{Kind, NewSuggestion, State, format_number, local_year};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuggestionRow {
    pub id: Uuid,
    pub county: String,
    pub number: Option<String>,
    pub kind: String,
    pub state: String,
    pub title: String,
    pub content: String,
    pub category: String,
    pub deputy_id: String,
    pub deputy_name: String,
    pub request_id: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub co_signers: Vec<String>,
    pub origin_source: Option<String>,
    pub origin_reference: Option<String>,
    pub origin_note: Option<String>,
    pub is_key: bool,
    pub merged_into: Option<Uuid>,
    pub reason: Option<String>,
    pub proposed_agency: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

impl SuggestionRow {
    pub fn kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }
    /// The stored state; rows are only ever written with valid states.
    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Draft)
    }
    pub fn number(&self) -> &str {
        self.number.as_deref().unwrap_or_default()
    }
}

const COLUMNS: &str = "s.id, s.county, s.number, s.kind, s.state, s.title, s.content, s.category, s.deputy_id, \
     s.deputy_name, s.request_id, s.submitted_at, s.co_signers, s.origin_source, s.origin_reference, s.origin_note, \
     s.is_key, s.merged_into, s.reason, s.proposed_agency, s.version, s.created_at";

/// Who writes a suggestion.
pub struct Author<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

pub async fn find_by_request_id(
    conn: &mut PgConnection,
    county: &CountyCode,
    author_id: &str,
    request_id: &str,
) -> sqlx::Result<Option<SuggestionRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM suggestions s WHERE s.county = $1 AND s.deputy_id = $2 AND s.request_id = $3"
    ))
    .bind(county.as_str())
    .bind(author_id)
    .bind(request_id)
    .fetch_optional(conn)
    .await
}

/// The next number of a county and year. The counter row stays locked until the
/// transaction ends, so numbers are handed out without gaps (ADR 0003).
async fn next_number(conn: &mut PgConnection, county: &CountyCode, year: i32) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "INSERT INTO suggestion_numbers (county, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (county, year) DO UPDATE SET last_number = suggestion_numbers.last_number + 1
         RETURNING last_number",
    )
    .bind(county.as_str())
    .bind(year)
    .fetch_one(conn)
    .await
}

/// Inserts a new suggestion, numbered when it is submitted at once.
pub async fn insert(
    conn: &mut PgConnection,
    county: &CountyCode,
    author: &Author<'_>,
    new: &NewSuggestion,
    draft: bool,
    proposed_agency: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<SuggestionRow> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO suggestions (id, county, kind, state, title, content, category, deputy_id, deputy_name,
                                  request_id, co_signers, origin_source, origin_reference, origin_note,
                                  proposed_agency, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
    )
    .bind(id)
    .bind(county.as_str())
    .bind(new.kind.as_str())
    .bind(if draft { State::Draft.as_str() } else { State::Submitted.as_str() })
    .bind(&new.title)
    .bind(&new.content)
    .bind(&new.category)
    .bind(author.id)
    .bind(author.name)
    .bind(&new.request_id)
    .bind(&new.co_signers)
    .bind(new.origin.as_ref().map(|o| o.source.as_str()))
    .bind(new.origin.as_ref().map(|o| o.reference.as_str()))
    .bind(new.origin.as_ref().map(|o| o.note.as_str()))
    .bind(proposed_agency)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if !draft {
        number(conn, county, id, now).await?;
    }
    lock(conn, county, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// Replaces the content of a draft.
pub async fn update_draft(conn: &mut PgConnection, id: Uuid, new: &NewSuggestion) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE suggestions SET kind = $2, title = $3, content = $4, category = $5, co_signers = $6,
                origin_source = $7, origin_reference = $8, origin_note = $9
         WHERE id = $1",
    )
    .bind(id)
    .bind(new.kind.as_str())
    .bind(&new.title)
    .bind(&new.content)
    .bind(&new.category)
    .bind(&new.co_signers)
    .bind(new.origin.as_ref().map(|o| o.source.as_str()))
    .bind(new.origin.as_ref().map(|o| o.reference.as_str()))
    .bind(new.origin.as_ref().map(|o| o.note.as_str()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives a suggestion its number and submission time.
pub async fn number(conn: &mut PgConnection, county: &CountyCode, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    let year = local_year(now);
    let seq = next_number(conn, county, year).await?;
    sqlx::query("UPDATE suggestions SET year = $2, seq = $3, number = $4, submitted_at = $5 WHERE id = $1")
        .bind(id)
        .bind(year)
        .bind(seq)
        .bind(format_number(county.county(), year, seq))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Reads a suggestion of the county and locks it for the rest of the transaction.
pub async fn lock(conn: &mut PgConnection, county: &CountyCode, id: Uuid) -> sqlx::Result<Option<SuggestionRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM suggestions s WHERE s.county = $1 AND s.id = $2 FOR UPDATE"))
        .bind(county.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get(conn: &mut PgConnection, county: &CountyCode, id: Uuid) -> sqlx::Result<Option<SuggestionRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM suggestions s WHERE s.county = $1 AND s.id = $2"))
        .bind(county.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// What changes with a transition besides the state.
#[derive(Debug, Default)]
pub struct Change<'a> {
    pub reason: Option<&'a str>,
    pub merged_into: Option<Uuid>,
    pub key: Option<bool>,
    pub proposed_agency: Option<&'a str>,
}

/// Writes the new state and bumps the version.
pub async fn set_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: State,
    change: &Change<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE suggestions SET state = $2, version = version + 1, updated_at = $3,
                reason = COALESCE($4, reason), merged_into = COALESCE($5, merged_into),
                is_key = COALESCE($6, is_key), proposed_agency = COALESCE($7, proposed_agency)
         WHERE id = $1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(now)
    .bind(change.reason)
    .bind(change.merged_into)
    .bind(change.key)
    .bind(change.proposed_agency)
    .execute(conn)
    .await?;
    Ok(())
}

/// Who may see which suggestions in a list.
pub enum Visibility<'a> {
    County,
    /// Written or co-signed by this deputy.
    Deputy(&'a str),
    /// Currently assigned to this agency (lead or co-agency).
    Agency(&'a str),
    Nothing,
}

#[derive(Debug, Default)]
pub struct Filters {
    pub states: Vec<State>,
    pub agency: Option<String>,
    pub deputy_id: Option<String>,
    pub category: Option<String>,
    pub overdue_only: bool,
    pub text: Option<String>,
    pub key_only: bool,
}

/// A suggestion with its current assignment, as lists show it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub suggestion: SuggestionRow,
    pub assignment: Option<AssignmentRow>,
}

const ASSIGNMENT_COLUMNS: &str = "a.id AS assignment_id, a.round, a.lead_agency, ag.name AS lead_agency_name, \
     a.co_agencies, a.assigned_at, a.assigned_on, a.due_date, a.provisional, a.missing_years, a.accepted_at, \
     a.replied_at";

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn list(
    pool: &PgPool,
    county: &CountyCode,
    visibility: &Visibility<'_>,
    filters: &Filters,
    today: NaiveDate,
    page: &Page,
) -> sqlx::Result<Vec<Listed>> {
    let (visible_deputy, visible_agency, nothing) = match visibility {
        Visibility::County => (None, None, false),
        Visibility::Deputy(id) => (Some(*id), None, false),
        Visibility::Agency(code) => (None, Some(*code), false),
        Visibility::Nothing => (None, None, true),
    };
    let states: Vec<&str> = filters.states.iter().map(|s| s.as_str()).collect();
    let rows: Vec<SuggestionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}
         FROM suggestions s
         LEFT JOIN assignments a ON a.suggestion_id = s.id AND a.active
         WHERE s.county = $1 AND NOT $2
           AND ($3::text IS NULL OR s.deputy_id = $3 OR $3 = ANY(s.co_signers))
           AND ($4::text IS NULL OR a.lead_agency = $4 OR $4 = ANY(a.co_agencies))
           AND (cardinality($5::text[]) = 0 OR s.state = ANY($5))
           AND ($6::text IS NULL OR a.lead_agency = $6)
           AND ($7::text IS NULL OR s.deputy_id = $7)
           AND ($8::text IS NULL OR s.category = $8)
           AND (NOT $9 OR (s.state IN ('assigned', 'in_progress') AND a.due_date < $10))
           AND ($11::text IS NULL OR s.title ILIKE $11 OR s.content ILIKE $11)
           AND (NOT $12 OR s.is_key)
           AND (s.state <> 'draft' OR s.deputy_id = $3)
           AND ($13::uuid IS NULL OR s.id < $13)
         ORDER BY s.id DESC LIMIT $14"
    ))
    .bind(county.as_str())
    .bind(nothing)
    .bind(visible_deputy)
    .bind(visible_agency)
    .bind(&states)
    .bind(&filters.agency)
    .bind(&filters.deputy_id)
    .bind(&filters.category)
    .bind(filters.overdue_only)
    .bind(today)
    .bind(filters.text.as_deref().map(like_pattern))
    .bind(filters.key_only)
    .bind(page.before)
    .bind(page.fetch_limit())
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut assignments: Vec<(Uuid, AssignmentRow)> = sqlx::query_as::<_, WithSuggestion>(&format!(
        "SELECT a.suggestion_id, {ASSIGNMENT_COLUMNS} FROM assignments a
         LEFT JOIN agencies ag ON ag.county = a.county AND ag.code = a.lead_agency
         WHERE a.suggestion_id = ANY($1) AND a.active"
    ))
    .bind(&ids)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|w| (w.suggestion_id, w.assignment))
    .collect();
    Ok(rows
        .into_iter()
        .map(|suggestion| {
            let assignment =
                assignments.iter().position(|(id, _)| *id == suggestion.id).map(|i| assignments.swap_remove(i).1);
            Listed { suggestion, assignment }
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct WithSuggestion {
    suggestion_id: Uuid,
    #[sqlx(flatten)]
    assignment: AssignmentRow,
}

// ---- assignments

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignmentRow {
    #[sqlx(rename = "assignment_id")]
    pub id: Uuid,
    pub round: i32,
    pub lead_agency: String,
    pub lead_agency_name: Option<String>,
    pub co_agencies: Vec<String>,
    pub assigned_at: DateTime<Utc>,
    pub assigned_on: NaiveDate,
    pub due_date: NaiveDate,
    pub provisional: bool,
    pub missing_years: Vec<i32>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
}

pub async fn current_assignment(conn: &mut PgConnection, suggestion_id: Uuid) -> sqlx::Result<Option<AssignmentRow>> {
    sqlx::query_as(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a
         LEFT JOIN agencies ag ON ag.county = a.county AND ag.code = a.lead_agency
         WHERE a.suggestion_id = $1 AND a.active"
    ))
    .bind(suggestion_id)
    .fetch_optional(conn)
    .await
}

pub struct NewAssignment<'a> {
    pub suggestion_id: Uuid,
    pub county: &'a CountyCode,
    pub round: i32,
    pub lead_agency: &'a str,
    pub co_agencies: &'a [String],
    pub assigned_at: DateTime<Utc>,
    pub assigned_on: NaiveDate,
    pub due_date: NaiveDate,
    pub provisional: bool,
    pub missing_years: &'a [i32],
    /// Re-handling continues with the same agency, already accepted.
    pub accepted: bool,
}

/// Makes a new assignment the current one.
pub async fn assign(conn: &mut PgConnection, new: &NewAssignment<'_>) -> sqlx::Result<AssignmentRow> {
    sqlx::query("UPDATE assignments SET active = false WHERE suggestion_id = $1 AND active")
        .bind(new.suggestion_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO assignments (id, suggestion_id, county, round, lead_agency, co_agencies, assigned_at, assigned_on,
                                  due_date, provisional, missing_years, accepted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $12 THEN $7 END)",
    )
    .bind(Uuid::now_v7())
    .bind(new.suggestion_id)
    .bind(new.county.as_str())
    .bind(new.round)
    .bind(new.lead_agency)
    .bind(new.co_agencies)
    .bind(new.assigned_at)
    .bind(new.assigned_on)
    .bind(new.due_date)
    .bind(new.provisional)
    .bind(new.missing_years)
    .bind(new.accepted)
    .execute(&mut *conn)
    .await?;
    current_assignment(conn, new.suggestion_id).await?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn mark_accepted(conn: &mut PgConnection, assignment_id: Uuid, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("UPDATE assignments SET accepted_at = $2 WHERE id = $1")
        .bind(assignment_id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_due_date(
    conn: &mut PgConnection,
    assignment_id: Uuid,
    due: NaiveDate,
    provisional: bool,
    missing_years: &[i32],
) -> sqlx::Result<()> {
    sqlx::query("UPDATE assignments SET due_date = $2, provisional = $3, missing_years = $4 WHERE id = $1")
        .bind(assignment_id)
        .bind(due)
        .bind(provisional)
        .bind(missing_years)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- progress, extensions, replies, evaluations

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProgressRow {
    pub id: Uuid,
    pub agency: String,
    pub author_id: String,
    pub text: String,
    pub attachments: Vec<String>,
    pub co_agency_opinion: bool,
    pub at: DateTime<Utc>,
}

pub struct NewProgress<'a> {
    pub suggestion_id: Uuid,
    pub assignment_id: Uuid,
    pub agency: &'a str,
    pub author_id: &'a str,
    pub text: &'a str,
    pub attachments: &'a [String],
    pub co_agency_opinion: bool,
    pub at: DateTime<Utc>,
}

pub async fn add_progress(conn: &mut PgConnection, new: &NewProgress<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO progress_updates (id, suggestion_id, assignment_id, agency, author_id, text, attachments,
                                       co_agency_opinion, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(new.suggestion_id)
    .bind(new.assignment_id)
    .bind(new.agency)
    .bind(new.author_id)
    .bind(new.text)
    .bind(new.attachments)
    .bind(new.co_agency_opinion)
    .bind(new.at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExtensionRow {
    pub id: Uuid,
    pub requested_due: NaiveDate,
    pub reason: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub requested_at: DateTime<Utc>,
}

pub async fn pending_extension(conn: &mut PgConnection, assignment_id: Uuid) -> sqlx::Result<Option<ExtensionRow>> {
    sqlx::query_as(
        "SELECT id, requested_due, reason, status, decided_by, requested_at FROM extension_requests
         WHERE assignment_id = $1 AND status = 'pending'",
    )
    .bind(assignment_id)
    .fetch_optional(conn)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn request_extension(
    conn: &mut PgConnection,
    suggestion_id: Uuid,
    assignment_id: Uuid,
    requested_due: NaiveDate,
    reason: &str,
    requested_by: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO extension_requests (id, suggestion_id, assignment_id, requested_due, reason, status,
                                         requested_by, requested_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(suggestion_id)
    .bind(assignment_id)
    .bind(requested_due)
    .bind(reason)
    .bind(requested_by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn decide_extension(
    conn: &mut PgConnection,
    id: Uuid,
    approved: bool,
    decided_by: &str,
    note: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE extension_requests SET status = $2, decided_by = $3, note = $4, decided_at = $5 WHERE id = $1")
        .bind(id)
        .bind(if approved { "approved" } else { "refused" })
        .bind(decided_by)
        .bind(note)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyRow {
    pub round: i32,
    pub agency: String,
    pub result: String,
    pub content: String,
    pub contact_note: String,
    pub replied_at: DateTime<Utc>,
    pub on_time: bool,
}

pub struct NewReply<'a> {
    pub suggestion_id: Uuid,
    pub assignment_id: Uuid,
    pub round: i32,
    pub agency: &'a str,
    pub result: &'a str,
    pub content: &'a str,
    pub contact_note: &'a str,
    pub at: DateTime<Utc>,
    pub on_time: bool,
}

pub async fn add_reply(conn: &mut PgConnection, new: &NewReply<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO replies (id, suggestion_id, assignment_id, round, agency, result, content, contact_note,
                              replied_at, on_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(Uuid::now_v7())
    .bind(new.suggestion_id)
    .bind(new.assignment_id)
    .bind(new.round)
    .bind(new.agency)
    .bind(new.result)
    .bind(new.content)
    .bind(new.contact_note)
    .bind(new.at)
    .bind(new.on_time)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE assignments SET replied_at = $2 WHERE id = $1")
        .bind(new.assignment_id)
        .bind(new.at)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvaluationRow {
    pub round: i32,
    pub satisfaction: String,
    pub comment: String,
    pub at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_evaluation(
    conn: &mut PgConnection,
    suggestion_id: Uuid,
    round: i32,
    agency: &str,
    satisfaction: &str,
    comment: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO evaluations (id, suggestion_id, round, agency, satisfaction, comment, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(suggestion_id)
    .bind(round)
    .bind(agency)
    .bind(satisfaction)
    .bind(comment)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Everything a detail view shows besides the row and its assignment.
pub struct History {
    pub progress: Vec<ProgressRow>,
    pub extensions: Vec<ExtensionRow>,
    pub replies: Vec<ReplyRow>,
    pub evaluations: Vec<EvaluationRow>,
}

pub async fn history(conn: &mut PgConnection, suggestion_id: Uuid) -> sqlx::Result<History> {
    let progress = sqlx::query_as(
        "SELECT id, agency, author_id, text, attachments, co_agency_opinion, at FROM progress_updates
         WHERE suggestion_id = $1 ORDER BY at, id",
    )
    .bind(suggestion_id)
    .fetch_all(&mut *conn)
    .await?;
    let extensions = sqlx::query_as(
        "SELECT id, requested_due, reason, status, decided_by, requested_at FROM extension_requests
         WHERE suggestion_id = $1 ORDER BY requested_at, id",
    )
    .bind(suggestion_id)
    .fetch_all(&mut *conn)
    .await?;
    let replies = sqlx::query_as(
        "SELECT round, agency, result, content, contact_note, replied_at, on_time FROM replies
         WHERE suggestion_id = $1 ORDER BY replied_at, id",
    )
    .bind(suggestion_id)
    .fetch_all(&mut *conn)
    .await?;
    let evaluations = sqlx::query_as(
        "SELECT round, satisfaction, comment, at FROM evaluations WHERE suggestion_id = $1 ORDER BY round",
    )
    .bind(suggestion_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(History { progress, extensions, replies, evaluations })
}

// ---- reminders

/// An unanswered assignment whose reminder window may have opened.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenAssignment {
    pub suggestion_id: Uuid,
    pub county: String,
    pub assignment_id: Uuid,
    pub round: i32,
    pub lead_agency: String,
    pub due_date: NaiveDate,
}

/// Current, unanswered assignments of suggestions being handled, due by `horizon`.
pub async fn open_assignments_due_by(pool: &PgPool, horizon: NaiveDate) -> sqlx::Result<Vec<OpenAssignment>> {
    sqlx::query_as(
        "SELECT s.id AS suggestion_id, s.county, a.id AS assignment_id, a.round, a.lead_agency, a.due_date
         FROM assignments a JOIN suggestions s ON s.id = a.suggestion_id
         WHERE a.active AND a.replied_at IS NULL AND a.due_date <= $1 AND s.state IN ('assigned', 'in_progress')
         ORDER BY a.due_date",
    )
    .bind(horizon)
    .fetch_all(pool)
    .await
}

/// Forgets the notices sent for an assignment whose deadline moved: the schedule restarts.
pub async fn reset_notices(conn: &mut PgConnection, assignment_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM reminders WHERE assignment_id = $1").bind(assignment_id).execute(conn).await?;
    Ok(())
}

/// Current, unanswered assignments whose deadline was counted without `year`'s calendar.
pub async fn provisional_assignments(conn: &mut PgConnection, year: i32) -> sqlx::Result<Vec<ProvisionalAssignment>> {
    sqlx::query_as(
        "SELECT s.id AS suggestion_id, s.county, a.id AS assignment_id, a.round, a.lead_agency, a.assigned_on, a.due_date
         FROM assignments a JOIN suggestions s ON s.id = a.suggestion_id
         WHERE a.active AND a.replied_at IS NULL AND a.provisional AND $1 = ANY(a.missing_years)",
    )
    .bind(year)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProvisionalAssignment {
    pub suggestion_id: Uuid,
    pub county: String,
    pub assignment_id: Uuid,
    pub round: i32,
    pub lead_agency: String,
    pub assigned_on: NaiveDate,
    pub due_date: NaiveDate,
}

/// Records a notice as sent; false when it was sent before (by this or another replica).
pub async fn record_notice(
    conn: &mut PgConnection,
    assignment_id: Uuid,
    notice: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO reminders (assignment_id, notice, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(assignment_id)
    .bind(notice)
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

// ---- county configuration

#[derive(sqlx::FromRow)]
struct PolicyRow {
    mode: String,
    handling_period: i32,
    rehandling_period: i32,
    max_months_with_extension: i32,
    remind_days_before: Vec<i32>,
    urge_after_days: i32,
    supervise_after_days: i32,
    auto_assign: bool,
    motion_min_cosigners: i32,
}

fn non_negative(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// The county's policy, or the default (Deputies Law) when it has set none.
pub async fn policy(conn: &mut PgConnection, county: &CountyCode) -> sqlx::Result<Policy> {
    let row: Option<PolicyRow> = sqlx::query_as(
        "SELECT mode, handling_period, rehandling_period, max_months_with_extension, remind_days_before,
                urge_after_days, supervise_after_days, auto_assign, motion_min_cosigners
         FROM county_policies WHERE county = $1",
    )
    .bind(county.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map_or_else(Policy::default, |r| Policy {
        mode: DeadlineMode::parse(&r.mode).unwrap_or(DeadlineMode::Months),
        handling_period: non_negative(r.handling_period),
        rehandling_period: non_negative(r.rehandling_period),
        max_months_with_extension: non_negative(r.max_months_with_extension),
        remind_days_before: r.remind_days_before.into_iter().map(non_negative).collect(),
        urge_after_days: non_negative(r.urge_after_days),
        supervise_after_days: non_negative(r.supervise_after_days),
        auto_assign: r.auto_assign,
        motion_min_cosigners: non_negative(r.motion_min_cosigners),
    }))
}

fn signed(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub async fn put_policy(
    conn: &mut PgConnection,
    county: &CountyCode,
    policy: &Policy,
    by: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let days: Vec<i32> = policy.remind_days_before.iter().copied().map(signed).collect();
    sqlx::query(
        "INSERT INTO county_policies (county, mode, handling_period, rehandling_period, max_months_with_extension,
                                      remind_days_before, urge_after_days, supervise_after_days, auto_assign,
                                      motion_min_cosigners, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (county) DO UPDATE SET mode = $2, handling_period = $3, rehandling_period = $4,
             max_months_with_extension = $5, remind_days_before = $6, urge_after_days = $7,
             supervise_after_days = $8, auto_assign = $9, motion_min_cosigners = $10, updated_at = $11,
             updated_by = $12",
    )
    .bind(county.as_str())
    .bind(policy.mode.as_str())
    .bind(signed(policy.handling_period))
    .bind(signed(policy.rehandling_period))
    .bind(signed(policy.max_months_with_extension))
    .bind(&days)
    .bind(signed(policy.urge_after_days))
    .bind(signed(policy.supervise_after_days))
    .bind(policy.auto_assign)
    .bind(signed(policy.motion_min_cosigners))
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgencyRow {
    pub code: String,
    pub name: String,
    pub active: bool,
}

pub async fn put_agency(conn: &mut PgConnection, county: &CountyCode, agency: &AgencyRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO agencies (county, code, name, active) VALUES ($1, $2, $3, $4)
         ON CONFLICT (county, code) DO UPDATE SET name = $3, active = $4",
    )
    .bind(county.as_str())
    .bind(&agency.code)
    .bind(&agency.name)
    .bind(agency.active)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn agencies(conn: &mut PgConnection, county: &CountyCode) -> sqlx::Result<Vec<AgencyRow>> {
    sqlx::query_as("SELECT code, name, active FROM agencies WHERE county = $1 ORDER BY code")
        .bind(county.as_str())
        .fetch_all(conn)
        .await
}

pub async fn agency(conn: &mut PgConnection, county: &CountyCode, code: &str) -> sqlx::Result<Option<AgencyRow>> {
    sqlx::query_as("SELECT code, name, active FROM agencies WHERE county = $1 AND code = $2")
        .bind(county.as_str())
        .bind(code)
        .fetch_optional(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuleRow {
    pub id: Uuid,
    pub category: String,
    pub keywords: Vec<String>,
    pub agency: String,
    pub priority: i32,
}

impl RuleRow {
    pub fn rule(&self) -> Rule {
        Rule {
            category: self.category.clone(),
            keywords: self.keywords.clone(),
            agency: self.agency.clone(),
            priority: self.priority,
        }
    }
}

pub async fn put_rule(conn: &mut PgConnection, county: &CountyCode, rule: &RuleRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO routing_rules (id, county, category, keywords, agency, priority) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET category = $3, keywords = $4, agency = $5, priority = $6
         WHERE routing_rules.county = $2",
    )
    .bind(rule.id)
    .bind(county.as_str())
    .bind(&rule.category)
    .bind(&rule.keywords)
    .bind(&rule.agency)
    .bind(rule.priority)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn rules(conn: &mut PgConnection, county: &CountyCode) -> sqlx::Result<Vec<RuleRow>> {
    sqlx::query_as(
        "SELECT id, category, keywords, agency, priority FROM routing_rules WHERE county = $1 ORDER BY priority, id",
    )
    .bind(county.as_str())
    .fetch_all(conn)
    .await
}

// ---- holiday calendar

/// Loads (or replaces) a year of the holiday calendar.
pub async fn load_holiday_year(conn: &mut PgConnection, year: &YearCalendar, by: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM holiday_years WHERE year = $1").bind(year.year).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO holiday_years (year, loaded_at, loaded_by) VALUES ($1, now(), $2)")
        .bind(year.year)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    for entry in &year.entries {
        sqlx::query("INSERT INTO holidays (date, year, kind, name) VALUES ($1, $2, $3, $4)")
            .bind(entry.date)
            .bind(year.year)
            .bind(match entry.kind {
                DayKind::Off => "off",
                DayKind::Work => "work",
            })
            .bind(&entry.name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn holiday_years(conn: &mut PgConnection) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar("SELECT year FROM holiday_years ORDER BY year").fetch_all(conn).await
}

/// The holiday calendar of every loaded year.
pub async fn calendar(conn: &mut PgConnection) -> sqlx::Result<HolidayCalendar> {
    let years = holiday_years(&mut *conn).await?;
    let rows: Vec<(NaiveDate, i32, String, String)> =
        sqlx::query_as("SELECT date, year, kind, name FROM holidays ORDER BY date").fetch_all(conn).await?;
    let calendars = years.into_iter().map(|year| YearCalendar {
        year,
        entries: rows
            .iter()
            .filter(|(_, y, _, _)| *y == year)
            .map(|(date, _, kind, name)| renda_platform::calendar::CalendarEntry {
                date: *date,
                kind: if kind == "work" { DayKind::Work } else { DayKind::Off },
                name: name.clone(),
            })
            .collect(),
    });
    Ok(HolidayCalendar::with_years(calendars))
}

// ---- statistics

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct StatsRow {
    pub total: i64,
    pub replied: i64,
    pub replied_on_time: i64,
    pub average_days_to_reply: Option<f64>,
    pub evaluated: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
    pub rehandled: i64,
}

/// Submitted (non-draft) suggestions of a county, optionally one agency's (any assignment)
/// and a period of submission dates (county-local, inclusive).
pub async fn statistics(
    pool: &PgPool,
    county: &CountyCode,
    agency: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> sqlx::Result<(StatsRow, Vec<(String, i64)>)> {
    let scope = "FROM suggestions s
         WHERE s.county = $1 AND s.state <> 'draft'
           AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM assignments a WHERE a.suggestion_id = s.id AND a.lead_agency = $2))
           AND ($3::date IS NULL OR (s.submitted_at AT TIME ZONE 'Asia/Shanghai')::date >= $3)
           AND ($4::date IS NULL OR (s.submitted_at AT TIME ZONE 'Asia/Shanghai')::date <= $4)";
    let stats: StatsRow = sqlx::query_as(&format!(
        "WITH scoped AS (SELECT s.id {scope}),
              first_replies AS (
                  SELECT DISTINCT ON (r.suggestion_id, r.round) r.suggestion_id, r.round, r.on_time, r.replied_at,
                         a.assigned_at
                  FROM replies r JOIN assignments a ON a.id = r.assignment_id
                  WHERE r.suggestion_id IN (SELECT id FROM scoped) AND ($2::text IS NULL OR r.agency = $2)
                  ORDER BY r.suggestion_id, r.round, r.replied_at),
              evals AS (
                  SELECT e.* FROM evaluations e
                  WHERE e.suggestion_id IN (SELECT id FROM scoped) AND ($2::text IS NULL OR e.agency = $2))
         SELECT (SELECT count(*) FROM scoped) AS total,
                (SELECT count(*) FROM first_replies) AS replied,
                (SELECT count(*) FROM first_replies WHERE on_time) AS replied_on_time,
                (SELECT avg(extract(epoch FROM replied_at - assigned_at) / 86400.0)::float8 FROM first_replies)
                    AS average_days_to_reply,
                (SELECT count(*) FROM evals) AS evaluated,
                (SELECT count(*) FROM evals WHERE satisfaction = 'satisfied') AS satisfied,
                (SELECT count(*) FROM evals WHERE satisfaction = 'basically_satisfied') AS basically_satisfied,
                (SELECT count(*) FROM evals WHERE satisfaction = 'unsatisfied') AS unsatisfied,
                (SELECT count(DISTINCT suggestion_id) FROM evals WHERE satisfaction = 'unsatisfied' AND round = 1)
                    AS rehandled"
    ))
    .bind(county.as_str())
    .bind(agency)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    let by_state: Vec<(String, i64)> =
        sqlx::query_as(&format!("SELECT s.state, count(*) {scope} GROUP BY s.state ORDER BY s.state"))
            .bind(county.as_str())
            .bind(agency)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?;
    Ok((stats, by_state))
}
