//! StaffingService: staffing quotas (biên chế) and headcount against them.
//!
//! A quota belongs to its unit's locality, or to its locality. Reads (quotas and
//! headcounts are aggregates) need any role over it; writes need `editor`. Scope is
//! judged before existence.

use chrono::{Datelike, NaiveDate};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert, fingerprint, given_etag, parse_id,
    pb::{self, staffing_service_server::StaffingService},
    person::category_to_pb,
    request_id, update_paths,
};
use crate::{
    auth::{Access, Principal, RequestContext, Scope, authorize, require_access},
    domain::{date::today, etag, locality::Code, page, person::Category},
    error::{Error, Result},
    store::{
        locality as localities,
        locality_write::Idempotency,
        scope,
        staffing::{self as store, HeadcountRow, NewQuota, QuotaRecord, Target, quota_name},
    },
};

/// Earliest and latest quota years accepted.
const YEARS: std::ops::RangeInclusive<i32> = 1950..=2100;

/// The StaffingService implementation.
#[derive(Debug, Clone)]
pub struct StaffingApi {
    db: DatabaseConnection,
}

impl StaffingApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A required category.
fn category(value: i32) -> Result<Category, String> {
    use pb::PersonCategory as C;
    Ok(match C::try_from(value).map_err(|_| format!("{value} is not a PersonCategory"))? {
        C::Unspecified => return Err("is required".to_owned()),
        C::Cadre => Category::Cadre,
        C::CivilServant => Category::CivilServant,
        C::PublicEmployee => Category::PublicEmployee,
        C::PartTimeWorker => Category::PartTimeWorker,
        C::ContractWorker => Category::ContractWorker,
    })
}

fn year(value: i32) -> Result<i32, String> {
    if YEARS.contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not a year from {} to {}", YEARS.start(), YEARS.end()))
    }
}

fn quota(value: i32) -> Result<i32, String> {
    if value < 0 { Err(format!("{value} must be 0 or more")) } else { Ok(value) }
}

/// Exactly one of a unit and a locality name, with violations on `{path}unit` or
/// `{path}locality`.
fn target(v: &mut Violations, path: &str, unit: &str, locality: &str) -> Option<Target> {
    match (unit.is_empty(), locality.is_empty()) {
        (true, true) => {
            v.add(format!("{path}unit"), "set exactly one of unit and locality");
            None
        }
        (false, false) => {
            v.add(format!("{path}locality"), "set exactly one of unit and locality, not both");
            None
        }
        (false, true) => v.check(format!("{path}unit"), parse_id(unit, "units")).map(Target::Unit),
        (true, false) => v.check(format!("{path}locality"), Code::from_name(locality)).map(Target::Locality),
    }
}

fn quota_to_pb(record: &QuotaRecord) -> pb::StaffingQuota {
    let (unit, locality) = match &record.target {
        Target::Unit(id) => (format!("units/{id}"), String::new()),
        Target::Locality(code) => (String::new(), code.name()),
    };
    pb::StaffingQuota {
        name: record.name(),
        unit,
        locality,
        year: record.year,
        category: category_to_pb(record.category).into(),
        quota: record.quota,
        etag: etag(record.revision),
    }
}

fn row_to_pb(row: &HeadcountRow) -> pb::HeadcountRow {
    pb::HeadcountRow {
        category: row.category.map_or(pb::PersonCategory::Unspecified, category_to_pb).into(),
        headcount: i32::try_from(row.headcount).unwrap_or(i32::MAX),
        quota: i32::try_from(row.quota).unwrap_or(i32::MAX),
        percent_of_quota: row.percent_of_quota,
    }
}

fn resume_after(key: Option<Vec<String>>) -> Result<Option<i64>, String> {
    match key.as_deref() {
        None => Ok(None),
        Some([id]) => id.parse().map(Some).map_err(|_| "is not a page token of a quota list".to_owned()),
        Some(_) => Err("is not a page token of a quota list".to_owned()),
    }
}

fn refused(principal: &Principal, name: String) -> Error {
    match principal.scope {
        Scope::National => Error::NotFound(name),
        Scope::Localities(_) => Error::PermissionDenied(format!("{name} is outside the caller's locality scope")),
    }
}

