//! PersonService: people and their placements, qualifications, evaluations and
//! disciplines; search, lookup by identifier, import and export.

mod import;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, Value};
use tonic::{Request, Response, Status, Streaming};

use super::{
    Violations, check_etag, convert, fingerprint, idempotency, parse_id,
    pb::{self, person_service_server::PersonService},
    remember, replayed, request_id, required, update_paths,
};
use crate::{
    auth::{Access, PersonAccess, Principal, RequestContext, Role, Scope, authorize, authorize_person, require_access},
    domain::{
        date::today,
        etag,
        identity::{Identity, PersonalId, StaffCode},
        locality::Code,
        page,
        person::{
            Category, EmploymentEnd, Gender, PersonFields, PlacementFields, QualificationFields, Rating, Sanction,
            Status as EmploymentState, check_evaluation_year, check_no_overlap, check_person, check_placement,
            check_qualification, first_overlap, is_minority, status_on,
        },
        text::{fold, normalize_name},
    },
    error::{Error, Result, Violation},
    store::{
        self, audit,
        person::{
            self as people, NewRecord, PeopleCondition, PeopleQuery, PersonRow, PlacementRow, QualificationRow,
            StatusFilter,
        },
    },
};

/// Most records one ImportPeople stream may carry.
pub const MAX_IMPORT_RECORDS: usize = 250_000;

/// The PersonService implementation.
#[derive(Debug, Clone)]
pub struct PersonApi {
    db: DatabaseConnection,
}

impl PersonApi {
    /// A service over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

// ---- names -------------------------------------------------------------------------

fn person_name(id: i64) -> String {
    format!("people/{id}")
}

/// Parses `people/{p}/{collection}/{id}` into (person id, child id).
fn parse_child(name: &str, collection: &str) -> Result<(i64, i64), String> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["people", person, c, id] if *c == collection => match (person.parse::<i64>(), id.parse::<i64>()) {
            (Ok(p), Ok(i)) if p > 0 && i > 0 => Ok((p, i)),
            _ => Err(format!("`{name}` does not have positive integer ids")),
        },
        _ if name.is_empty() => Err("is required".to_owned()),
        _ => Err(format!("`{name}` is not a name of the form `people/{{person}}/{collection}/{{id}}`")),
    }
}

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

// ---- enums -------------------------------------------------------------------------

/// A required category.
pub fn category(value: i32) -> Result<Category, String> {
    use pb::PersonCategory as C;
    match C::try_from(value).map_err(|_| format!("{value} is not a PersonCategory"))? {
        C::Unspecified => Err("is required".to_owned()),
        C::Cadre => Ok(Category::Cadre),
        C::CivilServant => Ok(Category::CivilServant),
        C::PublicEmployee => Ok(Category::PublicEmployee),
        C::PartTimeWorker => Ok(Category::PartTimeWorker),
        C::ContractWorker => Ok(Category::ContractWorker),
    }
}

/// The wire form of a category.
pub fn category_to_pb(value: Category) -> pb::PersonCategory {
    match value {
        Category::Cadre => pb::PersonCategory::Cadre,
        Category::CivilServant => pb::PersonCategory::CivilServant,
        Category::PublicEmployee => pb::PersonCategory::PublicEmployee,
        Category::PartTimeWorker => pb::PersonCategory::PartTimeWorker,
        Category::ContractWorker => pb::PersonCategory::ContractWorker,
    }
}

fn gender(value: i32) -> Result<Gender, String> {
    match pb::Gender::try_from(value).map_err(|_| format!("{value} is not a Gender"))? {
        pb::Gender::Unspecified => Err("is required".to_owned()),
        pb::Gender::Male => Ok(Gender::Male),
        pb::Gender::Female => Ok(Gender::Female),
    }
}

fn end_reason(value: i32) -> Result<Option<EmploymentEnd>, String> {
    match pb::EmploymentEnd::try_from(value).map_err(|_| format!("{value} is not an EmploymentEnd"))? {
        pb::EmploymentEnd::Unspecified => Ok(None),
        pb::EmploymentEnd::Retired => Ok(Some(EmploymentEnd::Retired)),
        pb::EmploymentEnd::Left => Ok(Some(EmploymentEnd::Left)),
        pb::EmploymentEnd::Deceased => Ok(Some(EmploymentEnd::Deceased)),
    }
}

fn rating(value: i32) -> Result<Rating, String> {
    match pb::Rating::try_from(value).map_err(|_| format!("{value} is not a Rating"))? {
        pb::Rating::Unspecified => Err("is required".to_owned()),
        pb::Rating::Excellent => Ok(Rating::Excellent),
        pb::Rating::Good => Ok(Rating::Good),
        pb::Rating::Completed => Ok(Rating::Completed),
        pb::Rating::NotCompleted => Ok(Rating::NotCompleted),
    }
}

fn rating_to_pb(value: Rating) -> pb::Rating {
    match value {
        Rating::Excellent => pb::Rating::Excellent,
        Rating::Good => pb::Rating::Good,
        Rating::Completed => pb::Rating::Completed,
        Rating::NotCompleted => pb::Rating::NotCompleted,
    }
}

fn sanction(value: i32) -> Result<Sanction, String> {
    match pb::Sanction::try_from(value).map_err(|_| format!("{value} is not a Sanction"))? {
        pb::Sanction::Unspecified => Err("is required".to_owned()),
        pb::Sanction::Reprimand => Ok(Sanction::Reprimand),
        pb::Sanction::Warning => Ok(Sanction::Warning),
        pb::Sanction::RemovalFromPost => Ok(Sanction::RemovalFromPost),
        pb::Sanction::Dismissal => Ok(Sanction::Dismissal),
    }
}

fn sanction_to_pb(value: Sanction) -> pb::Sanction {
    match value {
        Sanction::Reprimand => pb::Sanction::Reprimand,
        Sanction::Warning => pb::Sanction::Warning,
        Sanction::RemovalFromPost => pb::Sanction::RemovalFromPost,
        Sanction::Dismissal => pb::Sanction::Dismissal,
    }
}

// ---- wire to domain ----------------------------------------------------------------

fn short_text(value: &str, max: usize) -> Result<String, String> {
    let text = normalize_name(value);
    if text.chars().count() > max { Err(format!("is longer than {max} characters")) } else { Ok(text) }
}

fn person_fields(v: &mut Violations, p: &pb::Person, path: &str) -> Option<PersonFields> {
    let at = |f: &str| format!("{path}.{f}");
    let full_name = normalize_name(&p.full_name);
    let birth_date = v.check(at("birth_date"), convert::date(p.birth_date.as_ref()));
    let gender = v.check(at("gender"), gender(p.gender));
    let category = v.check(at("category"), category(p.category));
    let employed_from = v.check(at("employed_from"), convert::date(p.employed_from.as_ref()));
    let employed_until = v.check(at("employed_until"), convert::optional_date(p.employed_until.as_ref()));
    let end_reason = v.check(at("end_reason"), end_reason(p.end_reason));
    Some(PersonFields {
        full_name,
        birth_date: birth_date?,
        gender: gender?,
        ethnicity: normalize_name(&p.ethnicity),
        category: category?,
        employed_from: employed_from?,
        employed_until: employed_until?,
        end_reason: end_reason?,
    })
}

/// The identifiers of a person on the wire; empty strings are absent identifiers.
fn identity_fields(v: &mut Violations, p: &pb::Person, path: &str) -> Identity {
    fn optional(value: &str) -> Option<&str> {
        Some(value).filter(|s| !s.trim().is_empty())
    }
    Identity {
        personal_id: optional(&p.personal_id)
            .and_then(|s| v.check(format!("{path}.personal_id"), PersonalId::parse(s))),
        staff_code: optional(&p.staff_code).and_then(|s| v.check(format!("{path}.staff_code"), StaffCode::parse(s))),
    }
}

fn placement_fields(v: &mut Violations, p: &pb::Placement, path: &str) -> Option<PlacementFields> {
    let at = |f: &str| format!("{path}.{f}");
    let unit_id = v.check(at("unit"), parse_id(&p.unit, "units"));
    let post_title = v.check(at("post_title"), short_text(&p.post_title, 200));
    let valid_from = v.check(at("valid_from"), convert::date(p.valid_from.as_ref()));
    let valid_until = v.check(at("valid_until"), convert::optional_date(p.valid_until.as_ref()));
    Some(PlacementFields {
        unit_id: unit_id?,
        post_title: post_title?,
        leader: p.leader,
        key_post: p.key_post,
        valid_from: valid_from?,
        valid_until: valid_until?,
    })
}

