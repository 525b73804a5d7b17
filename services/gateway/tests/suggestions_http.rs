//! The suggestion routes end to end through the gateway's router, against an in-process fake
//! `SuggestionService` that records what it was asked: HTTP/JSON in, the right RPC with the
//! right message and the caller's token, JSON and the right status out.

use std::any::Any;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use renda_gateway::config::Upstreams;
use renda_gateway::ratelimit::RateLimiter;
use renda_gateway::{AppState, Clients, router};
use renda_platform::auth::{Claims, Issuer, Role, Verifier};
use renda_platform::config::JwtKey;
use renda_proto::suggestion::v1 as pb;
use renda_proto::suggestion::v1::suggestion_service_server::{SuggestionService, SuggestionServiceServer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request as GrpcRequest, Response, Status};
use tower::ServiceExt;

const SECRET: &str = "a-test-secret-of-32-characters!!";
const DEQING: &str = "330521";
const ID: &str = "0195832e-6a1c-7d4b-8f3e-2c9a51b7e640";

struct Call {
    rpc: &'static str,
    authorization: Option<String>,
    message: Box<dyn Any + Send>,
}

#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<Call>>,
}

impl Fake {
    fn record<T: Any + Send + Clone>(&self, rpc: &'static str, request: &GrpcRequest<T>) {
        let authorization = request.metadata().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let call = Call { rpc, authorization, message: Box::new(request.get_ref().clone()) };
        self.calls.lock().expect("lock").push(call);
    }

    /// The only call since the last `take`, as the message type of `rpc`.
    fn take<T: Any>(&self, rpc: &str) -> T {
        let mut calls = self.calls.lock().expect("lock");
        let names: Vec<&str> = calls.iter().map(|c| c.rpc).collect();
        assert_eq!(names, [rpc], "calls");
        let call = calls.remove(0);
        assert_eq!(call.authorization.as_deref().map(|a| a.starts_with("Bearer ey")), Some(true), "token forwarded");
        *call.message.downcast::<T>().unwrap_or_else(|_| panic!("{rpc}: not the expected message type"))
    }

    fn nothing_called(&self) -> bool {
        self.calls.lock().expect("lock").is_empty()
    }
}

/// The suggestion the fake answers for `id`; `stale` and `illegal` fail as the service would.
fn suggestion(id: &str) -> Result<pb::Suggestion, Status> {
    match id {
        "stale" => Err(Status::aborted("suggestion changed since version 3; reload it")),
        "illegal" => Err(Status::failed_precondition("cannot reply: the suggestion is registered")),
        _ => Ok(pb::Suggestion {
            id: id.to_owned(),
            county: DEQING.into(),
            number: "德清〔2026〕第0001号".into(),
            kind: pb::SuggestionKind::Suggestion as i32,
            state: pb::SuggestionState::InProgress as i32,
            title: "关于加快农村生活污水处理设施提标改造的建议".into(),
            version: 4,
            allowed_actions: vec!["report_progress".into(), "reply".into()],
            ..Default::default()
        }),
    }
}

macro_rules! fake {
    ($($rpc:ident($req:ty) -> $resp:ty = $answer:expr;)*) => {
        #[tonic::async_trait]
        impl SuggestionService for Fake {
            $(
                async fn $rpc(&self, request: GrpcRequest<$req>) -> Result<Response<$resp>, Status> {
                    self.record(stringify!($rpc), &request);
                    let answer: fn($req) -> Result<$resp, Status> = $answer;
                    answer(request.into_inner()).map(Response::new)
                }
            )*
        }
    };
}