impl StaffingApi {
    /// Checks the caller's access to a unit or locality. A unit that does not exist is
    /// refused to a scoped caller and, for a national caller, reported by `missing`.
    async fn authorize_target(&self, principal: &Principal, target: &Target, access: Access) -> Result<bool> {
        require_access(principal, access)?;
        match target {
            Target::Locality(code) => authorize(&self.db, principal, code, access).await.map(|()| true),
            Target::Unit(id) => match scope::unit_locality(&self.db, *id).await? {
                Some(locality) => authorize(&self.db, principal, &locality, access).await.map(|()| true),
                None => match principal.scope {
                    Scope::National => Ok(false),
                    Scope::Localities(_) => Err(refused(principal, format!("units/{id}"))),
                },
            },
        }
    }

    async fn authorize_quota(&self, principal: &Principal, id: i64, access: Access) -> Result<()> {
        require_access(principal, access)?;
        match store::quota_locality(&self.db, id).await? {
            Some(locality) => authorize(&self.db, principal, &locality, access).await,
            None => Err(refused(principal, quota_name(id))),
        }
    }

    async fn create(&self, ctx: &RequestContext, req: pb::CreateStaffingQuotaRequest) -> Result<QuotaRecord> {
        let mut v = Violations::new();
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let Some(q) = req.staffing_quota.as_ref() else {
            return Err(Error::invalid("staffing_quota", "is required"));
        };
        let target = target(&mut v, "staffing_quota.", &q.unit, &q.locality);
        let year = v.check("staffing_quota.year", year(q.year));
        let category = v.check("staffing_quota.category", category(q.category));
        let number = v.check("staffing_quota.quota", quota(q.quota));
        v.finish()?;
        let (Some(target), Some(year), Some(category), Some(number)) = (target, year, category, number) else {
            return Err(Error::internal("validated create request lacks a field"));
        };
        self.authorize_target(&ctx.principal, &target, Access::Write).await?;
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        store::create(&self.db, ctx, &NewQuota { target, year, category, quota: number }, &idem).await
    }

    async fn update(&self, ctx: &RequestContext, req: pb::UpdateStaffingQuotaRequest) -> Result<QuotaRecord> {
        let mut v = Violations::new();
        let Some(q) = req.staffing_quota.as_ref() else {
            return Err(Error::invalid("staffing_quota", "is required"));
        };
        let id = v.check("staffing_quota.name", parse_id(&q.name, store::COLLECTION));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), &["quota"]);
        let number = if paths.is_empty() { None } else { v.check("staffing_quota.quota", quota(q.quota)) };
        v.finish()?;
        let (Some(id), Some(number)) = (id, number) else {
            return Err(Error::internal("validated update request lacks a field"));
        };
        self.authorize_quota(&ctx.principal, id, Access::Write).await?;
        store::update(&self.db, ctx, id, given_etag(&q.etag), number).await
    }

    async fn list(
        &self,
        ctx: &RequestContext,
        req: pb::ListStaffingQuotasRequest,
    ) -> Result<pb::ListStaffingQuotasResponse> {
        let mut v = Violations::new();
        let locality = v.check("locality", Code::from_name(&req.locality));
        let year = if req.year == 0 { None } else { v.check("year", year(req.year)) };
        let token_fingerprint = page::fingerprint(&["ListStaffingQuotas", &req.locality, &req.year.to_string()]);
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let after =
            v.check("page_token", page::decode(&req.page_token, &token_fingerprint).and_then(resume_after)).flatten();
        v.finish()?;
        let Some(locality) = locality else { return Err(Error::internal("validated request lacks its locality")) };
        authorize(&self.db, &ctx.principal, &locality, Access::Read).await?;
        if localities::load_one(&self.db, &locality).await?.is_none() {
            return Err(Error::NotFound(locality.name()));
        }
        let page = store::list(&self.db, &locality, year, after, limit).await?;
        Ok(pb::ListStaffingQuotasResponse {
            staffing_quotas: page.quotas.iter().map(quota_to_pb).collect(),
            next_page_token: page
                .next_after
                .map(|id| page::encode(&token_fingerprint, vec![id.to_string()]))
                .unwrap_or_default(),
        })
    }

    async fn headcount(&self, ctx: &RequestContext, req: pb::GetHeadcountRequest) -> Result<pb::GetHeadcountResponse> {
        let mut v = Violations::new();
        let target = target(&mut v, "", &req.unit, &req.locality);
        let as_of: NaiveDate =
            v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        if !YEARS.contains(&as_of.year()) {
            v.add("as_of", format!("the year must be from {} to {}", YEARS.start(), YEARS.end()));
        }
        v.finish()?;
        let Some(target) = target else { return Err(Error::internal("validated request lacks its target")) };
        if !self.authorize_target(&ctx.principal, &target, Access::Read).await? {
            return Err(Error::NotFound(match &target {
                Target::Unit(id) => format!("units/{id}"),
                Target::Locality(code) => code.name(),
            }));
        }
        if let Target::Locality(code) = &target
            && localities::load_one(&self.db, code).await?.is_none()
        {
            return Err(Error::NotFound(code.name()));
        }
        let (rows, total) = store::headcount(&self.db, &target, as_of).await?;
        Ok(pb::GetHeadcountResponse {
            as_of: Some(convert::to_date(as_of)),
            categories: rows.iter().map(row_to_pb).collect(),
            total: Some(row_to_pb(&total)),
        })
    }
}

