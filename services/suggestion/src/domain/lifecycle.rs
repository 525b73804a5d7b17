//! The closed loop as a state machine (DESIGN.md §2, the 德清 case):
//!
//! ```text
//! draft ─submit→ submitted ─register→ registered ─assign→ assigned ─accept→ in_progress ─reply→ replied
//!                    │ refuse → not_registered        ↑   │ return → returned ─assign─┘(back to assigned)
//!                    │ merge → merged                 │   in_progress: progress, co-agency opinions, extensions
//! replied ─evaluate(满意/基本满意)→ closed
//!         ─evaluate(不满意, first round)→ in_progress (re-handling, round 2, shorter deadline)
//!         ─evaluate(不满意, again)→ under_supervision (督办) ─assign→ assigned | ─close→ closed
//! ```
//! Staff may mark any open suggestion as key (重点督办). Every refusal says what state the
//! suggestion is in and what is allowed.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Draft,
    Submitted,
    Registered,
    NotRegistered,
    Assigned,
    Returned,
    InProgress,
    Replied,
    UnderSupervision,
    Closed,
    Merged,
}

pub const ALL_STATES: [State; 11] = [
    State::Draft,
    State::Submitted,
    State::Registered,
    State::NotRegistered,
    State::Assigned,
    State::Returned,
    State::InProgress,
    State::Replied,
    State::UnderSupervision,
    State::Closed,
    State::Merged,
];

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Registered => "registered",
            Self::NotRegistered => "not_registered",
            Self::Assigned => "assigned",
            Self::Returned => "returned",
            Self::InProgress => "in_progress",
            Self::Replied => "replied",
            Self::UnderSupervision => "under_supervision",
            Self::Closed => "closed",
            Self::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_STATES.into_iter().find(|state| state.as_str() == s)
    }

    /// No action leads out of a final state.
    pub fn is_final(self) -> bool {
        matches!(self, Self::NotRegistered | Self::Closed | Self::Merged)
    }

    /// An agency holds it and the deadline runs.
    pub fn is_being_handled(self) -> bool {
        matches!(self, Self::Assigned | Self::InProgress)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What someone asks to do with a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    EditDraft,
    Submit,
    Register,
    RefuseRegistration,
    Assign,
    Accept,
    Return,
    ReportProgress,
    CoAgencyOpinion,
    RequestExtension,
    DecideExtension,
    Reply,
    Evaluate,
    Merge,
    MarkKey,
    Close,
}

pub const ALL_ACTIONS: [Action; 16] = [
    Action::EditDraft,
    Action::Submit,
    Action::Register,
    Action::RefuseRegistration,
    Action::Assign,
    Action::Accept,
    Action::Return,
    Action::ReportProgress,
    Action::CoAgencyOpinion,
    Action::RequestExtension,
    Action::DecideExtension,
    Action::Reply,
    Action::Evaluate,
    Action::Merge,
    Action::MarkKey,
    Action::Close,
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EditDraft => "edit_draft",
            Self::Submit => "submit",
            Self::Register => "register",
            Self::RefuseRegistration => "refuse_registration",
            Self::Assign => "assign",
            Self::Accept => "accept",
            Self::Return => "return",
            Self::ReportProgress => "report_progress",
            Self::CoAgencyOpinion => "co_agency_opinion",
            Self::RequestExtension => "request_extension",
            Self::DecideExtension => "decide_extension",
            Self::Reply => "reply",
            Self::Evaluate => "evaluate",
            Self::Merge => "merge",
            Self::MarkKey => "mark_key",
            Self::Close => "close",
        }
    }

    /// Who may take this action (independent of state).
    pub fn actor(self) -> Relation {
        match self {
            Self::EditDraft | Self::Submit | Self::Evaluate => Relation::Author,
            Self::Register
            | Self::RefuseRegistration
            | Self::Assign
            | Self::DecideExtension
            | Self::Merge
            | Self::MarkKey
            | Self::Close => Relation::Staff,
            Self::Accept | Self::Return | Self::ReportProgress | Self::RequestExtension | Self::Reply => {
                Relation::LeadAgency
            }
            Self::CoAgencyOpinion => Relation::CoAgency,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a caller stands to a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The deputy (or liaison) who wrote it.
    Author,
    CoSigner,
    /// Congress staff of its county.
    Staff,
    /// A user of the lead agency of the current assignment.
    LeadAgency,
    /// A user of a co-agency of the current assignment.
    CoAgency,
}

impl Relation {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Author => "the author",
            Self::CoSigner => "a co-signer",
            Self::Staff => "congress staff",
            Self::LeadAgency => "the lead agency",
            Self::CoAgency => "a co-agency",
        }
    }
}

