//! SuccessionPoolService: succession-planning pools (quy hoạch) and their candidates.
//!
//! A pool belongs to its unit's locality: writing needs `editor` over it, reading
//! needs `personal_data_reader` (candidates are people). Scope is judged before
//! existence: a scoped caller naming a pool or unit that does not exist is refused.

use chrono::NaiveDate;
use prost_types::Timestamp;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert, fingerprint, given_etag, parse_id,
    pb::{self, succession_pool_service_server::SuccessionPoolService},
    request_id, update_paths,
};
use crate::{
    auth::{Access, PersonAccess, Principal, RequestContext, Role, Scope, authorize, authorize_person, require_access},
    domain::{date::today, etag, locality::Code, page, standard::LevelRef, text::normalize_name},
    error::{Error, Result},
    store::{
        locality as localities,
        locality_write::Idempotency,
        scope,
        standard::ComplianceStatus,
        succession::{
            self as store, Bounds, CandidateRecord, ListQuery, PoolChanges, PoolRecord, PoolSpec, check_pool, pool_name,
        },
    },
};

/// Longest post title, in characters.
const MAX_POST_TITLE: usize = 200;
/// Longest reason, in characters.
const MAX_REASON: usize = 500;
/// Earliest and latest term years accepted.
const YEARS: std::ops::RangeInclusive<i32> = 1950..=2100;

/// The fields UpdateSuccessionPool may change.
const UPDATABLE: &[&str] =
    &["term_start_year", "term_end_year", "post_title", "leader_post", "min_candidates", "max_candidates"];

/// The SuccessionPoolService implementation.
#[derive(Debug, Clone)]
pub struct SuccessionPoolApi {
    db: DatabaseConnection,
}

impl SuccessionPoolApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A required post title: NFC, 1 to 200 characters.
fn post_title(value: &str) -> Result<String, String> {
    let title = normalize_name(value);
    if title.is_empty() {
        Err("is required".to_owned())
    } else if title.chars().count() > MAX_POST_TITLE {
        Err(format!("is longer than {MAX_POST_TITLE} characters"))
    } else {
        Ok(title)
    }
}

fn year(value: i32) -> Result<i32, String> {
    if YEARS.contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not a year from {} to {}", YEARS.start(), YEARS.end()))
    }
}

fn count(value: i32) -> Result<i32, String> {
    if value < 0 { Err(format!("{value} must be 0 or more")) } else { Ok(value) }
}

fn reason(value: &str) -> Result<String, String> {
    let text = normalize_name(value);
    if text.chars().count() > MAX_REASON { Err(format!("is longer than {MAX_REASON} characters")) } else { Ok(text) }
}

fn timestamp(value: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: value.timestamp(), nanos: i32::try_from(value.timestamp_subsec_nanos()).unwrap_or_default() }
}

fn bounds_to_pb(value: Bounds) -> pb::PoolBounds {
    match value {
        Bounds::Within => pb::PoolBounds::Within,
        Bounds::BelowMinimum => pb::PoolBounds::BelowMinimum,
        Bounds::AboveMaximum => pb::PoolBounds::AboveMaximum,
    }
}

fn status_to_pb(value: ComplianceStatus) -> pb::ComplianceStatus {
    match value {
        ComplianceStatus::Compliant => pb::ComplianceStatus::Compliant,
        ComplianceStatus::NotCompliant => pb::ComplianceStatus::NotCompliant,
        ComplianceStatus::NoStandard => pb::ComplianceStatus::NoStandard,
        ComplianceStatus::NotPlaced => pb::ComplianceStatus::NotPlaced,
    }
}

fn candidate_to_pb(record: &CandidateRecord) -> pb::Candidate {
    pb::Candidate {
        person: format!("people/{}", record.person_id),
        added_on: Some(convert::to_date(record.added_on)),
        added_reason: record.added_reason.clone(),
        removed_on: record.removed_on.map(convert::to_date),
        removed_reason: record.removed_reason.clone().unwrap_or_default(),
        compliance: status_to_pb(record.status).into(),
        unmet: record
            .unmet
            .iter()
            .map(|u| pb::UnmetCriterion {
                scale: u.required.scale_name(),
                required_level: u.required.name(),
                held_level: u.held.as_ref().map(LevelRef::name).unwrap_or_default(),
            })
            .collect(),
        full_name: record.full_name.clone(),
    }
}

