//! LocalityService: the dated tree of administrative units.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    Violations, convert, fingerprint, given_etag,
    pb::{self, locality_service_server::LocalityService},
    request_id, update_paths,
};
use crate::{
    auth::{Access, Principal, RequestContext, Scope, authorize, require_access, require_national},
    domain::{
        date::today,
        filter::{LocalityOrder, parse_locality_filter, parse_locality_order},
        locality::{Code, Tier, Version, check_tags, check_versions},
        page,
        text::{fold, normalize_name},
    },
    error::{Error, Result},
    store::{
        locality::{self as reads, ListQuery, LocalityRecord},
        locality_write::{
            self as writes, Amendment, Creation, Idempotency, LocalityChanges, NewLocality, Reorganization,
        },
    },
};

/// The LocalityService implementation.
#[derive(Debug, Clone)]
pub struct LocalityApi {
    db: DatabaseConnection,
}

impl LocalityApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn scope_roots(principal: &Principal) -> Option<BTreeSet<Code>> {
    match &principal.scope {
        Scope::National => None,
        Scope::Localities(roots) => Some(roots.clone()),
    }
}

fn as_of(v: &mut Violations, value: Option<&pb::Date>) -> NaiveDate {
    v.check("as_of", convert::optional_date(value)).flatten().unwrap_or_else(today)
}

/// Converts and checks a history given on the wire.
fn versions(v: &mut Violations, code: Option<&Code>, values: &[pb::LocalityVersion], path: &str) -> Vec<Version> {
    let mut out = Vec::with_capacity(values.len());
    let mut complete = true;
    for (i, value) in values.iter().enumerate() {
        let (version, errors) = convert::version(value, &format!("{path}[{i}]"));
        for (field, description) in errors {
            v.add(field, description);
        }
        match version {
            Some(version) => out.push(version),
            None => complete = false,
        }
    }
    if let Some(code) = code {
        if complete {
            v.extend(check_versions(code, &out, path));
        } else if values.is_empty() {
            v.add(path, "at least one version is required");
        }
    }
    out
}

/// Checks write access to every distinct parent named in `versions`.
async fn authorize_parents(db: &DatabaseConnection, principal: &Principal, versions: &[Version]) -> Result<()> {
    let parents: BTreeSet<&Code> = versions.iter().filter_map(|v| v.parent.as_ref()).collect();
    for parent in parents {
        authorize(db, principal, parent, Access::Write).await?;
    }
    Ok(())
}

struct Paging {
    limit: u64,
    after: Option<Vec<String>>,
    fingerprint: String,
}

