//! Authentication: bearer JWTs verified into a [`Principal`].
//!
//! Every hrplan RPC passes through [`ContextInterceptor`], which authenticates the
//! caller and records its [`RequestContext`]; handlers then ask [`crate::policy`] before
//! they touch a record.
//!
//! A token is accepted when its signature verifies with one of the configured keys
//! (chosen by the token's `kid` header), it is within its `nbf` … `exp` window (with a
//! leeway of [`LEEWAY_SECONDS`] for clock skew), and it lives no longer than the
//! configured maximum lifetime. Keys come from a shared secret, a PEM public key or a
//! JWKS file, which [`Authenticator::watch`] re-reads so that keys rotate without a
//! restart.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm},
};
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

/// The clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

/// The longest lifetime a token may have unless configured otherwise: one day.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The claims hrplan reads from a bearer token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: who the caller is.
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, in seconds since the Unix epoch; bounds the token's lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before, in seconds since the Unix epoch: the token is refused until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
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
    /// The keys of a JWKS file (RSA, EC P-256 and `oct` HS256 keys, told apart by
    /// `kid`), re-read when the file changes.
    Jwks(PathBuf),
}

/// One key a token may be signed with.
struct VerifyingKey {
    /// The key id tokens name in their `kid` header; `None` for a key configured alone.
    kid: Option<String>,
    /// The one algorithm the key verifies, so that a token cannot pick another.
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The keys in force, the JWKS file they came from, and what tokens must satisfy.
struct Verifier {
    keys: RwLock<Arc<Vec<VerifyingKey>>>,
    /// The JWKS file and the bytes last read from it (good or bad), to notice a change.
    jwks: Option<(PathBuf, RwLock<Vec<u8>>)>,
    issuer: Option<String>,
    audience: Option<String>,
}

/// Verifies bearer tokens and turns them into principals.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Option<Arc<Verifier>>,
    /// The longest lifetime of an accepted token, in seconds.
    max_lifetime: u64,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("development", &self.verifier.is_none()).finish()
    }
}

impl Authenticator {
    /// An authenticator for `keys`; optional `issuer` and `audience` are enforced when
    /// set; tokens may live [`DEFAULT_MAX_LIFETIME`] (see [`Self::with_max_lifetime`]).
    pub fn new(keys: &KeyConfig, issuer: Option<&str>, audience: Option<&str>) -> anyhow::Result<Self> {
        let (keys, jwks) = match keys {
            KeyConfig::Development => return Ok(Self { verifier: None, max_lifetime: DEFAULT_MAX_LIFETIME.as_secs() }),
            KeyConfig::Hs256(secret) => {
                anyhow::ensure!(secret.len() >= 16, "the HS256 secret must have at least 16 bytes");
                let key =
                    VerifyingKey { kid: None, algorithm: Algorithm::HS256, key: DecodingKey::from_secret(secret) };
                (vec![key], None)
            }
            KeyConfig::PublicKeyPem(pem) => {
                let (key, algorithm) = match DecodingKey::from_rsa_pem(pem) {
                    Ok(key) => (key, Algorithm::RS256),
                    Err(_) => (
                        DecodingKey::from_ec_pem(pem)
                            .map_err(|e| anyhow::anyhow!("the public key is neither an RSA nor an EC PEM key: {e}"))?,
                        Algorithm::ES256,
                    ),
                };
                (vec![VerifyingKey { kid: None, algorithm, key }], None)
            }
            KeyConfig::Jwks(path) => {
                let bytes = read_jwks(path)?;
                let keys = parse_jwks(&bytes).map_err(|e| anyhow::anyhow!("the JWKS file {}: {e}", path.display()))?;
                (keys, Some((path.clone(), RwLock::new(bytes))))
            }
        };
        let verifier = Verifier {
            keys: RwLock::new(Arc::new(keys)),
            jwks,
            issuer: issuer.map(str::to_owned),
            audience: audience.map(str::to_owned),
        };
        Ok(Self { verifier: Some(Arc::new(verifier)), max_lifetime: DEFAULT_MAX_LIFETIME.as_secs() })
    }

