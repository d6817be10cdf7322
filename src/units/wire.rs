//! UnitService's messages to and from the feature's types. Each request is taken
//! apart field by field (no `..`), so a field added to the proto does not compile
//! until it is handled here.

use chrono::NaiveDate;

use super::rules::{Condition, Sector, Unit, UnitChanges, UnitFields, UnitKind, display_name, parse_code};
use crate::{
    domain::{date::today, locality::Code},
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        filter::{self, Field},
        names::UnitName,
        page::Page,
        request::{date, optional_date, request_key, timestamp, to_date, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    uow::RequestKey,
};

/// The fields UpdateUnit may change.
pub const UPDATABLE: &[&str] = &["display_name", "sector", "kind", "valid_from", "valid_until", "code"];

/// The filterable fields of ListUnits.
const FILTER: &[Field<Condition>] = &[
    Field::value("sector", |equal, v| Ok(Condition::Sector { equal, sector: Sector::from_filter(v)? })),
    Field::value("kind", |equal, v| Ok(Condition::Kind { equal, kind: UnitKind::from_filter(v)? })),
    Field::value("code", |equal, v| match parse_code(v)? {
        Some(code) => Ok(Condition::Code { equal, code }),
        None => Err("`code` needs a value: `code = \"DB-03334\"`".to_owned()),
    }),
];

/// Parses a ListUnits filter.
pub fn parse_filter(text: &str) -> Result<Vec<Condition>, String> {
    filter::parse(text, FILTER)
}

impl From<&Unit> for pb::Unit {
    fn from(unit: &Unit) -> Self {
        pb::Unit {
            name: unit.name.to_string(),
            display_name: unit.display_name.clone(),
            locality: unit.locality.name(),
            sector: unit.sector.wire(),
            kind: unit.kind.wire(),
            valid_from: Some(to_date(unit.valid_from)),
            valid_until: unit.valid_until.map(to_date),
            etag: etag(unit.revision),
            create_time: Some(timestamp(unit.create_time)),
            update_time: Some(timestamp(unit.update_time)),
            code: unit.code.clone().unwrap_or_default(),
        }
    }
}

/// A checked CreateUnit request.
#[derive(Debug, Clone)]
pub struct CreateUnit {
    /// The unit's locality.
    pub locality: Code,
    /// Its fields.
    pub fields: UnitFields,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateUnitRequest> for CreateUnit {
    type Error = Error;

    fn try_from(request: pb::CreateUnitRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateUnitRequest { unit, request_id: _ } = request;
        let Some(unit) = unit else {
            v.add("unit", "is required");
            return Err(v.into_error());
        };
        // Output-only fields are ignored on create (AIP-133).
        let pb::Unit {
            name: _,
            display_name: name,
            locality,
            sector,
            kind,
            valid_from,
            valid_until,
            etag: _,
            create_time: _,
            update_time: _,
            code,
        } = unit;
        let display_name = v.check("unit.display_name", display_name(&name));
        let locality = v.check("unit.locality", Code::from_name(&locality));
        let sector = v.check("unit.sector", Sector::required(sector));
        let kind = v.check("unit.kind", UnitKind::required(kind));
        let valid_from = v.check("unit.valid_from", date(valid_from.as_ref()));
        let valid_until = v.check("unit.valid_until", optional_date(valid_until.as_ref()));
        let code = v.check("unit.code", parse_code(&code));
        if let (Some(from), Some(Some(until))) = (valid_from, valid_until)
            && until <= from
        {
            v.add("unit.valid_until", "must be after valid_from");
        }
        v.into_result(|| {
            Some(Self {
                locality: locality?,
                fields: UnitFields {
                    display_name: display_name?,
                    sector: sector?,
                    kind: kind?,
                    valid_from: valid_from?,
                    valid_until: valid_until?,
                    code: code?,
                },
                key,
            })
        })
    }
}

/// A checked UpdateUnit request.
#[derive(Debug, Clone)]
pub struct UpdateUnit {
    /// The unit.
    pub name: UnitName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes.
    pub changes: UnitChanges,
}

impl TryFrom<pb::UpdateUnitRequest> for UpdateUnit {
    type Error = Error;

    fn try_from(request: pb::UpdateUnitRequest) -> Result<Self> {
        let pb::UpdateUnitRequest { unit, update_mask } = request;
        let Some(unit) = unit else { return Err(Error::invalid("unit", "is required")) };
        let pb::Unit {
            name,
            display_name: new_name,
            locality: _,
            sector,
            kind,
            valid_from,
            valid_until,
            etag,
            create_time: _,
            update_time: _,
            code,
        } = unit;
        let mut v = Violations::new();
        let unit_name = v.check("unit.name", UnitName::parse(&name));
        let mut changes = UnitChanges::default();
        for path in update_paths(&mut v, update_mask.as_ref(), UPDATABLE) {
            match path.as_str() {
                "display_name" => changes.display_name = v.check("unit.display_name", display_name(&new_name)),
                "sector" => changes.sector = v.check("unit.sector", Sector::required(sector)),
                "kind" => changes.kind = v.check("unit.kind", UnitKind::required(kind)),
                "valid_from" => changes.valid_from = v.check("unit.valid_from", date(valid_from.as_ref())),
                "valid_until" => {
                    changes.valid_until = v.check("unit.valid_until", optional_date(valid_until.as_ref()));
                }
                "code" => changes.code = v.check("unit.code", parse_code(&code)),
                _ => {}
            }
        }
        if let (Some(from), Some(Some(until))) = (changes.valid_from, changes.valid_until)
            && until <= from
        {
            v.add("unit.valid_until", "must be after valid_from");
        }
        v.into_result(|| Some(Self { name: unit_name?, etag, changes }))
    }
}

/// A checked GetUnit request.
#[derive(Debug, Clone, Copy)]
pub struct GetUnit {
    /// The unit.
    pub name: UnitName,
}

impl TryFrom<pb::GetUnitRequest> for GetUnit {
    type Error = Error;

    fn try_from(request: pb::GetUnitRequest) -> Result<Self> {
        let pb::GetUnitRequest { name } = request;
        let mut v = Violations::new();
        let name = v.check("name", UnitName::parse(&name));
        v.into_result(|| Some(Self { name: name? }))
    }
}

/// A checked DeleteUnit request.
#[derive(Debug, Clone)]
pub struct DeleteUnit {
    /// The unit.
    pub name: UnitName,
    /// The etag the caller read, if any.
    pub etag: String,
}

impl TryFrom<pb::DeleteUnitRequest> for DeleteUnit {
    type Error = Error;

    fn try_from(request: pb::DeleteUnitRequest) -> Result<Self> {
        let pb::DeleteUnitRequest { name, etag } = request;
        let mut v = Violations::new();
        let name = v.check("name", UnitName::parse(&name));
        v.into_result(|| Some(Self { name: name?, etag }))
    }
}

/// A checked ListUnits request.
#[derive(Debug, Clone)]
pub struct ListUnits {
    /// The locality whose subtree is listed.
    pub locality: Code,
    /// The date of the tree and of the units' existence.
    pub as_of: NaiveDate,
    /// The filter's conditions.
    pub conditions: Vec<Condition>,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListUnitsRequest> for ListUnits {
    type Error = Error;

    fn try_from(request: pb::ListUnitsRequest) -> Result<Self> {
        let pb::ListUnitsRequest { locality, as_of, page_size, page_token, filter } = request;
        let mut v = Violations::new();
        let code = v.check("locality", Code::from_name(&locality));
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).map(|d| d.unwrap_or_else(today));
        let conditions = v.check("filter", parse_filter(&filter));
        let date = as_of.map(|d| d.to_string()).unwrap_or_default();
        let page = Page::parse(&mut v, page_size, &page_token, &["ListUnits", &locality, &date, &filter]);
        v.into_result(|| Some(Self { locality: code?, as_of: as_of?, conditions: conditions?, page: page? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_the_proto_names_without_their_prefix() {
        for s in Sector::ALL {
            let proto = s.to_wire().as_str_name();
            assert_eq!(parse_filter(&format!("sector = {proto}")).map(|c| c.len()), Ok(1), "{proto}");
        }
        for k in UnitKind::ALL {
            let proto = k.to_wire().as_str_name();
            assert_eq!(parse_filter(&format!("kind != {proto}")).map(|c| c.len()), Ok(1), "{proto}");
        }
        assert!(parse_filter("sector = ARMY").is_err());
        assert_eq!(
            parse_filter(r#"code = "ub-1""#),
            Ok(vec![Condition::Code { equal: true, code: "ub-1".to_owned() }])
        );
    }

    #[test]
    fn unit_filters_compare_sector_and_kind() {
        assert_eq!(
            parse_filter("sector = health AND kind != UNIT_KIND_SCHOOL"),
            Ok(vec![
                Condition::Sector { equal: true, sector: Sector::Health },
                Condition::Kind { equal: false, kind: UnitKind::School }
            ])
        );
        assert_eq!(
            parse_filter(r#"NOT sector = "SECTOR_EDUCATION""#),
            Ok(vec![Condition::Sector { equal: false, sector: Sector::Education }])
        );
        assert_eq!(parse_filter(" "), Ok(vec![]));
        assert_eq!(
            parse_filter(r#"code = "db-03334""#),
            Ok(vec![Condition::Code { equal: true, code: "db-03334".to_owned() }])
        );
        assert!(parse_filter("code = \"a b\"").is_err());
    }

    #[test]
    fn unit_filters_reject_unknown_fields_values_and_operators() {
        assert!(parse_filter("tier = COMMUNE").is_err());
        assert!(parse_filter("sector = ARMY").is_err());
        assert!(parse_filter("kind:school").is_err());
        assert!(parse_filter("sector").is_err());
    }

    #[test]
    fn a_create_request_reports_every_bad_field_at_once() {
        let request = pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: " ".into(),
                locality: "localities/1".into(),
                valid_from: Some(pb::Date { year: 2024, month: 2, day: 30 }),
                code: "a b".into(),
                ..Default::default()
            }),
            request_id: "bad id".into(),
        };
        let Err(Error::InvalidArgument(violations)) = CreateUnit::try_from(request) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "request_id",
                "unit.display_name",
                "unit.locality",
                "unit.sector",
                "unit.kind",
                "unit.valid_from",
                "unit.code"
            ]
        );
    }
}
