//! The walking skeleton, end to end over real sockets: a deputy submits a suggestion over
//! HTTP → suggestion service + outbox → relay → `renda.<county>.suggestion` → notification
//! service (inbox) puts an item in the county staff's inbox, read over HTTP; the deputy
//! service records the duty activity. Another county's token sees neither.

use std::time::{Duration, Instant};

use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message};
use renda_platform::testing;
use renda_proto::suggestion::v1::SuggestionSubmitted;
use renda_tests::{PROCESSES, Stack};

mod common;
use common::Client;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

const DEQING: &str = "330521";
const YIWU: &str = "330782";

fn suggestion(title: &str) -> Value {
    json!({
        "kind": "suggestion",
        "title": title,
        "content": "部分村庄污水处理设施缺少日常维护，建议建立长效管护机制并公开维护记录。",
        "category": "环保",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_suggestion_reaches_the_staff_inbox_and_the_deputys_duty_record() {
    let stack = Stack::start(&[DEQING, YIWU]).await.expect("stack starts");
    let client = Client::new(&stack.gateway_url);

    // Every gRPC process answers grpc.health.v1 as SERVING.
    for (name, service) in PROCESSES {
        let Some(service) = service else { continue };
        let port = stack.process(name).port;
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("url")
            .connect()
            .await
            .expect("connect");
        let mut health = HealthClient::new(channel);
        for service in ["", *service] {
            let status = health
                .check(HealthCheckRequest { service: service.to_owned() })
                .await
                .expect("health check")
                .into_inner()
                .status;
            assert_eq!(status, ServingStatus::Serving as i32, "{name} {service:?}");
        }
    }

    // Reflection lists the service; the admin port exposes Prometheus metrics.
    let port = stack.process("suggestion").port;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers =
        reflection.server_reflection_info(tokio_stream::iter([request])).await.expect("reflection").into_inner();
    let answer = answers.message().await.expect("answer").expect("one answer");
    let Some(MessageResponse::ListServicesResponse(listed)) = answer.message_response else {
        panic!("not a service list: {answer:?}")
    };
    let names: Vec<&str> = listed.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"renda.suggestion.v1.SuggestionService"), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");

    let deputy = client.login("deputy-330521").await;
    let staff = client.login("staff-330521").await;
    let other_staff = client.login("staff-330782").await;
    let other_deputy = client.login("deputy-330782").await;

    // The deputy submits; a retry with the same key returns the same suggestion.
    let key = uuid::Uuid::now_v7().to_string();
    let (status, created) =
        client.submit(&deputy, DEQING, Some(&key), suggestion("关于农村污水处理设施维护的建议")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(created["number"].as_str().expect("number").starts_with("德清〔"), "{created}");
    assert_eq!(created["state"], "submitted");
    assert_eq!(created["deputy_name"], "沈建国");
    let (status, retried) =
        client.submit(&deputy, DEQING, Some(&key), suggestion("关于农村污水处理设施维护的建议")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(retried["id"], created["id"], "a retried submit does not submit twice");

    // The county's staff finds it in the inbox; the deputy in the duty record.
    let item =
        client.await_item(&staff, &format!("/v1/counties/{DEQING}/inbox"), |i| i["subject_id"] == id.as_str()).await;
    assert_eq!(item["recipient"], "role:staff");
    assert!(item["title"].as_str().expect("title").contains(created["number"].as_str().expect("number")));
    let activity = client
        .await_item(&deputy, &format!("/v1/counties/{DEQING}/deputies/me/activities"), |a| {
            a["reference_id"] == id.as_str()
        })
        .await;
    assert_eq!(activity["kind"], "suggestion_submitted");
    let (status, staff_view) = client.get(&staff, &format!("/v1/counties/{DEQING}/suggestions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(staff_view["id"], id.as_str());

    // (d) Another county's token sees neither the item nor the suggestion.
    let (status, body) = client.get(&other_staff, &format!("/v1/counties/{DEQING}/inbox")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "permission_denied");
    let (status, body) = client.get(&other_staff, &format!("/v1/counties/{YIWU}/inbox")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["items"].as_array().expect("items").iter().all(|i| i["subject_id"] != id.as_str()), "{body}");
    let (status, _) = client.get(&other_deputy, &format!("/v1/counties/{DEQING}/suggestions/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = client.get(&other_staff, &format!("/v1/counties/{YIWU}/suggestions/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an id of another county is not found in this one");
    // A forged county claim does not help: the service checks the token again.
    let forged = testing::token("x", "x", &[renda_platform::auth::Role::Staff], &[YIWU], None);
    let (status, _) = client.get(&forged, &format!("/v1/counties/{DEQING}/inbox")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad input gets a 4xx that names what was wrong.
    let (status, body) = client
        .submit(&deputy, DEQING, None, json!({"kind": "suggestion", "title": " ", "content": "", "category": "环保"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(fields, ["title", "content"]);
    let (status, body) =
        client.submit(&deputy, DEQING, None, json!({"kind": "petition", "title": "t", "content": "c"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["fields"][0]["field"], "kind");
    let (status, body) = client.submit(&deputy, "999999", None, suggestion("t")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["fields"][0]["field"], "county");
    let (status, body) = client.submit(&staff, DEQING, None, suggestion("t")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "staff do not submit as deputies: {body}");
    let (status, _) = client.submit("not-a-token", DEQING, None, suggestion("t")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let raw = client
        .http
        .post(format!("{}/v1/counties/{DEQING}/suggestions", client.base))
        .bearer_auth(&deputy)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let (status, _) = client.get(&staff, "/v1/counties/330521/suggestions?page_size=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // An outside subscriber of the topic sees a CloudEvent with a protobuf payload.
    let event = read_event(&format!("renda.{DEQING}.suggestion"), &id).await;
    assert_eq!(event.0.get("ce_specversion").map(String::as_str), Some("1.0"));
    assert_eq!(event.0.get("ce_type").map(String::as_str), Some("renda.suggestion.v1.SuggestionSubmitted"));
    assert_eq!(event.0.get("ce_source").map(String::as_str), Some("/renda/330521/suggestion"));
    assert_eq!(event.0.get("ce_county").map(String::as_str), Some(DEQING));
    assert_eq!(event.0.get("content-type").map(String::as_str), Some("application/protobuf"));
    assert!(event.0.get("traceparent").is_some_and(|tp| tp.starts_with("00-")));
    assert_eq!(event.1.title, "关于农村污水处理设施维护的建议");

    // The relay's work shows on the admin port's metrics.
    let metrics = client
        .http
        .get(format!("http://127.0.0.1:{}/metrics", stack.process("suggestion").admin_port))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("renda_outbox_published_total"), "{metrics}");

    // SIGTERM: every process drains and exits 0.
    for (name, code) in stack.terminate().await.expect("terminate") {
        assert_eq!(code, Some(0), "renda-{name} exit code");
    }
}

/// Reads the topic from the start as an outside subscriber would and returns the headers
/// and decoded payload of the event whose subject is `subject`.
async fn read_event(topic: &str, subject: &str) -> (std::collections::HashMap<String, String>, SuggestionSubmitted) {
    let (topic, subject) = (topic.to_owned(), subject.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", testing::brokers())
            .set("group.id", testing::unique_name("outsider"))
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        consumer.subscribe(&[&topic]).expect("subscribe");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) else { continue };
            let headers: std::collections::HashMap<String, String> = message
                .headers()
                .map(|h| {
                    h.iter()
                        .filter_map(|h| Some((h.key.to_owned(), String::from_utf8(h.value?.to_vec()).ok()?)))
                        .collect()
                })
                .unwrap_or_default();
            if headers.get("ce_subject") == Some(&subject) {
                let payload = SuggestionSubmitted::decode(message.payload().unwrap_or_default()).expect("protobuf");
                return (headers, payload);
            }
        }
        panic!("no event about {subject} on {topic}");
    })
    .await
    .expect("reader")
}

#[tokio::test]
async fn a_bad_configuration_exits_at_once_naming_the_variable() {
    let output = tokio::process::Command::new(renda_tests::binary("suggestion").expect("built"))
        .env_clear()
        .env("RENDA_JWT_HS256_SECRET", testing::SECRET)
        .env("RENDA_GRPC_ADDR", "not-an-address")
        .output()
        .await
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("RENDA_GRPC_ADDR"), "{stderr}");
    let output = tokio::process::Command::new(renda_tests::binary("gateway").expect("built"))
        .env_clear()
        .output()
        .await
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("RENDA_JWT_HS256_SECRET"));
}
