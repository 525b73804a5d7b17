//! Duty activities in PostgreSQL.

use chrono::{DateTime, Utc};
use renda_platform::counties::CountyCode;
use renda_platform::page::Page;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::ActivityKind;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: Uuid,
    pub county: String,
    pub deputy_id: String,
    pub deputy_name: String,
    pub kind: String,
    pub summary: String,
    pub reference_id: String,
    pub occurred_at: DateTime<Utc>,
}

pub struct NewActivity<'a> {
    pub county: &'a CountyCode,
    pub deputy_id: &'a str,
    pub deputy_name: &'a str,
    pub kind: ActivityKind,
    pub summary: String,
    pub reference_id: &'a str,
    pub occurred_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, county, deputy_id, deputy_name, kind, summary, reference_id, occurred_at";

/// Records an activity; `None` when the same (kind, reference) was recorded before.
pub async fn record(conn: &mut PgConnection, new: &NewActivity<'_>) -> sqlx::Result<Option<ActivityRow>> {
    sqlx::query_as(&format!(
        "INSERT INTO duty_activities (id, county, deputy_id, deputy_name, kind, summary, reference_id, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (county, kind, reference_id) DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(new.county.as_str())
    .bind(new.deputy_id)
    .bind(new.deputy_name)
    .bind(new.kind.as_str())
    .bind(&new.summary)
    .bind(new.reference_id)
    .bind(new.occurred_at)
    .fetch_optional(conn)
    .await
}

/// A county's activities, newest first; one deputy's when given.
pub async fn list(
    pool: &PgPool,
    county: &CountyCode,
    deputy_id: Option<&str>,
    page: &Page,
) -> sqlx::Result<Vec<ActivityRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM duty_activities
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
