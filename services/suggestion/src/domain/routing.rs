//! Routing rules: which agency a new suggestion is proposed to, by category or keywords.

/// One rule of a county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub category: String,
    pub keywords: Vec<String>,
    pub agency: String,
    pub priority: i32,
}

impl Rule {
    fn matches(&self, category: &str, title: &str, content: &str) -> bool {
        (!self.category.is_empty() && self.category == category)
            || self
                .keywords
                .iter()
                .any(|k| !k.is_empty() && (title.contains(k.as_str()) || content.contains(k.as_str())))
    }
}

/// The agency of the first matching rule by priority (then by order given), if any.
pub fn propose<'a>(rules: &'a [Rule], category: &str, title: &str, content: &str) -> Option<&'a str> {
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| r.priority);
    ordered.into_iter().find(|r| r.matches(category, title, content)).map(|r| r.agency.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(category: &str, keywords: &[&str], agency: &str, priority: i32) -> Rule {
        Rule {
            category: category.into(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            agency: agency.into(),
            priority,
        }
    }

    #[test]
    fn the_first_match_by_priority_wins() {
        let rules = [
            rule("", &["污水", "垃圾"], "330521-hbj", 10),
            rule("交通运输", &[], "330521-jtj", 20),
            rule("", &["公交"], "330521-jtj", 5),
        ];
        assert_eq!(propose(&rules, "环保", "农村污水处理设施维护", ""), Some("330521-hbj"));
        assert_eq!(propose(&rules, "交通运输", "增设站点", ""), Some("330521-jtj"));
        assert_eq!(propose(&rules, "其他", "公交线路与垃圾清运", ""), Some("330521-jtj"), "priority 5 beats 10");
        assert_eq!(propose(&rules, "教育", "学校食堂", "食品安全"), None);
        assert_eq!(propose(&rules, "", "", "内容提到污水"), Some("330521-hbj"), "content counts too");
    }
}
