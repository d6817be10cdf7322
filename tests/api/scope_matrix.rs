//! The scope matrix: every RPC of every hrplan service, enumerated from the descriptor
//! set the server publishes, called by every kind of caller (no token; a token with no
//! role; each role scoped to province 11; an editor and an admin of the whole country)
//! on a target inside the caller's province, one in another province (20), one that does
//! not exist and, where the RPC has one, the whole country.
//!
//! The expected outcome of each call follows from the rules in [`expect`], stated once:
//! the role the RPC needs (read, personal-data read, write, national admin), then the
//! scope (outside → PERMISSION_DENIED whether or not the target exists; missing → NOT_FOUND
//! when the caller may see where it would be). A call the rules allow must not be refused,
//! and what it answers must name no locality, unit or person outside the caller's scope.
//! A refused call must leave the database unchanged.
//!
//! An RPC without an entry in [`table`] fails the test, so a new RPC cannot be added
//! without saying who may call it.

use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    pin::Pin,
    sync::Arc,
};

use hrplan::{
    auth::Role,
    grpc::{FILE_DESCRIPTOR_SET, pb},
};
use prost::Message as _;
use sea_orm::{ConnectionTrait, Statement};
use tokio_stream::StreamExt as _;
use tonic::{Code, Response, Status};

use crate::{
    clients::{Caller, Clients},
    helpers::{TestApp, date, spawn_app},
};

/// The caller's province; the other province; a code that names no locality.
const HOME: &str = "11";
const ELSEWHERE: &str = "20";
const NO_SUCH_ID: &str = "999999";
/// The communes the matrix asks to create (validate only) under the target province.
const NEW_COMMUNES: [&str; 2] = ["99990", "99991"];

/// What an RPC needs of the caller's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Any role: the locality tree, units, reference data, aggregates.
    Read,
    /// Person-level data: `personal_data_reader` (or `admin`).
    Personal,
    /// Changing records: `editor` (or `admin`).
    Write,
    /// Changing national reference data: `admin` with the whole country in scope.
    NationalAdmin,
}

/// The targets a call is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    /// A record of the caller's province.
    Inside,
    /// A record of another province.
    Outside,
    /// A name that exists nowhere.
    Missing,
    /// The whole country (an empty locality), for RPCs that accept one.
    Country,
}

/// Where a missing target would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// A record under an existing parent inside the caller's scope (a placement of a
    /// person of the province): the caller may learn that it does not exist.
    UnderInside,
    /// A top-level name (a locality, unit, person, plan…) that no locality holds: a
    /// scoped caller cannot be told apart from one asking about another province, so
    /// it may be refused as well as not found.
    Unplaced,
}

/// What an empty locality means to an RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Country {
    /// The RPC has no whole-country form.
    None,
    /// Everything the caller may see: a scoped caller gets its own scope.
    Filtered,
    /// The whole country itself: only a national caller may ask.
    National,
}

/// The outcome the rules give a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Refused with this code.
    Refused(Code),
    /// Refused or not found: both say nothing about other provinces.
    Hidden,
    /// Not refused: an answer, or a domain error of a write (stale etag, duplicate…).
    Allowed,
}

/// One kind of caller.
struct Who {
    label: &'static str,
    caller: Caller,
    roles: Vec<Role>,
    national: bool,
    anonymous: bool,
}

impl Who {
    fn has(&self, role: Role) -> bool {
        self.roles.contains(&role) || self.roles.contains(&Role::Admin)
    }
}

fn callers() -> Vec<Who> {
    let scoped = |label, roles: &[Role]| Who {
        label,
        caller: Caller::of(&[HOME], roles),
        roles: roles.to_vec(),
        national: false,
        anonymous: false,
    };
    let national = |label, roles: &[Role]| Who {
        label,
        caller: Caller::of(&["*"], roles),
        roles: roles.to_vec(),
        national: true,
        anonymous: false,
    };
    vec![
        Who { label: "no token", caller: Caller::with_token(None), roles: vec![], national: false, anonymous: true },
        scoped("no role of 11", &[]),
        scoped("aggregate_reader of 11", &[Role::AggregateReader]),
        scoped("personal_data_reader of 11", &[Role::PersonalDataReader]),
        scoped("editor of 11", &[Role::Editor]),
        scoped("admin of 11", &[Role::Admin]),
        national("national editor", &[Role::Editor]),
        national("national admin", &[Role::Admin]),
    ]
}

/// The rules, stated once: authentication, then the role, then the scope.
fn expect(entry: &Entry, who: &Who, target: Target) -> Expect {
    if who.anonymous {
        return Expect::Refused(Code::Unauthenticated);
    }
    let role = match entry.rule {
        Rule::Read => !who.roles.is_empty(),
        Rule::Personal => who.has(Role::PersonalDataReader),
        Rule::Write => who.has(Role::Editor),
        Rule::NationalAdmin => who.has(Role::Admin) && who.national,
    };
    if !role {
        return Expect::Refused(Code::PermissionDenied);
    }
    match target {
        Target::Inside => Expect::Allowed,
        Target::Outside if who.national => Expect::Allowed,
        Target::Outside => Expect::Refused(Code::PermissionDenied),
        Target::Missing if who.national => Expect::Refused(Code::NotFound),
        Target::Missing => match entry.missing {
            Missing::UnderInside => Expect::Refused(Code::NotFound),
            Missing::Unplaced => Expect::Hidden,
        },
        Target::Country => match entry.country {
            Country::Filtered => Expect::Allowed,
            Country::National if who.national => Expect::Allowed,
            Country::National | Country::None => Expect::Refused(Code::PermissionDenied),
        },
    }
}

/// The codes an allowed write may still answer: the matrix aims writes at existing
/// records with a stale etag, or creates copies of existing records, so that allowed
/// calls change little; these are the answers of the write's own rules.
/// INVALID_ARGUMENT is among them because some rules that depend on the records (a
/// placement overlapping another, a removal before the candidate was added) are
/// answered as invalid fields; the refused calls prove that the same requests pass
/// validation far enough to be refused.
const WRITE_OUTCOMES: [Code; 4] = [Code::Aborted, Code::AlreadyExists, Code::FailedPrecondition, Code::InvalidArgument];

/// The records a call can be aimed at, all inside one province (or missing).
#[derive(Debug, Clone)]
struct Subject {
    /// The locality used as a filter or a scope (`localities/11`, or empty for the country).
    scope: String,
    locality: pb::Locality,
    unit: pb::Unit,
    person: pb::Person,
    record: pb::PersonRecord,
    scale: String,
    placement: pb::Placement,
    qualification: pb::Qualification,
    evaluation: pb::Evaluation,
    discipline: pb::Discipline,
    plan: pb::TrainingPlan,
    course: pb::Course,
    enrollment: pb::Enrollment,
    rotation: pb::Rotation,
    pool: pb::SuccessionPool,
    quota: pb::StaffingQuota,
    standard: pb::Standard,
    level: pb::Level,
}

type Call = Pin<Box<dyn Future<Output = Result<String, Status>> + Send>>;

/// One RPC: who may call it, what it can be aimed at, and how to call it.
struct Entry {
    method: &'static str,
    rule: Rule,
    targets: &'static [Target],
    missing: Missing,
    country: Country,
    call: Box<dyn Fn(Clients, Arc<Subject>) -> Call>,
}

fn answer<T: std::fmt::Debug>(result: Result<Response<T>, Status>) -> Result<String, Status> {
    result.map(|r| format!("{:?}", r.into_inner()))
}