fn paging(v: &mut Violations, page_size: i32, page_token: &str, parts: &[&str]) -> Paging {
    let fingerprint = page::fingerprint(parts);
    let limit = v.check("page_size", page::page_size(page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
    let after = v.check("page_token", page::decode(page_token, &fingerprint)).flatten();
    Paging { limit, after, fingerprint }
}

impl LocalityApi {
    async fn page(&self, query: ListQuery, fingerprint: &str) -> Result<(Vec<pb::Locality>, String)> {
        let page = reads::list(&self.db, &query).await?;
        let records = reads::load(&self.db, &page.codes).await?;
        let next = page.next_after.map(|after| page::encode(fingerprint, after)).unwrap_or_default();
        Ok((records.iter().map(|r| convert::locality_to_pb(r, query.as_of)).collect(), next))
    }

    async fn create(&self, ctx: &RequestContext, req: pb::CreateLocalityRequest) -> Result<LocalityRecord> {
        let mut v = Violations::new();
        let code = v.check("locality_id", Code::parse(&req.locality_id));
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let Some(locality) = req.locality.as_ref() else {
            v.add("locality", "is required");
            v.finish()?;
            return Err(Error::invalid("locality", "is required"));
        };
        let tier = v.check("locality.tier", convert::tier(locality.tier));
        if let (Some(code), Some(tier)) = (&code, tier)
            && code.tier() != tier
        {
            v.add(
                "locality_id",
                format!(
                    "a {} code has {} digits; `{code}` has {}",
                    tier.as_str(),
                    tier.code_len(),
                    code.as_str().len()
                ),
            );
        }
        let versions = versions(&mut v, code.as_ref(), &locality.versions, "locality.versions");
        v.extend(check_tags(&locality.tags, "locality.tags"));
        v.finish()?;
        let (Some(code), Some(tier)) = (code, tier) else {
            return Err(Error::internal("validated create request lacks its code or tier"));
        };

        if tier == Tier::Province {
            require_national(&ctx.principal, "creating a province")?;
        } else {
            require_access(&ctx.principal, Access::Write)?;
            authorize_parents(&self.db, &ctx.principal, &versions).await?;
        }
        if !reads::existing(&self.db, &BTreeSet::from([code.clone()])).await?.is_empty() {
            // Existence is told only to callers whose scope covers the locality.
            authorize(&self.db, &ctx.principal, &code, Access::Read).await?;
        }
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        let new = NewLocality { code, tier, tags: locality.tags.clone(), versions };
        writes::create(&self.db, ctx, &new, &idem, req.validate_only).await
    }

    async fn update(&self, ctx: &RequestContext, req: pb::UpdateLocalityRequest) -> Result<LocalityRecord> {
        let mut v = Violations::new();
        let Some(locality) = req.locality.as_ref() else {
            return Err(Error::invalid("locality", "is required"));
        };
        let code = v.check("locality.name", Code::from_name(&locality.name));
        let paths = update_paths(&mut v, req.update_mask.as_ref(), &["tags", "versions"]);
        let mut changes = LocalityChanges::default();
        if paths.iter().any(|p| p == "versions") {
            changes.versions = Some(versions(&mut v, code.as_ref(), &locality.versions, "locality.versions"));
        }
        if paths.iter().any(|p| p == "tags") {
            v.extend(check_tags(&locality.tags, "locality.tags"));
            changes.tags = Some(locality.tags.clone());
        }
        v.finish()?;
        let Some(code) = code else {
            return Err(Error::internal("validated update request lacks its code"));
        };
        authorize(&self.db, &ctx.principal, &code, Access::Write).await?;
        if let Some(versions) = &changes.versions {
            authorize_parents(&self.db, &ctx.principal, versions).await?;
        }
        let etag = given_etag(&locality.etag);
        writes::update(&self.db, ctx, &code, etag, &changes).await
    }

    async fn reorganize(&self, ctx: &RequestContext, req: pb::ReorganizeRequest) -> Result<Vec<LocalityRecord>> {
        let mut v = Violations::new();
        let effective_date = v.check("effective_date", convert::date(req.effective_date.as_ref()));
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let legal_basis = normalize_name(&req.legal_basis);
        if legal_basis.chars().count() > 500 {
            v.add("legal_basis", "is longer than 500 characters");
        }
        let mut seen: BTreeSet<Code> = BTreeSet::new();
        let mut once = |v: &mut Violations, field: String, code: &Code| {
            if !seen.insert(code.clone()) {
                v.add(field, format!("{} appears more than once among endings, creations and amendments", code.name()));
            }
        };
        let mut endings = Vec::new();
        for (i, name) in req.endings.iter().enumerate() {
            if let Some(code) = v.check(format!("endings[{i}]"), Code::from_name(name)) {
                once(&mut v, format!("endings[{i}]"), &code);
                endings.push(code);
            }
        }
        let mut creations = Vec::new();
        for (i, c) in req.creations.iter().enumerate() {
            let at = |f: &str| format!("creations[{i}].{f}");
            let code = v.check(at("locality_id"), Code::parse(&c.locality_id));
            let tier = v.check(at("tier"), convert::tier(c.tier));
            let display_name = v.check(at("display_name"), convert::display_name(&c.display_name));
            let kind = v.check(at("kind"), convert::kind(c.kind));
            let parent = v.check(at("parent"), convert::optional_locality(&c.parent));
            v.extend(check_tags(&c.tags, &at("tags")));
            if let (Some(code), Some(tier), Some(display_name), Some(kind), Some(parent)) =
                (code, tier, display_name, kind, parent)
            {
                if code.tier() != tier {
                    v.add(at("locality_id"), format!("a {} code has {} digits", tier.as_str(), tier.code_len()));
                }
                once(&mut v, at("locality_id"), &code);
                let version = Version { valid_from: NaiveDate::MIN, valid_until: None, display_name, kind, parent };
                for violation in check_versions(&code, std::slice::from_ref(&version), "creations") {
                    v.add(at(violation.field.rsplit('.').next().unwrap_or("parent")), violation.description);
                }
                creations.push(Creation {
                    code,
                    tier,
                    display_name: version.display_name,
                    kind: version.kind,
                    parent: version.parent,
                    tags: c.tags.clone(),
                });
            }
        }
        let mut amendments = Vec::new();
        for (i, a) in req.amendments.iter().enumerate() {
            let at = |f: &str| format!("amendments[{i}].{f}");
            let code = v.check(at("locality"), Code::from_name(&a.locality));
            let display_name = if a.display_name.is_empty() {
                None
            } else {
                v.check(at("display_name"), convert::display_name(&a.display_name))
            };
            let kind = v.check(at("kind"), convert::optional_kind(a.kind)).flatten();
            let parent = v.check(at("parent"), convert::optional_locality(&a.parent)).flatten();
            if let Some(code) = code {
                once(&mut v, at("locality"), &code);
                if display_name.is_none() && kind.is_none() && parent.is_none() {
                    v.add(at("locality"), "an amendment must change the display name, the kind or the parent");
                }
                if let Some(kind) = kind.filter(|k| k.tier() != code.tier()) {
                    v.add(at("kind"), format!("{} is not a kind of the {} tier", kind.as_str(), code.tier().as_str()));
                }
                if let Some(parent) = &parent {
                    if parent == &code {
                        v.add(at("parent"), "a locality cannot be its own parent (cycle)");
                    } else if parent.tier() >= code.tier() {
                        v.add(
                            at("parent"),
                            format!("the parent must be of a higher tier than {}", code.tier().as_str()),
                        );
                    }
                }
                amendments.push(Amendment { code, display_name, kind, parent });
            }
        }
        let mut links = Vec::new();
        for (i, l) in req.links.iter().enumerate() {
            let at = |f: &str| format!("links[{i}].{f}");
            let predecessor = v.check(at("predecessor"), Code::from_name(&l.predecessor));
            let successor = v.check(at("successor"), Code::from_name(&l.successor));
            let kind = v.check(at("kind"), convert::succession_kind(l.kind));
            if let (Some(p), Some(s), Some(k)) = (predecessor, successor, kind) {
                if p == s {
                    v.add(at("successor"), "a locality cannot succeed itself");
                }
                if links.iter().any(|(p2, s2, _)| p2 == &p && s2 == &s) {
                    v.add(format!("links[{i}]"), format!("repeats the link from {} to {}", p.name(), s.name()));
                }
                links.push((p, s, k));
            }
        }
        if req.endings.is_empty() && req.creations.is_empty() && req.amendments.is_empty() && req.links.is_empty() {
            v.add("endings", "a reorganisation needs at least one ending, creation, amendment or link");
        }
        v.finish()?;
        let Some(effective_date) = effective_date else {
            return Err(Error::internal("validated reorganisation lacks its date"));
        };
        let reorg = Reorganization { effective_date, legal_basis, endings, creations, amendments, links };

        require_access(&ctx.principal, Access::Write)?;
        let created: BTreeSet<&Code> = reorg.creations.iter().map(|c| &c.code).collect();
        let mut targets: BTreeSet<&Code> = BTreeSet::new();
        targets.extend(reorg.endings.iter());
        for a in &reorg.amendments {
            targets.insert(&a.code);
            targets.extend(a.parent.as_ref());
        }
        for c in &reorg.creations {
            match &c.parent {
                Some(parent) => {
                    targets.insert(parent);
                }
                None => require_national(&ctx.principal, "creating a province")?,
            }
        }
        for (p, s, _) in &reorg.links {
            targets.insert(p);
            targets.insert(s);
        }
        // A created code that exists already (an ended code taken up again) must be the
        // caller's as much as any other target; one that does not exist is judged by its parent.
        let taken_up = reads::existing(&self.db, &created.iter().map(|c| (*c).clone()).collect()).await?;
        for code in targets.into_iter().filter(|c| !created.contains(c)).chain(taken_up.iter()) {
            authorize(&self.db, &ctx.principal, code, Access::Write).await?;
        }
        let mut body = req.clone();
        body.request_id.clear();
        let idem = Idempotency { request_id, fingerprint: fingerprint(&body) };
        writes::reorganize(&self.db, ctx, &reorg, &idem, req.validate_only).await
    }
}

#[tonic::async_trait]
impl LocalityService for LocalityApi {
    async fn create_locality(
        &self,
        request: Request<pb::CreateLocalityRequest>,
    ) -> Result<Response<pb::CreateLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.create(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::CreateLocalityResponse { locality: Some(convert::locality_to_pb(&record, today())) }))
    }

    async fn get_locality(
        &self,
        request: Request<pb::GetLocalityRequest>,
    ) -> Result<Response<pb::GetLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let code = v.check("name", Code::from_name(&req.name));
        let as_of = as_of(&mut v, req.as_of.as_ref());
        v.finish()?;
        let Some(code) = code else { return Err(Error::internal("validated request lacks its name").into()) };
        authorize(&self.db, &ctx.principal, &code, Access::Read).await?;
        let record = reads::load_one(&self.db, &code).await?.ok_or_else(|| Error::NotFound(code.name()))?;
        Ok(Response::new(pb::GetLocalityResponse { locality: Some(convert::locality_to_pb(&record, as_of)) }))
    }

    async fn list_localities(
        &self,
        request: Request<pb::ListLocalitiesRequest>,
    ) -> Result<Response<pb::ListLocalitiesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let parent = v.check("parent", convert::optional_locality(&req.parent)).flatten();
        let as_of = as_of(&mut v, req.as_of.as_ref());
        let conditions = v.check("filter", parse_locality_filter(&req.filter)).unwrap_or_default();
        let (order, descending) =
            v.check("order_by", parse_locality_order(&req.order_by)).unwrap_or((LocalityOrder::Code, false));
        let date = as_of.to_string();
        let paging = paging(&mut v, req.page_size, &req.page_token, &[&req.parent, &date, &req.filter, &req.order_by]);
        v.finish()?;
        match &parent {
            Some(parent) => authorize(&self.db, &ctx.principal, parent, Access::Read).await?,
            None => require_access(&ctx.principal, Access::Read)?,
        }
        let query = ListQuery {
            parent,
            conditions,
            order,
            descending,
            ..ListQuery::in_force(as_of, scope_roots(&ctx.principal), paging.limit, paging.after)
        };
        let (localities, next_page_token) = self.page(query, &paging.fingerprint).await?;
        Ok(Response::new(pb::ListLocalitiesResponse { localities, next_page_token }))
    }

    async fn update_locality(
        &self,
        request: Request<pb::UpdateLocalityRequest>,
    ) -> Result<Response<pb::UpdateLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let record = self.update(&ctx, request.into_inner()).await?;
        Ok(Response::new(pb::UpdateLocalityResponse { locality: Some(convert::locality_to_pb(&record, today())) }))
    }

    async fn delete_locality(
        &self,
        request: Request<pb::DeleteLocalityRequest>,
    ) -> Result<Response<pb::DeleteLocalityResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let code = v.check("name", Code::from_name(&req.name));
        v.finish()?;
        let Some(code) = code else { return Err(Error::internal("validated request lacks its name").into()) };
        authorize(&self.db, &ctx.principal, &code, Access::Write).await?;
        let etag = given_etag(&req.etag);
        writes::delete(&self.db, &ctx, &code, etag).await?;
        Ok(Response::new(pb::DeleteLocalityResponse {}))
    }

    async fn list_ancestors(
        &self,
        request: Request<pb::ListAncestorsRequest>,
    ) -> Result<Response<pb::ListAncestorsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let code = v.check("name", Code::from_name(&req.name));
        let as_of = as_of(&mut v, req.as_of.as_ref());
        v.finish()?;
        let Some(code) = code else { return Err(Error::internal("validated request lacks its name").into()) };
        authorize(&self.db, &ctx.principal, &code, Access::Read).await?;
        let Some(mut version) = reads::version_at(&self.db, &code, as_of).await? else {
            return Err(Error::NotFound(format!("{} on {as_of}", code.name())).into());
        };
        let mut chain = Vec::new();
        while let Some(parent) = version.parent.take() {
            // Tiers strictly decrease upwards, so this stops after at most two steps.
            let Some(next) = reads::version_at(&self.db, &parent, as_of).await? else { break };
            chain.push(parent);
            version = next;
            if chain.len() > 3 {
                return Err(Error::internal("locality ancestry deeper than the tiers allow").into());
            }
        }
        let mut visible = Vec::with_capacity(chain.len());
        for ancestor in chain {
            if authorize(&self.db, &ctx.principal, &ancestor, Access::Read).await.is_ok() {
                visible.push(ancestor);
            }
        }
        let records = reads::load(&self.db, &visible).await?;
        Ok(Response::new(pb::ListAncestorsResponse {
            ancestors: records.iter().map(|r| convert::locality_to_pb(r, as_of)).collect(),
        }))
    }

    async fn list_descendants(
        &self,
        request: Request<pb::ListDescendantsRequest>,
    ) -> Result<Response<pb::ListDescendantsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let code = v.check("name", Code::from_name(&req.name));
        let as_of = as_of(&mut v, req.as_of.as_ref());
        let conditions = v.check("filter", parse_locality_filter(&req.filter)).unwrap_or_default();
        let date = as_of.to_string();
        let paging = paging(&mut v, req.page_size, &req.page_token, &[&req.name, &date, &req.filter]);
        v.finish()?;
        let Some(code) = code else { return Err(Error::internal("validated request lacks its name").into()) };
        authorize(&self.db, &ctx.principal, &code, Access::Read).await?;
        let query = ListQuery {
            descendants_of: Some(code),
            conditions,
            ..ListQuery::in_force(as_of, scope_roots(&ctx.principal), paging.limit, paging.after)
        };
        let (localities, next_page_token) = self.page(query, &paging.fingerprint).await?;
        Ok(Response::new(pb::ListDescendantsResponse { localities, next_page_token }))
    }

    async fn search_localities(
        &self,
        request: Request<pb::SearchLocalitiesRequest>,
    ) -> Result<Response<pb::SearchLocalitiesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let words: Vec<String> = fold(&req.query).split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            v.add("query", "is required");
        } else if req.query.chars().count() > 200 {
            v.add("query", "is longer than 200 characters");
        }
        let as_of = as_of(&mut v, req.as_of.as_ref());
        let conditions = v.check("filter", parse_locality_filter(&req.filter)).unwrap_or_default();
        let date = as_of.to_string();
        let paging = paging(&mut v, req.page_size, &req.page_token, &[&req.query, &date, &req.filter]);
        v.finish()?;
        require_access(&ctx.principal, Access::Read)?;
        let query = ListQuery {
            words,
            conditions,
            ..ListQuery::in_force(as_of, scope_roots(&ctx.principal), paging.limit, paging.after)
        };
        let (localities, next_page_token) = self.page(query, &paging.fingerprint).await?;
        Ok(Response::new(pb::SearchLocalitiesResponse { localities, next_page_token }))
    }

    async fn reorganize(
        &self,
        request: Request<pb::ReorganizeRequest>,
    ) -> Result<Response<pb::ReorganizeResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let as_of = convert::date(req.effective_date.as_ref()).unwrap_or_else(|_| today());
        let records = self.reorganize(&ctx, req).await?;
        Ok(Response::new(pb::ReorganizeResponse {
            localities: records.iter().map(|r| convert::locality_to_pb(r, as_of)).collect(),
        }))
    }
}
