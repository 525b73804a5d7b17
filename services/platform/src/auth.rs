//! Authentication and scope: a JWT (RS256 in production, HS256 on the local stack) with
//! `sub`, `name`, `roles`, `counties` and, for agency users, `agency`.
//!
//! The gateway verifies it and forwards it; every service verifies it again and checks
//! role and county scope itself.

use std::collections::BTreeSet;
use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::metadata::MetadataMap;

use crate::config::JwtKey;
use crate::counties::CountyCode;
use crate::error::{ErrorClass, FieldViolation};

/// Who acts: the roles of DESIGN.md §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Deputy,
    Staff,
    Agency,
    Liaison,
    Citizen,
    Evaluator,
    /// Another government system pushing records in.
    System,
    /// Head of an agency (with the `agency` claim): receives 催办.
    AgencyHead,
    /// Province operator: reference data such as the holiday calendar.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deputy => "deputy",
            Self::Staff => "staff",
            Self::Agency => "agency",
            Self::Liaison => "liaison",
            Self::Citizen => "citizen",
            Self::Evaluator => "evaluator",
            Self::System => "system",
            Self::AgencyHead => "agency_head",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "deputy" => Self::Deputy,
            "staff" => Self::Staff,
            "agency" => Self::Agency,
            "liaison" => Self::Liaison,
            "citizen" => Self::Citizen,
            "evaluator" => Self::Evaluator,
            "system" => Self::System,
            "agency_head" => Self::AgencyHead,
            "admin" => Self::Admin,
            _ => return None,
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims Renda tokens carry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub counties: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub name: String,
    pub roles: BTreeSet<Role>,
    pub counties: BTreeSet<String>,
    pub agency: Option<String>,
    /// The bearer token as received, for forwarding to other services.
    pub token: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
}

impl AuthError {
    pub fn class(&self) -> ErrorClass<'static> {
        match self {
            Self::Missing | Self::Invalid(_) => ErrorClass::Unauthenticated,
            Self::Forbidden(_) => ErrorClass::PermissionDenied,
        }
    }
}

/// Why a request could not be scoped to a county.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("invalid request: {0}")]
    County(FieldViolation),
}

impl ScopeError {
    pub fn class(&self) -> ErrorClass<'_> {
        match self {
            Self::Auth(e) => e.class(),
            Self::County(v) => ErrorClass::InvalidArgument(std::slice::from_ref(v)),
        }
    }
}

/// An authenticated caller acting in a county its token grants.
#[derive(Debug, Clone)]
pub struct Scoped {
    pub caller: Caller,
    pub county: CountyCode,
}

impl Caller {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Refuses a request about a county the token does not grant.
    pub fn require_county(&self, county: &CountyCode) -> Result<(), AuthError> {
        if self.counties.contains(county.as_str()) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!("the token does not grant county {county}")))
        }
    }

    /// Refuses a caller with none of `roles`.
    pub fn require_any_role(&self, roles: &[Role]) -> Result<(), AuthError> {
        if roles.iter().any(|r| self.has_role(*r)) {
            Ok(())
        } else {
            let wanted = roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ");
            Err(AuthError::Forbidden(format!("this needs the role {wanted}")))
        }
    }

    /// Inbox addresses of this caller: `user:<sub>`, `role:<role>` for each role, and for
    /// agency users `agency:<code>` (and `agency-head:<code>` for the agency's head).
    pub fn recipients(&self) -> Vec<String> {
        let mut recipients: Vec<String> = std::iter::once(format!("user:{}", self.id))
            .chain(self.roles.iter().map(|r| format!("role:{r}")))
            .collect();
        if let Some(agency) = &self.agency {
            recipients.push(format!("agency:{agency}"));
            if self.has_role(Role::AgencyHead) {
                recipients.push(format!("agency-head:{agency}"));
            }
        }
        recipients
    }
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").field("algorithms", &self.validation.algorithms).finish()
    }
}

impl Verifier {
    pub fn new(key: &JwtKey) -> Result<Self, jsonwebtoken::errors::Error> {
        let (key, algorithm) = match key {
            JwtKey::Hs256 { secret } => (DecodingKey::from_secret(secret.as_bytes()), Algorithm::HS256),
            JwtKey::Rs256 { public_key_pem } => {
                (DecodingKey::from_rsa_pem(public_key_pem.as_bytes())?, Algorithm::RS256)
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self { key, validation })
    }

    /// Verifies a raw token.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() {
            return Err(AuthError::Invalid("empty sub".into()));
        }
        Ok(Caller {
            id: claims.sub,
            name: claims.name,
            roles: claims.roles.iter().filter_map(|r| Role::parse(r)).collect(),
            counties: claims.counties.into_iter().collect(),
            agency: claims.agency,
            token: token.to_owned(),
        })
    }

    /// Authenticates the request, then checks that `county` is a known county the token grants.
    pub fn scoped(&self, metadata: &MetadataMap, county: &str) -> Result<Scoped, ScopeError> {
        let caller = self.authenticate(metadata)?;
        let county: CountyCode =
            county.parse().map_err(|reason| ScopeError::County(FieldViolation::new("county", reason)))?;
        caller.require_county(&county)?;
        Ok(Scoped { caller, county })
    }

    /// Verifies the `authorization: Bearer …` metadata of a gRPC request.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, AuthError> {
        let value = metadata.get("authorization").ok_or(AuthError::Missing)?;
        let value = value.to_str().map_err(|_| AuthError::Invalid("authorization is not ASCII".into()))?;
        let token =
            bearer_token(value).ok_or_else(|| AuthError::Invalid("authorization is not a Bearer token".into()))?;
        self.verify(token)
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// Signs tokens: the local stack's dev login and tests. Production tokens come from the province's IdP.
#[derive(Clone)]
pub struct Issuer {
    key: EncodingKey,
    algorithm: Algorithm,
}

