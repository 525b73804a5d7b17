//! The one mapping from service errors to the small set of gRPC codes DESIGN.md §4 allows.
//!
//! Each service has its own `thiserror` enum and says, in one exhaustive match, which
//! [`ErrorClass`] each variant is; [`to_status`] turns that into a `Status`. Internal
//! errors are logged here and reach the client only as a generic message.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// A field that failed validation, with what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

impl std::fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// The restricted set of outcomes a client can see.
#[derive(Debug)]
pub enum ErrorClass<'a> {
    InvalidArgument(&'a [FieldViolation]),
    NotFound,
    AlreadyExists,
    /// An illegal state transition or a stale version.
    FailedPrecondition,
    /// Lost an optimistic-concurrency race; retrying may succeed.
    Aborted,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    /// A bug or an unexpected failure: logged, never shown.
    Internal,
}

/// Builds the client-facing `Status` for an error of the given class.
pub fn to_status(class: ErrorClass<'_>, error: &dyn std::error::Error) -> Status {
    let message = error.to_string();
    match class {
        ErrorClass::InvalidArgument(violations) => {
            let mut details = ErrorDetails::new();
            for v in violations {
                details.add_bad_request_violation(v.field.clone(), v.description.clone());
            }
            Status::with_error_details(Code::InvalidArgument, message, details)
        }
        ErrorClass::NotFound => Status::not_found(message),
        ErrorClass::AlreadyExists => Status::already_exists(message),
        ErrorClass::FailedPrecondition => Status::failed_precondition(message),
        ErrorClass::Aborted => Status::aborted(message),
        ErrorClass::PermissionDenied => Status::permission_denied(message),
        ErrorClass::Unauthenticated => Status::unauthenticated(message),
        ErrorClass::Unavailable => {
            tracing::warn!(error = %message, "dependency unavailable");
            Status::unavailable("a dependency is unavailable, retry later")
        }
        ErrorClass::Internal => {
            tracing::error!(error = ?error, "internal error");
            Status::internal("internal error")
        }
    }
}

/// Classifies a database error: connection trouble is UNAVAILABLE, a lost race ABORTED,
/// anything else INTERNAL.
pub fn classify_sqlx(error: &sqlx::Error) -> ErrorClass<'static> {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => ErrorClass::Unavailable,
        // 40001 serialization failure, 40P01 deadlock: a race the client may retry.
        sqlx::Error::Database(e) if matches!(e.code().as_deref(), Some("40001" | "40P01")) => ErrorClass::Aborted,
        _ => ErrorClass::Internal,
    }
}

/// Field violations of a request, collected so the client sees all of them at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    /// Records the violation of a failed check and returns the value of a passed one.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        result.map_err(|v| self.0.push(v)).ok()
    }

    /// `Ok(())` when nothing was wrong.
    pub fn finish(self) -> Result<(), Vec<FieldViolation>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }
}

/// Checks a required text field: trimmed, non-empty and at most `max_chars` characters.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> Result<String, FieldViolation> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldViolation::new(field, "must not be empty"));
    }
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(FieldViolation::new(field, format!("is {count} characters, at most {max_chars} allowed")));
    }
    Ok(trimmed.to_owned())
}

/// Formats violations for a message line: "title: must not be empty; content: …".
pub fn describe(violations: &[FieldViolation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The error of a service whose calls can only be refused for bad input, scope or the
/// database — the read-mostly services share it rather than each keep a copy; a service
/// with more to say (illegal transitions, conflicts) has its own enum.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid request: {}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    #[error(transparent)]
    Scope(#[from] crate::auth::ScopeError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<FieldViolation> for ServiceError {
    fn from(v: FieldViolation) -> Self {
        Self::Invalid(vec![v])
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        let class = match &error {
            ServiceError::Invalid(violations) => ErrorClass::InvalidArgument(violations),
            ServiceError::Scope(e) => e.class(),
            ServiceError::Auth(e) => e.class(),
            ServiceError::Database(e) => classify_sqlx(e),
        };
        to_status(class, &error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("bad: {}", describe(.0))]
    struct Bad(Vec<FieldViolation>);

    #[test]
    fn invalid_argument_carries_field_violations() {
        let err = Bad(vec![FieldViolation::new("title", "must not be empty")]);
        let status = to_status(ErrorClass::InvalidArgument(&err.0), &err);
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad = details.bad_request().expect("bad request details");
        assert_eq!(bad.field_violations[0].field, "title");
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let err = std::io::Error::other("relation \"secret_table\" does not exist");
        let status = to_status(ErrorClass::Internal, &err);
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret_table"));
    }

    #[test]
    fn required_text_trims_and_bounds() {
        assert_eq!(required_text("t", "  标题 ", 5).expect("ok"), "标题");
        assert!(required_text("t", "   ", 5).is_err());
        assert!(required_text("t", "一二三四五六", 5).unwrap_err().description.contains("6 characters"));
    }
}