#[tonic::async_trait]
impl StaffingService for StaffingApi {
    async fn create_staffing_quota(
        &self,
        request: Request<pb::CreateStaffingQuotaRequest>,
    ) -> Result<Response<pb::CreateStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.create(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::CreateStaffingQuotaResponse { staffing_quota: Some(quota_to_pb(&record)) }))
    }

    async fn get_staffing_quota(
        &self,
        request: Request<pb::GetStaffingQuotaRequest>,
    ) -> Result<Response<pb::GetStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, store::COLLECTION));
        v.finish()?;
        let Some(id) = id else { return Err(Error::internal("validated request lacks its name").into()) };
        self.authorize_quota(&ctx.principal, id, Access::Read).await?;
        let record = store::load(&self.db, id).await?.ok_or_else(|| Error::NotFound(quota_name(id)))?;
        Ok(Response::new(pb::GetStaffingQuotaResponse { staffing_quota: Some(quota_to_pb(&record)) }))
    }

    async fn list_staffing_quotas(
        &self,
        request: Request<pb::ListStaffingQuotasRequest>,
    ) -> Result<Response<pb::ListStaffingQuotasResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(self.list(&ctx, request.into_inner()).await?))
    }

    async fn update_staffing_quota(
        &self,
        request: Request<pb::UpdateStaffingQuotaRequest>,
    ) -> Result<Response<pb::UpdateStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.update(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateStaffingQuotaResponse { staffing_quota: Some(quota_to_pb(&record)) }))
    }

    async fn delete_staffing_quota(
        &self,
        request: Request<pb::DeleteStaffingQuotaRequest>,
    ) -> Result<Response<pb::DeleteStaffingQuotaResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, store::COLLECTION));
        v.finish()?;
        let Some(id) = id else { return Err(Error::internal("validated request lacks its name").into()) };
        self.authorize_quota(&ctx.principal, id, Access::Write).await?;
        store::delete(&self.db, &ctx, id, given_etag(&req.etag)).await?;
        Ok(Response::new(pb::DeleteStaffingQuotaResponse {}))
    }

    async fn get_headcount(
        &self,
        request: Request<pb::GetHeadcountRequest>,
    ) -> Result<Response<pb::GetHeadcountResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(self.headcount(&ctx, request.into_inner()).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_of_unit_and_locality_is_a_target() {
        let mut v = Violations::new();
        assert_eq!(target(&mut v, "q.", "units/4", ""), Some(Target::Unit(4)));
        assert_eq!(target(&mut v, "q.", "", "localities/20"), Some(Target::Locality(Code::from_db("20".into()))));
        assert!(v.finish().is_ok());
        let mut v = Violations::new();
        assert_eq!(target(&mut v, "q.", "", ""), None);
        assert_eq!(target(&mut v, "q.", "units/4", "localities/20"), None);
        assert_eq!(target(&mut v, "q.", "units/x", ""), None);
        assert!(matches!(v.finish(), Err(Error::InvalidArgument(violations)) if violations.len() == 3));
    }

    #[test]
    fn categories_years_and_quotas_are_checked() {
        assert!(category(0).is_err());
        assert!(category(42).is_err());
        for c in Category::ALL {
            assert_eq!(category(category_to_pb(*c).into()), Ok(*c));
        }
        assert!(year(1949).is_err());
        assert_eq!(year(2100), Ok(2100));
        assert!(quota(-1).is_err());
        assert_eq!(quota(0), Ok(0));
    }
}
