//! The audit chain against the real PostgreSQL: appends in the caller's transaction, one
//! contiguous chain per county even under concurrency, the table refuses changes, and the
//! verifier finds what a superuser changed behind the triggers' back.

use std::borrow::Cow;

use chrono::Utc;
use renda_platform::audit::{self, AuditEntry, AuditRecord, Verification};
use renda_platform::counties::CountyCode;
use renda_platform::{db, testing};
use serde_json::json;
use sqlx::PgPool;
use sqlx::migrate::Migrator;

static NO_SERVICE_MIGRATIONS: Migrator = Migrator { migrations: Cow::Borrowed(&[]), ..Migrator::DEFAULT };

/// A fresh database with the platform tables.
async fn fixture() -> PgPool {
    renda_platform::telemetry::init_for_tests();
    db::connect_and_migrate(&testing::pg_url(), &testing::unique_name("test_audit"), &NO_SERVICE_MIGRATIONS)
        .await
        .expect("database")
}

fn county(code: &str) -> CountyCode {
    code.parse().expect("county")
}

/// Appends one entry about `entity_id` in its own transaction, as a service would with its state change.
async fn append(pool: &PgPool, county: &CountyCode, entity_id: &str, detail: serde_json::Value) -> AuditEntry {
    let mut tx = pool.begin().await.expect("begin");
    let entry = audit::append(
        &mut tx,
        &AuditRecord {
            county,
            entity: "suggestion",
            entity_id,
            action: "assign",
            actor_id: "u-clerk",
            from_state: "submitted",
            to_state: "assigned",
            detail,
            at: Utc::now(),
        },
    )
    .await
    .expect("append");
    tx.commit().await.expect("commit");
    entry
}

fn intact(entries: i64) -> Verification {
    Verification { intact: true, entries_checked: entries, first_broken_seq: None, problem: None }
}

/// Runs `sql` with the table's triggers off, as only a superuser could.
async fn tamper(pool: &PgPool, sql: &str) {
    let mut conn = pool.acquire().await.expect("connection");
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER ALL").execute(&mut *conn).await.expect("disable triggers");
    sqlx::query(sql).execute(&mut *conn).await.expect("tamper");
    sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER ALL").execute(&mut *conn).await.expect("enable triggers");
}

#[tokio::test]
async fn counties_keep_separate_chains() {
    let pool = fixture().await;
    let (deqing, shangcheng) = (county("330521"), county("330102"));
    let mut entries = Vec::new();
    for (i, c) in [&deqing, &shangcheng, &deqing, &deqing, &shangcheng].into_iter().enumerate() {
        entries.push(append(&pool, c, &format!("s-{i}"), json!({"step": i, "note": "转交办单位"})).await);
    }

    let seqs: Vec<(&str, i64)> = entries.iter().map(|e| (e.county.as_str(), e.seq)).collect();
    assert_eq!(seqs, [("330521", 1), ("330102", 1), ("330521", 2), ("330521", 3), ("330102", 2)]);
    assert_eq!(entries[0].prev_hash, audit::GENESIS_HASH);
    assert_eq!(entries[2].prev_hash, entries[0].hash);
    assert_eq!(entries[4].prev_hash, entries[1].hash);
    assert_eq!(audit::verify(&pool, &deqing).await.expect("verify"), intact(3));
    assert_eq!(audit::verify(&pool, &shangcheng).await.expect("verify"), intact(2));
    assert_eq!(audit::verify(&pool, &county("330106")).await.expect("verify"), intact(0));

    // What list returns is what append returned, and it recomputes to its hash.
    let listed = audit::list(&pool, &deqing, None, None, 10).await.expect("list");
    assert_eq!(listed, [entries[0].clone(), entries[2].clone(), entries[3].clone()]);
    let first = &listed[0];
    let record = AuditRecord {
        county: &deqing,
        entity: &first.entity,
        entity_id: &first.entity_id,
        action: &first.action,
        actor_id: &first.actor_id,
        from_state: &first.from_state,
        to_state: &first.to_state,
        detail: first.detail.clone(),
        at: first.at,
    };
    assert_eq!(audit::entry_hash(&first.prev_hash, first.seq, &record), first.hash);
}

#[tokio::test]
async fn list_filters_by_entity_and_pages_by_seq() {
    let pool = fixture().await;
    let c = county("330521");
    for id in ["a", "b", "a", "a", "b"] {
        append(&pool, &c, id, json!({})).await;
    }
    let seqs = |entries: Vec<AuditEntry>| entries.into_iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(seqs(audit::list(&pool, &c, Some("a"), None, 10).await.expect("list")), [1, 3, 4]);
    assert_eq!(seqs(audit::list(&pool, &c, Some("a"), Some(1), 1).await.expect("list")), [3]);
    assert_eq!(seqs(audit::list(&pool, &c, None, Some(2), 2).await.expect("list")), [3, 4]);
    assert_eq!(seqs(audit::list(&pool, &c, Some("b"), Some(5), 10).await.expect("list")), Vec::<i64>::new());
}

#[tokio::test]
async fn rolled_back_append_leaves_no_gap() {
    let pool = fixture().await;
    let c = county("330521");
    append(&pool, &c, "s-1", json!({})).await;

    let mut tx = pool.begin().await.expect("begin");
    let doomed = audit::append(
        &mut tx,
        &AuditRecord {
            county: &c,
            entity: "ballot",
            entity_id: "b-1",
            action: "cast",
            actor_id: "u-deputy",
            from_state: "",
            to_state: "cast",
            detail: json!({"choice": "yes"}),
            at: Utc::now(),
        },
    )
    .await
    .expect("append");
    assert_eq!(doomed.seq, 2);
    tx.rollback().await.expect("rollback");

    let next = append(&pool, &c, "s-1", json!({})).await;
    assert_eq!(next.seq, 2);
    assert_eq!(audit::verify(&pool, &c).await.expect("verify"), intact(2));
}