    /// The same authenticator refusing tokens that live longer than `max_lifetime`:
    /// `exp − iat`, or for a token without `iat`, `exp − now`.
    #[must_use]
    pub fn with_max_lifetime(mut self, max_lifetime: Duration) -> Self {
        self.max_lifetime = max_lifetime.as_secs();
        self
    }

    /// Whether no key is configured.
    pub fn is_development(&self) -> bool {
        self.verifier.is_none()
    }

    /// Re-reads the JWKS file every `interval`, forever, so that keys rotate without a
    /// restart; returns at once when the keys do not come from a JWKS file. A file that
    /// cannot be read or holds no usable key leaves the keys in force and logs a
    /// warning (once per bad content).
    pub async fn watch(self, interval: Duration) {
        let Some(verifier) = self.verifier else { return };
        if verifier.jwks.is_none() {
            return;
        }
        loop {
            tokio::time::sleep(interval).await;
            let reloading = verifier.clone();
            // A small file, but still blocking I/O: off the async workers.
            if tokio::task::spawn_blocking(move || reloading.reload()).await.is_err() {
                tracing::warn!("re-reading the JWKS file panicked; the keys in force stay");
            }
        }
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
        let claims = verifier.verify(token, self.max_lifetime)?;
        principal_from_claims(claims)
    }
}

impl Verifier {
    /// The claims of `token` once its key, signature, time window and lifetime (at
    /// most `max_lifetime` seconds) check out.
    fn verify(&self, token: &str, max_lifetime: u64) -> Result<Claims> {
        let unauthenticated = |why: String| Error::Unauthenticated(why);
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| unauthenticated(format!("invalid token header: {e}")))?;
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner).clone();
        let key = choose_key(&keys, &header).map_err(unauthenticated)?;
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| unauthenticated(format!("invalid token: {e}")))?
            .claims;
        let lifetime = match claims.iat {
            Some(iat) => claims.exp.saturating_sub(iat),
            None => claims.exp.saturating_sub(jsonwebtoken::get_current_timestamp()),
        };
        if lifetime > max_lifetime {
            return Err(unauthenticated(format!(
                "the token lives {lifetime} s, longer than the {max_lifetime} s this server accepts"
            )));
        }
        Ok(claims)
    }

    /// Re-reads the JWKS file and, when its content changed and holds usable keys,
    /// puts them in force.
    fn reload(&self) {
        let Some((path, last)) = &self.jwks else { return };
        let bytes = match read_jwks(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let mut last = last.write().unwrap_or_else(PoisonError::into_inner);
                // Warn once per outage, not at every poll.
                if !last.is_empty() {
                    tracing::warn!(error = %e, "cannot read the JWKS file; the keys in force stay");
                    last.clear();
                }
                return;
            }
        };
        if *last.read().unwrap_or_else(PoisonError::into_inner) == bytes {
            return;
        }
        match parse_jwks(&bytes) {
            Ok(keys) => {
                let kids: Vec<&str> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
                tracing::info!(file = %path.display(), keys = ?kids, "JWKS file changed: new keys in force");
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "the JWKS file changed but is unusable; the keys in force stay");
            }
        }
        *last.write().unwrap_or_else(PoisonError::into_inner) = bytes;
    }
}

