//! What a client command reads from the server before it reads a sheet: the scales
//! and their levels, and the units and localities of the caller's scope (on today's
//! tree), which the sheet names by name or code.

use anyhow::Context as _;
use base64::Engine as _;
use chrono::NaiveDate;

use super::client::{AuthChannel, ClientArgs, call_error};
use crate::edge::request::to_date;
use crate::grpc::pb::{
    self, locality_service_client::LocalityServiceClient, scale_service_client::ScaleServiceClient,
    unit_service_client::UnitServiceClient,
};

/// The largest page the list RPCs return.
const PAGE: i32 = 1000;

/// What a client needs to know of its own token: where it may act and its roles.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenClaims {
    /// Locality codes whose subtrees the caller may act on; `*` is the whole country.
    #[serde(default)]
    pub localities: Vec<String>,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The claims of a token, read without checking the signature (the server checks
/// it; the client only needs to know where to look). `None` without a token (a
/// server in development mode, where every caller is a national admin).
pub fn token_claims(token: Option<&str>) -> anyhow::Result<Option<TokenClaims>> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let payload = token.split('.').nth(1).context("the token is not a JWT (header.payload.signature)")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .context("the token's payload is not base64url")?;
    Ok(Some(serde_json::from_slice(&bytes).context("the token's payload is not JSON claims")?))
}

/// The locality codes whose subtrees a token's caller may act on: the `localities`
/// claim. `None` for the whole country: no token, or `*`.
pub fn token_scope(token: Option<&str>) -> anyhow::Result<Option<Vec<String>>> {
    Ok(token_claims(token)?.filter(|c| !c.localities.iter().any(|l| l == "*")).map(|c| c.localities))
}

/// The localities whose subtrees hold the units a sheet may name: `explicit` if
/// given, else the token's scope, else (a national caller) every province.
pub async fn roots(
    channel: &AuthChannel,
    client: &ClientArgs,
    explicit: &[String],
    day: NaiveDate,
) -> anyhow::Result<Vec<String>> {
    let normal = |code: &str| code.trim().strip_prefix("localities/").unwrap_or(code.trim()).to_owned();
    if !explicit.is_empty() {
        return Ok(explicit.iter().map(|c| normal(c)).collect());
    }
    if let Some(codes) = token_scope(client.token.as_deref())? {
        return Ok(codes.iter().map(|c| normal(c)).collect());
    }
    let mut localities = LocalityServiceClient::new(channel.clone());
    let mut codes = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = localities
            .list_localities(pb::ListLocalitiesRequest {
                as_of: Some(to_date(day)),
                page_size: PAGE,
                page_token: page_token.clone(),
                filter: "tier = PROVINCE".into(),
                ..Default::default()
            })
            .await
            .map_err(|s| call_error("listing the provinces", &s))?
            .into_inner();
        codes.extend(page.localities.into_iter().map(|l| l.code));
        if page.next_page_token.is_empty() {
            return Ok(codes);
        }
        page_token = page.next_page_token;
    }
}

/// Every scale with its levels.
pub async fn scales(channel: &AuthChannel) -> anyhow::Result<Vec<pb::Scale>> {
    Ok(ScaleServiceClient::new(channel.clone())
        .list_scales(pb::ListScalesRequest {})
        .await
        .map_err(|s| call_error("listing the qualification scales", &s))?
        .into_inner()
        .scales)
}

/// The units of the subtrees of `roots` that exist on `day`, each once.
pub async fn units(channel: &AuthChannel, roots: &[String], day: NaiveDate) -> anyhow::Result<Vec<pb::Unit>> {
    let mut client = UnitServiceClient::new(channel.clone());
    let mut units: Vec<pb::Unit> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for root in roots {
        let mut page_token = String::new();
        loop {
            let page = client
                .list_units(pb::ListUnitsRequest {
                    locality: format!("localities/{root}"),
                    as_of: Some(to_date(day)),
                    page_size: PAGE,
                    page_token: page_token.clone(),
                    filter: String::new(),
                })
                .await
                .map_err(|s| call_error(&format!("listing the units of localities/{root}"), &s))?
                .into_inner();
            units.extend(page.units.into_iter().filter(|u| seen.insert(u.name.clone())));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    Ok(units)
}

/// The localities of the subtrees of `roots` on `day`, roots included, each once.
pub async fn localities(channel: &AuthChannel, roots: &[String], day: NaiveDate) -> anyhow::Result<Vec<pb::Locality>> {
    let mut client = LocalityServiceClient::new(channel.clone());
    let mut all: Vec<pb::Locality> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for root in roots {
        let name = format!("localities/{root}");
        let locality = client
            .get_locality(pb::GetLocalityRequest { name: name.clone(), as_of: Some(to_date(day)) })
            .await
            .map_err(|s| call_error(&format!("reading {name}"), &s))?
            .into_inner()
            .locality;
        all.extend(locality.into_iter().filter(|l| seen.insert(l.code.clone())));
        let mut page_token = String::new();
        loop {
            let page = client
                .list_descendants(pb::ListDescendantsRequest {
                    name: name.clone(),
                    as_of: Some(to_date(day)),
                    page_size: PAGE,
                    page_token: page_token.clone(),
                    filter: String::new(),
                })
                .await
                .map_err(|s| call_error(&format!("listing the localities under {name}"), &s))?
                .into_inner();
            all.extend(page.localities.into_iter().filter(|l| seen.insert(l.code.clone())));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.signature", encode(r#"{"alg":"HS256"}"#), encode(claims))
    }

    #[test]
    fn a_token_names_the_callers_localities() {
        assert_eq!(
            token_scope(Some(&jwt(r#"{"localities":["11","094"]}"#))).ok(),
            Some(Some(vec!["11".to_owned(), "094".to_owned()]))
        );
        assert_eq!(token_scope(Some(&jwt(r#"{"localities":["*"]}"#))).ok(), Some(None));
        assert_eq!(token_scope(None).ok(), Some(None));
        assert!(token_scope(Some("not-a-token")).is_err());
    }
}
