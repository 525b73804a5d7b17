//! Keyset pagination over UUIDv7 ids (time-ordered), newest first.
//!
//! The page token is the last id of the previous page; it is opaque to clients.

use uuid::Uuid;

use crate::error::FieldViolation;
use crate::proto::common::v1::PageRequest;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub size: u32,
    /// Return only rows with ids below this one.
    pub before: Option<Uuid>,
}

/// The page size a request asks for: the default for 0 or none, at most [`MAX_PAGE_SIZE`].
/// Lists keyed by something other than UUIDv7 ids use it with their own tokens.
pub fn page_size(request: Option<&PageRequest>) -> Result<u32, FieldViolation> {
    match request.map_or(0, |r| r.page_size) {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n > MAX_PAGE_SIZE => {
            Err(FieldViolation::new("page.page_size", format!("must be at most {MAX_PAGE_SIZE}")))
        }
        n => Ok(n),
    }
}

impl Page {
    /// Validates a wire page request; `None` means the first page of default size.
    pub fn parse(request: Option<&PageRequest>) -> Result<Self, FieldViolation> {
        let size = page_size(request)?;
        let Some(request) = request else {
            return Ok(Self { size, before: None });
        };
        let before = if request.page_token.is_empty() {
            None
        } else {
            Some(
                Uuid::try_parse(&request.page_token)
                    .map_err(|_| FieldViolation::new("page.page_token", "is not a token this service issued"))?,
            )
        };
        Ok(Self { size, before })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.size) + 1
    }

    /// Cuts the fetched rows to the page and returns the next token ("" on the last page).
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> Uuid) -> (Vec<T>, String) {
        if rows.len() > self.size as usize {
            rows.truncate(self.size as usize);
            let token = rows.last().map(|r| id_of(r).to_string()).unwrap_or_default();
            (rows, token)
        } else {
            (rows, String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(Page::parse(None).expect("ok").size, DEFAULT_PAGE_SIZE);
        let too_big = PageRequest { page_size: 1000, page_token: String::new() };
        assert_eq!(Page::parse(Some(&too_big)).unwrap_err().field, "page.page_size");
        let bad_token = PageRequest { page_size: 10, page_token: "xyz".into() };
        assert_eq!(Page::parse(Some(&bad_token)).unwrap_err().field, "page.page_token");
    }

    #[test]
    fn finish_emits_a_token_only_when_more_rows_follow() {
        let page = Page { size: 2, before: None };
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (rows, token) = page.finish(ids.clone(), |id| *id);
        assert_eq!(rows.len(), 2);
        assert_eq!(token, ids[1].to_string());
        let (rows, token) = page.finish(ids[..2].to_vec(), |id| *id);
        assert_eq!(rows.len(), 2);
        assert!(token.is_empty());
    }
}
