//! Events the deputy service consumes and publishes.

use renda_platform::consumer::{Handler, HandlerError};
use renda_platform::counties::CountyCode;
use renda_platform::envelope::Envelope;
use renda_platform::outbox;
use renda_platform::wire::{from_timestamp, timestamp};
use renda_proto::EventType;
use renda_proto::deputy::v1 as pb;
use renda_proto::suggestion::v1::SuggestionSubmitted;
use sqlx::PgConnection;

use crate::SERVICE;
use crate::api::kind_to_wire;
use crate::domain::{ActivityKind, suggestion_summary};
use crate::store::{self, ActivityRow, NewActivity};

pub fn activity_recorded(row: &ActivityRow) -> pb::DutyActivityRecorded {
    pb::DutyActivityRecorded {
        activity_id: row.id.to_string(),
        county: row.county.clone(),
        deputy_id: row.deputy_id.clone(),
        kind: kind_to_wire(ActivityKind::parse(&row.kind)) as i32,
        reference_id: row.reference_id.clone(),
        occurred_at: Some(timestamp(row.occurred_at)),
    }
}

/// Records a deputy's submitted suggestion as a duty activity.
pub struct SuggestionEvents;

impl Handler for SuggestionEvents {
    fn wants(&self, event_type: &str) -> bool {
        event_type == SuggestionSubmitted::TYPE
    }

    async fn handle(&self, conn: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let submitted: SuggestionSubmitted = event.decode()?;
        let county: CountyCode =
            submitted.county.parse().map_err(|e| HandlerError::Permanent(format!("county: {e}")))?;
        if county.as_str() != event.county {
            return Err(HandlerError::Permanent(format!(
                "payload county {county} differs from ce_county {}",
                event.county
            )));
        }
        if submitted.deputy_id.is_empty() || submitted.suggestion_id.is_empty() {
            return Err(HandlerError::Permanent("deputy_id and suggestion_id are required".into()));
        }
        let occurred_at = from_timestamp(submitted.submitted_at.as_ref()).unwrap_or(event.time);
        let new = NewActivity {
            county: &county,
            deputy_id: &submitted.deputy_id,
            deputy_name: &submitted.deputy_name,
            kind: ActivityKind::SuggestionSubmitted,
            summary: suggestion_summary(&submitted.number, &submitted.title),
            reference_id: &submitted.suggestion_id,
            occurred_at,
        };
        if let Some(row) = store::record(conn, &new).await? {
            outbox::enqueue(conn, SERVICE, &county, &row.deputy_id, &activity_recorded(&row), row.occurred_at).await?;
            tracing::info!(deputy = %row.deputy_id, activity = %row.id, "duty activity recorded");
        }
        Ok(())
    }
}
