//! The differential test: the same seeded random sequences of operations (creating,
//! changing and deleting units, people, placements, qualifications, ratings,
//! disciplines and training plans, reads and reports between them, invalid operations
//! among them) sent to a server on SQLite and to one on PostgreSQL must get the same
//! answers: the same codes (and fields of field violations), and the same responses once
//! generated ids are numbered in order of appearance and timestamps left out.
//!
//! It needs both backends at once, so it runs in the PostgreSQL pass of `scripts/test`
//! (`HRPLAN_TEST_BACKEND=postgres`, which CI requires with `HRPLAN_REQUIRE_POSTGRES=1`),
//! with a SQLite server beside the PostgreSQL one. In the SQLite pass it checks nothing
//! and says so on stderr: it proves nothing there, and passes only so that the SQLite
//! pass can be run alone.

use std::collections::BTreeMap;

use hrplan::grpc::pb;
use tonic::{Response, Status};

use crate::{
    clients::Clients,
    helpers::{Rng, TestApp, date, field_violations, spawn_app, spawn_sqlite_app},
};

/// Sequences, and operations per sequence.
const SEQUENCES: u64 = 20;
const OPERATIONS: usize = 30;

/// The shared generator, with years.
trait Years {
    fn year(&mut self, from: i32, span: usize) -> i32;
}

impl Years for Rng {
    fn year(&mut self, from: i32, span: usize) -> i32 {
        from + i32::try_from(self.below(span)).unwrap_or(0)
    }
}

/// One operation, naming records by their place in the order they were created, so
/// that the same operation applies to both servers whatever ids each gave.
#[derive(Debug, Clone)]
enum Op {
    CreateUnit { locality: usize, name: String },
    UpdateUnit { unit: usize, name: String, stale: bool },
    DeleteUnit { unit: usize },
    GetUnit { unit: usize },
    ListUnits { locality: usize },
    CreatePerson { unit: usize, name: String, born: i32, category: i32, until: Option<i32> },
    UpdatePerson { person: usize, name: String },
    DeletePerson { person: usize },
    GetPerson { person: usize },
    SearchPeople { locality: usize, query: String },
    CreatePlacement { person: usize, unit: usize, from: i32, until: Option<i32>, leader: bool },
    ListPlacements { person: usize },
    CreateQualification { person: usize, level: usize, year: i32 },
    CreateEvaluation { person: usize, year: i32, rating: i32 },
    CreateDiscipline { person: usize, year: i32 },
    ListQualifications { person: usize },
    CreatePlan { locality: usize, year: i32 },
    GetPlan { plan: usize },
    Profile { locality: usize },
    Evaluations { locality: usize },
    Headcount { unit: usize },
}

/// Localities the operations aim at: those of the demo tree, and one that does not exist.
const LOCALITIES: [&str; 8] = ["11", "094", "03124", "20", "187", "06463", "01", "98"];
const LEVELS: [&str; 4] = [
    "scales/professional/levels/university",
    "scales/professional/levels/master",
    "scales/professional/levels/doctorate",
    "scales/professional/levels/no_such_level",
];
/// Names the operations use: valid ones, an empty one, and ones with control
/// characters (a NUL, which PostgreSQL cannot store and SQLite can; an escape).
const NAMES: [&str; 8] =
    ["Nguyễn Văn An", "Trần Thị Bình", "Lò Văn Cường", "Hà Thị Dung", "Lò Thị Én", "", "Lò\u{0}Văn", "Hà\u{1b}[31m"];