fn qualification_fields(v: &mut Violations, q: &pb::Qualification, path: &str) -> Option<QualificationFields> {
    let at = |f: &str| format!("{path}.{f}");
    let level = v.check(at("level"), parse_level(&q.level));
    let field_of_study = v.check(at("field_of_study"), short_text(&q.field_of_study, 200));
    let institution = v.check(at("institution"), short_text(&q.institution, 200));
    let awarded_on = v.check(at("awarded_on"), convert::date(q.awarded_on.as_ref()));
    let (scale, level) = level?;
    Some(QualificationFields {
        scale,
        level,
        field_of_study: field_of_study?,
        institution: institution?,
        awarded_on: awarded_on?,
    })
}

/// A record with the identifiers of its person.
type IdentifiedRecord = (NewRecord, Identity);

/// Converts and checks a record without the database.
fn record(v: &mut Violations, r: &pb::PersonRecord, path: &str, today: NaiveDate) -> Option<IdentifiedRecord> {
    let Some(p) = r.person.as_ref() else {
        v.add(format!("{path}.person"), "is required");
        return None;
    };
    let person = person_fields(v, p, &format!("{path}.person"));
    let identity = identity_fields(v, p, &format!("{path}.person"));
    if let Some(person) = &person {
        v.extend(check_person(person, &format!("{path}.person"), today));
        v.extend(identity.check(person.birth_date, person.gender, &format!("{path}.person")));
    }
    let mut placements = Vec::new();
    for (i, p) in r.placements.iter().enumerate() {
        let at = format!("{path}.placements[{i}]");
        if let Some(fields) = placement_fields(v, p, &at) {
            if let Some(person) = &person {
                v.extend(check_placement(&fields, person, &at));
            }
            placements.push(fields);
        }
    }
    v.extend(check_no_overlap(&placements, &format!("{path}.placements")));
    let mut qualifications = Vec::new();
    for (i, q) in r.qualifications.iter().enumerate() {
        let at = format!("{path}.qualifications[{i}]");
        if let Some(fields) = qualification_fields(v, q, &at) {
            if let Some(person) = &person {
                v.extend(check_qualification(&fields, person.birth_date, &at, today));
            }
            qualifications.push(fields);
        }
    }
    let mut evaluations: Vec<(i32, Rating)> = Vec::new();
    for (i, e) in r.evaluations.iter().enumerate() {
        let at = format!("{path}.evaluations[{i}]");
        if let Some(person) = &person {
            v.extend(check_evaluation_year(e.year, person.birth_date, &at, today));
        }
        if evaluations.iter().any(|(year, _)| *year == e.year) {
            v.add(format!("{at}.year"), format!("{} is rated twice; one evaluation per year", e.year));
        }
        if let Some(rating) = v.check(format!("{at}.rating"), rating(e.rating)) {
            evaluations.push((e.year, rating));
        }
    }
    Some((NewRecord { person: person?, placements, qualifications, evaluations }, identity))
}

/// What the database knows that record checks need, read once for a whole batch.
struct Reference {
    units: HashMap<i64, people::UnitPeriod>,
    levels: HashSet<(String, String)>,
    /// Localities the caller may write to; `None` for a national caller.
    writable: Option<HashSet<Code>>,
}

impl Reference {
    async fn load(db: &DatabaseConnection, principal: &Principal, unit_ids: BTreeSet<i64>) -> Result<Self> {
        let writable = match &principal.scope {
            Scope::National => None,
            Scope::Localities(roots) => Some(people::codes_within(db, roots).await?),
        };
        Ok(Self { units: people::unit_periods(db, &unit_ids).await?, levels: people::levels(db).await?, writable })
    }

    /// Violations of a placement against its unit: the unit exists (and, for a scoped
    /// caller, is in scope: both read the same, so nothing leaks) over the period.
    fn check_placement(&self, p: &PlacementFields, path: &str) -> Option<Violation> {
        let unit =
            self.units.get(&p.unit_id).filter(|u| self.writable.as_ref().is_none_or(|w| w.contains(&u.locality)));
        match unit {
            None if self.writable.is_some() => Some(Violation::new(
                format!("{path}.unit"),
                format!("units/{} does not exist or is outside the caller's scope", p.unit_id),
            )),
            None => Some(Violation::new(format!("{path}.unit"), format!("units/{} does not exist", p.unit_id))),
            Some(unit) if !unit.covers(p.valid_from, p.valid_until) => Some(Violation::new(
                format!("{path}.unit"),
                format!("units/{} does not exist over the whole placement", p.unit_id),
            )),
            Some(_) => None,
        }
    }

    fn check_level(&self, q: &QualificationFields, path: &str) -> Option<Violation> {
        (!self.levels.contains(&(q.scale.clone(), q.level.clone()))).then(|| {
            Violation::new(
                format!("{path}.level"),
                format!("scales/{}/levels/{} is not a level of that scale", q.scale, q.level),
            )
        })
    }

    fn check_record(&self, r: &NewRecord, path: &str) -> Vec<Violation> {
        let mut violations = Vec::new();
        for (i, p) in r.placements.iter().enumerate() {
            violations.extend(self.check_placement(p, &format!("{path}.placements[{i}]")));
        }
        for (i, q) in r.qualifications.iter().enumerate() {
            violations.extend(self.check_level(q, &format!("{path}.qualifications[{i}]")));
        }
        if self.writable.is_some() && r.placements.is_empty() {
            violations.push(Violation::new(
                format!("{path}.placements"),
                "a caller without a national scope must place the person in its scope",
            ));
        }
        violations
    }
}

// ---- domain to wire ----------------------------------------------------------------

fn placement_to_pb(row: &PlacementRow) -> pb::Placement {
    let p = &row.fields;
    pb::Placement {
        name: format!("people/{}/placements/{}", row.person_id, row.id),
        unit: format!("units/{}", p.unit_id),
        post_title: p.post_title.clone(),
        leader: p.leader,
        key_post: p.key_post,
        valid_from: Some(convert::to_date(p.valid_from)),
        valid_until: p.valid_until.map(convert::to_date),
        locality: row.locality.name(),
        tier: convert::tier_to_pb(row.locality.tier()).into(),
        etag: etag(row.revision),
    }
}

fn qualification_to_pb(row: &QualificationRow) -> pb::Qualification {
    let q = &row.fields;
    pb::Qualification {
        name: format!("people/{}/qualifications/{}", row.person_id, row.id),
        level: format!("scales/{}/levels/{}", q.scale, q.level),
        field_of_study: q.field_of_study.clone(),
        institution: q.institution.clone(),
        awarded_on: Some(convert::to_date(q.awarded_on)),
        etag: etag(row.revision),
    }
}

fn evaluation_to_pb(row: &people::EvaluationRow) -> pb::Evaluation {
    pb::Evaluation {
        name: format!("people/{}/evaluations/{}", row.person_id, row.year),
        year: row.year,
        rating: rating_to_pb(row.rating).into(),
        etag: etag(row.revision),
    }
}

fn discipline_to_pb(row: &people::DisciplineRow) -> pb::Discipline {
    pb::Discipline {
        name: format!("people/{}/disciplines/{}", row.person_id, row.id),
        sanction: sanction_to_pb(row.sanction).into(),
        decided_on: Some(convert::to_date(row.decided_on)),
        decision_number: row.decision_number.clone(),
        reason: row.reason.clone(),
        etag: etag(row.revision),
    }
}

