//! Opinion records in PostgreSQL.

use chrono::{DateTime, Utc};
use renda_platform::counties::CountyCode;
use renda_platform::page::Page;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpinionRow {
    pub id: Uuid,
    pub county: String,
    pub source: String,
    pub content: String,
    pub received_at: DateTime<Utc>,
}

pub async fn list(pool: &PgPool, county: &CountyCode, page: &Page) -> sqlx::Result<Vec<OpinionRow>> {
    sqlx::query_as(
        "SELECT id, county, source, content, received_at FROM opinions
         WHERE county = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(county.as_str())
    .bind(page.before)
    .bind(page.fetch_limit())
    .fetch_all(pool)
    .await
}