fn random_op(rng: &mut Rng) -> Op {
    let name = |rng: &mut Rng| NAMES[rng.below(NAMES.len())].to_owned();
    let pick = |rng: &mut Rng| rng.below(8);
    match rng.below(24) {
        0 | 1 | 21 => {
            Op::CreateUnit { locality: rng.below(LOCALITIES.len()), name: format!("Phòng {}", rng.below(5)) }
        }
        2 => Op::UpdateUnit { unit: pick(rng), name: name(rng), stale: rng.chance(20) },
        3 => Op::DeleteUnit { unit: pick(rng) },
        4 => Op::GetUnit { unit: pick(rng) },
        5 => Op::ListUnits { locality: rng.below(LOCALITIES.len()) },
        6 | 7 | 22 | 23 => Op::CreatePerson {
            unit: pick(rng),
            name: name(rng),
            born: rng.year(1950, 60),
            // Mostly a category (1 to 5), sometimes none (invalid).
            category: if rng.chance(10) { 0 } else { i32::try_from(1 + rng.below(5)).unwrap_or(1) },
            until: rng.chance(15).then(|| rng.year(2018, 10)),
        },
        8 => Op::UpdatePerson { person: pick(rng), name: name(rng) },
        9 => Op::DeletePerson { person: pick(rng) },
        10 => Op::GetPerson { person: pick(rng) },
        11 => Op::SearchPeople {
            locality: rng.below(LOCALITIES.len()),
            query: ["", "an", "thị", "văn cường"][rng.below(4)].to_owned(),
        },
        12 => Op::CreatePlacement {
            person: pick(rng),
            unit: pick(rng),
            from: rng.year(2018, 10),
            until: rng.chance(40).then(|| rng.year(2020, 10)),
            leader: rng.chance(30),
        },
        13 => Op::ListPlacements { person: pick(rng) },
        14 => Op::CreateQualification { person: pick(rng), level: rng.below(LEVELS.len()), year: rng.year(1995, 35) },
        15 => Op::CreateEvaluation {
            person: pick(rng),
            year: rng.year(2019, 8),
            rating: i32::try_from(rng.below(6)).unwrap_or(0),
        },
        16 => Op::CreateDiscipline { person: pick(rng), year: rng.year(2019, 8) },
        17 => Op::ListQualifications { person: pick(rng) },
        18 => Op::CreatePlan { locality: rng.below(LOCALITIES.len()), year: rng.year(2023, 5) },
        19 => {
            if rng.chance(50) {
                Op::GetPlan { plan: pick(rng) }
            } else {
                Op::Headcount { unit: pick(rng) }
            }
        }
        _ => {
            if rng.chance(50) {
                Op::Profile { locality: rng.below(LOCALITIES.len()) }
            } else {
                Op::Evaluations { locality: rng.below(LOCALITIES.len()) }
            }
        }
    }
}

/// One server and the names of the records it created, in order.
struct Side {
    app: TestApp,
    created: BTreeMap<&'static str, Vec<String>>,
}

impl Side {
    fn admin(&self) -> Clients {
        self.app.as_admin()
    }

    /// The `i`th record of `kind` created so far (wrapping), or a name that exists nowhere.
    fn nth(&self, kind: &'static str, i: usize) -> String {
        match self.created.get(kind) {
            Some(names) if !names.is_empty() => names[i % names.len()].clone(),
            _ => format!("{kind}/999999"),
        }
    }

    fn remember(&mut self, kind: &'static str, name: &str) {
        self.created.entry(kind).or_default().push(name.to_owned());
    }
}

fn locality(i: usize) -> String {
    format!("localities/{}", LOCALITIES[i % LOCALITIES.len()])
}

fn answer<T: std::fmt::Debug>(result: Result<Response<T>, Status>) -> Result<String, Status> {
    result.map(|r| format!("{:?}", r.into_inner()))
}

