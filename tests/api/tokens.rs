//! Tokens: `nbf`, the maximum lifetime, key ids from a JWKS file that rotate without a
//! restart, and secrets read from files rather than the command line.

use std::{path::Path, time::Duration};

use base64::Engine as _;
use hrplan::{
    auth::{Claims, KeyConfig, MintOptions, Role, mint_hs256_with, sign_hs256},
    grpc::pb,
};
use tonic::Code;

use crate::{
    clients::Caller,
    helpers::{SECRET, TestApp, spawn_app, spawn_app_with},
};

const KEY_A: &[u8] = b"key-a-0123456789abcdef0123456789";
const KEY_B: &[u8] = b"key-b-0123456789abcdef0123456789";
const KEY_C: &[u8] = b"key-c-0123456789abcdef0123456789";

/// The code a ListScales call answers with `token`: OK once the token is accepted.
async fn answer_to(app: &TestApp, token: &str) -> Code {
    match app.as_(Caller::with_token(Some(token.to_owned()))).scales().list_scales(pb::ListScalesRequest {}).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// A national admin's token signed with `secret`, naming `kid`.
fn token_with(secret: &[u8], kid: Option<&str>, ttl: Duration, not_before: Option<Duration>) -> String {
    let options = MintOptions { kid: kid.map(str::to_owned), not_before };
    mint_hs256_with(secret, "rotating", &["*".to_owned()], &[Role::Admin], ttl, &options).expect("minting a token")
}

fn signed_with(secret: &[u8], kid: &str) -> String {
    token_with(secret, Some(kid), Duration::from_secs(600), None)
}

/// A JWKS document of HS256 keys, `(kid, secret)`.
fn jwks(keys: &[(&str, &[u8])]) -> String {
    let keys: Vec<_> = keys
        .iter()
        .map(|(kid, secret)| {
            serde_json::json!({
                "kty": "oct",
                "kid": kid,
                "alg": "HS256",
                "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
            })
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

/// Replaces `path` at once (write beside, then rename), as a key rotation script would.
fn replace(path: &Path, content: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, content).expect("writing the next JWKS file");
    std::fs::rename(&next, path).expect("replacing the JWKS file");
}

/// A server verifying with the JWKS file `path`, re-read every 100 ms.
async fn spawn_with_jwks(path: &Path) -> TestApp {
    let path = path.to_owned();
    spawn_app_with(move |config| {
        config.keys = KeyConfig::Jwks(path);
        config.jwt_jwks_refresh_interval = Duration::from_millis(100);
    })
    .await
}

/// Waits (up to 20 s, generous for a loaded machine) until `token` gets `code`.
async fn until_answered(app: &TestApp, token: &str, code: Code) -> Code {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = answer_to(app, token).await;
        if answer == code || tokio::time::Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_token_is_refused_before_its_nbf_and_accepted_from_it() {
    let app = spawn_app().await;
    let later = token_with(SECRET, None, Duration::from_secs(600), Some(Duration::from_secs(300)));
    let now = token_with(SECRET, None, Duration::from_secs(600), Some(Duration::ZERO));

    assert_eq!(answer_to(&app, &later).await, Code::Unauthenticated, "a token valid in 5 minutes");
    assert_eq!(answer_to(&app, &now).await, Code::Ok, "a token valid from now");
}

#[tokio::test]
async fn a_token_living_beyond_the_maximum_lifetime_is_refused() {
    let app = spawn_app_with(|config| config.jwt_max_lifetime = Duration::from_secs(3600)).await;
    let now = jsonwebtoken::get_current_timestamp();
    let claims = |iat: Option<u64>, exp: u64| Claims {
        sub: "long-lived".into(),
        iat,
        exp,
        localities: vec!["*".into()],
        roles: vec!["admin".into()],
        ..Claims::default()
    };
    let sign = |c: Claims| sign_hs256(SECRET, None, &c).expect("signing");

    assert_eq!(answer_to(&app, &sign(claims(Some(now), now + 3600))).await, Code::Ok, "exactly the maximum");
    assert_eq!(
        answer_to(&app, &sign(claims(Some(now), now + 3601))).await,
        Code::Unauthenticated,
        "exp − iat one second beyond the maximum"
    );
    assert_eq!(
        answer_to(&app, &sign(claims(Some(now - 7200), now + 600))).await,
        Code::Unauthenticated,
        "issued two hours ago, valid ten more minutes: three hours and ten minutes in all"
    );
    assert_eq!(
        answer_to(&app, &sign(claims(None, now + 7200))).await,
        Code::Unauthenticated,
        "no iat, and exp two hours from now"
    );
    assert_eq!(answer_to(&app, &sign(claims(None, now + 600))).await, Code::Ok, "no iat, exp within the maximum");
}

#[tokio::test]
async fn both_keys_of_a_jwks_file_verify_tokens_and_an_unknown_kid_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys.json");
    std::fs::write(&path, jwks(&[("a", KEY_A), ("b", KEY_B)])).expect("writing the JWKS file");
    let app = spawn_with_jwks(&path).await;

    assert_eq!(answer_to(&app, &signed_with(KEY_A, "a")).await, Code::Ok, "key a");
    assert_eq!(answer_to(&app, &signed_with(KEY_B, "b")).await, Code::Ok, "key b");
    assert_eq!(answer_to(&app, &signed_with(KEY_C, "c")).await, Code::Unauthenticated, "unknown kid c");
    assert_eq!(answer_to(&app, &signed_with(KEY_B, "a")).await, Code::Unauthenticated, "key b posing as a");
    let without_kid = token_with(KEY_A, None, Duration::from_secs(600), None);
    assert_eq!(answer_to(&app, &without_kid).await, Code::Unauthenticated, "no kid while two keys fit");
}

#[tokio::test]
async fn replacing_the_jwks_file_rotates_keys_without_a_restart_and_a_bad_file_keeps_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys.json");
    std::fs::write(&path, jwks(&[("a", KEY_A), ("b", KEY_B)])).expect("writing the JWKS file");
    let app = spawn_with_jwks(&path).await;
    let (a, b, c) = (signed_with(KEY_A, "a"), signed_with(KEY_B, "b"), signed_with(KEY_C, "c"));
    assert_eq!(answer_to(&app, &a).await, Code::Ok);
    assert_eq!(answer_to(&app, &c).await, Code::Unauthenticated);

    // Rotate: retire a, keep b, add c.
    replace(&path, &jwks(&[("b", KEY_B), ("c", KEY_C)]));

    assert_eq!(until_answered(&app, &c, Code::Ok).await, Code::Ok, "the new key c is in force");
    assert_eq!(answer_to(&app, &a).await, Code::Unauthenticated, "a token of the retired key a");
    assert_eq!(answer_to(&app, &b).await, Code::Ok, "the kept key b");

    // A broken file leaves the keys in force; a fixed one is taken again.
    replace(&path, "{ this is not a key set");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(answer_to(&app, &b).await, Code::Ok, "b still verifies after a broken file");
    assert_eq!(answer_to(&app, &c).await, Code::Ok, "c still verifies after a broken file");
    replace(&path, &jwks(&[("a", KEY_A)]));
    assert_eq!(until_answered(&app, &b, Code::Unauthenticated).await, Code::Unauthenticated, "b retired");
    assert_eq!(answer_to(&app, &a).await, Code::Ok, "a is back");
}

#[tokio::test]
async fn the_secret_read_from_a_file_verifies_tokens_minted_by_the_token_command_from_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "a-secret-from-a-file-0123456789\n").expect("writing the secret");
    let args = ["hrplan", "--jwt-hs256-secret-file", secret_file.to_str().expect("utf-8 path")];
    let config = hrplan::config::ServerConfig::try_from(serve_args(&args)).expect("configuring from the file");
    assert!(
        matches!(&config.keys, KeyConfig::Hs256(secret) if secret == b"a-secret-from-a-file-0123456789"),
        "the file's secret, without its line break"
    );
    let app = spawn_app_with(|c| c.keys = config.keys.clone()).await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hrplan"))
        .args(["token", "--subject", "filed", "--locality", "*", "--role", "admin", "--kid", "k1"])
        .args(["--not-before-seconds", "0", "--secret-file"])
        .arg(&secret_file)
        .env_remove("HRPLAN_JWT_HS256_SECRET")
        .output()
        .expect("running hrplan token");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).expect("utf-8").trim().to_owned();
    let header = jsonwebtoken::decode_header(&token).expect("a JWT");

    assert_eq!(header.kid.as_deref(), Some("k1"));
    assert_eq!(answer_to(&app, &token).await, Code::Ok, "the token command's token, from the same file");
    let other = token_with(b"not-the-secret-in-the-file-0123", None, Duration::from_secs(600), None);
    assert_eq!(answer_to(&app, &other).await, Code::Unauthenticated);
}

/// `hrplan serve`'s options parsed from `args`.
fn serve_args(args: &[&str]) -> hrplan::config::ServeArgs {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Serve {
        #[command(flatten)]
        args: hrplan::config::ServeArgs,
    }
    Serve::try_parse_from(args).expect("parsing the options").args
}
