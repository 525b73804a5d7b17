//! Pure rules of suggestions: what a valid submission is, the lifecycle state machine,
//! who may act, routing to agencies, the county policy and the reminder schedule.

pub mod lifecycle;
pub mod policy;
pub mod reminders;
pub mod routing;
pub mod submission;

pub use lifecycle::{Action, Relation, State};
pub use submission::{Kind, NewSuggestion, format_number, local_year};
