//! Pure rules: which facts become which inbox items, for whom. No I/O here.
//!
//! Recipients are inbox addresses: `role:<role>` (everyone with that role in the county),
//! `user:<sub>` (one person; a deputy's sub is their deputy id), `agency:<code>` (every user of
//! that agency) and `agency-head:<code>` (the agency's head, who receives 催办).

mod suggestion;

pub use suggestion::{Known, SuggestionEvent, notices};

/// An item to put in an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub recipient: String,
    pub title: String,
    pub body: String,
}

pub const STAFF: &str = "role:staff";

pub fn user(sub: &str) -> String {
    format!("user:{sub}")
}

pub fn agency(code: &str) -> String {
    format!("agency:{code}")
}

pub fn agency_head(code: &str) -> String {
    format!("agency-head:{code}")
}
