//! The suggestion service's errors and their one mapping to gRPC codes.

use renda_platform::auth::{AuthError, ScopeError};
use renda_platform::error::{ErrorClass, FieldViolation, classify_sqlx, describe, to_status};

use crate::domain::lifecycle::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("suggestion {0} not found")]
    NotFound(String),
    #[error("idempotency key {0:?} was already used for a different suggestion")]
    IdempotencyKeyReused(String),
    /// An illegal transition: says the state and what is allowed.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A precondition of the action besides the state, e.g. no pending extension.
    #[error("{0}")]
    Precondition(String),
    /// Optimistic concurrency: someone changed it since the caller read it.
    #[error("the suggestion changed since version {expected} (it is at version {actual} now); reload and retry")]
    Stale { expected: i32, actual: i32 },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation::new(field, description)])
    }
}

impl From<FieldViolation> for Error {
    fn from(v: FieldViolation) -> Self {
        Self::Invalid(vec![v])
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        let class = match &error {
            Error::Invalid(violations) => ErrorClass::InvalidArgument(violations),
            Error::Scope(e) => e.class(),
            Error::Auth(e) => e.class(),
            Error::NotFound(_) => ErrorClass::NotFound,
            Error::IdempotencyKeyReused(_) => ErrorClass::AlreadyExists,
            Error::Refused(_) | Error::Precondition(_) => ErrorClass::FailedPrecondition,
            Error::Stale { .. } => ErrorClass::Aborted,
            Error::Database(e) => classify_sqlx(e),
        };
        to_status(class, &error)
    }
}
