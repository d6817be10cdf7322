//! UnitService: the agencies and public-service units where people are placed.
//!
//! A unit is in a caller's scope when its locality is. As for localities, scope is
//! judged before existence: a scoped caller asking for a unit that does not exist is
//! refused, so that refusals reveal nothing about other provinces.

use chrono::NaiveDate;
use prost_types::Timestamp;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert, fingerprint, given_etag, parse_id,
    pb::{self, unit_service_server::UnitService},
    request_id, update_paths,
};
use crate::{
    auth::{Access, Principal, RequestContext, Scope, authorize, require_access},
    domain::{date::today, etag, filter::parse_unit_filter, locality::Code, page, unit::parse_code},
    error::{Error, Result},
    store::{
        locality as localities,
        locality_write::Idempotency,
        scope,
        unit::{self as units, ListQuery, NewUnit, Sector, UnitChanges, UnitKind, UnitRecord, unit_name},
    },
};

/// Longest accepted unit name, in characters.
const MAX_NAME_CHARS: usize = 300;

/// The fields UpdateUnit may change.
const UPDATABLE: &[&str] = &["display_name", "sector", "kind", "valid_from", "valid_until", "code"];

/// The UnitService implementation.
#[derive(Debug, Clone)]
pub struct UnitApi {
    db: DatabaseConnection,
}

impl UnitApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A required sector.
pub fn sector(value: i32) -> Result<Sector, String> {
    use pb::Sector as S;
    Ok(match S::try_from(value).map_err(|_| format!("{value} is not a Sector"))? {
        S::Unspecified => return Err("is required".to_owned()),
        S::Party => Sector::Party,
        S::StateAdministration => Sector::StateAdministration,
        S::MassOrganisation => Sector::MassOrganisation,
        S::Education => Sector::Education,
        S::Health => Sector::Health,
        S::Other => Sector::Other,
    })
}

fn sector_to_pb(value: Sector) -> pb::Sector {
    use pb::Sector as S;
    match value {
        Sector::Party => S::Party,
        Sector::StateAdministration => S::StateAdministration,
        Sector::MassOrganisation => S::MassOrganisation,
        Sector::Education => S::Education,
        Sector::Health => S::Health,
        Sector::Other => S::Other,
    }
}

/// A required unit kind.
fn unit_kind(value: i32) -> Result<UnitKind, String> {
    use pb::UnitKind as K;
    Ok(match K::try_from(value).map_err(|_| format!("{value} is not a UnitKind"))? {
        K::Unspecified => return Err("is required".to_owned()),
        K::PartyCommittee => UnitKind::PartyCommittee,
        K::PeoplesCouncil => UnitKind::PeoplesCouncil,
        K::PeoplesCommittee => UnitKind::PeoplesCommittee,
        K::SpecialisedDepartment => UnitKind::SpecialisedDepartment,
        K::MassOrganisation => UnitKind::MassOrganisation,
        K::School => UnitKind::School,
        K::HealthFacility => UnitKind::HealthFacility,
        K::PublicServiceUnit => UnitKind::PublicServiceUnit,
        K::Other => UnitKind::Other,
    })
}

fn unit_kind_to_pb(value: UnitKind) -> pb::UnitKind {
    use pb::UnitKind as K;
    match value {
        UnitKind::PartyCommittee => K::PartyCommittee,
        UnitKind::PeoplesCouncil => K::PeoplesCouncil,
        UnitKind::PeoplesCommittee => K::PeoplesCommittee,
        UnitKind::SpecialisedDepartment => K::SpecialisedDepartment,
        UnitKind::MassOrganisation => K::MassOrganisation,
        UnitKind::School => K::School,
        UnitKind::HealthFacility => K::HealthFacility,
        UnitKind::PublicServiceUnit => K::PublicServiceUnit,
        UnitKind::Other => K::Other,
    }
}

/// A required unit name, stored in NFC, at most [`MAX_NAME_CHARS`] characters.
fn display_name(value: &str) -> Result<String, String> {
    let name = convert::display_name(value)?;
    if name.chars().count() > MAX_NAME_CHARS {
        Err(format!("is longer than {MAX_NAME_CHARS} characters"))
    } else {
        Ok(name)
    }
}

fn timestamp(value: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: value.timestamp(), nanos: i32::try_from(value.timestamp_subsec_nanos()).unwrap_or_default() }
}

fn unit_to_pb(record: &UnitRecord) -> pb::Unit {
    pb::Unit {
        name: record.name(),
        display_name: record.display_name.clone(),
        locality: record.locality.name(),
        sector: sector_to_pb(record.sector).into(),
        kind: unit_kind_to_pb(record.kind).into(),
        valid_from: Some(convert::to_date(record.valid_from)),
        valid_until: record.valid_until.map(convert::to_date),
        etag: etag(record.revision),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
        code: record.code.clone().unwrap_or_default(),
    }
}

