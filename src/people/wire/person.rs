//! The requests about people: create, get, update, delete, lookup, search and export.

use chrono::NaiveDate;

use super::{IdentifiedRecord, record_in};
use crate::{
    domain::{date::today, locality::Code, text::normalize_name},
    edge::{
        Violations,
        enums::Table as _,
        filter::{self, Field},
        names::PersonName,
        page::Page,
        request::{date, optional_date, request_key, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    localities::wire::optional_locality,
    people::{
        queries::{PeopleCondition, StatusFilter},
        rules::{
            identity::{Identity, PersonalId, StaffCode},
            person::{Category, EmploymentEnd, Gender, PersonFields},
        },
    },
    uow::RequestKey,
};

/// A checked CreatePerson request.
#[derive(Debug, Clone)]
pub struct CreatePerson {
    /// The person with their records.
    pub record: IdentifiedRecord,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreatePersonRequest> for CreatePerson {
    type Error = Error;

    fn try_from(request: pb::CreatePersonRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreatePersonRequest { record, request_id: _ } = request;
        let record = match record {
            Some(r) => record_in(&mut v, r, "record", today()),
            None => {
                v.add("record", "is required");
                None
            }
        };
        v.into_result(|| Some(Self { record: record?, key }))
    }
}

/// A checked GetPerson request.
#[derive(Debug, Clone, Copy)]
pub struct GetPerson {
    /// The person.
    pub name: PersonName,
    /// The date of the status and the current placement.
    pub as_of: NaiveDate,
}

impl TryFrom<pb::GetPersonRequest> for GetPerson {
    type Error = Error;

    fn try_from(request: pb::GetPersonRequest) -> Result<Self> {
        let pb::GetPersonRequest { name, as_of } = request;
        let mut v = Violations::new();
        let name = v.check("name", PersonName::parse(&name));
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).map(|d| d.unwrap_or_else(today));
        v.into_result(|| Some(Self { name: name?, as_of: as_of? }))
    }
}

/// The fields UpdatePerson may change.
pub const UPDATABLE: &[&str] = &[
    "full_name",
    "birth_date",
    "gender",
    "ethnicity",
    "category",
    "employed_from",
    "employed_until",
    "end_reason",
    "personal_id",
    "staff_code",
];

/// What an UpdatePerson request changes: each field the mask names, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonPatch {
    /// A new full name.
    pub full_name: Option<String>,
    /// A new birth date.
    pub birth_date: Option<NaiveDate>,
    /// A new gender.
    pub gender: Option<Gender>,
    /// A new ethnicity.
    pub ethnicity: Option<String>,
    /// A new category.
    pub category: Option<Category>,
    /// A new start of employment.
    pub employed_from: Option<NaiveDate>,
    /// A new end of employment (`Some(None)` clears it).
    pub employed_until: Option<Option<NaiveDate>>,
    /// A new end reason (`Some(None)` clears it).
    pub end_reason: Option<Option<EmploymentEnd>>,
    /// A new personal identification number (`Some(None)` clears it).
    pub personal_id: Option<Option<PersonalId>>,
    /// A new staff code (`Some(None)` clears it).
    pub staff_code: Option<Option<StaffCode>>,
}

impl PersonPatch {
    /// The fields and identifiers after the patch.
    pub fn apply(&self, fields: &PersonFields, identity: &Identity) -> (PersonFields, Identity) {
        let p = self.clone();
        (
            PersonFields {
                full_name: p.full_name.unwrap_or_else(|| fields.full_name.clone()),
                birth_date: p.birth_date.unwrap_or(fields.birth_date),
                gender: p.gender.unwrap_or(fields.gender),
                ethnicity: p.ethnicity.unwrap_or_else(|| fields.ethnicity.clone()),
                category: p.category.unwrap_or(fields.category),
                employed_from: p.employed_from.unwrap_or(fields.employed_from),
                employed_until: p.employed_until.unwrap_or(fields.employed_until),
                end_reason: p.end_reason.unwrap_or(fields.end_reason),
            },
            Identity {
                personal_id: p.personal_id.unwrap_or_else(|| identity.personal_id.clone()),
                staff_code: p.staff_code.unwrap_or_else(|| identity.staff_code.clone()),
            },
        )
    }
}

/// A checked UpdatePerson request.
#[derive(Debug, Clone)]
pub struct UpdatePerson {
    /// The person.
    pub name: PersonName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes.
    pub patch: PersonPatch,
}

impl TryFrom<pb::UpdatePersonRequest> for UpdatePerson {
    type Error = Error;

    fn try_from(request: pb::UpdatePersonRequest) -> Result<Self> {
        let pb::UpdatePersonRequest { person, update_mask } = request;
        let Some(person) = person else { return Err(Error::invalid("person", "is required")) };
        let pb::Person {
            name,
            full_name,
            birth_date,
            gender,
            ethnicity,
            ethnic_minority: _,
            category,
            employed_from,
            employed_until,
            end_reason,
            status: _,
            placement: _,
            as_of: _,
            etag,
            create_time: _,
            update_time: _,
            personal_id,
            staff_code,
        } = person;
        let mut v = Violations::new();
        let person_name = v.check("person.name", PersonName::parse(&name));
        let mut patch = PersonPatch::default();
        for path in update_paths(&mut v, update_mask.as_ref(), UPDATABLE) {
            match path.as_str() {
                "full_name" => patch.full_name = Some(normalize_name(&full_name)),
                "birth_date" => patch.birth_date = v.check("person.birth_date", date(birth_date.as_ref())),
                "gender" => patch.gender = v.check("person.gender", Gender::required(gender)),
                "ethnicity" => patch.ethnicity = Some(normalize_name(&ethnicity)),
                "category" => patch.category = v.check("person.category", Category::required(category)),
                "employed_from" => {
                    patch.employed_from = v.check("person.employed_from", date(employed_from.as_ref()));
                }
                "employed_until" => {
                    patch.employed_until = v.check("person.employed_until", optional_date(employed_until.as_ref()));
                }
                "end_reason" => patch.end_reason = v.check("person.end_reason", EmploymentEnd::optional(end_reason)),
                "personal_id" => patch.personal_id = v.check("person.personal_id", super::personal_id(&personal_id)),
                "staff_code" => patch.staff_code = v.check("person.staff_code", super::staff_code(&staff_code)),
                _ => {}
            }
        }
        v.into_result(|| Some(Self { name: person_name?, etag, patch }))
    }
}

/// A checked DeletePerson request.
#[derive(Debug, Clone)]
pub struct DeletePerson {
    /// The person.
    pub name: PersonName,
    /// The etag the caller read, if any.
    pub etag: String,
}

impl TryFrom<pb::DeletePersonRequest> for DeletePerson {
    type Error = Error;

    fn try_from(request: pb::DeletePersonRequest) -> Result<Self> {
        let pb::DeletePersonRequest { name, etag } = request;
        let mut v = Violations::new();
        let name = v.check("name", PersonName::parse(&name));
        v.into_result(|| Some(Self { name: name?, etag }))
    }
}

/// A checked LookupPerson request.
#[derive(Debug, Clone)]
pub struct LookupPerson {
    /// The identifier looked up (one of its two fields).
    pub identity: Identity,
    /// Its field's name, for messages.
    pub what: &'static str,
    /// The date of the status and the current placement.
    pub as_of: NaiveDate,
}

impl TryFrom<pb::LookupPersonRequest> for LookupPerson {
    type Error = Error;

    fn try_from(request: pb::LookupPersonRequest) -> Result<Self> {
        use pb::lookup_person_request::Identifier;
        let pb::LookupPersonRequest { identifier, as_of } = request;
        let mut v = Violations::new();
        let as_of = v.check("as_of", optional_date(as_of.as_ref())).map(|d| d.unwrap_or_else(today));
        let (identity, what) = match identifier {
            Some(Identifier::PersonalId(number)) => (
                Identity { personal_id: v.check("personal_id", PersonalId::parse(&number)), staff_code: None },
                "personal_id",
            ),
            Some(Identifier::StaffCode(code)) => (
                Identity { personal_id: None, staff_code: v.check("staff_code", StaffCode::parse(&code)) },
                "staff_code",
            ),
            None => {
                v.add("identifier", "is required: set personal_id or staff_code");
                (Identity::NONE, "identifier")
            }
        };
        v.into_result(|| Some(Self { identity, what, as_of: as_of? }))
    }
}

/// The filterable fields of SearchPeople and ExportPeople.
const FILTER: &[Field<PeopleCondition>] = &[
    Field::value("category", |equal, v| Ok(PeopleCondition::Category(equal, Category::from_filter(v)?))),
    Field::value("status", |equal, v| {
        let upper = v.to_uppercase();
        let short = upper.strip_prefix("EMPLOYMENT_STATUS_").unwrap_or(&upper).to_lowercase();
        let status = match short.as_str() {
            "active" => StatusFilter::Active,
            "not_yet_employed" => StatusFilter::NotYetEmployed,
            other => EmploymentEnd::from_stored(other)
                .map(StatusFilter::Ended)
                .ok_or_else(|| format!("unknown status {}", crate::error::quote(v)))?,
        };
        Ok(PeopleCondition::Status(equal, status))
    }),
    Field::value("leader", |equal, v| match v.to_uppercase().as_str() {
        "TRUE" => Ok(PeopleCondition::Leader(equal)),
        "FALSE" => Ok(PeopleCondition::Leader(!equal)),
        _ => Err(format!("`leader` is compared with true or false, not {}", crate::error::quote(v))),
    }),
    Field::value("personal_id", |equal, v| {
        if !equal {
            return Err("`personal_id` is compared with `=` only: it matches one person exactly".to_owned());
        }
        PersonalId::parse(&v.to_uppercase())
            .map(PeopleCondition::PersonalId)
            .map_err(|e| format!("the personal_id {} {e}", crate::error::quote(v)))
    }),
    Field::value("staff_code", |equal, v| {
        if !equal {
            return Err("`staff_code` is compared with `=` only: it matches one person exactly".to_owned());
        }
        StaffCode::parse(&v.to_uppercase())
            .map(PeopleCondition::StaffCode)
            .map_err(|e| format!("the staff_code {} {e}", crate::error::quote(v)))
    }),
];

/// Parses a people filter.
pub fn parse_filter(text: &str) -> Result<Vec<PeopleCondition>, String> {
    filter::parse(text, FILTER)
}

/// Parses `name` or `full_name`, each optionally followed by `asc` or `desc`: (by
/// name, descending).
pub fn parse_order(order_by: &str) -> Result<(bool, bool), String> {
    filter::order(order_by, &[("name", false), ("full_name", true)], false)
}

/// What a search or an export selects (the caller's scope is added by the use case).
#[derive(Debug, Clone)]
pub struct Selection {
    /// Only people placed in this locality's subtree.
    pub locality: Option<Code>,
    /// The date.
    pub as_of: NaiveDate,
    /// The words of the name, as given.
    pub words: String,
    /// The filter's conditions.
    pub conditions: Vec<PeopleCondition>,
}

fn selection(
    v: &mut Violations,
    locality: &str,
    as_of: Option<&pb::Date>,
    words: String,
    filter: &str,
) -> Option<Selection> {
    let locality = v.check("locality", optional_locality(locality));
    let as_of = v.check("as_of", optional_date(as_of)).map(|d| d.unwrap_or_else(today));
    let conditions = v.check("filter", parse_filter(filter));
    if words.chars().count() > 200 {
        v.add("query", "is longer than 200 characters");
    }
    Some(Selection { locality: locality?, as_of: as_of?, words, conditions: conditions? })
}

/// A checked SearchPeople request.
#[derive(Debug, Clone)]
pub struct SearchPeople {
    /// Who is selected.
    pub selection: Selection,
    /// Ordered by name (else by id).
    pub by_name: bool,
    /// In descending order.
    pub descending: bool,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::SearchPeopleRequest> for SearchPeople {
    type Error = Error;

    fn try_from(request: pb::SearchPeopleRequest) -> Result<Self> {
        let pb::SearchPeopleRequest { locality, as_of, query, filter, page_size, page_token, order_by } = request;
        let mut v = Violations::new();
        let order = v.check("order_by", parse_order(&order_by));
        let date = as_of.as_ref().map(|d| format!("{}-{}-{}", d.year, d.month, d.day)).unwrap_or_default();
        let page = Page::parse(
            &mut v,
            page_size,
            &page_token,
            &["SearchPeople", &locality, &date, &query, &filter, &order_by],
        );
        let selection = selection(&mut v, &locality, as_of.as_ref(), query, &filter);
        v.into_result(|| {
            let (by_name, descending) = order?;
            Some(Self { selection: selection?, by_name, descending, page: page? })
        })
    }
}

/// A checked ExportPeople request.
#[derive(Debug, Clone)]
pub struct ExportPeople {
    /// Who is exported.
    pub selection: Selection,
}

impl TryFrom<pb::ExportPeopleRequest> for ExportPeople {
    type Error = Error;

    fn try_from(request: pb::ExportPeopleRequest) -> Result<Self> {
        let pb::ExportPeopleRequest { locality, as_of, query, filter } = request;
        let mut v = Violations::new();
        let selection = selection(&mut v, &locality, as_of.as_ref(), query, &filter);
        v.into_result(|| Some(Self { selection: selection? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_filters_parse() {
        assert_eq!(
            parse_filter("category = CIVIL_SERVANT AND status = ACTIVE AND leader = true"),
            Ok(vec![
                PeopleCondition::Category(true, Category::CivilServant),
                PeopleCondition::Status(true, StatusFilter::Active),
                PeopleCondition::Leader(true),
            ])
        );
        assert_eq!(
            parse_filter("status != EMPLOYMENT_STATUS_RETIRED"),
            Ok(vec![PeopleCondition::Status(false, StatusFilter::Ended(EmploymentEnd::Retired))])
        );
        assert!(parse_filter("age > 3").is_err());
        assert!(parse_filter("category = MONK").is_err());
        assert!(parse_filter("personal_id != 001089000001").is_err());
    }

    #[test]
    fn people_are_ordered_by_id_or_name_either_way() {
        assert_eq!(parse_order(""), Ok((false, false)));
        assert_eq!(parse_order("full_name desc"), Ok((true, true)));
        assert!(parse_order("age").is_err());
    }

    #[test]
    fn an_update_takes_only_the_masked_fields() {
        let request = pb::UpdatePersonRequest {
            person: Some(pb::Person {
                name: "people/4".into(),
                full_name: " Lò  Văn Pấng ".into(),
                gender: 99,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["full_name".into()] }),
        };
        let update = UpdatePerson::try_from(request).expect("a valid update");
        assert_eq!(update.name, PersonName(4));
        assert_eq!(update.patch, PersonPatch { full_name: Some("Lò Văn Pấng".into()), ..Default::default() });
        let bad = pb::UpdatePersonRequest {
            person: Some(pb::Person { name: "people/4".into(), gender: 99, ..Default::default() }),
            update_mask: Some(prost_types::FieldMask { paths: vec!["gender".into(), "age".into()] }),
        };
        let Err(Error::InvalidArgument(violations)) = UpdatePerson::try_from(bad) else {
            panic!("expected violations")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["update_mask", "person.gender"]);
    }
}