fn pool_to_pb(record: &PoolRecord, as_of: NaiveDate, candidates: &[CandidateRecord]) -> pb::SuccessionPool {
    pb::SuccessionPool {
        name: record.name(),
        term_start_year: record.term_start_year,
        term_end_year: record.term_end_year,
        unit: format!("units/{}", record.unit_id),
        post_title: record.post_title.clone(),
        leader_post: record.leader_post,
        min_candidates: record.min_candidates,
        max_candidates: record.max_candidates,
        candidates: candidates.iter().map(candidate_to_pb).collect(),
        candidate_count: i32::try_from(record.candidate_count).unwrap_or(i32::MAX),
        bounds: bounds_to_pb(record.bounds()).into(),
        as_of: Some(convert::to_date(as_of)),
        etag: etag(record.revision),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
    }
}

fn resume_after(key: Option<Vec<String>>) -> Result<Option<i64>, String> {
    match key.as_deref() {
        None => Ok(None),
        Some([id]) => id.parse().map(Some).map_err(|_| "is not a page token of a pool list".to_owned()),
        Some(_) => Err("is not a page token of a pool list".to_owned()),
    }
}

fn missing(what: &str) -> Status {
    Error::internal(format!("validated request lacks its {what}")).into()
}

/// The role a read or write of pools needs, before any scope.
fn require_role(principal: &Principal, access: Access) -> Result<()> {
    require_access(principal, access)?;
    if access == Access::Read && !principal.has_role(Role::PersonalDataReader) {
        return Err(Error::PermissionDenied("reading succession pools needs the personal_data_reader role".to_owned()));
    }
    Ok(())
}

fn refused(principal: &Principal, name: String) -> Error {
    match principal.scope {
        Scope::National => Error::NotFound(name),
        Scope::Localities(_) => Error::PermissionDenied(format!("{name} is outside the caller's locality scope")),
    }
}

impl SuccessionPoolApi {
    /// Checks the caller's access to pool `id` through its unit's locality.
    async fn authorize_pool(&self, principal: &Principal, id: i64, access: Access) -> Result<()> {
        require_role(principal, access)?;
        match store::pool_locality(&self.db, id).await? {
            Some(locality) => authorize(&self.db, principal, &locality, access).await,
            None => Err(refused(principal, pool_name(id))),
        }
    }

    /// Loads pool `id` as of `as_of` with its candidates.
    async fn pool_on(&self, id: i64, as_of: NaiveDate) -> Result<pb::SuccessionPool> {
        let record = store::load(&self.db, id, as_of).await?.ok_or_else(|| Error::NotFound(pool_name(id)))?;
        let candidates = store::candidates_on(&self.db, &record, as_of).await?;
        Ok(pool_to_pb(&record, as_of, &candidates))
    }

    async fn create(&self, ctx: &RequestContext, req: pb::CreateSuccessionPoolRequest) -> Result<pb::SuccessionPool> {
        let mut v = Violations::new();
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let Some(pool) = req.succession_pool.as_ref() else {
            return Err(Error::invalid("succession_pool", "is required"));
        };
        let unit = v.check("succession_pool.unit", parse_id(&pool.unit, "units"));
        let title = v.check("succession_pool.post_title", post_title(&pool.post_title));
        let start = v.check("succession_pool.term_start_year", year(pool.term_start_year));
        let end = v.check("succession_pool.term_end_year", year(pool.term_end_year));
        let min = v.check("succession_pool.min_candidates", count(pool.min_candidates));
        let max = v.check("succession_pool.max_candidates", count(pool.max_candidates));
        let spec = match (title, start, end, min, max) {
            (
                Some(post_title),
                Some(term_start_year),
                Some(term_end_year),
                Some(min_candidates),
                Some(max_candidates),
            ) => {
                let spec = PoolSpec {
                    post_title,
                    leader_post: pool.leader_post,
                    term_start_year,
                    term_end_year,
                    min_candidates,
                    max_candidates,
                };
                v.extend(check_pool(&spec, "succession_pool"));
                Some(spec)
            }
            _ => None,
        };
        v.finish()?;
        let (Some(unit), Some(spec)) = (unit, spec) else {
            return Err(Error::internal("validated create request lacks a field"));
        };
        require_role(&ctx.principal, Access::Write)?;
        match scope::unit_locality(&self.db, unit).await? {
            Some(locality) => authorize(&self.db, &ctx.principal, &locality, Access::Write).await?,
            None if matches!(ctx.principal.scope, Scope::Localities(_)) => {
                return Err(refused(&ctx.principal, format!("units/{unit}")));
            }
            // A national caller learns that the unit does not exist from the store.
            None => {}
        }
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        let record = store::create(&self.db, ctx, unit, &spec, &idem).await?;
        Ok(pool_to_pb(&record, today(), &[]))
    }

