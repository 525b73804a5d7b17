//! The closed loop over real gRPC and PostgreSQL: deputies, staff and agencies acting in
//! turn, deadlines on the holiday calendar, reminders with an injected clock, concurrency,
//! statistics and the audit chain.

mod common;

use common::*;
use renda_proto::suggestion::v1 as pb;
use tonic::Code;

const COUNTY: &str = "330521";
const HBJ: &str = "330521-hbj";
const ZJJ: &str = "330521-zjj";

async fn setup() -> TestApp {
    let mut app = spawn_app().await;
    agencies(&mut app, COUNTY, &[(HBJ, "德清县生态环境局"), (ZJJ, "德清县住房和城乡建设局")]).await;
    app
}

async fn submit(app: &mut TestApp, token: &str, title: &str) -> pb::Suggestion {
    app.client
        .create_suggestion(with_token(submission(COUNTY, title, ""), token))
        .await
        .expect("submitted")
        .into_inner()
}

fn assign_to(id: &str, lead: &str, co: &[&str]) -> pb::AssignRequest {
    pb::AssignRequest {
        county: COUNTY.into(),
        id: id.into(),
        lead_agency: lead.into(),
        co_agencies: co.iter().map(|c| (*c).to_owned()).collect(),
        ..Default::default()
    }
}

fn state(s: &pb::Suggestion) -> pb::SuggestionState {
    pb::SuggestionState::try_from(s.state).expect("state")
}

