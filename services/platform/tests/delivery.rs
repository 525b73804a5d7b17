//! Delivery guarantees with the real PostgreSQL and the real broker:
//! (a) a relay that dies after the broker acknowledged but before it marked the row still
//!     leads to exactly one effect downstream;
//! (b) a consumer that dies before its commit gets the event again and applies it once;
//! (c) a poison message lands in the dead-letter table and the partition keeps flowing.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use renda_platform::consumer::{ConsumerConfig, EventConsumer, Handler, HandlerError};
use renda_platform::counties::CountyCode;
use renda_platform::envelope::{self, Envelope};
use renda_platform::outbox::{self, Relay};
use renda_platform::{db, kafka, testing};
use renda_proto::EventType;
use renda_proto::suggestion::v1::SuggestionSubmitted;
use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

static NO_SERVICE_MIGRATIONS: Migrator = Migrator { migrations: Cow::Borrowed(&[]), ..Migrator::DEFAULT };

struct Fixture {
    pool: PgPool,
    service: String,
    county: CountyCode,
    topic: String,
    relay: Relay,
}

/// A fresh database with the platform tables and an `effects` table, and a fresh one-partition topic.
async fn fixture() -> Fixture {
    renda_platform::telemetry::init_for_tests();
    let pool =
        db::connect_and_migrate(&testing::pg_url(), &testing::unique_name("test_delivery"), &NO_SERVICE_MIGRATIONS)
            .await
            .expect("database");
    sqlx::query("CREATE TABLE effects (event_id text NOT NULL, suggestion_id text NOT NULL, title text NOT NULL)")
        .execute(&pool)
        .await
        .expect("effects table");
    let service = testing::unique_name("t").replace('_', "");
    let county: CountyCode = "330521".parse().expect("county");
    let topic = envelope::topic(county.as_str(), &service);
    kafka::create_topics(&testing::brokers(), std::slice::from_ref(&topic), 1).await.expect("topic");
    let relay = Relay::new(pool.clone(), kafka::producer(&testing::brokers()).expect("producer"));
    Fixture { pool, service, county, topic, relay }
}

impl Fixture {
    /// Commits a SuggestionSubmitted with `title` through the outbox, as a service would.
    async fn enqueue(&self, suggestion_id: &str, title: &str) -> String {
        let event = SuggestionSubmitted {
            suggestion_id: suggestion_id.to_owned(),
            county: self.county.to_string(),
            title: title.to_owned(),
            ..Default::default()
        };
        let mut tx = self.pool.begin().await.expect("begin");
        let id = outbox::enqueue(&mut tx, &self.service, &self.county, suggestion_id, &event, chrono::Utc::now())
            .await
            .expect("enqueue");
        tx.commit().await.expect("commit");
        id.to_string()
    }

    fn consumer<H: Handler>(&self, group: &str, handler: H) -> EventConsumer<H> {
        let mut config = ConsumerConfig::new(testing::brokers(), group, vec![self.topic.clone()]);
        config.max_attempts = 3;
        config.retry_backoff = Duration::from_millis(20);
        EventConsumer::new(self.pool.clone(), handler, config).expect("consumer")
    }

