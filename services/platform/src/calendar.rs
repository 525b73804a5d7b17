//! China's official holiday calendar: which days are working days.
//!
//! Deadlines counted in working days depend on the State Council's yearly notice, which
//! moves days off onto weekdays and turns some weekend days into working days (调休). The
//! notice is published each November for the next year, so the calendar is data, one
//! file per year (`deploy/reference/cn-public-holidays-YYYY.tsv`), loaded without a
//! release. A year with no file is never guessed silently: [`HolidayCalendar::day`] says
//! [`MissingYear`], and the deadline code flags what it computed on plain weekdays.
//!
//! Everything here is pure; reading the files is the caller's business.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

/// The calendars compiled into the binary, as `(year, tsv)`: a fresh install knows these
/// years even before any file is loaded.
pub const SHIPPED: &[(i32, &str)] = &[(2026, include_str!("../../../deploy/reference/cn-public-holidays-2026.tsv"))];

/// What the notice says of a day it lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// A day off, also when it falls on a weekday.
    Off,
    /// A weekend day that is a working day (a make-up day, 调休).
    Work,
}

impl DayKind {
    /// The spelling used in the calendar files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Work => "work",
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a calendar file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// The holiday the day belongs to (元旦, 春节, …), shown to users when a deadline moves.
    pub name: String,
}

/// The notice for one year: only the days that differ from "Monday to Friday work".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    pub year: i32,
    /// Sorted by date when parsed.
    pub entries: Vec<CalendarEntry>,
}

/// Why a calendar file was refused. Loading stops at the first error: a half-loaded year
/// would give wrong deadlines without anyone noticing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("holiday calendar {year}, line {line}: {problem}")]
    Line { year: i32, line: usize, problem: LineProblem },
    /// Every year has 元旦 and 春节; a file without entries is a template or a truncated
    /// download, and loading it would make the year look known while it is not.
    #[error("holiday calendar {year} lists no days")]
    Empty { year: i32 },
}

impl CalendarError {
    /// The 1-based line the error is on, if it is about a line.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Line { line, .. } => Some(*line),
            Self::Empty { .. } => None,
        }
    }
}

/// What is wrong with one line of a calendar file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error("expected 3 tab-separated fields (date, kind, name), found {found}")]
    FieldCount { found: usize },
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    BadDate(String),
    #[error("{date} is not in the calendar's year")]
    OutsideYear { date: NaiveDate },
    #[error("unknown kind `{0}` (expected `off` or `work`)")]
    UnknownKind(String),
    #[error("the holiday name is empty")]
    EmptyName,
    #[error("{date} is already listed on line {first_line}")]
    Duplicate { date: NaiveDate, first_line: usize },
    /// `work` marks a weekend day that is worked; on a weekday it means nothing, so it is
    /// most likely a typo in the date.
    #[error("{date} is a {weekday}; `work` marks a weekend day that is a working day")]
    WorkOnWeekday { date: NaiveDate, weekday: Weekday },
}

/// The year is not loaded, so whether the day is worked is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("no holiday calendar loaded for {0}")]
pub struct MissingYear(pub i32);