/// The filter vocabulary of `all`: each value under its upper-case stored name, which
/// is its proto name without the enum prefix (`HEALTH` for `SECTOR_HEALTH`).
fn vocabulary<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<(String, T)> {
    all.iter().map(|v| (name(*v).to_uppercase(), *v)).collect()
}

fn parse_filter(filter: &str) -> Result<Vec<units::Condition>, String> {
    let sectors = vocabulary(&Sector::ALL, Sector::as_str);
    let kinds = vocabulary(&UnitKind::ALL, UnitKind::as_str);
    let sectors: Vec<(&str, Sector)> = sectors.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let kinds: Vec<(&str, UnitKind)> = kinds.iter().map(|(n, k)| (n.as_str(), *k)).collect();
    parse_unit_filter(filter, &sectors, &kinds)
}

/// The id a unit list resumes after, from the key of a page token.
fn resume_after(key: Option<Vec<String>>) -> Result<Option<i64>, String> {
    match key.as_deref() {
        None => Ok(None),
        Some([id]) => id.parse().map(Some).map_err(|_| "is not a page token of a unit list".to_owned()),
        Some(_) => Err("is not a page token of a unit list".to_owned()),
    }
}

fn missing(what: &str) -> Status {
    Error::internal(format!("validated request lacks its {what}")).into()
}

impl UnitApi {
    /// Checks the caller's access to unit `id` through its locality. A unit that does
    /// not exist is NOT_FOUND for a national caller and outside every local scope.
    async fn authorize_unit(&self, principal: &Principal, id: i64, access: Access) -> Result<()> {
        require_access(principal, access)?;
        match scope::unit_locality(&self.db, id).await? {
            Some(locality) => authorize(&self.db, principal, &locality, access).await,
            None => match principal.scope {
                Scope::National => Err(Error::NotFound(unit_name(id))),
                Scope::Localities(_) => {
                    Err(Error::PermissionDenied(format!("{} is outside the caller's locality scope", unit_name(id))))
                }
            },
        }
    }

    async fn create(&self, ctx: &RequestContext, req: pb::CreateUnitRequest) -> Result<UnitRecord> {
        let mut v = Violations::new();
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let Some(unit) = req.unit.as_ref() else {
            v.add("unit", "is required");
            v.finish()?;
            return Err(Error::invalid("unit", "is required"));
        };
        let display_name = v.check("unit.display_name", display_name(&unit.display_name));
        let locality = v.check("unit.locality", Code::from_name(&unit.locality));
        let sector = v.check("unit.sector", sector(unit.sector));
        let kind = v.check("unit.kind", unit_kind(unit.kind));
        let valid_from = v.check("unit.valid_from", convert::date(unit.valid_from.as_ref()));
        let valid_until = v.check("unit.valid_until", convert::optional_date(unit.valid_until.as_ref()));
        let code = v.check("unit.code", parse_code(&unit.code));
        if let (Some(from), Some(Some(until))) = (valid_from, valid_until)
            && until <= from
        {
            v.add("unit.valid_until", "must be after valid_from");
        }
        v.finish()?;
        let (
            Some(display_name),
            Some(locality),
            Some(sector),
            Some(kind),
            Some(valid_from),
            Some(valid_until),
            Some(code),
        ) = (display_name, locality, sector, kind, valid_from, valid_until, code)
        else {
            return Err(Error::internal("validated create request lacks a field"));
        };
        // Scope before existence: a locality outside the scope is refused whether or not
        // it exists; one inside it must exist (checked in the transaction).
        authorize(&self.db, &ctx.principal, &locality, Access::Write).await?;
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        let new = NewUnit { locality, display_name, sector, kind, valid_from, valid_until };
        units::create_with_code(&self.db, ctx, &new, code.as_deref(), &idem).await
    }

    async fn update(&self, ctx: &RequestContext, req: pb::UpdateUnitRequest) -> Result<UnitRecord> {
        let mut v = Violations::new();
        let Some(unit) = req.unit.as_ref() else {
            return Err(Error::invalid("unit", "is required"));
        };
        let id = v.check("unit.name", parse_id(&unit.name, "units"));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), UPDATABLE);
        let mut changes = UnitChanges::default();
        for path in &paths {
            match path.as_str() {
                "display_name" => changes.display_name = v.check("unit.display_name", display_name(&unit.display_name)),
                "sector" => changes.sector = v.check("unit.sector", sector(unit.sector)),
                "kind" => changes.kind = v.check("unit.kind", unit_kind(unit.kind)),
                "valid_from" => {
                    changes.valid_from = v.check("unit.valid_from", convert::date(unit.valid_from.as_ref()));
                }
                "valid_until" => {
                    changes.valid_until =
                        v.check("unit.valid_until", convert::optional_date(unit.valid_until.as_ref()));
                }
                "code" => changes.code = v.check("unit.code", parse_code(&unit.code)),
                _ => {}
            }
        }
        if let (Some(from), Some(Some(until))) = (changes.valid_from, changes.valid_until)
            && until <= from
        {
            v.add("unit.valid_until", "must be after valid_from");
        }
        v.finish()?;
        let Some(id) = id else {
            return Err(Error::internal("validated update request lacks its id"));
        };
        self.authorize_unit(&ctx.principal, id, Access::Write).await?;
        units::update(&self.db, ctx, id, given_etag(&unit.etag), &changes).await
    }
}

