//! Suggestion facts (`renda.suggestion.v1`) and the notices they call for.
//!
//! Who hears what:
//! - the congress staff (`role:staff`): new suggestions to register, returns, extension
//!   requests, unsatisfied evaluations, overdue and 督办;
//! - the author (`user:<deputy_id>`): every step of their suggestion; co-signers hear of
//!   立案, 交办, 答复 and 办结 too;
//! - the lead agency (`agency:<code>`): assignments, extension decisions, evaluations,
//!   re-handling, reminders, overdue, co-agencies' opinions and the 重点督办 flag;
//!   co-agencies hear of their assignment;
//! - the agency head (`agency-head:<code>`): 催办 and 督办.
//!
//! Some events do not name the lead agency (a co-agency's `ProgressReported`,
//! `SuggestionMarkedKey`): the handler passes what it learned from the latest
//! `SuggestionAssigned` as [`Known`]. A co-agency opinion whose lead is unknown goes to the
//! staff so it is not lost; a 重点督办 change before any assignment notifies nobody (staff set
//! it themselves, and the lead agency's assignment notice says the suggestion is key).

use prost::Message as _;
use renda_proto::EventType;
use renda_proto::suggestion::v1::{
    Deadline, DeadlineConfirmed, EscalationStage, ExtensionDecided, ExtensionRequested, ProgressReported, ReminderDue,
    ResultClass, Satisfaction, SuggestionAccepted, SuggestionAssigned, SuggestionClosed, SuggestionEscalated,
    SuggestionEvaluated, SuggestionKind, SuggestionMarkedKey, SuggestionMerged, SuggestionOverdue, SuggestionRef,
    SuggestionRegistered, SuggestionRegistrationRefused, SuggestionReopened, SuggestionReplied, SuggestionReturned,
    SuggestionSubmitted,
};

use super::{Notice, STAFF, agency, agency_head, user};

macro_rules! suggestion_events {
    ($($variant:ident($ty:ident)),* $(,)?) => {
        /// Every suggestion event the notification service acts on.
        #[derive(Debug, Clone, PartialEq)]
        pub enum SuggestionEvent {
            Submitted(SuggestionSubmitted),
            $($variant($ty),)*
        }

        impl SuggestionEvent {
            /// The `ce_type`s decoded here.
            pub const TYPES: &'static [&'static str] = &[SuggestionSubmitted::TYPE, $($ty::TYPE,)*];

            /// Decodes a payload of `event_type`; `Ok(None)` for a type not listed in [`Self::TYPES`].
            pub fn decode(event_type: &str, payload: &[u8]) -> Result<Option<Self>, prost::DecodeError> {
                Ok(Some(match event_type {
                    t if t == SuggestionSubmitted::TYPE => Self::Submitted(SuggestionSubmitted::decode(payload)?),
                    $(t if t == $ty::TYPE => Self::$variant($ty::decode(payload)?),)*
                    _ => return Ok(None),
                }))
            }

            /// The suggestion the event names; `None` for `Submitted` (which carries its own
            /// fields) and for an event whose producer left it out.
            pub fn suggestion(&self) -> Option<&SuggestionRef> {
                match self {
                    Self::Submitted(_) => None,
                    $(Self::$variant(e) => e.suggestion.as_ref(),)*
                }
            }
        }
    };
}

suggestion_events! {
    Registered(SuggestionRegistered),
    RegistrationRefused(SuggestionRegistrationRefused),
    Assigned(SuggestionAssigned),
    Accepted(SuggestionAccepted),
    Returned(SuggestionReturned),
    ProgressReported(ProgressReported),
    ExtensionRequested(ExtensionRequested),
    ExtensionDecided(ExtensionDecided),
    Replied(SuggestionReplied),
    Evaluated(SuggestionEvaluated),
    Reopened(SuggestionReopened),
    ReminderDue(ReminderDue),
    Overdue(SuggestionOverdue),
    Escalated(SuggestionEscalated),
    Merged(SuggestionMerged),
    MarkedKey(SuggestionMarkedKey),
    Closed(SuggestionClosed),
    DeadlineConfirmed(DeadlineConfirmed),
}

impl SuggestionEvent {
    /// The county the payload names; `None` when an event lacks its `SuggestionRef`.
    pub fn county(&self) -> Option<&str> {
        match self {
            Self::Submitted(e) => Some(&e.county),
            _ => self.suggestion().map(|s| s.county.as_str()),
        }
    }

    /// The suggestion's id; `None` when an event lacks its `SuggestionRef`.
    pub fn suggestion_id(&self) -> Option<&str> {
        match self {
            Self::Submitted(e) => Some(&e.suggestion_id),
            _ => self.suggestion().map(|s| s.suggestion_id.as_str()),
        }
    }
}

