//! SuccessionPoolService's messages to and from the feature's types. Each request is
//! taken apart field by field (no `..`), so a field added to the proto does not compile
//! until it is handled here.

use chrono::NaiveDate;

use super::rules::{
    Bounds, Candidate, Pool, PoolChanges, PoolCondition, PoolSpec, check_pool, count, post_title, reason, year,
};
use crate::{
    domain::{date::today, locality::Code},
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        filter::{self, Field},
        names::{PersonName, SuccessionPoolName, UnitName},
        page::Page,
        request::{date, optional_date, request_key, timestamp, to_date, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    standards::compliance::ComplianceStatus,
    standards::rules::LevelRef,
    uow::RequestKey,
};

/// The fields UpdateSuccessionPool may change.
pub const UPDATABLE: &[&str] =
    &["term_start_year", "term_end_year", "post_title", "leader_post", "min_candidates", "max_candidates"];

/// The filterable fields of ListSuccessionPools.
const FILTER: &[Field<PoolCondition>] = &[
    Field::value("bounds", |equal, v| Ok(PoolCondition::Bounds(equal, Bounds::from_filter(v)?))),
    Field::value("term_start_year", |equal, v| {
        if !equal {
            return Err("term_start_year supports only `=`".to_owned());
        }
        v.parse::<i32>()
            .map(PoolCondition::TermStartYear)
            .map_err(|_| format!("{} is not a year for term_start_year", crate::error::quote(v)))
    }),
];

/// Parses a pool list filter: `bounds = BELOW_MINIMUM`, `bounds != WITHIN`,
/// `term_start_year = 2025`, joined by `AND`.
pub fn parse_filter(text: &str) -> Result<Vec<PoolCondition>, String> {
    filter::parse(text, FILTER)
}

/// The wire value of a compliance status (the standards feature's enum).
fn status_to_pb(value: ComplianceStatus) -> pb::ComplianceStatus {
    match value {
        ComplianceStatus::Compliant => pb::ComplianceStatus::Compliant,
        ComplianceStatus::NotCompliant => pb::ComplianceStatus::NotCompliant,
        ComplianceStatus::NoStandard => pb::ComplianceStatus::NoStandard,
        ComplianceStatus::NotPlaced => pb::ComplianceStatus::NotPlaced,
    }
}

impl From<&Candidate> for pb::Candidate {
    fn from(record: &Candidate) -> Self {
        pb::Candidate {
            person: PersonName(record.person_id).to_string(),
            added_on: Some(to_date(record.added_on)),
            added_reason: record.added_reason.clone(),
            removed_on: record.removed_on.map(to_date),
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
}

/// A pool as seen on a date, with the candidates listed (none in lists and writes
/// that change no membership).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOn {
    /// The pool, counted on `as_of`.
    pub pool: Pool,
    /// The date of the count and of the candidates.
    pub as_of: NaiveDate,
    /// The candidates on `as_of`, when listed.
    pub candidates: Vec<Candidate>,
}

impl From<&PoolOn> for pb::SuccessionPool {
    fn from(view: &PoolOn) -> Self {
        let PoolOn { pool, as_of, candidates } = view;
        let spec = &pool.spec;
        pb::SuccessionPool {
            name: pool.name.to_string(),
            term_start_year: spec.term_start_year,
            term_end_year: spec.term_end_year,
            unit: pool.unit.to_string(),
            post_title: spec.post_title.clone(),
            leader_post: spec.leader_post,
            min_candidates: spec.min_candidates,
            max_candidates: spec.max_candidates,
            candidates: candidates.iter().map(Into::into).collect(),
            candidate_count: i32::try_from(pool.candidate_count).unwrap_or(i32::MAX),
            bounds: pool.bounds().wire(),
            as_of: Some(to_date(*as_of)),
            etag: etag(pool.revision),
            create_time: Some(timestamp(pool.create_time)),
            update_time: Some(timestamp(pool.update_time)),
        }
    }
}

/// A checked CreateSuccessionPool request.
#[derive(Debug, Clone)]
pub struct CreatePool {
    /// The unit of the post.
    pub unit: UnitName,
    /// Its term, post and bounds.
    pub spec: PoolSpec,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateSuccessionPoolRequest> for CreatePool {
    type Error = Error;

    fn try_from(request: pb::CreateSuccessionPoolRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateSuccessionPoolRequest { succession_pool, request_id: _ } = request;
        let Some(pool) = succession_pool else { return Err(Error::invalid("succession_pool", "is required")) };
        // Output-only fields are ignored on create (AIP-133).
        let pb::SuccessionPool {
            name: _,
            term_start_year,
            term_end_year,
            unit,
            post_title: title,
            leader_post,
            min_candidates,
            max_candidates,
            candidates: _,
            candidate_count: _,
            bounds: _,
            as_of: _,
            etag: _,
            create_time: _,
            update_time: _,
        } = pool;
        let unit = v.check("succession_pool.unit", UnitName::parse(&unit));
        let title = v.check("succession_pool.post_title", post_title(&title));
        let start = v.check("succession_pool.term_start_year", year(term_start_year));
        let end = v.check("succession_pool.term_end_year", year(term_end_year));
        let min = v.check("succession_pool.min_candidates", count(min_candidates));
        let max = v.check("succession_pool.max_candidates", count(max_candidates));
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
                    leader_post,
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
        v.into_result(|| Some(Self { unit: unit?, spec: spec?, key }))
    }
}

/// A checked UpdateSuccessionPool request.
#[derive(Debug, Clone)]
pub struct UpdatePool {
    /// The pool.
    pub name: SuccessionPoolName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes.
    pub changes: PoolChanges,
}

impl TryFrom<pb::UpdateSuccessionPoolRequest> for UpdatePool {
    type Error = Error;

    fn try_from(request: pb::UpdateSuccessionPoolRequest) -> Result<Self> {
        let pb::UpdateSuccessionPoolRequest { succession_pool, update_mask } = request;
        let Some(pool) = succession_pool else { return Err(Error::invalid("succession_pool", "is required")) };
        let pb::SuccessionPool {
            name,
            term_start_year,
            term_end_year,
            unit: _,
            post_title: title,
            leader_post,
            min_candidates,
            max_candidates,
            candidates: _,
            candidate_count: _,
            bounds: _,
            as_of: _,
            etag,
            create_time: _,
            update_time: _,
        } = pool;
        let mut v = Violations::new();
        let pool_name = v.check("succession_pool.name", SuccessionPoolName::parse(&name));
        let mut changes = PoolChanges::default();
        for path in update_paths(&mut v, update_mask.as_ref(), UPDATABLE) {
            let field = format!("succession_pool.{path}");
            match path.as_str() {
                "post_title" => changes.post_title = v.check(field, post_title(&title)),
                "leader_post" => changes.leader_post = Some(leader_post),
                "term_start_year" => changes.term_start_year = v.check(field, year(term_start_year)),
                "term_end_year" => changes.term_end_year = v.check(field, year(term_end_year)),
                "min_candidates" => changes.min_candidates = v.check(field, count(min_candidates)),
                "max_candidates" => changes.max_candidates = v.check(field, count(max_candidates)),
                _ => {}
            }
        }
        v.into_result(|| Some(Self { name: pool_name?, etag, changes }))
    }
}

/// A checked GetSuccessionPool request.
#[derive(Debug, Clone, Copy)]
pub struct GetPool {
    /// The pool.
    pub name: SuccessionPoolName,
    /// The date of its count and candidates (today when not given).
    pub as_of: NaiveDate,
}

impl TryFrom<pb::GetSuccessionPoolRequest> for GetPool {
    type Error = Error;

    fn try_from(request: pb::GetSuccessionPoolRequest) -> Result<Self> {
        let pb::GetSuccessionPoolRequest { name, as_of } = request;
        let mut v = Violations::new();
        let name = v.check("name", SuccessionPoolName::parse(&name));
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).map(|d| d.unwrap_or_else(today));
        v.into_result(|| Some(Self { name: name?, as_of: as_of? }))
    }
}

/// A checked DeleteSuccessionPool request.
#[derive(Debug, Clone)]
pub struct DeletePool {
    /// The pool.
    pub name: SuccessionPoolName,
    /// The etag the caller read, if any.
    pub etag: String,
}

impl TryFrom<pb::DeleteSuccessionPoolRequest> for DeletePool {
    type Error = Error;

    fn try_from(request: pb::DeleteSuccessionPoolRequest) -> Result<Self> {
        let pb::DeleteSuccessionPoolRequest { name, etag } = request;
        let mut v = Violations::new();
        let name = v.check("name", SuccessionPoolName::parse(&name));
        v.into_result(|| Some(Self { name: name?, etag }))
    }
}

/// A checked ListSuccessionPools request.
#[derive(Debug, Clone)]
pub struct ListPools {
    /// Pools of units in this locality's subtree.
    pub locality: Code,
    /// The date of the tree and of the counts (today when not given).
    pub as_of: NaiveDate,
    /// The filter's conditions.
    pub conditions: Vec<PoolCondition>,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListSuccessionPoolsRequest> for ListPools {
    type Error = Error;

    fn try_from(request: pb::ListSuccessionPoolsRequest) -> Result<Self> {
        let pb::ListSuccessionPoolsRequest { locality, as_of, filter, page_size, page_token } = request;
        let mut v = Violations::new();
        let code = v.check("locality", Code::from_name(&locality));
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).map(|d| d.unwrap_or_else(today));
        let conditions = v.check("filter", parse_filter(&filter));
        let date = as_of.map(|d| d.to_string()).unwrap_or_default();
        let page = Page::parse(&mut v, page_size, &page_token, &["ListSuccessionPools", &locality, &date, &filter]);
        v.into_result(|| Some(Self { locality: code?, as_of: as_of?, conditions: conditions?, page: page? }))
    }
}

/// A checked AddCandidate request.
#[derive(Debug, Clone)]
pub struct AddCandidate {
    /// The pool.
    pub pool: SuccessionPoolName,
    /// The person added.
    pub person: PersonName,
    /// From this day.
    pub added_on: NaiveDate,
    /// Why, in NFC.
    pub reason: String,
}

impl TryFrom<pb::AddCandidateRequest> for AddCandidate {
    type Error = Error;

    fn try_from(request: pb::AddCandidateRequest) -> Result<Self> {
        let pb::AddCandidateRequest { succession_pool, candidate } = request;
        let mut v = Violations::new();
        let pool = v.check("succession_pool", SuccessionPoolName::parse(&succession_pool));
        let Some(candidate) = candidate else {
            v.add("candidate", "is required");
            return Err(v.into_error());
        };
        // What the service derives (compliance, name, removal) is ignored.
        let pb::Candidate {
            person,
            added_on,
            added_reason,
            removed_on: _,
            removed_reason: _,
            compliance: _,
            unmet: _,
            full_name: _,
        } = candidate;
        let person = v.check("candidate.person", PersonName::parse(&person));
        let added_on = v.check("candidate.added_on", date(added_on.as_ref()));
        let reason = v.check("candidate.added_reason", reason(&added_reason));
        v.into_result(|| Some(Self { pool: pool?, person: person?, added_on: added_on?, reason: reason? }))
    }
}

/// A checked RemoveCandidate request.
#[derive(Debug, Clone)]
pub struct RemoveCandidate {
    /// The pool.
    pub pool: SuccessionPoolName,
    /// The person removed.
    pub person: PersonName,
    /// From this day.
    pub removed_on: NaiveDate,
    /// Why, in NFC.
    pub reason: String,
}

impl TryFrom<pb::RemoveCandidateRequest> for RemoveCandidate {
    type Error = Error;

    fn try_from(request: pb::RemoveCandidateRequest) -> Result<Self> {
        let pb::RemoveCandidateRequest { succession_pool, person, removed_on, reason: why } = request;
        let mut v = Violations::new();
        let pool = v.check("succession_pool", SuccessionPoolName::parse(&succession_pool));
        let person = v.check("person", PersonName::parse(&person));
        let removed_on = v.check("removed_on", date(removed_on.as_ref()));
        let reason = v.check("reason", reason(&why));
        v.into_result(|| Some(Self { pool: pool?, person: person?, removed_on: removed_on?, reason: reason? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_bounds_and_term_start_year() {
        assert_eq!(parse_filter(""), Ok(vec![]));
        assert_eq!(parse_filter("bounds = BELOW_MINIMUM"), Ok(vec![PoolCondition::Bounds(true, Bounds::BelowMinimum)]));
        assert_eq!(
            parse_filter("bounds!=WITHIN AND term_start_year = 2025"),
            Ok(vec![PoolCondition::Bounds(false, Bounds::Within), PoolCondition::TermStartYear(2025)])
        );
        assert_eq!(
            parse_filter("bounds = POOL_BOUNDS_ABOVE_MAXIMUM"),
            Ok(vec![PoolCondition::Bounds(true, Bounds::AboveMaximum)])
        );
        assert!(parse_filter("bounds = LOW").is_err());
        assert!(parse_filter("unit = 3").is_err());
        assert!(parse_filter("term_start_year = x").is_err());
        assert!(parse_filter("term_start_year != 2025").is_err());
        assert!(parse_filter("bounds =").is_err());
        assert!(parse_filter("bounds = WITHIN AND").is_err());
    }

    #[test]
    fn a_create_request_reports_every_bad_field_at_once() {
        let request = pb::CreateSuccessionPoolRequest {
            succession_pool: Some(pb::SuccessionPool {
                unit: "localities/20".into(),
                post_title: " ".into(),
                term_start_year: 1949,
                term_end_year: 2030,
                min_candidates: -1,
                ..Default::default()
            }),
            request_id: "x".repeat(129),
        };
        let Err(Error::InvalidArgument(violations)) = CreatePool::try_from(request) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "request_id",
                "succession_pool.unit",
                "succession_pool.post_title",
                "succession_pool.term_start_year",
                "succession_pool.min_candidates"
            ]
        );
    }

    #[test]
    fn an_addition_needs_a_candidate_and_names_each_bad_field() {
        let missing = AddCandidate::try_from(pb::AddCandidateRequest { succession_pool: "x".into(), candidate: None });
        let Err(Error::InvalidArgument(violations)) = missing else { panic!("expected INVALID_ARGUMENT") };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["succession_pool", "candidate"]);
        let bad = pb::AddCandidateRequest {
            succession_pool: "successionPools/1".into(),
            candidate: Some(pb::Candidate {
                person: "people/0".into(),
                added_reason: "ư".repeat(501),
                ..Default::default()
            }),
        };
        let Err(Error::InvalidArgument(violations)) = AddCandidate::try_from(bad) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["candidate.person", "candidate.added_on", "candidate.added_reason"]);
    }
}
