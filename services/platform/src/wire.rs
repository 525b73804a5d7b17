//! Small conversions between wire types and domain types, shared by every service's edge.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::FieldViolation;

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0) }
}

/// Parses an id field, naming the field when it is not a UUID.
pub fn uuid(field: &str, raw: &str) -> Result<Uuid, FieldViolation> {
    Uuid::try_parse(raw.trim()).map_err(|_| FieldViolation::new(field, format!("{raw:?} is not a valid id")))
}

/// The instant of a wire timestamp, when it is set and in range.
pub fn from_timestamp(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
}
