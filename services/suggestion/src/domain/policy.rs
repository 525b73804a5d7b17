//! A county's rules for suggestions: deadlines, reminders, escalation, auto-assignment and
//! the motion threshold. Defaults follow the Deputies Law (代表法): reply within three
//! months of assignment, six at most with extension; re-handling gets one month.

use renda_platform::deadline::Period;
use renda_platform::error::{FieldViolation, Violations};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineMode {
    Months,
    CalendarDays,
    WorkingDays,
}

impl DeadlineMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Months => "months",
            Self::CalendarDays => "calendar_days",
            Self::WorkingDays => "working_days",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Months, Self::CalendarDays, Self::WorkingDays].into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: DeadlineMode,
    pub handling_period: u32,
    pub rehandling_period: u32,
    pub max_months_with_extension: u32,
    /// Days before the deadline on which the lead agency is reminded, largest first.
    pub remind_days_before: Vec<u32>,
    /// 催办 to the agency head this many days after the deadline.
    pub urge_after_days: u32,
    /// 督办 to congress staff this many days after the deadline.
    pub supervise_after_days: u32,
    pub auto_assign: bool,
    pub motion_min_cosigners: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: DeadlineMode::Months,
            handling_period: 3,
            rehandling_period: 1,
            max_months_with_extension: 6,
            remind_days_before: vec![7, 3, 1],
            urge_after_days: 3,
            supervise_after_days: 7,
            auto_assign: false,
            motion_min_cosigners: 10,
        }
    }
}

/// A policy as a client proposes it, before validation.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub mode: Option<DeadlineMode>,
    pub handling_period: i64,
    pub rehandling_period: i64,
    pub max_months_with_extension: i64,
    pub remind_days_before: Vec<i64>,
    pub urge_after_days: i64,
    pub supervise_after_days: i64,
    pub auto_assign: bool,
    pub motion_min_cosigners: i64,
}

fn bounded(v: &mut Violations, field: &str, value: i64, min: i64, max: i64) -> u32 {
    if value < min || value > max {
        v.add(field, format!("must be between {min} and {max}, got {value}"));
        return 0;
    }
    u32::try_from(value).unwrap_or(0)
}

impl Policy {
    /// Validates a proposed policy, naming every bad field.
    pub fn parse(input: &PolicyInput) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Violations::new();
        let mode = input.mode.unwrap_or_else(|| {
            v.add("mode", "must be months, calendar_days or working_days");
            DeadlineMode::Months
        });
        let (max_period, unit) = match mode {
            DeadlineMode::Months => (6, "months"),
            DeadlineMode::CalendarDays => (183, "days"),
            DeadlineMode::WorkingDays => (130, "working days"),
        };
        let handling_period = bounded(&mut v, "handling_period", input.handling_period, 1, max_period);
        let rehandling_period = bounded(&mut v, "rehandling_period", input.rehandling_period, 1, max_period);
        if rehandling_period > handling_period && handling_period > 0 {
            v.add("rehandling_period", format!("must not exceed the handling period ({handling_period} {unit})"));
        }
        let max_months = bounded(&mut v, "max_months_with_extension", input.max_months_with_extension, 1, 6);
        let mut days = Vec::new();
        for (i, d) in input.remind_days_before.iter().enumerate() {
            let day = bounded(&mut v, &format!("remind_days_before[{i}]"), *d, 1, 60);
            if day > 0 && days.contains(&day) {
                v.add(format!("remind_days_before[{i}]"), format!("{day} is listed twice"));
            }
            days.push(day);
        }
        days.sort_unstable_by(|a, b| b.cmp(a));
        let urge = bounded(&mut v, "urge_after_days", input.urge_after_days, 0, 60);
        let supervise = bounded(&mut v, "supervise_after_days", input.supervise_after_days, 0, 90);
        if supervise < urge {
            v.add("supervise_after_days", "must not come before urge_after_days");
        }
        let cosigners = bounded(&mut v, "motion_min_cosigners", input.motion_min_cosigners, 1, 100);
        v.finish()?;
        Ok(Self {
            mode,
            handling_period,
            rehandling_period,
            max_months_with_extension: max_months,
            remind_days_before: days,
            urge_after_days: urge,
            supervise_after_days: supervise,
            auto_assign: input.auto_assign,
            motion_min_cosigners: cosigners,
        })
    }

    fn period(&self, n: u32) -> Period {
        match self.mode {
            DeadlineMode::Months => Period::Months(n),
            DeadlineMode::CalendarDays => Period::CalendarDays(n),
            DeadlineMode::WorkingDays => Period::WorkingDays(n),
        }
    }

    /// The period of a first handling.
    pub fn handling(&self) -> Period {
        self.period(self.handling_period)
    }

    /// The period of a re-handling after 不满意 (round 2 on).
    pub fn rehandling(&self) -> Period {
        self.period(self.rehandling_period)
    }

    pub fn period_for_round(&self, round: i32) -> Period {
        if round <= 1 { self.handling() } else { self.rehandling() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PolicyInput {
        PolicyInput {
            mode: Some(DeadlineMode::WorkingDays),
            handling_period: 20,
            rehandling_period: 10,
            max_months_with_extension: 6,
            remind_days_before: vec![1, 7, 3],
            urge_after_days: 2,
            supervise_after_days: 5,
            auto_assign: true,
            motion_min_cosigners: 10,
        }
    }

    #[test]
    fn a_valid_policy_sorts_its_reminders() {
        let policy = Policy::parse(&input()).expect("valid");
        assert_eq!(policy.remind_days_before, [7, 3, 1]);
        assert_eq!(policy.handling(), Period::WorkingDays(20));
        assert_eq!(policy.period_for_round(2), Period::WorkingDays(10));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = PolicyInput {
            mode: Some(DeadlineMode::Months),
            handling_period: 9,
            rehandling_period: 0,
            remind_days_before: vec![3, 3],
            urge_after_days: 5,
            supervise_after_days: 2,
            motion_min_cosigners: 0,
            ..input()
        };
        let fields: Vec<String> = Policy::parse(&bad).expect_err("invalid").into_iter().map(|v| v.field).collect();
        assert_eq!(
            fields,
            [
                "handling_period",
                "rehandling_period",
                "remind_days_before[1]",
                "supervise_after_days",
                "motion_min_cosigners"
            ]
        );
    }

    #[test]
    fn the_default_is_the_deputies_law() {
        let p = Policy::default();
        assert_eq!(p.handling(), Period::Months(3));
        assert_eq!(p.rehandling(), Period::Months(1));
        assert_eq!(p.max_months_with_extension, 6);
    }
}