#[tokio::test]
async fn the_whole_loop_with_deputy_staff_and_agencies() {
    let mut app = setup().await;
    let (deputy, staff, lead, co) =
        (deputy("d1", COUNTY), staff(COUNTY), agency_user("a1", COUNTY, HBJ), agency_user("a2", COUNTY, ZJJ));
    app.client
        .put_routing_rule(with_token(
            pb::RoutingRule {
                county: COUNTY.into(),
                keywords: vec!["污水".into()],
                agency: HBJ.into(),
                priority: 1,
                ..Default::default()
            },
            &staff,
        ))
        .await
        .expect("rule");

    // The deputy submits; the rules propose the environment bureau; the bureau sees nothing yet.
    let s = submit(&mut app, &deputy, "关于农村污水处理设施维护的建议").await;
    assert_eq!(s.proposed_agency, HBJ);
    assert_eq!(state(&s), pb::SuggestionState::Submitted);
    let get = |token: &str| with_token(pb::GetSuggestionRequest { county: COUNTY.into(), id: s.id.clone() }, token);
    assert_eq!(app.client.get_suggestion(get(&lead)).await.expect_err("not assigned").code(), Code::NotFound);

    // Staff register and assign, with the housing bureau co-handling.
    let s = app.client.register(with_token(action(COUNTY, &s.id), &staff)).await.expect("registered").into_inner();
    let s = app.client.assign(with_token(assign_to(&s.id, HBJ, &[ZJJ]), &staff)).await.expect("assigned").into_inner();
    let assignment = s.assignment.clone().expect("assignment");
    // Three months from Monday 2026-03-02 is Tuesday 2026-06-02, a working day.
    assert_eq!(assignment.deadline.as_ref().expect("deadline").due_date, "2026-06-02");
    assert_eq!(assignment.round, 1);

    // Only the lead agency may accept; the co-agency sends its opinion once it is in progress.
    let seen_by_lead = app.client.get_suggestion(get(&lead)).await.expect("lead sees it").into_inner();
    assert_eq!(seen_by_lead.allowed_actions, ["accept", "return"]);
    let refused = app.client.accept(with_token(action(COUNTY, &s.id), &co)).await.expect_err("co-agency");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let s = app.client.accept(with_token(action(COUNTY, &s.id), &lead)).await.expect("accepted").into_inner();
    assert_eq!(state(&s), pb::SuggestionState::InProgress);
    let progress = |text: &str| pb::ReportProgressRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        text: text.into(),
        attachments: vec!["files/site-photo-1.jpg".into(), "files/plan.pdf".into()],
        ..Default::default()
    };
    app.client
        .submit_co_agency_opinion(with_token(progress("建议结合老旧小区改造同步实施"), &co))
        .await
        .expect("opinion");
    app.client.report_progress(with_token(progress("已完成现场勘查，制定整改方案"), &lead)).await.expect("progress");

    // An extension within six months, approved by staff.
    let extension = pb::RequestExtensionRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        due_date: "2026-07-15".into(),
        reason: "需协调资金".into(),
        ..Default::default()
    };
    let too_far = pb::RequestExtensionRequest { due_date: "2026-09-15".into(), ..extension.clone() };
    let status = app.client.request_extension(with_token(too_far, &lead)).await.expect_err("beyond six months");
    assert_eq!(status.code(), Code::InvalidArgument);
    app.client.request_extension(with_token(extension.clone(), &lead)).await.expect("requested");
    let twice = app.client.request_extension(with_token(extension, &lead)).await.expect_err("one pending at a time");
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let decide =
        pb::DecideExtensionRequest { county: COUNTY.into(), id: s.id.clone(), approve: true, ..Default::default() };
    let s = app.client.decide_extension(with_token(decide, &staff)).await.expect("approved").into_inner();
    assert_eq!(s.assignment.as_ref().and_then(|a| a.deadline.as_ref()).expect("deadline").due_date, "2026-07-15");

    // The reply needs the deputy contacted first.
    let reply = pb::ReplyRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        result: pb::ResultClass::B as i32,
        content: "已列入2026年整改计划".into(),
        contacted_deputy: false,
        ..Default::default()
    };
    let status = app.client.reply(with_token(reply.clone(), &lead)).await.expect_err("no contact");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("contacted_deputy"), "{}", status.message());
    app.clock.advance(chrono::Duration::days(20));
    let reply = pb::ReplyRequest { contacted_deputy: true, contact_note: "电话沟通".into(), ..reply };
    let s = app.client.reply(with_token(reply.clone(), &lead)).await.expect("replied").into_inner();
    assert_eq!(state(&s), pb::SuggestionState::Replied);
    assert!(s.replies[0].on_time);

    // 不满意: re-handling with a one-month deadline; a second 不满意 goes to staff (督办).
    let evaluate = |satisfaction: pb::Satisfaction| pb::EvaluateRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        satisfaction: satisfaction as i32,
        comment: "进度太慢".into(),
        ..Default::default()
    };
    let refused =
        app.client.evaluate(with_token(evaluate(pb::Satisfaction::Satisfied), &staff)).await.expect_err("staff");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let s = app
        .client
        .evaluate(with_token(evaluate(pb::Satisfaction::Unsatisfied), &deputy))
        .await
        .expect("eval")
        .into_inner();
    assert_eq!(state(&s), pb::SuggestionState::InProgress);
    let round2 = s.assignment.clone().expect("assignment");
    assert_eq!(round2.round, 2);
    assert!(round2.accepted, "the same agency carries on");
    assert_eq!(round2.deadline.expect("deadline").due_date, "2026-04-22", "one month from 2026-03-22");
    app.client.reply(with_token(reply, &lead)).await.expect("replied again");
    let s = app
        .client
        .evaluate(with_token(evaluate(pb::Satisfaction::Unsatisfied), &deputy))
        .await
        .expect("eval")
        .into_inner();
    assert_eq!(state(&s), pb::SuggestionState::UnderSupervision);
    assert_eq!(s.allowed_actions, Vec::<String>::new(), "the deputy has nothing to do now");
    let close = pb::ReasonRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        reason: "督办后已协调解决".into(),
        ..Default::default()
    };
    let s = app.client.close(with_token(close, &staff)).await.expect("closed").into_inner();
    assert_eq!(state(&s), pb::SuggestionState::Closed);
    assert_eq!(s.progress.len(), 2);
    assert!(s.progress[0].co_agency_opinion);
    assert_eq!(s.evaluations.len(), 2);

    // One event per fact, in order.
    assert_eq!(
        outbox_types(&app.pool).await,
        [
            "SuggestionSubmitted",
            "SuggestionRegistered",
            "SuggestionAssigned",
            "SuggestionAccepted",
            "ProgressReported",
            "ProgressReported",
            "ExtensionRequested",
            "ExtensionDecided",
            "SuggestionReplied",
            "SuggestionEvaluated",
            "SuggestionReopened",
            "SuggestionReplied",
            "SuggestionEvaluated",
            "SuggestionEscalated",
            "SuggestionClosed",
        ]
        .map(|t| format!("renda.suggestion.v1.{t}"))
    );

    // The audit chain holds every change and verifies.
    let audit = app
        .client
        .list_audit(with_token(
            pb::ListAuditRequest { county: COUNTY.into(), suggestion_id: s.id.clone(), page: None },
            &deputy,
        ))
        .await
        .expect("audit")
        .into_inner();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "submit",
            "register",
            "assign",
            "accept",
            "co_agency_opinion",
            "report_progress",
            "request_extension",
            "decide_extension",
            "reply",
            "evaluate",
            "reply",
            "evaluate",
            "close"
        ]
    );
    assert!(audit.entries.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    let verified = app
        .client
        .verify_audit(with_token(pb::VerifyAuditRequest { county: COUNTY.into() }, &staff))
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{}", verified.problem);
    assert_eq!(verified.entries_checked, 13);

    // Statistics: two replies, both on time; two evaluations, both unsatisfied; one re-handling.
    let stats = app
        .client
        .get_statistics(with_token(pb::GetStatisticsRequest { county: COUNTY.into(), ..Default::default() }, &staff))
        .await
        .expect("stats")
        .into_inner();
    assert_eq!((stats.total, stats.replied, stats.replied_on_time), (1, 2, 2));
    assert_eq!((stats.evaluated, stats.unsatisfied, stats.rehandled), (2, 2, 1));
    assert_eq!(stats.satisfaction_rate, 0.0);
    assert_eq!(stats.rehandling_rate, 0.5);
    assert_eq!(stats.on_time_rate, 1.0);
}

