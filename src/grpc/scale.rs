//! ScaleService: the ordered qualification scales and their levels.
//!
//! Scales are shared by the whole country, so they are not locality-scoped: any role
//! reads them, and only a national admin adds or changes a level.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations,
    pb::{self, scale_service_server::ScaleService},
};
use crate::{
    auth::{Access, Principal, RequestContext, Role, require_access, require_national},
    domain::text::normalize_name,
    error::{Error, Result},
    store::scale::{self as scales, LevelRecord, ScaleRecord, scale_name},
};

/// Longest accepted level label, in characters.
const MAX_LABEL_CHARS: usize = 200;

/// The ScaleService implementation.
#[derive(Debug, Clone)]
pub struct ScaleApi {
    db: DatabaseConnection,
}

impl ScaleApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A scale or level code: lower snake case (a-z, 0-9, _, starting with a letter), 1 to
/// 64 characters.
fn code(value: &str) -> Result<String, String> {
    let valid = (1..=64).contains(&value.len())
        && value.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if value.is_empty() {
        Err("is required".to_owned())
    } else if valid {
        Ok(value.to_owned())
    } else {
        Err(format!("`{value}` must be lower snake case (a-z, 0-9, _, starting with a letter), 1 to 64 characters"))
    }
}

/// The scale code of a name `scales/{scale}`.
fn parse_scale_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    name.strip_prefix("scales/")
        .filter(|rest| !rest.contains('/'))
        .ok_or_else(|| format!("`{name}` is not a scale name; expected `scales/{{scale}}`"))
        .and_then(code)
}

/// The scale and level codes of a name `scales/{scale}/levels/{level}`.
fn parse_level_name(name: &str) -> Result<(String, String), String> {
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    let expected = || format!("`{name}` is not a level name; expected `scales/{{scale}}/levels/{{level}}`");
    let rest = name.strip_prefix("scales/").ok_or_else(expected)?;
    let (scale, level) = rest.split_once("/levels/").ok_or_else(expected)?;
    if scale.contains('/') || level.contains('/') {
        return Err(expected());
    }
    Ok((code(scale)?, code(level)?))
}

/// A required label, stored in NFC, at most [`MAX_LABEL_CHARS`] characters.
fn label(value: &str) -> Result<String, String> {
    let label = normalize_name(value);
    if label.is_empty() {
        Err("is required".to_owned())
    } else if label.chars().count() > MAX_LABEL_CHARS {
        Err(format!("is longer than {MAX_LABEL_CHARS} characters"))
    } else {
        Ok(label)
    }
}

/// Changing a scale needs the admin role and a national scope: scales are shared by
/// the whole country.
fn require_scale_admin(principal: &Principal) -> Result<()> {
    require_national(principal, "changing a qualification scale")?;
    if principal.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("changing a qualification scale needs the admin role".to_owned()))
    }
}

fn level_to_pb(record: &LevelRecord) -> pb::Level {
    pb::Level {
        name: record.name(),
        rank: record.rank,
        display_name: record.display_name.clone(),
        english_name: record.english_name.clone(),
    }
}

/// The wire form of a scale with its levels.
pub fn scale_to_pb(record: &ScaleRecord) -> pb::Scale {
    pb::Scale {
        name: scale_name(&record.code),
        display_name: record.display_name.clone(),
        english_name: record.english_name.clone(),
        levels: record.levels.iter().map(level_to_pb).collect(),
    }
}

/// The rank and labels of a level from the wire, checked into `v` under `level.`.
fn level_values(v: &mut Violations, level: &pb::Level) -> Option<(i32, String, String)> {
    let display_name = v.check("level.display_name", label(&level.display_name));
    let english_name = v.check("level.english_name", label(&level.english_name));
    Some((level.rank, display_name?, english_name?))
}

