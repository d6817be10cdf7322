//! StandardService: position standards (national rules, changed only by national
//! admins) and whether a person meets the standard of their post on a date.

use chrono::NaiveDate;
use prost_types::Timestamp;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert, fingerprint, given_etag, parse_id,
    pb::{self, standard_service_server::StandardService},
    request_id, update_paths,
};
use crate::{
    auth::{Access, PersonAccess, Principal, RequestContext, Role, authorize_person, require_access, require_national},
    domain::{
        date::today,
        etag,
        locality::Tier,
        page,
        person::Category,
        standard::{self as rules, Applicability, Leadership, LevelRef, StandardSpec, check_minimums, check_period},
    },
    error::{Error, Result},
    store::{
        locality_write::Idempotency,
        standard::{self as store, Compliance, ComplianceStatus, PlacementRecord, StandardChanges, StandardRecord},
    },
};

/// The fields an update mask may name.
const UPDATABLE: [&str; 9] = [
    "display_name",
    "tier",
    "category",
    "leadership",
    "post_title",
    "effective_from",
    "effective_until",
    "minimum_levels",
    "legal_basis",
];

/// The StandardService implementation.
#[derive(Debug, Clone)]
pub struct StandardApi {
    db: DatabaseConnection,
}

impl StandardApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// Standards are national rules: changing them needs `admin` with a national scope.
fn require_national_admin(principal: &Principal) -> Result<()> {
    require_national(principal, "changing standards")?;
    if principal.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("changing standards needs the admin role".to_owned()))
    }
}

fn optional_tier(value: i32) -> Result<Option<Tier>, String> {
    match pb::LocalityTier::try_from(value) {
        Ok(pb::LocalityTier::Unspecified) => Ok(None),
        Ok(_) => convert::tier(value).map(Some),
        Err(_) => Err(format!("{value} is not a LocalityTier")),
    }
}

fn tier_to_pb(value: Option<Tier>) -> pb::LocalityTier {
    value.map_or(pb::LocalityTier::Unspecified, convert::tier_to_pb)
}

fn optional_category(value: i32) -> Result<Option<Category>, String> {
    use pb::PersonCategory as C;
    Ok(Some(match C::try_from(value).map_err(|_| format!("{value} is not a PersonCategory"))? {
        C::Unspecified => return Ok(None),
        C::Cadre => Category::Cadre,
        C::CivilServant => Category::CivilServant,
        C::PublicEmployee => Category::PublicEmployee,
        C::PartTimeWorker => Category::PartTimeWorker,
        C::ContractWorker => Category::ContractWorker,
    }))
}

fn category_to_pb(value: Option<Category>) -> pb::PersonCategory {
    use pb::PersonCategory as C;
    match value {
        None => C::Unspecified,
        Some(Category::Cadre) => C::Cadre,
        Some(Category::CivilServant) => C::CivilServant,
        Some(Category::PublicEmployee) => C::PublicEmployee,
        Some(Category::PartTimeWorker) => C::PartTimeWorker,
        Some(Category::ContractWorker) => C::ContractWorker,
    }
}

fn optional_leadership(value: i32) -> Result<Option<Leadership>, String> {
    match pb::Leadership::try_from(value) {
        Ok(pb::Leadership::Unspecified) => Ok(None),
        Ok(pb::Leadership::Leaders) => Ok(Some(Leadership::Leaders)),
        Ok(pb::Leadership::NonLeaders) => Ok(Some(Leadership::NonLeaders)),
        Err(_) => Err(format!("{value} is not a Leadership")),
    }
}

fn leadership_to_pb(value: Option<Leadership>) -> pb::Leadership {
    match value {
        None => pb::Leadership::Unspecified,
        Some(Leadership::Leaders) => pb::Leadership::Leaders,
        Some(Leadership::NonLeaders) => pb::Leadership::NonLeaders,
    }
}

