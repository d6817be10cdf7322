//! Authentication: bearer JWTs verified into a [`Principal`].
//!
//! Every hrplan RPC passes through [`ContextInterceptor`], which authenticates the
//! caller and records its [`RequestContext`]; handlers then ask [`crate::policy`] before
//! they touch a record.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tonic::{Status, metadata::MetadataMap};

/// The roles a token grants (the `roles` claim).
pub use crate::context::Role;
use crate::{
    context::{Principal, RequestContext, Scope},
    domain::locality::Code,
    error::{Error, Result},
};

/// The claims hrplan reads from a bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: who the caller is.
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, in seconds since the Unix epoch.
    #[serde(default)]
    pub iat: u64,
    /// Locality codes whose subtrees the caller may act on; `*` is the whole country.
    #[serde(default)]
    pub localities: Vec<String>,
    /// Role names; unknown names are ignored so that new roles can be issued early.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// How tokens are verified.
#[derive(Debug, Clone, Default)]
pub enum KeyConfig {
    /// No key: development mode, every call acts as a national admin.
    #[default]
    Development,
    /// HS256 with a shared secret.
    Hs256(Vec<u8>),
    /// RS256 or ES256 with a public key in PEM.
    PublicKeyPem(Vec<u8>),
}

/// Verifies bearer tokens and turns them into principals.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Option<Arc<(DecodingKey, Validation)>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("development", &self.verifier.is_none()).finish()
    }
}

impl Authenticator {
    /// An authenticator for `keys`; optional `issuer` and `audience` are enforced when set.
    pub fn new(keys: &KeyConfig, issuer: Option<&str>, audience: Option<&str>) -> anyhow::Result<Self> {
        let (key, algorithm) = match keys {
            KeyConfig::Development => return Ok(Self { verifier: None }),
            KeyConfig::Hs256(secret) => {
                anyhow::ensure!(secret.len() >= 16, "the HS256 secret must have at least 16 bytes");
                (DecodingKey::from_secret(secret), Algorithm::HS256)
            }
            KeyConfig::PublicKeyPem(pem) => match DecodingKey::from_rsa_pem(pem) {
                Ok(key) => (key, Algorithm::RS256),
                Err(_) => (
                    DecodingKey::from_ec_pem(pem)
                        .map_err(|e| anyhow::anyhow!("the public key is neither an RSA nor an EC PEM key: {e}"))?,
                    Algorithm::ES256,
                ),
            },
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
        }
        Ok(Self { verifier: Some(Arc::new((key, validation))) })
    }

    /// Whether no key is configured.
    pub fn is_development(&self) -> bool {
        self.verifier.is_none()
    }

    /// The principal of a request's `authorization: Bearer <jwt>` metadata.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal> {
        let Some(verifier) = &self.verifier else {
            return Ok(Principal::development());
        };
        let header = metadata
            .get("authorization")
            .ok_or_else(|| Error::Unauthenticated("missing `authorization: Bearer <token>` metadata".to_owned()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| Error::Unauthenticated("the authorization metadata is not `Bearer <token>`".to_owned()))?;
        let (key, validation) = verifier.as_ref();
        let claims = jsonwebtoken::decode::<Claims>(token, key, validation)
            .map_err(|e| Error::Unauthenticated(format!("invalid token: {e}")))?
            .claims;
        principal_from_claims(claims)
    }
}

fn principal_from_claims(claims: Claims) -> Result<Principal> {
    let scope = if claims.localities.iter().any(|c| c == "*") {
        Scope::National
    } else {
        let codes = claims
            .localities
            .iter()
            .map(|c| Code::parse(c))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|e| Error::Unauthenticated(format!("the token's localities claim is invalid: {e}")))?;
        Scope::Localities(codes)
    };
    let roles = claims
        .roles
        .iter()
        .filter_map(|r| serde_json::from_value::<Role>(serde_json::Value::String(r.clone())).ok())
        .collect();
    Ok(Principal { subject: claims.sub, scope, roles })
}

