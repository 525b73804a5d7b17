//! Events the notification service consumes (facts that call for a notice) and publishes.

use renda_platform::consumer::{Handler, HandlerError};
use renda_platform::counties::CountyCode;
use renda_platform::envelope::Envelope;
use renda_platform::outbox;
use renda_platform::wire::timestamp;
use renda_proto::notification::v1::InboxItemCreated;
use sqlx::PgConnection;

use crate::SERVICE;
use crate::domain::{self, Known, SuggestionEvent};
use crate::store::{self, ItemRow, Source};

pub fn item_created(row: &ItemRow) -> InboxItemCreated {
    InboxItemCreated {
        item_id: row.id.to_string(),
        county: row.county.clone(),
        recipient: row.recipient.clone(),
        title: row.title.clone(),
        source_type: row.source_type.clone(),
        subject_id: row.subject_id.clone(),
        created_at: Some(timestamp(row.created_at)),
    }
}

/// Turns suggestion facts into inbox items: one per notice of [`domain::notices`], each
/// announced by an `InboxItemCreated`. Applying an event again creates nothing new.
pub struct SuggestionEvents;

impl Handler for SuggestionEvents {
    fn wants(&self, event_type: &str) -> bool {
        SuggestionEvent::TYPES.contains(&event_type)
    }

    async fn handle(&self, conn: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let Some(fact) = SuggestionEvent::decode(&event.event_type, &event.payload)? else {
            tracing::debug!(event_type = %event.event_type, "not a suggestion event this service acts on");
            return Ok(());
        };
        let county: CountyCode =
            event.county.parse().map_err(|e| HandlerError::Permanent(format!("ce_county: {e}")))?;
        let (Some(payload_county), Some(_)) = (fact.county(), fact.suggestion_id()) else {
            return Err(HandlerError::Permanent(format!("{} carries no suggestion", event.event_type)));
        };
        if payload_county != event.county {
            return Err(HandlerError::Permanent(format!(
                "payload county {payload_county:?} differs from ce_county {}",
                event.county
            )));
        }
        let known = fact.suggestion().map(Known::from_ref).unwrap_or_default();
        let source = Source { event_id: &event.id, event_type: &event.event_type, subject_id: &event.subject };
        let now = chrono::Utc::now();
        for notice in domain::notices(&fact, &known) {
            if let Some(row) = store::insert(conn, &county, &notice, &source, now).await? {
                outbox::enqueue(conn, SERVICE, &county, &row.id.to_string(), &item_created(&row), row.created_at)
                    .await?;
                tracing::info!(item = %row.id, recipient = %row.recipient, "inbox item created");
            }
        }
        Ok(())
    }
}
