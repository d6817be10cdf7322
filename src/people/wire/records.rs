//! The requests about a person's records: placements, qualifications, evaluations and
//! disciplinary decisions (create, get, list, update, delete each).

use chrono::NaiveDate;

use super::{
    decided_on, decision_number, parse_evaluation, parse_level, placement_in, qualification_in, reason, short_text,
};
use crate::{
    domain::date::today,
    edge::{
        Violations,
        enums::Table as _,
        names::{DisciplineName, PersonName, PlacementName, QualificationName, UnitName},
        page::Page,
        request::{date, optional_date, request_key, update_paths},
    },
    error::{Error, Result},
    grpc::pb,
    people::rules::person::{DisciplineFields, PlacementFields, QualificationFields, Rating, Sanction},
    uow::RequestKey,
};

/// A checked create request of a record of a person.
#[derive(Debug, Clone)]
pub struct Create<F> {
    /// The person.
    pub person: PersonName,
    /// The record's fields.
    pub fields: F,
    /// Its idempotency key, if the caller gave a request id.
    pub key: Option<RequestKey>,
}

/// A checked get or delete request of a record named `N`.
#[derive(Debug, Clone)]
pub struct Named<N> {
    /// The record.
    pub name: N,
    /// The etag the caller read, if any (empty for a get).
    pub etag: String,
}

/// A checked update request of a record named `N`, changing it by `P`.
#[derive(Debug, Clone)]
pub struct Update<N, P> {
    /// The record.
    pub name: N,
    /// The etag the caller read, if any.
    pub etag: String,
    /// What changes.
    pub patch: P,
}

/// A checked list request of a person's records.
#[derive(Debug, Clone)]
pub struct List {
    /// The person.
    pub person: PersonName,
    /// The page asked for.
    pub page: Page,
}

fn list(parent: &str, page_size: i32, page_token: &str, collection: &str) -> Result<List> {
    let mut v = Violations::new();
    let person = v.check("parent", PersonName::parse(parent));
    let page = Page::parse(&mut v, page_size, page_token, &[collection, parent]);
    v.into_result(|| Some(List { person: person?, page: page? }))
}

fn named<N>(name: &str, parse: fn(&str) -> Result<N, String>, etag: String) -> Result<Named<N>> {
    let mut v = Violations::new();
    let name = v.check("name", parse(name));
    v.into_result(|| Some(Named { name: name?, etag }))
}

// ---- placements ----------------------------------------------------------------------

impl TryFrom<pb::CreatePlacementRequest> for Create<PlacementFields> {
    type Error = Error;

    fn try_from(request: pb::CreatePlacementRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreatePlacementRequest { parent, placement, request_id: _ } = request;
        let person = v.check("parent", PersonName::parse(&parent));
        let fields = match placement {
            Some(p) => placement_in(&mut v, p, "placement"),
            None => {
                v.add("placement", "is required");
                None
            }
        };
        v.into_result(|| Some(Self { person: person?, fields: fields?, key }))
    }
}

impl TryFrom<pb::GetPlacementRequest> for Named<PlacementName> {
    type Error = Error;

    fn try_from(request: pb::GetPlacementRequest) -> Result<Self> {
        let pb::GetPlacementRequest { name } = request;
        named(&name, PlacementName::parse, String::new())
    }
}

impl TryFrom<pb::DeletePlacementRequest> for Named<PlacementName> {
    type Error = Error;

    fn try_from(request: pb::DeletePlacementRequest) -> Result<Self> {
        let pb::DeletePlacementRequest { name, etag } = request;
        named(&name, PlacementName::parse, etag)
    }
}

impl TryFrom<pb::ListPlacementsRequest> for List {
    type Error = Error;

    fn try_from(request: pb::ListPlacementsRequest) -> Result<Self> {
        let pb::ListPlacementsRequest { parent, page_size, page_token } = request;
        list(&parent, page_size, &page_token, "placements")
    }
}

