//! PersonService's messages to and from the feature's types.
//!
//! Every message read is taken apart field by field (no `..`), so that a field added
//! to the proto does not compile until it is handled here: e.g. a new field of
//! `pb::Placement` breaks [`placement_in`], which has to say whether it is input or
//! output only.
//!
//! - this module: the records' fields in, and the records out;
//! - [`person`]: the requests about people (create, get, update, delete, lookup,
//!   search, export);
//! - [`records`]: the requests about placements, qualifications, evaluations and
//!   disciplinary decisions;
//! - [`import`]: the messages of an ImportPeople stream.

pub mod import;
pub mod person;
pub mod records;

use chrono::NaiveDate;

use super::{
    queries::{DisciplineRow, EvaluationRow, NewRecord, PersonRow, PlacementRow, QualificationRow},
    rules::{
        identity::{Identity, PersonalId, StaffCode},
        person::{
            Category, EmploymentEnd, Gender, MAX_DECISION_NUMBER, MAX_REASON, PersonFields, PlacementFields,
            QualificationFields, Rating, Status as EmploymentState, check_evaluation_year, check_no_overlap,
            check_person, check_placement, check_qualification, is_minority, status_on,
        },
    },
};
use crate::{
    domain::{date::period_contains, text::normalize_name},
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        names::{DisciplineName, PersonName, PlacementName, QualificationName, UnitName},
        request::{date, optional_date, timestamp, to_date},
    },
    grpc::pb,
};

/// A record read from a request with the identifiers of its person.
pub type IdentifiedRecord = (NewRecord, Identity);

/// Parses `scales/{scale}/levels/{level}`.
pub fn parse_level(name: &str) -> Result<(String, String), String> {
    match name.split('/').collect::<Vec<_>>().as_slice() {
        ["scales", scale, "levels", level] if !scale.is_empty() && !level.is_empty() => {
            Ok(((*scale).to_owned(), (*level).to_owned()))
        }
        _ if name.is_empty() => Err("is required".to_owned()),
        _ => Err(format!("`{name}` is not a level name of the form `scales/{{scale}}/levels/{{level}}`")),
    }
}

/// Parses `people/{person}/evaluations/{year}` into the person's id and the year.
pub fn parse_evaluation(name: &str) -> Result<(PersonName, i32), String> {
    let (person, year) = crate::edge::names::parse_child_id(name, "people", "evaluations")?;
    let year = i32::try_from(year).map_err(|_| "the year is out of range".to_owned())?;
    Ok((PersonName(person), year))
}

/// The name of an evaluation.
pub fn evaluation_name(person_id: i64, year: i32) -> String {
    format!("people/{person_id}/evaluations/{year}")
}

/// A short text in NFC, at most `max` characters.
pub fn short_text(value: &str, max: usize) -> Result<String, String> {
    let text = normalize_name(value);
    if text.chars().count() > max { Err(format!("is longer than {max} characters")) } else { Ok(text) }
}

/// An identifier field: empty is absent.
fn identifier<T>(value: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if value.trim().is_empty() { Ok(None) } else { parse(value).map(Some) }
}

/// An optional personal identification number (empty is absent).
pub fn personal_id(value: &str) -> Result<Option<PersonalId>, String> {
    identifier(value, PersonalId::parse)
}

/// An optional staff code (empty is absent).
pub fn staff_code(value: &str) -> Result<Option<StaffCode>, String> {
    identifier(value, StaffCode::parse)
}

/// A decision number: required, in NFC, at most [`MAX_DECISION_NUMBER`] characters.
pub fn decision_number(value: &str) -> Result<String, String> {
    let number = normalize_name(value);
    if number.is_empty() {
        Err("is required".to_owned())
    } else if number.chars().count() > MAX_DECISION_NUMBER {
        Err(format!("is longer than {MAX_DECISION_NUMBER} characters"))
    } else {
        Ok(number)
    }
}

/// A decision's reason: trimmed, at most [`MAX_REASON`] characters.
pub fn reason(value: &str) -> Result<String, String> {
    let reason = value.trim().to_owned();
    if reason.chars().count() > MAX_REASON {
        Err(format!("is longer than {MAX_REASON} characters"))
    } else {
        Ok(reason)
    }
}

