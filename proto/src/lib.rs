//! Renda's wire contracts: gRPC services and the protobuf events agency systems subscribe to.
//!
//! Each area has a package `renda.<area>.v1`; its `events.proto` messages are the payloads
//! of the CloudEvents published on `renda.<county>.<service>`.

#![allow(clippy::doc_lazy_continuation, clippy::large_enum_variant)]

/// Serialized `FileDescriptorSet` of every Renda proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/renda_descriptor.bin"));

pub mod common {
    pub mod v1 {
        tonic::include_proto!("renda.common.v1");
    }
}
pub mod suggestion {
    pub mod v1 {
        tonic::include_proto!("renda.suggestion.v1");
    }
}
pub mod deputy {
    pub mod v1 {
        tonic::include_proto!("renda.deputy.v1");
    }
}
pub mod supervision {
    pub mod v1 {
        tonic::include_proto!("renda.supervision.v1");
    }
}
pub mod opinion {
    pub mod v1 {
        tonic::include_proto!("renda.opinion.v1");
    }
}
pub mod notification {
    pub mod v1 {
        tonic::include_proto!("renda.notification.v1");
    }
}

/// The full protobuf name of an event message: the CloudEvents `ce_type` it is published under.
pub trait EventType: prost::Message + Default {
    const TYPE: &'static str;
}

macro_rules! event_types {
    ($($ty:path => $name:literal),* $(,)?) => {
        $(impl EventType for $ty { const TYPE: &'static str = $name; })*
    };
}

event_types! {
    suggestion::v1::SuggestionSubmitted => "renda.suggestion.v1.SuggestionSubmitted",
    suggestion::v1::SuggestionRegistered => "renda.suggestion.v1.SuggestionRegistered",
    suggestion::v1::SuggestionRegistrationRefused => "renda.suggestion.v1.SuggestionRegistrationRefused",
    suggestion::v1::SuggestionAssigned => "renda.suggestion.v1.SuggestionAssigned",
    suggestion::v1::SuggestionAccepted => "renda.suggestion.v1.SuggestionAccepted",
    suggestion::v1::SuggestionReturned => "renda.suggestion.v1.SuggestionReturned",
    suggestion::v1::ProgressReported => "renda.suggestion.v1.ProgressReported",
    suggestion::v1::ExtensionRequested => "renda.suggestion.v1.ExtensionRequested",
    suggestion::v1::ExtensionDecided => "renda.suggestion.v1.ExtensionDecided",
    suggestion::v1::SuggestionReplied => "renda.suggestion.v1.SuggestionReplied",
    suggestion::v1::SuggestionEvaluated => "renda.suggestion.v1.SuggestionEvaluated",
    suggestion::v1::SuggestionReopened => "renda.suggestion.v1.SuggestionReopened",
    suggestion::v1::ReminderDue => "renda.suggestion.v1.ReminderDue",
    suggestion::v1::SuggestionOverdue => "renda.suggestion.v1.SuggestionOverdue",
    suggestion::v1::SuggestionEscalated => "renda.suggestion.v1.SuggestionEscalated",
    suggestion::v1::SuggestionMerged => "renda.suggestion.v1.SuggestionMerged",
    suggestion::v1::SuggestionMarkedKey => "renda.suggestion.v1.SuggestionMarkedKey",
    suggestion::v1::SuggestionClosed => "renda.suggestion.v1.SuggestionClosed",
    suggestion::v1::DeadlineConfirmed => "renda.suggestion.v1.DeadlineConfirmed",
    deputy::v1::DutyActivityRecorded => "renda.deputy.v1.DutyActivityRecorded",
    supervision::v1::ProjectProposed => "renda.supervision.v1.ProjectProposed",
    opinion::v1::OpinionIngested => "renda.opinion.v1.OpinionIngested",
    notification::v1::InboxItemCreated => "renda.notification.v1.InboxItemCreated",
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    /// `ce_type` must be a message's full protobuf name, or nobody can decode the event.
    #[test]
    fn event_types_name_messages_of_the_published_protos() {
        let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("descriptor set");
        let names: std::collections::HashSet<String> = set
            .file
            .iter()
            .flat_map(|f| f.message_type.iter().map(move |m| format!("{}.{}", f.package(), m.name())))
            .collect();
        for name in [
            suggestion::v1::SuggestionSubmitted::TYPE,
            suggestion::v1::SuggestionAssigned::TYPE,
            suggestion::v1::SuggestionEscalated::TYPE,
            suggestion::v1::SuggestionClosed::TYPE,
            suggestion::v1::ReminderDue::TYPE,
            suggestion::v1::DeadlineConfirmed::TYPE,
            deputy::v1::DutyActivityRecorded::TYPE,
            notification::v1::InboxItemCreated::TYPE,
        ] {
            assert!(names.contains(name), "{name} is not a message of the published protos");
        }
    }
}