fn timestamp(value: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: value.timestamp(), nanos: i32::try_from(value.timestamp_subsec_nanos()).unwrap_or_default() }
}

/// The minimum levels of a request, each checked for its form; `None` if any is bad.
/// When all are well formed, the list is checked as a whole too (not empty, one per
/// scale). Whether the levels exist is checked by the store.
fn minimum_levels(v: &mut Violations, values: &[String]) -> Option<Vec<LevelRef>> {
    let parsed: Vec<Option<LevelRef>> = values
        .iter()
        .enumerate()
        .map(|(i, name)| v.check(format!("standard.minimum_levels[{i}]"), LevelRef::from_name(name)))
        .collect();
    let levels: Vec<LevelRef> = parsed.into_iter().collect::<Option<_>>()?;
    let violations = check_minimums(&levels, "standard");
    let complete = violations.is_empty();
    v.extend(violations);
    complete.then_some(levels)
}

/// The spec of a standard to create, every field checked; `None` if any is bad.
fn spec(v: &mut Violations, standard: &pb::Standard) -> Option<StandardSpec> {
    let display_name = v.check("standard.display_name", rules::display_name(&standard.display_name));
    let tier = v.check("standard.tier", optional_tier(standard.tier));
    let category = v.check("standard.category", optional_category(standard.category));
    let leadership = v.check("standard.leadership", optional_leadership(standard.leadership));
    let post_title = v.check("standard.post_title", rules::post_title(&standard.post_title));
    let effective_from = v.check("standard.effective_from", convert::date(standard.effective_from.as_ref()));
    let effective_until =
        v.check("standard.effective_until", convert::optional_date(standard.effective_until.as_ref()));
    if let (Some(from), Some(until)) = (effective_from, effective_until) {
        v.extend(check_period(from, until, "standard"));
    }
    let minimums = minimum_levels(v, &standard.minimum_levels);
    let legal_basis = v.check("standard.legal_basis", rules::legal_basis(&standard.legal_basis));
    Some(StandardSpec {
        display_name: display_name?,
        applies_to: Applicability {
            tier: tier?,
            category: category?,
            leadership: leadership?,
            post_title: post_title?,
        },
        effective_from: effective_from?,
        effective_until: effective_until?,
        minimums: minimums?,
        legal_basis: legal_basis?,
    })
}

/// The changes of an update, each masked field checked; rules between fields are
/// checked by the store on the updated standard.
fn changes(v: &mut Violations, standard: &pb::Standard, paths: &[String]) -> StandardChanges {
    let mut changes = StandardChanges::default();
    for path in paths {
        match path.as_str() {
            "display_name" => {
                changes.display_name = v.check("standard.display_name", rules::display_name(&standard.display_name));
            }
            "tier" => changes.tier = v.check("standard.tier", optional_tier(standard.tier)),
            "category" => changes.category = v.check("standard.category", optional_category(standard.category)),
            "leadership" => {
                changes.leadership = v.check("standard.leadership", optional_leadership(standard.leadership));
            }
            "post_title" => {
                changes.post_title = v.check("standard.post_title", rules::post_title(&standard.post_title));
            }
            "effective_from" => {
                changes.effective_from =
                    v.check("standard.effective_from", convert::date(standard.effective_from.as_ref()));
            }
            "effective_until" => {
                changes.effective_until =
                    v.check("standard.effective_until", convert::optional_date(standard.effective_until.as_ref()));
            }
            "minimum_levels" => changes.minimums = minimum_levels(v, &standard.minimum_levels),
            "legal_basis" => {
                changes.legal_basis = v.check("standard.legal_basis", rules::legal_basis(&standard.legal_basis));
            }
            other => v.add("update_mask", format!("`{other}` cannot be updated")),
        }
    }
    changes
}