/// A decision date: a date, not in the future.
pub fn decided_on(value: Option<&pb::Date>, today: NaiveDate) -> Result<NaiveDate, String> {
    let day = date(value)?;
    if day > today { Err("is in the future".to_owned()) } else { Ok(day) }
}

/// A person's own fields and identifiers from the wire (output-only fields ignored).
pub fn person_in(v: &mut Violations, p: pb::Person, path: &str) -> (Option<PersonFields>, Identity) {
    let pb::Person {
        name: _,
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
        etag: _,
        create_time: _,
        update_time: _,
        personal_id: number,
        staff_code: code,
    } = p;
    let at = |f: &str| format!("{path}.{f}");
    let birth_date = v.check(at("birth_date"), date(birth_date.as_ref()));
    let gender = v.check(at("gender"), Gender::required(gender));
    let category = v.check(at("category"), Category::required(category));
    let employed_from = v.check(at("employed_from"), date(employed_from.as_ref()));
    let employed_until = v.check(at("employed_until"), optional_date(employed_until.as_ref()));
    let end_reason = v.check(at("end_reason"), EmploymentEnd::optional(end_reason));
    let identity = Identity {
        personal_id: v.check(at("personal_id"), personal_id(&number)).flatten(),
        staff_code: v.check(at("staff_code"), staff_code(&code)).flatten(),
    };
    let fields = (|| {
        Some(PersonFields {
            full_name: normalize_name(&full_name),
            birth_date: birth_date?,
            gender: gender?,
            ethnicity: normalize_name(&ethnicity),
            category: category?,
            employed_from: employed_from?,
            employed_until: employed_until?,
            end_reason: end_reason?,
        })
    })();
    (fields, identity)
}

/// A placement's fields from the wire (output-only fields ignored).
pub fn placement_in(v: &mut Violations, p: pb::Placement, path: &str) -> Option<PlacementFields> {
    let pb::Placement {
        name: _,
        unit,
        post_title,
        leader,
        key_post,
        valid_from,
        valid_until,
        locality: _,
        tier: _,
        etag: _,
    } = p;
    let at = |f: &str| format!("{path}.{f}");
    let unit = v.check(at("unit"), UnitName::parse(&unit));
    let post_title = v.check(at("post_title"), short_text(&post_title, 200));
    let valid_from = v.check(at("valid_from"), date(valid_from.as_ref()));
    let valid_until = v.check(at("valid_until"), optional_date(valid_until.as_ref()));
    Some(PlacementFields {
        unit_id: unit?.id(),
        post_title: post_title?,
        leader,
        key_post,
        valid_from: valid_from?,
        valid_until: valid_until?,
    })
}

/// A qualification's fields from the wire (output-only fields ignored).
pub fn qualification_in(v: &mut Violations, q: pb::Qualification, path: &str) -> Option<QualificationFields> {
    let pb::Qualification { name: _, level, field_of_study, institution, awarded_on, etag: _ } = q;
    let at = |f: &str| format!("{path}.{f}");
    let level = v.check(at("level"), parse_level(&level));
    let field_of_study = v.check(at("field_of_study"), short_text(&field_of_study, 200));
    let institution = v.check(at("institution"), short_text(&institution, 200));
    let awarded_on = v.check(at("awarded_on"), date(awarded_on.as_ref()));
    let (scale, level) = level?;
    Some(QualificationFields {
        scale,
        level,
        field_of_study: field_of_study?,
        institution: institution?,
        awarded_on: awarded_on?,
    })
}