/// The suggestion's current lead agency, as its events carry it in `SuggestionRef`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    pub lead_agency: Option<String>,
    pub lead_agency_name: Option<String>,
}

impl Known {
    pub fn from_ref(s: &SuggestionRef) -> Self {
        let present = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_owned);
        Self { lead_agency: present(&s.lead_agency), lead_agency_name: present(&s.lead_agency_name) }
    }

    /// The name of `code` when it is the known lead agency.
    fn name_of(&self, code: &str) -> Option<&str> {
        match (&self.lead_agency, &self.lead_agency_name) {
            (Some(lead), Some(name)) if lead == code && !name.is_empty() => Some(name),
            _ => None,
        }
    }

    /// How to name `code` to a deputy: its name, else "承办单位" (codes mean nothing to them).
    fn for_deputy(&self, code: &str) -> String {
        self.name_of(code).unwrap_or("承办单位").to_owned()
    }

    /// How to name `code` to staff and other agencies: its name, else its code.
    fn for_staff(&self, code: &str) -> String {
        self.name_of(code).unwrap_or(code).to_owned()
    }
}

/// The inbox items an event calls for, one per recipient (never an empty address, never
/// the same recipient twice). Total: any event, however incomplete, yields a list.
pub fn notices(event: &SuggestionEvent, known: &Known) -> Vec<Notice> {
    let mut out = Out::default();
    let none = SuggestionRef::default();
    let s = event.suggestion().unwrap_or(&none);
    let noun = noun_of(s.kind());
    let number = &s.number;
    let cite = format!("{noun}《{}》（{number}）", s.title);
    match event {
        SuggestionEvent::Submitted(e) => {
            let noun = noun_of(e.kind());
            let category = if e.category.is_empty() { String::new() } else { format!("（{}）", e.category) };
            let who = if e.kind() == SuggestionKind::CitizenOpinion {
                format!("{}转交了", e.deputy_name)
            } else {
                format!("{}代表提交了", e.deputy_name)
            };
            let proposal = if e.proposed_agency.is_empty() {
                String::new()
            } else {
                format!("按规则拟交办至{}。", e.proposed_agency)
            };
            out.push(
                STAFF.to_owned(),
                format!("新{noun}待登记：{}", e.number),
                format!("{who}{noun}《{}》{category}，请登记交办。{proposal}", e.title),
            );
        }
        SuggestionEvent::Registered(_) => {
            out.deputies(s, &format!("{noun}已立案：{number}"), |whose| {
                format!("{whose}{cite}已登记立案，等待交办。")
            });
        }
        SuggestionEvent::RegistrationRefused(e) => {
            out.push(
                user(&s.deputy_id),
                format!("{noun}未予立案：{number}"),
                format!("您提出的{cite}未予立案。{}", labelled("理由", &e.reason)),
            );
        }
        SuggestionEvent::Assigned(e) => {
            let again = e.round >= 2;
            let due = due(e.deadline.as_ref());
            let lead_name = if e.lead_agency_name.is_empty() { &e.lead_agency } else { &e.lead_agency_name };
            let key = if s.key { format!("本件为重点督办{noun}。") } else { String::new() };
            let co = if e.co_agencies.is_empty() {
                String::new()
            } else {
                format!("，{}个单位协办", e.co_agencies.len())
            };
            let (lead_title, co_title, lead_body) = if again {
                (
                    format!("{noun}重新办理（主办）：{number}"),
                    format!("{noun}重新办理（协办）：{number}"),
                    format!("代表对{cite}的答复不满意，交由贵单位主办重新办理{co}，请于{due}前再次答复。{key}"),
                )
            } else {
                (
                    format!("新交办{noun}（主办）：{number}"),
                    format!("新交办{noun}（协办）：{number}"),
                    format!("{cite}交由贵单位主办{co}，请于{due}前答复。{key}"),
                )
            };
            out.push(agency(&e.lead_agency), lead_title, lead_body);
            for code in &e.co_agencies {
                out.push(
                    agency(code),
                    co_title.clone(),
                    format!("{cite}由{lead_name}主办、贵单位协办，请于{due}前将协办意见送主办单位。"),
                );
            }
            let (title, verb) = if again {
                (format!("{noun}已交付重新办理：{number}"), "重新办理")
            } else {
                (format!("{noun}已交办：{number}"), "办理")
            };
            out.deputies(s, &title, |whose| format!("{whose}{cite}已交办至{lead_name}{verb}，办理期限{due}。"));
        }
        SuggestionEvent::Accepted(e) => {
            out.push(
                user(&s.deputy_id),
                format!("{noun}已接收办理：{number}"),
                format!("{}已接收您提出的{cite}，正在办理。", known.for_deputy(&e.agency)),
            );
        }
        SuggestionEvent::Returned(e) => {
            out.push(
                STAFF.to_owned(),
                format!("{noun}被退回：{number}"),
                format!("{}退回了{cite}。{}请重新交办。", known.for_staff(&e.agency), labelled("理由", &e.reason)),
            );
        }
        SuggestionEvent::ProgressReported(e) => {
            let attachments = if e.attachments.is_empty() {
                String::new()
            } else {
                format!("（附件{}个）", e.attachments.len())
            };
            let text = excerpt(&e.text, 80);
            if e.co_agency_opinion {
                let body = format!("协办单位{}对{cite}提出协办意见：{text}{attachments}", e.agency);
                match known.lead_agency.as_deref().filter(|lead| !lead.is_empty()) {
                    Some(lead) => out.push(agency(lead), format!("协办意见：{number}"), body),
                    None => out.push(
                        STAFF.to_owned(),
                        format!("协办意见：{number}"),
                        format!("{body}。主办单位未知，请转送。"),
                    ),
                }
            } else {
                out.push(
                    user(&s.deputy_id),
                    format!("{noun}办理进展：{number}"),
                    format!("{}报告了{cite}的办理进展：{text}{attachments}", known.for_deputy(&e.agency)),
                );
            }
        }
        SuggestionEvent::ExtensionRequested(e) => {
            out.push(
                STAFF.to_owned(),
                format!("延期申请：{number}"),
                format!(
                    "{}申请将{cite}的办理期限由{}延至{}。{}请审批。",
                    known.for_staff(&e.agency),
                    date(&e.current_due_date),
                    date(&e.requested_due_date),
                    labelled("理由", &e.reason)
                ),
            );
        }
        SuggestionEvent::ExtensionDecided(e) => {
            let due = due(e.deadline.as_ref());
            let note = labelled("说明", &e.note);
            let (title, body) = if e.approved {
                (format!("延期申请已批准：{number}"), format!("{cite}的延期申请已批准，办理期限延至{due}。{note}"))
            } else {
                (format!("延期申请未获批准：{number}"), format!("{cite}的延期申请未获批准，请于{due}前答复。{note}"))
            };
            out.push(agency(&e.agency), title, body);
        }
        SuggestionEvent::Replied(e) => {
            let by = known.for_deputy(&e.agency);
            let result = result_class(e.result());
            out.deputies(s, &format!("{noun}已答复：{number}"), |whose| {
                let ask = if whose == AUTHOR { "请对办理结果进行评价。" } else { "" };
                format!("{by}已答复{whose}{cite}，办理结果：{result}。{ask}")
            });
        }
        SuggestionEvent::Evaluated(e) => {
            let verdict = satisfaction(e.satisfaction());
            let comment = labelled("意见", &e.comment);
            let unsatisfied = e.satisfaction() == Satisfaction::Unsatisfied;
            let next = match (unsatisfied, e.round >= 2) {
                (false, _) => "",
                (true, false) => "将重新办理。",
                (true, true) => "将转入督办。",
            };
            out.push(
                agency(&e.agency),
                format!("办理评价（{verdict}）：{number}"),
                format!("代表对{cite}的答复评价为{verdict}。{comment}{next}"),
            );
            if unsatisfied {
                let ask = if e.round >= 2 { "请督办。" } else { "请安排重新办理。" };
                out.push(
                    STAFF.to_owned(),
                    format!("代表不满意：{number}"),
                    format!("代表对{}答复的{cite}不满意。{comment}{ask}", known.for_staff(&e.agency)),
                );
            }
        }
        SuggestionEvent::Reopened(e) => {
            out.push(
                agency(&e.agency),
                format!("{noun}重新办理：{number}"),
                format!("代表对{cite}的答复不满意，请重新办理，于{}前再次答复。", due(e.deadline.as_ref())),
            );
        }
        SuggestionEvent::DeadlineConfirmed(e) => {
            out.push(
                agency(&e.agency),
                format!("办理期限已确认：{number}"),
                format!(
                    "节假日安排公布后，{cite}的办理期限由{}确认为{}。",
                    date(&e.previous_due_date),
                    due(e.deadline.as_ref())
                ),
            );
        }
        SuggestionEvent::ReminderDue(e) => {
            let body = if e.days_before > 0 {
                format!("{cite}距办理期限还有{}天（{}），请按时答复。", e.days_before, date(&e.due_date))
            } else {
                format!("{cite}今天（{}）到期，请及时答复。", date(&e.due_date))
            };
            out.push(agency(&e.agency), format!("办理期限提醒：{number}"), body);
        }
        SuggestionEvent::Overdue(e) => {
            let due = date(&e.due_date);
            out.push(
                agency(&e.agency),
                format!("{noun}已超期：{number}"),
                format!("{cite}已超过办理期限（{due}）未答复，请尽快答复。"),
            );
            out.push(
                STAFF.to_owned(),
                format!("{noun}已超期：{number}"),
                format!("{}承办的{cite}已超过办理期限（{due}）未答复。", known.for_staff(&e.agency)),
            );
        }
        SuggestionEvent::Escalated(e) => {
            let late = if e.days_overdue > 0 {
                format!("已超期{}天（期限{}）", e.days_overdue, date(&e.due_date))
            } else {
                format!("办理期限{}", date(&e.due_date))
            };
            let reason = labelled("原因", &e.reason);
            let by = known.for_staff(&e.agency);
            match e.stage() {
                EscalationStage::Urge => out.push(
                    agency_head(&e.agency),
                    format!("催办：{number}"),
                    format!("贵单位承办的{cite}{late}，请督促尽快答复。{reason}"),
                ),
                EscalationStage::Supervise => {
                    out.push(
                        STAFF.to_owned(),
                        format!("督办：{number}"),
                        format!("{by}承办的{cite}{late}，转入督办。{reason}"),
                    );
                    out.push(
                        agency_head(&e.agency),
                        format!("督办：{number}"),
                        format!("贵单位承办的{cite}{late}，已列入人大督办，请抓紧办理。{reason}"),
                    );
                }
                // A stage this build does not know: tell the staff rather than nobody.
                EscalationStage::Unspecified => out.push(
                    STAFF.to_owned(),
                    format!("办理升级提醒：{number}"),
                    format!("{by}承办的{cite}{late}。{reason}"),
                ),
            }
        }
        SuggestionEvent::Merged(e) => {
            let into = if e.into_number.is_empty() { &e.into_id } else { &e.into_number };
            out.push(
                user(&s.deputy_id),
                format!("{noun}已并案：{number}"),
                format!("您提出的{cite}已并入{into}一并办理。"),
            );
        }
        SuggestionEvent::MarkedKey(e) => {
            if let Some(lead) = known.lead_agency.as_deref() {
                let (title, body) = if e.key {
                    (format!("列为重点督办：{number}"), format!("{cite}已列为重点督办{noun}，请重点办理。"))
                } else {
                    (format!("取消重点督办：{number}"), format!("{cite}已取消重点督办。"))
                };
                out.push(agency(lead), title, body);
            }
        }
        SuggestionEvent::Closed(e) => {
            let reason = labelled("说明", &e.reason);
            out.deputies(s, &format!("{noun}已办结：{number}"), |whose| format!("{whose}{cite}已办结。{reason}"));
        }
    }
    out.0
}