/// The wire form of a person; the identifiers only when `personal` (the caller holds
/// the personal-data role), blank otherwise.
fn person_to_pb(row: &PersonRow, placements: &[PlacementRow], as_of: NaiveDate, personal: bool) -> pb::Person {
    let p = &row.fields;
    let status = match status_on(p, as_of) {
        EmploymentState::NotYetEmployed => pb::EmploymentStatus::NotYetEmployed,
        EmploymentState::Active => pb::EmploymentStatus::Active,
        EmploymentState::Ended(EmploymentEnd::Retired) => pb::EmploymentStatus::Retired,
        EmploymentState::Ended(EmploymentEnd::Left) => pb::EmploymentStatus::Left,
        EmploymentState::Ended(EmploymentEnd::Deceased) => pb::EmploymentStatus::Deceased,
    };
    let current = placements
        .iter()
        .find(|pl| crate::domain::date::period_contains(pl.fields.valid_from, pl.fields.valid_until, as_of));
    pb::Person {
        name: person_name(row.id),
        full_name: p.full_name.clone(),
        birth_date: Some(convert::to_date(p.birth_date)),
        gender: match p.gender {
            Gender::Male => pb::Gender::Male,
            Gender::Female => pb::Gender::Female,
        }
        .into(),
        ethnicity: p.ethnicity.clone(),
        ethnic_minority: is_minority(&p.ethnicity),
        category: category_to_pb(p.category).into(),
        employed_from: Some(convert::to_date(p.employed_from)),
        employed_until: p.employed_until.map(convert::to_date),
        end_reason: match p.end_reason {
            None => pb::EmploymentEnd::Unspecified,
            Some(EmploymentEnd::Retired) => pb::EmploymentEnd::Retired,
            Some(EmploymentEnd::Left) => pb::EmploymentEnd::Left,
            Some(EmploymentEnd::Deceased) => pb::EmploymentEnd::Deceased,
        }
        .into(),
        status: status.into(),
        placement: current.map(placement_to_pb),
        as_of: Some(convert::to_date(as_of)),
        etag: etag(row.revision),
        create_time: Some(prost_types::Timestamp {
            seconds: row.create_time.timestamp(),
            nanos: i32::try_from(row.create_time.timestamp_subsec_nanos()).unwrap_or_default(),
        }),
        update_time: Some(prost_types::Timestamp {
            seconds: row.update_time.timestamp(),
            nanos: i32::try_from(row.update_time.timestamp_subsec_nanos()).unwrap_or_default(),
        }),
        personal_id: row
            .identity
            .personal_id
            .as_ref()
            .filter(|_| personal)
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default(),
        staff_code: row
            .identity
            .staff_code
            .as_ref()
            .filter(|_| personal)
            .map(|code| code.as_str().to_owned())
            .unwrap_or_default(),
    }
}

// ---- helpers -----------------------------------------------------------------------

fn scope_roots(principal: &Principal) -> Option<BTreeSet<Code>> {
    match &principal.scope {
        Scope::National => None,
        Scope::Localities(roots) => Some(roots.clone()),
    }
}

/// Resolves a person for `access`: scope before existence, so a scoped caller learns
/// nothing about people outside its scope.
async fn person_for(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
    day: NaiveDate,
    access: PersonAccess,
) -> Result<PersonRow> {
    authorize_person(db, principal, id, day, access).await?;
    people::load_person(db, id).await?.ok_or_else(|| Error::NotFound(person_name(id)))
}

fn parse_people_filter(filter: &str) -> Result<Vec<PeopleCondition>, String> {
    let filter = filter.trim();
    if filter.is_empty() {
        return Ok(Vec::new());
    }
    if filter.len() > 1000 {
        return Err("is longer than 1000 characters".to_owned());
    }
    filter
        .split(" AND ")
        .map(|term| {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f.trim(), false, v.trim())
            } else if let Some((f, v)) = term.split_once('=') {
                (f.trim(), true, v.trim())
            } else {
                return Err(format!("cannot read `{}`; expected `field = value` or `field != value`", term.trim()));
            };
            let value = value.trim_matches('"').to_uppercase();
            match field {
                "category" => {
                    let short = value.strip_prefix("PERSON_CATEGORY_").unwrap_or(&value).to_lowercase();
                    Category::from_db(&short)
                        .map(|c| PeopleCondition::Category(equal, c))
                        .ok_or_else(|| format!("unknown category `{value}`"))
                }
                "status" => {
                    let short = value.strip_prefix("EMPLOYMENT_STATUS_").unwrap_or(&value).to_lowercase();
                    let status = match short.as_str() {
                        "active" => StatusFilter::Active,
                        "not_yet_employed" => StatusFilter::NotYetEmployed,
                        other => EmploymentEnd::from_db(other)
                            .map(StatusFilter::Ended)
                            .ok_or_else(|| format!("unknown status `{value}`"))?,
                    };
                    Ok(PeopleCondition::Status(equal, status))
                }
                "leader" => match value.as_str() {
                    "TRUE" => Ok(PeopleCondition::Leader(equal)),
                    "FALSE" => Ok(PeopleCondition::Leader(!equal)),
                    _ => Err(format!("`leader` is compared with true or false, not `{value}`")),
                },
                "personal_id" | "staff_code" if !equal => {
                    Err(format!("`{field}` is compared with `=` only: it matches one person exactly"))
                }
                "personal_id" => PersonalId::parse(&value)
                    .map(PeopleCondition::PersonalId)
                    .map_err(|e| format!("the personal_id `{value}` {e}")),
                "staff_code" => StaffCode::parse(&value)
                    .map(PeopleCondition::StaffCode)
                    .map_err(|e| format!("the staff_code `{value}` {e}")),
                other => Err(format!(
                    "unknown field `{other}`; filterable fields are category, status, leader, personal_id and \
                     staff_code"
                )),
            }
        })
        .collect()
}

struct SearchSpec {
    query: PeopleQuery,
    fingerprint: String,
}

fn search_spec(
    v: &mut Violations,
    principal: &Principal,
    locality: &str,
    as_of: Option<&pb::Date>,
    words: &str,
    filter: &str,
    order_by: &str,
) -> SearchSpec {
    let (by_name, descending) = v.check("order_by", parse_people_order(order_by)).unwrap_or((false, false));
    let locality_code = v.check("locality", convert::optional_locality(locality)).flatten();
    let as_of = v.check("as_of", convert::optional_date(as_of)).flatten().unwrap_or_else(today);
    let conditions = v.check("filter", parse_people_filter(filter)).unwrap_or_default();
    if words.chars().count() > 200 {
        v.add("query", "is longer than 200 characters");
    }
    let date = as_of.to_string();
    SearchSpec {
        fingerprint: page::fingerprint(&[locality, &date, words, filter, order_by]),
        query: PeopleQuery {
            as_of,
            locality: locality_code,
            scope: scope_roots(principal),
            words: fold(words).split_whitespace().map(str::to_owned).collect(),
            conditions,
            by_name,
            descending,
            after: None,
            limit: None,
        },
    }
}

/// Parses `name` or `full_name`, each optionally followed by `asc` or `desc`: (by
/// name, descending).
fn parse_people_order(order_by: &str) -> Result<(bool, bool), String> {
    let words: Vec<&str> = order_by.split_whitespace().collect();
    let (field, direction) = match words.as_slice() {
        [] => return Ok((false, false)),
        [field] => (*field, "asc"),
        [field, direction] => (*field, *direction),
        _ => return Err(format!("cannot read `{order_by}`; expected `name` or `full_name`, optionally `desc`")),
    };
    let by_name = match field {
        "name" => false,
        "full_name" => true,
        other => return Err(format!("cannot order by `{other}`; expected `name` or `full_name`")),
    };
    match direction {
        "asc" => Ok((by_name, false)),
        "desc" => Ok((by_name, true)),
        other => Err(format!("unknown direction `{other}`; expected `asc` or `desc`")),
    }
}

/// Whether responses to the caller carry personal identifiers.
fn sees_identifiers(principal: &Principal) -> bool {
    principal.has_role(Role::PersonalDataReader)
}

fn personal_reader(principal: &Principal) -> Result<()> {
    if sees_identifiers(principal) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("reading personal data needs the personal_data_reader role".to_owned()))
    }
}