fn standard_to_pb(record: &StandardRecord) -> pb::Standard {
    let spec = &record.spec;
    let a = &spec.applies_to;
    pb::Standard {
        name: store::standard_name(record.id),
        display_name: spec.display_name.clone(),
        tier: tier_to_pb(a.tier).into(),
        category: category_to_pb(a.category).into(),
        leadership: leadership_to_pb(a.leadership).into(),
        post_title: a.post_title.clone().unwrap_or_default(),
        effective_from: Some(convert::to_date(spec.effective_from)),
        effective_until: spec.effective_until.map(convert::to_date),
        minimum_levels: spec.minimums.iter().map(LevelRef::name).collect(),
        legal_basis: spec.legal_basis.clone(),
        etag: etag(record.revision),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
    }
}

fn placement_to_pb(record: &PlacementRecord) -> pb::Placement {
    pb::Placement {
        name: format!("people/{}/placements/{}", record.person_id, record.id),
        unit: format!("units/{}", record.unit_id),
        post_title: record.post_title.clone(),
        leader: record.leader,
        key_post: record.key_post,
        valid_from: Some(convert::to_date(record.valid_from)),
        valid_until: record.valid_until.map(convert::to_date),
        locality: record.locality.name(),
        tier: tier_to_pb(Some(record.tier)).into(),
        etag: etag(record.revision),
    }
}

fn compliance_to_pb(person_id: i64, as_of: NaiveDate, answer: &Compliance) -> pb::GetPersonComplianceResponse {
    let status = match answer.status {
        ComplianceStatus::Compliant => pb::ComplianceStatus::Compliant,
        ComplianceStatus::NotCompliant => pb::ComplianceStatus::NotCompliant,
        ComplianceStatus::NoStandard => pb::ComplianceStatus::NoStandard,
        ComplianceStatus::NotPlaced => pb::ComplianceStatus::NotPlaced,
    };
    pb::GetPersonComplianceResponse {
        person: format!("people/{person_id}"),
        as_of: Some(convert::to_date(as_of)),
        status: status.into(),
        placement: answer.placement.as_ref().map(placement_to_pb),
        standard: answer.standard_id.map(store::standard_name).unwrap_or_default(),
        unmet: answer
            .unmet
            .iter()
            .map(|u| pb::UnmetCriterion {
                scale: u.required.scale_name(),
                required_level: u.required.name(),
                held_level: u.held.as_ref().map(LevelRef::name).unwrap_or_default(),
            })
            .collect(),
        held_levels: answer.held.iter().map(LevelRef::name).collect(),
    }
}

impl StandardApi {
    async fn create(&self, ctx: &RequestContext, req: pb::CreateStandardRequest) -> Result<StandardRecord> {
        let mut v = Violations::new();
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let Some(standard) = req.standard.as_ref() else {
            v.add("standard", "is required");
            v.finish()?;
            return Err(Error::invalid("standard", "is required"));
        };
        let spec = spec(&mut v, standard);
        v.finish()?;
        let Some(spec) = spec else {
            return Err(Error::internal("validated create request lacks its standard"));
        };
        require_national_admin(&ctx.principal)?;
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        store::create(&self.db, ctx, &spec, &idem).await
    }