const AUTHOR: &str = "您提出的";
const CO_SIGNER: &str = "您联名的";

#[derive(Default)]
struct Out(Vec<Notice>);

impl Out {
    /// Adds a notice unless the address names nobody or the recipient already has one.
    fn push(&mut self, recipient: String, title: String, body: String) {
        let names_someone = recipient.split_once(':').is_some_and(|(_, id)| !id.trim().is_empty());
        if names_someone && !self.0.iter().any(|n| n.recipient == recipient) {
            self.0.push(Notice { recipient, title, body });
        }
    }

    /// The author and the co-signers, each addressed as such.
    fn deputies(&mut self, s: &SuggestionRef, title: &str, body: impl Fn(&str) -> String) {
        self.push(user(&s.deputy_id), title.to_owned(), body(AUTHOR));
        for co_signer in &s.co_signers {
            self.push(user(co_signer), title.to_owned(), body(CO_SIGNER));
        }
    }
}

fn noun_of(kind: SuggestionKind) -> &'static str {
    match kind {
        SuggestionKind::Motion => "议案",
        SuggestionKind::CitizenOpinion => "群众意见",
        SuggestionKind::Suggestion | SuggestionKind::Unspecified => "建议",
    }
}

fn result_class(result: ResultClass) -> &'static str {
    match result {
        ResultClass::A => "A类（已解决/采纳）",
        ResultClass::B => "B类（正在解决/列入计划）",
        ResultClass::C => "C类（暂无法解决/留作参考）",
        ResultClass::Unspecified => "未分类",
    }
}