/// The fields UpdatePlacement may change.
pub const PLACEMENT_UPDATABLE: &[&str] = &["unit", "post_title", "leader", "key_post", "valid_from", "valid_until"];

/// What an UpdatePlacement request changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacementPatch {
    /// A new unit.
    pub unit: Option<UnitName>,
    /// A new post.
    pub post_title: Option<String>,
    /// Whether the post leads.
    pub leader: Option<bool>,
    /// Whether it is a key post.
    pub key_post: Option<bool>,
    /// A new start.
    pub valid_from: Option<NaiveDate>,
    /// A new end (`Some(None)` opens it).
    pub valid_until: Option<Option<NaiveDate>>,
}

impl PlacementPatch {
    /// The fields after the patch.
    pub fn apply(&self, p: &PlacementFields) -> PlacementFields {
        PlacementFields {
            unit_id: self.unit.map_or(p.unit_id, UnitName::id),
            post_title: self.post_title.clone().unwrap_or_else(|| p.post_title.clone()),
            leader: self.leader.unwrap_or(p.leader),
            key_post: self.key_post.unwrap_or(p.key_post),
            valid_from: self.valid_from.unwrap_or(p.valid_from),
            valid_until: self.valid_until.unwrap_or(p.valid_until),
        }
    }
}

impl TryFrom<pb::UpdatePlacementRequest> for Update<PlacementName, PlacementPatch> {
    type Error = Error;

    fn try_from(request: pb::UpdatePlacementRequest) -> Result<Self> {
        let pb::UpdatePlacementRequest { placement, update_mask } = request;
        let Some(placement) = placement else { return Err(Error::invalid("placement", "is required")) };
        let pb::Placement {
            name,
            unit,
            post_title,
            leader,
            key_post,
            valid_from,
            valid_until,
            locality: _,
            tier: _,
            etag,
        } = placement;
        let mut v = Violations::new();
        let placement_name = v.check("placement.name", PlacementName::parse(&name));
        let mut patch = PlacementPatch::default();
        for path in update_paths(&mut v, update_mask.as_ref(), PLACEMENT_UPDATABLE) {
            match path.as_str() {
                "unit" => patch.unit = v.check("placement.unit", UnitName::parse(&unit)),
                "post_title" => patch.post_title = v.check("placement.post_title", short_text(&post_title, 200)),
                "leader" => patch.leader = Some(leader),
                "key_post" => patch.key_post = Some(key_post),
                "valid_from" => patch.valid_from = v.check("placement.valid_from", date(valid_from.as_ref())),
                "valid_until" => {
                    patch.valid_until = v.check("placement.valid_until", optional_date(valid_until.as_ref()));
                }
                _ => {}
            }
        }
        v.into_result(|| Some(Self { name: placement_name?, etag, patch }))
    }
}

// ---- qualifications ------------------------------------------------------------------

impl TryFrom<pb::CreateQualificationRequest> for Create<QualificationFields> {
    type Error = Error;

    fn try_from(request: pb::CreateQualificationRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateQualificationRequest { parent, qualification, request_id: _ } = request;
        let person = v.check("parent", PersonName::parse(&parent));
        let fields = match qualification {
            Some(q) => qualification_in(&mut v, q, "qualification"),
            None => {
                v.add("qualification", "is required");
                None
            }
        };
        v.into_result(|| Some(Self { person: person?, fields: fields?, key }))
    }
}

impl TryFrom<pb::GetQualificationRequest> for Named<QualificationName> {
    type Error = Error;

    fn try_from(request: pb::GetQualificationRequest) -> Result<Self> {
        let pb::GetQualificationRequest { name } = request;
        named(&name, QualificationName::parse, String::new())
    }
}

impl TryFrom<pb::DeleteQualificationRequest> for Named<QualificationName> {
    type Error = Error;

    fn try_from(request: pb::DeleteQualificationRequest) -> Result<Self> {
        let pb::DeleteQualificationRequest { name, etag } = request;
        named(&name, QualificationName::parse, etag)
    }
}