/// The key that verifies a token with `header`: the one its `kid` names (among keys
/// with ids), or, for a token without `kid` (or keys configured without ids), the one
/// key of the token's algorithm, when there is exactly one.
fn choose_key<'k>(keys: &'k [VerifyingKey], header: &Header) -> std::result::Result<&'k VerifyingKey, String> {
    let key = match header.kid.as_deref() {
        Some(kid) if keys.iter().any(|k| k.kid.is_some()) => keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .ok_or_else(|| format!("unknown key id `{}`", prefix(kid)))?,
        _ => {
            let mut fitting = keys.iter().filter(|k| k.algorithm == header.alg);
            match (fitting.next(), fitting.next()) {
                (Some(key), None) => key,
                (None, _) => return Err(format!("no key verifies {:?} tokens", header.alg)),
                (Some(_), Some(_)) => {
                    return Err(format!("the token has no `kid` and several {:?} keys could verify it", header.alg));
                }
            }
        }
    };
    if key.algorithm != header.alg {
        return Err(format!("the key verifies {:?} tokens, not {:?}", key.algorithm, header.alg));
    }
    Ok(key)
}

/// At most 64 characters of a value quoted in an error.
fn prefix(value: &str) -> String {
    value.chars().take(64).collect()
}

fn read_jwks(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("reading the JWKS file {}: {e}", path.display()))
}

/// The usable keys of a JWKS document: RSA (RS256), EC P-256 (ES256) and `oct`
/// (HS256, at least 16 bytes), each with a distinct `kid` (a document of one key may
/// leave it out). Anything else makes the document unusable, so that a typo never
/// silently retires a key.
fn parse_jwks(bytes: &[u8]) -> anyhow::Result<Vec<VerifyingKey>> {
    let set: JwkSet = serde_json::from_slice(bytes).map_err(|e| anyhow::anyhow!("not a JWKS document: {e}"))?;
    anyhow::ensure!(!set.keys.is_empty(), "the JWKS document holds no key");
    let mut keys = Vec::with_capacity(set.keys.len());
    for jwk in &set.keys {
        let kid = jwk.common.key_id.clone();
        let name = kid.as_deref().unwrap_or("(no kid)");
        anyhow::ensure!(kid.is_some() || set.keys.len() == 1, "key {name}: several keys need a `kid` each");
        anyhow::ensure!(
            kid.is_none() || keys.iter().all(|k: &VerifyingKey| k.kid != kid),
            "key id {name} appears twice"
        );
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
            AlgorithmParameters::OctetKey(_) => Algorithm::HS256,
            _ => anyhow::bail!("key {name}: only RSA, EC P-256 and oct keys are supported"),
        };
        let declared = jwk.common.key_algorithm;
        let expected = match algorithm {
            Algorithm::RS256 => KeyAlgorithm::RS256,
            Algorithm::ES256 => KeyAlgorithm::ES256,
            _ => KeyAlgorithm::HS256,
        };
        anyhow::ensure!(
            declared.is_none() || declared == Some(expected),
            "key {name}: `alg` {declared:?} does not match its key type (expected {expected:?})"
        );
        let key = DecodingKey::from_jwk(jwk).map_err(|e| anyhow::anyhow!("key {name}: {e}"))?;
        if algorithm == Algorithm::HS256 {
            let secret = key.try_get_as_bytes().map_err(|e| anyhow::anyhow!("key {name}: {e}"))?;
            anyhow::ensure!(secret.len() >= 16, "key {name}: an HS256 secret needs at least 16 bytes");
        }
        keys.push(VerifyingKey { kid, algorithm, key });
    }
    Ok(keys)
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

/// What a minted token carries beyond its subject, scope, roles and lifetime.
#[derive(Debug, Clone, Default)]
pub struct MintOptions {
    /// The `kid` header: which of the server's keys verifies the token.
    pub kid: Option<String>,
    /// How long after now the token becomes valid (`nbf`); its lifetime counts from then.
    pub not_before: Option<Duration>,
}

/// Mints an HS256 token (for operators and tests of a server configured with a secret).
pub fn mint_hs256(
    secret: &[u8],
    subject: &str,
    localities: &[String],
    roles: &[Role],
    ttl: Duration,
) -> anyhow::Result<String> {
    mint_hs256_with(secret, subject, localities, roles, ttl, &MintOptions::default())
}