async fn drain<T: std::fmt::Debug>(result: Result<Response<tonic::Streaming<T>>, Status>) -> Result<String, Status> {
    let mut stream = result?.into_inner();
    let mut text = String::new();
    while let Some(item) = stream.next().await {
        text.push_str(&format!("{:?}", item?));
    }
    Ok(text)
}

/// An import goes on past a record it may not write and reports it rejected, its unit
/// said not to exist (as a unit of another province is to a scoped caller): that is
/// the import's refusal.
fn unit_refusals(answer: Result<String, Status>) -> Result<String, Status> {
    match answer {
        Ok(text) if text.contains("field: \"placements[0].unit\"") && text.contains("does not exist") => {
            Err(Status::permission_denied(text))
        }
        other => other,
    }
}

/// A stale etag: allowed updates and deletes are answered ABORTED and change nothing.
fn stale() -> String {
    "\"999999\"".to_owned()
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() })
}

const ALL: &[Target] = &[Target::Inside, Target::Outside, Target::Missing];
const ALL_AND_COUNTRY: &[Target] = &[Target::Inside, Target::Outside, Target::Missing, Target::Country];
/// Creates whose body names the records it hangs from (a unit, an owner): a missing
/// target is a matter of the body's checks, not of scope.
const IN_OUT: &[Target] = &[Target::Inside, Target::Outside];
const UNSCOPED: &[Target] = &[Target::Inside, Target::Missing];
const NO_TARGET: &[Target] = &[Target::Inside];

macro_rules! entry {
    ($method:literal, $rule:ident, $targets:expr, $missing:ident, $country:ident, |$c:ident, $s:ident| $body:expr) => {
        Entry {
            method: $method,
            rule: Rule::$rule,
            targets: $targets,
            missing: Missing::$missing,
            country: Country::$country,
            call: Box::new(|$c: Clients, $s: Arc<Subject>| -> Call { Box::pin(async move { $body }) }),
        }
    };
}

