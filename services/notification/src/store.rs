//! Inbox items in PostgreSQL.

use chrono::{DateTime, Utc};
use renda_platform::counties::CountyCode;
use renda_platform::page::Page;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Notice;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub county: String,
    pub recipient: String,
    pub title: String,
    pub body: String,
    pub source_type: String,
    pub subject_id: String,
    pub created_at: DateTime<Utc>,
}

/// Where an item came from.
pub struct Source<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub subject_id: &'a str,
}

const COLUMNS: &str = "id, county, recipient, title, body, source_type, subject_id, created_at";

/// Puts a notice in an inbox; `None` when this event already produced it.
pub async fn insert(
    conn: &mut PgConnection,
    county: &CountyCode,
    notice: &Notice,
    source: &Source<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<ItemRow>> {
    sqlx::query_as(&format!(
        "INSERT INTO inbox_items (id, county, recipient, title, body, source_type, subject_id, source_event_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (source_event_id, recipient) DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(county.as_str())
    .bind(&notice.recipient)
    .bind(&notice.title)
    .bind(&notice.body)
    .bind(source.event_type)
    .bind(source.subject_id)
    .bind(source.event_id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Items for any of `recipients` in a county, newest first.
pub async fn list(
    pool: &PgPool,
    county: &CountyCode,
    recipients: &[String],
    page: &Page,
) -> sqlx::Result<Vec<ItemRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM inbox_items
         WHERE county = $1 AND recipient = ANY($2) AND ($3::uuid IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(county.as_str())
    .bind(recipients)
    .bind(page.before)
    .bind(page.fetch_limit())
    .fetch_all(pool)
    .await
}
