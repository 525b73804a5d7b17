//! Pure rules of opinion ingest: sources and who may read the records.

use renda_platform::auth::Role;

/// Opinions carry citizens' concerns; congress staff analyse them.
pub const OPINION_READERS: &[Role] = &[Role::Staff];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Hotline12345,
    Petition,
    Grid,
    Online,
    Station,
    Diary,
}

impl Source {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "hotline_12345" => Self::Hotline12345,
            "petition" => Self::Petition,
            "grid" => Self::Grid,
            "online" => Self::Online,
            "station" => Self::Station,
            "diary" => Self::Diary,
            _ => return None,
        })
    }
}
