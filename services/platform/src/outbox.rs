//! Transactional outbox: a state change and the event announcing it commit together; the
//! relay publishes committed rows to Kafka and marks them only after the broker confirmed.
//!
//! Invariants: an event is published at least once and in commit order per database (one
//! relay holds the advisory lock at a time); duplicates after a crash between publish and
//! mark carry the same `ce_id`, so consumers' inboxes drop them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use renda_proto::EventType;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::counties::CountyCode;
use crate::envelope::{self, Envelope};
use crate::telemetry;

/// Notification channel the outbox trigger signals on commit.
pub const CHANNEL: &str = "renda_outbox";
/// Advisory lock key held by the active relay (one per database).
const RELAY_LOCK: i64 = 0x0072_656e_6461_0001;

/// Adds an event to the outbox inside the caller's transaction. Returns its `ce_id`.
pub async fn enqueue<E: EventType>(
    conn: &mut PgConnection,
    service: &str,
    county: &CountyCode,
    subject: &str,
    event: &E,
    occurred_at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO outbox (id, county, topic, message_key, event_type, source, payload, traceparent, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(county.as_str())
    .bind(envelope::topic(county.as_str(), service))
    .bind(subject)
    .bind(E::TYPE)
    .bind(envelope::source(county.as_str(), service))
    .bind(event.encode_to_vec())
    .bind(telemetry::current_traceparent())
    .bind(occurred_at)
    .execute(conn)
    .await?;
    Ok(id)
}

/// An outbox row claimed for publishing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingEvent {
    pub id: Uuid,
    pub county: String,
    pub topic: String,
    pub message_key: String,
    pub event_type: String,
    pub source: String,
    pub payload: Vec<u8>,
    pub traceparent: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl PendingEvent {
    pub fn envelope(&self) -> Envelope {
        Envelope {
            id: self.id.to_string(),
            source: self.source.clone(),
            event_type: self.event_type.clone(),
            time: self.occurred_at,
            subject: self.message_key.clone(),
            county: self.county.clone(),
            traceparent: self.traceparent.clone(),
            payload: self.payload.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// Locks and returns up to `limit` unpublished rows, oldest first; empty when another
/// relay holds the lock. The rows stay locked until `tx` ends.
pub async fn claim(tx: &mut Transaction<'_, Postgres>, limit: i64) -> Result<Vec<PendingEvent>, sqlx::Error> {
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(RELAY_LOCK).fetch_one(&mut **tx).await?;
    if !locked {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT id, county, topic, message_key, event_type, source, payload, traceparent, occurred_at
         FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// Marks rows published; call only after the broker acknowledged every one of them.
pub async fn mark_published(tx: &mut Transaction<'_, Postgres>, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)").bind(ids).execute(&mut **tx).await?;
    Ok(())
}

/// Publishes outbox rows to Kafka.
#[derive(Clone)]
pub struct Relay {
    pool: PgPool,
    producer: FutureProducer,
    batch_size: i64,
    poll_interval: Duration,
    retention: chrono::Duration,
}

impl Relay {
    pub fn new(pool: PgPool, producer: FutureProducer) -> Self {
        Self {
            pool,
            producer,
            batch_size: 200,
            poll_interval: Duration::from_secs(5),
            retention: chrono::Duration::days(7),
        }
    }

    /// Sends every event and waits until the broker acknowledged all of them.
    pub async fn produce(&self, events: &[PendingEvent]) -> Result<(), RelayError> {
        let sends = events.iter().map(|event| {
            let envelope = event.envelope();
            let headers = envelope.headers();
            let record = FutureRecord::to(&event.topic)
                .key(event.message_key.as_bytes())
                .payload(event.payload.as_slice())
                .headers(headers);
            self.producer.send(record, Duration::from_secs(30))
        });
        for result in join_all(sends).await {
            result.map_err(|(e, _)| e)?;
        }
        Ok(())
    }

    /// Publishes one batch: claim, produce, mark, commit. Returns how many were published.
    pub async fn publish_batch(&self) -> Result<usize, RelayError> {
        let mut tx = self.pool.begin().await?;
        let events = claim(&mut tx, self.batch_size).await?;
        if events.is_empty() {
            return Ok(0);
        }
        self.produce(&events).await?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        mark_published(&mut tx, &ids).await?;
        tx.commit().await?;
        metrics::counter!("renda_outbox_published_total").increment(ids.len() as u64);
        tracing::debug!(count = ids.len(), "published outbox events");
        Ok(ids.len())
    }

    /// Publishes until nothing is pending.
    pub async fn publish_pending(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let n = self.publish_batch().await?;
            total += n;
            if n < self.batch_size as usize {
                return Ok(total);
            }
        }
    }

    async fn prune_published(&self) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM outbox WHERE published_at < $1")
            .bind(Utc::now() - self.retention)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Runs until `shutdown`, woken by LISTEN/NOTIFY with a slow poll as fallback; flushes once more at the end.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = None;
        let mut last_prune = std::time::Instant::now();
        loop {
            if listener.is_none() {
                listener = match PgListener::connect_with(&self.pool).await {
                    Ok(mut l) => match l.listen(CHANNEL).await {
                        Ok(()) => Some(l),
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox listen failed, polling");
                            None
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox listener connect failed, polling");
                        None
                    }
                };
            }
            if let Err(e) = self.publish_pending().await {
                metrics::counter!("renda_outbox_errors_total").increment(1);
                tracing::warn!(error = %e, "outbox relay failed, will retry");
            }
            if last_prune.elapsed() > Duration::from_secs(3600) {
                last_prune = std::time::Instant::now();
                if let Err(e) = self.prune_published().await {
                    tracing::warn!(error = %e, "outbox prune failed");
                }
            }
            let wait = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()).map_err(|e| e.to_string()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.poll_interval) => {}
                woke = wait => if let Err(e) = woke {
                    tracing::warn!(error = %e, "outbox listener lost, reconnecting");
                    listener = None;
                },
            }
        }
        if let Err(e) = self.publish_pending().await {
            tracing::warn!(error = %e, "final outbox flush failed; rows stay for the next start");
        }
        let producer = self.producer;
        // Flushing blocks; keep it off the runtime's workers.
        let _ = tokio::task::spawn_blocking(move || {
            let _ = rdkafka::producer::Producer::flush(&producer, Duration::from_secs(5));
        })
        .await;
        tracing::info!("outbox relay stopped");
    }
}