/// Runs `op` on one side; returns the answer as text (or the status) and the name of the
/// record it created, if any.
#[expect(clippy::too_many_lines, reason = "one arm per operation")]
async fn run(side: &mut Side, op: &Op) -> Result<String, Status> {
    let admin = side.admin();
    let (kind, result): (Option<&'static str>, Result<String, Status>) = match op.clone() {
        Op::CreateUnit { locality: l, name } => (
            Some("units"),
            answer(
                admin
                    .units()
                    .create_unit(pb::CreateUnitRequest {
                        unit: Some(pb::Unit {
                            display_name: name,
                            locality: locality(l),
                            sector: pb::Sector::StateAdministration.into(),
                            kind: pb::UnitKind::PeoplesCommittee.into(),
                            valid_from: Some(date(2020, 1, 1)),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .map(|r| r.map(|u| u.unit.unwrap_or_default())),
            ),
        ),
        Op::UpdateUnit { unit, name, stale } => {
            let name_of = side.nth("units", unit);
            (
                None,
                answer(
                    admin
                        .units()
                        .update_unit(pb::UpdateUnitRequest {
                            unit: Some(pb::Unit {
                                name: name_of,
                                display_name: name,
                                etag: if stale { "\"99\"".into() } else { String::new() },
                                ..Default::default()
                            }),
                            update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
                        })
                        .await,
                ),
            )
        }
        Op::DeleteUnit { unit } => (
            None,
            answer(
                admin
                    .units()
                    .delete_unit(pb::DeleteUnitRequest { name: side.nth("units", unit), etag: String::new() })
                    .await,
            ),
        ),
        Op::GetUnit { unit } => {
            (None, answer(admin.units().get_unit(pb::GetUnitRequest { name: side.nth("units", unit) }).await))
        }
        Op::ListUnits { locality: l } => (
            None,
            answer(
                admin
                    .units()
                    .list_units(pb::ListUnitsRequest { locality: locality(l), page_size: 1000, ..Default::default() })
                    .await,
            ),
        ),
        Op::CreatePerson { unit, name, born, category, until } => (
            Some("people"),
            answer(
                admin
                    .people()
                    .create_person(pb::CreatePersonRequest {
                        record: Some(pb::PersonRecord {
                            person: Some(pb::Person {
                                full_name: name,
                                birth_date: Some(date(born, 3, 15)),
                                gender: pb::Gender::Female.into(),
                                ethnicity: "Thái".into(),
                                category,
                                employed_from: Some(date(2020, 1, 1)),
                                employed_until: until.map(|y| date(y, 6, 30)),
                                end_reason: if until.is_some() { pb::EmploymentEnd::Retired.into() } else { 0 },
                                ..Default::default()
                            }),
                            placements: vec![pb::Placement {
                                unit: side.nth("units", unit),
                                post_title: "Chuyên viên".into(),
                                valid_from: Some(date(2020, 1, 1)),
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .map(|r| r.map(|p| p.person.unwrap_or_default())),
            ),
        ),
        Op::UpdatePerson { person, name } => (
            None,
            answer(
                admin
                    .people()
                    .update_person(pb::UpdatePersonRequest {
                        person: Some(pb::Person {
                            name: side.nth("people", person),
                            full_name: name,
                            ..Default::default()
                        }),
                        update_mask: Some(prost_types::FieldMask { paths: vec!["full_name".into()] }),
                    })
                    .await,
            ),
        ),
        Op::DeletePerson { person } => (
            None,
            answer(
                admin
                    .people()
                    .delete_person(pb::DeletePersonRequest { name: side.nth("people", person), etag: String::new() })
                    .await,
            ),
        ),
        Op::GetPerson { person } => (
            None,
            answer(
                admin.people().get_person(pb::GetPersonRequest { name: side.nth("people", person), as_of: None }).await,
            ),
        ),
        Op::SearchPeople { locality: l, query } => (
            None,
            answer(
                admin
                    .people()
                    .search_people(pb::SearchPeopleRequest {
                        locality: locality(l),
                        query,
                        page_size: 1000,
                        ..Default::default()
                    })
                    .await,
            ),
        ),
        Op::CreatePlacement { person, unit, from, until, leader } => (
            None,
            answer(
                admin
                    .people()
                    .create_placement(pb::CreatePlacementRequest {
                        parent: side.nth("people", person),
                        placement: Some(pb::Placement {
                            unit: side.nth("units", unit),
                            post_title: if leader { "Chủ tịch" } else { "Chuyên viên" }.into(),
                            leader,
                            valid_from: Some(date(from, 7, 1)),
                            valid_until: until.map(|y| date(y, 7, 1)),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await,
            ),
        ),
        Op::ListPlacements { person } => (
            None,
            answer(
                admin
                    .people()
                    .list_placements(pb::ListPlacementsRequest {
                        parent: side.nth("people", person),
                        ..Default::default()
                    })
                    .await,
            ),
        ),
        Op::CreateQualification { person, level, year } => (
            None,
            answer(
                admin
                    .people()
                    .create_qualification(pb::CreateQualificationRequest {
                        parent: side.nth("people", person),
                        qualification: Some(pb::Qualification {
                            level: LEVELS[level % LEVELS.len()].into(),
                            field_of_study: "Luật".into(),
                            institution: "Đại học Luật Hà Nội".into(),
                            awarded_on: Some(date(year, 6, 30)),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await,
            ),
        ),
        Op::CreateEvaluation { person, year, rating } => (
            None,
            answer(
                admin
                    .people()
                    .create_evaluation(pb::CreateEvaluationRequest {
                        parent: side.nth("people", person),
                        evaluation: Some(pb::Evaluation { year, rating, ..Default::default() }),
                        request_id: String::new(),
                    })
                    .await,
            ),
        ),
        Op::CreateDiscipline { person, year } => (
            None,
            answer(
                admin
                    .people()
                    .create_discipline(pb::CreateDisciplineRequest {
                        parent: side.nth("people", person),
                        discipline: Some(pb::Discipline {
                            sanction: pb::Sanction::Reprimand.into(),
                            decided_on: Some(date(year, 4, 12)),
                            decision_number: format!("{year}/QĐ-UBND"),
                            reason: "Vi phạm quy chế làm việc".into(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await,
            ),
        ),
        Op::ListQualifications { person } => (
            None,
            answer(
                admin
                    .people()
                    .list_qualifications(pb::ListQualificationsRequest {
                        parent: side.nth("people", person),
                        ..Default::default()
                    })
                    .await,
            ),
        ),
        Op::CreatePlan { locality: l, year } => (
            Some("trainingPlans"),
            answer(
                admin
                    .plans()
                    .create_training_plan(pb::CreateTrainingPlanRequest {
                        training_plan: Some(pb::TrainingPlan {
                            title: format!("Kế hoạch đào tạo năm {year}"),
                            owner: locality(l),
                            period_start: Some(date(year, 1, 1)),
                            period_end: Some(date(year + 1, 1, 1)),
                            legal_basis: Some(pb::LegalBasis {
                                document_number: format!("{year}/KH-UBND"),
                                issued_on: Some(date(year - 1, 12, 15)),
                            }),
                            lines: vec![pb::TargetLine {
                                line_id: "digital_skills".into(),
                                title: "Bồi dưỡng kỹ năng chuyển đổi số".into(),
                                kind: pb::ProgrammeKind::Refresher.into(),
                                topic: "Kỹ năng chuyển đổi số".into(),
                                target_enrollments: 40,
                                ..Default::default()
                            }],
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    })
                    .await
                    .map(|r| r.map(|p| p.training_plan.unwrap_or_default())),
            ),
        ),
        Op::GetPlan { plan } => (
            None,
            answer(
                admin
                    .plans()
                    .get_training_plan(pb::GetTrainingPlanRequest { name: side.nth("trainingPlans", plan) })
                    .await,
            ),
        ),
        Op::Profile { locality: l } => (
            None,
            answer(
                admin
                    .reports()
                    .get_workforce_profile(pb::GetWorkforceProfileRequest {
                        scope: Some(pb::ReportScope {
                            locality: locality(l),
                            breakdown_by_child: true,
                            ..Default::default()
                        }),
                    })
                    .await,
            ),
        ),
        Op::Evaluations { locality: l } => (
            None,
            answer(
                admin
                    .reports()
                    .summarize_evaluations(pb::SummarizeEvaluationsRequest {
                        scope: Some(pb::ReportScope { locality: locality(l), ..Default::default() }),
                        first_year: 2020,
                        last_year: 2025,
                    })
                    .await,
            ),
        ),
        Op::Headcount { unit } => (
            None,
            answer(
                admin
                    .staffing()
                    .get_headcount(pb::GetHeadcountRequest {
                        unit: side.nth("units", unit),
                        locality: String::new(),
                        as_of: None,
                    })
                    .await,
            ),
        ),
    };
    if let (Some(kind), Ok(text)) = (kind, &result)
        && let Some(name) = first_name(text, kind)
    {
        side.remember(kind, &name);
    }
    result
}

/// The first `kind/{id}` name in an answer (the created record's own name comes first).
fn first_name(text: &str, kind: &str) -> Option<String> {
    let prefix = format!("name: \"{kind}/");
    let at = text.find(&prefix)? + "name: \"".len();
    let end = text[at..].find('"')?;
    Some(text[at..at + end].to_owned())
}

/// Renumbers generated ids in order of first appearance (per collection) and leaves
/// timestamps out, so that two servers' answers compare equal when they mean the same.
struct Normalizer {
    ids: BTreeMap<(String, String), usize>,
}

impl Normalizer {
    fn new() -> Self {
        Self { ids: BTreeMap::new() }
    }

    fn apply(&mut self, text: &str) -> String {
        const COLLECTIONS: [&str; 8] = [
            "units/",
            "people/",
            "placements/",
            "qualifications/",
            "disciplines/",
            "trainingPlans/",
            "courses/",
            "enrollments/",
        ];
        let text = strip_timestamps(text);
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        'scan: while !rest.is_empty() {
            for collection in COLLECTIONS {
                if let Some(after) = rest.strip_prefix(collection) {
                    let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
                    if digits > 0 {
                        let next = self.ids.len();
                        let id = *self.ids.entry((collection.to_owned(), after[..digits].to_owned())).or_insert(next);
                        out.push_str(&format!("{collection}#{id}"));
                        rest = &after[digits..];
                        continue 'scan;
                    }
                }
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
        out
    }
}

/// The text with every `Timestamp { … }` replaced by `Timestamp`.
fn strip_timestamps(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("Timestamp {") {
        out.push_str(&rest[..at]);
        out.push_str("Timestamp");
        rest = rest[at..].find('}').map_or("", |end| &rest[at + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// What is compared of an answer: the normalized response, or the code with the fields
/// of its violations (messages may word a database's complaint differently).
fn outcome(result: &Result<String, Status>, normalizer: &mut Normalizer) -> String {
    match result {
        Ok(text) => format!("OK {}", normalizer.apply(text)),
        Err(status) => {
            let fields: Vec<String> = field_violations(status).into_iter().map(|(f, _)| f).collect();
            format!("{:?} {fields:?}", status.code())
        }
    }
}

#[tokio::test]
async fn the_same_random_operations_get_the_same_answers_on_sqlite_and_postgresql() {
    if std::env::var("HRPLAN_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!(
            "differential test NOT RUN: it compares SQLite with PostgreSQL and runs in the PostgreSQL pass \
             (HRPLAN_TEST_BACKEND=postgres, as scripts/test and CI run it)"
        );
        return;
    }
    let mut compared = 0_usize;
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 1..=SEQUENCES {
        // Arrange: a fresh pair of servers with the demo tree.
        let mut rng = Rng(seed);
        let mut sides = [
            Side { app: spawn_sqlite_app().await, created: BTreeMap::new() },
            Side { app: spawn_app().await, created: BTreeMap::new() },
        ];
        for side in &sides {
            side.app.load_demo().await;
        }
        let mut normalizers = [Normalizer::new(), Normalizer::new()];
        for step in 0..OPERATIONS {
            let op = random_op(&mut rng);
            // Act: the same operation on both.
            let sqlite = run(&mut sides[0], &op).await;
            let postgres = run(&mut sides[1], &op).await;
            // Assert: the same answer.
            let (a, b) = (outcome(&sqlite, &mut normalizers[0]), outcome(&postgres, &mut normalizers[1]));
            assert_eq!(
                a, b,
                "seed {seed}, step {step}: SQLite and PostgreSQL disagree on {op:?}\n  SQLite:     {sqlite:?}\n  PostgreSQL: {postgres:?}"
            );
            compared += 1;
            let kind = format!("{op:?}").split([' ', '{']).next().unwrap_or_default().to_owned();
            let code = if a.starts_with("OK ") { "OK" } else { a.as_str() };
            *tally.entry(format!("{kind} {code}")).or_default() += 1;
        }
    }
    println!("differential test: {SEQUENCES} sequences, {compared} operations compared; outcomes {tally:#?}");
    // The comparison means something only if much of it compares answers, not errors
    // (many operations aim at records a sequence has not created yet, or no longer has).
    let answered: usize = tally.iter().filter(|(k, _)| k.ends_with(" OK")).map(|(_, n)| n).sum();
    assert!(answered * 4 >= compared, "only {answered} of {compared} operations were answered OK");
}
