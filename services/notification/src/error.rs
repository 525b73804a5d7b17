//! The notification service's errors: the platform's [`ServiceError`] covers every refusal it makes.

pub use renda_platform::error::ServiceError as Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;
