//! Event consumer with an inbox: a consumed event's effects and the record that it was
//! consumed commit in one transaction; the offset is stored only after that commit.
//!
//! Invariants: an event (by `ce_id`) is applied at most once per consumer group; a message
//! that keeps failing goes to `dead_letters` with its error after bounded attempts and the
//! partition moves on; a message is never skipped without being applied or dead-lettered.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::Message;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::envelope::{self, Envelope, Position};
use crate::{kafka, telemetry};

/// Why a handler could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event can never be applied (undecodable, violates the contract): dead-letter it now.
    #[error("permanent: {0}")]
    Permanent(String),
    /// It may work on a later attempt.
    #[error("transient: {0}")]
    Transient(String),
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        Self::Transient(format!("database: {e}"))
    }
}

impl From<prost::DecodeError> for HandlerError {
    fn from(e: prost::DecodeError) -> Self {
        Self::Permanent(format!("payload does not decode: {e}"))
    }
}

/// A failed attempt: the inbox transaction itself, or the handler inside it.
#[derive(Debug)]
enum ApplyError {
    Infrastructure(sqlx::Error),
    Handler(HandlerError),
}

/// Applies events of the types it wants, inside the transaction it is given.
pub trait Handler: Send + Sync + 'static {
    /// Whether this handler acts on events of `event_type`; others are passed over.
    fn wants(&self, event_type: &str) -> bool;

    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub brokers: String,
    pub group: String,
    pub topics: Vec<String>,
    /// Attempts before a failing message is dead-lettered.
    pub max_attempts: u32,
    pub retry_backoff: Duration,
}

impl ConsumerConfig {
    pub fn new(brokers: impl Into<String>, group: impl Into<String>, topics: Vec<String>) -> Self {
        Self {
            brokers: brokers.into(),
            group: group.into(),
            topics,
            max_attempts: 5,
            retry_backoff: Duration::from_millis(200),
        }
    }
}

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    NotWanted,
    DeadLettered,
}

pub struct EventConsumer<H> {
    pool: PgPool,
    consumer: StreamConsumer,
    handler: Arc<H>,
    config: ConsumerConfig,
}

impl<H: Handler> EventConsumer<H> {
    pub fn new(pool: PgPool, handler: H, config: ConsumerConfig) -> Result<Self, rdkafka::error::KafkaError> {
        let consumer = kafka::consumer(&config.brokers, &config.group)?;
        let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        Ok(Self { pool, consumer, handler: Arc::new(handler), config })
    }

