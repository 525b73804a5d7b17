//! The opinion-ingest service's errors and their one mapping to gRPC codes.

use renda_platform::auth::{AuthError, ScopeError};
use renda_platform::error::{ErrorClass, FieldViolation, classify_sqlx, describe, to_status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        let class = match &error {
            Error::Invalid(violations) => ErrorClass::InvalidArgument(violations),
            Error::Scope(e) => e.class(),
            Error::Auth(e) => e.class(),
            Error::Database(e) => classify_sqlx(e),
        };
        to_status(class, &error)
    }
}
