//! Events the suggestion service publishes on `renda.<county>.suggestion`, one per fact.

use chrono::{DateTime, NaiveDate, Utc};
use renda_platform::auth::Caller;
use renda_platform::wire::timestamp;
use renda_proto::suggestion::v1 as pb;

use crate::api::kind_to_wire;
use crate::domain::Relation;
use crate::store::{AssignmentRow, SuggestionRow};

/// The suggestion as every event names it, with its current lead agency; `version` is the
/// version after the change.
pub fn reference(row: &SuggestionRow, assignment: Option<&AssignmentRow>, version: i32) -> pb::SuggestionRef {
    pb::SuggestionRef {
        suggestion_id: row.id.to_string(),
        county: row.county.clone(),
        number: row.number().to_owned(),
        title: row.title.clone(),
        kind: kind_to_wire(row.kind()) as i32,
        category: row.category.clone(),
        deputy_id: row.deputy_id.clone(),
        deputy_name: row.deputy_name.clone(),
        co_signers: row.co_signers.clone(),
        key: row.is_key,
        version,
        lead_agency: assignment.map(|a| a.lead_agency.clone()).unwrap_or_default(),
        lead_agency_name: assignment.and_then(|a| a.lead_agency_name.clone()).unwrap_or_default(),
    }
}

pub fn actor(caller: &Caller, acting_as: Relation) -> pb::Actor {
    let role = match acting_as {
        Relation::Author | Relation::CoSigner => {
            if caller.has_role(renda_platform::auth::Role::Liaison)
                && !caller.has_role(renda_platform::auth::Role::Deputy)
            {
                "liaison"
            } else {
                "deputy"
            }
        }
        Relation::Staff => "staff",
        Relation::LeadAgency | Relation::CoAgency => "agency",
    };
    pb::Actor {
        id: caller.id.clone(),
        name: caller.name.clone(),
        role: role.to_owned(),
        agency: caller.agency.clone().unwrap_or_default(),
    }
}

/// The scheduler, for facts no person caused.
pub fn system_actor() -> pb::Actor {
    pb::Actor { id: "system".into(), name: "renda-suggestion".into(), role: "system".into(), agency: String::new() }
}

pub fn deadline(due: NaiveDate, provisional: bool, missing_years: &[i32]) -> pb::Deadline {
    pb::Deadline { due_date: due.to_string(), provisional, missing_calendar_years: missing_years.to_vec() }
}

pub fn assignment_deadline(a: &AssignmentRow) -> pb::Deadline {
    deadline(a.due_date, a.provisional, &a.missing_years)
}

pub fn submitted(row: &SuggestionRow) -> pb::SuggestionSubmitted {
    pb::SuggestionSubmitted {
        suggestion_id: row.id.to_string(),
        county: row.county.clone(),
        number: row.number().to_owned(),
        kind: kind_to_wire(row.kind()) as i32,
        title: row.title.clone(),
        category: row.category.clone(),
        deputy_id: row.deputy_id.clone(),
        deputy_name: row.deputy_name.clone(),
        submitted_at: row.submitted_at.map(timestamp),
        co_signers: row.co_signers.clone(),
        origin: row.origin_source.as_ref().map(|source| pb::Origin {
            source: source.clone(),
            reference: row.origin_reference.clone().unwrap_or_default(),
            note: row.origin_note.clone().unwrap_or_default(),
        }),
        proposed_agency: row.proposed_agency.clone().unwrap_or_default(),
    }
}

pub fn assigned(
    suggestion: pb::SuggestionRef,
    actor: pb::Actor,
    a: &AssignmentRow,
    automatic: bool,
    at: DateTime<Utc>,
) -> pb::SuggestionAssigned {
    pb::SuggestionAssigned {
        suggestion: Some(suggestion),
        actor: Some(actor),
        lead_agency: a.lead_agency.clone(),
        lead_agency_name: a.lead_agency_name.clone().unwrap_or_default(),
        co_agencies: a.co_agencies.clone(),
        deadline: Some(assignment_deadline(a)),
        round: a.round,
        automatic,
        at: Some(timestamp(at)),
    }
}
