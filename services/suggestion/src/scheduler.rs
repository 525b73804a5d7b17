//! Reminders and staged escalation. Every minute the scheduler looks at unanswered
//! assignments whose reminder window has opened and sends what is due.
//!
//! Invariant: each notice of an assignment fires exactly once — across restarts and with
//! several replicas — because it is recorded in `reminders` (primary key per assignment
//! and notice) in the same transaction as its event.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use renda_platform::audit::{self, AuditRecord};
use renda_platform::clock::SharedClock;
use renda_platform::counties::CountyCode;
use renda_platform::deadline::local_date;
use renda_platform::outbox;
use renda_platform::wire::timestamp;
use renda_proto::suggestion::v1 as pb;
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::domain::policy::Policy;
use crate::domain::reminders::{Notice, due_notices};
use crate::store::{self, OpenAssignment};
use crate::{SERVICE, events};

/// Reminder windows open at most this many days before a deadline (policy bound).
const LONGEST_LEAD_DAYS: i64 = 60;

#[derive(Clone)]
pub struct Scheduler {
    pool: PgPool,
    clock: SharedClock,
    interval: Duration,
}

impl Scheduler {
    pub fn new(pool: PgPool, clock: SharedClock) -> Self {
        Self { pool, clock, interval: Duration::from_secs(60) }
    }

    /// Sends every notice due now; returns how many were sent by this call.
    pub async fn tick(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let today = local_date(now);
        let open =
            store::open_assignments_due_by(&self.pool, today + chrono::Duration::days(LONGEST_LEAD_DAYS)).await?;
        let mut policies: HashMap<String, Policy> = HashMap::new();
        let mut sent = 0;
        for assignment in open {
            let Ok(county) = assignment.county.parse::<CountyCode>() else { continue };
            let policy = match policies.get(county.as_str()) {
                Some(p) => p.clone(),
                None => {
                    let mut conn = self.pool.acquire().await?;
                    let p = store::policy(&mut conn, &county).await?;
                    policies.insert(county.to_string(), p.clone());
                    p
                }
            };
            for notice in due_notices(assignment.due_date, today, &policy) {
                if self.send(&county, &assignment, notice, now).await? {
                    sent += 1;
                }
            }
        }
        if sent > 0 {
            tracing::info!(sent, "reminders and escalations sent");
        }
        Ok(sent)
    }

    /// Sends one notice unless it was sent before or the assignment is no longer open.
    async fn send(
        &self,
        county: &CountyCode,
        open: &OpenAssignment,
        notice: Notice,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // Lock the suggestion so a reply committing now is seen before deciding.
        let Some(row) = store::lock(&mut tx, county, open.suggestion_id).await? else { return Ok(false) };
        let current = store::current_assignment(&mut tx, open.suggestion_id).await?;
        let still_open = row.state().is_being_handled()
            && current.as_ref().is_some_and(|a| a.id == open.assignment_id && a.replied_at.is_none());
        if !still_open || !store::record_notice(&mut tx, open.assignment_id, &notice.key(), now).await? {
            return Ok(false);
        }
        let reference = events::reference(&row, current.as_ref(), row.version);
        let due_date = open.due_date.to_string();
        let days_overdue = i32::try_from((local_date(now) - open.due_date).num_days().max(0)).unwrap_or(i32::MAX);
        let key = open.suggestion_id.to_string();
        let at = Some(timestamp(now));
        match notice {
            Notice::Before(days) => {
                let event = pb::ReminderDue {
                    suggestion: Some(reference),
                    agency: open.lead_agency.clone(),
                    due_date,
                    days_before: i32::try_from(days).unwrap_or(i32::MAX),
                    round: open.round,
                    at,
                };
                outbox::enqueue(&mut tx, SERVICE, county, &key, &event, now).await?;
            }
            Notice::Overdue => {
                let event = pb::SuggestionOverdue {
                    suggestion: Some(reference),
                    agency: open.lead_agency.clone(),
                    due_date,
                    round: open.round,
                    at,
                };
                outbox::enqueue(&mut tx, SERVICE, county, &key, &event, now).await?;
            }
            Notice::Urge | Notice::Supervise => {
                let (stage, reason) = if notice == Notice::Urge {
                    (
                        pb::EscalationStage::Urge,
                        format!("{days_overdue} days past the deadline: 催办 to the agency head"),
                    )
                } else {
                    (
                        pb::EscalationStage::Supervise,
                        format!("{days_overdue} days past the deadline: 督办 by congress staff"),
                    )
                };
                let event = pb::SuggestionEscalated {
                    suggestion: Some(reference),
                    agency: open.lead_agency.clone(),
                    stage: stage as i32,
                    due_date,
                    days_overdue,
                    reason,
                    round: open.round,
                    at,
                };
                outbox::enqueue(&mut tx, SERVICE, county, &key, &event, now).await?;
            }
        }
        if !matches!(notice, Notice::Before(_)) {
            // Escalations are part of the suggestion's record.
            audit::append(
                &mut tx,
                &AuditRecord {
                    county,
                    entity: "suggestion",
                    entity_id: &key,
                    action: &notice.key(),
                    actor_id: "system",
                    from_state: row.state().as_str(),
                    to_state: row.state().as_str(),
                    detail: json!({"agency": open.lead_agency, "due_date": open.due_date.to_string(), "round": open.round}),
                    at: now,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ticks until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "reminder tick failed, will retry");
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
        tracing::info!("reminder scheduler stopped");
    }
}