/// A record from the wire, checked without the database.
pub fn record_in(v: &mut Violations, r: pb::PersonRecord, path: &str, today: NaiveDate) -> Option<IdentifiedRecord> {
    let pb::PersonRecord { person, placements, qualifications, evaluations } = r;
    let Some(p) = person else {
        v.add(format!("{path}.person"), "is required");
        return None;
    };
    let (person, identity) = person_in(v, p, &format!("{path}.person"));
    if let Some(person) = &person {
        v.extend(check_person(person, &format!("{path}.person"), today));
        v.extend(identity.check(person.birth_date, person.gender, &format!("{path}.person")));
    }
    let mut checked = Vec::new();
    for (i, p) in placements.into_iter().enumerate() {
        let at = format!("{path}.placements[{i}]");
        if let Some(fields) = placement_in(v, p, &at) {
            if let Some(person) = &person {
                v.extend(check_placement(&fields, person, &at));
            }
            checked.push(fields);
        }
    }
    v.extend(check_no_overlap(&checked, &format!("{path}.placements")));
    let mut quals = Vec::new();
    for (i, q) in qualifications.into_iter().enumerate() {
        let at = format!("{path}.qualifications[{i}]");
        if let Some(fields) = qualification_in(v, q, &at) {
            if let Some(person) = &person {
                v.extend(check_qualification(&fields, person.birth_date, &at, today));
            }
            quals.push(fields);
        }
    }
    let mut evals: Vec<(i32, Rating)> = Vec::new();
    for (i, e) in evaluations.into_iter().enumerate() {
        let pb::Evaluation { name: _, year, rating, etag: _ } = e;
        let at = format!("{path}.evaluations[{i}]");
        if let Some(person) = &person {
            v.extend(check_evaluation_year(year, person.birth_date, &at, today));
        }
        if evals.iter().any(|(seen, _)| *seen == year) {
            v.add(format!("{at}.year"), format!("{year} is rated twice; one evaluation per year"));
        }
        if let Some(rating) = v.check(format!("{at}.rating"), Rating::required(rating)) {
            evals.push((year, rating));
        }
    }
    Some((NewRecord { person: person?, placements: checked, qualifications: quals, evaluations: evals }, identity))
}

// ---- out -----------------------------------------------------------------------------

impl From<&PlacementRow> for pb::Placement {
    fn from(row: &PlacementRow) -> Self {
        let p = &row.fields;
        pb::Placement {
            name: PlacementName { parent: row.person_id, id: row.id }.to_string(),
            unit: UnitName(p.unit_id).to_string(),
            post_title: p.post_title.clone(),
            leader: p.leader,
            key_post: p.key_post,
            valid_from: Some(to_date(p.valid_from)),
            valid_until: p.valid_until.map(to_date),
            locality: row.locality.name(),
            tier: crate::edge::enums::Table::to_wire(row.locality.tier()).into(),
            etag: etag(row.revision),
        }
    }
}

impl From<&QualificationRow> for pb::Qualification {
    fn from(row: &QualificationRow) -> Self {
        let q = &row.fields;
        pb::Qualification {
            name: QualificationName { parent: row.person_id, id: row.id }.to_string(),
            level: format!("scales/{}/levels/{}", q.scale, q.level),
            field_of_study: q.field_of_study.clone(),
            institution: q.institution.clone(),
            awarded_on: Some(to_date(q.awarded_on)),
            etag: etag(row.revision),
        }
    }
}

impl From<&EvaluationRow> for pb::Evaluation {
    fn from(row: &EvaluationRow) -> Self {
        pb::Evaluation {
            name: evaluation_name(row.person_id, row.year),
            year: row.year,
            rating: row.rating.wire(),
            etag: etag(row.revision),
        }
    }
}

impl From<&DisciplineRow> for pb::Discipline {
    fn from(row: &DisciplineRow) -> Self {
        pb::Discipline {
            name: DisciplineName { parent: row.person_id, id: row.id }.to_string(),
            sanction: row.sanction.wire(),
            decided_on: Some(to_date(row.decided_on)),
            decision_number: row.decision_number.clone(),
            reason: row.reason.clone(),
            etag: etag(row.revision),
        }
    }
}

/// A person as a response shows them: on a date, with their placements (the one in
/// force that day is shown), and their identifiers only when `personal` (the caller
/// holds the personal-data role).
#[derive(Debug, Clone)]
pub struct PersonView {
    /// The person.
    pub row: PersonRow,
    /// Their placements.
    pub placements: Vec<PlacementRow>,
    /// The date of the status and the current placement.
    pub as_of: NaiveDate,
    /// Whether the identifiers are shown.
    pub personal: bool,
}

