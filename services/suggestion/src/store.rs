//! Suggestions in PostgreSQL.

use chrono::{DateTime, Utc};
use renda_platform::counties::CountyCode;
use renda_platform::page::Page;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::{Kind, NewSuggestion, State, format_number, local_year};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuggestionRow {
    pub id: Uuid,
    pub county: String,
    pub number: String,
    pub kind: String,
    pub state: String,
    pub title: String,
    pub content: String,
    pub category: String,
    pub deputy_id: String,
    pub deputy_name: String,
    pub request_id: Option<String>,
    pub submitted_at: DateTime<Utc>,
}

impl SuggestionRow {
    pub fn kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }
    pub fn state(&self) -> Option<State> {
        State::parse(&self.state)
    }
}

const COLUMNS: &str =
    "id, county, number, kind, state, title, content, category, deputy_id, deputy_name, request_id, submitted_at";

/// Who is submitting.
pub struct Submitter<'a> {
    pub deputy_id: &'a str,
    pub deputy_name: &'a str,
}

/// The suggestion an earlier submission with the same idempotency key created, if any.
pub async fn find_by_request_id(
    conn: &mut PgConnection,
    county: &CountyCode,
    deputy_id: &str,
    request_id: &str,
) -> sqlx::Result<Option<SuggestionRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM suggestions WHERE county = $1 AND deputy_id = $2 AND request_id = $3"
    ))
    .bind(county.as_str())
    .bind(deputy_id)
    .bind(request_id)
    .fetch_optional(conn)
    .await
}

/// Inserts a submitted suggestion with the next number of its county and year.
///
/// The counter row stays locked until the transaction ends, so numbers are handed out in
/// commit order without gaps: a rolled-back submission returns its number.
pub async fn insert_submitted(
    conn: &mut PgConnection,
    county: &CountyCode,
    submitter: &Submitter<'_>,
    new: &NewSuggestion,
    now: DateTime<Utc>,
) -> sqlx::Result<SuggestionRow> {
    let year = local_year(now);
    let seq: i32 = sqlx::query_scalar(
        "INSERT INTO suggestion_numbers (county, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (county, year) DO UPDATE SET last_number = suggestion_numbers.last_number + 1
         RETURNING last_number",
    )
    .bind(county.as_str())
    .bind(year)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query_as(&format!(
        "INSERT INTO suggestions (id, county, year, seq, number, kind, state, title, content, category,
                                  deputy_id, deputy_name, request_id, submitted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(county.as_str())
    .bind(year)
    .bind(seq)
    .bind(format_number(county.county(), year, seq))
    .bind(new.kind.as_str())
    .bind(State::Submitted.as_str())
    .bind(&new.title)
    .bind(&new.content)
    .bind(&new.category)
    .bind(submitter.deputy_id)
    .bind(submitter.deputy_name)
    .bind(&new.request_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

pub async fn get(pool: &PgPool, county: &CountyCode, id: Uuid) -> sqlx::Result<Option<SuggestionRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM suggestions WHERE county = $1 AND id = $2"))
        .bind(county.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A county's suggestions, newest first; only `deputy_id`'s when given.
pub async fn list(
    pool: &PgPool,
    county: &CountyCode,
    deputy_id: Option<&str>,
    page: &Page,
) -> sqlx::Result<Vec<SuggestionRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM suggestions
         WHERE county = $1 AND ($2::text IS NULL OR deputy_id = $2) AND ($3::uuid IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(county.as_str())
    .bind(deputy_id)
    .bind(page.before)
    .bind(page.fetch_limit())
    .fetch_all(pool)
    .await
}
