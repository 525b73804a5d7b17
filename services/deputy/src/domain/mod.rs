//! Pure rules of deputies' duties.

/// Kinds of duty activity (履职).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    SuggestionSubmitted,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuggestionSubmitted => "suggestion_submitted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s == "suggestion_submitted").then_some(Self::SuggestionSubmitted)
    }
}

/// The line shown in a deputy's duty record for a submitted suggestion.
pub fn suggestion_summary(number: &str, title: &str) -> String {
    format!("提交建议 {number}《{title}》")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_summaries_read_well() {
        let kind = ActivityKind::SuggestionSubmitted;
        assert_eq!(ActivityKind::parse(kind.as_str()), Some(kind));
        assert_eq!(ActivityKind::parse("other"), None);
        assert_eq!(suggestion_summary("德清〔2026〕第0001号", "农村污水"), "提交建议 德清〔2026〕第0001号《农村污水》");
    }
}