/// Monday to Friday: the rule on days a calendar does not list, and the fallback for
/// years without a calendar.
pub fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The year a calendar file is for, from its name `cn-public-holidays-YYYY.tsv`; other
/// names give `None`, so a loader can scan a directory and skip what is not a calendar.
pub fn year_of_file_name(file_name: &str) -> Option<i32> {
    let digits = file_name.strip_prefix("cn-public-holidays-")?.strip_suffix(".tsv")?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl YearCalendar {
    /// Parses one year's file: `#` comments and blank lines are skipped; every other line
    /// is `YYYY-MM-DD<TAB>off|work<TAB>name`. Errors name the 1-based line.
    pub fn parse_tsv(year: i32, tsv: &str) -> Result<Self, CalendarError> {
        let mut first_line_of: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        let mut entries = Vec::new();
        for (index, raw) in tsv.lines().enumerate() {
            let line = index + 1;
            let text = raw.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let entry = parse_line(year, raw).map_err(|problem| CalendarError::Line { year, line, problem })?;
            match first_line_of.entry(entry.date) {
                Entry::Occupied(first) => {
                    let problem = LineProblem::Duplicate { date: entry.date, first_line: *first.get() };
                    return Err(CalendarError::Line { year, line, problem });
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
            entries.push(entry);
        }
        if entries.is_empty() {
            return Err(CalendarError::Empty { year });
        }
        entries.sort_by_key(|e| e.date);
        Ok(Self { year, entries })
    }

    /// How many days off the notice lists (weekend days included).
    pub fn days_off(&self) -> usize {
        self.entries.iter().filter(|e| e.kind == DayKind::Off).count()
    }

    /// How many weekend days the notice makes working days.
    pub fn make_up_working_days(&self) -> usize {
        self.entries.iter().filter(|e| e.kind == DayKind::Work).count()
    }

    /// The entry for a date, if the notice lists it. A linear scan: a year has about forty
    /// entries, and the fields are public, so sortedness cannot be relied on.
    pub fn entry(&self, date: NaiveDate) -> Option<&CalendarEntry> {
        self.entries.iter().find(|e| e.date == date)
    }
}

fn parse_line(year: i32, text: &str) -> Result<CalendarEntry, LineProblem> {
    let fields: Vec<&str> = text.split('\t').map(str::trim).collect();
    let [date, kind, name] = fields[..] else {
        return Err(LineProblem::FieldCount { found: fields.len() });
    };
    // chrono accepts unpadded numbers; the files are written padded, so insist on it.
    let date = match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        Ok(parsed) if date.len() == 10 => parsed,
        _ => return Err(LineProblem::BadDate(date.to_owned())),
    };
    if date.year() != year {
        return Err(LineProblem::OutsideYear { date });
    }
    let kind = match kind {
        "off" => DayKind::Off,
        "work" => DayKind::Work,
        other => return Err(LineProblem::UnknownKind(other.to_owned())),
    };
    if name.is_empty() {
        return Err(LineProblem::EmptyName);
    }
    if kind == DayKind::Work && is_weekday(date) {
        return Err(LineProblem::WorkOnWeekday { date, weekday: date.weekday() });
    }
    Ok(CalendarEntry { date, kind, name: name.to_owned() })
}

/// The loaded years. Days of a loaded year that its notice does not list follow
/// Monday-to-Friday; days of other years are [`MissingYear`].
#[derive(Debug, Clone, Default)]
pub struct HolidayCalendar {
    years: BTreeMap<i32, YearCalendar>,
}

impl HolidayCalendar {
    /// A calendar of the given years; of two calendars for one year the later wins.
    pub fn with_years(years: impl IntoIterator<Item = YearCalendar>) -> Self {
        let mut calendar = Self::default();
        for year in years {
            calendar.add_year(year);
        }
        calendar
    }

    /// The calendars compiled into the binary ([`SHIPPED`]).
    pub fn shipped() -> Result<Self, CalendarError> {
        let years =
            SHIPPED.iter().map(|(year, tsv)| YearCalendar::parse_tsv(*year, tsv)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self::with_years(years))
    }

    /// Adds a year, replacing (and returning) what was loaded for it: a corrected notice
    /// replaces the old one whole, never merged into it.
    pub fn add_year(&mut self, year: YearCalendar) -> Option<YearCalendar> {
        self.years.insert(year.year, year)
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The loaded years, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// The loaded calendar of a year.
    pub fn year(&self, year: i32) -> Option<&YearCalendar> {
        self.years.get(&year)
    }

    /// The notice's entry for a date (to say "moved past 国庆节"), if its year is loaded
    /// and the notice lists it.
    pub fn entry(&self, date: NaiveDate) -> Option<&CalendarEntry> {
        self.years.get(&date.year())?.entry(date)
    }

    /// Whether `date` is a working day (`true`) or a day off (`false`); an error if its
    /// year is not loaded.
    pub fn day(&self, date: NaiveDate) -> Result<bool, MissingYear> {
        let year = self.years.get(&date.year()).ok_or(MissingYear(date.year()))?;
        Ok(match year.entry(date).map(|e| e.kind) {
            Some(DayKind::Off) => false,
            Some(DayKind::Work) => true,
            None => is_weekday(date),
        })
    }

    /// Like [`day`](Self::day), but for a year that is not loaded answers Monday-to-Friday
    /// and returns that year, so the caller can carry on and flag the result.
    pub fn is_working_day_or_weekday(&self, date: NaiveDate) -> (bool, Option<i32>) {
        match self.day(date) {
            Ok(working) => (working, None),
            Err(MissingYear(year)) => (is_weekday(date), Some(year)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn shipped_2026() -> YearCalendar {
        YearCalendar::parse_tsv(2026, SHIPPED[0].1).expect("shipped 2026 parses")
    }

    fn parse_err(tsv: &str) -> CalendarError {
        YearCalendar::parse_tsv(2026, tsv).expect_err("should be refused")
    }

    fn problem(err: &CalendarError) -> &LineProblem {
        match err {
            CalendarError::Line { problem, .. } => problem,
            CalendarError::Empty { .. } => panic!("expected a line error, got {err}"),
        }
    }

    #[test]
    fn shipped_list_holds_2026() {
        assert_eq!(SHIPPED.iter().map(|(y, _)| *y).collect::<Vec<_>>(), vec![2026]);
    }

    #[test]
    fn shipped_2026_counts_33_days_off_and_6_make_up_working_days() {
        let year = shipped_2026();
        assert_eq!(year.year, 2026);
        assert_eq!(year.days_off(), 33);
        assert_eq!(year.make_up_working_days(), 6);
        assert_eq!(year.entries.len(), 39);
    }

    #[test]
    fn shipped_2026_make_up_working_days_are_the_notices_weekend_days() {
        let work: Vec<NaiveDate> =
            shipped_2026().entries.iter().filter(|e| e.kind == DayKind::Work).map(|e| e.date).collect();
        assert_eq!(
            work,
            vec![d(2026, 1, 4), d(2026, 2, 14), d(2026, 2, 28), d(2026, 5, 9), d(2026, 9, 20), d(2026, 10, 10)]
        );
        assert!(work.iter().all(|date| !is_weekday(*date)));
    }

    #[test]
    fn shipped_2026_entries_are_sorted_and_named() {
        let year = shipped_2026();
        assert!(year.entries.windows(2).all(|w| w[0].date < w[1].date));
        assert_eq!(year.entry(d(2026, 2, 17)).map(|e| e.name.as_str()), Some("春节"));
        assert_eq!(year.entry(d(2026, 10, 10)).map(|e| e.kind), Some(DayKind::Work));
        assert_eq!(year.entry(d(2026, 3, 3)), None);
    }

    #[test]
    fn comments_blank_lines_and_crlf_are_skipped() {
        let tsv = "# header\r\n\r\n   \n2026-01-01\toff\t元旦\r\n  # indented comment\n2026-01-04\twork\t元旦\n";
        let year = YearCalendar::parse_tsv(2026, tsv).expect("parses");
        assert_eq!(year.days_off(), 1);
        assert_eq!(year.make_up_working_days(), 1);
    }

    #[test]
    fn entries_are_sorted_whatever_the_file_order() {
        let year = YearCalendar::parse_tsv(2026, "2026-05-01\toff\t劳动节\n2026-01-01\toff\t元旦\n").expect("parses");
        assert_eq!(year.entries[0].date, d(2026, 1, 1));
    }

    #[test]
    fn an_off_entry_on_a_weekend_is_allowed() {
        // 2026-02-21 is a Saturday inside 春节.
        let year = YearCalendar::parse_tsv(2026, "2026-02-21\toff\t春节\n").expect("parses");
        assert_eq!(year.days_off(), 1);
    }

    #[test]
    fn a_bad_date_is_refused_with_its_line_number() {
        let err = parse_err("# c\n2026-01-01\toff\t元旦\n2026-02-30\toff\tx\n");
        assert_eq!(err.line(), Some(3));
        assert_eq!(problem(&err), &LineProblem::BadDate("2026-02-30".into()));
    }

    #[test]
    fn an_unpadded_date_is_refused() {
        let err = parse_err("2026-1-1\toff\t元旦\n");
        assert_eq!(err.line(), Some(1));
        assert_eq!(problem(&err), &LineProblem::BadDate("2026-1-1".into()));
    }

    #[test]
    fn a_date_outside_the_year_is_refused_with_its_line_number() {
        let err = parse_err("2026-01-01\toff\t元旦\n\n2027-01-01\toff\t元旦\n");
        assert_eq!(err.line(), Some(3));
        assert_eq!(problem(&err), &LineProblem::OutsideYear { date: d(2027, 1, 1) });
    }

    #[test]
    fn an_unknown_kind_is_refused_with_its_line_number() {
        let err = parse_err("2026-01-01\toff\t元旦\n2026-01-02\tholiday\t元旦\n");
        assert_eq!(err.line(), Some(2));
        assert_eq!(problem(&err), &LineProblem::UnknownKind("holiday".into()));
    }

    #[test]
    fn a_duplicate_date_is_refused_naming_both_lines() {
        let err = parse_err("2026-01-01\toff\t元旦\n# again\n2026-01-01\toff\t元旦\n");
        assert_eq!(err.line(), Some(3));
        assert_eq!(problem(&err), &LineProblem::Duplicate { date: d(2026, 1, 1), first_line: 1 });
    }

    #[test]
    fn a_work_entry_on_a_weekday_is_refused_with_its_line_number() {
        // 2026-01-05 is a Monday.
        let err = parse_err("2026-01-01\toff\t元旦\n2026-01-05\twork\t元旦\n");
        assert_eq!(err.line(), Some(2));
        assert_eq!(problem(&err), &LineProblem::WorkOnWeekday { date: d(2026, 1, 5), weekday: Weekday::Mon });
    }

    #[test]
    fn a_line_with_the_wrong_number_of_fields_is_refused() {
        let err = parse_err("2026-01-01 off 元旦\n");
        assert_eq!(err.line(), Some(1));
        assert_eq!(problem(&err), &LineProblem::FieldCount { found: 1 });
        let err = parse_err("2026-01-01\toff\t元旦\textra\n");
        assert_eq!(problem(&err), &LineProblem::FieldCount { found: 4 });
    }

    #[test]
    fn an_empty_holiday_name_is_refused() {
        let err = parse_err("2026-01-01\toff\t \n");
        assert_eq!(err.line(), Some(1));
        assert_eq!(problem(&err), &LineProblem::EmptyName);
    }

    #[test]
    fn a_file_without_entries_is_refused() {
        let err = parse_err("# only a header\n\n");
        assert_eq!(err, CalendarError::Empty { year: 2026 });
        assert_eq!(err.line(), None);
    }

    #[test]
    fn error_messages_name_the_year_and_line() {
        let err = parse_err("2026-01-01\tday-off\t元旦\n");
        assert_eq!(err.to_string(), "holiday calendar 2026, line 1: unknown kind `day-off` (expected `off` or `work`)");
        assert_eq!(MissingYear(2027).to_string(), "no holiday calendar loaded for 2027");
    }

    #[test]
    fn shipped_calendar_knows_2026_only() {
        let calendar = HolidayCalendar::shipped().expect("shipped parses");
        assert!(calendar.has_year(2026));
        assert!(!calendar.has_year(2027));
        assert_eq!(calendar.years().collect::<Vec<_>>(), vec![2026]);
    }

    #[test]
    fn day_follows_the_notice_then_monday_to_friday() {
        let calendar = HolidayCalendar::shipped().expect("shipped parses");
        assert_eq!(calendar.day(d(2026, 3, 3)), Ok(true), "ordinary Tuesday");
        assert_eq!(calendar.day(d(2026, 3, 7)), Ok(false), "ordinary Saturday");
        assert_eq!(calendar.day(d(2026, 2, 16)), Ok(false), "春节 Monday");
        assert_eq!(calendar.day(d(2026, 2, 14)), Ok(true), "make-up Saturday");
        assert_eq!(calendar.day(d(2026, 9, 20)), Ok(true), "make-up Sunday");
        assert_eq!(calendar.day(d(2026, 10, 1)), Ok(false), "国庆节 Thursday");
    }

    #[test]
    fn day_in_a_year_without_a_calendar_is_missing() {
        let calendar = HolidayCalendar::shipped().expect("shipped parses");
        assert_eq!(calendar.day(d(2027, 1, 4)), Err(MissingYear(2027)));
        assert_eq!(HolidayCalendar::default().day(d(2026, 3, 3)), Err(MissingYear(2026)));
    }

    #[test]
    fn weekday_fallback_reports_the_missing_year() {
        let calendar = HolidayCalendar::shipped().expect("shipped parses");
        assert_eq!(calendar.is_working_day_or_weekday(d(2026, 10, 1)), (false, None));
        assert_eq!(calendar.is_working_day_or_weekday(d(2027, 1, 1)), (true, Some(2027)), "a Friday");
        assert_eq!(calendar.is_working_day_or_weekday(d(2027, 1, 2)), (false, Some(2027)), "a Saturday");
    }

    #[test]
    fn add_year_replaces_a_year_whole() {
        let mut calendar = HolidayCalendar::shipped().expect("shipped parses");
        let corrected = YearCalendar::parse_tsv(2026, "2026-03-03\toff\t假设\n").expect("parses");
        let previous = calendar.add_year(corrected);
        assert_eq!(previous.map(|y| y.days_off()), Some(33));
        assert_eq!(calendar.day(d(2026, 3, 3)), Ok(false));
        assert_eq!(calendar.day(d(2026, 10, 1)), Ok(true), "the old notice is gone, not merged");
    }

    #[test]
    fn with_years_keeps_the_later_of_two_calendars_for_a_year() {
        let first = YearCalendar::parse_tsv(2027, "2027-01-01\toff\t元旦\n").expect("parses");
        let second = YearCalendar::parse_tsv(2027, "2027-01-01\toff\t元旦\n2027-02-08\toff\t春节\n").expect("parses");
        let shipped = shipped_2026();
        let calendar = HolidayCalendar::with_years([first, shipped, second]);
        assert_eq!(calendar.years().collect::<Vec<_>>(), vec![2026, 2027]);
        assert_eq!(calendar.year(2027).map(YearCalendar::days_off), Some(2));
        assert_eq!(calendar.entry(d(2027, 2, 8)).map(|e| e.name.as_str()), Some("春节"));
    }

    #[test]
    fn file_names_give_their_year() {
        assert_eq!(year_of_file_name("cn-public-holidays-2026.tsv"), Some(2026));
        assert_eq!(year_of_file_name("cn-public-holidays-27.tsv"), None);
        assert_eq!(year_of_file_name("cn-public-holidays-2026.tsv.bak"), None);
        assert_eq!(year_of_file_name("zhejiang-counties.csv"), None);
        assert_eq!(year_of_file_name("cn-public-holidays-+202.tsv"), None);
    }
}