impl TryFrom<pb::ListQualificationsRequest> for List {
    type Error = Error;

    fn try_from(request: pb::ListQualificationsRequest) -> Result<Self> {
        let pb::ListQualificationsRequest { parent, page_size, page_token } = request;
        list(&parent, page_size, &page_token, "qualifications")
    }
}

/// The fields UpdateQualification may change.
pub const QUALIFICATION_UPDATABLE: &[&str] = &["level", "field_of_study", "institution", "awarded_on"];

/// What an UpdateQualification request changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QualificationPatch {
    /// A new level (scale, level).
    pub level: Option<(String, String)>,
    /// A new field of study.
    pub field_of_study: Option<String>,
    /// A new institution.
    pub institution: Option<String>,
    /// A new award date.
    pub awarded_on: Option<NaiveDate>,
}

impl QualificationPatch {
    /// The fields after the patch.
    pub fn apply(&self, q: &QualificationFields) -> QualificationFields {
        let (scale, level) = self.level.clone().unwrap_or_else(|| (q.scale.clone(), q.level.clone()));
        QualificationFields {
            scale,
            level,
            field_of_study: self.field_of_study.clone().unwrap_or_else(|| q.field_of_study.clone()),
            institution: self.institution.clone().unwrap_or_else(|| q.institution.clone()),
            awarded_on: self.awarded_on.unwrap_or(q.awarded_on),
        }
    }
}

impl TryFrom<pb::UpdateQualificationRequest> for Update<QualificationName, QualificationPatch> {
    type Error = Error;

    fn try_from(request: pb::UpdateQualificationRequest) -> Result<Self> {
        let pb::UpdateQualificationRequest { qualification, update_mask } = request;
        let Some(qualification) = qualification else {
            return Err(Error::invalid("qualification", "is required"));
        };
        let pb::Qualification { name, level, field_of_study, institution, awarded_on, etag } = qualification;
        let mut v = Violations::new();
        let qualification_name = v.check("qualification.name", QualificationName::parse(&name));
        let mut patch = QualificationPatch::default();
        for path in update_paths(&mut v, update_mask.as_ref(), QUALIFICATION_UPDATABLE) {
            match path.as_str() {
                "level" => patch.level = v.check("qualification.level", parse_level(&level)),
                "field_of_study" => {
                    patch.field_of_study = v.check("qualification.field_of_study", short_text(&field_of_study, 200));
                }
                "institution" => {
                    patch.institution = v.check("qualification.institution", short_text(&institution, 200));
                }
                "awarded_on" => patch.awarded_on = v.check("qualification.awarded_on", date(awarded_on.as_ref())),
                _ => {}
            }
        }
        v.into_result(|| Some(Self { name: qualification_name?, etag, patch }))
    }
}

// ---- evaluations ---------------------------------------------------------------------

/// The name of an evaluation: its person and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationKey {
    /// The person.
    pub person: PersonName,
    /// The year.
    pub year: i32,
}

impl EvaluationKey {
    fn parse(name: &str) -> Result<Self, String> {
        parse_evaluation(name).map(|(person, year)| Self { person, year })
    }
}

impl std::fmt::Display for EvaluationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&super::evaluation_name(self.person.id(), self.year))
    }
}

/// A new evaluation: its year and rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationFields {
    /// The year rated.
    pub year: i32,
    /// The rating.
    pub rating: Rating,
}

impl TryFrom<pb::CreateEvaluationRequest> for Create<EvaluationFields> {
    type Error = Error;

    fn try_from(request: pb::CreateEvaluationRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateEvaluationRequest { parent, evaluation, request_id: _ } = request;
        let person = v.check("parent", PersonName::parse(&parent));
        if evaluation.is_none() {
            v.add("evaluation", "is required");
        }
        let pb::Evaluation { name: _, year, rating, etag: _ } = evaluation.unwrap_or_default();
        let rating = v.check("evaluation.rating", Rating::required(rating));
        v.into_result(|| Some(Self { person: person?, fields: EvaluationFields { year, rating: rating? }, key }))
    }
}