#[tokio::test]
async fn concurrent_appends_stay_contiguous() {
    let pool = fixture().await;
    let c = county("330521");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (pool, c) = (pool.clone(), c.clone());
            tokio::spawn(async move { append(&pool, &c, &format!("s-{i}"), json!({"i": i})).await.seq })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    assert_eq!(audit::verify(&pool, &c).await.expect("verify"), intact(20));
}

#[tokio::test]
async fn details_survive_jsonb_exactly() {
    let pool = fixture().await;
    let c = county("330521");
    // jsonb reorders keys and spells numbers out; floats like these do not survive a parse to f64 everywhere.
    let detail = json!({
        "zeta": 1, "a": [0.1, 1.2345678901234567e-30, 9.87654321e300, -0.0, 100.0, u64::MAX, i64::MIN],
        "nested": {"text": "引号\" 反斜杠\\ 换行\n", "empty": {}, "list": []}, "none": null, "yes": true
    });
    let entry = append(&pool, &c, "s-1", detail).await;
    append(&pool, &c, "s-1", json!(["top-level array", 1.5])).await;
    assert_eq!(entry.detail["nested"]["text"], "引号\" 反斜杠\\ 换行\n");
    assert_eq!(audit::verify(&pool, &c).await.expect("verify"), intact(2));
}

#[tokio::test]
async fn changes_to_the_log_are_refused() {
    let pool = fixture().await;
    let c = county("330521");
    append(&pool, &c, "s-1", json!({"reason": "original"})).await;

    for sql in [
        "UPDATE audit_log SET detail = '{\"reason\": \"forged\"}' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
        "UPDATE audit_heads SET seq = 0",
        "DELETE FROM audit_heads",
        // Not a link of the chain: wrong prev_hash for seq 2.
        "INSERT INTO audit_log VALUES ('330521', 2, 'x', 'x', 'x', 'x', '', '', '{}', now(), repeat('0', 64), 'x')",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        // Refused by the triggers (insufficient_privilege, integrity_constraint_violation), not by chance.
        let code = err.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert!(matches!(code.as_deref(), Some("42501" | "23000")), "{sql}: {err}");
    }
    let entries = audit::list(&pool, &c, None, None, 10).await.expect("list");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].detail, json!({"reason": "original"}));
    assert_eq!(audit::verify(&pool, &c).await.expect("verify"), intact(1));
}

#[tokio::test]
async fn altered_entry_is_found() {
    let pool = fixture().await;
    let c = county("330521");
    for i in 1..=5 {
        append(&pool, &c, "s-1", json!({"step": i})).await;
    }
    tamper(&pool, "UPDATE audit_log SET detail = '{\"step\": 33}' WHERE county = '330521' AND seq = 3").await;

    let found = audit::verify(&pool, &c).await.expect("verify");
    assert!(!found.intact);
    assert_eq!(found.first_broken_seq, Some(3));
    assert_eq!(found.entries_checked, 2);
    let problem = found.problem.expect("problem");
    assert!(problem.contains("entry 3 was altered"), "{problem}");
}

#[tokio::test]
async fn removed_entries_are_found() {
    let pool = fixture().await;
    let c = county("330521");
    for i in 1..=5 {
        append(&pool, &c, "s-1", json!({"step": i})).await;
    }

    // The tail: the chain itself still links, only the head shows it.
    tamper(&pool, "DELETE FROM audit_log WHERE county = '330521' AND seq = 5").await;
    let found = audit::verify(&pool, &c).await.expect("verify");
    assert_eq!((found.intact, found.first_broken_seq, found.entries_checked), (false, Some(5), 4));
    assert!(found.problem.as_deref().is_some_and(|p| p.contains("missing")), "{found:?}");

    // The middle.
    tamper(&pool, "DELETE FROM audit_log WHERE county = '330521' AND seq = 2").await;
    let found = audit::verify(&pool, &c).await.expect("verify");
    assert_eq!((found.intact, found.first_broken_seq, found.entries_checked), (false, Some(2), 1));
    let problem = found.problem.expect("problem");
    assert!(problem.contains("entry 2 is missing"), "{problem}");
}

#[tokio::test]
async fn rehashed_entry_breaks_the_next_link() {
    let pool = fixture().await;
    let c = county("330521");
    for i in 1..=4 {
        append(&pool, &c, "s-1", json!({"step": i})).await;
    }
    // A forger who also recomputes entry 2's hash still has to rewrite every later entry.
    let entries = audit::list(&pool, &c, None, None, 10).await.expect("list");
    let second = &entries[1];
    let forged = AuditRecord {
        county: &c,
        entity: &second.entity,
        entity_id: &second.entity_id,
        action: &second.action,
        actor_id: "u-forger",
        from_state: &second.from_state,
        to_state: &second.to_state,
        detail: second.detail.clone(),
        at: second.at,
    };
    let hash = audit::entry_hash(&second.prev_hash, 2, &forged);
    tamper(&pool, &format!("UPDATE audit_log SET actor_id = 'u-forger', hash = '{hash}' WHERE seq = 2")).await;

    let found = audit::verify(&pool, &c).await.expect("verify");
    assert_eq!((found.intact, found.first_broken_seq, found.entries_checked), (false, Some(3), 2));
    let problem = found.problem.expect("problem");
    assert!(problem.contains("entry 3 links to"), "{problem}");
}
