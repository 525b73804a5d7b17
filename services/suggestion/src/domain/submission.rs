//! What a valid submission is, and how numbers read.

use chrono::{DateTime, Datelike, Utc};
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

/// Where a citizen opinion came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: String,
    pub reference: String,
    pub note: String,
}

/// Sources a citizen opinion can come from.
pub const ORIGIN_SOURCES: &[&str] =
    &["station", "diary", "hotline_12345", "petition", "grid", "online", "contact_point"];
pub const MAX_CO_SIGNERS: usize = 200;

/// What a client sends, before validation.
#[derive(Debug, Clone, Default)]
pub struct Draft<'a> {
    pub kind: Option<Kind>,
    pub title: &'a str,
    pub content: &'a str,
    pub category: &'a str,
    pub request_id: &'a str,
    pub co_signers: &'a [String],
    pub origin: Option<(&'a str, &'a str, &'a str)>,
}

/// A submission that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSuggestion {
    pub kind: Kind,
    pub title: String,
    pub content: String,
    pub category: String,
    pub request_id: Option<String>,
    pub co_signers: Vec<String>,
    pub origin: Option<Origin>,
}

impl NewSuggestion {
    /// Validates a submission by `author_id`, reporting every bad field at once. A motion
    /// needs at least `motion_min_cosigners` other deputies; a citizen opinion its origin.
    pub fn parse(draft: &Draft<'_>, author_id: &str, motion_min_cosigners: u32) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::new();
        if draft.kind.is_none() {
            violations.add("kind", "must be given: suggestion, motion or citizen_opinion");
        }
        let mut co_signers: Vec<String> = Vec::new();
        for (i, id) in draft.co_signers.iter().enumerate() {
            let id = id.trim();
            if id.is_empty() || id.chars().count() > 64 {
                violations.add(format!("co_signers[{i}]"), "must be a deputy id of 1 to 64 characters");
            } else if id == author_id {
                violations.add(format!("co_signers[{i}]"), "the author does not co-sign their own suggestion");
            } else if co_signers.iter().any(|c| c == id) {
                violations.add(format!("co_signers[{i}]"), format!("{id} is listed twice"));
            } else {
                co_signers.push(id.to_owned());
            }
        }
        if co_signers.len() > MAX_CO_SIGNERS {
            violations.add("co_signers", format!("at most {MAX_CO_SIGNERS}"));
        }
        if draft.kind == Some(Kind::Motion) && co_signers.len() < motion_min_cosigners as usize {
            violations.add(
                "co_signers",
                format!(
                    "a motion (议案) needs at least {motion_min_cosigners} co-signing deputies, got {}",
                    co_signers.len()
                ),
            );
        }
        let origin = match (draft.kind, draft.origin) {
            (Some(Kind::CitizenOpinion), None) => {
                violations.add("origin", "a citizen opinion needs its origin (source and reference)");
                None
            }
            (_, Some((source, reference, note))) => {
                if !ORIGIN_SOURCES.contains(&source) {
                    violations.add("origin.source", format!("must be one of {}", ORIGIN_SOURCES.join(", ")));
                }
                let reference = violations.check(required_text("origin.reference", reference, 200));
                if note.chars().count() > 1000 {
                    violations.add("origin.note", "at most 1000 characters");
                }
                reference.map(|reference| Origin { source: source.to_owned(), reference, note: note.trim().to_owned() })
            }
            (_, None) => None,
        };
        let kind = draft.kind;
        let (title, content, category, request_id) = (draft.title, draft.content, draft.category, draft.request_id);
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
                co_signers,
                origin: if kind == Kind::CitizenOpinion { origin } else { None },
            }),
            _ => Err(vec![FieldViolation::new("request", "is invalid")]),
        }
    }
}

/// The county-local (Asia/Shanghai, UTC+8 without DST) year of an instant: numbers run per local year.
pub fn local_year(at: DateTime<Utc>) -> i32 {
    renda_platform::deadline::local_date(at).year()
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

    fn draft<'a>(kind: Option<Kind>, title: &'a str, content: &'a str, category: &'a str) -> Draft<'a> {
        Draft { kind, title, content, category, ..Draft::default() }
    }

    #[test]
    fn every_bad_field_is_reported() {
        let long = "长".repeat(CONTENT_MAX_CHARS + 1);
        let err = NewSuggestion::parse(&draft(None, " ", &long, ""), "d1", 10).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["kind", "title", "content", "category"]);
    }

    #[test]
    fn a_motion_needs_enough_co_signers() {
        let signers: Vec<String> = (0..9).map(|i| format!("d{i}")).collect();
        let motion = Draft { co_signers: &signers, ..draft(Some(Kind::Motion), "议案", "内容", "环保") };
        let err = NewSuggestion::parse(&motion, "author", 10).unwrap_err();
        assert_eq!(err[0].field, "co_signers");
        assert!(err[0].description.contains("at least 10"), "{}", err[0].description);
        assert_eq!(NewSuggestion::parse(&motion, "author", 9).expect("enough").co_signers.len(), 9);
        let twice = vec!["d1".to_owned(), "d1".to_owned(), "author".to_owned()];
        let bad = Draft { co_signers: &twice, ..draft(Some(Kind::Suggestion), "t", "c", "x") };
        let fields: Vec<String> =
            NewSuggestion::parse(&bad, "author", 10).unwrap_err().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["co_signers[1]", "co_signers[2]"]);
    }

    #[test]
    fn a_citizen_opinion_keeps_its_origin() {
        let no_origin = draft(Some(Kind::CitizenOpinion), "意见", "内容", "民生");
        assert_eq!(NewSuggestion::parse(&no_origin, "l1", 10).unwrap_err()[0].field, "origin");
        let from_station = Draft { origin: Some(("station", "新市镇代表联络站", "")), ..no_origin.clone() };
        let ok = NewSuggestion::parse(&from_station, "l1", 10).expect("valid");
        assert_eq!(ok.origin.expect("origin").reference, "新市镇代表联络站");
        let unknown = Draft { origin: Some(("rumour", "x", "")), ..no_origin };
        assert_eq!(NewSuggestion::parse(&unknown, "l1", 10).unwrap_err()[0].field, "origin.source");
    }

    #[test]
    fn a_valid_submission_is_trimmed() {
        let d = Draft { request_id: " k1 ", ..draft(Some(Kind::Suggestion), " 农村污水 ", "内容", "环保") };
        let ok = NewSuggestion::parse(&d, "d1", 10).expect("valid");
        assert_eq!(ok.title, "农村污水");
        assert_eq!(ok.request_id.as_deref(), Some("k1"));
        assert!(ok.origin.is_none());
    }
}