    /// Consumes until `shutdown`; the message in hand is finished (or left uncommitted) first.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(group = %self.config.group, topics = ?self.config.topics, "consumer started");
        loop {
            let message = tokio::select! {
                () = shutdown.cancelled() => break,
                m = self.consumer.recv() => m,
            };
            match message {
                Ok(message) => {
                    if self.process(&message, &shutdown).await.is_some()
                        && let Err(e) = self.consumer.store_offset_from_message(&message)
                    {
                        tracing::warn!(error = %e, "storing offset failed; the message may be seen again");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "consumer receive failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        let consumer = self.consumer;
        // Commit stored offsets and leave the group; librdkafka blocks here, so not on a runtime worker.
        let _ = tokio::task::spawn_blocking(move || {
            let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
            drop(consumer);
        })
        .await;
        tracing::info!(group = %self.config.group, "consumer stopped");
    }

    /// Handles one message to a final outcome; `None` when interrupted by shutdown before one.
    pub async fn process(&self, message: &BorrowedMessage<'_>, shutdown: &CancellationToken) -> Option<Outcome> {
        let position =
            Position { topic: message.topic().to_owned(), partition: message.partition(), offset: message.offset() };
        let envelope = match Envelope::from_message(message) {
            Ok(e) => e,
            Err(e) => {
                return self.dead_letter(message, &position, None, &format!("bad envelope: {e}"), 1, shutdown).await;
            }
        };
        if !self.handler.wants(&envelope.event_type) {
            return Some(Outcome::NotWanted);
        }
        let span = tracing::info_span!("consume", event_type = %envelope.event_type, event_id = %envelope.id, topic = %position.topic);
        telemetry::set_parent_from_traceparent(&span, envelope.traceparent.as_deref());
        async {
            let mut attempt = 0u32;
            let mut infra_delay = Duration::from_millis(500);
            loop {
                attempt += 1;
                match self.apply(&envelope, &position).await {
                    Ok(outcome) => {
                        metrics::counter!("renda_consumer_events_total", "outcome" => format!("{outcome:?}"))
                            .increment(1);
                        return Some(outcome);
                    }
                    Err(ApplyError::Infrastructure(e)) => {
                        // The database is down, not the message bad: wait without counting attempts.
                        attempt -= 1;
                        tracing::warn!(error = %e, "inbox transaction failed, retrying");
                        tokio::select! {
                            () = shutdown.cancelled() => return None,
                            () = tokio::time::sleep(infra_delay) => {}
                        }
                        infra_delay = (infra_delay * 2).min(Duration::from_secs(10));
                    }
                    Err(ApplyError::Handler(HandlerError::Permanent(reason))) => {
                        return self.dead_letter(message, &position, Some(&envelope), &reason, attempt, shutdown).await;
                    }
                    Err(ApplyError::Handler(HandlerError::Transient(reason)))
                        if attempt >= self.config.max_attempts =>
                    {
                        return self.dead_letter(message, &position, Some(&envelope), &reason, attempt, shutdown).await;
                    }
                    Err(ApplyError::Handler(HandlerError::Transient(reason))) => {
                        tracing::warn!(attempt, %reason, "applying event failed, retrying");
                        let backoff = self.config.retry_backoff * 2u32.saturating_pow(attempt - 1);
                        tokio::select! {
                            () = shutdown.cancelled() => return None,
                            () = tokio::time::sleep(backoff) => {}
                        }
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// One attempt: inbox row and effects in one transaction.
    async fn apply(&self, envelope: &Envelope, position: &Position) -> Result<Outcome, ApplyError> {
        let mut tx = self.pool.begin().await.map_err(ApplyError::Infrastructure)?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (consumer_group, event_id, event_type, topic, partition, \"offset\")
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&self.config.group)
        .bind(&envelope.id)
        .bind(&envelope.event_type)
        .bind(&position.topic)
        .bind(position.partition)
        .bind(position.offset)
        .execute(&mut *tx)
        .await
        .map_err(ApplyError::Infrastructure)?
        .rows_affected();
        if inserted == 0 {
            return Ok(Outcome::Duplicate);
        }
        self.handler.handle(&mut tx, envelope).await.map_err(ApplyError::Handler)?;
        tx.commit().await.map_err(ApplyError::Infrastructure)?;
        Ok(Outcome::Applied)
    }

    /// Records a message that cannot be applied; retries the write until it lands or shutdown.
    async fn dead_letter(
        &self,
        message: &BorrowedMessage<'_>,
        position: &Position,
        envelope: Option<&Envelope>,
        error: &str,
        attempts: u32,
        shutdown: &CancellationToken,
    ) -> Option<Outcome> {
        tracing::error!(topic = %position.topic, partition = position.partition, offset = position.offset, %error, "dead-lettering message");
        let headers = serde_json::Value::Object(
            envelope::header_pairs(message)
                .into_iter()
                .map(|(k, v)| (k, v.map(serde_json::Value::String).unwrap_or(serde_json::Value::Null)))
                .collect(),
        );
        let mut delay = Duration::from_millis(500);
        loop {
            let result = sqlx::query(
                "INSERT INTO dead_letters (id, consumer_group, topic, partition, \"offset\", event_id, event_type,
                                           message_key, headers, payload, error, attempts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (consumer_group, topic, partition, \"offset\") DO NOTHING",
            )
            .bind(Uuid::now_v7())
            .bind(&self.config.group)
            .bind(&position.topic)
            .bind(position.partition)
            .bind(position.offset)
            .bind(envelope.map(|e| e.id.as_str()))
            .bind(envelope.map(|e| e.event_type.as_str()))
            .bind(message.key())
            .bind(&headers)
            .bind(message.payload())
            .bind(error)
            .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
            .execute(&self.pool)
            .await;
            match result {
                Ok(_) => {
                    metrics::counter!("renda_dead_letters_total").increment(1);
                    return Some(Outcome::DeadLettered);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "dead-letter write failed, retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return None,
                        () = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
