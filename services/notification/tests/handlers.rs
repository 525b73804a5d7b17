//! The suggestion-event handler against a real PostgreSQL database: which inbox items and
//! `InboxItemCreated` events each fact leaves behind, exactly once.

use std::collections::BTreeSet;

use prost::Message;
use renda_notification::domain;
use renda_notification::events::SuggestionEvents;
use renda_notification::store;
use renda_platform::auth::{Caller, Role};
use renda_platform::consumer::{Handler, HandlerError};
use renda_platform::counties::CountyCode;
use renda_platform::envelope::{self, Envelope};
use renda_platform::page::Page;
use renda_platform::{db, testing};
use renda_proto::EventType;
use renda_proto::notification::v1::InboxItemCreated;
use renda_proto::suggestion::v1::{
    Deadline, EscalationStage, ProgressReported, SuggestionAssigned, SuggestionClosed, SuggestionEscalated,
    SuggestionKind, SuggestionMarkedKey, SuggestionRef, SuggestionRegistered, SuggestionSubmitted,
};
use sqlx::PgPool;

const COUNTY: &str = "330521";
const NUMBER: &str = "德清〔2026〕第0001号";
const HBJ: &str = "330521-hbj";
const ZJJ: &str = "330521-zjj";

async fn database() -> PgPool {
    renda_platform::telemetry::init_for_tests();
    db::connect_and_migrate(
        &testing::pg_url(),
        &testing::unique_name("test_notification"),
        &renda_notification::MIGRATIONS,
    )
    .await
    .expect("database")
}

fn suggestion(id: &str) -> Option<SuggestionRef> {
    Some(SuggestionRef {
        suggestion_id: id.into(),
        county: COUNTY.into(),
        number: NUMBER.into(),
        title: "农村污水处理设施维护".into(),
        kind: SuggestionKind::Suggestion as i32,
        category: "环保".into(),
        deputy_id: "d-1".into(),
        deputy_name: "沈建国".into(),
        co_signers: vec!["d-2".into(), "d-3".into()],
        key: false,
        version: 1,
        ..Default::default()
    })
}

/// The event as the consumer hands it over: a fresh `ce_id`, headers for `ce_county`.
fn envelope<E: EventType>(subject: &str, ce_county: &str, event: &E) -> Envelope {
    Envelope {
        id: uuid::Uuid::now_v7().to_string(),
        source: envelope::source(ce_county, "suggestion"),
        event_type: E::TYPE.to_owned(),
        time: chrono::Utc::now(),
        subject: subject.to_owned(),
        county: ce_county.to_owned(),
        traceparent: None,
        payload: event.encode_to_vec(),
    }
}

/// Handles the event in a transaction that commits only when the handler succeeds.
async fn apply(pool: &PgPool, event: &Envelope) -> Result<(), HandlerError> {
    let mut tx = pool.begin().await.expect("begin");
    let result = SuggestionEvents.handle(&mut tx, event).await;
    if result.is_ok() {
        tx.commit().await.expect("commit");
    }
    result
}

/// Recipients of the items `event` produced, with their titles.
async fn items_of(pool: &PgPool, event: &Envelope) -> Vec<(String, String)> {
    sqlx::query_as("SELECT recipient, title FROM inbox_items WHERE source_event_id = $1 ORDER BY recipient")
        .bind(&event.id)
        .fetch_all(pool)
        .await
        .expect("items")
}

async fn recipients_of(pool: &PgPool, event: &Envelope) -> BTreeSet<String> {
    items_of(pool, event).await.into_iter().map(|(r, _)| r).collect()
}

fn set(recipients: &[&str]) -> BTreeSet<String> {
    recipients.iter().map(|r| (*r).to_owned()).collect()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect("count")
}

