//! Deadline arithmetic for handling deputies' suggestions, on county-local dates.
//!
//! Each county sets a policy (DESIGN.md §5): N months from assignment (代表法: answer
//! within 3 months, at most 6 with an extension), N calendar days, or N working days on
//! the official holiday calendar. Where a day the computation needs lies in a year with
//! no calendar loaded, the day is taken as Monday-to-Friday and the result is marked
//! [`provisional`](Deadline::provisional) with the years missing, so the product can say
//! so and recompute once the State Council's notice is loaded.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Days, FixedOffset, Months, NaiveDate, Utc};

use crate::calendar::HolidayCalendar;

/// 代表法: the agency answers a suggestion within three months of its assignment.
pub const STATUTORY_MONTHS: u32 = 3;

/// 代表法: a complex suggestion may take at most six months.
pub const MAX_EXTENDED_MONTHS: u32 = 6;

/// Asia/Shanghai: UTC+8 all year (China has had no daylight saving since 1991), so a fixed
/// offset is exact for every date a suggestion can have and needs no time-zone database.
const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// The county-local (Asia/Shanghai) date of an instant: deadlines are kept in days as
/// people there count them, while instants are stored in UTC.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&CHINA).date_naive()
}

/// How long an agency has, as a county's policy states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Months(u32),
    CalendarDays(u32),
    WorkingDays(u32),
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match *self {
            Self::Months(n) => (n, "month"),
            Self::CalendarDays(n) => (n, "calendar day"),
            Self::WorkingDays(n) => (n, "working day"),
        };
        write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

/// A computed due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// The last day on which the answer is on time.
    pub due: NaiveDate,
    /// Some day consulted lies in a year without a calendar and was taken as
    /// Monday-to-Friday: the date may move once that year's notice is loaded.
    pub provisional: bool,
    /// Those years, ascending, each once; empty when not provisional.
    pub missing_years: Vec<i32>,
}

impl Deadline {
    /// Whole days past the due date on `today` (0 up to and including the due date).
    pub fn days_overdue(&self, today: NaiveDate) -> i64 {
        days_overdue(self.due, today)
    }
}

/// The due date of a period that starts on `start` (the day of assignment, which is not
/// counted).
///
/// - `Months(n)`: the same day of the month `n` months later, or that month's last day
///   when it is shorter (see [`add_months`]).
/// - `CalendarDays(n)`: `start + n`.
/// - `WorkingDays(n)`: the `n`-th working day after `start`; make-up Saturdays and Sundays
///   count, days off on weekdays do not. `WorkingDays(0)` is `start` itself.
///
/// A due date that is not a working day moves forward to the next working day. This is
/// the rule of Chinese procedure law (民事诉讼法: 期间届满的最后一日是法定休假日的，以法定
/// 休假日后的第一日为期间届满的日期): an agency must not lose days because the period ends
/// during 国庆节, and an answer cannot be delivered while offices are closed. A due date on
/// a make-up working Saturday stays there. So every due date is a working day.
pub fn due_date(start: NaiveDate, period: Period, calendar: &HolidayCalendar) -> Deadline {
    let mut days = Consulted::new(calendar);
    let due = match period {
        Period::Months(n) => days.roll_forward(add_months(start, n)),
        Period::CalendarDays(n) => {
            days.roll_forward(start.checked_add_days(Days::new(u64::from(n))).unwrap_or(NaiveDate::MAX))
        }
        Period::WorkingDays(0) => days.roll_forward(start),
        Period::WorkingDays(n) => days.nth_working_day_after(start, n),
    };
    days.finish(due)
}

/// `date` plus `n` months, on the same day of the month or, when the target month is
/// shorter, on its last day (Nov 30 + 3 months = Feb 28, or 29 in a leap year): a month
/// period ends in its `n`-th month, never spills into the next. Saturates at the last
/// representable date rather than panicking.
pub fn add_months(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_add_months(Months::new(n)).unwrap_or(NaiveDate::MAX)
}

/// The latest due date the law allows: `max_months` (normally [`MAX_EXTENDED_MONTHS`])
/// after assignment. Not moved past holidays: it is the statutory cap an extension is
/// checked against, so it must not depend on which calendars are loaded, and never
/// provisional.
pub fn latest_allowed(assigned_on: NaiveDate, max_months: u32) -> NaiveDate {
    add_months(assigned_on, max_months)
}

/// Whole days past `due` on `today`; 0 on or before the due date, since the due day is
/// itself on time.
pub fn days_overdue(due: NaiveDate, today: NaiveDate) -> i64 {
    today.signed_duration_since(due).num_days().max(0)
}