fn satisfaction(satisfaction: Satisfaction) -> &'static str {
    match satisfaction {
        Satisfaction::Satisfied => "满意",
        Satisfaction::BasicallySatisfied => "基本满意",
        Satisfaction::Unsatisfied => "不满意",
        Satisfaction::Unspecified => "未评价",
    }
}

/// A county-local `YYYY-MM-DD` as people write it: 2026年3月15日 (other text as given).
fn date(raw: &str) -> String {
    match chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        Ok(d) => d.format("%Y年%-m月%-d日").to_string(),
        Err(_) if raw.trim().is_empty() => "（未定）".to_owned(),
        Err(_) => raw.to_owned(),
    }
}

/// A deadline's date, marked 暂定 while its holiday calendar is missing.
fn due(deadline: Option<&Deadline>) -> String {
    match deadline {
        Some(d) if d.provisional => format!("{}（暂定）", date(&d.due_date)),
        Some(d) => date(&d.due_date),
        None => date(""),
    }
}

/// `label：text。`, or nothing when `text` is blank.
fn labelled(label: &str, text: &str) -> String {
    let text = text.trim().trim_end_matches('。');
    if text.is_empty() { String::new() } else { format!("{label}：{text}。") }
}

/// At most `max` characters of `text`, with … when cut.
fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBER: &str = "德清〔2026〕第0001号";
    const TITLE: &str = "农村污水处理设施维护";
    const HBJ: &str = "330521-hbj";
    const ZJJ: &str = "330521-zjj";
    const NYJ: &str = "330521-nyj";

    fn suggestion() -> Option<SuggestionRef> {
        Some(SuggestionRef {
            suggestion_id: "s-1".into(),
            county: "330521".into(),
            number: NUMBER.into(),
            title: TITLE.into(),
            kind: SuggestionKind::Suggestion as i32,
            category: "环保".into(),
            deputy_id: "d-1".into(),
            deputy_name: "沈建国".into(),
            co_signers: vec!["d-2".into(), "d-3".into()],
            key: false,
            version: 3,
            ..Default::default()
        })
    }

    fn deadline(date: &str) -> Option<Deadline> {
        Some(Deadline { due_date: date.into(), ..Default::default() })
    }

    fn known() -> Known {
        Known { lead_agency: Some(HBJ.into()), lead_agency_name: Some("县环保局".into()) }
    }

    /// The notices' recipients, checking on the way that every title cites the number.
    fn recipients(event: &SuggestionEvent, known: &Known) -> Vec<String> {
        let items = notices(event, known);
        for n in &items {
            assert!(n.title.contains(NUMBER), "title {:?} lacks the number", n.title);
            assert!(!n.body.is_empty());
        }
        items.into_iter().map(|n| n.recipient).collect()
    }

    fn only(event: &SuggestionEvent, known: &Known) -> Notice {
        let mut items = notices(event, known);
        assert_eq!(items.len(), 1, "{items:?}");
        items.remove(0)
    }

    fn deputies() -> Vec<String> {
        vec!["user:d-1".into(), "user:d-2".into(), "user:d-3".into()]
    }

    #[test]
    fn a_submitted_suggestion_goes_to_the_county_staff() {
        let event = SuggestionEvent::Submitted(SuggestionSubmitted {
            number: NUMBER.into(),
            title: TITLE.into(),
            category: "环保".into(),
            deputy_name: "沈建国".into(),
            proposed_agency: HBJ.into(),
            ..Default::default()
        });
        assert_eq!(recipients(&event, &Known::default()), vec!["role:staff"]);
        let notice = only(&event, &Known::default());
        assert_eq!(notice.title, format!("新建议待登记：{NUMBER}"));
        assert!(notice.body.contains("沈建国代表") && notice.body.contains("《农村污水处理设施维护》"));
        assert!(notice.body.contains(HBJ));
    }

    #[test]
    fn registration_reaches_the_author_and_co_signers_and_a_refusal_the_author_with_its_reason() {
        let registered =
            SuggestionEvent::Registered(SuggestionRegistered { suggestion: suggestion(), ..Default::default() });
        assert_eq!(recipients(&registered, &Known::default()), deputies());
        let items = notices(&registered, &Known::default());
        assert!(items[0].title.contains("已立案") && items[0].body.contains("您提出的"));
        assert!(items[1].body.contains("您联名的"));

        let refused = SuggestionEvent::RegistrationRefused(SuggestionRegistrationRefused {
            suggestion: suggestion(),
            reason: "属于信访事项".into(),
            ..Default::default()
        });
        assert_eq!(recipients(&refused, &Known::default()), vec!["user:d-1"]);
        assert!(only(&refused, &Known::default()).body.contains("理由：属于信访事项"));
    }

    #[test]
    fn an_assignment_reaches_lead_co_agencies_and_deputies_with_the_deadline() {
        let assigned = SuggestionAssigned {
            suggestion: suggestion(),
            lead_agency: HBJ.into(),
            lead_agency_name: "县环保局".into(),
            co_agencies: vec![ZJJ.into(), NYJ.into()],
            deadline: deadline("2026-06-30"),
            round: 1,
            ..Default::default()
        };
        let event = SuggestionEvent::Assigned(assigned.clone());
        let mut want = vec![agency(HBJ), agency(ZJJ), agency(NYJ)];
        want.extend(deputies());
        assert_eq!(recipients(&event, &Known::default()), want);
        let items = notices(&event, &Known::default());
        assert!(items[0].title.contains("主办") && items[0].body.contains("2026年6月30日"));
        assert!(items[1].title.contains("协办") && items[1].body.contains("县环保局主办"));
        assert!(items[3].body.contains("已交办至县环保局") && items[3].body.contains("2026年6月30日"));

        let again = SuggestionEvent::Assigned(SuggestionAssigned { round: 2, co_agencies: vec![], ..assigned });
        let items = notices(&again, &Known::default());
        assert_eq!(items[0].recipient, agency(HBJ));
        assert!(items[0].title.contains("重新办理") && items[0].body.contains("重新办理"));
        assert!(items.iter().all(|n| n.title.contains(NUMBER)));
    }

    #[test]
    fn a_key_suggestion_is_flagged_to_its_lead_and_a_provisional_deadline_is_marked() {
        let mut s = suggestion();
        if let Some(s) = s.as_mut() {
            s.key = true;
        }
        let event = SuggestionEvent::Assigned(SuggestionAssigned {
            suggestion: s,
            lead_agency: HBJ.into(),
            deadline: Some(Deadline {
                due_date: "2027-01-15".into(),
                provisional: true,
                missing_calendar_years: vec![2027],
            }),
            ..Default::default()
        });
        let lead = &notices(&event, &Known::default())[0];
        assert!(lead.body.contains("重点督办") && lead.body.contains("2027年1月15日（暂定）"));
    }

    #[test]
    fn acceptance_goes_to_the_author_and_a_return_to_staff() {
        let accepted = SuggestionEvent::Accepted(SuggestionAccepted {
            suggestion: suggestion(),
            agency: HBJ.into(),
            ..Default::default()
        });
        assert_eq!(recipients(&accepted, &known()), vec!["user:d-1"]);
        assert!(only(&accepted, &known()).body.starts_with("县环保局已接收"));
        assert!(only(&accepted, &Known::default()).body.starts_with("承办单位已接收"));

        let returned = SuggestionEvent::Returned(SuggestionReturned {
            suggestion: suggestion(),
            agency: HBJ.into(),
            reason: "不属于本单位职责".into(),
            ..Default::default()
        });
        assert_eq!(recipients(&returned, &known()), vec!["role:staff"]);
        let body = only(&returned, &known()).body;
        assert!(body.contains("退回") && body.contains("理由：不属于本单位职责") && body.contains("请重新交办"));
    }

    #[test]
    fn progress_goes_to_the_author_and_a_co_agency_opinion_to_the_lead() {
        let progress = ProgressReported {
            suggestion: suggestion(),
            agency: HBJ.into(),
            text: "已完成现场踏勘".into(),
            attachments: vec!["f-1".into()],
            ..Default::default()
        };
        let event = SuggestionEvent::ProgressReported(progress.clone());
        assert_eq!(recipients(&event, &known()), vec!["user:d-1"]);
        let body = only(&event, &known()).body;
        assert!(body.contains("办理进展") && body.contains("已完成现场踏勘") && body.contains("附件1个"));

        let opinion = SuggestionEvent::ProgressReported(ProgressReported {
            agency: ZJJ.into(),
            co_agency_opinion: true,
            ..progress
        });
        assert_eq!(recipients(&opinion, &known()), vec![agency(HBJ)]);
        assert!(only(&opinion, &known()).title.contains("协办意见"));
        // Lead unknown: the staff get it rather than nobody.
        assert_eq!(recipients(&opinion, &Known::default()), vec!["role:staff"]);
    }

    #[test]
    fn extension_requests_go_to_staff_and_decisions_to_the_agency() {
        let requested = SuggestionEvent::ExtensionRequested(ExtensionRequested {
            suggestion: suggestion(),
            agency: HBJ.into(),
            current_due_date: "2026-06-30".into(),
            requested_due_date: "2026-08-31".into(),
            reason: "需结合年度预算".into(),
            ..Default::default()
        });
        assert_eq!(recipients(&requested, &known()), vec!["role:staff"]);
        let body = only(&requested, &known()).body;
        assert!(body.contains("由2026年6月30日延至2026年8月31日") && body.contains("理由：需结合年度预算"));

        let decided = ExtensionDecided {
            suggestion: suggestion(),
            agency: HBJ.into(),
            approved: true,
            deadline: deadline("2026-08-31"),
            ..Default::default()
        };
        let approved = SuggestionEvent::ExtensionDecided(decided.clone());
        assert_eq!(recipients(&approved, &known()), vec![agency(HBJ)]);
        let notice = only(&approved, &known());
        assert!(notice.title.contains("已批准") && notice.body.contains("2026年8月31日"));
        let refused = SuggestionEvent::ExtensionDecided(ExtensionDecided {
            approved: false,
            deadline: deadline("2026-06-30"),
            note: "期限已达上限".into(),
            ..decided
        });
        let notice = only(&refused, &known());
        assert!(
            notice.title.contains("未获批准")
                && notice.body.contains("2026年6月30日")
                && notice.body.contains("期限已达上限")
        );
    }

    #[test]
    fn a_reply_reaches_the_deputies_with_its_class_in_words_and_asks_the_author_to_rate() {
        for (class, words) in [
            (ResultClass::A, "已解决/采纳"),
            (ResultClass::B, "正在解决/列入计划"),
            (ResultClass::C, "暂无法解决/留作参考"),
        ] {
            let event = SuggestionEvent::Replied(SuggestionReplied {
                suggestion: suggestion(),
                agency: HBJ.into(),
                result: class as i32,
                ..Default::default()
            });
            assert_eq!(recipients(&event, &known()), deputies());
            let items = notices(&event, &known());
            assert!(items[0].body.contains(words) && items[0].body.contains("请对办理结果进行评价"));
            assert!(items[1].body.contains(words) && !items[1].body.contains("评价"));
        }
    }

    #[test]
    fn an_evaluation_reaches_the_agency_and_an_unsatisfied_one_the_staff_too() {
        let evaluated = SuggestionEvaluated {
            suggestion: suggestion(),
            agency: HBJ.into(),
            satisfaction: Satisfaction::Satisfied as i32,
            round: 1,
            ..Default::default()
        };
        for (satisfaction, words) in [(Satisfaction::Satisfied, "满意"), (Satisfaction::BasicallySatisfied, "基本满意")]
        {
            let event = SuggestionEvent::Evaluated(SuggestionEvaluated {
                satisfaction: satisfaction as i32,
                ..evaluated.clone()
            });
            assert_eq!(recipients(&event, &known()), vec![agency(HBJ)]);
            assert!(only(&event, &known()).title.contains(words));
        }
        let unsatisfied = SuggestionEvent::Evaluated(SuggestionEvaluated {
            satisfaction: Satisfaction::Unsatisfied as i32,
            comment: "问题仍未解决".into(),
            ..evaluated
        });
        assert_eq!(recipients(&unsatisfied, &known()), vec![agency(HBJ), "role:staff".into()]);
        let items = notices(&unsatisfied, &known());
        assert!(items[0].title.contains("不满意") && items[1].body.contains("问题仍未解决"));
    }

    #[test]
    fn reopening_and_reminders_go_to_the_agency() {
        let reopened = SuggestionEvent::Reopened(SuggestionReopened {
            suggestion: suggestion(),
            agency: HBJ.into(),
            deadline: deadline("2026-09-30"),
            round: 2,
            ..Default::default()
        });
        assert_eq!(recipients(&reopened, &known()), vec![agency(HBJ)]);
        let body = only(&reopened, &known()).body;
        assert!(body.contains("不满意") && body.contains("重新办理") && body.contains("2026年9月30日"));

        let confirmed = SuggestionEvent::DeadlineConfirmed(DeadlineConfirmed {
            suggestion: suggestion(),
            agency: "330521-hbj".into(),
            previous_due_date: "2027-01-07".into(),
            deadline: Some(Deadline { due_date: "2027-01-08".into(), ..Default::default() }),
            ..Default::default()
        });
        let notices = notices(&confirmed, &Known::default());
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].recipient, "agency:330521-hbj");
        assert!(notices[0].title.contains("德清〔2026〕第0001号"), "{}", notices[0].title);
        assert!(notices[0].body.contains("2027年1月8日"), "{}", notices[0].body);

        let reminder = SuggestionEvent::ReminderDue(ReminderDue {
            suggestion: suggestion(),
            agency: HBJ.into(),
            due_date: "2026-06-30".into(),
            days_before: 3,
            ..Default::default()
        });
        assert_eq!(recipients(&reminder, &known()), vec![agency(HBJ)]);
        assert!(only(&reminder, &known()).body.contains("距办理期限还有3天（2026年6月30日）"));
    }

    #[test]
    fn overdue_goes_to_agency_and_staff_and_escalation_to_the_head() {
        let overdue = SuggestionEvent::Overdue(SuggestionOverdue {
            suggestion: suggestion(),
            agency: HBJ.into(),
            due_date: "2026-06-30".into(),
            ..Default::default()
        });
        assert_eq!(recipients(&overdue, &known()), vec![agency(HBJ), "role:staff".into()]);
        assert!(notices(&overdue, &known()).iter().all(|n| n.title.contains("已超期")));

        let escalated = SuggestionEscalated {
            suggestion: suggestion(),
            agency: HBJ.into(),
            stage: EscalationStage::Urge as i32,
            due_date: "2026-06-30".into(),
            days_overdue: 5,
            ..Default::default()
        };
        let urge = SuggestionEvent::Escalated(escalated.clone());
        assert_eq!(recipients(&urge, &known()), vec![agency_head(HBJ)]);
        let notice = only(&urge, &known());
        assert!(notice.title.contains("催办") && notice.body.contains("已超期5天"));

        let supervise = SuggestionEvent::Escalated(SuggestionEscalated {
            stage: EscalationStage::Supervise as i32,
            ..escalated.clone()
        });
        assert_eq!(recipients(&supervise, &known()), vec!["role:staff".into(), agency_head(HBJ)]);
        assert!(notices(&supervise, &known()).iter().all(|n| n.title.contains("督办")));

        let unknown = SuggestionEvent::Escalated(SuggestionEscalated { stage: 9, ..escalated });
        assert_eq!(recipients(&unknown, &known()), vec!["role:staff"]);
    }

    #[test]
    fn a_merge_tells_the_author_the_other_number() {
        let merged = SuggestionEvent::Merged(SuggestionMerged {
            suggestion: suggestion(),
            into_id: "s-9".into(),
            into_number: "德清〔2026〕第0009号".into(),
            ..Default::default()
        });
        assert_eq!(recipients(&merged, &known()), vec!["user:d-1"]);
        assert!(only(&merged, &known()).body.contains("并入德清〔2026〕第0009号"));
    }

    #[test]
    fn the_key_flag_goes_to_the_known_lead_only() {
        let marked = SuggestionMarkedKey { suggestion: suggestion(), key: true, ..Default::default() };
        let event = SuggestionEvent::MarkedKey(marked.clone());
        assert_eq!(recipients(&event, &known()), vec![agency(HBJ)]);
        assert!(only(&event, &known()).title.contains("列为重点督办"));
        let unmarked = SuggestionEvent::MarkedKey(SuggestionMarkedKey { key: false, ..marked });
        assert!(only(&unmarked, &known()).title.contains("取消重点督办"));
        assert!(notices(&event, &Known::default()).is_empty());
    }

    #[test]
    fn closing_reaches_the_author_and_co_signers() {
        let closed = SuggestionEvent::Closed(SuggestionClosed { suggestion: suggestion(), ..Default::default() });
        assert_eq!(recipients(&closed, &known()), deputies());
        assert!(notices(&closed, &known()).iter().all(|n| n.title.contains("已办结")));
    }

    #[test]
    fn blank_addresses_and_repeated_recipients_are_dropped() {
        let mut s = suggestion();
        if let Some(s) = s.as_mut() {
            s.co_signers = vec!["d-1".into(), String::new(), "d-2".into()];
        }
        let event = SuggestionEvent::Assigned(SuggestionAssigned {
            suggestion: s,
            lead_agency: HBJ.into(),
            co_agencies: vec![HBJ.into(), " ".into()],
            ..Default::default()
        });
        assert_eq!(recipients(&event, &Known::default()), vec![agency(HBJ), "user:d-1".into(), "user:d-2".into()]);
        // An event without its SuggestionRef still maps (to nobody it cannot address).
        let bare = SuggestionEvent::Closed(SuggestionClosed::default());
        assert!(notices(&bare, &Known::default()).is_empty());
    }

    #[test]
    fn every_type_decodes_under_its_ce_type_and_others_are_not_mine() {
        assert_eq!(SuggestionEvent::TYPES.len(), 19);
        let payload = SuggestionClosed { suggestion: suggestion(), ..Default::default() }.encode_to_vec();
        let decoded = SuggestionEvent::decode(SuggestionClosed::TYPE, &payload).expect("decodes").expect("known");
        assert_eq!(decoded.county(), Some("330521"));
        assert_eq!(decoded.suggestion_id(), Some("s-1"));
        for t in SuggestionEvent::TYPES {
            assert!(SuggestionEvent::decode(t, &[]).expect("empty decodes").is_some(), "{t}");
        }
        assert_eq!(SuggestionEvent::decode("renda.deputy.v1.DutyActivityRecorded", &payload).expect("ok"), None);
        assert!(SuggestionEvent::decode(SuggestionClosed::TYPE, &[0xff, 0xff]).is_err());
    }

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(date("2026-03-05"), "2026年3月5日");
        assert_eq!(date(""), "（未定）");
        assert_eq!(date("下月底"), "下月底");
        assert_eq!(excerpt("一二三四五", 3), "一二三…");
        assert_eq!(labelled("理由", " 重复。 "), "理由：重复。");
        assert_eq!(labelled("理由", ""), "");
    }
}
