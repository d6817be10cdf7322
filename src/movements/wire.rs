//! RotationService's messages to and from the feature's types. Each request is taken
//! apart field by field (no `..`), so a field added to the proto does not compile
//! until it is handled here.

use chrono::NaiveDate;

use super::rules::{Condition, Direction, Kind, Rotation, RotationFields, Status, check_rotation};
use crate::{
    domain::{locality::Code, text::normalize_name},
    edge::{
        Violations,
        enums::Table as _,
        etag::etag,
        filter::{self, Field},
        names::{PersonName, RotationName, UnitName},
        page::Page,
        request::{date, optional_date, request_key, timestamp, to_date, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    people::rules::person::Rating,
    uow::RequestKey,
};

/// The fields UpdateRotation may change.
pub const UPDATABLE: &[&str] = &[
    "kind",
    "source_unit",
    "source_post",
    "destination_unit",
    "destination_post",
    "destination_leader",
    "start_date",
    "planned_end_date",
    "decision",
    "programme",
];

/// Longest post after a return, in characters.
const MAX_POST_AFTER_RETURN: usize = 200;

/// A filter term that only compares for equality.
fn only_equal<T>(equal: bool, name: &str, value: Result<T, String>) -> Result<T, String> {
    if equal { value } else { Err(format!("{} supports only `=`", crate::error::quote(name))) }
}

/// The filterable fields of ListRotations.
const FILTER: &[Field<Condition>] = &[
    Field::value("kind", |equal, v| only_equal(equal, "kind", Kind::from_filter(v)).map(Condition::Kind)),
    Field::value("status", |equal, v| only_equal(equal, "status", Status::from_filter(v)).map(Condition::Status)),
    Field::value("direction", |equal, v| {
        only_equal(equal, "direction", Direction::from_filter(v)).map(Condition::Direction)
    }),
];

/// Parses a ListRotations filter.
pub fn parse_filter(text: &str) -> Result<Vec<Condition>, String> {
    filter::parse(text, FILTER)
}

/// The wire value of a rating (the people feature's enum).
fn rating_to_pb(value: Rating) -> pb::Rating {
    match value {
        Rating::Excellent => pb::Rating::Excellent,
        Rating::Good => pb::Rating::Good,
        Rating::Completed => pb::Rating::Completed,
        Rating::NotCompleted => pb::Rating::NotCompleted,
    }
}

/// An optional rating: UNSPECIFIED is none.
fn optional_rating(value: i32) -> Result<Option<Rating>, String> {
    match pb::Rating::try_from(value).map_err(|_| format!("{value} is not a Rating"))? {
        pb::Rating::Unspecified => Ok(None),
        pb::Rating::Excellent => Ok(Some(Rating::Excellent)),
        pb::Rating::Good => Ok(Some(Rating::Good)),
        pb::Rating::Completed => Ok(Some(Rating::Completed)),
        pb::Rating::NotCompleted => Ok(Some(Rating::NotCompleted)),
    }
}

impl From<&Rotation> for pb::Rotation {
    fn from(row: &Rotation) -> Self {
        let f = &row.fields;
        let finished = row.status == Status::Completed;
        pb::Rotation {
            name: row.name.to_string(),
            person: f.person().to_string(),
            kind: f.kind.wire(),
            source_unit: UnitName(f.source_unit_id).to_string(),
            source_post: f.source_post.clone(),
            destination_unit: UnitName(f.destination_unit_id).to_string(),
            destination_post: f.destination_post.clone(),
            destination_leader: f.destination_leader,
            start_date: Some(to_date(f.start_date)),
            planned_end_date: f.planned_end_date.map(to_date),
            actual_end_date: row.actual_end_date.map(to_date),
            decision: Some(pb::RotationDecision {
                number: f.decision_number.clone(),
                decided_on: Some(to_date(f.decided_on)),
                issuing_body: f.issuing_body.clone(),
            }),
            programme: f.programme.clone(),
            status: row.status.wire(),
            direction: row.direction().wire(),
            crosses_localities: row.source_locality != row.destination_locality,
            outcome: finished.then(|| pb::RotationOutcome {
                rating: row.outcome_rating.map_or(pb::Rating::Unspecified, rating_to_pb).into(),
                promoted: row.promoted,
                post_after_return: row.post_after_return.clone().unwrap_or_default(),
            }),
            etag: etag(row.revision),
            create_time: Some(timestamp(row.create_time)),
            update_time: Some(timestamp(row.update_time)),
        }
    }
}

/// A decision as entered: its number and issuing body in NFC.
fn decision(
    v: &mut Violations,
    decision: Option<pb::RotationDecision>,
    path: &str,
) -> Option<(String, NaiveDate, String)> {
    let Some(pb::RotationDecision { number, decided_on, issuing_body }) = decision else {
        v.add(format!("{path}.decision"), "is required");
        return None;
    };
    let decided_on = v.check(format!("{path}.decision.decided_on"), date(decided_on.as_ref()))?;
    Some((normalize_name(&number), decided_on, normalize_name(&issuing_body)))
}

/// The entered fields of a movement, checked without the database; output-only fields
/// are ignored (AIP-133). Violations are recorded under `path` (`rotation`).
fn rotation_fields(v: &mut Violations, rotation: pb::Rotation, path: &str) -> Option<RotationFields> {
    let pb::Rotation {
        name: _,
        person,
        kind,
        source_unit,
        source_post,
        destination_unit,
        destination_post,
        destination_leader,
        start_date,
        planned_end_date,
        actual_end_date: _,
        decision: given_decision,
        programme,
        status: _,
        direction: _,
        crosses_localities: _,
        outcome: _,
        etag: _,
        create_time: _,
        update_time: _,
    } = rotation;
    let at = |f: &str| format!("{path}.{f}");
    let person = v.check(at("person"), PersonName::parse(&person));
    let kind = v.check(at("kind"), Kind::required(kind));
    let source_unit = v.check(at("source_unit"), UnitName::parse(&source_unit));
    let destination_unit = v.check(at("destination_unit"), UnitName::parse(&destination_unit));
    let start_date = v.check(at("start_date"), date(start_date.as_ref()));
    let planned_end_date = v.check(at("planned_end_date"), optional_date(planned_end_date.as_ref()));
    let (decision_number, decided_on, issuing_body) = decision(v, given_decision, path)?;
    let fields = RotationFields {
        person_id: person?.id(),
        kind: kind?,
        source_unit_id: source_unit?.id(),
        source_post: normalize_name(&source_post),
        destination_unit_id: destination_unit?.id(),
        destination_post: normalize_name(&destination_post),
        destination_leader,
        start_date: start_date?,
        planned_end_date: planned_end_date?,
        decision_number,
        decided_on,
        issuing_body,
        programme: normalize_name(&programme),
    };
    let violations = check_rotation(&fields, path);
    let ok = violations.is_empty();
    v.extend(violations);
    ok.then_some(fields)
}

/// A checked CreateRotation request.
#[derive(Debug, Clone)]
pub struct CreateRotation {
    /// The movement's fields.
    pub fields: RotationFields,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

impl TryFrom<pb::CreateRotationRequest> for CreateRotation {
    type Error = Error;

    fn try_from(request: pb::CreateRotationRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateRotationRequest { rotation, request_id: _ } = request;
        if rotation.is_none() {
            v.add("rotation", "is required");
        }
        let fields = rotation_fields(&mut v, rotation.unwrap_or_default(), "rotation");
        v.into_result(|| Some(Self { fields: fields?, key }))
    }
}

/// A checked GetRotation, DeleteRotation, StartRotation or CancelRotation request: a
/// movement and the etag the caller read (empty when none was sent).
#[derive(Debug, Clone)]
pub struct Named {
    /// The movement.
    pub name: RotationName,
    /// The etag the caller read, if any.
    pub etag: String,
}

impl Named {
    fn parse(name: &str, etag: String) -> Result<Self> {
        let mut v = Violations::new();
        let name = v.check("name", RotationName::parse(name));
        v.into_result(|| Some(Self { name: name?, etag }))
    }
}

impl TryFrom<pb::GetRotationRequest> for Named {
    type Error = Error;

    fn try_from(request: pb::GetRotationRequest) -> Result<Self> {
        let pb::GetRotationRequest { name } = request;
        Self::parse(&name, String::new())
    }
}

impl TryFrom<pb::DeleteRotationRequest> for Named {
    type Error = Error;

    fn try_from(request: pb::DeleteRotationRequest) -> Result<Self> {
        let pb::DeleteRotationRequest { name, etag } = request;
        Self::parse(&name, etag)
    }
}

impl TryFrom<pb::StartRotationRequest> for Named {
    type Error = Error;

    fn try_from(request: pb::StartRotationRequest) -> Result<Self> {
        let pb::StartRotationRequest { name, etag } = request;
        Self::parse(&name, etag)
    }
}

impl TryFrom<pb::CancelRotationRequest> for Named {
    type Error = Error;

    fn try_from(request: pb::CancelRotationRequest) -> Result<Self> {
        let pb::CancelRotationRequest { name, etag } = request;
        Self::parse(&name, etag)
    }
}

/// A checked UpdateRotation request: the paths it changes, with their new values as
/// sent. The values are checked with the rest of the movement once it is read (a
/// movement is valid as a whole, e.g. a planned end after its start).
#[derive(Debug, Clone)]
pub struct UpdateRotation {
    /// The movement.
    pub name: RotationName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// The updated paths.
    pub paths: Vec<String>,
    /// The message carrying the new values.
    pub given: pb::Rotation,
}

impl UpdateRotation {
    /// The movement's entered fields with this update applied, checked as a whole.
    pub fn apply(&self, current: &Rotation) -> Result<RotationFields> {
        let mut wire = pb::Rotation::from(current);
        let given = &self.given;
        for path in &self.paths {
            match path.as_str() {
                "kind" => wire.kind = given.kind,
                "source_unit" => wire.source_unit.clone_from(&given.source_unit),
                "source_post" => wire.source_post.clone_from(&given.source_post),
                "destination_unit" => wire.destination_unit.clone_from(&given.destination_unit),
                "destination_post" => wire.destination_post.clone_from(&given.destination_post),
                "destination_leader" => wire.destination_leader = given.destination_leader,
                "start_date" => wire.start_date = given.start_date,
                "planned_end_date" => wire.planned_end_date = given.planned_end_date,
                "decision" => wire.decision.clone_from(&given.decision),
                "programme" => wire.programme.clone_from(&given.programme),
                _ => {}
            }
        }
        let mut v = Violations::new();
        let fields = rotation_fields(&mut v, wire, "rotation");
        v.into_result(|| fields)
    }
}

impl TryFrom<pb::UpdateRotationRequest> for UpdateRotation {
    type Error = Error;

    fn try_from(request: pb::UpdateRotationRequest) -> Result<Self> {
        let pb::UpdateRotationRequest { rotation, update_mask } = request;
        let Some(given) = rotation else { return Err(Error::invalid("rotation", "is required")) };
        let mut v = Violations::new();
        let name = v.check("rotation.name", RotationName::parse(&given.name));
        let paths = update_paths(&mut v, update_mask.as_ref(), UPDATABLE);
        let etag = given.etag.clone();
        v.into_result(|| Some(Self { name: name?, etag, paths, given }))
    }
}

/// A checked CompleteRotation request.
#[derive(Debug, Clone)]
pub struct CompleteRotation {
    /// The movement.
    pub name: RotationName,
    /// The etag the caller read, if any.
    pub etag: String,
    /// The first day back (or at the destination for good).
    pub actual_end_date: NaiveDate,
    /// The rating over the period.
    pub rating: Option<Rating>,
    /// Promoted at or after the end.
    pub promoted: bool,
    /// The post after the return, in NFC, if given.
    pub post_after_return: Option<String>,
}

impl TryFrom<pb::CompleteRotationRequest> for CompleteRotation {
    type Error = Error;

    fn try_from(request: pb::CompleteRotationRequest) -> Result<Self> {
        let pb::CompleteRotationRequest { name, actual_end_date, outcome, etag } = request;
        let pb::RotationOutcome { rating, promoted, post_after_return } = outcome.unwrap_or_default();
        let mut v = Violations::new();
        let name = v.check("name", RotationName::parse(&name));
        let actual_end_date = v.check("actual_end_date", date(actual_end_date.as_ref()));
        let rating = v.check("outcome.rating", optional_rating(rating));
        let post = normalize_name(&post_after_return);
        if post.chars().count() > MAX_POST_AFTER_RETURN {
            v.add("outcome.post_after_return", format!("is longer than {MAX_POST_AFTER_RETURN} characters"));
        }
        let post_after_return = Some(post).filter(|p| !p.is_empty());
        v.into_result(|| {
            Some(Self {
                name: name?,
                etag,
                actual_end_date: actual_end_date?,
                rating: rating?,
                promoted,
                post_after_return,
            })
        })
    }
}

/// A checked ListRotations request.
#[derive(Debug, Clone)]
pub struct ListRotations {
    /// Movements whose source or destination unit lies in this locality's subtree.
    pub locality: Code,
    /// Starting on or after.
    pub start_from: Option<NaiveDate>,
    /// Starting before.
    pub start_until: Option<NaiveDate>,
    /// The filter's conditions.
    pub conditions: Vec<Condition>,
    /// The page asked for.
    pub page: Page,
}

impl TryFrom<pb::ListRotationsRequest> for ListRotations {
    type Error = Error;

    fn try_from(request: pb::ListRotationsRequest) -> Result<Self> {
        let pb::ListRotationsRequest { locality, start_from, start_until, filter, page_size, page_token } = request;
        let mut v = Violations::new();
        let code = v.check("locality", Code::from_name(&locality));
        let start_from = v.check("start_from", optional_date(start_from.as_ref()));
        let start_until = v.check("start_until", optional_date(start_until.as_ref()));
        if let (Some(Some(from)), Some(Some(until))) = (start_from, start_until)
            && until <= from
        {
            v.add("start_until", "must be after start_from");
        }
        let conditions = v.check("filter", parse_filter(&filter));
        let dates = format!("{start_from:?} {start_until:?}");
        let page = Page::parse(&mut v, page_size, &page_token, &["ListRotations", &locality, &dates, &filter]);
        v.into_result(|| {
            Some(Self {
                locality: code?,
                start_from: start_from?,
                start_until: start_until?,
                conditions: conditions?,
                page: page?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_short_and_full_enum_names() {
        assert_eq!(
            parse_filter("kind = ROTATION AND status = ROTATION_STATUS_ACTIVE AND direction = downward"),
            Ok(vec![
                Condition::Kind(Kind::Rotation),
                Condition::Status(Status::Active),
                Condition::Direction(Direction::Downward),
            ])
        );
        assert!(parse_filter("kind = PROMOTION").is_err());
        assert!(parse_filter("person = people/1").is_err());
        assert_eq!(parse_filter(""), Ok(vec![]));
    }

    #[test]
    fn filters_compare_only_for_equality() {
        assert!(parse_filter("kind != ROTATION").is_err());
        assert!(parse_filter("NOT status = ACTIVE").is_err());
    }

    #[test]
    fn a_create_request_reports_every_bad_field_at_once() {
        let request = pb::CreateRotationRequest {
            rotation: Some(pb::Rotation {
                person: "persons/1".into(),
                source_unit: "units/1".into(),
                destination_unit: "units/2".into(),
                source_post: "Chuyên viên".into(),
                destination_post: "Chuyên viên".into(),
                decision: Some(pb::RotationDecision { number: "1".into(), decided_on: None, issuing_body: "x".into() }),
                ..Default::default()
            }),
            request_id: "bad id".into(),
        };
        let Err(Error::InvalidArgument(violations)) = CreateRotation::try_from(request) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["request_id", "rotation.person", "rotation.kind", "rotation.start_date", "rotation.decision.decided_on"]
        );
    }

    #[test]
    fn a_completion_bounds_the_post_after_return_and_reads_the_rating() {
        let request = |post: String, rating: i32| pb::CompleteRotationRequest {
            name: "rotations/1".into(),
            actual_end_date: Some(pb::Date { year: 2025, month: 1, day: 1 }),
            outcome: Some(pb::RotationOutcome { rating, promoted: true, post_after_return: post }),
            etag: String::new(),
        };
        let done = CompleteRotation::try_from(request(" Trưởng  phòng ".into(), pb::Rating::Good.into()));
        let done = done.map(|c| (c.rating, c.promoted, c.post_after_return));
        assert!(matches!(done, Ok((Some(Rating::Good), true, Some(p))) if p == "Trưởng phòng"));
        assert!(CompleteRotation::try_from(request("ư".repeat(201), 0)).is_err());
        assert!(CompleteRotation::try_from(request(String::new(), 99)).is_err());
    }
}