#[tokio::test]
async fn an_assignment_fills_the_inboxes_once_and_announces_each_item() {
    let pool = database().await;
    let assigned = envelope(
        "s-1",
        COUNTY,
        &SuggestionAssigned {
            suggestion: suggestion("s-1"),
            lead_agency: HBJ.into(),
            lead_agency_name: "县环保局".into(),
            co_agencies: vec![ZJJ.into()],
            deadline: Some(Deadline { due_date: "2026-06-30".into(), ..Default::default() }),
            round: 1,
            ..Default::default()
        },
    );
    apply(&pool, &assigned).await.expect("applies");

    let items = items_of(&pool, &assigned).await;
    assert_eq!(
        items.iter().map(|(r, _)| r.clone()).collect::<BTreeSet<_>>(),
        set(&["agency:330521-hbj", "agency:330521-zjj", "user:d-1", "user:d-2", "user:d-3"])
    );
    assert!(items.iter().all(|(_, title)| title.contains(NUMBER)), "{items:?}");
    let announced: Vec<Vec<u8>> = sqlx::query_scalar("SELECT payload FROM outbox WHERE event_type = $1")
        .bind(InboxItemCreated::TYPE)
        .fetch_all(&pool)
        .await
        .expect("outbox");
    assert_eq!(announced.len(), 5);
    let announced: BTreeSet<String> = announced
        .iter()
        .map(|p| InboxItemCreated::decode(p.as_slice()).expect("decodes"))
        .inspect(|e| assert_eq!(e.county, COUNTY))
        .map(|e| e.recipient)
        .collect();
    assert_eq!(announced, items.iter().map(|(r, _)| r.clone()).collect());

    // The same event again (a redelivery past the inbox) changes nothing.
    apply(&pool, &assigned).await.expect("applies again");
    assert_eq!(count(&pool, "SELECT count(*) FROM inbox_items").await, 5);
    assert_eq!(count(&pool, "SELECT count(*) FROM outbox").await, 5);
}

#[tokio::test]
async fn a_suggestion_s_path_reaches_the_right_inboxes() {
    let pool = database().await;
    let id = "s-2";
    let submitted = envelope(
        id,
        COUNTY,
        &SuggestionSubmitted {
            suggestion_id: id.into(),
            county: COUNTY.into(),
            number: NUMBER.into(),
            title: "农村污水处理设施维护".into(),
            deputy_id: "d-1".into(),
            deputy_name: "沈建国".into(),
            ..Default::default()
        },
    );
    apply(&pool, &submitted).await.expect("submitted");
    assert_eq!(recipients_of(&pool, &submitted).await, set(&["role:staff"]));

    let registered = envelope(id, COUNTY, &SuggestionRegistered { suggestion: suggestion(id), ..Default::default() });
    apply(&pool, &registered).await.expect("registered");
    assert_eq!(recipients_of(&pool, &registered).await, set(&["user:d-1", "user:d-2", "user:d-3"]));

    // Before any assignment the 重点督办 flag has nobody to tell.
    let early_key =
        envelope(id, COUNTY, &SuggestionMarkedKey { suggestion: suggestion(id), key: true, ..Default::default() });
    apply(&pool, &early_key).await.expect("marked key");
    assert!(recipients_of(&pool, &early_key).await.is_empty());

    // From the assignment on, every event names the lead agency in its SuggestionRef.
    let assigned_ref = suggestion(id).map(|s| SuggestionRef {
        version: 2,
        lead_agency: HBJ.into(),
        lead_agency_name: "县环保局".into(),
        ..s
    });
    let v2 = assigned_ref.clone();
    let assigned = envelope(
        id,
        COUNTY,
        &SuggestionAssigned {
            suggestion: v2,
            lead_agency: HBJ.into(),
            lead_agency_name: "县环保局".into(),
            co_agencies: vec![ZJJ.into()],
            round: 1,
            ..Default::default()
        },
    );
    apply(&pool, &assigned).await.expect("assigned");

    // A co-agency's opinion goes to the lead its SuggestionRef names.
    let opinion = envelope(
        id,
        COUNTY,
        &ProgressReported {
            suggestion: assigned_ref.clone(),
            agency: ZJJ.into(),
            text: "建议结合美丽乡村建设统筹安排".into(),
            co_agency_opinion: true,
            ..Default::default()
        },
    );
    apply(&pool, &opinion).await.expect("opinion");
    assert_eq!(recipients_of(&pool, &opinion).await, set(&["agency:330521-hbj"]));

    let key = envelope(
        id,
        COUNTY,
        &SuggestionMarkedKey { suggestion: assigned_ref.clone(), key: true, ..Default::default() },
    );
    apply(&pool, &key).await.expect("marked key");
    assert_eq!(recipients_of(&pool, &key).await, set(&["agency:330521-hbj"]));

    let supervised = envelope(
        id,
        COUNTY,
        &SuggestionEscalated {
            suggestion: suggestion(id),
            agency: HBJ.into(),
            stage: EscalationStage::Supervise as i32,
            due_date: "2026-06-30".into(),
            days_overdue: 30,
            ..Default::default()
        },
    );
    apply(&pool, &supervised).await.expect("escalated");
    assert_eq!(recipients_of(&pool, &supervised).await, set(&["agency-head:330521-hbj", "role:staff"]));

    let closed = envelope(id, COUNTY, &SuggestionClosed { suggestion: suggestion(id), ..Default::default() });
    apply(&pool, &closed).await.expect("closed");
    assert_eq!(recipients_of(&pool, &closed).await, set(&["user:d-1", "user:d-2", "user:d-3"]));

    let items = count(&pool, "SELECT count(*) FROM inbox_items").await;
    assert_eq!(items, 1 + 3 + 5 + 1 + 1 + 2 + 3);
    assert_eq!(count(&pool, "SELECT count(*) FROM outbox").await, items);
}