    async fn effects_of(&self, suggestion_id: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM effects WHERE suggestion_id = $1")
            .bind(suggestion_id)
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    /// Waits until `suggestion_id` has at least one effect (or fails after 60 s).
    async fn await_effect(&self, suggestion_id: &str) {
        for _ in 0..600 {
            if self.effects_of(suggestion_id).await > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no effect of {suggestion_id} within 60s");
    }

    /// How many copies of the event `ce_id` the topic holds.
    async fn copies_on_topic(&self, ce_id: &str) -> usize {
        let topic = self.topic.clone();
        let ce_id = ce_id.to_owned();
        tokio::task::spawn_blocking(move || {
            let reader: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", testing::brokers())
                .set("group.id", testing::unique_name("reader"))
                .set("auto.offset.reset", "earliest")
                .set("enable.auto.commit", "false")
                .create()
                .expect("reader");
            reader.subscribe(&[&topic]).expect("subscribe");
            let mut copies = 0;
            let mut idle = 0;
            while idle < 30 {
                match reader.poll(Duration::from_millis(200)) {
                    Some(Ok(m)) => {
                        idle = 0;
                        let id = envelope::header_pairs(&m).into_iter().find(|(k, _)| k == envelope::ID);
                        if id.and_then(|(_, v)| v).as_deref() == Some(ce_id.as_str()) {
                            copies += 1;
                        }
                    }
                    _ => idle += 1,
                }
            }
            copies
        })
        .await
        .expect("reader task")
    }
}

/// Records each applied event in `effects`; can stall before commit or fail on command.
#[derive(Clone, Default)]
struct Recorder {
    /// Stall forever (never commit) on events with this title, after writing the effect.
    stall_on: Option<String>,
    stalled: Arc<Notify>,
}

impl Handler for Recorder {
    fn wants(&self, event_type: &str) -> bool {
        event_type == SuggestionSubmitted::TYPE
    }

    async fn handle(&self, conn: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let submitted: SuggestionSubmitted = event.decode()?;
        if submitted.title == "always-fails" {
            return Err(HandlerError::Transient("the handler fails on this one every time".into()));
        }
        sqlx::query("INSERT INTO effects (event_id, suggestion_id, title) VALUES ($1, $2, $3)")
            .bind(&event.id)
            .bind(&submitted.suggestion_id)
            .bind(&submitted.title)
            .execute(&mut *conn)
            .await?;
        if self.stall_on.as_deref() == Some(submitted.title.as_str()) {
            self.stalled.notify_one();
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_dying_after_the_ack_still_yields_exactly_one_effect() {
    let f = fixture().await;
    let ce_id = f.enqueue("s-a", "first").await;

    // The relay claims and the broker acknowledges, then the process dies before marking:
    // its transaction rolls back and the row stays unpublished.
    {
        let mut tx = f.pool.begin().await.expect("begin");
        let claimed = outbox::claim(&mut tx, 10).await.expect("claim");
        assert_eq!(claimed.len(), 1);
        f.relay.produce(&claimed).await.expect("broker acknowledged");
        drop(tx);
    }
    let unpublished: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(&f.pool)
        .await
        .expect("count");
    assert_eq!(unpublished, 1, "the row was not marked");

    // The restarted relay publishes it again, woken by NOTIFY for the next event too.
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(f.relay.clone().run(shutdown.clone()));
    let consumer = tokio::spawn(f.consumer(&testing::unique_name("group"), Recorder::default()).run(shutdown.clone()));
    // A later event on the same partition: once it is applied, both copies before it were seen.
    f.enqueue("s-a-sentinel", "sentinel").await;
    f.await_effect("s-a-sentinel").await;

    assert_eq!(f.copies_on_topic(&ce_id).await, 2, "the broker holds the event twice");
    assert_eq!(f.effects_of("s-a").await, 1, "but it took effect once");
    shutdown.cancel();
    relay.await.expect("relay stops");
    consumer.await.expect("consumer stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_dying_before_its_commit_gets_the_event_again_and_applies_it_once() {
    let f = fixture().await;
    f.enqueue("s-b", "stall-here").await;
    f.relay.publish_pending().await.expect("published");
    let group = testing::unique_name("group");

    // The first consumer writes its effects, then dies before committing.
    let stalling = Recorder { stall_on: Some("stall-here".into()), ..Recorder::default() };
    let stalled = stalling.stalled.clone();
    let first = tokio::spawn(f.consumer(&group, stalling).run(CancellationToken::new()));
    tokio::time::timeout(Duration::from_secs(60), stalled.notified()).await.expect("first consumer got the event");
    first.abort();
    let _ = first.await;
    assert_eq!(f.effects_of("s-b").await, 0, "nothing of the dead consumer's work committed");

    // Its replacement in the same group gets the event again and applies it once.
    let shutdown = CancellationToken::new();
    let second = tokio::spawn(f.consumer(&group, Recorder::default()).run(shutdown.clone()));
    f.await_effect("s-b").await;
    f.enqueue("s-b-sentinel", "sentinel").await;
    f.relay.publish_pending().await.expect("published");
    f.await_effect("s-b-sentinel").await;
    assert_eq!(f.effects_of("s-b").await, 1);
    shutdown.cancel();
    second.await.expect("consumer stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_are_dead_lettered_and_the_partition_keeps_flowing() {
    let f = fixture().await;
    let producer = kafka::producer(&testing::brokers()).expect("producer");
    let send = |headers: OwnedHeaders, payload: &'static [u8]| {
        let producer = producer.clone();
        let topic = f.topic.clone();
        async move {
            producer
                .send(FutureRecord::to(&topic).key("poison").payload(payload).headers(headers), Duration::from_secs(10))
                .await
                .map_err(|(e, _)| e)
                .expect("sent");
        }
    };
    // 1. No CloudEvents headers at all.
    send(OwnedHeaders::new(), b"hello").await;
    // 2. Proper envelope, payload that is not the protobuf it claims to be.
    let envelope = Envelope {
        id: uuid::Uuid::now_v7().to_string(),
        source: "/renda/330521/test".into(),
        event_type: SuggestionSubmitted::TYPE.into(),
        time: chrono::Utc::now(),
        subject: "poison".into(),
        county: "330521".into(),
        traceparent: None,
        payload: Vec::new(),
    };
    send(envelope.headers().insert(Header { key: "x-test", value: Some("garbage") }), b"\xff\xff\xff\xff").await;
    // 3. A well-formed event the handler fails on every time (bounded retries).
    f.enqueue("s-c-fails", "always-fails").await;
    // 4. A good event behind them.
    f.enqueue("s-c-good", "good").await;
    f.relay.publish_pending().await.expect("published");

    let shutdown = CancellationToken::new();
    let group = testing::unique_name("group");
    let consumer = tokio::spawn(f.consumer(&group, Recorder::default()).run(shutdown.clone()));
    f.await_effect("s-c-good").await;
    shutdown.cancel();
    consumer.await.expect("consumer stops");

    let letters: Vec<(String, i32, Option<String>)> = sqlx::query_as(
        "SELECT error, attempts, event_type FROM dead_letters WHERE consumer_group = $1 ORDER BY \"offset\"",
    )
    .bind(&group)
    .fetch_all(&f.pool)
    .await
    .expect("dead letters");
    assert_eq!(letters.len(), 3, "{letters:?}");
    assert!(letters[0].0.contains("bad envelope") && letters[0].0.contains("ce_specversion"), "{letters:?}");
    assert!(letters[1].0.contains("does not decode"), "{letters:?}");
    assert_eq!(letters[1].2.as_deref(), Some(SuggestionSubmitted::TYPE));
    assert!(letters[2].0.contains("every time"), "{letters:?}");
    assert_eq!(letters[2].1, 3, "retried up to max_attempts");
    assert_eq!(f.effects_of("s-c-fails").await, 0);
    assert_eq!(f.effects_of("s-c-good").await, 1);
}