impl TryFrom<pb::GetEvaluationRequest> for Named<EvaluationKey> {
    type Error = Error;

    fn try_from(request: pb::GetEvaluationRequest) -> Result<Self> {
        let pb::GetEvaluationRequest { name } = request;
        named(&name, EvaluationKey::parse, String::new())
    }
}

impl TryFrom<pb::DeleteEvaluationRequest> for Named<EvaluationKey> {
    type Error = Error;

    fn try_from(request: pb::DeleteEvaluationRequest) -> Result<Self> {
        let pb::DeleteEvaluationRequest { name, etag } = request;
        named(&name, EvaluationKey::parse, etag)
    }
}

impl TryFrom<pb::ListEvaluationsRequest> for List {
    type Error = Error;

    fn try_from(request: pb::ListEvaluationsRequest) -> Result<Self> {
        let pb::ListEvaluationsRequest { parent, page_size, page_token } = request;
        list(&parent, page_size, &page_token, "evaluations")
    }
}

impl TryFrom<pb::UpdateEvaluationRequest> for Update<EvaluationKey, Rating> {
    type Error = Error;

    fn try_from(request: pb::UpdateEvaluationRequest) -> Result<Self> {
        let pb::UpdateEvaluationRequest { evaluation, update_mask } = request;
        let Some(evaluation) = evaluation else { return Err(Error::invalid("evaluation", "is required")) };
        // The year is the evaluation's name: only the rating changes.
        let pb::Evaluation { name, year: _, rating, etag } = evaluation;
        let mut v = Violations::new();
        let key = v.check("evaluation.name", EvaluationKey::parse(&name));
        update_paths(&mut v, update_mask.as_ref(), &["rating"]);
        let rating = v.check("evaluation.rating", Rating::required(rating));
        v.into_result(|| Some(Self { name: key?, etag, patch: rating? }))
    }
}

// ---- disciplines ---------------------------------------------------------------------

impl TryFrom<pb::CreateDisciplineRequest> for Create<DisciplineFields> {
    type Error = Error;

    fn try_from(request: pb::CreateDisciplineRequest) -> Result<Self> {
        let mut v = Violations::new();
        let key = request_key(&mut v, &request.request_id, &request, |r| r.request_id.clear());
        let pb::CreateDisciplineRequest { parent, discipline, request_id: _ } = request;
        let person = v.check("parent", PersonName::parse(&parent));
        if discipline.is_none() {
            v.add("discipline", "is required");
        }
        let pb::Discipline { name: _, sanction, decided_on: decided, decision_number: number, reason: why, etag: _ } =
            discipline.unwrap_or_default();
        let sanction = v.check("discipline.sanction", Sanction::required(sanction));
        let decided = v.check("discipline.decided_on", decided_on(decided.as_ref(), today()));
        let number = v.check("discipline.decision_number", decision_number(&number));
        let why = v.check("discipline.reason", reason(&why));
        v.into_result(|| {
            let fields =
                DisciplineFields { sanction: sanction?, decided_on: decided?, decision_number: number?, reason: why? };
            Some(Self { person: person?, fields, key })
        })
    }
}

impl TryFrom<pb::GetDisciplineRequest> for Named<DisciplineName> {
    type Error = Error;

    fn try_from(request: pb::GetDisciplineRequest) -> Result<Self> {
        let pb::GetDisciplineRequest { name } = request;
        named(&name, DisciplineName::parse, String::new())
    }
}

impl TryFrom<pb::DeleteDisciplineRequest> for Named<DisciplineName> {
    type Error = Error;

    fn try_from(request: pb::DeleteDisciplineRequest) -> Result<Self> {
        let pb::DeleteDisciplineRequest { name, etag } = request;
        named(&name, DisciplineName::parse, etag)
    }
}