#[tokio::test]
async fn illegal_transitions_say_where_it_is_and_what_is_allowed() {
    let mut app = setup().await;
    let s = submit(&mut app, &deputy("d1", COUNTY), "t").await;
    let status =
        app.client.assign(with_token(assign_to(&s.id, HBJ, &[]), &staff(COUNTY))).await.expect_err("not registered");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(
        status.message(),
        "cannot assign a suggestion that is submitted; allowed now: register, refuse_registration, merge, mark_key"
    );
    let unknown = app.client.register(with_token(action(COUNTY, &s.id), &staff(COUNTY))).await.expect("registered");
    let s = unknown.into_inner();
    let status = app
        .client
        .assign(with_token(assign_to(&s.id, "330521-nope", &[HBJ, HBJ]), &staff(COUNTY)))
        .await
        .expect_err("bad");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("lead_agency") && status.message().contains("co_agencies[1]"),
        "{}",
        status.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_staff_assigning_at_once_exactly_one_wins() {
    let mut app = setup().await;
    let s = submit(&mut app, &deputy("d1", COUNTY), "t").await;
    let s =
        app.client.register(with_token(action(COUNTY, &s.id), &staff(COUNTY))).await.expect("registered").into_inner();
    let attempts = [HBJ, ZJJ].map(|agency| {
        let mut client = app.client.clone();
        let request = pb::AssignRequest { expected_version: s.version, ..assign_to(&s.id, agency, &[]) };
        tokio::spawn(async move { client.assign(with_token(request, &staff(COUNTY))).await })
    });
    let mut results = Vec::new();
    for attempt in attempts {
        results.push(attempt.await.expect("task"));
    }
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    let lost = results.into_iter().find_map(Result::err).expect("one lost");
    assert_eq!(lost.code(), Code::Aborted, "{lost:?}");
    assert!(lost.message().contains("changed since version"), "{}", lost.message());
}

#[tokio::test]
async fn an_auto_assign_county_assigns_on_submission() {
    let mut app = setup().await;
    let staff = staff(COUNTY);
    app.client
        .put_routing_rule(with_token(
            pb::RoutingRule {
                county: COUNTY.into(),
                category: "环保".into(),
                agency: HBJ.into(),
                ..Default::default()
            },
            &staff,
        ))
        .await
        .expect("rule");
    let mut policy = app
        .client
        .get_policy(with_token(pb::GetPolicyRequest { county: COUNTY.into() }, &staff))
        .await
        .expect("policy")
        .into_inner();
    policy.auto_assign = true;
    app.client.put_policy(with_token(policy, &staff)).await.expect("put");
    let s = submit(&mut app, &deputy("d1", COUNTY), "农村污水").await;
    assert_eq!(state(&s), pb::SuggestionState::Assigned);
    assert_eq!(s.assignment.expect("assignment").lead_agency, HBJ);
    let types = outbox_types(&app.pool).await;
    assert_eq!(types.len(), 3);
    assert!(types[2].ends_with("SuggestionAssigned"));
}

#[tokio::test]
async fn working_day_deadlines_follow_the_holiday_calendar_and_flag_a_missing_year() {
    let mut app = setup().await;
    let staff = staff(COUNTY);
    let policy = pb::Policy {
        county: COUNTY.into(),
        mode: pb::DeadlineMode::WorkingDays as i32,
        handling_period: 10,
        rehandling_period: 5,
        max_months_with_extension: 6,
        remind_days_before: vec![3, 1],
        urge_after_days: 2,
        supervise_after_days: 5,
        auto_assign: false,
        motion_min_cosigners: 10,
    };
    app.client.put_policy(with_token(policy, &staff)).await.expect("policy");
    let assign = |app: &mut TestApp, title: &'static str| {
        let mut client = app.client.clone();
        let deputy = deputy("d1", COUNTY);
        let staff = staff.clone();
        async move {
            let s = client
                .create_suggestion(with_token(submission(COUNTY, title, ""), &deputy))
                .await
                .expect("s")
                .into_inner();
            client.register(with_token(action(COUNTY, &s.id), &staff)).await.expect("registered");
            client.assign(with_token(assign_to(&s.id, HBJ, &[]), &staff)).await.expect("assigned").into_inner()
        }
    };
    // Across the Spring Festival: 02-15..02-23 off, Saturdays 02-14 and 02-28 working.
    app.clock.set(at("2026-02-10T02:00:00Z"));
    let s = assign(&mut app, "春节前").await;
    let deadline = s.assignment.expect("a").deadline.expect("d");
    assert_eq!((deadline.due_date.as_str(), deadline.provisional), ("2026-03-02", false));

    // Into 2027, whose calendar is not loaded: counted on weekdays and flagged.
    app.clock.set(at("2026-12-24T02:00:00Z"));
    let year_end = assign(&mut app, "年底").await;
    let deadline = year_end.assignment.clone().expect("a").deadline.expect("d");
    assert!(deadline.provisional);
    assert_eq!(deadline.missing_calendar_years, [2027]);
    assert_eq!(deadline.due_date, "2027-01-07", "weekdays only: 2027-01-01 counted as a working day");

    // Loading 2027 (province operator) removes the flag for later assignments.
    let tsv = "2027-01-01\toff\t元旦\n";
    let denied = app
        .client
        .load_holiday_calendar(with_token(pb::LoadHolidayCalendarRequest { year: 2027, tsv: tsv.into() }, &staff))
        .await
        .expect_err("staff may not");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = app
        .client
        .load_holiday_calendar(with_token(
            pb::LoadHolidayCalendarRequest { year: 2027, tsv: "2027-13-01\toff\tx".into() },
            &admin(),
        ))
        .await
        .expect_err("bad tsv");
    assert_eq!(bad.code(), Code::InvalidArgument);
    app.client
        .load_holiday_calendar(with_token(pb::LoadHolidayCalendarRequest { year: 2027, tsv: tsv.into() }, &admin()))
        .await
        .expect("loaded");
    let s = assign(&mut app, "年底2").await;
    let deadline = s.assignment.expect("a").deadline.expect("d");
    assert!(!deadline.provisional);
    assert_eq!(deadline.due_date, "2027-01-08");

    // The deadline that waited for 2027 is recomputed and announced.
    let confirmed = app
        .client
        .get_suggestion(with_token(pb::GetSuggestionRequest { county: COUNTY.into(), id: year_end.id.clone() }, &staff))
        .await
        .expect("get")
        .into_inner();
    let deadline = confirmed.assignment.expect("a").deadline.expect("d");
    assert_eq!((deadline.due_date.as_str(), deadline.provisional), ("2027-01-08", false));
    assert!(outbox_types(&app.pool).await.contains(&"renda.suggestion.v1.DeadlineConfirmed".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_and_escalations_fire_once_across_restarts_and_replicas() {
    let mut app = setup().await;
    let staff = staff(COUNTY);
    let policy = pb::Policy {
        county: COUNTY.into(),
        mode: pb::DeadlineMode::CalendarDays as i32,
        handling_period: 10,
        rehandling_period: 5,
        max_months_with_extension: 6,
        remind_days_before: vec![7, 3, 1],
        urge_after_days: 3,
        supervise_after_days: 7,
        auto_assign: false,
        motion_min_cosigners: 10,
    };
    app.client.put_policy(with_token(policy, &staff)).await.expect("policy");
    let s = submit(&mut app, &deputy("d1", COUNTY), "t").await;
    app.client.register(with_token(action(COUNTY, &s.id), &staff)).await.expect("registered");
    let s = app.client.assign(with_token(assign_to(&s.id, HBJ, &[]), &staff)).await.expect("assigned").into_inner();
    assert_eq!(s.assignment.expect("a").deadline.expect("d").due_date, "2026-03-12");

    let sent_types = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT event_type FROM outbox WHERE event_type IN ('renda.suggestion.v1.ReminderDue',
               'renda.suggestion.v1.SuggestionOverdue', 'renda.suggestion.v1.SuggestionEscalated') ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .expect("outbox")
    };
    app.clock.set(at("2026-03-04T02:00:00Z"));
    assert_eq!(app.scheduler.tick().await.expect("tick"), 0, "8 days ahead: nothing yet");
    app.clock.set(at("2026-03-05T02:00:00Z"));
    assert_eq!(app.scheduler.tick().await.expect("tick"), 1, "7 days ahead");
    assert_eq!(app.scheduler.tick().await.expect("tick"), 0, "not twice");

    // A second replica on the same database, both ticking at once.
    let replica = spawn_app_with(app.config.clone(), app.clock.clone()).await;
    app.clock.set(at("2026-03-09T02:00:00Z"));
    let (a, b) = tokio::join!(app.scheduler.tick(), replica.scheduler.tick());
    assert_eq!(a.expect("tick") + b.expect("tick"), 1, "3 days ahead, sent by one replica");

    // A restart: a new process on the same database with the clock moved on.
    let clock = app.clock.clone();
    let config = app.config.clone();
    drop(app);
    drop(replica);
    let mut app = spawn_app_with(config, clock).await;
    assert_eq!(app.scheduler.tick().await.expect("tick"), 0, "nothing new on 03-09 after the restart");
    app.clock.set(at("2026-03-13T02:00:00Z"));
    assert_eq!(app.scheduler.tick().await.expect("tick"), 1, "overdue");
    app.clock.set(at("2026-03-19T02:00:00Z"));
    assert_eq!(app.scheduler.tick().await.expect("tick"), 2, "catches up: 催办 (day 3) and 督办 (day 7)");
    assert_eq!(app.scheduler.tick().await.expect("tick"), 0);
    let types: Vec<String> =
        sent_types(app.pool.clone()).await.into_iter().map(|t| t.replace("renda.suggestion.v1.", "")).collect();
    assert_eq!(
        types,
        ["ReminderDue", "ReminderDue", "SuggestionOverdue", "SuggestionEscalated", "SuggestionEscalated"]
    );
    let list = app
        .client
        .list_suggestions(with_token(
            pb::ListSuggestionsRequest { county: COUNTY.into(), overdue_only: true, ..Default::default() },
            &staff,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(list.suggestions.len(), 1);
    assert!(list.suggestions[0].overdue);
}

#[tokio::test]
async fn motions_need_co_signers_who_then_see_them() {
    let mut app = setup().await;
    let signers: Vec<String> = (1..=3).map(|i| format!("c{i}")).collect();
    let motion = pb::CreateSuggestionRequest {
        kind: pb::SuggestionKind::Motion as i32,
        co_signers: signers.clone(),
        ..submission(COUNTY, "关于制定农村生活污水治理条例的议案", "")
    };
    let status =
        app.client.create_suggestion(with_token(motion.clone(), &deputy("d1", COUNTY))).await.expect_err("too few");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("at least 10"), "{}", status.message());
    let staff = staff(COUNTY);
    let mut policy = app
        .client
        .get_policy(with_token(pb::GetPolicyRequest { county: COUNTY.into() }, &staff))
        .await
        .expect("p")
        .into_inner();
    policy.motion_min_cosigners = 3;
    app.client.put_policy(with_token(policy, &staff)).await.expect("put");
    let s = app.client.create_suggestion(with_token(motion, &deputy("d1", COUNTY))).await.expect("ok").into_inner();
    let seen = app
        .client
        .get_suggestion(with_token(
            pb::GetSuggestionRequest { county: COUNTY.into(), id: s.id.clone() },
            &deputy("c2", COUNTY),
        ))
        .await
        .expect("a co-signer sees it")
        .into_inner();
    assert_eq!(seen.co_signers, signers);
    assert!(seen.allowed_actions.is_empty());
}

#[tokio::test]
async fn returned_suggestions_are_reassigned_and_duplicates_merged() {
    let mut app = setup().await;
    let staff = staff(COUNTY);
    let deputy = deputy("d1", COUNTY);
    let s = submit(&mut app, &deputy, "原件").await;
    let duplicate = submit(&mut app, &deputy, "重复件").await;
    app.client.register(with_token(action(COUNTY, &s.id), &staff)).await.expect("registered");
    app.client.assign(with_token(assign_to(&s.id, HBJ, &[]), &staff)).await.expect("assigned");
    let back = pb::ReasonRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        reason: "不属于本单位职责".into(),
        ..Default::default()
    };
    let returned = app
        .client
        .return_assignment(with_token(back, &agency_user("a1", COUNTY, HBJ)))
        .await
        .expect("returned")
        .into_inner();
    assert_eq!(state(&returned), pb::SuggestionState::Returned);
    assert_eq!(returned.reason, "不属于本单位职责");
    let s = app.client.assign(with_token(assign_to(&s.id, ZJJ, &[]), &staff)).await.expect("reassigned").into_inner();
    assert_eq!(s.assignment.expect("a").lead_agency, ZJJ);
    let list = |token: String| {
        let mut client = app.client.clone();
        async move {
            client
                .list_suggestions(with_token(
                    pb::ListSuggestionsRequest { county: COUNTY.into(), ..Default::default() },
                    &token,
                ))
                .await
                .expect("list")
                .into_inner()
                .suggestions
        }
    };
    assert!(list(agency_user("a1", COUNTY, HBJ)).await.is_empty(), "the first agency no longer has it");
    assert_eq!(list(agency_user("a2", COUNTY, ZJJ)).await.len(), 1);

    let merge = pb::MergeRequest {
        county: COUNTY.into(),
        id: duplicate.id.clone(),
        into_id: s.id.clone(),
        ..Default::default()
    };
    let merged = app.client.merge(with_token(merge, &staff)).await.expect("merged").into_inner();
    assert_eq!(state(&merged), pb::SuggestionState::Merged);
    assert_eq!(merged.merged_into, s.id);
    let key = pb::MarkKeyRequest { county: COUNTY.into(), id: s.id.clone(), key: true, ..Default::default() };
    app.client.mark_key(with_token(key, &staff)).await.expect("key");
    let keys = app
        .client
        .list_suggestions(with_token(
            pb::ListSuggestionsRequest { county: COUNTY.into(), key_only: true, ..Default::default() },
            &staff,
        ))
        .await
        .expect("list")
        .into_inner()
        .suggestions;
    assert_eq!(keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), [s.id.as_str()]);
}

#[tokio::test]
async fn a_draft_is_private_editable_and_numbered_only_when_submitted() {
    let mut app = setup().await;
    let deputy = deputy("d1", COUNTY);
    let draft = pb::CreateSuggestionRequest { draft: true, ..submission(COUNTY, "草稿", "") };
    let s = app.client.create_suggestion(with_token(draft, &deputy)).await.expect("draft").into_inner();
    assert_eq!(state(&s), pb::SuggestionState::Draft);
    assert!(s.number.is_empty(), "no number before submission");
    assert_eq!(s.allowed_actions, ["edit_draft", "submit"]);
    let get = pb::GetSuggestionRequest { county: COUNTY.into(), id: s.id.clone() };
    let status = app.client.get_suggestion(with_token(get, &staff(COUNTY))).await.expect_err("private");
    assert_eq!(status.code(), Code::NotFound);

    let edit = pb::UpdateDraftRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        expected_version: s.version,
        kind: pb::SuggestionKind::Suggestion as i32,
        title: "关于修缮村道的建议".into(),
        content: "村道破损严重。".into(),
        category: "交通运输".into(),
        ..Default::default()
    };
    let status = app
        .client
        .update_draft(with_token(pb::UpdateDraftRequest { title: " ".into(), ..edit.clone() }, &deputy))
        .await
        .expect_err("empty title");
    assert_eq!(status.code(), Code::InvalidArgument);
    let edited = app.client.update_draft(with_token(edit, &deputy)).await.expect("edited").into_inner();
    assert_eq!(edited.title, "关于修缮村道的建议");
    let submitted =
        app.client.submit_draft(with_token(action(COUNTY, &s.id), &deputy)).await.expect("submitted").into_inner();
    assert_eq!(state(&submitted), pb::SuggestionState::Submitted);
    assert_eq!(submitted.number, "德清〔2026〕第0001号");
    let again = pb::UpdateDraftRequest {
        county: COUNTY.into(),
        id: s.id.clone(),
        kind: 2,
        title: "t".into(),
        content: "c".into(),
        category: "x".into(),
        ..Default::default()
    };
    let status = app.client.update_draft(with_token(again, &deputy)).await.expect_err("no longer a draft");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(outbox_types(&app.pool).await, ["renda.suggestion.v1.SuggestionSubmitted"], "drafts announce nothing");
}
