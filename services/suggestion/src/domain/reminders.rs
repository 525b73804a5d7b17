//! The reminder and escalation schedule of one assignment, as a pure function of its
//! deadline, the county's policy and today's county-local date.
//!
//! Before the deadline the lead agency is reminded `remind_days_before` days ahead; after
//! it passes without a reply: overdue (提醒) at once, 催办 to the agency head after
//! `urge_after_days`, 督办 to congress staff after `supervise_after_days`. The caller records
//! each notice it sends under [`Notice::key`] so each fires exactly once.

use chrono::NaiveDate;

use super::policy::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    /// N days before the deadline.
    Before(u32),
    Overdue,
    /// 催办
    Urge,
    /// 督办
    Supervise,
}

impl Notice {
    /// The key under which a sent notice is recorded per assignment.
    pub fn key(self) -> String {
        match self {
            Self::Before(days) => format!("before_{days}"),
            Self::Overdue => "overdue".to_owned(),
            Self::Urge => "urge".to_owned(),
            Self::Supervise => "supervise".to_owned(),
        }
    }
}

/// The notices due on `today` for a deadline `due` still unanswered.
///
/// Of the reminders before the deadline only the latest due one is returned: after an
/// outage a week-ahead reminder is not sent when the one-day reminder is already due.
/// The stages after the deadline are each returned once due, in order.
pub fn due_notices(due: NaiveDate, today: NaiveDate, policy: &Policy) -> Vec<Notice> {
    let days_left = (due - today).num_days();
    if days_left >= 0 {
        let latest = policy.remind_days_before.iter().copied().filter(|d| i64::from(*d) >= days_left).min();
        return latest.map(Notice::Before).into_iter().collect();
    }
    let overdue_by = -days_left;
    let mut notices = vec![Notice::Overdue];
    if overdue_by >= i64::from(policy.urge_after_days.max(1)) {
        notices.push(Notice::Urge);
    }
    if overdue_by >= i64::from(policy.supervise_after_days.max(1)) {
        notices.push(Notice::Supervise);
    }
    notices
}

/// The earliest date any notice can be due for a deadline: the caller scans only
/// assignments whose reminder window has opened.
pub fn window_opens(due: NaiveDate, policy: &Policy) -> NaiveDate {
    let lead = policy.remind_days_before.iter().copied().max().unwrap_or(0);
    due - chrono::Duration::days(i64::from(lead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn reminders_come_7_3_and_1_days_ahead() {
        let policy = Policy::default();
        let due = d("2026-06-30");
        assert_eq!(due_notices(due, d("2026-06-22"), &policy), []);
        assert_eq!(due_notices(due, d("2026-06-23"), &policy), [Notice::Before(7)]);
        assert_eq!(due_notices(due, d("2026-06-26"), &policy), [Notice::Before(7)]);
        assert_eq!(due_notices(due, d("2026-06-27"), &policy), [Notice::Before(3)]);
        assert_eq!(due_notices(due, d("2026-06-29"), &policy), [Notice::Before(1)]);
        assert_eq!(due_notices(due, d("2026-06-30"), &policy), [Notice::Before(1)], "the last day still counts");
        assert_eq!(window_opens(due, &policy), d("2026-06-23"));
    }

    #[test]
    fn after_the_deadline_escalation_is_staged() {
        let policy = Policy::default(); // urge after 3 days, supervise after 7
        let due = d("2026-06-30");
        assert_eq!(due_notices(due, d("2026-07-01"), &policy), [Notice::Overdue]);
        assert_eq!(due_notices(due, d("2026-07-03"), &policy), [Notice::Overdue, Notice::Urge]);
        assert_eq!(due_notices(due, d("2026-07-07"), &policy), [Notice::Overdue, Notice::Urge, Notice::Supervise]);
    }

    #[test]
    fn keys_tell_notices_apart() {
        let keys: std::collections::HashSet<String> =
            [Notice::Before(7), Notice::Before(3), Notice::Overdue, Notice::Urge, Notice::Supervise]
                .into_iter()
                .map(Notice::key)
                .collect();
        assert_eq!(keys.len(), 5);
    }
}