fake! {
    create_suggestion(pb::CreateSuggestionRequest) -> pb::Suggestion = |m| suggestion(&m.request_id);
    submit_draft(pb::SuggestionAction) -> pb::Suggestion = |m| suggestion(&m.id);
    update_draft(pb::UpdateDraftRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    get_suggestion(pb::GetSuggestionRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    list_suggestions(pb::ListSuggestionsRequest) -> pb::ListSuggestionsResponse = |_| Ok(pb::ListSuggestionsResponse {
        suggestions: vec![suggestion(ID)?],
        next_page_token: "next".into(),
    });
    register(pb::SuggestionAction) -> pb::Suggestion = |m| suggestion(&m.id);
    refuse_registration(pb::ReasonRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    assign(pb::AssignRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    accept(pb::SuggestionAction) -> pb::Suggestion = |m| suggestion(&m.id);
    return_assignment(pb::ReasonRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    report_progress(pb::ReportProgressRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    submit_co_agency_opinion(pb::ReportProgressRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    request_extension(pb::RequestExtensionRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    decide_extension(pb::DecideExtensionRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    reply(pb::ReplyRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    evaluate(pb::EvaluateRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    merge(pb::MergeRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    mark_key(pb::MarkKeyRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    close(pb::ReasonRequest) -> pb::Suggestion = |m| suggestion(&m.id);
    list_audit(pb::ListAuditRequest) -> pb::ListAuditResponse = |m| Ok(pb::ListAuditResponse {
        entries: vec![pb::AuditEntry {
            seq: 1,
            suggestion_id: m.suggestion_id,
            action: "submit".into(),
            to_state: "submitted".into(),
            detail: r#"{"number":"德清〔2026〕第0001号"}"#.into(),
            ..Default::default()
        }],
        next_page_token: String::new(),
    });
    verify_audit(pb::VerifyAuditRequest) -> pb::VerifyAuditResponse = |_| Ok(pb::VerifyAuditResponse {
        intact: true,
        entries_checked: 12,
        ..Default::default()
    });
    get_statistics(pb::GetStatisticsRequest) -> pb::Statistics = |m| Ok(pb::Statistics {
        county: m.county,
        agency: m.agency,
        total: 2,
        by_state: vec![pb::StateCount { state: pb::SuggestionState::InProgress as i32, count: 2 }],
        overdue: vec![suggestion(ID)?],
        ..Default::default()
    });
    get_policy(pb::GetPolicyRequest) -> pb::Policy = |m| Ok(pb::Policy {
        county: m.county,
        mode: pb::DeadlineMode::Months as i32,
        handling_period: 3,
        ..Default::default()
    });
    put_policy(pb::Policy) -> pb::Policy = Ok;
    put_agency(pb::Agency) -> pb::Agency = Ok;
    list_agencies(pb::ListAgenciesRequest) -> pb::ListAgenciesResponse = |m| Ok(pb::ListAgenciesResponse {
        agencies: vec![pb::Agency {
            county: m.county,
            code: "330521-hbj".into(),
            name: "德清县生态环境局".into(),
            active: true,
        }],
    });
    put_routing_rule(pb::RoutingRule) -> pb::RoutingRule = |m| Ok(pb::RoutingRule { id: "r1".into(), ..m });
    list_routing_rules(pb::ListRoutingRulesRequest) -> pb::ListRoutingRulesResponse = |_| {
        Ok(pb::ListRoutingRulesResponse::default())
    };
    load_holiday_calendar(pb::LoadHolidayCalendarRequest) -> pb::LoadHolidayCalendarResponse = |m| {
        Ok(pb::LoadHolidayCalendarResponse { year: m.year, days_off: 2, make_up_working_days: 1 })
    };
}

struct Gateway {
    router: Router,
    fake: Arc<Fake>,
    token: String,
}

async fn gateway() -> Gateway {
    let fake = Arc::new(Fake::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tonic::transport::Server::builder()
        .add_service(SuggestionServiceServer::from_arc(fake.clone()))
        .serve_with_incoming(TcpListenerStream::new(listener));
    tokio::spawn(server);
    let nowhere = String::from("http://127.0.0.1:9");
    let upstreams = Upstreams {
        suggestion: format!("http://{addr}"),
        deputy: nowhere.clone(),
        supervision: nowhere.clone(),
        opinion: nowhere.clone(),
        notification: nowhere,
    };
    let key = JwtKey::Hs256 { secret: SECRET.into() };
    let state = AppState {
        verifier: Verifier::new(&key).expect("verifier"),
        clients: Clients::connect_lazy(&upstreams).expect("clients"),
        rate_limiter: Arc::new(RateLimiter::new(100_000)),
        demo: None,
    };
    let claims = Claims::new("s-1", "姚雪芬", &[Role::Staff], &[DEQING], None, chrono::Duration::hours(1));
    let token = Issuer::hs256(SECRET).issue(&claims).expect("token");
    Gateway { router: router(state), fake, token }
}

impl Gateway {
    async fn send(&self, method: Method, path: &str, content_type: Option<&str>, body: String) -> (StatusCode, Value) {
        let mut request =
            Request::builder().method(method).uri(path).header("authorization", format!("Bearer {}", self.token));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response =
            self.router.clone().oneshot(request.body(Body::from(body)).expect("request")).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        let json =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, json)
    }

    async fn json(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(method, path, Some("application/json"), body.to_string()).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, String::new()).await
    }
}

fn one(action: &str) -> String {
    format!("/v1/counties/{DEQING}/suggestions/{ID}/{action}")
}

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn every_action_calls_its_rpc_and_answers_the_suggestion() {
    let gw = gateway().await;
    let post = |action: &'static str, body: Value| {
        let gw = &gw;
        async move {
            let (status, json) = gw.json(Method::POST, &one(action), body).await;
            assert_eq!(status, StatusCode::OK, "{action}: {json}");
            assert_eq!(json["id"], ID, "{action}");
            assert_eq!(json["state"], "in_progress");
            assert_eq!(json["version"], 4);
            assert_eq!(json["allowed_actions"], json!(["report_progress", "reply"]));
        }
    };

    let edit = json!({"expected_version": 1, "kind": "suggestion", "title": "关于修缮村道的建议", "content": "村道破损。", "category": "交通运输"});
    let (status, json) = gw.json(Method::PUT, &format!("/v1/counties/{DEQING}/suggestions/{ID}"), edit).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let m: pb::UpdateDraftRequest = gw.fake.take("update_draft");
    assert_eq!(
        (m.title.as_str(), m.expected_version, m.kind),
        ("关于修缮村道的建议", 1, pb::SuggestionKind::Suggestion as i32)
    );
    let bad = json!({"kind": "petition", "title": "t", "content": "c"});
    let (status, json) = gw.json(Method::PUT, &format!("/v1/counties/{DEQING}/suggestions/{ID}"), bad).await;
    assert_eq!((status, &json["error"]["fields"][0]["field"]), (StatusCode::BAD_REQUEST, &json!("kind")));

    post("submit", json!({"expected_version": 1})).await;
    let m: pb::SuggestionAction = gw.fake.take("submit_draft");
    assert_eq!((m.county.as_str(), m.id.as_str(), m.expected_version), (DEQING, ID, 1));

    post("register", json!({})).await;
    assert_eq!(gw.fake.take::<pb::SuggestionAction>("register").expected_version, 0);

    post("refuse-registration", json!({"reason": "不属于本级人大职权范围", "expected_version": 2})).await;
    let m: pb::ReasonRequest = gw.fake.take("refuse_registration");
    assert_eq!((m.reason.as_str(), m.expected_version), ("不属于本级人大职权范围", 2));

    post(
        "assign",
        json!({"lead_agency": "330521-hbj", "co_agencies": ["330521-zjj"], "due_date": "2026-06-30", "expected_version": 3}),
    )
    .await;
    let m: pb::AssignRequest = gw.fake.take("assign");
    assert_eq!((m.lead_agency.as_str(), m.due_date.as_str(), m.expected_version), ("330521-hbj", "2026-06-30", 3));
    assert_eq!(m.co_agencies, ["330521-zjj"]);

    post("accept", json!({"expected_version": 4})).await;
    assert_eq!(gw.fake.take::<pb::SuggestionAction>("accept").expected_version, 4);

    post("return", json!({"reason": "应由县住建局主办"})).await;
    assert_eq!(gw.fake.take::<pb::ReasonRequest>("return_assignment").reason, "应由县住建局主办");

    post("progress", json!({"text": "已完成12个行政村的现场踏勘", "attachments": ["files/survey.pdf"]})).await;
    let m: pb::ReportProgressRequest = gw.fake.take("report_progress");
    assert_eq!(
        (m.text.as_str(), m.attachments.as_slice()),
        ("已完成12个行政村的现场踏勘", ["files/survey.pdf".to_owned()].as_slice())
    );

    post("co-agency-opinions", json!({"text": "住建局同意纳入年度改造计划"})).await;
    assert_eq!(
        gw.fake.take::<pb::ReportProgressRequest>("submit_co_agency_opinion").text,
        "住建局同意纳入年度改造计划"
    );

    post("extension-requests", json!({"due_date": "2026-07-31", "reason": "需协调省级专项资金"})).await;
    let m: pb::RequestExtensionRequest = gw.fake.take("request_extension");
    assert_eq!((m.due_date.as_str(), m.reason.as_str()), ("2026-07-31", "需协调省级专项资金"));

    post("extension-decision", json!({"approve": true, "note": "同意延期一个月"})).await;
    let m: pb::DecideExtensionRequest = gw.fake.take("decide_extension");
    assert!(m.approve);
    assert_eq!(m.note, "同意延期一个月");

    post(
        "reply",
        json!({"result": "b", "content": "已列入2026年提标改造计划", "contacted_deputy": true, "contact_note": "当面沟通"}),
    )
    .await;
    let m: pb::ReplyRequest = gw.fake.take("reply");
    assert_eq!(m.result, pb::ResultClass::B as i32);
    assert!(m.contacted_deputy);
    assert_eq!(m.contact_note, "当面沟通");

    post("evaluation", json!({"satisfaction": "unsatisfied", "comment": "改造进度偏慢"})).await;
    let m: pb::EvaluateRequest = gw.fake.take("evaluate");
    assert_eq!((m.satisfaction, m.comment.as_str()), (pb::Satisfaction::Unsatisfied as i32, "改造进度偏慢"));

    post("merge", json!({"into_id": "0195832f-0b7d-72e1-a4c5-93d0e8f61b2a"})).await;
    assert_eq!(gw.fake.take::<pb::MergeRequest>("merge").into_id, "0195832f-0b7d-72e1-a4c5-93d0e8f61b2a");

    post("key", json!({"key": true, "expected_version": 5})).await;
    let m: pb::MarkKeyRequest = gw.fake.take("mark_key");
    assert!(m.key);
    assert_eq!(m.expected_version, 5);

    post("close", json!({"reason": "督办后已办结"})).await;
    assert_eq!(gw.fake.take::<pb::ReasonRequest>("close").reason, "督办后已办结");
}

#[tokio::test]
async fn bodiless_actions_take_an_empty_body() {
    let gw = gateway().await;
    for (action, rpc) in [("submit", "submit_draft"), ("register", "register"), ("accept", "accept")] {
        let (status, json) = gw.send(Method::POST, &one(action), None, String::new()).await;
        assert_eq!(status, StatusCode::OK, "{action}: {json}");
        assert_eq!(gw.fake.take::<pb::SuggestionAction>(rpc).expected_version, 0);
    }
    let (status, json) = gw.send(Method::POST, &one("accept"), Some("text/plain"), "{}".into()).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "content-type"), "{json}");
    let (status, json) = gw.send(Method::POST, &one("accept"), Some("application/json"), "{oops".into()).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "body"), "{json}");
    let (status, json) = gw.json(Method::POST, &one("accept"), json!({"version": 3})).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "body"), "{json}");
    let (status, json) = gw.send(Method::POST, &one("reply"), None, String::new()).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "content-type"), "a reply needs its body: {json}");
    assert!(gw.fake.nothing_called());
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_before_any_call() {
    let gw = gateway().await;
    let reply = json!({"result": "excellent", "content": "c", "contacted_deputy": true});
    let (status, json) = gw.json(Method::POST, &one("reply"), reply).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "result"), "{json}");
    assert_eq!(json["error"]["code"], "invalid_argument");

    let (status, json) = gw.json(Method::POST, &one("evaluation"), json!({"satisfaction": "ok"})).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "satisfaction"), "{json}");
    let (status, json) = gw.json(Method::POST, &one("close"), json!({"reason": "r", "expected_version": -1})).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "expected_version"), "{json}");
    let (status, json) = gw.json(Method::POST, &one("key"), json!({"key": true, "force": true})).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "body"), "unknown field: {json}");
    let (status, json) = gw
        .json(
            Method::POST,
            &format!("/v1/counties/{DEQING}/suggestions"),
            json!({"kind": "petition", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "kind"), "{json}");
    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/suggestions?state=assigned,open")).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "state"), "{json}");
    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/suggestions?status=assigned")).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "query"), "{json}");
    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/statistics?from=2026-02-30")).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "from"), "{json}");
    let policy = json!({"mode": "weeks", "handling_period": 3, "rehandling_period": 1, "max_months_with_extension": 6,
        "remind_days_before": [7], "urge_after_days": 3, "supervise_after_days": 10, "auto_assign": false,
        "motion_min_cosigners": 10});
    let (status, json) = gw.json(Method::PUT, &format!("/v1/counties/{DEQING}/suggestion-policy"), policy).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "mode"), "{json}");
    let (status, json) =
        gw.json(Method::POST, &format!("/v1/counties/330782/suggestions/{ID}/accept"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a county the token does not grant: {json}");
    assert!(gw.fake.nothing_called());
}

#[tokio::test]
async fn service_refusals_map_to_409() {
    let gw = gateway().await;
    let path = format!("/v1/counties/{DEQING}/suggestions/stale/accept");
    let (status, json) = gw.json(Method::POST, &path, json!({"expected_version": 3})).await;
    assert_eq!((status, json["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("aborted")), "{json}");
    let path = format!("/v1/counties/{DEQING}/suggestions/illegal/reply");
    let reply = json!({"result": "a", "content": "已解决", "contacted_deputy": true});
    let (status, json) = gw.json(Method::POST, &path, reply).await;
    assert_eq!((status, json["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("failed_precondition")), "{json}");
}

#[tokio::test]
async fn create_get_and_list() {
    let gw = gateway().await;
    let body = json!({
        "kind": "motion", "title": "关于制定德清县农村生活污水治理条例的议案", "content": "建议制定地方性法规。",
        "category": "生态环境", "co_signers": ["d2", "d3"], "draft": true
    });
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/counties/{DEQING}/suggestions"))
        .header("authorization", format!("Bearer {}", gw.token))
        .header("content-type", "application/json")
        .header("idempotency-key", "k-1")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = gw.router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::CREATED);
    let m: pb::CreateSuggestionRequest = gw.fake.take("create_suggestion");
    assert_eq!((m.kind, m.request_id.as_str(), m.draft), (pb::SuggestionKind::Motion as i32, "k-1", true));
    assert_eq!(m.co_signers, ["d2", "d3"]);

    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/suggestions/{ID}")).await;
    assert_eq!((status, json["number"].as_str()), (StatusCode::OK, Some("德清〔2026〕第0001号")));
    assert_eq!(gw.fake.take::<pb::GetSuggestionRequest>("get_suggestion").id, ID);

    let (status, json) = gw
        .get(&format!(
            "/v1/counties/{DEQING}/suggestions?state=assigned,in_progress&overdue=true&deputy_id=me&page_size=10"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!((json["items"][0]["id"].as_str(), json["next_page_token"].as_str()), (Some(ID), Some("next")));
    let m: pb::ListSuggestionsRequest = gw.fake.take("list_suggestions");
    assert_eq!(m.states, [pb::SuggestionState::Assigned as i32, pb::SuggestionState::InProgress as i32]);
    assert!(m.overdue_only && !m.key_only);
    assert_eq!(m.deputy_id, "s-1");
    assert_eq!(m.page.map(|p| p.page_size), Some(10));
}

#[tokio::test]
async fn audit_statistics_and_configuration() {
    let gw = gateway().await;
    let (status, json) = gw.get(&format!("{}?page_size=5", one("audit"))).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["items"][0]["detail"]["number"], "德清〔2026〕第0001号");
    assert_eq!(json["next_page_token"], Value::Null);
    let m: pb::ListAuditRequest = gw.fake.take("list_audit");
    assert_eq!((m.suggestion_id.as_str(), m.page.map(|p| p.page_size)), (ID, Some(5)));

    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/audit/verification")).await;
    assert_eq!(
        (status, json["intact"].as_bool(), json["first_broken_seq"].is_null()),
        (StatusCode::OK, Some(true), true)
    );
    gw.fake.take::<pb::VerifyAuditRequest>("verify_audit");

    let (status, json) =
        gw.get(&format!("/v1/counties/{DEQING}/statistics?agency=330521-hbj&from=2026-01-01&to=2026-06-30")).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!((json["by_state"]["in_progress"].as_i64(), json["by_state"]["closed"].as_i64()), (Some(2), Some(0)));
    assert_eq!(json["overdue"][0]["id"], ID);
    let m: pb::GetStatisticsRequest = gw.fake.take("get_statistics");
    assert_eq!(
        (m.agency.as_str(), m.from_date.as_str(), m.to_date.as_str()),
        ("330521-hbj", "2026-01-01", "2026-06-30")
    );

    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/suggestion-policy")).await;
    assert_eq!((status, json["mode"].as_str()), (StatusCode::OK, Some("months")));
    gw.fake.take::<pb::GetPolicyRequest>("get_policy");
    let policy = json!({"mode": "working_days", "handling_period": 60, "rehandling_period": 30,
        "max_months_with_extension": 6, "remind_days_before": [7, 3, 1], "urge_after_days": 3,
        "supervise_after_days": 10, "auto_assign": true, "motion_min_cosigners": 10});
    let (status, json) = gw.json(Method::PUT, &format!("/v1/counties/{DEQING}/suggestion-policy"), policy).await;
    assert_eq!(
        (status, json["mode"].as_str(), json["county"].as_str()),
        (StatusCode::OK, Some("working_days"), Some(DEQING))
    );
    assert_eq!(gw.fake.take::<pb::Policy>("put_policy").mode, pb::DeadlineMode::WorkingDays as i32);

    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/agencies")).await;
    assert_eq!((status, json["items"][0]["name"].as_str()), (StatusCode::OK, Some("德清县生态环境局")));
    gw.fake.take::<pb::ListAgenciesRequest>("list_agencies");
    let (status, json) = gw
        .json(
            Method::PUT,
            &format!("/v1/counties/{DEQING}/agencies/330521-zjj"),
            json!({"name": "德清县住房和城乡建设局", "active": true}),
        )
        .await;
    assert_eq!((status, json["code"].as_str()), (StatusCode::OK, Some("330521-zjj")));
    assert_eq!(gw.fake.take::<pb::Agency>("put_agency").name, "德清县住房和城乡建设局");

    let (status, json) = gw.get(&format!("/v1/counties/{DEQING}/routing-rules")).await;
    assert_eq!((status, json["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    gw.fake.take::<pb::ListRoutingRulesRequest>("list_routing_rules");
    let rule = json!({"category": "生态环境", "keywords": ["污水", "垃圾"], "agency": "330521-hbj", "priority": 10});
    let (status, json) = gw.json(Method::POST, &format!("/v1/counties/{DEQING}/routing-rules"), rule).await;
    assert_eq!((status, json["id"].as_str(), json["priority"].as_i64()), (StatusCode::OK, Some("r1"), Some(10)));
    assert_eq!(gw.fake.take::<pb::RoutingRule>("put_routing_rule").keywords, ["污水", "垃圾"]);
}

#[tokio::test]
async fn the_holiday_calendar_is_a_tsv_body() {
    let gw = gateway().await;
    let tsv = "# 2026\n2026-01-01\toff\t元旦\n2026-01-04\twork\t元旦\n";
    let (status, json) = gw
        .send(Method::PUT, "/v1/holiday-calendars/2026", Some("text/tab-separated-values; charset=utf-8"), tsv.into())
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json, json!({"year": 2026, "days_off": 2, "make_up_working_days": 1}));
    let m: pb::LoadHolidayCalendarRequest = gw.fake.take("load_holiday_calendar");
    assert_eq!((m.year, m.tsv.as_str()), (2026, tsv));
    let (status, _) = gw.send(Method::PUT, "/v1/holiday-calendars/2027", Some("text/plain"), tsv.into()).await;
    assert_eq!(status, StatusCode::OK);
    gw.fake.take::<pb::LoadHolidayCalendarRequest>("load_holiday_calendar");

    let (status, json) = gw.send(Method::PUT, "/v1/holiday-calendars/26", Some("text/plain"), tsv.into()).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "year"), "{json}");
    let (status, json) = gw.send(Method::PUT, "/v1/holiday-calendars/year", Some("text/plain"), tsv.into()).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "year"), "{json}");
    let (status, json) =
        gw.send(Method::PUT, "/v1/holiday-calendars/2026", Some("application/json"), "{}".into()).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "content-type"), "{json}");
    let (status, json) = gw.send(Method::PUT, "/v1/holiday-calendars/2026", None, tsv.into()).await;
    assert_eq!((status, field(&json)), (StatusCode::BAD_REQUEST, "content-type"), "{json}");
    assert!(gw.fake.nothing_called());
}

#[tokio::test]
async fn every_route_of_the_list_is_served() {
    let gw = gateway().await;
    for (method, template) in renda_gateway::routes::ROUTES {
        let path = template
            .replace("{county}", DEQING)
            .replace("{id}", ID)
            .replace("{deputy_id}", "me")
            .replace("{code}", "330521-hbj")
            .replace("{year}", "2026");
        let method: Method = method.to_ascii_uppercase().parse().expect("method");
        let request = Request::builder().method(method.clone()).uri(&path).body(Body::empty()).expect("request");
        let response = gw.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        let body = String::from_utf8_lossy(&bytes);
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!body.contains("no such route"), "{method} {path} is not routed");
    }
    assert!(gw.fake.nothing_called(), "no token, no call");
}
