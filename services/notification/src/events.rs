//! Events the notification service consumes (facts that call for a notice) and publishes.

use renda_platform::consumer::{Handler, HandlerError};
use renda_platform::counties::CountyCode;
use renda_platform::envelope::Envelope;
use renda_platform::outbox;
use renda_platform::wire::timestamp;
use renda_proto::EventType;
use renda_proto::notification::v1::InboxItemCreated;
use renda_proto::suggestion::v1::SuggestionSubmitted;
use sqlx::PgConnection;

use crate::SERVICE;
use crate::domain;
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

/// Turns suggestion facts into inbox items.
pub struct SuggestionEvents;

impl Handler for SuggestionEvents {
    fn wants(&self, event_type: &str) -> bool {
        event_type == SuggestionSubmitted::TYPE
    }

    async fn handle(&self, conn: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let submitted: SuggestionSubmitted = event.decode()?;
        let county: CountyCode =
            event.county.parse().map_err(|e| HandlerError::Permanent(format!("ce_county: {e}")))?;
        if submitted.county != event.county {
            return Err(HandlerError::Permanent(format!(
                "payload county {:?} differs from ce_county {}",
                submitted.county, event.county
            )));
        }
        let notice = domain::for_submitted_suggestion(&submitted);
        let source = Source { event_id: &event.id, event_type: &event.event_type, subject_id: &event.subject };
        if let Some(row) = store::insert(conn, &county, &notice, &source, chrono::Utc::now()).await? {
            outbox::enqueue(conn, SERVICE, &county, &row.id.to_string(), &item_created(&row), row.created_at).await?;
            tracing::info!(item = %row.id, recipient = %row.recipient, "inbox item created");
        }
        Ok(())
    }
}