/// Mints an HS256 token (for operators and tests of a server configured with a secret).
pub fn mint_hs256(
    secret: &[u8],
    subject: &str,
    localities: &[String],
    roles: &[Role],
    ttl: Duration,
) -> anyhow::Result<String> {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default();
    let claims = Claims {
        sub: subject.to_owned(),
        iat: now,
        exp: now + ttl.as_secs(),
        localities: localities.to_vec(),
        roles: roles
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)))
            .collect(),
    };
    Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret))?)
}

/// Authenticates every call and records its [`RequestContext`] for the handler.
#[derive(Debug, Clone)]
pub struct ContextInterceptor {
    authenticator: Authenticator,
}

impl ContextInterceptor {
    /// An interceptor that authenticates with `authenticator`.
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator }
    }
}

impl tonic::service::Interceptor for ContextInterceptor {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let timeout = request.metadata().get("grpc-timeout").and_then(|v| v.to_str().ok()).map(parse_grpc_timeout);
        let deadline = match timeout {
            Some(Some(timeout)) if timeout.is_zero() => return Err(Error::DeadlineExceeded.into()),
            Some(Some(timeout)) => Some(Instant::now() + timeout),
            Some(None) => return Err(Status::invalid_argument("malformed grpc-timeout metadata")),
            None => None,
        };
        let principal = self.authenticator.authenticate(request.metadata())?;
        tracing::Span::current().record("caller", principal.subject.as_str());
        if let Some(limiter) = request.extensions().get::<crate::transport::RateLimiter>() {
            limiter.check(&principal.subject)?;
        }
        request.extensions_mut().insert(RequestContext { principal, deadline });
        Ok(request)
    }
}

/// Parses a `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("5n"), Some(Duration::from_nanos(5)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("1x"), None);
    }

    fn metadata_with(token: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        if let Ok(value) = format!("Bearer {token}").parse() {
            metadata.insert("authorization", value);
        }
        metadata
    }

    #[test]
    fn a_minted_token_authenticates_with_its_scope_and_roles() -> anyhow::Result<()> {
        let secret = b"0123456789abcdef0123456789abcdef";
        let auth = Authenticator::new(&KeyConfig::Hs256(secret.to_vec()), None, None)?;
        let token = mint_hs256(secret, "alice", &["11".to_owned()], &[Role::Editor], Duration::from_secs(60))?;
        let principal = auth.authenticate(&metadata_with(&token)).map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(principal.subject, "alice");
        assert!(principal.has_role(Role::Editor));
        assert!(!principal.has_role(Role::PersonalDataReader));
        let expected: BTreeSet<Code> = [Code::parse("11").map_err(anyhow::Error::msg)?].into_iter().collect();
        assert_eq!(principal.scope, Scope::Localities(expected));
        Ok(())
    }

    #[test]
    fn bad_or_missing_tokens_are_unauthenticated() -> anyhow::Result<()> {
        let secret = b"0123456789abcdef0123456789abcdef";
        let auth = Authenticator::new(&KeyConfig::Hs256(secret.to_vec()), None, None)?;
        let other = mint_hs256(
            b"another secret of 32 bytes......",
            "eve",
            &["*".to_owned()],
            &[Role::Admin],
            Duration::from_secs(60),
        )?;
        assert!(matches!(auth.authenticate(&metadata_with(&other)), Err(Error::Unauthenticated(_))));
        assert!(matches!(auth.authenticate(&MetadataMap::new()), Err(Error::Unauthenticated(_))));
        let expired = mint_hs256(secret, "bob", &["*".to_owned()], &[Role::Admin], Duration::ZERO);
        // An expiry in the past beyond the leeway is refused.
        let mut claims_expired = Claims { sub: "bob".into(), exp: 1, iat: 0, localities: vec![], roles: vec![] };
        claims_expired.exp = 1;
        let old =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims_expired, &EncodingKey::from_secret(secret))?;
        assert!(matches!(auth.authenticate(&metadata_with(&old)), Err(Error::Unauthenticated(_))));
        assert!(expired.is_ok());
        Ok(())
    }

    #[test]
    fn development_mode_acts_as_a_national_admin() -> anyhow::Result<()> {
        let auth = Authenticator::new(&KeyConfig::Development, None, None)?;
        let principal = auth.authenticate(&MetadataMap::new()).map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(principal.scope, Scope::National);
        assert!(principal.has_role(Role::Editor));
        Ok(())
    }
}