fn status_to_wire(status: EmploymentState) -> pb::EmploymentStatus {
    match status {
        EmploymentState::NotYetEmployed => pb::EmploymentStatus::NotYetEmployed,
        EmploymentState::Active => pb::EmploymentStatus::Active,
        EmploymentState::Ended(EmploymentEnd::Retired) => pb::EmploymentStatus::Retired,
        EmploymentState::Ended(EmploymentEnd::Left) => pb::EmploymentStatus::Left,
        EmploymentState::Ended(EmploymentEnd::Deceased) => pb::EmploymentStatus::Deceased,
    }
}

impl From<&PersonView> for pb::Person {
    fn from(view: &PersonView) -> Self {
        let PersonView { row, placements, as_of, personal } = view;
        let p = &row.fields;
        let current = placements.iter().find(|pl| period_contains(pl.fields.valid_from, pl.fields.valid_until, *as_of));
        pb::Person {
            name: PersonName(row.id).to_string(),
            full_name: p.full_name.clone(),
            birth_date: Some(to_date(p.birth_date)),
            gender: p.gender.wire(),
            ethnicity: p.ethnicity.clone(),
            ethnic_minority: is_minority(&p.ethnicity),
            category: p.category.wire(),
            employed_from: Some(to_date(p.employed_from)),
            employed_until: p.employed_until.map(to_date),
            end_reason: p.end_reason.map_or(pb::EmploymentEnd::Unspecified.into(), EmploymentEnd::wire),
            status: status_to_wire(status_on(p, *as_of)).into(),
            placement: current.map(Into::into),
            as_of: Some(to_date(*as_of)),
            etag: etag(row.revision),
            create_time: Some(timestamp(row.create_time)),
            update_time: Some(timestamp(row.update_time)),
            personal_id: row
                .identity
                .personal_id
                .as_ref()
                .filter(|_| *personal)
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default(),
            staff_code: row
                .identity
                .staff_code
                .as_ref()
                .filter(|_| *personal)
                .map(|code| code.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// A person with every record of theirs, as ExportPeople streams them.
#[derive(Debug, Clone)]
pub struct RecordView {
    /// The person and their placements.
    pub person: PersonView,
    /// Their qualifications.
    pub qualifications: Vec<QualificationRow>,
    /// Their evaluations.
    pub evaluations: Vec<EvaluationRow>,
}

impl From<&RecordView> for pb::PersonRecord {
    fn from(view: &RecordView) -> Self {
        pb::PersonRecord {
            person: Some((&view.person).into()),
            placements: view.person.placements.iter().map(Into::into).collect(),
            qualifications: view.qualifications.iter().map(Into::into).collect(),
            evaluations: view.evaluations.iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::rules::person::Sanction;

    #[test]
    fn level_names_parse_into_scale_and_level() {
        assert_eq!(parse_level("scales/professional/levels/master"), Ok(("professional".into(), "master".into())));
        assert!(parse_level("scales/professional/master").is_err());
        assert_eq!(parse_level(""), Err("is required".to_owned()));
    }

    #[test]
    fn evaluation_names_carry_the_person_and_a_year() {
        assert_eq!(parse_evaluation("people/3/evaluations/2024"), Ok((PersonName(3), 2024)));
        assert!(parse_evaluation("people/3/evaluations/99999999999").is_err());
        assert!(parse_evaluation("people/3/placements/2024").is_err());
    }

    #[test]
    fn every_enum_value_has_a_wire_value_and_back() {
        for s in Sanction::ALL {
            assert_eq!(Sanction::from_wire(s.to_wire()), Some(*s));
        }
        for r in Rating::ALL {
            assert_eq!(Rating::from_wire(r.to_wire()), Some(*r));
        }
        assert_eq!(Category::from_filter("PERSON_CATEGORY_CIVIL_SERVANT"), Ok(Category::CivilServant));
        assert_eq!(Category::CivilServant.as_str(), "civil_servant");
    }
}
