//! PostgreSQL: each service owns one database on the shared server, creates it when
//! missing and runs its embedded migrations at start.
//!
//! Migration versions 1..=999 are the platform's (outbox, inbox, dead letters), a
//! service's own start at 1000; both sets run against the one `_sqlx_migrations` table.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// The platform's own tables, present in every service database.
pub static PLATFORM_MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Options for `database` on the server named by `server_url`.
pub fn options(server_url: &str, database: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(PgConnectOptions::from_str(server_url)?
        .database(database)
        .application_name("renda")
        .log_statements(tracing::log::LevelFilter::Trace))
}

/// Creates `database` on the server unless it exists; safe when several processes race.
pub async fn ensure_database(server_url: &str, database: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect_with(&PgConnectOptions::from_str(server_url)?).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(database)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let quoted = format!("\"{}\"", database.replace('"', "\"\""));
        match sqlx::query(&format!("CREATE DATABASE {quoted}")).execute(&mut conn).await {
            Ok(_) => tracing::info!(%database, "created database"),
            // 42P04 duplicate_database, 23505 unique_violation: another process won the race.
            Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            Err(e) => return Err(e),
        }
    }
    conn.close().await
}

/// Ensures the database, opens a pool on it and runs platform and service migrations.
pub async fn connect_and_migrate(
    server_url: &str,
    database: &str,
    service_migrations: &Migrator,
) -> Result<PgPool, sqlx::Error> {
    ensure_database(server_url, database).await?;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options(server_url, database)?)
        .await?;
    migrate(&pool, service_migrations).await?;
    Ok(pool)
}

/// Runs the platform's migrations, then the service's.
pub async fn migrate(pool: &PgPool, service_migrations: &Migrator) -> Result<(), sqlx::Error> {
    for source in [&PLATFORM_MIGRATOR, service_migrations] {
        // Each set ignores the other's applied versions.
        let migrator = Migrator { migrations: source.migrations.clone(), ignore_missing: true, ..Migrator::DEFAULT };
        migrator.run(pool).await?;
    }
    Ok(())
}

/// Whether the database answers.
pub async fn ping(pool: &PgPool) -> bool {
    sqlx::query("SELECT 1").execute(pool).await.is_ok()
}