/// Every RPC of the matrix. A new RPC needs an entry here.
#[expect(clippy::too_many_lines, reason = "one entry per RPC, in the order of the protos")]
fn table() -> Vec<Entry> {
    vec![
        // LocalityService.
        entry!("hrplan.v1.LocalityService/CreateLocality", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.localities()
                .create_locality(pb::CreateLocalityRequest {
                    locality_id: NEW_COMMUNES[0].into(),
                    locality: Some(pb::Locality {
                        tier: pb::LocalityTier::Commune.into(),
                        versions: vec![crate::helpers::version(
                            date(2026, 1, 1),
                            None,
                            "Xã Ma Trận",
                            pb::LocalityKind::Commune,
                            &s.scope,
                        )],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                    validate_only: true,
                })
                .await
        )),
        entry!("hrplan.v1.LocalityService/GetLocality", Read, ALL, Unplaced, None, |c, s| answer(
            c.localities().get_locality(pb::GetLocalityRequest { name: s.locality.name.clone(), as_of: None }).await
        )),
        entry!("hrplan.v1.LocalityService/ListLocalities", Read, ALL_AND_COUNTRY, Unplaced, Filtered, |c, s| answer(
            c.localities()
                .list_localities(pb::ListLocalitiesRequest {
                    parent: s.scope.clone(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.LocalityService/UpdateLocality", Write, ALL, Unplaced, None, |c, s| answer(
            c.localities()
                .update_locality(pb::UpdateLocalityRequest {
                    locality: Some(pb::Locality { etag: stale(), ..s.locality.clone() }),
                    update_mask: mask(&["tags"]),
                })
                .await
        )),
        entry!("hrplan.v1.LocalityService/DeleteLocality", Write, ALL, Unplaced, None, |c, s| answer(
            c.localities()
                .delete_locality(pb::DeleteLocalityRequest { name: s.locality.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.LocalityService/ListAncestors", Read, ALL, Unplaced, None, |c, s| answer(
            c.localities()
                .list_ancestors(pb::ListAncestorsRequest { name: s.locality.name.clone(), as_of: None })
                .await
        )),
        entry!("hrplan.v1.LocalityService/ListDescendants", Read, ALL, Unplaced, None, |c, s| answer(
            c.localities()
                .list_descendants(pb::ListDescendantsRequest {
                    name: s.locality.name.clone(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.LocalityService/SearchLocalities", Read, &[Target::Country], Unplaced, Filtered, |c, _s| {
            answer(
                c.localities()
                    .search_localities(pb::SearchLocalitiesRequest {
                        query: "xã".into(),
                        page_size: 1000,
                        ..Default::default()
                    })
                    .await,
            )
        }),
        entry!("hrplan.v1.LocalityService/Reorganize", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.localities()
                .reorganize(pb::ReorganizeRequest {
                    effective_date: Some(date(2026, 6, 1)),
                    legal_basis: "Nghị quyết thử nghiệm".into(),
                    creations: vec![pb::LocalityCreation {
                        locality_id: NEW_COMMUNES[1].into(),
                        tier: pb::LocalityTier::Commune.into(),
                        display_name: "Xã Ma Trận".into(),
                        kind: pb::LocalityKind::Commune.into(),
                        parent: s.scope.clone(),
                        tags: vec![],
                    }],
                    validate_only: true,
                    ..Default::default()
                })
                .await
        )),
        // UnitService.
        entry!("hrplan.v1.UnitService/CreateUnit", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.units()
                .create_unit(pb::CreateUnitRequest {
                    unit: Some(pb::Unit {
                        name: String::new(),
                        etag: String::new(),
                        display_name: "Đơn vị ma trận".into(),
                        ..s.unit.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.UnitService/GetUnit", Read, ALL, Unplaced, None, |c, s| answer(
            c.units().get_unit(pb::GetUnitRequest { name: s.unit.name.clone() }).await
        )),
        entry!("hrplan.v1.UnitService/ListUnits", Read, ALL, Unplaced, None, |c, s| answer(
            c.units()
                .list_units(pb::ListUnitsRequest { locality: s.scope.clone(), page_size: 1000, ..Default::default() })
                .await
        )),
        entry!("hrplan.v1.UnitService/UpdateUnit", Write, ALL, Unplaced, None, |c, s| answer(
            c.units()
                .update_unit(pb::UpdateUnitRequest {
                    unit: Some(pb::Unit { etag: stale(), ..s.unit.clone() }),
                    update_mask: mask(&["display_name"]),
                })
                .await
        )),
        entry!("hrplan.v1.UnitService/DeleteUnit", Write, ALL, Unplaced, None, |c, s| answer(
            c.units().delete_unit(pb::DeleteUnitRequest { name: s.unit.name.clone(), etag: stale() }).await
        )),
        // ScaleService: national reference data.
        entry!("hrplan.v1.ScaleService/ListScales", Read, NO_TARGET, Unplaced, None, |c, _s| answer(
            c.scales().list_scales(pb::ListScalesRequest {}).await
        )),
        entry!("hrplan.v1.ScaleService/GetScale", Read, UNSCOPED, Unplaced, None, |c, s| answer(
            c.scales().get_scale(pb::GetScaleRequest { name: s.scale.clone() }).await
        )),
        entry!("hrplan.v1.ScaleService/CreateLevel", NationalAdmin, UNSCOPED, Unplaced, None, |c, s| answer(
            c.scales()
                .create_level(pb::CreateLevelRequest {
                    parent: s.scale.clone(),
                    level_id: "matrix_level".into(),
                    level: Some(pb::Level {
                        name: String::new(),
                        rank: 90,
                        display_name: "Ma trận".into(),
                        english_name: "Matrix".into(),
                    }),
                })
                .await
        )),
        entry!("hrplan.v1.ScaleService/UpdateLevel", NationalAdmin, UNSCOPED, Unplaced, None, |c, s| answer(
            c.scales().update_level(pb::UpdateLevelRequest { level: Some(s.level.clone()) }).await
        )),
        // StandardService: national reference data, and one person's compliance.
        entry!("hrplan.v1.StandardService/CreateStandard", NationalAdmin, NO_TARGET, Unplaced, None, |c, s| answer(
            c.standards()
                .create_standard(pb::CreateStandardRequest {
                    standard: Some(pb::Standard { name: String::new(), etag: String::new(), ..s.standard.clone() }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.StandardService/GetStandard", Read, UNSCOPED, Unplaced, None, |c, s| answer(
            c.standards().get_standard(pb::GetStandardRequest { name: s.standard.name.clone() }).await
        )),
        entry!("hrplan.v1.StandardService/ListStandards", Read, NO_TARGET, Unplaced, None, |c, _s| answer(
            c.standards().list_standards(pb::ListStandardsRequest { page_size: 1000, ..Default::default() }).await
        )),
        entry!("hrplan.v1.StandardService/UpdateStandard", NationalAdmin, UNSCOPED, Unplaced, None, |c, s| answer(
            c.standards()
                .update_standard(pb::UpdateStandardRequest {
                    standard: Some(pb::Standard { etag: stale(), ..s.standard.clone() }),
                    update_mask: mask(&["display_name"]),
                })
                .await
        )),
        entry!("hrplan.v1.StandardService/DeleteStandard", NationalAdmin, UNSCOPED, Unplaced, None, |c, s| answer(
            c.standards()
                .delete_standard(pb::DeleteStandardRequest { name: s.standard.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.StandardService/GetPersonCompliance", Personal, ALL, Unplaced, None, |c, s| answer(
            c.standards()
                .get_person_compliance(pb::GetPersonComplianceRequest { person: s.person.name.clone(), as_of: None })
                .await
        )),
        // PersonService: people.
        entry!("hrplan.v1.PersonService/CreatePerson", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.people()
                .create_person(pb::CreatePersonRequest { record: Some(s.record.clone()), request_id: String::new() })
                .await
        )),
        entry!("hrplan.v1.PersonService/GetPerson", Personal, ALL, Unplaced, None, |c, s| answer(
            c.people().get_person(pb::GetPersonRequest { name: s.person.name.clone(), as_of: None }).await
        )),
        entry!("hrplan.v1.PersonService/SearchPeople", Personal, ALL_AND_COUNTRY, Unplaced, Filtered, |c, s| answer(
            c.people()
                .search_people(pb::SearchPeopleRequest {
                    locality: s.scope.clone(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/UpdatePerson", Write, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .update_person(pb::UpdatePersonRequest {
                    person: Some(pb::Person { etag: stale(), ..s.person.clone() }),
                    update_mask: mask(&["full_name"]),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/DeletePerson", Write, ALL, Unplaced, None, |c, s| answer(
            c.people().delete_person(pb::DeletePersonRequest { name: s.person.name.clone(), etag: stale() }).await
        )),
        entry!("hrplan.v1.PersonService/ImportPeople", Write, IN_OUT, Unplaced, None, |c, s| unit_refusals(answer(
            c.people()
                .import_people(tokio_stream::iter([pb::ImportPeopleRequest {
                    record: Some(s.record.clone()),
                    mode: pb::ImportMode::Create.into(),
                    validate_only: true,
                }]))
                .await
        ))),
        entry!("hrplan.v1.PersonService/ExportPeople", Personal, ALL_AND_COUNTRY, Unplaced, Filtered, |c, s| drain(
            c.people().export_people(pb::ExportPeopleRequest { locality: s.scope.clone(), ..Default::default() }).await
        )
        .await),
        entry!("hrplan.v1.PersonService/LookupPerson", Personal, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .lookup_person(pb::LookupPersonRequest {
                    identifier: Some(pb::lookup_person_request::Identifier::StaffCode(s.person.staff_code.clone())),
                    as_of: None,
                })
                .await
        )),
        // PersonService: placements.
        entry!("hrplan.v1.PersonService/CreatePlacement", Write, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .create_placement(pb::CreatePlacementRequest {
                    parent: s.person.name.clone(),
                    placement: Some(pb::Placement { name: String::new(), etag: String::new(), ..s.placement.clone() }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/GetPlacement", Personal, ALL, UnderInside, None, |c, s| answer(
            c.people().get_placement(pb::GetPlacementRequest { name: s.placement.name.clone() }).await
        )),
        entry!("hrplan.v1.PersonService/ListPlacements", Personal, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .list_placements(pb::ListPlacementsRequest { parent: s.person.name.clone(), ..Default::default() })
                .await
        )),
        entry!("hrplan.v1.PersonService/UpdatePlacement", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .update_placement(pb::UpdatePlacementRequest {
                    placement: Some(pb::Placement { etag: stale(), ..s.placement.clone() }),
                    update_mask: mask(&["post_title"]),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/DeletePlacement", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .delete_placement(pb::DeletePlacementRequest { name: s.placement.name.clone(), etag: stale() })
                .await
        )),
        // PersonService: qualifications.
        entry!("hrplan.v1.PersonService/CreateQualification", Write, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .create_qualification(pb::CreateQualificationRequest {
                    parent: s.person.name.clone(),
                    qualification: Some(pb::Qualification {
                        name: String::new(),
                        etag: String::new(),
                        ..s.qualification.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/GetQualification", Personal, ALL, UnderInside, None, |c, s| answer(
            c.people().get_qualification(pb::GetQualificationRequest { name: s.qualification.name.clone() }).await
        )),
        entry!("hrplan.v1.PersonService/ListQualifications", Personal, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .list_qualifications(pb::ListQualificationsRequest {
                    parent: s.person.name.clone(),
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/UpdateQualification", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .update_qualification(pb::UpdateQualificationRequest {
                    qualification: Some(pb::Qualification { etag: stale(), ..s.qualification.clone() }),
                    update_mask: mask(&["institution"]),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/DeleteQualification", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .delete_qualification(pb::DeleteQualificationRequest {
                    name: s.qualification.name.clone(),
                    etag: stale(),
                })
                .await
        )),
        // PersonService: evaluations.
        entry!("hrplan.v1.PersonService/CreateEvaluation", Write, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .create_evaluation(pb::CreateEvaluationRequest {
                    parent: s.person.name.clone(),
                    evaluation: Some(pb::Evaluation {
                        name: String::new(),
                        etag: String::new(),
                        ..s.evaluation.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/GetEvaluation", Personal, ALL, UnderInside, None, |c, s| answer(
            c.people().get_evaluation(pb::GetEvaluationRequest { name: s.evaluation.name.clone() }).await
        )),
        entry!("hrplan.v1.PersonService/ListEvaluations", Personal, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .list_evaluations(pb::ListEvaluationsRequest { parent: s.person.name.clone(), ..Default::default() })
                .await
        )),
        entry!("hrplan.v1.PersonService/UpdateEvaluation", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .update_evaluation(pb::UpdateEvaluationRequest {
                    evaluation: Some(pb::Evaluation { etag: stale(), ..s.evaluation.clone() }),
                    update_mask: mask(&["rating"]),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/DeleteEvaluation", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .delete_evaluation(pb::DeleteEvaluationRequest { name: s.evaluation.name.clone(), etag: stale() })
                .await
        )),
        // PersonService: disciplines.
        entry!("hrplan.v1.PersonService/CreateDiscipline", Write, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .create_discipline(pb::CreateDisciplineRequest {
                    parent: s.person.name.clone(),
                    discipline: Some(pb::Discipline {
                        name: String::new(),
                        etag: String::new(),
                        ..s.discipline.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/GetDiscipline", Personal, ALL, UnderInside, None, |c, s| answer(
            c.people().get_discipline(pb::GetDisciplineRequest { name: s.discipline.name.clone() }).await
        )),
        entry!("hrplan.v1.PersonService/ListDisciplines", Personal, ALL, Unplaced, None, |c, s| answer(
            c.people()
                .list_disciplines(pb::ListDisciplinesRequest { parent: s.person.name.clone(), ..Default::default() })
                .await
        )),
        entry!("hrplan.v1.PersonService/UpdateDiscipline", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .update_discipline(pb::UpdateDisciplineRequest {
                    discipline: Some(pb::Discipline { etag: stale(), ..s.discipline.clone() }),
                    update_mask: mask(&["reason"]),
                })
                .await
        )),
        entry!("hrplan.v1.PersonService/DeleteDiscipline", Write, ALL, UnderInside, None, |c, s| answer(
            c.people()
                .delete_discipline(pb::DeleteDisciplineRequest { name: s.discipline.name.clone(), etag: stale() })
                .await
        )),
        // ReportService: aggregates of a locality's subtree, or of the whole country.
        entry!("hrplan.v1.ReportService/GetWorkforceProfile", Read, ALL_AND_COUNTRY, Unplaced, National, |c, s| {
            answer(c.reports().get_workforce_profile(profile(&s)).await)
        }),
        entry!("hrplan.v1.ReportService/SummarizeEvaluations", Read, ALL_AND_COUNTRY, Unplaced, National, |c, s| {
            answer(c.reports().summarize_evaluations(evaluations(&s)).await)
        }),
        entry!(
            "hrplan.v1.ReportService/CompareWorkforceProfiles",
            Read,
            ALL_AND_COUNTRY,
            Unplaced,
            National,
            |c, s| answer(c.reports().compare_workforce_profiles(comparison(&s)).await)
        ),
        entry!("hrplan.v1.ReportService/GetStandardCompliance", Read, ALL_AND_COUNTRY, Unplaced, National, |c, s| {
            answer(c.reports().get_standard_compliance(compliance(&s)).await)
        }),
        entry!("hrplan.v1.ReportService/SummarizeTraining", Read, ALL_AND_COUNTRY, Unplaced, National, |c, s| {
            answer(c.reports().summarize_training(training(&s)).await)
        }),
        entry!("hrplan.v1.ReportService/SummarizeRotations", Read, ALL_AND_COUNTRY, Unplaced, National, |c, s| {
            answer(c.reports().summarize_rotations(rotations(&s)).await)
        }),
        entry!("hrplan.v1.ReportService/GetStaffingSummary", Read, ALL_AND_COUNTRY, Unplaced, National, |c, s| {
            answer(c.reports().get_staffing_summary(staffing(&s)).await)
        }),
        entry!("hrplan.v1.ReportService/ExportReport", Read, ALL_AND_COUNTRY, Unplaced, National, |c, s| drain(
            c.reports()
                .export_report(pb::ExportReportRequest {
                    report: Some(pb::export_report_request::Report::WorkforceProfile(profile(&s))),
                    format: pb::ExportFormat::Csv.into(),
                })
                .await
        )
        .await),
        // RotationService.
        entry!("hrplan.v1.RotationService/CreateRotation", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.rotations()
                .create_rotation(pb::CreateRotationRequest {
                    rotation: Some(pb::Rotation {
                        name: String::new(),
                        etag: String::new(),
                        status: 0,
                        outcome: None,
                        actual_end_date: None,
                        create_time: None,
                        ..s.rotation.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.RotationService/GetRotation", Personal, ALL, Unplaced, None, |c, s| answer(
            c.rotations().get_rotation(pb::GetRotationRequest { name: s.rotation.name.clone() }).await
        )),
        entry!("hrplan.v1.RotationService/ListRotations", Personal, ALL, Unplaced, None, |c, s| answer(
            c.rotations()
                .list_rotations(pb::ListRotationsRequest {
                    locality: s.scope.clone(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.RotationService/UpdateRotation", Write, ALL, Unplaced, None, |c, s| answer(
            c.rotations()
                .update_rotation(pb::UpdateRotationRequest {
                    rotation: Some(pb::Rotation { etag: stale(), ..s.rotation.clone() }),
                    update_mask: mask(&["programme"]),
                })
                .await
        )),
        entry!("hrplan.v1.RotationService/DeleteRotation", Write, ALL, Unplaced, None, |c, s| answer(
            c.rotations()
                .delete_rotation(pb::DeleteRotationRequest { name: s.rotation.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.RotationService/StartRotation", Write, ALL, Unplaced, None, |c, s| answer(
            c.rotations()
                .start_rotation(pb::StartRotationRequest { name: s.rotation.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.RotationService/CompleteRotation", Write, ALL, Unplaced, None, |c, s| answer(
            c.rotations()
                .complete_rotation(pb::CompleteRotationRequest {
                    name: s.rotation.name.clone(),
                    actual_end_date: Some(date(2025, 1, 1)),
                    outcome: None,
                    etag: stale(),
                })
                .await
        )),
        entry!("hrplan.v1.RotationService/CancelRotation", Write, ALL, Unplaced, None, |c, s| answer(
            c.rotations()
                .cancel_rotation(pb::CancelRotationRequest { name: s.rotation.name.clone(), etag: stale() })
                .await
        )),
        // StaffingService.
        entry!("hrplan.v1.StaffingService/CreateStaffingQuota", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.staffing()
                .create_staffing_quota(pb::CreateStaffingQuotaRequest {
                    staffing_quota: Some(pb::StaffingQuota {
                        name: String::new(),
                        etag: String::new(),
                        ..s.quota.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.StaffingService/GetStaffingQuota", Read, ALL, Unplaced, None, |c, s| answer(
            c.staffing().get_staffing_quota(pb::GetStaffingQuotaRequest { name: s.quota.name.clone() }).await
        )),
        entry!("hrplan.v1.StaffingService/ListStaffingQuotas", Read, ALL, Unplaced, None, |c, s| answer(
            c.staffing()
                .list_staffing_quotas(pb::ListStaffingQuotasRequest {
                    locality: s.scope.clone(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.StaffingService/UpdateStaffingQuota", Write, ALL, Unplaced, None, |c, s| answer(
            c.staffing()
                .update_staffing_quota(pb::UpdateStaffingQuotaRequest {
                    staffing_quota: Some(pb::StaffingQuota { etag: stale(), ..s.quota.clone() }),
                    update_mask: mask(&["quota"]),
                })
                .await
        )),
        entry!("hrplan.v1.StaffingService/DeleteStaffingQuota", Write, ALL, Unplaced, None, |c, s| answer(
            c.staffing()
                .delete_staffing_quota(pb::DeleteStaffingQuotaRequest { name: s.quota.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.StaffingService/GetHeadcount", Read, ALL, Unplaced, None, |c, s| answer(
            c.staffing()
                .get_headcount(pb::GetHeadcountRequest { unit: String::new(), locality: s.scope.clone(), as_of: None })
                .await
        )),
        // SuccessionPoolService.
        entry!("hrplan.v1.SuccessionPoolService/CreateSuccessionPool", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.pools()
                .create_succession_pool(pb::CreateSuccessionPoolRequest {
                    succession_pool: Some(pb::SuccessionPool {
                        name: String::new(),
                        etag: String::new(),
                        candidates: vec![],
                        candidate_count: 0,
                        bounds: 0,
                        as_of: None,
                        create_time: None,
                        update_time: None,
                        ..s.pool.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.SuccessionPoolService/GetSuccessionPool", Personal, ALL, Unplaced, None, |c, s| answer(
            c.pools()
                .get_succession_pool(pb::GetSuccessionPoolRequest { name: s.pool.name.clone(), as_of: None })
                .await
        )),
        entry!("hrplan.v1.SuccessionPoolService/ListSuccessionPools", Personal, ALL, Unplaced, None, |c, s| {
            answer(
                c.pools()
                    .list_succession_pools(pb::ListSuccessionPoolsRequest {
                        locality: s.scope.clone(),
                        page_size: 1000,
                        ..Default::default()
                    })
                    .await,
            )
        }),
        entry!("hrplan.v1.SuccessionPoolService/UpdateSuccessionPool", Write, ALL, Unplaced, None, |c, s| answer(
            c.pools()
                .update_succession_pool(pb::UpdateSuccessionPoolRequest {
                    succession_pool: Some(pb::SuccessionPool { etag: stale(), ..s.pool.clone() }),
                    update_mask: mask(&["post_title"]),
                })
                .await
        )),
        entry!("hrplan.v1.SuccessionPoolService/DeleteSuccessionPool", Write, ALL, Unplaced, None, |c, s| answer(
            c.pools()
                .delete_succession_pool(pb::DeleteSuccessionPoolRequest { name: s.pool.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.SuccessionPoolService/AddCandidate", Write, ALL, Unplaced, None, |c, s| answer(
            c.pools()
                .add_candidate(pb::AddCandidateRequest {
                    succession_pool: s.pool.name.clone(),
                    candidate: s.pool.candidates.first().cloned(),
                })
                .await
        )),
        entry!("hrplan.v1.SuccessionPoolService/RemoveCandidate", Write, ALL, Unplaced, None, |c, s| answer(
            c.pools()
                .remove_candidate(pb::RemoveCandidateRequest {
                    succession_pool: s.pool.name.clone(),
                    person: s.pool.candidates.first().map(|c| c.person.clone()).unwrap_or_default(),
                    // Before the candidate was added: refused by the pool's own rules
                    // when everything else is allowed, so that the pool stays as it is.
                    removed_on: Some(date(2000, 1, 1)),
                    reason: "Kiểm tra ma trận".into(),
                })
                .await
        )),
        // TrainingPlanService.
        entry!("hrplan.v1.TrainingPlanService/CreateTrainingPlan", Write, IN_OUT, Unplaced, None, |c, s| answer(
            c.plans()
                .create_training_plan(pb::CreateTrainingPlanRequest {
                    training_plan: Some(pb::TrainingPlan {
                        name: String::new(),
                        etag: String::new(),
                        status: 0,
                        create_time: None,
                        update_time: None,
                        ..s.plan.clone()
                    }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/GetTrainingPlan", Read, ALL, Unplaced, None, |c, s| answer(
            c.plans().get_training_plan(pb::GetTrainingPlanRequest { name: s.plan.name.clone() }).await
        )),
        entry!("hrplan.v1.TrainingPlanService/ListTrainingPlans", Read, ALL, Unplaced, None, |c, s| answer(
            c.plans()
                .list_training_plans(pb::ListTrainingPlansRequest {
                    owner: s.plan.owner.clone(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/UpdateTrainingPlan", Write, ALL, Unplaced, None, |c, s| answer(
            c.plans()
                .update_training_plan(pb::UpdateTrainingPlanRequest {
                    training_plan: Some(pb::TrainingPlan { etag: stale(), ..s.plan.clone() }),
                    update_mask: mask(&["title"]),
                })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/DeleteTrainingPlan", Write, ALL, Unplaced, None, |c, s| answer(
            c.plans()
                .delete_training_plan(pb::DeleteTrainingPlanRequest { name: s.plan.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/ApproveTrainingPlan", Write, ALL, Unplaced, None, |c, s| answer(
            c.plans()
                .approve_training_plan(pb::ApproveTrainingPlanRequest { name: s.plan.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/CloseTrainingPlan", Write, ALL, Unplaced, None, |c, s| answer(
            c.plans()
                .close_training_plan(pb::CloseTrainingPlanRequest { name: s.plan.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/CreateCourse", Write, ALL, Unplaced, None, |c, s| answer(
            c.plans()
                .create_course(pb::CreateCourseRequest {
                    parent: s.plan.name.clone(),
                    course: Some(pb::Course { name: String::new(), etag: String::new(), ..s.course.clone() }),
                    request_id: String::new(),
                })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/GetCourse", Read, ALL, UnderInside, None, |c, s| answer(
            c.plans().get_course(pb::GetCourseRequest { name: s.course.name.clone() }).await
        )),
        entry!("hrplan.v1.TrainingPlanService/ListCourses", Read, ALL, Unplaced, None, |c, s| answer(
            c.plans().list_courses(pb::ListCoursesRequest { parent: s.plan.name.clone(), ..Default::default() }).await
        )),
        entry!("hrplan.v1.TrainingPlanService/UpdateCourse", Write, ALL, UnderInside, None, |c, s| answer(
            c.plans()
                .update_course(pb::UpdateCourseRequest {
                    course: Some(pb::Course { etag: stale(), ..s.course.clone() }),
                    update_mask: mask(&["title"]),
                })
                .await
        )),
        entry!("hrplan.v1.TrainingPlanService/DeleteCourse", Write, ALL, UnderInside, None, |c, s| answer(
            c.plans().delete_course(pb::DeleteCourseRequest { name: s.course.name.clone(), etag: stale() }).await
        )),
        entry!("hrplan.v1.TrainingPlanService/GetTrainingPlanProgress", Read, ALL, Unplaced, None, |c, s| answer(
            c.plans()
                .get_training_plan_progress(pb::GetTrainingPlanProgressRequest {
                    name: s.plan.name.clone(),
                    as_of: None,
                })
                .await
        )),
        // EnrollmentService.
        entry!("hrplan.v1.EnrollmentService/CreateEnrollment", Write, ALL, Unplaced, None, |c, s| answer(
            c.enrollments().create_enrollment(new_enrollment(&s)).await
        )),
        entry!("hrplan.v1.EnrollmentService/GetEnrollment", Personal, ALL, UnderInside, None, |c, s| answer(
            c.enrollments().get_enrollment(pb::GetEnrollmentRequest { name: s.enrollment.name.clone() }).await
        )),
        entry!("hrplan.v1.EnrollmentService/ListEnrollments", Personal, ALL, Unplaced, None, |c, s| answer(
            c.enrollments()
                .list_enrollments(pb::ListEnrollmentsRequest {
                    parent: s.plan.name.clone(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
        )),
        entry!("hrplan.v1.EnrollmentService/DeleteEnrollment", Write, ALL, UnderInside, None, |c, s| answer(
            c.enrollments()
                .delete_enrollment(pb::DeleteEnrollmentRequest { name: s.enrollment.name.clone(), etag: stale() })
                .await
        )),
        entry!("hrplan.v1.EnrollmentService/BatchCreateEnrollments", Write, ALL, Unplaced, None, |c, s| answer(
            c.enrollments()
                .batch_create_enrollments(pb::BatchCreateEnrollmentsRequest {
                    parent: s.plan.name.clone(),
                    requests: vec![new_enrollment(&s)],
                })
                .await
        )),
        entry!("hrplan.v1.EnrollmentService/ImportEnrollments", Write, ALL, Unplaced, None, |c, s| answer(
            c.enrollments()
                .import_enrollments(tokio_stream::iter([pb::ImportEnrollmentsRequest {
                    parent: s.plan.name.clone(),
                    enrollment: new_enrollment(&s).enrollment,
                }]))
                .await
        )),
        entry!("hrplan.v1.EnrollmentService/TransitionEnrollment", Write, ALL, UnderInside, None, |c, s| answer(
            c.enrollments()
                .transition_enrollment(pb::TransitionEnrollmentRequest {
                    name: s.enrollment.name.clone(),
                    status: pb::EnrollmentStatus::Dropped.into(),
                    date: Some(date(2025, 12, 1)),
                    result: None,
                    etag: stale(),
                })
                .await
        )),
    ]
}

fn scale_of(level: &str) -> String {
    level.split("/levels/").next().unwrap_or_default().to_owned()
}

fn report_scope(s: &Subject) -> Option<pb::ReportScope> {
    // Reports name the whole country `localities/-` rather than leaving the scope empty.
    let locality = if s.scope.is_empty() { "localities/-".to_owned() } else { s.scope.clone() };
    Some(pb::ReportScope { locality, breakdown_by_child: true, ..Default::default() })
}

fn profile(s: &Subject) -> pb::GetWorkforceProfileRequest {
    pb::GetWorkforceProfileRequest { scope: report_scope(s) }
}

fn evaluations(s: &Subject) -> pb::SummarizeEvaluationsRequest {
    pb::SummarizeEvaluationsRequest { scope: report_scope(s), first_year: 2021, last_year: 2024 }
}

fn comparison(s: &Subject) -> pb::CompareWorkforceProfilesRequest {
    pb::CompareWorkforceProfilesRequest { scope: report_scope(s), other_date: Some(date(2023, 1, 1)) }
}

fn compliance(s: &Subject) -> pb::GetStandardComplianceRequest {
    pb::GetStandardComplianceRequest { scope: report_scope(s) }
}

fn training(s: &Subject) -> pb::SummarizeTrainingRequest {
    pb::SummarizeTrainingRequest {
        scope: report_scope(s),
        period_start: Some(date(2021, 1, 1)),
        period_end: Some(date(2025, 12, 31)),
    }
}

fn rotations(s: &Subject) -> pb::SummarizeRotationsRequest {
    pb::SummarizeRotationsRequest {
        scope: report_scope(s),
        period_start: Some(date(2021, 1, 1)),
        period_end: Some(date(2025, 12, 31)),
    }
}

fn staffing(s: &Subject) -> pb::GetStaffingSummaryRequest {
    pb::GetStaffingSummaryRequest { scope: report_scope(s) }
}

fn new_enrollment(s: &Subject) -> pb::CreateEnrollmentRequest {
    pb::CreateEnrollmentRequest {
        parent: s.plan.name.clone(),
        enrollment: Some(pb::Enrollment {
            person: s.enrollment.person.clone(),
            line_id: s.enrollment.line_id.clone(),
            course: s.enrollment.course.clone(),
            enrollment_date: s.enrollment.enrollment_date,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

/// The methods of every hrplan service in the descriptor set, as `package.Service/Method`.
fn described_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("the descriptor set decodes");
    let mut methods = BTreeSet::new();
    for file in &set.file {
        let package = file.package();
        if !package.starts_with("hrplan.") {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                methods.insert(format!("{package}.{}/{}", service.name(), method.name()));
            }
        }
    }
    methods
}

/// What lies inside province 11: every locality code that ever had it as an ancestor,
/// the units of those localities, and the people ever placed in one of those units.
#[derive(Debug, Default)]
struct Inside {
    localities: BTreeSet<String>,
    units: BTreeSet<String>,
    people: BTreeSet<String>,
}

async fn rows(app: &TestApp, sql: &str) -> Vec<(String, String)> {
    let statement = Statement::from_string(app.db.get_database_backend(), sql.to_owned());
    app.db
        .query_all_raw(statement)
        .await
        .expect("reading the fixture")
        .iter()
        .map(|row| (row.try_get::<String>("", "a").expect("a"), row.try_get::<String>("", "b").unwrap_or_default()))
        .collect()
}

async fn inside(app: &TestApp, province: &str) -> Inside {
    let links = rows(app, "SELECT code AS a, COALESCE(parent_code, '') AS b FROM locality_versions").await;
    let mut localities: BTreeSet<String> = [province.to_owned()].into();
    loop {
        let before = localities.len();
        for (code, parent) in &links {
            if localities.contains(parent) {
                localities.insert(code.clone());
            }
        }
        if localities.len() == before {
            break;
        }
    }
    let units: BTreeSet<String> = rows(app, "SELECT CAST(id AS TEXT) AS a, locality_code AS b FROM units")
        .await
        .into_iter()
        .filter(|(_, code)| localities.contains(code))
        .map(|(id, _)| id)
        .collect();
    let people = rows(app, "SELECT CAST(person_id AS TEXT) AS a, CAST(unit_id AS TEXT) AS b FROM placements")
        .await
        .into_iter()
        .filter(|(_, unit)| units.contains(unit))
        .map(|(person, _)| person)
        .collect();
    // An answer to a validate-only creation names the locality it would create.
    localities.extend(NEW_COMMUNES.map(str::to_owned));
    Inside { localities, units, people }
}

/// The ids following `prefix` in `text` (`localities/094` → `094`).
fn ids_after<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.match_indices(prefix).filter_map(move |(at, _)| {
        let rest = &text[at + prefix.len()..];
        let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let id = &rest[..end];
        // `units/` also ends `people/1/placements/…`-free names only; skip empty ids.
        (!id.is_empty()).then_some(id)
    })
}

/// The names in an answer that lie outside province 11.
fn leaks(answer: &str, inside: &Inside) -> Vec<String> {
    let mut found = Vec::new();
    for (prefix, allowed) in
        [("localities/", &inside.localities), ("units/", &inside.units), ("people/", &inside.people)]
    {
        for id in ids_after(answer, prefix) {
            if !allowed.contains(id) {
                found.push(format!("{prefix}{id}"));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The records of one province, found as a national admin.
async fn subject(app: &TestApp, province: &str, inside: &Inside) -> Subject {
    let admin = app.as_admin();
    let scope = format!("localities/{province}");
    let locality = admin
        .localities()
        .list_localities(pb::ListLocalitiesRequest { parent: scope.clone(), page_size: 10, ..Default::default() })
        .await
        .expect("the province's localities")
        .into_inner()
        .localities
        .into_iter()
        .next()
        .expect("a locality in the province");
    let unit = admin
        .units()
        .list_units(pb::ListUnitsRequest { locality: scope.clone(), page_size: 10, ..Default::default() })
        .await
        .expect("units")
        .into_inner()
        .units
        .into_iter()
        .next()
        .expect("a unit in the province");
    let owner = rows(app, "SELECT owner_code AS a, '' AS b FROM training_plans ORDER BY id")
        .await
        .into_iter()
        .map(|(code, _)| code)
        .find(|code| inside.localities.contains(code))
        .expect("a training plan of the province");
    let plan = admin
        .plans()
        .list_training_plans(pb::ListTrainingPlansRequest {
            owner: format!("localities/{owner}"),
            page_size: 10,
            ..Default::default()
        })
        .await
        .expect("plans")
        .into_inner()
        .training_plans
        .into_iter()
        .next()
        .expect("a training plan of the province");
    let enrollment = admin
        .enrollments()
        .list_enrollments(pb::ListEnrollmentsRequest { parent: plan.name.clone(), page_size: 10, ..Default::default() })
        .await
        .expect("enrolments")
        .into_inner()
        .enrollments
        .into_iter()
        .next()
        .expect("an enrolment of the plan");
    let course = admin
        .plans()
        .list_courses(pb::ListCoursesRequest { parent: plan.name.clone(), ..Default::default() })
        .await
        .expect("courses")
        .into_inner()
        .courses
        .into_iter()
        .next()
        .expect("a course of the plan");
    // The person: one enrolled in the plan, placed in the province.
    let person = admin
        .people()
        .get_person(pb::GetPersonRequest { name: enrollment.person.clone(), as_of: None })
        .await
        .expect("the enrolled person")
        .into_inner()
        .person
        .expect("person");
    let placement = person.placement.clone().expect("the person is placed today");
    // A staff code to look the person up by (the demo records none).
    let person = admin
        .people()
        .update_person(pb::UpdatePersonRequest {
            person: Some(pb::Person { staff_code: format!("MT-{province}"), ..person }),
            update_mask: mask(&["staff_code"]),
        })
        .await
        .expect("giving the person a staff code")
        .into_inner()
        .person
        .expect("person");
    let qualification = first_or_create_qualification(&admin, &person.name).await;
    let evaluation = first_or_create_evaluation(&admin, &person.name).await;
    let discipline = first_or_create_discipline(&admin, &person.name).await;
    let record = pb::PersonRecord {
        person: Some(pb::Person { name: String::new(), etag: String::new(), placement: None, ..person.clone() }),
        placements: vec![pb::Placement { name: String::new(), etag: String::new(), ..placement.clone() }],
        ..Default::default()
    };
    let rotation = admin
        .rotations()
        .list_rotations(pb::ListRotationsRequest { locality: scope.clone(), page_size: 10, ..Default::default() })
        .await
        .expect("rotations")
        .into_inner()
        .rotations
        .into_iter()
        .next()
        .expect("a rotation in the province");
    let pool = admin
        .pools()
        .list_succession_pools(pb::ListSuccessionPoolsRequest {
            locality: scope.clone(),
            page_size: 10,
            ..Default::default()
        })
        .await
        .expect("pools")
        .into_inner()
        .succession_pools
        .into_iter()
        .find(|p| p.candidate_count > 0)
        .expect("a succession pool with candidates in the province");
    let pool = admin
        .pools()
        .get_succession_pool(pb::GetSuccessionPoolRequest { name: pool.name, as_of: None })
        .await
        .expect("the pool")
        .into_inner()
        .succession_pool
        .expect("pool");
    assert!(!pool.candidates.is_empty(), "the pool shows its candidates");
    let quota = admin
        .staffing()
        .list_staffing_quotas(pb::ListStaffingQuotasRequest {
            locality: scope.clone(),
            page_size: 10,
            ..Default::default()
        })
        .await
        .expect("quotas")
        .into_inner()
        .staffing_quotas
        .into_iter()
        .next()
        .expect("a staffing quota in the province");
    let standard = admin
        .standards()
        .list_standards(pb::ListStandardsRequest { page_size: 1, ..Default::default() })
        .await
        .expect("standards")
        .into_inner()
        .standards
        .into_iter()
        .next()
        .expect("a standard");
    let level = admin
        .scales()
        .list_scales(pb::ListScalesRequest {})
        .await
        .expect("scales")
        .into_inner()
        .scales
        .into_iter()
        .flat_map(|s| s.levels)
        .next()
        .expect("a level");
    Subject {
        scope,
        locality,
        unit,
        person,
        record,
        scale: scale_of(&level.name),
        placement,
        qualification,
        evaluation,
        discipline,
        plan,
        course,
        enrollment,
        rotation,
        pool,
        quota,
        standard,
        level,
    }
}

async fn first_or_create_qualification(admin: &Clients, person: &str) -> pb::Qualification {
    let listed = admin
        .people()
        .list_qualifications(pb::ListQualificationsRequest { parent: person.into(), ..Default::default() })
        .await
        .expect("qualifications")
        .into_inner()
        .qualifications;
    if let Some(q) = listed.into_iter().next() {
        return q;
    }
    admin
        .people()
        .create_qualification(pb::CreateQualificationRequest {
            parent: person.into(),
            qualification: Some(pb::Qualification {
                level: "scales/professional/levels/bachelor".into(),
                field_of_study: "Luật".into(),
                institution: "Đại học Luật Hà Nội".into(),
                awarded_on: Some(date(2015, 6, 30)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating a qualification")
        .into_inner()
        .qualification
        .expect("qualification")
}

async fn first_or_create_evaluation(admin: &Clients, person: &str) -> pb::Evaluation {
    let listed = admin
        .people()
        .list_evaluations(pb::ListEvaluationsRequest { parent: person.into(), ..Default::default() })
        .await
        .expect("evaluations")
        .into_inner()
        .evaluations;
    if let Some(e) = listed.into_iter().next() {
        return e;
    }
    admin
        .people()
        .create_evaluation(pb::CreateEvaluationRequest {
            parent: person.into(),
            evaluation: Some(pb::Evaluation { year: 2024, rating: pb::Rating::Good.into(), ..Default::default() }),
            request_id: String::new(),
        })
        .await
        .expect("creating an evaluation")
        .into_inner()
        .evaluation
        .expect("evaluation")
}

async fn first_or_create_discipline(admin: &Clients, person: &str) -> pb::Discipline {
    let listed = admin
        .people()
        .list_disciplines(pb::ListDisciplinesRequest { parent: person.into(), ..Default::default() })
        .await
        .expect("disciplines")
        .into_inner()
        .disciplines;
    if let Some(d) = listed.into_iter().next() {
        return d;
    }
    admin
        .people()
        .create_discipline(pb::CreateDisciplineRequest {
            parent: person.into(),
            discipline: Some(pb::Discipline {
                sanction: pb::Sanction::Reprimand.into(),
                decided_on: Some(date(2023, 3, 1)),
                decision_number: "12/QĐ-UBND".into(),
                reason: "Vi phạm quy chế làm việc".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating a discipline")
        .into_inner()
        .discipline
        .expect("discipline")
}

/// The last segment of a name replaced by an id that exists nowhere.
fn missing_leaf(name: &str) -> String {
    match name.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{NO_SUCH_ID}"),
        None => name.to_owned(),
    }
}

/// The subject inside, with every record it names replaced by one that does not exist:
/// top-level names by unknown ids, child names by unknown ids under the real parent.
fn missing(inside: &Subject) -> Subject {
    let mut s = inside.clone();
    let no_person = format!("people/{NO_SUCH_ID}");
    s.scope = "localities/98".into();
    s.scale = "scales/no_such_scale".into();
    s.person.staff_code = "NO-SUCH-CODE".into();
    s.locality.name = "localities/99999".into();
    s.unit.name = missing_leaf(&s.unit.name);
    s.unit.locality = "localities/99999".into();
    s.person.name = no_person.clone();
    if let Some(placement) = s.record.placements.first_mut() {
        placement.unit = s.unit.name.clone();
    }
    s.placement.name = missing_leaf(&s.placement.name);
    s.qualification.name = missing_leaf(&s.qualification.name);
    s.evaluation.name = format!("{}/evaluations/1990", inside.person.name);
    s.discipline.name = missing_leaf(&s.discipline.name);
    s.plan.name = missing_leaf(&s.plan.name);
    s.plan.owner = "localities/99999".into();
    s.course.name = format!("{}/courses/{NO_SUCH_ID}", inside.plan.name);
    s.enrollment.name = format!("{}/enrollments/{NO_SUCH_ID}", inside.plan.name);
    s.rotation.name = missing_leaf(&s.rotation.name);
    s.pool.name = missing_leaf(&s.pool.name);
    s.quota.name = missing_leaf(&s.quota.name);
    s.quota.locality = "localities/99999".into();
    s.quota.unit = String::new();
    s.standard.name = missing_leaf(&s.standard.name);
    s.level.name = format!("{}/levels/no_such_level", scale_of(&s.level.name));
    s
}

/// The database, audit records aside: a refusal may be audited, never anything else.
async fn state(app: &TestApp) -> Vec<String> {
    app.snapshot().await.into_iter().filter(|row| !row.starts_with("audit_log:")).collect()
}

#[tokio::test]
async fn every_rpc_answers_every_role_and_target_as_the_scope_rules_say() {
    // Arrange: the whole demo (provinces 01, 11 and 20 with people, plans, movements,
    // pools and quotas); the records of 11 and of 20 each call is aimed at.
    let app = spawn_app().await;
    hrplan::demo::load(&app.db).await.expect("loading the demo");
    let table = table();
    let described = described_methods();
    let listed: BTreeSet<String> = table.iter().map(|e| e.method.to_owned()).collect();
    let unlisted: Vec<&String> = described.difference(&listed).collect();
    let unknown: Vec<&String> = listed.difference(&described).collect();
    assert!(unlisted.is_empty(), "RPCs without an entry in the scope matrix: {unlisted:?}");
    assert!(unknown.is_empty(), "entries of the scope matrix for RPCs that do not exist: {unknown:?}");
    assert_eq!(listed.len(), table.len(), "an RPC has two entries in the scope matrix");
    let mut home = inside(&app, HOME).await;
    let elsewhere = inside(&app, ELSEWHERE).await;
    let inside_subject = subject(&app, HOME, &home).await;
    let outside_subject = subject(&app, ELSEWHERE, &elsewhere).await;
    let subjects: BTreeMap<Target, Arc<Subject>> = [
        (Target::Inside, Arc::new(inside_subject.clone())),
        (Target::Outside, Arc::new(outside_subject)),
        (Target::Missing, Arc::new(missing(&inside_subject))),
        (Target::Country, Arc::new(Subject { scope: String::new(), ..inside_subject })),
    ]
    .into();
    let callers = callers();

    // Act and assert: each RPC, refused calls first (around a snapshot), then allowed ones.
    let mut failures = Vec::new();
    let mut calls = 0_usize;
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &table {
        let planned: Vec<(&Who, Target, Expect)> = callers
            .iter()
            .flat_map(|who| entry.targets.iter().map(move |t| (who, *t, expect(entry, who, *t))))
            .collect();
        // Reads cannot change the database; writes are checked around their refusals.
        let writes = matches!(entry.rule, Rule::Write | Rule::NationalAdmin);
        let before = if writes { state(&app).await } else { Vec::new() };
        for (who, target, expected) in planned.iter().filter(|(_, _, e)| *e != Expect::Allowed) {
            calls += 1;
            let got = (entry.call)(app.as_(who.caller.clone()), subjects[target].clone()).await;
            let code = got.as_ref().err().map(Status::code);
            *outcomes.entry(code_name(code)).or_default() += 1;
            let fine = match (expected, code) {
                (Expect::Refused(want), Some(code)) => code == *want,
                (Expect::Hidden, Some(code)) => matches!(code, Code::PermissionDenied | Code::NotFound),
                _ => false,
            };
            if !fine {
                failures.push(format!(
                    "{} by {} on {target:?}: expected {expected:?}, got {}",
                    entry.method,
                    who.label,
                    describe(&got)
                ));
            }
        }
        let after = if writes { state(&app).await } else { Vec::new() };
        if before != after {
            let changed: Vec<&String> = after
                .iter()
                .filter(|r| !before.contains(r))
                .chain(before.iter().filter(|r| !after.contains(r)))
                .collect();
            failures.push(format!("{}: refused calls changed the database: {changed:?}", entry.method));
        }
        for (who, target, _) in planned.iter().filter(|(_, _, e)| *e == Expect::Allowed) {
            calls += 1;
            let got = (entry.call)(app.as_(who.caller.clone()), subjects[target].clone()).await;
            let code = got.as_ref().err().map(Status::code);
            *outcomes.entry(code_name(code)).or_default() += 1;
            match &got {
                Ok(text) if !who.national => {
                    let mut leaked = leaks(text, &home);
                    if !leaked.is_empty() {
                        // Records the matrix itself created since: look again.
                        home = inside(&app, HOME).await;
                        leaked = leaks(text, &home);
                    }
                    if !leaked.is_empty() {
                        failures.push(format!(
                            "{} by {} on {target:?} answered records outside its scope: {leaked:?}",
                            entry.method, who.label
                        ));
                    }
                }
                Ok(_) => {}
                Err(status) if entry.rule != Rule::Read && entry.rule != Rule::Personal => {
                    if !WRITE_OUTCOMES.contains(&status.code()) {
                        failures.push(format!(
                            "{} by {} on {target:?}: allowed, but answered {}",
                            entry.method,
                            who.label,
                            describe(&got)
                        ));
                    }
                }
                Err(_) => failures.push(format!(
                    "{} by {} on {target:?}: allowed, but answered {}",
                    entry.method,
                    who.label,
                    describe(&got)
                )),
            }
        }
    }
    println!("scope matrix: {} RPCs, {} callers, {calls} calls; outcomes {outcomes:?}", table.len(), callers.len());
    assert!(failures.is_empty(), "{} of {calls} calls broke the scope rules:\n{}", failures.len(), failures.join("\n"));
}

fn code_name(code: Option<Code>) -> &'static str {
    match code {
        None => "OK",
        Some(Code::PermissionDenied) => "PERMISSION_DENIED",
        Some(Code::NotFound) => "NOT_FOUND",
        Some(Code::Unauthenticated) => "UNAUTHENTICATED",
        Some(Code::Aborted) => "ABORTED",
        Some(Code::AlreadyExists) => "ALREADY_EXISTS",
        Some(Code::FailedPrecondition) => "FAILED_PRECONDITION",
        Some(Code::InvalidArgument) => "INVALID_ARGUMENT",
        Some(_) => "other",
    }
}

fn describe(result: &Result<String, Status>) -> String {
    match result {
        Ok(text) => format!("OK {}", text.chars().take(200).collect::<String>()),
        Err(status) => format!("{:?} {}", status.code(), status.message().chars().take(200).collect::<String>()),
    }
}
