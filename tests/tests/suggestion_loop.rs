//! The closed loop end to end through the gateway, as the three kinds of users drive it:
//! the deputy app submits and evaluates, congress staff on the PC register and assign,
//! the agency on the PC accepts, reports progress and replies; each learns of their turn
//! from their inbox, filled by the notification service from the suggestion events.

mod common;

use common::Client;
use renda_tests::Stack;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEQING: &str = "330521";
const YIWU: &str = "330782";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deputy_staff_and_agency_close_the_loop_through_the_gateway() {
    let stack = Stack::start(&[DEQING, YIWU]).await.expect("stack starts");
    let client = Client::new(&stack.gateway_url);
    let deputy = client.login("deputy-330521").await;
    let staff = client.login("staff-330521").await;
    let agency = client.login("agency-330521").await; // 德清县生态环境局, 330521-hbj
    let other_agency = client.login("agency-330782").await;
    let base = format!("/v1/counties/{DEQING}");

    // Staff register the county's agency.
    let (status, body) = client
        .put(&staff, &format!("{base}/agencies/330521-hbj"), json!({"name": "德清县生态环境局", "active": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) =
        client.put(&deputy, &format!("{base}/agencies/330521-x"), json!({"name": "x", "active": true})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "deputies do not configure agencies");

    // 1. The deputy submits.
    let (status, s) = client
        .submit(
            &deputy,
            DEQING,
            Some("loop-1"),
            json!({"kind": "suggestion", "title": "关于农村污水处理设施维护的建议", "content": "部分终端缺少维护。", "category": "生态环境"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    let id = s["id"].as_str().expect("id").to_owned();
    let path = |action: &str| format!("{base}/suggestions/{id}/{action}");

    // 2. Staff learn of it from the inbox, register it and assign it to the bureau.
    client.await_item(&staff, &format!("{base}/inbox"), |i| i["subject_id"] == id.as_str()).await;
    let (status, s) = client.post(&staff, &path("register"), json!({})).await;
    assert_eq!((status, s["state"].as_str()), (StatusCode::OK, Some("registered")), "{s}");
    let (status, body) = client.post(&staff, &path("assign"), json!({"lead_agency": "330521-nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "lead_agency");
    let version = s["version"].as_i64().expect("version");
    let (status, s) =
        client.post(&staff, &path("assign"), json!({"lead_agency": "330521-hbj", "expected_version": version})).await;
    assert_eq!((status, s["state"].as_str()), (StatusCode::OK, Some("assigned")), "{s}");
    assert!(s["assignment"]["deadline"]["due_date"].as_str().is_some_and(|d| d.len() == 10), "{s}");
    let (status, body) =
        client.post(&staff, &path("assign"), json!({"lead_agency": "330521-hbj", "expected_version": version})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a stale version loses: {body}");

    // 3. The agency finds it in its inbox, accepts, reports progress with a photo, replies.
    let item = client.await_item(&agency, &format!("{base}/inbox"), |i| i["subject_id"] == id.as_str()).await;
    assert_eq!(item["recipient"], "agency:330521-hbj");
    let (status, s) = client.get(&agency, &format!("{base}/suggestions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["allowed_actions"], json!(["accept", "return"]));
    let (status, _) = client.post(&deputy, &path("accept"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the lead agency accepts");
    let (status, _) = client.post(&agency, &path("accept"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, s) = client
        .post(&agency, &path("progress"), json!({"text": "已完成现场勘查", "attachments": ["files/site-1.jpg"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let (status, body) = client.post(&agency, &path("reply"), json!({"result": "a", "content": "已完成维护"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the deputy must be contacted first: {body}");
    let (status, s) = client
        .post(
            &agency,
            &path("reply"),
            json!({"result": "a", "content": "已完成维护并建立长效机制", "contacted_deputy": true}),
        )
        .await;
    assert_eq!((status, s["state"].as_str()), (StatusCode::OK, Some("replied")), "{s}");

    // The other county's agency sees none of it.
    let (status, _) = client.get(&other_agency, &format!("{base}/suggestions/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // 4. The deputy is told of the reply and rates it; the suggestion closes.
    client
        .await_item(&deputy, &format!("{base}/inbox"), |i| {
            i["subject_id"] == id.as_str() && i["source_type"] == "renda.suggestion.v1.SuggestionReplied"
        })
        .await;
    let (status, s) = client.post(&deputy, &path("evaluation"), json!({"satisfaction": "satisfied"})).await;
    assert_eq!((status, s["state"].as_str()), (StatusCode::OK, Some("closed")), "{s}");
    let (status, body) = client.post(&agency, &path("accept"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "failed_precondition");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("closed")), "{body}");

    // 5. The county sees it in the statistics, and the audit chain verifies.
    let (status, stats) = client.get(&staff, &format!("{base}/statistics")).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["satisfaction_rate"], json!(1.0));
    assert_eq!(stats["on_time_rate"], json!(1.0));
    let (status, audit) = client.get(&deputy, &format!("{base}/suggestions/{id}/audit")).await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<&str> =
        audit["items"].as_array().map_or_else(Vec::new, |a| a.iter().filter_map(|e| e["action"].as_str()).collect());
    assert_eq!(actions, ["submit", "register", "assign", "accept", "report_progress", "reply", "evaluate"], "{audit}");
    let (status, verified) = client.get(&staff, &format!("{base}/audit/verification")).await;
    assert_eq!((status, &verified["intact"]), (StatusCode::OK, &Value::Bool(true)), "{verified}");

    for (name, code) in stack.terminate().await.expect("terminate") {
        assert_eq!(code, Some(0), "renda-{name} exit code");
    }
}