    async fn update(&self, ctx: &RequestContext, req: pb::UpdateSuccessionPoolRequest) -> Result<pb::SuccessionPool> {
        let mut v = Violations::new();
        let Some(pool) = req.succession_pool.as_ref() else {
            return Err(Error::invalid("succession_pool", "is required"));
        };
        let id = v.check("succession_pool.name", parse_id(&pool.name, store::COLLECTION));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), UPDATABLE);
        let mut changes = PoolChanges::default();
        for path in &paths {
            let field = format!("succession_pool.{path}");
            match path.as_str() {
                "post_title" => changes.post_title = v.check(field, post_title(&pool.post_title)),
                "leader_post" => changes.leader_post = Some(pool.leader_post),
                "term_start_year" => changes.term_start_year = v.check(field, year(pool.term_start_year)),
                "term_end_year" => changes.term_end_year = v.check(field, year(pool.term_end_year)),
                "min_candidates" => changes.min_candidates = v.check(field, count(pool.min_candidates)),
                "max_candidates" => changes.max_candidates = v.check(field, count(pool.max_candidates)),
                _ => {}
            }
        }
        v.finish()?;
        let Some(id) = id else {
            return Err(Error::internal("validated update request lacks its id"));
        };
        self.authorize_pool(&ctx.principal, id, Access::Write).await?;
        let record = store::update(&self.db, ctx, id, given_etag(&pool.etag), &changes).await?;
        Ok(pool_to_pb(&record, today(), &[]))
    }

    async fn add(&self, ctx: &RequestContext, req: pb::AddCandidateRequest) -> Result<pb::SuccessionPool> {
        let mut v = Violations::new();
        let id = v.check("succession_pool", parse_id(&req.succession_pool, store::COLLECTION));
        let Some(candidate) = req.candidate.as_ref() else {
            v.add("candidate", "is required");
            v.finish()?;
            return Err(Error::invalid("candidate", "is required"));
        };
        let person = v.check("candidate.person", parse_id(&candidate.person, "people"));
        let added_on = v.check("candidate.added_on", convert::date(candidate.added_on.as_ref()));
        let why = v.check("candidate.added_reason", reason(&candidate.added_reason));
        v.finish()?;
        let (Some(id), Some(person), Some(added_on), Some(why)) = (id, person, added_on, why) else {
            return Err(Error::internal("validated request lacks a field"));
        };
        self.authorize_pool(&ctx.principal, id, Access::Write).await?;
        authorize_person(&self.db, &ctx.principal, person, added_on, PersonAccess::Write).await?;
        store::add_candidate(&self.db, ctx, id, person, added_on, &why).await?;
        self.pool_on(id, added_on).await
    }

    async fn remove(&self, ctx: &RequestContext, req: pb::RemoveCandidateRequest) -> Result<pb::SuccessionPool> {
        let mut v = Violations::new();
        let id = v.check("succession_pool", parse_id(&req.succession_pool, store::COLLECTION));
        let person = v.check("person", parse_id(&req.person, "people"));
        let removed_on = v.check("removed_on", convert::date(req.removed_on.as_ref()));
        let why = v.check("reason", reason(&req.reason));
        v.finish()?;
        let (Some(id), Some(person), Some(removed_on), Some(why)) = (id, person, removed_on, why) else {
            return Err(Error::internal("validated request lacks a field"));
        };
        self.authorize_pool(&ctx.principal, id, Access::Write).await?;
        store::remove_candidate(&self.db, ctx, id, person, removed_on, &why).await?;
        self.pool_on(id, removed_on).await
    }

    async fn list(
        &self,
        ctx: &RequestContext,
        req: pb::ListSuccessionPoolsRequest,
    ) -> Result<pb::ListSuccessionPoolsResponse> {
        let mut v = Violations::new();
        let locality = v.check("locality", Code::from_name(&req.locality));
        let as_of = v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        let conditions = v.check("filter", store::parse_filter(&req.filter)).unwrap_or_default();
        let date = as_of.to_string();
        let token_fingerprint = page::fingerprint(&["ListSuccessionPools", &req.locality, &date, &req.filter]);
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let after =
            v.check("page_token", page::decode(&req.page_token, &token_fingerprint).and_then(resume_after)).flatten();
        v.finish()?;
        let Some(locality) = locality else { return Err(Error::internal("validated request lacks its locality")) };
        require_role(&ctx.principal, Access::Read)?;
        authorize(&self.db, &ctx.principal, &locality, Access::Read).await?;
        if localities::load_one(&self.db, &locality).await?.is_none() {
            return Err(Error::NotFound(locality.name()));
        }
        let scope = match &ctx.principal.scope {
            Scope::National => None,
            Scope::Localities(roots) => Some(roots.clone()),
        };
        let query = ListQuery { locality, as_of, conditions, scope, after, limit };
        let page = store::list(&self.db, &query).await?;
        Ok(pb::ListSuccessionPoolsResponse {
            succession_pools: page.pools.iter().map(|p| pool_to_pb(p, as_of, &[])).collect(),
            next_page_token: page
                .next_after
                .map(|id| page::encode(&token_fingerprint, vec![id.to_string()]))
                .unwrap_or_default(),
        })
    }
}

