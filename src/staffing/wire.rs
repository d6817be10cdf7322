//! StaffingService's messages to and from the feature's types. Each request is taken
//! apart field by field (no `..`), so a field added to the proto does not compile
//! until it is handled here.

use chrono::{Datelike, NaiveDate};

use super::rules::{HeadcountRow, NewQuota, QuotaRecord, Target, YEARS, quota, year};
use crate::{
    domain::date::today,
    edge::{
        Violations,
        etag::etag,
        names::{StaffingQuotaName, UnitName},
        page::Page,
        request::{optional_date, request_key, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    localities::rules::Code,
    people::rules::person::Category,
    uow::RequestKey,
};

/// The fields UpdateStaffingQuota may change.
pub const UPDATABLE: &[&str] = &["quota"];

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
        (false, true) => v.check(format!("{path}unit"), UnitName::parse(unit)).map(|u| Target::Unit(u.id())),
        (true, false) => v.check(format!("{path}locality"), Code::from_name(locality)).map(Target::Locality),
    }
}

impl From<&QuotaRecord> for pb::StaffingQuota {
    fn from(record: &QuotaRecord) -> Self {
        let (unit, locality) = match &record.target {
            Target::Unit(_) => (record.target.name(), String::new()),
            Target::Locality(_) => (String::new(), record.target.name()),
        };
        pb::StaffingQuota {
            name: record.name().to_string(),
            unit,
            locality,
            year: record.year,
            category: crate::edge::enums::Table::to_wire(record.category).into(),
            quota: record.quota,
            etag: etag(record.revision),
        }
    }
}

impl From<&HeadcountRow> for pb::HeadcountRow {
    fn from(row: &HeadcountRow) -> Self {
        pb::HeadcountRow {
            category: row.category.map_or(pb::PersonCategory::Unspecified, crate::edge::enums::Table::to_wire).into(),
            headcount: i32::try_from(row.headcount).unwrap_or(i32::MAX),
            quota: i32::try_from(row.quota).unwrap_or(i32::MAX),
            percent_of_quota: row.percent_of_quota,
        }
    }
}

/// A checked CreateStaffingQuota request.
#[derive(Debug, Clone)]
pub struct CreateQuota {
    /// The quota.
    pub new: NewQuota,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateStaffingQuotaRequest> for CreateQuota {
    type Error = Error;

    fn try_from(request: pb::CreateStaffingQuotaRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateStaffingQuotaRequest { staffing_quota, request_id: _ } = request;
        let Some(q) = staffing_quota else { return Err(Error::invalid("staffing_quota", "is required")) };
        // Output-only fields are ignored on create (AIP-133).
        let pb::StaffingQuota { name: _, unit, locality, year: y, category: c, quota: n, etag: _ } = q;
        let target = target(&mut v, "staffing_quota.", &unit, &locality);
        let year = v.check("staffing_quota.year", year(y));
        let category = v.check("staffing_quota.category", category(c));
        let number = v.check("staffing_quota.quota", quota(n));
        v.into_result(|| {
            Some(Self { new: NewQuota { target: target?, year: year?, category: category?, quota: number? }, key })
        })
    }
}

/// A checked UpdateStaffingQuota request.
#[derive(Debug, Clone)]
pub struct UpdateQuota {
    /// The quota.
    pub name: StaffingQuotaName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// Its new number of posts.
    pub quota: i32,
}

impl TryFrom<pb::UpdateStaffingQuotaRequest> for UpdateQuota {
    type Error = Error;

    fn try_from(request: pb::UpdateStaffingQuotaRequest) -> Result<Self> {
        let pb::UpdateStaffingQuotaRequest { staffing_quota, update_mask } = request;
        let Some(q) = staffing_quota else { return Err(Error::invalid("staffing_quota", "is required")) };
        // Only the number of posts changes; what a quota is for is fixed.
        let pb::StaffingQuota { name, unit: _, locality: _, year: _, category: _, quota: n, etag } = q;
        let mut v = Violations::new();
        let name = v.check("staffing_quota.name", StaffingQuotaName::parse(&name));
        let paths = update_paths(&mut v, update_mask.as_ref(), UPDATABLE);
        let number = if paths.is_empty() { None } else { v.check("staffing_quota.quota", quota(n)) };
        v.into_result(|| Some(Self { name: name?, etag, quota: number? }))
    }
}

/// A checked GetStaffingQuota or DeleteStaffingQuota request.
#[derive(Debug, Clone)]
pub struct QuotaRef {
    /// The quota.
    pub name: StaffingQuotaName,
    /// The etag the caller read, if any (delete only).
    pub etag: String,
}

impl TryFrom<pb::GetStaffingQuotaRequest> for QuotaRef {
    type Error = Error;

    fn try_from(request: pb::GetStaffingQuotaRequest) -> Result<Self> {
        let pb::GetStaffingQuotaRequest { name } = request;
        Self::try_from(pb::DeleteStaffingQuotaRequest { name, etag: String::new() })
    }
}

impl TryFrom<pb::DeleteStaffingQuotaRequest> for QuotaRef {
    type Error = Error;

    fn try_from(request: pb::DeleteStaffingQuotaRequest) -> Result<Self> {
        let pb::DeleteStaffingQuotaRequest { name, etag } = request;
        let mut v = Violations::new();
        let name = v.check("name", StaffingQuotaName::parse(&name));
        v.into_result(|| Some(Self { name: name?, etag }))
    }
}

/// A checked ListStaffingQuotas request.
#[derive(Debug, Clone)]
pub struct ListQuotas {
    /// The locality whose subtree's quotas are listed.
    pub locality: Code,
    /// Only this year's quotas.
    pub year: Option<i32>,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListStaffingQuotasRequest> for ListQuotas {
    type Error = Error;

    fn try_from(request: pb::ListStaffingQuotasRequest) -> Result<Self> {
        let pb::ListStaffingQuotasRequest { locality: name, year: y, page_size, page_token } = request;
        let mut v = Violations::new();
        let locality = v.check("locality", Code::from_name(&name));
        let year = if y == 0 { Some(None) } else { v.check("year", year(y)).map(Some) };
        let page = Page::parse(&mut v, page_size, &page_token, &["ListStaffingQuotas", &name, &y.to_string()]);
        if let Some(page) = &page {
            v.check("page_token", page.after_id());
        }
        v.into_result(|| Some(Self { locality: locality?, year: year?, page: page? }))
    }
}

/// A checked GetHeadcount request.
#[derive(Debug, Clone)]
pub struct GetHeadcount {
    /// The unit, or the locality whose subtree is counted.
    pub target: Target,
    /// The day counted.
    pub as_of: NaiveDate,
}

impl TryFrom<pb::GetHeadcountRequest> for GetHeadcount {
    type Error = Error;

    fn try_from(request: pb::GetHeadcountRequest) -> Result<Self> {
        let pb::GetHeadcountRequest { unit, locality, as_of } = request;
        let mut v = Violations::new();
        let target = target(&mut v, "", &unit, &locality);
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).flatten().unwrap_or_else(today);
        if !YEARS.contains(&as_of.year()) {
            v.add("as_of", format!("the year must be from {} to {}", YEARS.start(), YEARS.end()));
        }
        v.into_result(|| Some(Self { target: target?, as_of }))
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
    fn categories_are_checked() {
        assert!(category(0).is_err());
        assert!(category(42).is_err());
        for c in Category::ALL {
            assert_eq!(category(crate::edge::enums::Table::to_wire(*c).into()), Ok(*c));
        }
    }
}
