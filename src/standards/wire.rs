//! StandardService's messages to and from the feature's types. Each request is taken
//! apart field by field (no `..`), so a field added to the proto does not compile
//! until it is handled here.

use chrono::NaiveDate;

use super::{
    compliance::{Compliance, ComplianceStatus, PlacementRecord},
    rules::{
        self, Applicability, Leadership, LevelRef, StandardChanges, StandardRecord, StandardSpec, check_minimums,
        check_period,
    },
};
use crate::{
    domain::date::today,
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        names::{PersonName, StandardName},
        page::Page,
        request::{date, optional_date, request_key, timestamp, to_date, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    localities::rules::Tier,
    people::rules::person::Category,
    uow::RequestKey,
};

/// The fields an update mask may name.
pub const UPDATABLE: &[&str] = &[
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
    value.map_or(pb::PersonCategory::Unspecified, crate::edge::enums::Table::to_wire)
}

fn tier_wire(value: Option<Tier>) -> i32 {
    value.map_or(pb::LocalityTier::Unspecified.into(), Tier::wire)
}

/// The minimum levels of a request, each checked for its form; `None` if any is bad.
/// When all are well formed, the list is checked as a whole too (not empty, one per
/// scale). Whether the levels exist is checked in the transaction.
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

impl From<&StandardRecord> for pb::Standard {
    fn from(record: &StandardRecord) -> Self {
        let spec = &record.spec;
        let a = &spec.applies_to;
        pb::Standard {
            name: record.name().to_string(),
            display_name: spec.display_name.clone(),
            tier: tier_wire(a.tier),
            category: category_to_pb(a.category).into(),
            leadership: a.leadership.map_or(pb::Leadership::Unspecified.into(), Leadership::wire),
            post_title: a.post_title.clone().unwrap_or_default(),
            effective_from: Some(to_date(spec.effective_from)),
            effective_until: spec.effective_until.map(to_date),
            minimum_levels: spec.minimums.iter().map(LevelRef::name).collect(),
            legal_basis: spec.legal_basis.clone(),
            etag: etag(record.revision),
            create_time: Some(timestamp(record.create_time)),
            update_time: Some(timestamp(record.update_time)),
        }
    }
}

impl From<&PlacementRecord> for pb::Placement {
    fn from(record: &PlacementRecord) -> Self {
        pb::Placement {
            name: format!("people/{}/placements/{}", record.person_id, record.id),
            unit: format!("units/{}", record.unit_id),
            post_title: record.post_title.clone(),
            leader: record.leader,
            key_post: record.key_post,
            valid_from: Some(to_date(record.valid_from)),
            valid_until: record.valid_until.map(to_date),
            locality: record.locality.name(),
            tier: record.tier.wire(),
            etag: etag(record.revision),
        }
    }
}

/// The wire form of a person's compliance on a date.
pub fn compliance_to_pb(person: PersonName, as_of: NaiveDate, answer: &Compliance) -> pb::GetPersonComplianceResponse {
    let status = match answer.status {
        ComplianceStatus::Compliant => pb::ComplianceStatus::Compliant,
        ComplianceStatus::NotCompliant => pb::ComplianceStatus::NotCompliant,
        ComplianceStatus::NoStandard => pb::ComplianceStatus::NoStandard,
        ComplianceStatus::NotPlaced => pb::ComplianceStatus::NotPlaced,
    };
    pb::GetPersonComplianceResponse {
        person: person.to_string(),
        as_of: Some(to_date(as_of)),
        status: status.into(),
        placement: answer.placement.as_ref().map(Into::into),
        standard: answer.standard_id.map(|id| StandardName(id).to_string()).unwrap_or_default(),
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

/// A checked CreateStandard request.
#[derive(Debug, Clone)]
pub struct CreateStandard {
    /// The standard.
    pub spec: StandardSpec,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateStandardRequest> for CreateStandard {
    type Error = Error;

    fn try_from(request: pb::CreateStandardRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateStandardRequest { standard, request_id: _ } = request;
        let Some(standard) = standard else {
            v.add("standard", "is required");
            return Err(v.into_error());
        };
        // Output-only fields are ignored on create (AIP-133).
        let pb::Standard {
            name: _,
            display_name,
            tier,
            category,
            leadership,
            post_title,
            effective_from,
            effective_until,
            minimum_levels: minimums,
            legal_basis,
            etag: _,
            create_time: _,
            update_time: _,
        } = standard;
        let display_name = v.check("standard.display_name", rules::display_name(&display_name));
        let tier = v.check("standard.tier", Tier::optional(tier));
        let category = v.check("standard.category", optional_category(category));
        let leadership = v.check("standard.leadership", Leadership::optional(leadership));
        let post_title = v.check("standard.post_title", rules::post_title(&post_title));
        let effective_from = v.check("standard.effective_from", date(effective_from.as_ref()));
        let effective_until = v.check("standard.effective_until", optional_date(effective_until.as_ref()));
        if let (Some(from), Some(until)) = (effective_from, effective_until) {
            v.extend(check_period(from, until, "standard"));
        }
        let minimums = minimum_levels(&mut v, &minimums);
        let legal_basis = v.check("standard.legal_basis", rules::legal_basis(&legal_basis));
        v.into_result(|| {
            let spec = StandardSpec {
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
            };
            Some(Self { spec, key })
        })
    }
}

/// A checked UpdateStandard request.
#[derive(Debug, Clone)]
pub struct UpdateStandard {
    /// The standard.
    pub name: StandardName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes; the rules between fields are checked on the updated standard.
    pub changes: StandardChanges,
}

impl TryFrom<pb::UpdateStandardRequest> for UpdateStandard {
    type Error = Error;

    fn try_from(request: pb::UpdateStandardRequest) -> Result<Self> {
        let pb::UpdateStandardRequest { standard, update_mask } = request;
        let mut v = Violations::new();
        let Some(standard) = standard else {
            v.add("standard", "is required");
            return Err(v.into_error());
        };
        let pb::Standard {
            name,
            display_name,
            tier,
            category,
            leadership,
            post_title,
            effective_from,
            effective_until,
            minimum_levels: minimums,
            legal_basis,
            etag,
            create_time: _,
            update_time: _,
        } = standard;
        let standard_name = v.check("standard.name", StandardName::parse(&name));
        let mut changes = StandardChanges::default();
        for path in update_paths(&mut v, update_mask.as_ref(), UPDATABLE) {
            match path.as_str() {
                "display_name" => {
                    changes.display_name = v.check("standard.display_name", rules::display_name(&display_name));
                }
                "tier" => changes.tier = v.check("standard.tier", Tier::optional(tier)),
                "category" => changes.category = v.check("standard.category", optional_category(category)),
                "leadership" => changes.leadership = v.check("standard.leadership", Leadership::optional(leadership)),
                "post_title" => changes.post_title = v.check("standard.post_title", rules::post_title(&post_title)),
                "effective_from" => {
                    changes.effective_from = v.check("standard.effective_from", date(effective_from.as_ref()));
                }
                "effective_until" => {
                    changes.effective_until =
                        v.check("standard.effective_until", optional_date(effective_until.as_ref()));
                }
                "minimum_levels" => changes.minimums = minimum_levels(&mut v, &minimums),
                "legal_basis" => {
                    changes.legal_basis = v.check("standard.legal_basis", rules::legal_basis(&legal_basis))
                }
                other => v.add("update_mask", format!("{} cannot be updated", crate::error::quote(other))),
            }
        }
        v.into_result(|| Some(Self { name: standard_name?, etag, changes }))
    }
}

/// A checked GetStandard or DeleteStandard request.
#[derive(Debug, Clone)]
pub struct StandardRef {
    /// The standard.
    pub name: StandardName,
    /// The etag the caller read, if any (delete only).
    pub etag: String,
}

impl TryFrom<pb::GetStandardRequest> for StandardRef {
    type Error = Error;

    fn try_from(request: pb::GetStandardRequest) -> Result<Self> {
        let pb::GetStandardRequest { name } = request;
        Self::try_from(pb::DeleteStandardRequest { name, etag: String::new() })
    }
}

impl TryFrom<pb::DeleteStandardRequest> for StandardRef {
    type Error = Error;

    fn try_from(request: pb::DeleteStandardRequest) -> Result<Self> {
        let pb::DeleteStandardRequest { name, etag } = request;
        let mut v = Violations::new();
        let name = v.check("name", StandardName::parse(&name));
        v.into_result(|| Some(Self { name: name?, etag }))
    }
}

/// A checked ListStandards request.
#[derive(Debug, Clone)]
pub struct ListStandards {
    /// Only the standards in force that day.
    pub in_force_on: Option<NaiveDate>,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListStandardsRequest> for ListStandards {
    type Error = Error;

    fn try_from(request: pb::ListStandardsRequest) -> Result<Self> {
        let pb::ListStandardsRequest { in_force_on, page_size, page_token } = request;
        let mut v = Violations::new();
        let in_force_on = v.check("in_force_on", optional_date(in_force_on.as_ref())).flatten();
        let day = in_force_on.map(|d| d.to_string()).unwrap_or_default();
        let page = Page::parse(&mut v, page_size, &page_token, &[&day]);
        if let Some(page) = &page {
            v.check("page_token", page.after_id());
        }
        v.into_result(|| Some(Self { in_force_on, page: page? }))
    }
}

/// A checked GetPersonCompliance request.
#[derive(Debug, Clone, Copy)]
pub struct GetCompliance {
    /// The person.
    pub person: PersonName,
    /// The day.
    pub as_of: NaiveDate,
}

impl TryFrom<pb::GetPersonComplianceRequest> for GetCompliance {
    type Error = Error;

    fn try_from(request: pb::GetPersonComplianceRequest) -> Result<Self> {
        let pb::GetPersonComplianceRequest { person, as_of } = request;
        let mut v = Violations::new();
        let person = v.check("person", PersonName::parse(&person));
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).flatten().unwrap_or_else(today);
        v.into_result(|| Some(Self { person: person?, as_of }))
    }
}