/// Mints an HS256 token with a `kid` and a `nbf` when `options` say so.
pub fn mint_hs256_with(
    secret: &[u8],
    subject: &str,
    localities: &[String],
    roles: &[Role],
    ttl: Duration,
    options: &MintOptions,
) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let nbf = options.not_before.map(|d| now + d.as_secs());
    let claims = Claims {
        sub: subject.to_owned(),
        iat: Some(now),
        nbf,
        exp: nbf.unwrap_or(now) + ttl.as_secs(),
        localities: localities.to_vec(),
        roles: roles
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)))
            .collect(),
    };
    sign_hs256(secret, options.kid.as_deref(), &claims)
}

/// Signs `claims` with HS256 and `secret`, naming `kid` in the header when given.
pub fn sign_hs256(secret: &[u8], kid: Option<&str>, claims: &Claims) -> anyhow::Result<String> {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    Ok(jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret))?)
}

/// Authenticates every call and records its [`RequestContext`] for the handler.
#[derive(Debug, Clone)]
pub struct ContextInterceptor {
    authenticator: Authenticator,
    trust_forwarded_for: bool,
    audit: Option<sea_orm::DatabaseConnection>,
}

impl ContextInterceptor {
    /// An interceptor that authenticates with `authenticator`.
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator, trust_forwarded_for: false, audit: None }
    }

    /// Audits reads of personal data in `audit` rather than in the database served.
    #[must_use]
    pub fn audit_to(mut self, audit: Option<sea_orm::DatabaseConnection>) -> Self {
        self.audit = audit;
        self
    }

    /// Takes the caller's address from the last `x-forwarded-for` entry (the one the
    /// proxy in front added) rather than from the socket: only for a server behind a
    /// proxy that terminates TLS, since any caller can send the header.
    #[must_use]
    pub fn trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }

    /// The caller's address as the audit log records it.
    fn peer(&self, request: &tonic::Request<()>) -> Option<String> {
        let forwarded = self
            .trust_forwarded_for
            .then(|| request.metadata().get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(prefix);
        forwarded.or_else(|| request.remote_addr().as_ref().map(SocketAddr::to_string))
    }
}

