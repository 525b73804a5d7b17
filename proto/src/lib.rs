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
    deputy::v1::DutyActivityRecorded => "renda.deputy.v1.DutyActivityRecorded",
    supervision::v1::ProjectProposed => "renda.supervision.v1.ProjectProposed",
    opinion::v1::OpinionIngested => "renda.opinion.v1.OpinionIngested",
    notification::v1::InboxItemCreated => "renda.notification.v1.InboxItemCreated",
}
