//! Events the suggestion service publishes on `renda.<county>.suggestion`.

use renda_proto::suggestion::v1 as pb;

use renda_platform::wire::timestamp;

use crate::api::kind_to_wire;
use crate::store::SuggestionRow;

pub fn submitted(row: &SuggestionRow) -> pb::SuggestionSubmitted {
    pb::SuggestionSubmitted {
        suggestion_id: row.id.to_string(),
        county: row.county.clone(),
        number: row.number.clone(),
        kind: kind_to_wire(row.kind()) as i32,
        title: row.title.clone(),
        category: row.category.clone(),
        deputy_id: row.deputy_id.clone(),
        deputy_name: row.deputy_name.clone(),
        submitted_at: Some(timestamp(row.submitted_at)),
    }
}