#[tonic::async_trait]
impl UnitService for UnitApi {
    async fn create_unit(
        &self,
        request: Request<pb::CreateUnitRequest>,
    ) -> Result<Response<pb::CreateUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.create(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::CreateUnitResponse { unit: Some(unit_to_pb(&record)) }))
    }

    async fn get_unit(&self, request: Request<pb::GetUnitRequest>) -> Result<Response<pb::GetUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, "units"));
        v.finish()?;
        let Some(id) = id else { return Err(missing("name")) };
        self.authorize_unit(&ctx.principal, id, Access::Read).await?;
        let record = units::load(&self.db, id).await?.ok_or_else(|| Error::NotFound(unit_name(id)))?;
        Ok(Response::new(pb::GetUnitResponse { unit: Some(unit_to_pb(&record)) }))
    }

    async fn list_units(
        &self,
        request: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let locality = v.check("locality", Code::from_name(&req.locality));
        let as_of: NaiveDate =
            v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        let conditions = v.check("filter", parse_filter(&req.filter)).unwrap_or_default();
        let date = as_of.to_string();
        let token_fingerprint = page::fingerprint(&["ListUnits", &req.locality, &date, &req.filter]);
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let after =
            v.check("page_token", page::decode(&req.page_token, &token_fingerprint).and_then(resume_after)).flatten();
        v.finish()?;
        let Some(locality) = locality else { return Err(missing("locality")) };
        authorize(&self.db, &ctx.principal, &locality, Access::Read).await?;
        if localities::load_one(&self.db, &locality).await?.is_none() {
            return Err(Error::NotFound(locality.name()).into());
        }
        let scope = match &ctx.principal.scope {
            Scope::National => None,
            Scope::Localities(roots) => Some(roots.clone()),
        };
        let query = ListQuery { locality, as_of, conditions, scope, after, limit };
        let page = units::list(&self.db, &query).await?;
        let next_page_token =
            page.next_after.map(|id| page::encode(&token_fingerprint, vec![id.to_string()])).unwrap_or_default();
        Ok(Response::new(pb::ListUnitsResponse { units: page.units.iter().map(unit_to_pb).collect(), next_page_token }))
    }

    async fn update_unit(
        &self,
        request: Request<pb::UpdateUnitRequest>,
    ) -> Result<Response<pb::UpdateUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.update(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateUnitResponse { unit: Some(unit_to_pb(&record)) }))
    }

    async fn delete_unit(
        &self,
        request: Request<pb::DeleteUnitRequest>,
    ) -> Result<Response<pb::DeleteUnitResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, "units"));
        v.finish()?;
        let Some(id) = id else { return Err(missing("name")) };
        self.authorize_unit(&ctx.principal, id, Access::Write).await?;
        units::delete(&self.db, &ctx, id, given_etag(&req.etag)).await?;
        Ok(Response::new(pb::DeleteUnitResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sector_and_kind_converts_both_ways() {
        for s in Sector::ALL {
            assert_eq!(sector(sector_to_pb(s).into()), Ok(s));
        }
        for k in UnitKind::ALL {
            assert_eq!(unit_kind(unit_kind_to_pb(k).into()), Ok(k));
        }
        assert!(sector(0).is_err());
        assert!(unit_kind(99).is_err());
    }

    #[test]
    fn filter_values_are_the_proto_names_without_their_prefix() {
        for s in Sector::ALL {
            let proto = sector_to_pb(s).as_str_name();
            assert_eq!(parse_filter(&format!("sector = {proto}")).map(|c| c.len()), Ok(1), "{proto}");
        }
        for k in UnitKind::ALL {
            let proto = unit_kind_to_pb(k).as_str_name();
            assert_eq!(parse_filter(&format!("kind != {proto}")).map(|c| c.len()), Ok(1), "{proto}");
        }
        assert!(parse_filter("sector = ARMY").is_err());
    }

    #[test]
    fn unit_names_are_limited_to_300_characters() {
        assert_eq!(display_name("  Trường   Tiểu học "), Ok("Trường Tiểu học".to_owned()));
        assert!(display_name(&"a".repeat(300)).is_ok());
        assert!(display_name(&"a".repeat(301)).is_err());
        assert!(display_name("   ").is_err());
    }

    #[test]
    fn page_keys_are_unit_ids() {
        assert_eq!(resume_after(None), Ok(None));
        assert_eq!(resume_after(Some(vec!["42".to_owned()])), Ok(Some(42)));
        assert!(resume_after(Some(vec!["03124".to_owned(), "x".to_owned()])).is_err());
        assert!(resume_after(Some(vec!["x".to_owned()])).is_err());
    }
}
