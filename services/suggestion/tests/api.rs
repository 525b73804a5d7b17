//! The suggestion service over real gRPC against a real PostgreSQL database.

mod common;

use common::*;
use renda_platform::auth::Role;
use renda_platform::testing;
use renda_proto::common::v1::PageRequest;
use renda_proto::suggestion::v1 as pb;
use tonic::{Code, Request};
use tonic_types::StatusExt;

#[tokio::test]
async fn submissions_are_numbered_per_county_and_year_and_announced_through_the_outbox() {
    let mut app = spawn_app().await;
    let token = deputy("d1", "330521");
    let first = app
        .client
        .create_suggestion(with_token(submission("330521", "一", ""), &token))
        .await
        .expect("ok")
        .into_inner();
    let second = app
        .client
        .create_suggestion(with_token(submission("330521", "二", ""), &token))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(first.number, "德清〔2026〕第0001号");
    assert_eq!(second.number, "德清〔2026〕第0002号");
    assert_eq!(first.deputy_name, "代表d1");

    let yiwu = app
        .client
        .create_suggestion(with_token(submission("330782", "三", ""), &deputy("d2", "330782")))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(yiwu.number, "义乌〔2026〕第0001号", "each county counts on its own");

    // Just after midnight on 1 January in China (still 31 December in UTC) a new year starts.
    app.clock.set(at("2026-12-31T16:30:00Z"));
    let new_year = app
        .client
        .create_suggestion(with_token(submission("330521", "四", ""), &token))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(new_year.number, "德清〔2027〕第0001号");

    let events: Vec<(String, String, String)> =
        sqlx::query_as("SELECT topic, event_type, message_key FROM outbox ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .expect("outbox");
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0],
        ("renda.330521.suggestion".into(), "renda.suggestion.v1.SuggestionSubmitted".into(), first.id.clone())
    );
    assert_eq!(events[2].0, "renda.330782.suggestion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_get_distinct_numbers_without_gaps() {
    let app = spawn_app().await;
    let token = deputy("d1", "330523");
    let submits = (0..12).map(|i| {
        let mut client = app.client.clone();
        let token = token.clone();
        async move {
            client
                .create_suggestion(with_token(submission("330523", &format!("建议{i}"), ""), &token))
                .await
                .expect("ok")
                .into_inner()
        }
    });
    let mut numbers: Vec<String> = futures_join(submits).await.into_iter().map(|s| s.number).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=12).map(|n| format!("安吉〔2026〕第{n:04}号")).collect();
    assert_eq!(numbers, expected);
}

/// Runs the futures at once, each on its own task.
async fn futures_join<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn a_retried_submission_returns_the_first_and_a_reused_key_is_refused() {
    let mut app = spawn_app().await;
    let token = deputy("d1", "330521");
    let first = app
        .client
        .create_suggestion(with_token(submission("330521", "标题", "key-1"), &token))
        .await
        .expect("ok")
        .into_inner();
    let again = app
        .client
        .create_suggestion(with_token(submission("330521", "标题", "key-1"), &token))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(first.id, again.id);
    let reused = app
        .client
        .create_suggestion(with_token(submission("330521", "另一个标题", "key-1"), &token))
        .await
        .expect_err("refused");
    assert_eq!(reused.code(), Code::AlreadyExists);
    // Another deputy may use the same key for their own suggestion.
    let other = app
        .client
        .create_suggestion(with_token(submission("330521", "标题", "key-1"), &deputy("d2", "330521")))
        .await
        .expect("ok")
        .into_inner();
    assert_ne!(other.id, first.id);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM suggestions").fetch_one(&app.pool).await.expect("count");
    assert_eq!(count, 2);
}

#[tokio::test]
async fn bad_requests_name_the_field_and_scope_is_enforced() {
    let mut app = spawn_app().await;
    let token = deputy("d1", "330521");
    let mut bad = submission("330521", "", "");
    bad.content = "长".repeat(10_001);
    bad.kind = pb::SuggestionKind::Unspecified as i32;
    let status = app.client.create_suggestion(with_token(bad, &token)).await.expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> =
        status.get_details_bad_request().expect("details").field_violations.into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["kind", "title", "content"]);

    let status = app
        .client
        .create_suggestion(with_token(submission("330782", "t", ""), &token))
        .await
        .expect_err("other county");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status =
        app.client.create_suggestion(with_token(submission("3305", "t", ""), &token)).await.expect_err("bad county");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = app.client.create_suggestion(Request::new(submission("330521", "t", ""))).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = app
        .client
        .create_suggestion(with_token(submission("330521", "t", ""), &staff("330521")))
        .await
        .expect_err("staff");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = app
        .client
        .get_suggestion(with_token(pb::GetSuggestionRequest { county: "330521".into(), id: "nope".into() }, &token))
        .await
        .expect_err("bad id");
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn deputies_see_their_own_staff_see_the_county_and_lists_page() {
    let mut app = spawn_app().await;
    let (d1, d2) = (deputy("d1", "330110"), deputy("d2", "330110"));
    let mut mine = Vec::new();
    for i in 0..3 {
        mine.push(
            app.client
                .create_suggestion(with_token(submission("330110", &format!("d1-{i}"), ""), &d1))
                .await
                .expect("ok")
                .into_inner(),
        );
    }
    let theirs =
        app.client.create_suggestion(with_token(submission("330110", "d2", ""), &d2)).await.expect("ok").into_inner();

    let get =
        |id: &str, token: &str| with_token(pb::GetSuggestionRequest { county: "330110".into(), id: id.into() }, token);
    assert_eq!(app.client.get_suggestion(get(&theirs.id, &d1)).await.expect_err("not theirs").code(), Code::NotFound);
    assert_eq!(
        app.client.get_suggestion(get(&theirs.id, &staff("330110"))).await.expect("staff").into_inner().id,
        theirs.id
    );

    let list = |token: &str, page_token: &str| {
        with_token(
            pb::ListSuggestionsRequest {
                county: "330110".into(),
                page: Some(PageRequest { page_size: 2, page_token: page_token.into() }),
                ..Default::default()
            },
            token,
        )
    };
    let page1 = app.client.list_suggestions(list(&d1, "")).await.expect("list").into_inner();
    assert_eq!(page1.suggestions.iter().map(|s| s.title.as_str()).collect::<Vec<_>>(), ["d1-2", "d1-1"]);
    assert!(!page1.next_page_token.is_empty());
    let page2 = app.client.list_suggestions(list(&d1, &page1.next_page_token)).await.expect("list").into_inner();
    assert_eq!(page2.suggestions.iter().map(|s| s.title.as_str()).collect::<Vec<_>>(), ["d1-0"]);
    assert!(page2.next_page_token.is_empty());
    let all = app.client.list_suggestions(list(&staff("330110"), "")).await.expect("list").into_inner();
    assert_eq!(all.suggestions[0].id, theirs.id, "staff see every deputy's, newest first");
    let agency = testing::token("a1", "环保局", &[Role::Agency], &["330110"], Some("330110-hbj"));
    assert!(app.client.list_suggestions(list(&agency, "")).await.expect("list").into_inner().suggestions.is_empty());
}
