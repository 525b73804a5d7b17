//! The CloudEvents 1.0 envelope in Kafka binary mode (DESIGN.md §4): attributes travel as
//! `ce_*` headers, the payload is the protobuf event.

use chrono::{DateTime, Utc};
use rdkafka::Message;
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};

pub const SPECVERSION: &str = "ce_specversion";
pub const ID: &str = "ce_id";
pub const SOURCE: &str = "ce_source";
pub const TYPE: &str = "ce_type";
pub const TIME: &str = "ce_time";
pub const SUBJECT: &str = "ce_subject";
pub const COUNTY: &str = "ce_county";
pub const CONTENT_TYPE: &str = "content-type";
pub const TRACEPARENT: &str = "traceparent";
pub const PROTOBUF: &str = "application/protobuf";

/// One event as it travels: attributes plus the encoded payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: String,
    pub source: String,
    pub event_type: String,
    pub time: DateTime<Utc>,
    pub subject: String,
    pub county: String,
    pub traceparent: Option<String>,
    pub payload: Vec<u8>,
}

/// Where a consumed message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {0} is not UTF-8")]
    NotUtf8(String),
    #[error("unsupported {header}: {value}")]
    Unsupported { header: &'static str, value: String },
    #[error("ce_time {0:?} is not RFC 3339")]
    BadTime(String),
    #[error("message has no payload")]
    NoPayload,
}

impl Envelope {
    /// The Kafka headers of this event.
    pub fn headers(&self) -> OwnedHeaders {
        let time = self.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut headers = OwnedHeaders::new()
            .insert(Header { key: SPECVERSION, value: Some("1.0") })
            .insert(Header { key: ID, value: Some(self.id.as_str()) })
            .insert(Header { key: SOURCE, value: Some(self.source.as_str()) })
            .insert(Header { key: TYPE, value: Some(self.event_type.as_str()) })
            .insert(Header { key: TIME, value: Some(time.as_str()) })
            .insert(Header { key: SUBJECT, value: Some(self.subject.as_str()) })
            .insert(Header { key: COUNTY, value: Some(self.county.as_str()) })
            .insert(Header { key: CONTENT_TYPE, value: Some(PROTOBUF) });
        if let Some(tp) = &self.traceparent {
            headers = headers.insert(Header { key: TRACEPARENT, value: Some(tp.as_str()) });
        }
        headers
    }

    /// Reads an envelope from a consumed message; anything missing or malformed is an error.
    pub fn from_message(message: &BorrowedMessage<'_>) -> Result<Self, EnvelopeError> {
        let headers = header_pairs(message);
        let get = |name: &'static str| -> Result<String, EnvelopeError> {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .ok_or(EnvelopeError::MissingHeader(name))
                .and_then(|(_, v)| v.clone().ok_or_else(|| EnvelopeError::NotUtf8(name.to_owned())))
        };
        let specversion = get(SPECVERSION)?;
        if specversion != "1.0" {
            return Err(EnvelopeError::Unsupported { header: SPECVERSION, value: specversion });
        }
        let content_type = get(CONTENT_TYPE)?;
        if content_type != PROTOBUF {
            return Err(EnvelopeError::Unsupported { header: CONTENT_TYPE, value: content_type });
        }
        let raw_time = get(TIME)?;
        let time = DateTime::parse_from_rfc3339(&raw_time).map_err(|_| EnvelopeError::BadTime(raw_time))?.to_utc();
        Ok(Self {
            id: get(ID)?,
            source: get(SOURCE)?,
            event_type: get(TYPE)?,
            time,
            subject: get(SUBJECT)?,
            county: get(COUNTY)?,
            traceparent: get(TRACEPARENT).ok(),
            payload: message.payload().ok_or(EnvelopeError::NoPayload)?.to_vec(),
        })
    }

    /// Decodes the protobuf payload.
    pub fn decode<E: prost::Message + Default>(&self) -> Result<E, prost::DecodeError> {
        E::decode(self.payload.as_slice())
    }
}

/// All headers of a message, values as UTF-8 where they are.
pub fn header_pairs(message: &BorrowedMessage<'_>) -> Vec<(String, Option<String>)> {
    message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| (h.key.to_owned(), h.value.and_then(|v| std::str::from_utf8(v).ok()).map(str::to_owned)))
                .collect()
        })
        .unwrap_or_default()
}

/// The topic of a county's events from one service: `renda.<county>.<service>`.
pub fn topic(county: &str, service: &str) -> String {
    format!("renda.{county}.{service}")
}

/// The CloudEvents source of a county's service: `/renda/<county>/<service>`.
pub fn source(county: &str, service: &str) -> String {
    format!("/renda/{county}/{service}")
}