impl tonic::service::Interceptor for ContextInterceptor {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let peer = self.peer(&request);
        crate::store::audit::note_peer(peer.as_deref());
        let timeout = request.metadata().get("grpc-timeout").and_then(|v| v.to_str().ok()).map(parse_grpc_timeout);
        let deadline = match timeout {
            Some(Some(timeout)) if timeout.is_zero() => return Err(Error::DeadlineExceeded.into()),
            Some(Some(timeout)) => Some(Instant::now() + timeout),
            Some(None) => return Err(Status::invalid_argument("malformed grpc-timeout metadata")),
            None => None,
        };
        let principal = self.authenticator.authenticate(request.metadata())?;
        crate::store::audit::note_subject(&principal.subject);
        tracing::Span::current().record("caller", principal.subject.as_str());
        if let Some(limiter) = request.extensions().get::<crate::transport::RateLimiter>() {
            limiter.check(&principal.subject)?;
        }
        request.extensions_mut().insert(RequestContext { principal, deadline, peer, audit: self.audit.clone() });
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
        let claims_expired = Claims { sub: "bob".into(), exp: 1, ..Claims::default() };
        let old = sign_hs256(secret, None, &claims_expired)?;
        assert!(matches!(auth.authenticate(&metadata_with(&old)), Err(Error::Unauthenticated(_))));
        assert!(expired.is_ok());
        Ok(())
    }

    fn oct(kid: &str, secret: &[u8]) -> serde_json::Value {
        use base64::Engine as _;
        serde_json::json!({"kty": "oct", "kid": kid, "alg": "HS256",
            "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)})
    }

    #[test]
    fn a_jwks_document_of_rsa_ec_and_oct_keys_parses_and_bad_ones_do_not() -> anyhow::Result<()> {
        let rsa = serde_json::json!({"kty": "RSA", "kid": "r1", "e": "AQAB",
            "n": "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw"});
        let ec = serde_json::json!({"kty": "EC", "kid": "e1", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let document = serde_json::json!({"keys": [rsa, ec, oct("h1", b"0123456789abcdef")]});
        let keys = parse_jwks(document.to_string().as_bytes())?;
        let algorithms: Vec<_> = keys.iter().map(|k| (k.kid.clone().unwrap_or_default(), k.algorithm)).collect();
        assert_eq!(
            algorithms,
            [("r1".into(), Algorithm::RS256), ("e1".into(), Algorithm::ES256), ("h1".into(), Algorithm::HS256)]
        );
        let short = serde_json::json!({"keys": [oct("h1", b"short")]});
        assert!(parse_jwks(short.to_string().as_bytes()).is_err(), "an HS256 key under 16 bytes");
        let twice = serde_json::json!({"keys": [oct("h1", b"0123456789abcdef"), oct("h1", b"fedcba9876543210")]});
        assert!(parse_jwks(twice.to_string().as_bytes()).is_err(), "a key id twice");
        assert!(parse_jwks(b"{\"keys\": []}").is_err(), "no key");
        assert!(parse_jwks(b"not json").is_err(), "not JSON");
        Ok(())
    }

    #[test]
    fn a_token_without_kid_is_accepted_only_when_one_key_fits() -> anyhow::Result<()> {
        let (one, two) = (b"0123456789abcdef0123456789abcdef", b"fedcba9876543210fedcba9876543210");
        let keys = parse_jwks(serde_json::json!({"keys": [oct("a", one)]}).to_string().as_bytes())?;
        let header = Header::new(Algorithm::HS256);
        assert!(choose_key(&keys, &header).is_ok());
        let keys = parse_jwks(serde_json::json!({"keys": [oct("a", one), oct("b", two)]}).to_string().as_bytes())?;
        assert!(choose_key(&keys, &header).is_err());
        let mut named = Header::new(Algorithm::HS256);
        named.kid = Some("b".into());
        assert_eq!(choose_key(&keys, &named).map(|k| k.kid.clone()), Ok(Some("b".to_owned())));
        named.kid = Some("c".into());
        assert!(choose_key(&keys, &named).is_err());
        // A token may not pick another algorithm than its key's.
        let mut rs = Header::new(Algorithm::RS256);
        rs.kid = Some("a".into());
        assert!(choose_key(&keys, &rs).is_err());
        Ok(())
    }

    #[test]
    fn nbf_and_the_maximum_lifetime_are_enforced() -> anyhow::Result<()> {
        let secret = b"0123456789abcdef0123456789abcdef";
        let auth = Authenticator::new(&KeyConfig::Hs256(secret.to_vec()), None, None)?
            .with_max_lifetime(Duration::from_secs(3600));
        let now = jsonwebtoken::get_current_timestamp();
        let claims = |iat: Option<u64>, nbf: Option<u64>, exp: u64| Claims {
            sub: "carol".into(),
            iat,
            nbf,
            exp,
            localities: vec!["*".into()],
            roles: vec!["admin".into()],
        };
        let verdict = |c: Claims| -> anyhow::Result<bool> {
            Ok(auth.authenticate(&metadata_with(&sign_hs256(secret, None, &c)?)).is_ok())
        };
        assert!(verdict(claims(Some(now), Some(now), now + 3600))?);
        assert!(!verdict(claims(Some(now), Some(now + 300), now + 900))?, "before nbf");
        assert!(verdict(claims(Some(now), Some(now + 10), now + 900))?, "nbf within the leeway");
        assert!(!verdict(claims(Some(now), None, now + 3601))?, "exp - iat beyond the maximum");
        assert!(!verdict(claims(None, None, now + 7200))?, "no iat and exp beyond the maximum from now");
        assert!(verdict(claims(None, None, now + 600))?);
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