/// The calendar lookups of one computation, remembering the years it had to guess.
struct Consulted<'a> {
    calendar: &'a HolidayCalendar,
    missing: BTreeSet<i32>,
}

impl<'a> Consulted<'a> {
    fn new(calendar: &'a HolidayCalendar) -> Self {
        Self { calendar, missing: BTreeSet::new() }
    }

    fn is_working(&mut self, date: NaiveDate) -> bool {
        let (working, missing) = self.calendar.is_working_day_or_weekday(date);
        if let Some(year) = missing {
            self.missing.insert(year);
        }
        working
    }

    /// `date` if it is a working day, else the next one (or the last representable date).
    fn roll_forward(&mut self, mut date: NaiveDate) -> NaiveDate {
        while !self.is_working(date) {
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        date
    }

    fn nth_working_day_after(&mut self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut date = start;
        let mut left = n;
        while left > 0 {
            let Some(next) = date.succ_opt() else { break };
            date = next;
            if self.is_working(date) {
                left -= 1;
            }
        }
        date
    }

    fn finish(self, due: NaiveDate) -> Deadline {
        let missing_years: Vec<i32> = self.missing.into_iter().collect();
        Deadline { due, provisional: !missing_years.is_empty(), missing_years }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, TimeZone};

    use super::*;
    use crate::calendar::YearCalendar;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn shipped() -> HolidayCalendar {
        HolidayCalendar::shipped().expect("shipped calendar parses")
    }

    /// A made-up 2027 notice (not the real one): 元旦 on Friday 2027-01-01 only, a make-up
    /// Sunday on 2027-02-07 and 春节 2027-02-08..12.
    fn with_made_up_2027() -> HolidayCalendar {
        let tsv = "# made up for tests\n\
                   2027-01-01\toff\t元旦\n\
                   2027-02-07\twork\t春节\n\
                   2027-02-08\toff\t春节\n\
                   2027-02-09\toff\t春节\n\
                   2027-02-10\toff\t春节\n\
                   2027-02-11\toff\t春节\n\
                   2027-02-12\toff\t春节\n";
        let mut calendar = shipped();
        calendar.add_year(YearCalendar::parse_tsv(2027, tsv).expect("made-up 2027 parses"));
        calendar
    }

    fn firm(due: NaiveDate) -> Deadline {
        Deadline { due, provisional: false, missing_years: vec![] }
    }

    fn provisional(due: NaiveDate, missing_years: Vec<i32>) -> Deadline {
        Deadline { due, provisional: true, missing_years }
    }

    #[test]
    fn local_date_is_utc_plus_eight() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).single().expect("valid instant");
        assert_eq!(local_date(at), d(2027, 1, 1));
        let just_before = Utc.with_ymd_and_hms(2026, 12, 31, 15, 59, 59).single().expect("valid instant");
        assert_eq!(local_date(just_before), d(2026, 12, 31));
    }

    #[test]
    fn periods_display_in_words() {
        assert_eq!(Period::Months(3).to_string(), "3 months");
        assert_eq!(Period::CalendarDays(30).to_string(), "30 calendar days");
        assert_eq!(Period::WorkingDays(15).to_string(), "15 working days");
        assert_eq!(Period::Months(1).to_string(), "1 month");
        assert_eq!(Period::WorkingDays(1).to_string(), "1 working day");
    }

    #[test]
    fn ten_working_days_across_spring_festival_skip_the_holiday_and_count_make_up_saturdays() {
        // Counted: 02-11, 12, 13, Sat 14 (make-up), [15..23 off], 24, 25, 26, 27, Sat 28 (make-up), Mon 03-02.
        let deadline = due_date(d(2026, 2, 10), Period::WorkingDays(10), &shipped());
        assert_eq!(deadline, firm(d(2026, 3, 2)));
    }

    #[test]
    fn the_make_up_saturday_before_spring_festival_is_a_working_day() {
        assert_eq!(due_date(d(2026, 2, 13), Period::WorkingDays(1), &shipped()).due, d(2026, 2, 14));
        assert_eq!(due_date(d(2026, 2, 14), Period::WorkingDays(1), &shipped()).due, d(2026, 2, 24));
    }

    #[test]
    fn working_days_across_mid_autumn_and_national_day() {
        let calendar = shipped();
        // 09-25..27 off; 09-28, 29, 30 work; 10-01..07 off; 10-08, 09 work.
        assert_eq!(due_date(d(2026, 9, 24), Period::WorkingDays(5), &calendar), firm(d(2026, 10, 9)));
        // Saturday 10-10 is a make-up working day, Sunday 10-11 is not.
        assert_eq!(due_date(d(2026, 9, 24), Period::WorkingDays(6), &calendar), firm(d(2026, 10, 10)));
        assert_eq!(due_date(d(2026, 9, 24), Period::WorkingDays(7), &calendar), firm(d(2026, 10, 12)));
    }

    #[test]
    fn the_make_up_sunday_before_national_day_is_a_working_day() {
        // Friday 09-18, then Saturday 09-19 off, Sunday 09-20 a make-up working day.
        assert_eq!(due_date(d(2026, 9, 18), Period::WorkingDays(1), &shipped()), firm(d(2026, 9, 20)));
    }

    #[test]
    fn working_days_start_counting_the_day_after_start() {
        // Monday 2026-03-02: Tuesday is the first working day after it.
        assert_eq!(due_date(d(2026, 3, 2), Period::WorkingDays(1), &shipped()).due, d(2026, 3, 3));
        assert_eq!(due_date(d(2026, 3, 2), Period::WorkingDays(5), &shipped()).due, d(2026, 3, 9));
    }

    #[test]
    fn zero_working_days_is_the_start_rolled_to_a_working_day() {
        assert_eq!(due_date(d(2026, 3, 3), Period::WorkingDays(0), &shipped()), firm(d(2026, 3, 3)));
        assert_eq!(due_date(d(2026, 10, 3), Period::WorkingDays(0), &shipped()), firm(d(2026, 10, 8)));
    }

    #[test]
    fn three_months_from_november_30_clamp_to_february_end() {
        assert_eq!(add_months(d(2026, 11, 30), 3), d(2027, 2, 28));
        assert_eq!(add_months(d(2027, 11, 30), 3), d(2028, 2, 29), "leap year");
        assert_eq!(add_months(d(2026, 1, 31), 1), d(2026, 2, 28));
        assert_eq!(add_months(d(2026, 8, 31), 1), d(2026, 9, 30));
        assert_eq!(add_months(d(2026, 3, 15), 12), d(2027, 3, 15));
        assert_eq!(add_months(d(2026, 3, 15), 0), d(2026, 3, 15));
    }

    #[test]
    fn months_deadline_from_november_30_lands_on_a_sunday_and_rolls_to_monday() {
        // 2027-02-28 is a Sunday; 2027 has no calendar, so it is only provisional.
        let deadline = due_date(d(2026, 11, 30), Period::Months(3), &shipped());
        assert_eq!(deadline, provisional(d(2027, 3, 1), vec![2027]));
    }

    #[test]
    fn months_deadline_on_a_weekend_rolls_to_monday() {
        // 2026-06-06 is a Saturday.
        let deadline = due_date(d(2026, 3, 6), Period::Months(3), &shipped());
        assert_eq!(deadline, firm(d(2026, 6, 8)));
    }

    #[test]
    fn months_deadline_on_a_working_day_stays() {
        assert_eq!(due_date(d(2026, 3, 10), Period::Months(STATUTORY_MONTHS), &shipped()), firm(d(2026, 6, 10)));
    }

    #[test]
    fn months_deadline_on_national_day_rolls_past_the_holiday() {
        assert_eq!(due_date(d(2026, 7, 1), Period::Months(3), &shipped()), firm(d(2026, 10, 8)));
    }

    #[test]
    fn calendar_days_deadline_on_october_3_rolls_to_october_8() {
        let deadline = due_date(d(2026, 9, 3), Period::CalendarDays(30), &shipped());
        assert_eq!(deadline, firm(d(2026, 10, 8)));
    }

    #[test]
    fn calendar_days_deadline_on_a_make_up_saturday_stays() {
        assert_eq!(due_date(d(2026, 2, 4), Period::CalendarDays(10), &shipped()), firm(d(2026, 2, 14)));
    }

    #[test]
    fn calendar_days_deadline_on_a_weekday_holiday_rolls() {
        // Wednesday 2026-02-18 is in 春节; the next working day is Tuesday 02-24.
        assert_eq!(due_date(d(2026, 2, 8), Period::CalendarDays(10), &shipped()), firm(d(2026, 2, 24)));
    }

    #[test]
    fn working_days_crossing_into_2027_without_a_calendar_are_provisional() {
        // Thursday 2026-12-24; on plain weekdays Friday 2027-01-01 counts as a working day.
        let deadline = due_date(d(2026, 12, 24), Period::WorkingDays(10), &shipped());
        assert_eq!(deadline, provisional(d(2027, 1, 7), vec![2027]));
    }

    #[test]
    fn working_days_crossing_into_2027_with_its_calendar_are_firm() {
        // With 2027-01-01 off, the tenth working day is one later.
        let deadline = due_date(d(2026, 12, 24), Period::WorkingDays(10), &with_made_up_2027());
        assert_eq!(deadline, firm(d(2027, 1, 8)));
    }

    #[test]
    fn months_crossing_into_2027_with_its_calendar_are_firm() {
        let deadline = due_date(d(2026, 11, 30), Period::Months(3), &with_made_up_2027());
        assert_eq!(deadline, firm(d(2027, 3, 1)));
        let into_spring_festival = due_date(d(2026, 11, 9), Period::Months(3), &with_made_up_2027());
        assert_eq!(into_spring_festival, firm(d(2027, 2, 15)));
    }

    #[test]
    fn calendar_days_landing_in_2027_without_a_calendar_are_provisional() {
        let deadline = due_date(d(2026, 12, 15), Period::CalendarDays(30), &shipped());
        assert_eq!(deadline, provisional(d(2027, 1, 14), vec![2027]));
    }

    #[test]
    fn a_deadline_within_loaded_years_is_not_provisional_even_if_late_in_the_year() {
        assert_eq!(due_date(d(2026, 12, 1), Period::WorkingDays(20), &shipped()), firm(d(2026, 12, 29)));
    }

    #[test]
    fn missing_years_are_sorted_and_listed_once() {
        let deadline = due_date(d(2026, 6, 1), Period::WorkingDays(600), &shipped());
        assert!(deadline.provisional);
        assert_eq!(deadline.missing_years, vec![2027, 2028]);
    }

    #[test]
    fn calendar_days_do_not_flag_a_year_they_skip_over() {
        // 2027 lies between start and due, but no day of it decides the due date.
        let year_2028 = YearCalendar::parse_tsv(2028, "2028-01-01\toff\t元旦\n").expect("parses");
        let mut calendar = shipped();
        calendar.add_year(year_2028);
        let deadline = due_date(d(2026, 12, 1), Period::CalendarDays(400), &calendar);
        assert_eq!(deadline, firm(d(2028, 1, 5)));
    }

    #[test]
    fn with_no_calendar_at_all_everything_is_provisional_on_weekdays() {
        let deadline = due_date(d(2026, 10, 1), Period::WorkingDays(3), &HolidayCalendar::default());
        assert_eq!(deadline, provisional(d(2026, 10, 6), vec![2026]));
    }

    #[test]
    fn every_2026_due_date_is_a_working_day() {
        let calendar = with_made_up_2027();
        let mut start = d(2026, 1, 1);
        while start.year() == 2026 {
            for period in [Period::Months(3), Period::CalendarDays(30), Period::WorkingDays(15), Period::WorkingDays(0)]
            {
                let deadline = due_date(start, period, &calendar);
                assert!(!deadline.provisional, "{start} + {period}");
                assert_eq!(calendar.day(deadline.due), Ok(true), "{start} + {period} = {}", deadline.due);
            }
            start = start.succ_opt().expect("next day");
        }
    }

    #[test]
    fn latest_allowed_is_six_months_without_rolling() {
        assert_eq!(latest_allowed(d(2026, 4, 1), MAX_EXTENDED_MONTHS), d(2026, 10, 1), "国庆节, not moved");
        assert_eq!(latest_allowed(d(2026, 8, 31), MAX_EXTENDED_MONTHS), d(2027, 2, 28), "clamped");
    }

    #[test]
    fn days_overdue_is_zero_until_the_day_after_the_due_date() {
        let due = d(2026, 10, 8);
        assert_eq!(days_overdue(due, d(2026, 10, 1)), 0);
        assert_eq!(days_overdue(due, due), 0);
        assert_eq!(days_overdue(due, d(2026, 10, 9)), 1);
        assert_eq!(days_overdue(due, d(2026, 11, 8)), 31);
        assert_eq!(firm(due).days_overdue(d(2026, 10, 10)), 2);
    }

    #[test]
    fn huge_periods_saturate_instead_of_panicking() {
        let calendar = HolidayCalendar::default();
        assert_eq!(add_months(d(2026, 1, 1), u32::MAX), NaiveDate::MAX);
        assert_eq!(due_date(d(2026, 1, 1), Period::CalendarDays(u32::MAX), &calendar).due, NaiveDate::MAX);
    }
}