    async fn update(&self, ctx: &RequestContext, req: pb::UpdateStandardRequest) -> Result<StandardRecord> {
        let mut v = Violations::new();
        let Some(standard) = req.standard.as_ref() else {
            v.add("standard", "is required");
            v.finish()?;
            return Err(Error::invalid("standard", "is required"));
        };
        let id = v.check("standard.name", parse_id(&standard.name, store::COLLECTION));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), &UPDATABLE);
        let changes = changes(&mut v, standard, &paths);
        v.finish()?;
        let Some(id) = id else {
            return Err(Error::internal("validated update request lacks its name"));
        };
        require_national_admin(&ctx.principal)?;
        store::update(&self.db, ctx, id, given_etag(&standard.etag), &changes).await
    }

    async fn list(&self, ctx: &RequestContext, req: pb::ListStandardsRequest) -> Result<pb::ListStandardsResponse> {
        let mut v = Violations::new();
        let in_force_on = v.check("in_force_on", convert::optional_date(req.in_force_on.as_ref())).flatten();
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let fingerprint = page::fingerprint(&[&in_force_on.map(|d| d.to_string()).unwrap_or_default()]);
        let key = v.check("page_token", page::decode(&req.page_token, &fingerprint)).flatten();
        let after = key.and_then(|key| {
            let id = match key.as_slice() {
                [id] => id.parse::<i64>().ok(),
                _ => None,
            };
            v.check("page_token", id.ok_or_else(|| "is not a page token of this list".to_owned()))
        });
        v.finish()?;
        require_access(&ctx.principal, Access::Read)?;
        let page = store::list(&self.db, in_force_on, after, limit).await?;
        Ok(pb::ListStandardsResponse {
            standards: page.records.iter().map(standard_to_pb).collect(),
            next_page_token: page
                .next_after
                .map(|id| page::encode(&fingerprint, vec![id.to_string()]))
                .unwrap_or_default(),
        })
    }

    async fn compliance(
        &self,
        ctx: &RequestContext,
        req: pb::GetPersonComplianceRequest,
    ) -> Result<pb::GetPersonComplianceResponse> {
        let mut v = Violations::new();
        let person_id = v.check("person", parse_id(&req.person, "people"));
        let as_of = v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        v.finish()?;
        let Some(person_id) = person_id else {
            return Err(Error::internal("validated request lacks its person"));
        };
        // Role and scope first, so that a refusal says nothing of whether the person exists.
        authorize_person(&self.db, &ctx.principal, person_id, as_of, PersonAccess::ReadPersonal).await?;
        let answer = store::compliance(&self.db, person_id, as_of)
            .await?
            .ok_or_else(|| Error::NotFound(format!("people/{person_id}")))?;
        Ok(compliance_to_pb(person_id, as_of, &answer))
    }
}

#[tonic::async_trait]
impl StandardService for StandardApi {
    async fn create_standard(
        &self,
        request: Request<pb::CreateStandardRequest>,
    ) -> Result<Response<pb::CreateStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.create(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::CreateStandardResponse { standard: Some(standard_to_pb(&record)) }))
    }

    async fn get_standard(
        &self,
        request: Request<pb::GetStandardRequest>,
    ) -> Result<Response<pb::GetStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, store::COLLECTION));
        v.finish()?;
        let Some(id) = id else { return Err(Error::internal("validated request lacks its name").into()) };
        require_access(&ctx.principal, Access::Read)?;
        let record = store::load_one(&self.db, id).await?.ok_or_else(|| Error::NotFound(store::standard_name(id)))?;
        Ok(Response::new(pb::GetStandardResponse { standard: Some(standard_to_pb(&record)) }))
    }

    async fn list_standards(
        &self,
        request: Request<pb::ListStandardsRequest>,
    ) -> Result<Response<pb::ListStandardsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(self.list(&ctx, request.into_inner()).await?))
    }

    async fn update_standard(
        &self,
        request: Request<pb::UpdateStandardRequest>,
    ) -> Result<Response<pb::UpdateStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.update(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateStandardResponse { standard: Some(standard_to_pb(&record)) }))
    }

    async fn delete_standard(
        &self,
        request: Request<pb::DeleteStandardRequest>,
    ) -> Result<Response<pb::DeleteStandardResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, store::COLLECTION));
        v.finish()?;
        let Some(id) = id else { return Err(Error::internal("validated request lacks its name").into()) };
        require_national_admin(&ctx.principal)?;
        store::delete(&self.db, &ctx, id, given_etag(&req.etag)).await?;
        Ok(Response::new(pb::DeleteStandardResponse {}))
    }

    async fn get_person_compliance(
        &self,
        request: Request<pb::GetPersonComplianceRequest>,
    ) -> Result<Response<pb::GetPersonComplianceResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(self.compliance(&ctx, request.into_inner()).await?))
    }
}