#[tonic::async_trait]
impl ScaleService for ScaleApi {
    async fn list_scales(
        &self,
        request: Request<pb::ListScalesRequest>,
    ) -> Result<Response<pb::ListScalesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        require_access(&ctx.principal, Access::Read)?;
        let records = scales::list(&self.db).await?;
        Ok(Response::new(pb::ListScalesResponse { scales: records.iter().map(scale_to_pb).collect() }))
    }

    async fn get_scale(&self, request: Request<pb::GetScaleRequest>) -> Result<Response<pb::GetScaleResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let scale = v.check("name", parse_scale_name(&req.name));
        v.finish()?;
        let Some(scale) = scale else { return Err(Error::internal("validated request lacks its name").into()) };
        require_access(&ctx.principal, Access::Read)?;
        let record = scales::get(&self.db, &scale).await?.ok_or_else(|| Error::NotFound(scale_name(&scale)))?;
        Ok(Response::new(pb::GetScaleResponse { scale: Some(scale_to_pb(&record)) }))
    }

    async fn create_level(
        &self,
        request: Request<pb::CreateLevelRequest>,
    ) -> Result<Response<pb::CreateLevelResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let scale = v.check("parent", parse_scale_name(&req.parent));
        let level_code = v.check("level_id", code(&req.level_id));
        let values = match &req.level {
            Some(level) => level_values(&mut v, level),
            None => {
                v.add("level", "is required");
                None
            }
        };
        v.finish()?;
        let (Some(scale), Some(code), Some((rank, display_name, english_name))) = (scale, level_code, values) else {
            return Err(Error::internal("validated create request lacks a field").into());
        };
        require_scale_admin(&ctx.principal)?;
        let level = LevelRecord { scale, code, rank, display_name, english_name };
        let created = scales::create_level(&self.db, &ctx, &level).await?;
        Ok(Response::new(pb::CreateLevelResponse { level: Some(level_to_pb(&created)) }))
    }

    async fn update_level(
        &self,
        request: Request<pb::UpdateLevelRequest>,
    ) -> Result<Response<pb::UpdateLevelResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let Some(level) = req.level.as_ref() else {
            return Err(Error::invalid("level", "is required").into());
        };
        let mut v = Violations::new();
        let names = v.check("level.name", parse_level_name(&level.name));
        let values = level_values(&mut v, level);
        v.finish()?;
        let (Some((scale, code)), Some((rank, display_name, english_name))) = (names, values) else {
            return Err(Error::internal("validated update request lacks a field").into());
        };
        require_scale_admin(&ctx.principal)?;
        let level = LevelRecord { scale, code, rank, display_name, english_name };
        let updated = scales::update_level(&self.db, &ctx, &level).await?;
        Ok(Response::new(pb::UpdateLevelResponse { level: Some(level_to_pb(&updated)) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lower_snake_case_of_at_most_64_characters() {
        assert_eq!(code("medical_specialist_1"), Ok("medical_specialist_1".to_owned()));
        assert!(code(&"a".repeat(64)).is_ok());
        assert!(code(&"a".repeat(65)).is_err());
        assert!(code("Master").is_err());
        assert!(code("1st").is_err());
        assert!(code("có_dấu").is_err());
        assert!(code("").is_err());
    }

    #[test]
    fn scale_and_level_names_have_their_collections() {
        assert_eq!(parse_scale_name("scales/professional"), Ok("professional".to_owned()));
        assert!(parse_scale_name("scales/professional/levels/master").is_err());
        assert!(parse_scale_name("levels/professional").is_err());
        assert!(parse_scale_name("scales/").is_err());
        assert_eq!(
            parse_level_name("scales/professional/levels/master"),
            Ok(("professional".to_owned(), "master".to_owned()))
        );
        assert!(parse_level_name("scales/professional/master").is_err());
        assert!(parse_level_name("scales/professional/levels/master/x").is_err());
        assert!(parse_level_name("scales/a/b/levels/c").is_err());
        assert!(parse_level_name("").is_err());
    }

    #[test]
    fn labels_are_required_nfc_and_at_most_200_characters() {
        assert_eq!(label("Tha\u{0323}c si\u{0303}"), Ok("Thạc sĩ".to_owned()));
        assert!(label(" ").is_err());
        assert!(label(&"đ".repeat(200)).is_ok());
        assert!(label(&"đ".repeat(201)).is_err());
    }

    #[test]
    fn only_a_national_admin_changes_scales() {
        let mut principal = Principal::development();
        assert!(require_scale_admin(&principal).is_ok());
        principal.roles = [Role::Editor].into_iter().collect();
        assert!(matches!(require_scale_admin(&principal), Err(Error::PermissionDenied(_))));
        principal.roles = [Role::Admin].into_iter().collect();
        principal.scope = crate::auth::Scope::Localities(Default::default());
        assert!(matches!(require_scale_admin(&principal), Err(Error::PermissionDenied(_))));
    }
}
