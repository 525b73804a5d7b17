//! Pure rules: which facts become which inbox items, for whom.

use renda_proto::suggestion::v1::SuggestionSubmitted;

/// An item to put in an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub recipient: String,
    pub title: String,
    pub body: String,
}

/// The congress staff of the county register and assign every new suggestion.
pub fn for_submitted_suggestion(event: &SuggestionSubmitted) -> Notice {
    Notice {
        recipient: "role:staff".to_owned(),
        title: format!("新建议待登记：{}", event.number),
        body: format!("{}代表提交了建议《{}》（{}），请登记交办。", event.deputy_name, event.title, event.category),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submitted_suggestion_goes_to_the_county_staff() {
        let event = SuggestionSubmitted {
            number: "德清〔2026〕第0001号".into(),
            title: "农村污水处理设施维护".into(),
            category: "环保".into(),
            deputy_name: "沈建国".into(),
            ..Default::default()
        };
        let notice = for_submitted_suggestion(&event);
        assert_eq!(notice.recipient, "role:staff");
        assert!(notice.title.contains("德清〔2026〕第0001号"));
        assert!(notice.body.contains("沈建国代表") && notice.body.contains("《农村污水处理设施维护》"));
    }
}
