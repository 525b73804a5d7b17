//! Request extractors that turn every bad input into a 4xx in the one error format.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use renda_platform::auth::{Caller, bearer_token};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body; malformed JSON or wrong fields are a 400 naming what was wrong.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::invalid("body", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::invalid("body", e.body_text()),
        JsonRejection::MissingJsonContentType(_) => ApiError::invalid("content-type", "must be application/json"),
        other => ApiError::invalid("body", other.body_text()),
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`; otherwise as [`Json`].
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = media_type(req.headers()).is_some_and(|m| m == "application/json" || m.ends_with("+json"));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| ApiError::invalid("body", e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if !is_json {
            return Err(ApiError::invalid("content-type", "must be application/json"));
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|e| {
            ApiError::invalid("body", format!("Failed to deserialize the JSON body into the target type: {e}"))
        })
    }
}

/// A UTF-8 text body sent as `text/tab-separated-values` or `text/plain` (parameters such as
/// `charset` are ignored); another content-type or bytes that are not UTF-8 are a 400.
pub struct TextBody(pub String);

pub const TEXT_MEDIA_TYPES: &[&str] = &["text/tab-separated-values", "text/plain"];

impl<S: Send + Sync> FromRequest<S> for TextBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !media_type(req.headers()).is_some_and(|m| TEXT_MEDIA_TYPES.contains(&m.as_str())) {
            return Err(ApiError::invalid("content-type", format!("must be {}", TEXT_MEDIA_TYPES.join(" or "))));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| ApiError::invalid("body", e.body_text()))?;
        String::from_utf8(bytes.into()).map(Self).map_err(|_| ApiError::invalid("body", "must be UTF-8 text"))
    }
}

/// The lowercase media type of the `content-type` header, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// Query parameters; a bad one is a 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::invalid("query", e.body_text())),
            Err(other) => Err(ApiError::invalid("query", other.body_text())),
        }
    }
}

/// The verified caller of a request (401 without a valid bearer token), and its request id.
pub struct Authenticated {
    pub caller: Caller,
    pub request_id: Option<String>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthenticated("missing bearer token"))?;
        let value = header.to_str().map_err(|_| ApiError::unauthenticated("authorization is not ASCII"))?;
        let token =
            bearer_token(value).ok_or_else(|| ApiError::unauthenticated("authorization is not a Bearer token"))?;
        let caller = state.verifier.verify(token).map_err(|e| ApiError::unauthenticated(e.to_string()))?;
        state.rate_limiter.check(&format!("user:{}", caller.id))?;
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Self { caller, request_id })
    }
}