impl TryFrom<pb::ListDisciplinesRequest> for List {
    type Error = Error;

    fn try_from(request: pb::ListDisciplinesRequest) -> Result<Self> {
        let pb::ListDisciplinesRequest { parent, page_size, page_token } = request;
        list(&parent, page_size, &page_token, "disciplines")
    }
}

/// The fields UpdateDiscipline may change.
pub const DISCIPLINE_UPDATABLE: &[&str] = &["sanction", "decided_on", "decision_number", "reason"];

/// What an UpdateDiscipline request changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisciplinePatch {
    /// A new sanction.
    pub sanction: Option<Sanction>,
    /// A new decision date.
    pub decided_on: Option<NaiveDate>,
    /// A new decision number.
    pub decision_number: Option<String>,
    /// A new reason.
    pub reason: Option<String>,
}

impl DisciplinePatch {
    /// The fields after the patch.
    pub fn apply(&self, d: &DisciplineFields) -> DisciplineFields {
        DisciplineFields {
            sanction: self.sanction.unwrap_or(d.sanction),
            decided_on: self.decided_on.unwrap_or(d.decided_on),
            decision_number: self.decision_number.clone().unwrap_or_else(|| d.decision_number.clone()),
            reason: self.reason.clone().unwrap_or_else(|| d.reason.clone()),
        }
    }
}

impl TryFrom<pb::UpdateDisciplineRequest> for Update<DisciplineName, DisciplinePatch> {
    type Error = Error;

    fn try_from(request: pb::UpdateDisciplineRequest) -> Result<Self> {
        let pb::UpdateDisciplineRequest { discipline, update_mask } = request;
        let Some(discipline) = discipline else { return Err(Error::invalid("discipline", "is required")) };
        let pb::Discipline { name, sanction, decided_on: decided, decision_number: number, reason: why, etag } =
            discipline;
        let mut v = Violations::new();
        let discipline_name = v.check("discipline.name", DisciplineName::parse(&name));
        let mut patch = DisciplinePatch::default();
        for path in update_paths(&mut v, update_mask.as_ref(), DISCIPLINE_UPDATABLE) {
            match path.as_str() {
                "sanction" => patch.sanction = v.check("discipline.sanction", Sanction::required(sanction)),
                "decided_on" => {
                    patch.decided_on = v.check("discipline.decided_on", decided_on(decided.as_ref(), today()));
                }
                "decision_number" => {
                    patch.decision_number = v.check("discipline.decision_number", decision_number(&number));
                }
                "reason" => patch.reason = v.check("discipline.reason", reason(&why)),
                _ => {}
            }
        }
        v.into_result(|| Some(Self { name: discipline_name?, etag, patch }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discipline_reports_every_bad_field_at_once() {
        let request = pb::CreateDisciplineRequest {
            parent: "people/0".into(),
            discipline: Some(pb::Discipline {
                decided_on: Some(pb::Date { year: 2999, month: 1, day: 1 }),
                reason: "x".repeat(2001),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let Err(Error::InvalidArgument(violations)) = Create::<DisciplineFields>::try_from(request) else {
            panic!("expected INVALID_ARGUMENT")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "parent",
                "discipline.sanction",
                "discipline.decided_on",
                "discipline.decision_number",
                "discipline.reason"
            ]
        );
    }

    #[test]
    fn a_placement_patch_changes_only_what_it_names() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let stored = PlacementFields {
            unit_id: 1,
            post_title: "Chuyên viên".into(),
            leader: false,
            key_post: false,
            valid_from: day(2020, 1, 1),
            valid_until: None,
        };
        let patch = PlacementPatch { valid_until: Some(Some(day(2024, 1, 1))), ..Default::default() };
        assert_eq!(patch.apply(&stored), PlacementFields { valid_until: Some(day(2024, 1, 1)), ..stored.clone() });
        assert_eq!(PlacementPatch::default().apply(&stored), stored);
    }
}