async fn records_of(
    db: &DatabaseConnection,
    ids: &[i64],
    as_of: NaiveDate,
    personal: bool,
) -> Result<Vec<pb::PersonRecord>> {
    let persons = people::load_people(db, ids).await?;
    let placements = people::by_person(&people::placements_of(db, ids).await?, |p| p.person_id);
    let qualifications = people::by_person(&people::qualifications_of(db, ids).await?, |q| q.person_id);
    let evaluations = people::by_person(&people::evaluations_of(db, ids).await?, |e| e.person_id);
    let none = Vec::new();
    Ok(persons
        .iter()
        .map(|person| {
            let ps = placements.get(&person.id).unwrap_or(&none);
            pb::PersonRecord {
                person: Some(person_to_pb(person, ps, as_of, personal)),
                placements: ps.iter().map(placement_to_pb).collect(),
                qualifications: qualifications
                    .get(&person.id)
                    .map(|q| q.iter().map(qualification_to_pb).collect())
                    .unwrap_or_default(),
                evaluations: evaluations
                    .get(&person.id)
                    .map(|e| e.iter().map(evaluation_to_pb).collect())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

async fn person_pb(db: &DatabaseConnection, row: &PersonRow, as_of: NaiveDate, personal: bool) -> Result<pb::Person> {
    let placements = people::placements_of(db, &[row.id]).await?;
    Ok(person_to_pb(row, &placements, as_of, personal))
}

/// ALREADY_EXISTS when another person than `except` carries one of `identity`'s
/// identifiers, naming the field under `path` (never who carries it). Run inside the
/// write transaction; the unique indexes back it against concurrent writers.
async fn check_identity_free(
    txn: &sea_orm::DatabaseTransaction,
    identity: &Identity,
    except: Option<i64>,
    path: &str,
) -> Result<()> {
    if let Some(number) = &identity.personal_id {
        let holder = people::ids_by_personal_id(txn, &BTreeSet::from([number.clone()])).await?;
        if holder.get(number).is_some_and(|id| Some(*id) != except) {
            return Err(Error::AlreadyExists(format!("{path}.personal_id: a person with this personal_id")));
        }
    }
    if let Some(code) = &identity.staff_code {
        let holder = people::ids_by_staff_key(txn, &BTreeSet::from([code.key()])).await?;
        if holder.get(&code.key()).is_some_and(|id| Some(*id) != except) {
            return Err(Error::AlreadyExists(format!(
                "{path}.staff_code: a person with this staff_code (compared without regard to case)"
            )));
        }
    }
    Ok(())
}

/// Writes a validated new person in one transaction and audits it.
async fn write_person(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    record: IdentifiedRecord,
    idem: Option<(&str, &str)>,
) -> Result<i64> {
    let txn = store::begin_write(db).await?;
    check_identity_free(&txn, &record.1, None, "record.person").await?;
    let ids = people::insert_identified(&txn, &[(&record.0, &record.1)]).await?;
    let id = ids.first().copied().ok_or_else(|| Error::internal("no person created"))?;
    let resource = person_name(id);
    if let Some((request_id, fingerprint)) = idem {
        audit::remember_request(&txn, "CreatePerson", request_id, fingerprint, &resource).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "CreatePerson",
        &resource,
        idem.map(|(r, _)| r),
        serde_json::json!({ "people": 1 }),
    )
    .await?;
    crate::store::commit(txn, ctx).await?;
    Ok(id)
}

impl PersonApi {
    async fn check_new_placement(
        &self,
        principal: &Principal,
        person: &PersonRow,
        fields: &PlacementFields,
        except: Option<i64>,
        path: &str,
    ) -> Result<()> {
        let mut v = Violations::new();
        v.extend(check_placement(fields, &person.fields, path));
        // The unit's scope first: a unit elsewhere must not be told apart from none.
        let locality = store::scope::unit_locality(&self.db, fields.unit_id).await?;
        match &locality {
            Some(code) => authorize(&self.db, principal, code, Access::Write).await?,
            None if matches!(principal.scope, Scope::Localities(_)) => {
                return Err(Error::PermissionDenied(format!(
                    "units/{} is outside the caller's locality scope",
                    fields.unit_id
                )));
            }
            None => {}
        }
        let reference = Reference {
            units: people::unit_periods(&self.db, &BTreeSet::from([fields.unit_id])).await?,
            levels: HashSet::new(),
            writable: None,
        };
        v.extend(reference.check_placement(fields, path));
        let others = people::placements_of(&self.db, &[person.id]).await?;
        let others: Vec<_> = others.iter().filter(|o| Some(o.id) != except).collect();
        if let Some(i) = first_overlap(
            (fields.valid_from, fields.valid_until),
            others.iter().map(|o| (o.fields.valid_from, o.fields.valid_until)),
        ) {
            v.add(format!("{path}.valid_from"), format!("overlaps people/{}/placements/{}", person.id, others[i].id));
        }
        v.finish()
    }

    async fn check_level(&self, q: &QualificationFields, path: &str) -> Result<()> {
        let reference = Reference { units: HashMap::new(), levels: people::levels(&self.db).await?, writable: None };
        match reference.check_level(q, path) {
            Some(violation) => Err(Error::InvalidArgument(vec![violation])),
            None => Ok(()),
        }
    }
}

fn page_after(v: &mut Violations, token: &str, fingerprint: &str) -> Option<i64> {
    v.check("page_token", page::decode(token, fingerprint))
        .flatten()
        .and_then(|key| key.first().and_then(|k| k.parse().ok()))
}

fn next_token<T>(items: &[T], limit: u64, fingerprint: &str, key: impl Fn(&T) -> String) -> String {
    if items.len() as u64 > limit {
        items
            .get(usize::try_from(limit).unwrap_or(usize::MAX).saturating_sub(1))
            .map(|last| page::encode(fingerprint, vec![key(last)]))
            .unwrap_or_default()
    } else {
        String::new()
    }
}

/// The parameters of a list of one person's records, checked.
struct ChildList {
    person_id: i64,
    limit: u64,
    after: Option<i64>,
    fingerprint: String,
}

impl ChildList {
    fn parse(parent: &str, page_size: i32, page_token: &str, collection: &str) -> Result<Self> {
        let mut v = Violations::new();
        let person_id = v.check("parent", parse_id(parent, "people"));
        let limit = v.check("page_size", page::page_size(page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        let fingerprint = page::fingerprint(&[collection, parent]);
        let after = page_after(&mut v, page_token, &fingerprint);
        v.finish()?;
        Ok(Self { person_id: required(person_id, "parent")?, limit, after, fingerprint })
    }

    /// The page of `rows` after the token, in key order, and the next token.
    fn paginate<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> i64) -> (Vec<T>, String) {
        rows.sort_by_key(|r| key(r));
        rows.retain(|r| self.after.is_none_or(|a| key(r) > a));
        let next = next_token(&rows, self.limit, &self.fingerprint, |r| key(r).to_string());
        rows.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        (rows, next)
    }
}

#[tonic::async_trait]
impl PersonService for PersonApi {
    async fn create_person(
        &self,
        request: Request<pb::CreatePersonRequest>,
    ) -> Result<Response<pb::CreatePersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let request_id = v.check("request_id", request_id(&req.request_id)).flatten();
        let new = match &req.record {
            Some(r) => record(&mut v, r, "record", today()),
            None => {
                v.add("record", "is required");
                None
            }
        };
        v.finish()?;
        let new = required(new, "record")?;
        require_access(&ctx.principal, Access::Write)?;
        let personal = sees_identifiers(&ctx.principal);
        for placement in &new.0.placements {
            match store::scope::unit_locality(&self.db, placement.unit_id).await? {
                Some(code) => authorize(&self.db, &ctx.principal, &code, Access::Write).await?,
                None if matches!(ctx.principal.scope, Scope::Localities(_)) => {
                    return Err(Error::PermissionDenied(format!(
                        "units/{} is outside the caller's locality scope",
                        placement.unit_id
                    ))
                    .into());
                }
                None => {}
            }
        }
        let mut body = req.clone();
        body.request_id.clear();
        let fingerprint = fingerprint(&body);
        if let Some(resource) = audit::replayed(&self.db, "CreatePerson", request_id.as_deref(), &fingerprint).await? {
            let id = parse_id(&resource, "people").map_err(Error::internal)?;
            let row = people::load_person(&self.db, id).await?.ok_or_else(|| Error::NotFound(resource.clone()))?;
            return Ok(Response::new(pb::CreatePersonResponse {
                person: Some(person_pb(&self.db, &row, today(), personal).await?),
            }));
        }
        let units = new.0.placements.iter().map(|p| p.unit_id).collect();
        let reference = Reference::load(&self.db, &ctx.principal, units).await?;
        let violations = reference.check_record(&new.0, "record");
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations).into());
        }
        let id = write_person(&self.db, &ctx, new, request_id.as_deref().map(|r| (r, fingerprint.as_str()))).await?;
        let row = people::load_person(&self.db, id).await?.ok_or_else(|| Error::internal("created person vanished"))?;
        Ok(Response::new(pb::CreatePersonResponse {
            person: Some(person_pb(&self.db, &row, today(), personal).await?),
        }))
    }

    async fn get_person(
        &self,
        request: Request<pb::GetPersonRequest>,
    ) -> Result<Response<pb::GetPersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, "people"));
        let as_of = v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        v.finish()?;
        let row =
            person_for(&self.db, &ctx.principal, required(id, "name")?, as_of, PersonAccess::ReadPersonal).await?;
        let personal = sees_identifiers(&ctx.principal);
        Ok(Response::new(pb::GetPersonResponse { person: Some(person_pb(&self.db, &row, as_of, personal).await?) }))
    }

    async fn search_people(
        &self,
        request: Request<pb::SearchPeopleRequest>,
    ) -> Result<Response<pb::SearchPeopleResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let mut spec = search_spec(
            &mut v,
            &ctx.principal,
            &req.locality,
            req.as_of.as_ref(),
            &req.query,
            &req.filter,
            &req.order_by,
        );
        let limit = v.check("page_size", page::page_size(req.page_size)).unwrap_or(page::DEFAULT_PAGE_SIZE);
        spec.query.after =
            v.check("page_token", page::decode(&req.page_token, &spec.fingerprint)).flatten().and_then(|key| match key
                .as_slice()
            {
                [id] => id.parse().ok().map(|id| (id, None)),
                [id, name] => id.parse().ok().map(|id| (id, Some(name.clone()))),
                _ => None,
            });
        spec.query.limit = Some(limit);
        v.finish()?;
        personal_reader(&ctx.principal)?;
        if let Some(locality) = &spec.query.locality {
            authorize(&self.db, &ctx.principal, locality, Access::Read).await?;
        }
        let found = people::search(&self.db, &spec.query).await?;
        let ids = found.ids;
        let persons = people::load_people(&self.db, &ids).await?;
        let placements = people::by_person(&people::placements_of(&self.db, &ids).await?, |p| p.person_id);
        let none = Vec::new();
        let personal = sees_identifiers(&ctx.principal);
        let people_pb: Vec<pb::Person> = persons
            .iter()
            .map(|p| person_to_pb(p, placements.get(&p.id).unwrap_or(&none), spec.query.as_of, personal))
            .collect();
        let next_page_token = match found.next_after {
            Some((id, Some(name))) => page::encode(&spec.fingerprint, vec![id.to_string(), name]),
            Some((id, None)) => page::encode(&spec.fingerprint, vec![id.to_string()]),
            None => String::new(),
        };
        Ok(Response::new(pb::SearchPeopleResponse { people: people_pb, next_page_token }))
    }

    async fn update_person(
        &self,
        request: Request<pb::UpdatePersonRequest>,
    ) -> Result<Response<pb::UpdatePersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let given = required(req.person.as_ref(), "person")?;
        let id = v.check("person.name", parse_id(&given.name, "people"));
        let paths = update_paths(
            &mut v,
            req.update_mask.as_ref(),
            &[
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
            ],
        );
        v.finish()?;
        let row =
            person_for(&self.db, &ctx.principal, required(id, "person.name")?, today(), PersonAccess::Write).await?;
        check_etag(&given.etag, row.revision, &person_name(row.id))?;
        let revision = Some(row.revision);
        let personal = sees_identifiers(&ctx.principal);
        // Start from the stored person and take the masked fields from the request.
        let mut wire = person_to_pb(&row, &[], today(), true);
        for path in &paths {
            match path.as_str() {
                "full_name" => wire.full_name = given.full_name.clone(),
                "birth_date" => wire.birth_date = given.birth_date,
                "gender" => wire.gender = given.gender,
                "ethnicity" => wire.ethnicity = given.ethnicity.clone(),
                "category" => wire.category = given.category,
                "employed_from" => wire.employed_from = given.employed_from,
                "employed_until" => wire.employed_until = given.employed_until,
                "end_reason" => wire.end_reason = given.end_reason,
                "personal_id" => wire.personal_id = given.personal_id.clone(),
                "staff_code" => wire.staff_code = given.staff_code.clone(),
                _ => {}
            }
        }
        let mut v = Violations::new();
        let fields = person_fields(&mut v, &wire, "person");
        let identity = identity_fields(&mut v, &wire, "person");
        if let Some(fields) = &fields {
            v.extend(check_person(fields, "person", today()));
            let disagreements = identity.check(fields.birth_date, fields.gender, "person");
            if personal || paths.iter().any(|p| p == "personal_id") || disagreements.is_empty() {
                v.extend(disagreements);
            } else {
                // The stored number is personal data: say that it disagrees, not how.
                v.add(
                    "person.personal_id",
                    "the recorded personal_id does not agree with the new birth_date or gender",
                );
            }
            for placement in people::placements_of(&self.db, &[row.id]).await? {
                if !check_placement(&placement.fields, fields, "p").is_empty() {
                    v.add(
                        "person.employed_from",
                        format!("people/{}/placements/{} would fall outside the employment", row.id, placement.id),
                    );
                }
            }
        }
        v.finish()?;
        let fields = required(fields, "person")?;
        let name = person_name(row.id);
        let mut columns = people::person_columns(&fields);
        columns.extend(people::identity_columns(&identity));
        write_txn!(&self.db, ctx, "UpdatePerson", name, |txn| {
            if identity != row.identity {
                check_identity_free(&txn, &identity, Some(row.id), "person").await?;
            }
            if !people::update_row(&txn, "people", &[("id", row.id.into())], revision, columns).await? {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        let updated = people::load_person(&self.db, row.id).await?.ok_or_else(|| Error::NotFound(name))?;
        Ok(Response::new(pb::UpdatePersonResponse {
            person: Some(person_pb(&self.db, &updated, today(), personal).await?),
        }))
    }

    async fn delete_person(
        &self,
        request: Request<pb::DeletePersonRequest>,
    ) -> Result<Response<pb::DeletePersonResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let id = v.check("name", parse_id(&req.name, "people"));
        v.finish()?;
        let row = person_for(&self.db, &ctx.principal, required(id, "name")?, today(), PersonAccess::Write).await?;
        check_etag(&req.etag, row.revision, &person_name(row.id))?;
        let revision = Some(row.revision);
        let name = person_name(row.id);
        write_txn!(&self.db, ctx, "DeletePerson", name, |txn| {
            if !people::delete_row(&txn, "people", &[("id", row.id.into())], revision).await? {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        Ok(Response::new(pb::DeletePersonResponse {}))
    }

    async fn import_people(
        &self,
        request: Request<Streaming<pb::ImportPeopleRequest>>,
    ) -> Result<Response<pb::ImportPeopleResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        Ok(Response::new(import::import_people(&self.db, &ctx, request.into_inner()).await?))
    }

    async fn lookup_person(
        &self,
        request: Request<pb::LookupPersonRequest>,
    ) -> Result<Response<pb::LookupPersonResponse>, Status> {
        use pb::lookup_person_request::Identifier;
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let as_of = v.check("as_of", convert::optional_date(req.as_of.as_ref())).flatten().unwrap_or_else(today);
        let (identity, what) = match &req.identifier {
            Some(Identifier::PersonalId(number)) => (
                Identity { personal_id: v.check("personal_id", PersonalId::parse(number)), staff_code: None },
                "personal_id",
            ),
            Some(Identifier::StaffCode(code)) => (
                Identity { personal_id: None, staff_code: v.check("staff_code", StaffCode::parse(code)) },
                "staff_code",
            ),
            None => {
                v.add("identifier", "is required: set personal_id or staff_code");
                (Identity::NONE, "identifier")
            }
        };
        v.finish()?;
        personal_reader(&ctx.principal)?;
        // A scoped caller gets the same answer for a person outside its scope and for
        // nobody, so that it cannot probe numbers it may not see.
        let hidden = || {
            Error::PermissionDenied(format!(
                "nobody carries this {what} in the caller's locality scope on {as_of} (the person may be elsewhere \
                 or not recorded)"
            ))
        };
        let scoped = matches!(ctx.principal.scope, Scope::Localities(_));
        let id = match people::id_by_identifier(&self.db, &identity).await? {
            Some(id) => id,
            None if scoped => return Err(hidden().into()),
            None => return Err(Error::NotFound(format!("a person with this {what}")).into()),
        };
        let row = match person_for(&self.db, &ctx.principal, id, as_of, PersonAccess::ReadPersonal).await {
            Ok(row) => row,
            Err(Error::PermissionDenied(_) | Error::NotFound(_)) if scoped => return Err(hidden().into()),
            Err(e) => return Err(e.into()),
        };
        let personal = sees_identifiers(&ctx.principal);
        Ok(Response::new(pb::LookupPersonResponse { person: Some(person_pb(&self.db, &row, as_of, personal).await?) }))
    }

    type ExportPeopleStream = tokio_stream::wrappers::ReceiverStream<Result<pb::ExportPeopleResponse, Status>>;

    async fn export_people(
        &self,
        request: Request<pb::ExportPeopleRequest>,
    ) -> Result<Response<Self::ExportPeopleStream>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let spec = search_spec(&mut v, &ctx.principal, &req.locality, req.as_of.as_ref(), &req.query, &req.filter, "");
        v.finish()?;
        personal_reader(&ctx.principal)?;
        if let Some(locality) = &spec.query.locality {
            authorize(&self.db, &ctx.principal, locality, Access::Read).await?;
        }
        let personal = sees_identifiers(&ctx.principal);
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let db = self.db.clone();
        let mut query = spec.query;
        query.limit = Some(500);
        tokio::spawn(async move {
            loop {
                let batch = match people::search(&db, &query).await {
                    Ok(batch) => batch,
                    Err(e) => {
                        tx.send(Err(e.into())).await.ok();
                        return;
                    }
                };
                match records_of(&db, &batch.ids, query.as_of, personal).await {
                    Ok(records) => {
                        for record in records {
                            if tx.send(Ok(pb::ExportPeopleResponse { record: Some(record) })).await.is_err() {
                                return; // the client went away
                            }
                        }
                    }
                    Err(e) => {
                        tx.send(Err(e.into())).await.ok();
                        return;
                    }
                }
                match batch.next_after {
                    Some(after) => query.after = Some(after),
                    None => return,
                }
            }
        });
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }

    async fn create_placement(
        &self,
        request: Request<pb::CreatePlacementRequest>,
    ) -> Result<Response<pb::CreatePlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let person_id = v.check("parent", parse_id(&req.parent, "people"));
        let fields = match &req.placement {
            Some(p) => placement_fields(&mut v, p, "placement"),
            None => {
                v.add("placement", "is required");
                None
            }
        };
        let rid = v.check("request_id", request_id(&req.request_id)).flatten();
        v.finish()?;
        let person =
            person_for(&self.db, &ctx.principal, required(person_id, "parent")?, today(), PersonAccess::Write).await?;
        let idem = idempotency(rid, &req, |r| r.request_id.clear());
        if let Some(name) = replayed(&self.db, "CreatePlacement", idem.as_ref()).await? {
            let (person_id, id) = parse_child(&name, "placements").map_err(Error::internal)?;
            let row = people::placement(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(name))?;
            return Ok(Response::new(pb::CreatePlacementResponse { placement: Some(placement_to_pb(&row)) }));
        }
        let fields = required(fields, "placement")?;
        self.check_new_placement(&ctx.principal, &person, &fields, None, "placement").await?;
        let name = person_name(person.id);
        let id = write_txn!(&self.db, ctx, "CreatePlacement", name, |txn| {
            let id = people::insert_placement(&txn, person.id, &fields).await?;
            remember(&txn, "CreatePlacement", idem.as_ref(), &format!("people/{}/placements/{id}", person.id)).await?;
            id
        });
        let row = people::placement(&self.db, person.id, id)
            .await?
            .ok_or_else(|| Error::internal("created placement vanished"))?;
        Ok(Response::new(pb::CreatePlacementResponse { placement: Some(placement_to_pb(&row)) }))
    }

    async fn get_placement(
        &self,
        request: Request<pb::GetPlacementRequest>,
    ) -> Result<Response<pb::GetPlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, id) = parse_child(&req.name, "placements").map_err(|e| Error::invalid("name", e))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::ReadPersonal).await?;
        let row = people::placement(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        Ok(Response::new(pb::GetPlacementResponse { placement: Some(placement_to_pb(&row)) }))
    }

    async fn list_placements(
        &self,
        request: Request<pb::ListPlacementsRequest>,
    ) -> Result<Response<pb::ListPlacementsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let params = ChildList::parse(&req.parent, req.page_size, &req.page_token, "placements")?;
        let person =
            person_for(&self.db, &ctx.principal, params.person_id, today(), PersonAccess::ReadPersonal).await?;
        let (rows, next_page_token) = params.paginate(people::placements_of(&self.db, &[person.id]).await?, |r| r.id);
        Ok(Response::new(pb::ListPlacementsResponse {
            placements: rows.iter().map(placement_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_placement(
        &self,
        request: Request<pb::UpdatePlacementRequest>,
    ) -> Result<Response<pb::UpdatePlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let given = required(req.placement.as_ref(), "placement")?;
        let key = v.check("placement.name", parse_child(&given.name, "placements"));
        let paths = update_paths(
            &mut v,
            req.update_mask.as_ref(),
            &["unit", "post_title", "leader", "key_post", "valid_from", "valid_until"],
        );
        v.finish()?;
        let (person_id, id) = required(key, "placement.name")?;
        let person = person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row =
            people::placement(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        check_etag(&given.etag, row.revision, &given.name)?;
        let revision = Some(row.revision);
        let mut wire = placement_to_pb(&row);
        for path in &paths {
            match path.as_str() {
                "unit" => wire.unit = given.unit.clone(),
                "post_title" => wire.post_title = given.post_title.clone(),
                "leader" => wire.leader = given.leader,
                "key_post" => wire.key_post = given.key_post,
                "valid_from" => wire.valid_from = given.valid_from,
                "valid_until" => wire.valid_until = given.valid_until,
                _ => {}
            }
        }
        let mut v = Violations::new();
        let fields = placement_fields(&mut v, &wire, "placement");
        v.finish()?;
        let fields = required(fields, "placement")?;
        self.check_new_placement(&ctx.principal, &person, &fields, Some(id), "placement").await?;
        let name = given.name.clone();
        write_txn!(&self.db, ctx, "UpdatePlacement", name, |txn| {
            if !people::update_row(
                &txn,
                "placements",
                &[("id", id.into())],
                revision,
                people::placement_columns(&fields),
            )
            .await?
            {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        let row =
            people::placement(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        Ok(Response::new(pb::UpdatePlacementResponse { placement: Some(placement_to_pb(&row)) }))
    }

    async fn delete_placement(
        &self,
        request: Request<pb::DeletePlacementRequest>,
    ) -> Result<Response<pb::DeletePlacementResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, id) = parse_child(&req.name, "placements").map_err(|e| Error::invalid("name", e))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row = people::placement(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        check_etag(&req.etag, row.revision, &req.name)?;
        let revision = Some(row.revision);
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "DeletePlacement", name, |txn| {
            if !people::delete_row(&txn, "placements", &[("id", id.into())], revision).await? {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        Ok(Response::new(pb::DeletePlacementResponse {}))
    }

    async fn create_qualification(
        &self,
        request: Request<pb::CreateQualificationRequest>,
    ) -> Result<Response<pb::CreateQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let person_id = v.check("parent", parse_id(&req.parent, "people"));
        let fields = match &req.qualification {
            Some(q) => qualification_fields(&mut v, q, "qualification"),
            None => {
                v.add("qualification", "is required");
                None
            }
        };
        let rid = v.check("request_id", request_id(&req.request_id)).flatten();
        v.finish()?;
        let person =
            person_for(&self.db, &ctx.principal, required(person_id, "parent")?, today(), PersonAccess::Write).await?;
        let idem = idempotency(rid, &req, |r| r.request_id.clear());
        if let Some(name) = replayed(&self.db, "CreateQualification", idem.as_ref()).await? {
            let (person_id, id) = parse_child(&name, "qualifications").map_err(Error::internal)?;
            let row = people::qualification(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(name))?;
            return Ok(Response::new(pb::CreateQualificationResponse {
                qualification: Some(qualification_to_pb(&row)),
            }));
        }
        let fields = required(fields, "qualification")?;
        Violations::from(check_qualification(&fields, person.fields.birth_date, "qualification", today())).finish()?;
        self.check_level(&fields, "qualification").await?;
        let name = person_name(person.id);
        let id = write_txn!(&self.db, ctx, "CreateQualification", name, |txn| {
            let id = people::insert_qualification(&txn, person.id, &fields).await?;
            remember(&txn, "CreateQualification", idem.as_ref(), &format!("people/{}/qualifications/{id}", person.id))
                .await?;
            id
        });
        let row = people::qualification(&self.db, person.id, id)
            .await?
            .ok_or_else(|| Error::internal("created qualification vanished"))?;
        Ok(Response::new(pb::CreateQualificationResponse { qualification: Some(qualification_to_pb(&row)) }))
    }

    async fn get_qualification(
        &self,
        request: Request<pb::GetQualificationRequest>,
    ) -> Result<Response<pb::GetQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, id) = parse_child(&req.name, "qualifications").map_err(|e| Error::invalid("name", e))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::ReadPersonal).await?;
        let row =
            people::qualification(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        Ok(Response::new(pb::GetQualificationResponse { qualification: Some(qualification_to_pb(&row)) }))
    }

    async fn list_qualifications(
        &self,
        request: Request<pb::ListQualificationsRequest>,
    ) -> Result<Response<pb::ListQualificationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let params = ChildList::parse(&req.parent, req.page_size, &req.page_token, "qualifications")?;
        let person =
            person_for(&self.db, &ctx.principal, params.person_id, today(), PersonAccess::ReadPersonal).await?;
        let (rows, next_page_token) =
            params.paginate(people::qualifications_of(&self.db, &[person.id]).await?, |r| r.id);
        Ok(Response::new(pb::ListQualificationsResponse {
            qualifications: rows.iter().map(qualification_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_qualification(
        &self,
        request: Request<pb::UpdateQualificationRequest>,
    ) -> Result<Response<pb::UpdateQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let given = required(req.qualification.as_ref(), "qualification")?;
        let key = v.check("qualification.name", parse_child(&given.name, "qualifications"));
        let paths =
            update_paths(&mut v, req.update_mask.as_ref(), &["level", "field_of_study", "institution", "awarded_on"]);
        v.finish()?;
        let (person_id, id) = required(key, "qualification.name")?;
        let person = person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row =
            people::qualification(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        check_etag(&given.etag, row.revision, &given.name)?;
        let revision = Some(row.revision);
        let mut wire = qualification_to_pb(&row);
        for path in &paths {
            match path.as_str() {
                "level" => wire.level = given.level.clone(),
                "field_of_study" => wire.field_of_study = given.field_of_study.clone(),
                "institution" => wire.institution = given.institution.clone(),
                "awarded_on" => wire.awarded_on = given.awarded_on,
                _ => {}
            }
        }
        let mut v = Violations::new();
        let fields = qualification_fields(&mut v, &wire, "qualification");
        if let Some(fields) = &fields {
            v.extend(check_qualification(fields, person.fields.birth_date, "qualification", today()));
        }
        v.finish()?;
        let fields = required(fields, "qualification")?;
        self.check_level(&fields, "qualification").await?;
        let name = given.name.clone();
        write_txn!(&self.db, ctx, "UpdateQualification", name, |txn| {
            if !people::update_row(
                &txn,
                "qualifications",
                &[("id", id.into())],
                revision,
                people::qualification_columns(&fields),
            )
            .await?
            {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        let row =
            people::qualification(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        Ok(Response::new(pb::UpdateQualificationResponse { qualification: Some(qualification_to_pb(&row)) }))
    }

    async fn delete_qualification(
        &self,
        request: Request<pb::DeleteQualificationRequest>,
    ) -> Result<Response<pb::DeleteQualificationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, id) = parse_child(&req.name, "qualifications").map_err(|e| Error::invalid("name", e))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row =
            people::qualification(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        check_etag(&req.etag, row.revision, &req.name)?;
        let revision = Some(row.revision);
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "DeleteQualification", name, |txn| {
            if !people::delete_row(&txn, "qualifications", &[("id", id.into())], revision).await? {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        Ok(Response::new(pb::DeleteQualificationResponse {}))
    }

    async fn create_evaluation(
        &self,
        request: Request<pb::CreateEvaluationRequest>,
    ) -> Result<Response<pb::CreateEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let person_id = v.check("parent", parse_id(&req.parent, "people"));
        let given = req.evaluation.clone().unwrap_or_default();
        if req.evaluation.is_none() {
            v.add("evaluation", "is required");
        }
        let rating = v.check("evaluation.rating", rating(given.rating));
        let rid = v.check("request_id", request_id(&req.request_id)).flatten();
        v.finish()?;
        let person =
            person_for(&self.db, &ctx.principal, required(person_id, "parent")?, today(), PersonAccess::Write).await?;
        let idem = idempotency(rid, &req, |r| r.request_id.clear());
        if let Some(name) = replayed(&self.db, "CreateEvaluation", idem.as_ref()).await? {
            let (person_id, year) = parse_child(&name, "evaluations").map_err(Error::internal)?;
            let year = i32::try_from(year).map_err(Error::internal)?;
            let row = people::evaluation(&self.db, person_id, year).await?.ok_or_else(|| Error::NotFound(name))?;
            return Ok(Response::new(pb::CreateEvaluationResponse { evaluation: Some(evaluation_to_pb(&row)) }));
        }
        Violations::from(check_evaluation_year(given.year, person.fields.birth_date, "evaluation", today()))
            .finish()?;
        let name = format!("people/{}/evaluations/{}", person.id, given.year);
        if people::evaluation(&self.db, person.id, given.year).await?.is_some() {
            return Err(Error::AlreadyExists(name).into());
        }
        let rating = required(rating, "evaluation.rating")?;
        write_txn!(&self.db, ctx, "CreateEvaluation", name, |txn| {
            people::insert_evaluation(&txn, person.id, given.year, rating).await?;
            remember(&txn, "CreateEvaluation", idem.as_ref(), &name).await?;
        });
        let row = people::evaluation(&self.db, person.id, given.year)
            .await?
            .ok_or_else(|| Error::internal("created evaluation vanished"))?;
        Ok(Response::new(pb::CreateEvaluationResponse { evaluation: Some(evaluation_to_pb(&row)) }))
    }

    async fn get_evaluation(
        &self,
        request: Request<pb::GetEvaluationRequest>,
    ) -> Result<Response<pb::GetEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, year) = parse_child(&req.name, "evaluations").map_err(|e| Error::invalid("name", e))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::ReadPersonal).await?;
        let year = i32::try_from(year).map_err(|_| Error::invalid("name", "the year is out of range"))?;
        let row =
            people::evaluation(&self.db, person_id, year).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        Ok(Response::new(pb::GetEvaluationResponse { evaluation: Some(evaluation_to_pb(&row)) }))
    }

    async fn list_evaluations(
        &self,
        request: Request<pb::ListEvaluationsRequest>,
    ) -> Result<Response<pb::ListEvaluationsResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let params = ChildList::parse(&req.parent, req.page_size, &req.page_token, "evaluations")?;
        let person =
            person_for(&self.db, &ctx.principal, params.person_id, today(), PersonAccess::ReadPersonal).await?;
        let (rows, next_page_token) =
            params.paginate(people::evaluations_of(&self.db, &[person.id]).await?, |r| i64::from(r.year));
        Ok(Response::new(pb::ListEvaluationsResponse {
            evaluations: rows.iter().map(evaluation_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_evaluation(
        &self,
        request: Request<pb::UpdateEvaluationRequest>,
    ) -> Result<Response<pb::UpdateEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let given = required(req.evaluation.as_ref(), "evaluation")?;
        let key = v.check("evaluation.name", parse_child(&given.name, "evaluations"));
        update_paths(&mut v, req.update_mask.as_ref(), &["rating"]);
        let rating = v.check("evaluation.rating", rating(given.rating));
        v.finish()?;
        let (person_id, year) = required(key, "evaluation.name")?;
        let year = i32::try_from(year).map_err(|_| Error::invalid("evaluation.name", "the year is out of range"))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row =
            people::evaluation(&self.db, person_id, year).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        check_etag(&given.etag, row.revision, &given.name)?;
        let revision = Some(row.revision);
        let rating = required(rating, "evaluation.rating")?;
        let name = given.name.clone();
        write_txn!(&self.db, ctx, "UpdateEvaluation", name, |txn| {
            let key = [("person_id", Value::from(person_id)), ("year", Value::from(year))];
            if !people::update_row(&txn, "evaluations", &key, revision, vec![("rating", rating.as_str().into())])
                .await?
            {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        let row =
            people::evaluation(&self.db, person_id, year).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        Ok(Response::new(pb::UpdateEvaluationResponse { evaluation: Some(evaluation_to_pb(&row)) }))
    }

    async fn delete_evaluation(
        &self,
        request: Request<pb::DeleteEvaluationRequest>,
    ) -> Result<Response<pb::DeleteEvaluationResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, year) = parse_child(&req.name, "evaluations").map_err(|e| Error::invalid("name", e))?;
        let year = i32::try_from(year).map_err(|_| Error::invalid("name", "the year is out of range"))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row =
            people::evaluation(&self.db, person_id, year).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        check_etag(&req.etag, row.revision, &req.name)?;
        let revision = Some(row.revision);
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "DeleteEvaluation", name, |txn| {
            let key = [("person_id", Value::from(person_id)), ("year", Value::from(year))];
            if !people::delete_row(&txn, "evaluations", &key, revision).await? {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        Ok(Response::new(pb::DeleteEvaluationResponse {}))
    }

    async fn create_discipline(
        &self,
        request: Request<pb::CreateDisciplineRequest>,
    ) -> Result<Response<pb::CreateDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let person_id = v.check("parent", parse_id(&req.parent, "people"));
        let given = req.discipline.clone().unwrap_or_default();
        if req.discipline.is_none() {
            v.add("discipline", "is required");
        }
        let fields = discipline_fields(&mut v, &given, "discipline");
        let rid = v.check("request_id", request_id(&req.request_id)).flatten();
        v.finish()?;
        let person =
            person_for(&self.db, &ctx.principal, required(person_id, "parent")?, today(), PersonAccess::Write).await?;
        let idem = idempotency(rid, &req, |r| r.request_id.clear());
        if let Some(name) = replayed(&self.db, "CreateDiscipline", idem.as_ref()).await? {
            let (person_id, id) = parse_child(&name, "disciplines").map_err(Error::internal)?;
            let row = people::discipline(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(name))?;
            return Ok(Response::new(pb::CreateDisciplineResponse { discipline: Some(discipline_to_pb(&row)) }));
        }
        let (sanction, decided_on, number, reason) = required(fields, "discipline")?;
        let name = person_name(person.id);
        let id = write_txn!(&self.db, ctx, "CreateDiscipline", name, |txn| {
            let id = people::insert_discipline(&txn, person.id, sanction, decided_on, &number, &reason).await?;
            remember(&txn, "CreateDiscipline", idem.as_ref(), &format!("people/{}/disciplines/{id}", person.id))
                .await?;
            id
        });
        let row = people::discipline(&self.db, person.id, id)
            .await?
            .ok_or_else(|| Error::internal("created discipline vanished"))?;
        Ok(Response::new(pb::CreateDisciplineResponse { discipline: Some(discipline_to_pb(&row)) }))
    }

    async fn get_discipline(
        &self,
        request: Request<pb::GetDisciplineRequest>,
    ) -> Result<Response<pb::GetDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, id) = parse_child(&req.name, "disciplines").map_err(|e| Error::invalid("name", e))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::ReadPersonal).await?;
        let row =
            people::discipline(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        Ok(Response::new(pb::GetDisciplineResponse { discipline: Some(discipline_to_pb(&row)) }))
    }

    async fn list_disciplines(
        &self,
        request: Request<pb::ListDisciplinesRequest>,
    ) -> Result<Response<pb::ListDisciplinesResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let params = ChildList::parse(&req.parent, req.page_size, &req.page_token, "disciplines")?;
        let person =
            person_for(&self.db, &ctx.principal, params.person_id, today(), PersonAccess::ReadPersonal).await?;
        let (rows, next_page_token) = params.paginate(people::disciplines_of(&self.db, person.id).await?, |r| r.id);
        Ok(Response::new(pb::ListDisciplinesResponse {
            disciplines: rows.iter().map(discipline_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn update_discipline(
        &self,
        request: Request<pb::UpdateDisciplineRequest>,
    ) -> Result<Response<pb::UpdateDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let mut v = Violations::new();
        let given = required(req.discipline.as_ref(), "discipline")?;
        let key = v.check("discipline.name", parse_child(&given.name, "disciplines"));
        let paths =
            update_paths(&mut v, req.update_mask.as_ref(), &["sanction", "decided_on", "decision_number", "reason"]);
        v.finish()?;
        let (person_id, id) = required(key, "discipline.name")?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row =
            people::discipline(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        check_etag(&given.etag, row.revision, &given.name)?;
        let revision = Some(row.revision);
        let mut wire = discipline_to_pb(&row);
        for path in &paths {
            match path.as_str() {
                "sanction" => wire.sanction = given.sanction,
                "decided_on" => wire.decided_on = given.decided_on,
                "decision_number" => wire.decision_number = given.decision_number.clone(),
                "reason" => wire.reason = given.reason.clone(),
                _ => {}
            }
        }
        let mut v = Violations::new();
        let fields = discipline_fields(&mut v, &wire, "discipline");
        v.finish()?;
        let (sanction, decided_on, number, reason) = required(fields, "discipline")?;
        let name = given.name.clone();
        write_txn!(&self.db, ctx, "UpdateDiscipline", name, |txn| {
            let columns = vec![
                ("sanction", sanction.as_str().into()),
                ("decided_on", decided_on.into()),
                ("decision_number", number.as_str().into()),
                ("reason", reason.as_str().into()),
            ];
            if !people::update_row(&txn, "disciplines", &[("id", id.into())], revision, columns).await? {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        let row =
            people::discipline(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(given.name.clone()))?;
        Ok(Response::new(pb::UpdateDisciplineResponse { discipline: Some(discipline_to_pb(&row)) }))
    }

    async fn delete_discipline(
        &self,
        request: Request<pb::DeleteDisciplineRequest>,
    ) -> Result<Response<pb::DeleteDisciplineResponse>, Status> {
        let ctx = RequestContext::of(&request)?;
        let req = request.into_inner();
        let (person_id, id) = parse_child(&req.name, "disciplines").map_err(|e| Error::invalid("name", e))?;
        person_for(&self.db, &ctx.principal, person_id, today(), PersonAccess::Write).await?;
        let row =
            people::discipline(&self.db, person_id, id).await?.ok_or_else(|| Error::NotFound(req.name.clone()))?;
        check_etag(&req.etag, row.revision, &req.name)?;
        let revision = Some(row.revision);
        let name = req.name.clone();
        write_txn!(&self.db, ctx, "DeleteDiscipline", name, |txn| {
            if !people::delete_row(&txn, "disciplines", &[("id", id.into())], revision).await? {
                return Err(Error::Aborted(format!("{name} changed concurrently; read it again")).into());
            }
        });
        Ok(Response::new(pb::DeleteDisciplineResponse {}))
    }
}

fn discipline_fields(
    v: &mut Violations,
    d: &pb::Discipline,
    path: &str,
) -> Option<(Sanction, NaiveDate, String, String)> {
    let at = |f: &str| format!("{path}.{f}");
    let sanction = v.check(at("sanction"), sanction(d.sanction));
    let decided_on = v.check(at("decided_on"), convert::date(d.decided_on.as_ref()));
    if decided_on.is_some_and(|day| day > today()) {
        v.add(at("decided_on"), "is in the future");
    }
    let number = normalize_name(&d.decision_number);
    if number.is_empty() {
        v.add(at("decision_number"), "is required");
    } else if number.chars().count() > 100 {
        v.add(at("decision_number"), "is longer than 100 characters");
    }
    let reason = d.reason.trim().to_owned();
    if reason.chars().count() > 2000 {
        v.add(at("reason"), "is longer than 2000 characters");
    }
    Some((sanction?, decided_on?, number, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_names_parse_with_positive_ids() {
        assert_eq!(parse_child("people/3/placements/7", "placements"), Ok((3, 7)));
        assert!(parse_child("people/3/qualifications/7", "placements").is_err());
        assert!(parse_child("people/0/placements/7", "placements").is_err());
        assert!(parse_child("people/x/placements/7", "placements").is_err());
        assert_eq!(parse_level("scales/professional/levels/master"), Ok(("professional".into(), "master".into())));
        assert!(parse_level("scales/professional/master").is_err());
    }

    #[test]
    fn people_filters_parse() {
        assert_eq!(
            parse_people_filter("category = CIVIL_SERVANT AND status = ACTIVE AND leader = true"),
            Ok(vec![
                PeopleCondition::Category(true, Category::CivilServant),
                PeopleCondition::Status(true, StatusFilter::Active),
                PeopleCondition::Leader(true),
            ])
        );
        assert_eq!(
            parse_people_filter("status != EMPLOYMENT_STATUS_RETIRED"),
            Ok(vec![PeopleCondition::Status(false, StatusFilter::Ended(EmploymentEnd::Retired))])
        );
        assert!(parse_people_filter("age > 3").is_err());
        assert!(parse_people_filter("category = MONK").is_err());
    }
}