#[tonic::async_trait]
impl SuccessionPoolService for SuccessionPoolApi {
    async fn create_succession_pool(
        &self,
        request: Request<pb::CreateSuccessionPoolRequest>,
    ) -> Result<Response<pb::CreateSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = self.create(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::CreateSuccessionPoolResponse { succession_pool: Some(pool) }))
    }

    async fn get_succession_pool(
        &self,
        request: Request<pb::GetSuccessionPoolRequest>,
    ) -> Result<Response<pb::GetSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, store::COLLECTION));
        let as_of = v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        v.finish()?;
        let Some(id) = id else { return Err(missing("name")) };
        self.authorize_pool(&ctx.principal, id, Access::Read).await?;
        let pool = self.pool_on(id, as_of).await?;
        Ok(Response::new(pb::GetSuccessionPoolResponse { succession_pool: Some(pool) }))
    }

    async fn list_succession_pools(
        &self,
        request: Request<pb::ListSuccessionPoolsRequest>,
    ) -> Result<Response<pb::ListSuccessionPoolsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(self.list(&ctx, request.into_inner()).await?))
    }

    async fn update_succession_pool(
        &self,
        request: Request<pb::UpdateSuccessionPoolRequest>,
    ) -> Result<Response<pb::UpdateSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = self.update(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateSuccessionPoolResponse { succession_pool: Some(pool) }))
    }

    async fn delete_succession_pool(
        &self,
        request: Request<pb::DeleteSuccessionPoolRequest>,
    ) -> Result<Response<pb::DeleteSuccessionPoolResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, store::COLLECTION));
        v.finish()?;
        let Some(id) = id else { return Err(missing("name")) };
        self.authorize_pool(&ctx.principal, id, Access::Write).await?;
        store::delete(&self.db, &ctx, id, given_etag(&req.etag)).await?;
        Ok(Response::new(pb::DeleteSuccessionPoolResponse {}))
    }

    async fn add_candidate(
        &self,
        request: Request<pb::AddCandidateRequest>,
    ) -> Result<Response<pb::AddCandidateResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = self.add(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::AddCandidateResponse { succession_pool: Some(pool) }))
    }

    async fn remove_candidate(
        &self,
        request: Request<pb::RemoveCandidateRequest>,
    ) -> Result<Response<pb::RemoveCandidateResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let pool = self.remove(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::RemoveCandidateResponse { succession_pool: Some(pool) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_titles_are_nfc_and_bounded() {
        assert_eq!(post_title("  Chủ tịch   UBND xã "), Ok("Chủ tịch UBND xã".to_owned()));
        assert!(post_title(" ").is_err());
        assert!(post_title(&"ư".repeat(201)).is_err());
        assert!(post_title(&"ư".repeat(200)).is_ok());
    }

    #[test]
    fn years_and_counts_are_bounded() {
        assert!(year(1949).is_err());
        assert!(year(2101).is_err());
        assert_eq!(year(2025), Ok(2025));
        assert!(count(-1).is_err());
        assert_eq!(count(0), Ok(0));
    }
}