/// The deputy's verdict on a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

impl Satisfaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Satisfied => "satisfied",
            Self::BasicallySatisfied => "basically_satisfied",
            Self::Unsatisfied => "unsatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Satisfied, Self::BasicallySatisfied, Self::Unsatisfied].into_iter().find(|v| v.as_str() == s)
    }
}

/// A refused transition, with what is allowed instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a suggestion that is {state}; allowed now: {}", allowed_list(.allowed))]
pub struct Refusal {
    pub action: Action,
    pub state: State,
    pub allowed: Vec<Action>,
}

fn allowed_list(allowed: &[Action]) -> String {
    if allowed.is_empty() {
        "nothing (it is final)".to_owned()
    } else {
        allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Context an evaluation's outcome depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round(pub i32);

/// The state after `action`, or why it is refused. Evaluate needs the verdict and round.
pub fn next_state(state: State, action: Action, evaluation: Option<(Satisfaction, Round)>) -> Result<State, Refusal> {
    transition(state, action, evaluation).ok_or_else(|| Refusal { action, state, allowed: allowed_in(state) })
}

fn transition(state: State, action: Action, evaluation: Option<(Satisfaction, Round)>) -> Option<State> {
    use Action as A;
    use State as S;
    Some(match (state, action) {
        (S::Draft, A::EditDraft) => S::Draft,
        (S::Draft, A::Submit) => S::Submitted,
        (S::Submitted, A::Register) => S::Registered,
        (S::Submitted, A::RefuseRegistration) => S::NotRegistered,
        (S::Submitted | S::Registered, A::Merge) => S::Merged,
        (S::Registered | S::Returned | S::UnderSupervision, A::Assign) => S::Assigned,
        (S::Assigned, A::Accept) => S::InProgress,
        (S::Assigned, A::Return) => S::Returned,
        (S::InProgress, A::ReportProgress | A::CoAgencyOpinion | A::RequestExtension | A::DecideExtension) => {
            S::InProgress
        }
        (S::InProgress, A::Reply) => S::Replied,
        (S::Replied, A::Evaluate) => match evaluation? {
            (Satisfaction::Satisfied | Satisfaction::BasicallySatisfied, _) => S::Closed,
            (Satisfaction::Unsatisfied, Round(round)) if round <= 1 => S::InProgress,
            (Satisfaction::Unsatisfied, _) => S::UnderSupervision,
        },
        (S::UnderSupervision, A::Close) => S::Closed,
        (s, A::MarkKey) if !s.is_final() && s != S::Draft => s,
        _ => return None,
    })
}

/// Every action the state machine allows in `state`, whoever takes it.
pub fn allowed_in(state: State) -> Vec<Action> {
    let any_verdict = Some((Satisfaction::Satisfied, Round(1)));
    ALL_ACTIONS.into_iter().filter(|a| transition(state, *a, any_verdict).is_some()).collect()
}

/// The actions `relations` may take now: what the UI offers.
pub fn allowed_for(state: State, relations: &[Relation]) -> Vec<Action> {
    allowed_in(state).into_iter().filter(|a| relations.contains(&a.actor())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full table: for every state and action, the expected next state or a refusal.
    fn expected(state: State, action: Action) -> Option<State> {
        use Action as A;
        use State as S;
        Some(match (state, action) {
            (S::Draft, A::EditDraft) => S::Draft,
            (S::Draft, A::Submit) => S::Submitted,
            (S::Submitted, A::Register) => S::Registered,
            (S::Submitted, A::RefuseRegistration) => S::NotRegistered,
            (S::Submitted, A::Merge) | (S::Registered, A::Merge) => S::Merged,
            (S::Registered, A::Assign) | (S::Returned, A::Assign) | (S::UnderSupervision, A::Assign) => S::Assigned,
            (S::Assigned, A::Accept) => S::InProgress,
            (S::Assigned, A::Return) => S::Returned,
            (S::InProgress, A::ReportProgress)
            | (S::InProgress, A::CoAgencyOpinion)
            | (S::InProgress, A::RequestExtension)
            | (S::InProgress, A::DecideExtension) => S::InProgress,
            (S::InProgress, A::Reply) => S::Replied,
            (S::Replied, A::Evaluate) => S::Closed,
            (S::UnderSupervision, A::Close) => S::Closed,
            (s, A::MarkKey) if !matches!(s, S::Draft | S::NotRegistered | S::Closed | S::Merged) => s,
            _ => return None,
        })
    }

    #[test]
    fn every_state_and_action_follows_the_table() {
        let satisfied = Some((Satisfaction::Satisfied, Round(1)));
        for state in ALL_STATES {
            for action in ALL_ACTIONS {
                let got = next_state(state, action, satisfied);
                match expected(state, action) {
                    Some(next) => assert_eq!(got, Ok(next), "{state} × {action}"),
                    None => {
                        let refusal = got.expect_err(&format!("{state} × {action} must be refused"));
                        assert_eq!(refusal.state, state);
                        assert_eq!(refusal.allowed, allowed_in(state));
                        assert!(!refusal.allowed.contains(&action), "{state} × {action}");
                    }
                }
            }
        }
    }

    #[test]
    fn allowed_in_agrees_with_next_state() {
        for state in ALL_STATES {
            for action in ALL_ACTIONS {
                let allowed = allowed_in(state).contains(&action);
                let ok = next_state(state, action, Some((Satisfaction::Satisfied, Round(1)))).is_ok();
                assert_eq!(allowed, ok, "{state} × {action}");
            }
        }
    }

    #[test]
    fn an_unsatisfied_deputy_reopens_once_then_staff_supervise() {
        assert_eq!(
            next_state(State::Replied, Action::Evaluate, Some((Satisfaction::Unsatisfied, Round(1)))),
            Ok(State::InProgress)
        );
        assert_eq!(
            next_state(State::Replied, Action::Evaluate, Some((Satisfaction::Unsatisfied, Round(2)))),
            Ok(State::UnderSupervision)
        );
        assert_eq!(
            next_state(State::Replied, Action::Evaluate, Some((Satisfaction::BasicallySatisfied, Round(2)))),
            Ok(State::Closed)
        );
        assert!(next_state(State::Replied, Action::Evaluate, None).is_err());
    }

    #[test]
    fn refusals_say_the_state_and_what_is_allowed() {
        let refusal = next_state(State::Assigned, Action::Reply, None).expect_err("refused");
        assert_eq!(
            refusal.to_string(),
            "cannot reply a suggestion that is assigned; allowed now: accept, return, mark_key"
        );
        let final_one = next_state(State::Closed, Action::Assign, None).expect_err("refused");
        assert!(final_one.to_string().ends_with("allowed now: nothing (it is final)"));
    }

    #[test]
    fn what_each_party_is_offered() {
        assert_eq!(allowed_for(State::Assigned, &[Relation::LeadAgency]), [Action::Accept, Action::Return]);
        assert_eq!(allowed_for(State::Assigned, &[Relation::Staff]), [Action::MarkKey]);
        assert_eq!(allowed_for(State::Replied, &[Relation::Author]), [Action::Evaluate]);
        assert_eq!(allowed_for(State::Replied, &[Relation::CoSigner]), []);
        assert_eq!(allowed_for(State::InProgress, &[Relation::CoAgency]), [Action::CoAgencyOpinion]);
    }

    #[test]
    fn names_round_trip() {
        for state in ALL_STATES {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
        assert_eq!(Satisfaction::parse("unsatisfied"), Some(Satisfaction::Unsatisfied));
        assert_eq!(State::parse("open"), None);
    }
}