#[tokio::test]
async fn an_event_that_breaks_the_contract_is_permanent_and_leaves_nothing() {
    let pool = database().await;
    let registered = SuggestionRegistered { suggestion: suggestion("s-3"), ..Default::default() };

    // Payload of 德清, published for 义乌.
    let mismatch = envelope("s-3", "330782", &registered);
    assert!(matches!(apply(&pool, &mismatch).await, Err(HandlerError::Permanent(_))));

    let mut garbage = envelope("s-3", COUNTY, &registered);
    garbage.payload = vec![0xff, 0xff, 0xff];
    assert!(matches!(apply(&pool, &garbage).await, Err(HandlerError::Permanent(_))));

    let no_suggestion = envelope("s-3", COUNTY, &SuggestionRegistered::default());
    assert!(matches!(apply(&pool, &no_suggestion).await, Err(HandlerError::Permanent(_))));

    let bad_county = envelope("s-3", "nowhere", &registered);
    assert!(matches!(apply(&pool, &bad_county).await, Err(HandlerError::Permanent(_))));

    assert_eq!(count(&pool, "SELECT count(*) FROM inbox_items").await, 0);
    assert_eq!(count(&pool, "SELECT count(*) FROM outbox").await, 0);
}

#[test]
fn the_handler_wants_every_suggestion_event_and_nothing_else() {
    for t in domain::SuggestionEvent::TYPES {
        assert!(SuggestionEvents.wants(t), "{t}");
    }
    assert!(SuggestionEvents.wants(SuggestionEscalated::TYPE));
    assert!(!SuggestionEvents.wants(InboxItemCreated::TYPE));
    assert!(!SuggestionEvents.wants("renda.deputy.v1.DutyActivityRecorded"));
}

fn agency_user(sub: &str, agency: &str, role: Role) -> Caller {
    Caller {
        id: sub.to_owned(),
        name: String::new(),
        roles: [role].into_iter().collect(),
        counties: [COUNTY.to_owned()].into_iter().collect(),
        agency: Some(agency.to_owned()),
        token: String::new(),
    }
}

#[tokio::test]
async fn an_agency_s_items_are_listed_for_its_users_and_its_head_s_for_the_head() {
    let pool = database().await;
    let assigned = envelope(
        "s-4",
        COUNTY,
        &SuggestionAssigned { suggestion: suggestion("s-4"), lead_agency: HBJ.into(), round: 1, ..Default::default() },
    );
    apply(&pool, &assigned).await.expect("assigned");

    let county: CountyCode = COUNTY.parse().expect("county");
    let page = Page::parse(None).expect("page");
    let list = |caller: Caller| {
        let pool = pool.clone();
        let county = county.clone();
        async move { store::list(&pool, &county, &caller.recipients(), &page).await.expect("list") }
    };
    let mine = list(agency_user("u-hbj", HBJ, Role::Agency)).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].recipient, "agency:330521-hbj");
    assert!(mine[0].title.contains(NUMBER));
    assert!(list(agency_user("u-zjj", ZJJ, Role::Agency)).await.is_empty());

    let urged = envelope(
        "s-4",
        COUNTY,
        &SuggestionEscalated {
            suggestion: suggestion("s-4"),
            agency: HBJ.into(),
            stage: EscalationStage::Urge as i32,
            ..Default::default()
        },
    );
    apply(&pool, &urged).await.expect("urged");
    let head = list(agency_user("u-head", HBJ, Role::AgencyHead)).await;
    assert_eq!(
        head.iter().map(|i| i.recipient.as_str()).collect::<Vec<_>>(),
        ["agency-head:330521-hbj", "agency:330521-hbj"]
    );
    assert_eq!(list(agency_user("u-hbj", HBJ, Role::Agency)).await.len(), 1, "催办 is for the head only");
    assert!(list(agency_user("u-head2", ZJJ, Role::AgencyHead)).await.is_empty());
}