impl Issuer {
    pub fn hs256(secret: &str) -> Self {
        Self { key: EncodingKey::from_secret(secret.as_bytes()), algorithm: Algorithm::HS256 }
    }

    pub fn rs256(private_key_pem: &str) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self { key: EncodingKey::from_rsa_pem(private_key_pem.as_bytes())?, algorithm: Algorithm::RS256 })
    }

    pub fn issue(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &self.key)
    }
}

impl Claims {
    /// Claims valid for `ttl` from now.
    pub fn new(
        sub: impl Into<String>,
        name: impl Into<String>,
        roles: &[Role],
        counties: &[&str],
        agency: Option<String>,
        ttl: chrono::Duration,
    ) -> Self {
        let now = chrono::Utc::now().timestamp();
        Self {
            sub: sub.into(),
            name: name.into(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            counties: counties.iter().map(|c| (*c).to_owned()).collect(),
            agency,
            exp: now + ttl.num_seconds(),
            iat: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-test";

    fn verifier() -> Verifier {
        Verifier::new(&JwtKey::Hs256 { secret: SECRET.into() }).expect("key")
    }

    fn token(counties: &[&str], ttl_secs: i64) -> String {
        let claims = Claims::new("u1", "王芳", &[Role::Staff], counties, None, chrono::Duration::seconds(ttl_secs));
        Issuer::hs256(SECRET).issue(&claims).expect("sign")
    }

    #[test]
    fn a_valid_token_yields_the_caller_and_its_scope() {
        let caller = verifier().verify(&token(&["330521"], 600)).expect("valid");
        assert!(caller.has_role(Role::Staff));
        let deqing: CountyCode = "330521".parse().expect("county");
        let yiwu: CountyCode = "330782".parse().expect("county");
        assert!(caller.require_county(&deqing).is_ok());
        assert!(matches!(caller.require_county(&yiwu), Err(AuthError::Forbidden(_))));
        assert!(caller.require_any_role(&[Role::Deputy]).is_err());
        assert_eq!(caller.recipients(), vec!["user:u1".to_owned(), "role:staff".to_owned()]);
    }

    #[test]
    fn expired_forged_and_malformed_tokens_are_refused() {
        assert!(matches!(verifier().verify(&token(&["330521"], -600)), Err(AuthError::Invalid(_))));
        let forged = Issuer::hs256("another-secret-of-16+")
            .issue(&Claims::new("u1", "", &[Role::Staff], &["330521"], None, chrono::Duration::seconds(60)))
            .expect("sign");
        assert!(matches!(verifier().verify(&forged), Err(AuthError::Invalid(_))));
        assert!(matches!(verifier().verify("not-a-jwt"), Err(AuthError::Invalid(_))));
        let mut md = MetadataMap::new();
        assert_eq!(verifier().authenticate(&md).unwrap_err(), AuthError::Missing);
        md.insert("authorization", "Basic abc".parse().expect("ascii"));
        assert!(matches!(verifier().authenticate(&md), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn agency_users_are_addressed_by_their_agency_and_heads_as_heads() {
        let claims = Claims::new(
            "a1",
            "钱立军",
            &[Role::AgencyHead],
            &["330521"],
            Some("330521-hbj".into()),
            chrono::Duration::seconds(60),
        );
        let caller = verifier().verify(&Issuer::hs256(SECRET).issue(&claims).expect("sign")).expect("valid");
        assert_eq!(
            caller.recipients(),
            ["user:a1", "role:agency_head", "agency:330521-hbj", "agency-head:330521-hbj"].map(str::to_owned)
        );
    }

    #[test]
    fn rs256_tokens_of_the_identity_provider_verify_and_others_do_not() {
        // A key pair made for this test only (tests/fixtures); production keys come from the IdP.
        let private = include_str!("../tests/fixtures/jwt-test-private.pem");
        let public = include_str!("../tests/fixtures/jwt-test-public.pem");
        let verifier = Verifier::new(&JwtKey::Rs256 { public_key_pem: public.into() }).expect("public key");
        let claims = Claims::new("d1", "沈建国", &[Role::Deputy], &["330521"], None, chrono::Duration::seconds(60));
        let token = Issuer::rs256(private).expect("private key").issue(&claims).expect("sign");
        let caller = verifier.verify(&token).expect("valid RS256 token");
        assert!(caller.has_role(Role::Deputy));
        // An HS256 token must not pass an RS256 verifier (algorithm confusion).
        let hs = Issuer::hs256(SECRET).issue(&claims).expect("sign");
        assert!(matches!(verifier.verify(&hs), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("abc"), None);
    }
}
