//! Pure rules of suggestions: what a valid submission is, how numbers read.

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use renda_platform::counties::County;
use renda_platform::error::{FieldViolation, Violations, required_text};

pub const TITLE_MAX_CHARS: usize = 100;
pub const CONTENT_MAX_CHARS: usize = 10_000;
pub const CATEGORY_MAX_CHARS: usize = 50;
pub const REQUEST_ID_MAX_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 议案
    Motion,
    /// 建议
    Suggestion,
    /// 群众意见
    CitizenOpinion,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Motion => "motion",
            Self::Suggestion => "suggestion",
            Self::CitizenOpinion => "citizen_opinion",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "motion" => Self::Motion,
            "suggestion" => Self::Suggestion,
            "citizen_opinion" => Self::CitizenOpinion,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Submitted,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s == "submitted").then_some(Self::Submitted)
    }
}

/// A submission that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSuggestion {
    pub kind: Kind,
    pub title: String,
    pub content: String,
    pub category: String,
    pub request_id: Option<String>,
}

impl NewSuggestion {
    /// Validates the fields of a submission, reporting every bad field at once.
    pub fn parse(
        kind: Option<Kind>,
        title: &str,
        content: &str,
        category: &str,
        request_id: &str,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::new();
        let kind = match kind {
            Some(Kind::Suggestion) => Some(Kind::Suggestion),
            Some(other) => {
                // Motions need co-signers and citizen opinions their origin; both arrive with the full loop.
                violations.add("kind", format!("{} cannot be submitted yet; submit a suggestion", other.as_str()));
                None
            }
            None => {
                violations.add("kind", "must be given (suggestion)");
                None
            }
        };
        let title = violations.check(required_text("title", title, TITLE_MAX_CHARS));
        let content = violations.check(required_text("content", content, CONTENT_MAX_CHARS));
        let category = violations.check(required_text("category", category, CATEGORY_MAX_CHARS));
        let request_id = request_id.trim();
        if request_id.chars().count() > REQUEST_ID_MAX_CHARS {
            violations.add("request_id", format!("at most {REQUEST_ID_MAX_CHARS} characters"));
        }
        violations.finish()?;
        match (kind, title, content, category) {
            (Some(kind), Some(title), Some(content), Some(category)) => Ok(Self {
                kind,
                title,
                content,
                category,
                request_id: (!request_id.is_empty()).then(|| request_id.to_owned()),
            }),
            _ => Err(vec![FieldViolation::new("request", "is invalid")]),
        }
    }
}

/// The county-local (Asia/Shanghai, UTC+8 without DST) year of an instant: numbers run per local year.
pub fn local_year(at: DateTime<Utc>) -> i32 {
    let china = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    at.with_timezone(&china).year()
}

/// The number people cite: `德清〔2026〕第0001号`.
pub fn format_number(county: &County, year: i32, seq: i32) -> String {
    format!("{}〔{year}〕第{seq:04}号", county.short_name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use renda_platform::counties::CountyCode;

    #[test]
    fn numbers_read_as_people_cite_them() {
        let deqing: CountyCode = "330521".parse().expect("county");
        assert_eq!(format_number(deqing.county(), 2026, 1), "德清〔2026〕第0001号");
        assert_eq!(format_number(deqing.county(), 2026, 12345), "德清〔2026〕第12345号");
    }

    #[test]
    fn the_local_year_turns_at_midnight_in_china() {
        let late = DateTime::parse_from_rfc3339("2026-12-31T16:30:00Z").expect("t").to_utc();
        assert_eq!(local_year(late), 2027);
        let early = DateTime::parse_from_rfc3339("2026-12-31T15:59:59Z").expect("t").to_utc();
        assert_eq!(local_year(early), 2026);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let err = NewSuggestion::parse(None, " ", &"长".repeat(CONTENT_MAX_CHARS + 1), "", "").unwrap_err();
        let fields: Vec<&str> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["kind", "title", "content", "category"]);
        let err = NewSuggestion::parse(Some(Kind::Motion), "t", "c", "环保", "").unwrap_err();
        assert_eq!(err[0].field, "kind");
    }

    #[test]
    fn a_valid_submission_is_trimmed() {
        let ok = NewSuggestion::parse(Some(Kind::Suggestion), " 农村污水 ", "内容", "环保", " k1 ").expect("valid");
        assert_eq!(ok.title, "农村污水");
        assert_eq!(ok.request_id.as_deref(), Some("k1"));
        assert!(NewSuggestion::parse(Some(Kind::Suggestion), "t", "c", "x", "").expect("valid").request_id.is_none());
    }
}
