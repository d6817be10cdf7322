//! Locality scope and the personal-data rule for the services of people's records
//! (PersonService, StandardService, ScaleService): the scope test of the foundation
//! issue (`scope.rs`), extended to every new RPC. Each service has one table of calls
//! keyed by RPC name, checked against the service descriptor, so that a new RPC
//! without an entry fails here.
//!
//! The fixture is built by a national admin: units and people of Điện Biên (11) and of
//! Lạng Sơn (20), each person with a placement, a qualification, an evaluation and a
//! discipline. The scoped caller of the acceptance point is an editor and
//! personal-data reader of Lạng Sơn.

use std::collections::BTreeSet;

use hrplan::{
    auth::Role,
    grpc::pb::{self, LocalityTier as T, PersonCategory as C},
};
use pb::lookup_person_request::Identifier;
use prost::Message as _;
use prost_types::FieldMask;
use tonic::{Code, Status};

use crate::clients::{PersonClient, ScaleClient, StandardClient};
use crate::helpers::{TestApp, code_of, date, spawn_app, unit};

/// The province the scoped caller may act on: Tỉnh Lạng Sơn.
const OWN: &str = "20";
/// The province it may not: Tỉnh Điện Biên.
const OTHER: &str = "11";
/// A person id no fixture reaches.
const MISSING_PERSON: &str = "people/999999";
/// A unit id no fixture reaches.
const MISSING_UNIT: &str = "units/999999";

/// The methods of `hrplan.v1.{service}`, read from the descriptor set the server serves
/// by reflection.
fn service_methods(service: &str) -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(hrplan::grpc::FILE_DESCRIPTOR_SET).expect("a descriptor set");
    let services: Vec<&prost_types::ServiceDescriptorProto> = set
        .file
        .iter()
        .filter(|file| file.package() == "hrplan.v1")
        .flat_map(|file| file.service.iter())
        .filter(|s| s.name() == service)
        .collect();
    assert_eq!(services.len(), 1, "hrplan.v1.{service} is declared once");
    services[0].method.iter().map(|m| m.name().to_owned()).collect()
}

/// A caller: who it is (for messages), where it may act and what it may do.
#[derive(Debug, Clone, Copy)]
struct Caller {
    who: &'static str,
    localities: &'static [&'static str],
    roles: &'static [Role],
}

impl Caller {
    fn people(self, app: &TestApp) -> PersonClient {
        app.as_(crate::clients::Caller::of(self.localities, self.roles)).people()
    }

    fn standards(self, app: &TestApp) -> StandardClient {
        app.as_(crate::clients::Caller::of(self.localities, self.roles)).standards()
    }

    fn scales(self, app: &TestApp) -> ScaleClient {
        app.as_(crate::clients::Caller::of(self.localities, self.roles)).scales()
    }
}

const NATIONAL_ADMIN: Caller = Caller { who: "a national admin", localities: &["*"], roles: &[Role::Admin] };
/// The scoped caller of the acceptance point.
const LANG_SON_EDITOR: Caller = Caller {
    who: "an editor and personal-data reader scoped to Lạng Sơn",
    localities: &[OWN],
    roles: &[Role::Editor, Role::PersonalDataReader],
};
const LANG_SON_ADMIN: Caller =
    Caller { who: "an admin scoped to Lạng Sơn", localities: &[OWN], roles: &[Role::Admin] };
const LANG_SON_READER: Caller =
    Caller {
        who: "a personal-data reader scoped to Lạng Sơn", localities: &[OWN], roles: &[Role::PersonalDataReader]
    };
const LANG_SON_AGGREGATE_READER: Caller =
    Caller { who: "an aggregate reader scoped to Lạng Sơn", localities: &[OWN], roles: &[Role::AggregateReader] };
const NATIONAL_EDITOR: Caller = Caller {
    who: "a national editor and personal-data reader",
    localities: &["*"],
    roles: &[Role::Editor, Role::PersonalDataReader],
};
const DIEN_BIEN_READER: Caller = Caller {
    who: "a personal-data reader scoped to Điện Biên",
    localities: &[OTHER],
    roles: &[Role::PersonalDataReader],
};
const DIEN_BIEN_AGGREGATE_READER: Caller =
    Caller {
        who: "an aggregate reader scoped to Điện Biên", localities: &[OTHER], roles: &[Role::AggregateReader]
    };
const DIEN_BIEN_EDITOR: Caller =
    Caller { who: "an editor scoped to Điện Biên", localities: &[OTHER], roles: &[Role::Editor] };

// ---- fixture -----------------------------------------------------------------------

/// The resource names of a person and of one record of each kind of theirs.
#[derive(Debug, Clone)]
struct Records {
    person: String,
    placement: String,
    qualification: String,
    evaluation: String,
    discipline: String,
}

impl Records {
    /// Names under a person who does not exist.
    fn missing() -> Self {
        Self {
            person: MISSING_PERSON.to_owned(),
            placement: format!("{MISSING_PERSON}/placements/1"),
            qualification: format!("{MISSING_PERSON}/qualifications/1"),
            evaluation: format!("{MISSING_PERSON}/evaluations/2024"),
            discipline: format!("{MISSING_PERSON}/disciplines/1"),
        }
    }
}

/// The personal identification number of the Điện Biên person (born 1985, female).
const DIEN_BIEN_NUMBER: &str = "011185000001";
/// The staff code of the Điện Biên person.
const DIEN_BIEN_STAFF_CODE: &str = "DB-NV-0001";

/// The demo tree with units and people of both provinces, made by a national admin.
struct Fixture {
    app: TestApp,
    /// Ủy ban nhân dân thành phố Điện Biên Phủ (094, of 11), 2020-01-01 to 2025-07-01.
    dien_bien_city: String,
    /// Ủy ban nhân dân phường Điện Biên Phủ (03127, of 11), from 2025-07-01.
    dien_bien_ward: String,
    /// Sở Nội vụ tỉnh Điện Biên (11), from 2020-01-01.
    dien_bien_department: String,
    /// Ủy ban nhân dân xã Chi Lăng (06463, of 20), from 2020-01-01.
    lang_son_commune: String,
    /// Placed in 094 over 2021-01-01 to 2025-07-01 (`placement`), then in 03127.
    dien_bien: Records,
    /// Placed in 06463 from 2021-01-01.
    lang_son: Records,
}

fn person(full_name: &str, ethnicity: &str) -> pb::Person {
    pb::Person {
        full_name: full_name.into(),
        birth_date: Some(date(1985, 3, 2)),
        gender: pb::Gender::Female.into(),
        ethnicity: ethnicity.into(),
        category: pb::PersonCategory::CivilServant.into(),
        employed_from: Some(date(2010, 9, 1)),
        ..Default::default()
    }
}

fn placement(unit: &str, from: pb::Date, until: Option<pb::Date>) -> pb::Placement {
    pb::Placement {
        unit: unit.into(),
        post_title: "Công chức Văn phòng - Thống kê".into(),
        valid_from: Some(from),
        valid_until: until,
        ..Default::default()
    }
}

fn qualification() -> pb::Qualification {
    pb::Qualification {
        level: "scales/professional/levels/university".into(),
        field_of_study: "Luật".into(),
        institution: "Đại học Luật Hà Nội".into(),
        awarded_on: Some(date(2008, 6, 30)),
        ..Default::default()
    }
}

fn discipline() -> pb::Discipline {
    pb::Discipline {
        sanction: pb::Sanction::Reprimand.into(),
        decided_on: Some(date(2023, 4, 12)),
        decision_number: "125/QĐ-UBND".into(),
        reason: "Vi phạm quy chế làm việc".into(),
        ..Default::default()
    }
}

/// A record of a new person with `placements`, a qualification and a 2024 evaluation.
fn record(full_name: &str, ethnicity: &str, placements: Vec<pb::Placement>) -> pb::PersonRecord {
    pb::PersonRecord {
        person: Some(person(full_name, ethnicity)),
        placements,
        qualifications: vec![qualification()],
        evaluations: vec![pb::Evaluation { year: 2024, rating: pb::Rating::Good.into(), ..Default::default() }],
    }
}

/// Creates a person with `record` and a discipline, as a national admin; the names of
/// the person, their first placement and one record of each other kind.
async fn person_with_records(client: &mut PersonClient, record: pb::PersonRecord) -> Records {
    let person = client
        .create_person(pb::CreatePersonRequest { record: Some(record), request_id: String::new() })
        .await
        .expect("creating a person")
        .into_inner()
        .person
        .expect("person")
        .name;
    let discipline = client
        .create_discipline(pb::CreateDisciplineRequest {
            parent: person.clone(),
            discipline: Some(discipline()),
            request_id: String::new(),
        })
        .await
        .expect("creating a discipline")
        .into_inner()
        .discipline
        .expect("discipline")
        .name;
    let placements = client
        .list_placements(pb::ListPlacementsRequest { parent: person.clone(), ..Default::default() })
        .await
        .expect("listing placements")
        .into_inner()
        .placements;
    let qualifications = client
        .list_qualifications(pb::ListQualificationsRequest { parent: person.clone(), ..Default::default() })
        .await
        .expect("listing qualifications")
        .into_inner()
        .qualifications;
    Records {
        placement: placements.first().expect("a placement").name.clone(),
        qualification: qualifications.first().expect("a qualification").name.clone(),
        evaluation: format!("{person}/evaluations/2024"),
        discipline,
        person,
    }
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    app.load_demo().await;
    let dien_bien_city = unit(
        &app,
        "localities/094",
        "Ủy ban nhân dân thành phố Điện Biên Phủ",
        date(2020, 1, 1),
        Some(date(2025, 7, 1)),
    )
    .await;
    let dien_bien_ward =
        unit(&app, "localities/03127", "Ủy ban nhân dân phường Điện Biên Phủ", date(2025, 7, 1), None).await;
    let dien_bien_department = unit(&app, "localities/11", "Sở Nội vụ tỉnh Điện Biên", date(2020, 1, 1), None).await;
    let lang_son_commune = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let mut admin = NATIONAL_ADMIN.people(&app);
    let mut dien_bien_record = record(
        "Lò Thị Thanh",
        "Thái",
        vec![
            placement(&dien_bien_city, date(2021, 1, 1), Some(date(2025, 7, 1))),
            placement(&dien_bien_ward, date(2025, 7, 1), None),
        ],
    );
    if let Some(p) = dien_bien_record.person.as_mut() {
        p.personal_id = DIEN_BIEN_NUMBER.to_owned();
        p.staff_code = DIEN_BIEN_STAFF_CODE.to_owned();
    }
    let dien_bien = person_with_records(&mut admin, dien_bien_record).await;
    let lang_son = person_with_records(
        &mut admin,
        record("Hoàng Thị Lan", "Tày", vec![placement(&lang_son_commune, date(2021, 1, 1), None)]),
    )
    .await;
    Fixture { app, dien_bien_city, dien_bien_ward, dien_bien_department, lang_son_commune, dien_bien, lang_son }
}

// ---- PersonService -----------------------------------------------------------------

/// One PersonService call; each variant is named by its RPC.
#[derive(Debug, Clone)]
enum PersonCall {
    CreatePerson(pb::CreatePersonRequest),
    GetPerson(pb::GetPersonRequest),
    SearchPeople(pb::SearchPeopleRequest),
    UpdatePerson(pb::UpdatePersonRequest),
    DeletePerson(pb::DeletePersonRequest),
    ImportPeople(Vec<pb::PersonRecord>),
    ExportPeople(pb::ExportPeopleRequest),
    LookupPerson(pb::LookupPersonRequest),
    CreatePlacement(pb::CreatePlacementRequest),
    GetPlacement(pb::GetPlacementRequest),
    ListPlacements(pb::ListPlacementsRequest),
    UpdatePlacement(pb::UpdatePlacementRequest),
    DeletePlacement(pb::DeletePlacementRequest),
    CreateQualification(pb::CreateQualificationRequest),
    GetQualification(pb::GetQualificationRequest),
    ListQualifications(pb::ListQualificationsRequest),
    UpdateQualification(pb::UpdateQualificationRequest),
    DeleteQualification(pb::DeleteQualificationRequest),
    CreateEvaluation(pb::CreateEvaluationRequest),
    GetEvaluation(pb::GetEvaluationRequest),
    ListEvaluations(pb::ListEvaluationsRequest),
    UpdateEvaluation(pb::UpdateEvaluationRequest),
    DeleteEvaluation(pb::DeleteEvaluationRequest),
    CreateDiscipline(pb::CreateDisciplineRequest),
    GetDiscipline(pb::GetDisciplineRequest),
    ListDisciplines(pb::ListDisciplinesRequest),
    UpdateDiscipline(pb::UpdateDisciplineRequest),
    DeleteDiscipline(pb::DeleteDisciplineRequest),
}

/// What a PersonService call answered, when it did.
#[derive(Debug)]
enum PersonAnswer {
    /// A single resource, or nothing.
    Done,
    /// The resource names of the people found or exported.
    People(Vec<String>),
    /// The answer of an import.
    Import(pb::ImportPeopleResponse),
}

impl PersonCall {
    /// The RPC's name in the proto.
    fn method(&self) -> &'static str {
        match self {
            Self::CreatePerson(_) => "CreatePerson",
            Self::GetPerson(_) => "GetPerson",
            Self::SearchPeople(_) => "SearchPeople",
            Self::UpdatePerson(_) => "UpdatePerson",
            Self::DeletePerson(_) => "DeletePerson",
            Self::ImportPeople(_) => "ImportPeople",
            Self::ExportPeople(_) => "ExportPeople",
            Self::LookupPerson(_) => "LookupPerson",
            Self::CreatePlacement(_) => "CreatePlacement",
            Self::GetPlacement(_) => "GetPlacement",
            Self::ListPlacements(_) => "ListPlacements",
            Self::UpdatePlacement(_) => "UpdatePlacement",
            Self::DeletePlacement(_) => "DeletePlacement",
            Self::CreateQualification(_) => "CreateQualification",
            Self::GetQualification(_) => "GetQualification",
            Self::ListQualifications(_) => "ListQualifications",
            Self::UpdateQualification(_) => "UpdateQualification",
            Self::DeleteQualification(_) => "DeleteQualification",
            Self::CreateEvaluation(_) => "CreateEvaluation",
            Self::GetEvaluation(_) => "GetEvaluation",
            Self::ListEvaluations(_) => "ListEvaluations",
            Self::UpdateEvaluation(_) => "UpdateEvaluation",
            Self::DeleteEvaluation(_) => "DeleteEvaluation",
            Self::CreateDiscipline(_) => "CreateDiscipline",
            Self::GetDiscipline(_) => "GetDiscipline",
            Self::ListDisciplines(_) => "ListDisciplines",
            Self::UpdateDiscipline(_) => "UpdateDiscipline",
            Self::DeleteDiscipline(_) => "DeleteDiscipline",
        }
    }

    /// Runs the call.
    async fn run(&self, client: &mut PersonClient) -> Result<PersonAnswer, Status> {
        fn done<T>(_: T) -> PersonAnswer {
            PersonAnswer::Done
        }
        match self.clone() {
            Self::CreatePerson(r) => client.create_person(r).await.map(done),
            Self::GetPerson(r) => client.get_person(r).await.map(done),
            Self::SearchPeople(r) => client
                .search_people(r)
                .await
                .map(|a| PersonAnswer::People(a.into_inner().people.into_iter().map(|p| p.name).collect())),
            Self::UpdatePerson(r) => client.update_person(r).await.map(done),
            Self::DeletePerson(r) => client.delete_person(r).await.map(done),
            Self::ImportPeople(records) => {
                let stream = tokio_stream::iter(
                    records.into_iter().map(|r| pb::ImportPeopleRequest { record: Some(r), ..Default::default() }),
                );
                client.import_people(stream).await.map(|a| PersonAnswer::Import(a.into_inner()))
            }
            Self::ExportPeople(r) => {
                let mut stream = client.export_people(r).await?.into_inner();
                let mut names = Vec::new();
                while let Some(message) = stream.message().await? {
                    names.push(message.record.and_then(|r| r.person).map(|p| p.name).unwrap_or_default());
                }
                Ok(PersonAnswer::People(names))
            }
            Self::LookupPerson(r) => client.lookup_person(r).await.map(done),
            Self::CreatePlacement(r) => client.create_placement(r).await.map(done),
            Self::GetPlacement(r) => client.get_placement(r).await.map(done),
            Self::ListPlacements(r) => client.list_placements(r).await.map(done),
            Self::UpdatePlacement(r) => client.update_placement(r).await.map(done),
            Self::DeletePlacement(r) => client.delete_placement(r).await.map(done),
            Self::CreateQualification(r) => client.create_qualification(r).await.map(done),
            Self::GetQualification(r) => client.get_qualification(r).await.map(done),
            Self::ListQualifications(r) => client.list_qualifications(r).await.map(done),
            Self::UpdateQualification(r) => client.update_qualification(r).await.map(done),
            Self::DeleteQualification(r) => client.delete_qualification(r).await.map(done),
            Self::CreateEvaluation(r) => client.create_evaluation(r).await.map(done),
            Self::GetEvaluation(r) => client.get_evaluation(r).await.map(done),
            Self::ListEvaluations(r) => client.list_evaluations(r).await.map(done),
            Self::UpdateEvaluation(r) => client.update_evaluation(r).await.map(done),
            Self::DeleteEvaluation(r) => client.delete_evaluation(r).await.map(done),
            Self::CreateDiscipline(r) => client.create_discipline(r).await.map(done),
            Self::GetDiscipline(r) => client.get_discipline(r).await.map(done),
            Self::ListDisciplines(r) => client.list_disciplines(r).await.map(done),
            Self::UpdateDiscipline(r) => client.update_discipline(r).await.map(done),
            Self::DeleteDiscipline(r) => client.delete_discipline(r).await.map(done),
        }
    }
}

fn mask(path: &str) -> Option<FieldMask> {
    Some(FieldMask { paths: vec![path.to_owned()] })
}

fn search(locality: &str) -> PersonCall {
    PersonCall::SearchPeople(pb::SearchPeopleRequest {
        locality: locality.to_owned(),
        page_size: 1000,
        ..Default::default()
    })
}

/// A search of `locality` (or of the caller's scope) for `words` on `as_of`.
fn search_on(locality: &str, words: &str, as_of: pb::Date) -> PersonCall {
    PersonCall::SearchPeople(pb::SearchPeopleRequest {
        locality: locality.to_owned(),
        query: words.to_owned(),
        as_of: Some(as_of),
        page_size: 1000,
        ..Default::default()
    })
}

/// A lookup of the person who carries `identifier`, on `as_of`.
fn lookup(identifier: Identifier, as_of: Option<pb::Date>) -> PersonCall {
    PersonCall::LookupPerson(pb::LookupPersonRequest { identifier: Some(identifier), as_of })
}

fn export(locality: &str) -> PersonCall {
    PersonCall::ExportPeople(pb::ExportPeopleRequest { locality: locality.to_owned(), ..Default::default() })
}

fn get_person(name: &str) -> PersonCall {
    PersonCall::GetPerson(pb::GetPersonRequest { name: name.to_owned(), as_of: None })
}

/// A call of every RPC that names a person, on the records of `r`; a new placement goes
/// to `unit` over 2020. Each is well formed and, for a national admin, runs in order:
/// creations, reads, updates, then deletions (the person last).
fn calls_on_the_records_of(r: &Records, unit: &str) -> Vec<PersonCall> {
    use PersonCall as P;
    let parent = || r.person.clone();
    vec![
        P::CreatePlacement(pb::CreatePlacementRequest {
            parent: parent(),
            placement: Some(placement(unit, date(2020, 1, 1), Some(date(2021, 1, 1)))),
            request_id: String::new(),
        }),
        P::CreateQualification(pb::CreateQualificationRequest {
            parent: parent(),
            qualification: Some(pb::Qualification {
                level: "scales/professional/levels/master".into(),
                awarded_on: Some(date(2015, 6, 30)),
                ..qualification()
            }),
            request_id: String::new(),
        }),
        P::CreateEvaluation(pb::CreateEvaluationRequest {
            parent: parent(),
            evaluation: Some(pb::Evaluation { year: 2025, rating: pb::Rating::Excellent.into(), ..Default::default() }),
            request_id: String::new(),
        }),
        P::CreateDiscipline(pb::CreateDisciplineRequest {
            parent: parent(),
            discipline: Some(pb::Discipline { decision_number: "126/QĐ-UBND".into(), ..discipline() }),
            request_id: String::new(),
        }),
        get_person(&r.person),
        P::GetPlacement(pb::GetPlacementRequest { name: r.placement.clone() }),
        P::ListPlacements(pb::ListPlacementsRequest { parent: parent(), ..Default::default() }),
        P::GetQualification(pb::GetQualificationRequest { name: r.qualification.clone() }),
        P::ListQualifications(pb::ListQualificationsRequest { parent: parent(), ..Default::default() }),
        P::GetEvaluation(pb::GetEvaluationRequest { name: r.evaluation.clone() }),
        P::ListEvaluations(pb::ListEvaluationsRequest { parent: parent(), ..Default::default() }),
        P::GetDiscipline(pb::GetDisciplineRequest { name: r.discipline.clone() }),
        P::ListDisciplines(pb::ListDisciplinesRequest { parent: parent(), ..Default::default() }),
        P::UpdatePerson(pb::UpdatePersonRequest {
            person: Some(pb::Person { name: parent(), full_name: "Lò Thị Thanh Hoa".into(), ..Default::default() }),
            update_mask: mask("full_name"),
        }),
        P::UpdatePlacement(pb::UpdatePlacementRequest {
            placement: Some(pb::Placement {
                name: r.placement.clone(),
                post_title: "Chánh Văn phòng".into(),
                ..Default::default()
            }),
            update_mask: mask("post_title"),
        }),
        P::UpdateQualification(pb::UpdateQualificationRequest {
            qualification: Some(pb::Qualification {
                name: r.qualification.clone(),
                field_of_study: "Hành chính công".into(),
                ..Default::default()
            }),
            update_mask: mask("field_of_study"),
        }),
        P::UpdateEvaluation(pb::UpdateEvaluationRequest {
            evaluation: Some(pb::Evaluation {
                name: r.evaluation.clone(),
                rating: pb::Rating::Excellent.into(),
                ..Default::default()
            }),
            update_mask: mask("rating"),
        }),
        P::UpdateDiscipline(pb::UpdateDisciplineRequest {
            discipline: Some(pb::Discipline {
                name: r.discipline.clone(),
                reason: "Vi phạm quy chế".into(),
                ..Default::default()
            }),
            update_mask: mask("reason"),
        }),
        P::DeleteDiscipline(pb::DeleteDisciplineRequest { name: r.discipline.clone(), etag: String::new() }),
        P::DeleteEvaluation(pb::DeleteEvaluationRequest { name: r.evaluation.clone(), etag: String::new() }),
        P::DeleteQualification(pb::DeleteQualificationRequest { name: r.qualification.clone(), etag: String::new() }),
        P::DeletePlacement(pb::DeletePlacementRequest { name: r.placement.clone(), etag: String::new() }),
        P::DeletePerson(pb::DeletePersonRequest { name: parent(), etag: String::new() }),
    ]
}

/// What the scoped caller must get from a call aimed at Điện Biên.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// PERMISSION_DENIED.
    Refused,
    /// An answer holding people of Lạng Sơn, and only them (the positive control).
    OnlyLangSon,
    /// An answer holding nobody.
    Nobody,
    /// An import answer writing nothing and rejecting the record's unit.
    UnitRejected,
}

/// Calls aimed at the Điện Biên person or units, at least one for every RPC, with what
/// the scoped caller must get. A national admin may run them all, in this order.
fn calls_aimed_at_dien_bien(f: &Fixture) -> Vec<(PersonCall, Expect)> {
    use PersonCall as P;
    let newcomer = |unit: &str| record("Quàng Văn Sơn", "Thái", vec![placement(unit, date(2025, 7, 1), None)]);
    let mut calls = vec![
        (
            P::CreatePerson(pb::CreatePersonRequest {
                record: Some(newcomer(&f.dien_bien_ward)),
                request_id: String::new(),
            }),
            Expect::Refused,
        ),
        (search(&format!("localities/{OTHER}")), Expect::Refused),
        (search("localities/03127"), Expect::Refused),
        (search(""), Expect::OnlyLangSon),
        // On 2023-06-01 the Điện Biên person was placed in Thành phố Điện Biên Phủ (094).
        (search_on("localities/094", "", date(2023, 6, 1)), Expect::Refused),
        (search_on("", "", date(2023, 6, 1)), Expect::OnlyLangSon),
        (search_on("", "lo thi thanh", date(2023, 6, 1)), Expect::Nobody),
        (search_on("", "lo thi thanh", date(2025, 7, 1)), Expect::Nobody),
        (
            PersonCall::GetPerson(pb::GetPersonRequest {
                name: f.dien_bien.person.clone(),
                as_of: Some(date(2023, 6, 1)),
            }),
            Expect::Refused,
        ),
        (export(""), Expect::OnlyLangSon),
        (
            PersonCall::ExportPeople(pb::ExportPeopleRequest {
                query: "lo thi thanh".to_owned(),
                as_of: Some(date(2023, 6, 1)),
                ..Default::default()
            }),
            Expect::Nobody,
        ),
        (export(&format!("localities/{OTHER}")), Expect::Refused),
        (lookup(Identifier::PersonalId(DIEN_BIEN_NUMBER.to_owned()), None), Expect::Refused),
        (lookup(Identifier::StaffCode(DIEN_BIEN_STAFF_CODE.to_lowercase()), Some(date(2023, 6, 1))), Expect::Refused),
        (P::ImportPeople(vec![newcomer(&f.dien_bien_ward)]), Expect::UnitRejected),
        // The Lạng Sơn person, whom the caller may edit, moved to a unit of Điện Biên.
        (
            P::CreatePlacement(pb::CreatePlacementRequest {
                parent: f.lang_son.person.clone(),
                placement: Some(placement(&f.dien_bien_department, date(2020, 1, 1), Some(date(2021, 1, 1)))),
                request_id: String::new(),
            }),
            Expect::Refused,
        ),
        (
            P::UpdatePlacement(pb::UpdatePlacementRequest {
                placement: Some(pb::Placement {
                    name: f.lang_son.placement.clone(),
                    unit: f.dien_bien_department.clone(),
                    ..Default::default()
                }),
                update_mask: mask("unit"),
            }),
            Expect::Refused,
        ),
    ];
    calls.extend(calls_on_the_records_of(&f.dien_bien, &f.dien_bien_city).into_iter().map(|c| (c, Expect::Refused)));
    calls
}

/// The resource names of the Lạng Sơn people of the fixture.
fn lang_son_people(f: &Fixture) -> BTreeSet<String> {
    BTreeSet::from([f.lang_son.person.clone()])
}

#[tokio::test]
async fn every_person_rpc_aimed_at_another_province_is_refused_to_a_caller_scoped_to_one_province() {
    // Arrange
    let f = fixture().await;
    let covered: BTreeSet<String> = calls_aimed_at_dien_bien(&f).iter().map(|(c, _)| c.method().to_owned()).collect();
    assert_eq!(
        covered,
        service_methods("PersonService"),
        "every PersonService RPC needs a call in calls_aimed_at_dien_bien (and only those)"
    );
    let mut scoped = LANG_SON_EDITOR.people(&f.app);
    let own = lang_son_people(&f);

    for (call, expect) in calls_aimed_at_dien_bien(&f) {
        let method = call.method();
        let before = f.app.snapshot().await;

        // Act
        let result = call.run(&mut scoped).await;

        // Assert
        match (expect, result) {
            (Expect::Refused, Err(status)) => {
                assert_eq!(status.code(), Code::PermissionDenied, "{method}: {status:?}");
                assert!(!status.message().contains("Lò Thị Thanh"), "{method} told a name: {status:?}");
            }
            (Expect::OnlyLangSon, Ok(PersonAnswer::People(found))) => {
                let found: BTreeSet<String> = found.into_iter().collect();
                assert_eq!(found, own, "{method} without a locality: only (and all) the people of Lạng Sơn");
            }
            (Expect::Nobody, Ok(PersonAnswer::People(found))) => {
                assert_eq!(found, Vec::<String>::new(), "{method} found someone of Điện Biên");
            }
            (Expect::UnitRejected, Ok(PersonAnswer::Import(answer))) => {
                assert_eq!((answer.received_count, answer.imported_count), (1, 0), "{method}: {answer:?}");
                assert!(answer.people.is_empty(), "{method}: {answer:?}");
                let fields: Vec<(i32, Vec<&str>)> = answer
                    .rejected
                    .iter()
                    .map(|r| (r.index, r.violations.iter().map(|v| v.field.as_str()).collect()))
                    .collect();
                assert_eq!(fields, [(0, vec!["placements[0].unit"])], "{method}: {answer:?}");
            }
            (expect, result) => panic!("{method}: expected {expect:?}, got {result:?}"),
        }
        assert_eq!(f.app.snapshot().await, before, "{method} aimed at Điện Biên changed the database");
    }
}

#[tokio::test]
async fn a_national_admin_is_granted_the_person_calls_a_scoped_caller_is_refused() {
    // Arrange
    let f = fixture().await;
    let mut admin = NATIONAL_ADMIN.people(&f.app);

    for (call, expect) in calls_aimed_at_dien_bien(&f) {
        let method = call.method();

        // Act
        let result = call.run(&mut admin).await;

        // Assert
        let answer = result.unwrap_or_else(|status| panic!("{method} by a national admin: {status:?}"));
        match (expect, answer) {
            (Expect::Refused, PersonAnswer::Done) => {}
            (Expect::Refused | Expect::Nobody, PersonAnswer::People(found)) => {
                assert!(found.contains(&f.dien_bien.person), "{method} by a national admin: {found:?}");
            }
            (Expect::OnlyLangSon, PersonAnswer::People(found)) => {
                assert!(found.contains(&f.dien_bien.person), "{method} by a national admin: {found:?}");
                assert!(found.contains(&f.lang_son.person), "{method} by a national admin: {found:?}");
            }
            (Expect::UnitRejected, PersonAnswer::Import(answer)) => {
                assert_eq!(answer.imported_count, 1, "{method} by a national admin: {answer:?}");
            }
            (expect, answer) => panic!("{method}: expected {expect:?}, got {answer:?}"),
        }
    }
}

#[tokio::test]
async fn a_scoped_caller_is_refused_people_who_do_not_exist_rather_than_told_they_are_missing() {
    // Arrange
    let f = fixture().await;
    let mut scoped = LANG_SON_EDITOR.people(&f.app);
    let mut admin = NATIONAL_ADMIN.people(&f.app);
    let before = f.app.snapshot().await;

    for call in calls_on_the_records_of(&Records::missing(), &f.lang_son_commune) {
        let method = call.method();

        // Act
        let scoped_code = code_of(call.run(&mut scoped).await);
        let admin_code = code_of(call.run(&mut admin).await);

        // Assert
        assert_eq!(scoped_code, Code::PermissionDenied, "{method} on {MISSING_PERSON} by a scoped caller");
        assert_eq!(admin_code, Code::NotFound, "{method} on {MISSING_PERSON} by a national admin");
    }
    assert_eq!(f.app.snapshot().await, before);
}

impl PersonCall {
    /// The call with `request_id`, if it is a create that takes one.
    fn with_request_id(self, request_id: &str) -> Self {
        let id = request_id.to_owned();
        match self {
            Self::CreatePerson(r) => Self::CreatePerson(pb::CreatePersonRequest { request_id: id, ..r }),
            Self::CreatePlacement(r) => Self::CreatePlacement(pb::CreatePlacementRequest { request_id: id, ..r }),
            Self::CreateQualification(r) => {
                Self::CreateQualification(pb::CreateQualificationRequest { request_id: id, ..r })
            }
            Self::CreateEvaluation(r) => Self::CreateEvaluation(pb::CreateEvaluationRequest { request_id: id, ..r }),
            Self::CreateDiscipline(r) => Self::CreateDiscipline(pb::CreateDisciplineRequest { request_id: id, ..r }),
            other => other,
        }
    }
}

#[tokio::test]
async fn replaying_a_national_admins_create_in_another_province_is_refused_rather_than_answered_from_the_log() {
    // Arrange: a national admin creates a Điện Biên person and records with request ids.
    let f = fixture().await;
    let mut admin = NATIONAL_ADMIN.people(&f.app);
    let mut scoped = LANG_SON_EDITOR.people(&f.app);
    let creates: Vec<PersonCall> = [PersonCall::CreatePerson(pb::CreatePersonRequest {
        record: Some(record("Quàng Văn Sơn", "Thái", vec![placement(&f.dien_bien_ward, date(2025, 7, 1), None)])),
        request_id: String::new(),
    })]
    .into_iter()
    .chain(calls_on_the_records_of(&f.dien_bien, &f.dien_bien_city))
    .filter(|c| c.method().starts_with("Create"))
    .enumerate()
    .map(|(i, c)| c.with_request_id(&format!("2f0c6a52-5d1e-4d7e-9b1a-00000000000{i}")))
    .collect();
    assert_eq!(creates.len(), 5);
    for call in &creates {
        call.run(&mut admin).await.unwrap_or_else(|s| panic!("{} by a national admin: {s:?}", call.method()));
    }
    let before = f.app.snapshot().await;

    for call in &creates {
        // Act
        let replayed = call.run(&mut scoped).await;

        // Assert
        assert_eq!(code_of(replayed), Code::PermissionDenied, "{} replayed by a scoped caller", call.method());
    }
    assert_eq!(f.app.snapshot().await, before);
}

/// The description of the one violation of an import of one record, which must be
/// rejected on `placements[0].unit` with nothing written.
async fn rejected_unit(f: &Fixture, client: &mut PersonClient, unit: &str) -> String {
    let before = f.app.snapshot().await;
    let records = vec![record("Quàng Văn Sơn", "Thái", vec![placement(unit, date(2025, 7, 1), None)])];
    let answer = match PersonCall::ImportPeople(records).run(client).await {
        Ok(PersonAnswer::Import(answer)) => answer,
        other => panic!("importing into {unit}: {other:?}"),
    };
    assert_eq!(f.app.snapshot().await, before, "importing into {unit} changed the database");
    assert_eq!((answer.received_count, answer.imported_count), (1, 0), "{answer:?}");
    let [rejected] = answer.rejected.as_slice() else { panic!("one rejected record expected: {answer:?}") };
    let [violation] = rejected.violations.as_slice() else { panic!("one violation expected: {answer:?}") };
    assert_eq!((rejected.index, violation.field.as_str()), (0, "placements[0].unit"), "{answer:?}");
    violation.description.replace(unit, "<unit>")
}

#[tokio::test]
async fn an_import_into_another_provinces_unit_is_rejected_in_the_words_used_for_a_unit_that_does_not_exist() {
    // Arrange
    let f = fixture().await;
    let mut scoped = LANG_SON_EDITOR.people(&f.app);

    // Act
    let elsewhere = rejected_unit(&f, &mut scoped, &f.dien_bien_ward).await;
    let nowhere = rejected_unit(&f, &mut scoped, MISSING_UNIT).await;

    // Assert
    assert_eq!(elsewhere, nowhere, "a unit of Điện Biên must read like a unit that does not exist");
    assert!(!elsewhere.contains("Điện Biên"), "{elsewhere}");
}

/// The personal-data reads of the acceptance point, on the Điện Biên person.
fn personal_data_reads(r: &Records) -> Vec<PersonCall> {
    vec![
        get_person(&r.person),
        search(&format!("localities/{OTHER}")),
        export(&format!("localities/{OTHER}")),
        PersonCall::GetPlacement(pb::GetPlacementRequest { name: r.placement.clone() }),
        PersonCall::ListQualifications(pb::ListQualificationsRequest {
            parent: r.person.clone(),
            ..Default::default()
        }),
        PersonCall::GetEvaluation(pb::GetEvaluationRequest { name: r.evaluation.clone() }),
        PersonCall::ListDisciplines(pb::ListDisciplinesRequest { parent: r.person.clone(), ..Default::default() }),
    ]
}

#[tokio::test]
async fn reading_personal_data_in_scope_without_the_personal_data_reader_role_is_permission_denied() {
    // Arrange
    let f = fixture().await;
    let before = f.app.snapshot().await;

    for caller in [DIEN_BIEN_AGGREGATE_READER, DIEN_BIEN_EDITOR] {
        let mut client = caller.people(&f.app);
        for call in personal_data_reads(&f.dien_bien) {
            // Act
            let code = code_of(call.run(&mut client).await);

            // Assert
            assert_eq!(code, Code::PermissionDenied, "{} by {}", call.method(), caller.who);
        }
    }
    assert_eq!(f.app.snapshot().await, before);
}

#[tokio::test]
async fn a_personal_data_reader_of_the_persons_province_reads_what_the_other_roles_are_refused() {
    // Arrange
    let f = fixture().await;
    let mut reader = DIEN_BIEN_READER.people(&f.app);

    for call in personal_data_reads(&f.dien_bien) {
        // Act
        let answer = call.run(&mut reader).await;

        // Assert
        match answer {
            Ok(PersonAnswer::People(found)) => {
                assert_eq!(found, std::slice::from_ref(&f.dien_bien.person), "{}", call.method())
            }
            Ok(_) => {}
            Err(status) => panic!("{} by {}: {status:?}", call.method(), DIEN_BIEN_READER.who),
        }
    }
}

// ---- StandardService ---------------------------------------------------------------

/// One StandardService call; each variant is named by its RPC.
#[derive(Debug, Clone)]
enum StandardCall {
    CreateStandard(pb::CreateStandardRequest),
    GetStandard(pb::GetStandardRequest),
    ListStandards(pb::ListStandardsRequest),
    UpdateStandard(pb::UpdateStandardRequest),
    DeleteStandard(pb::DeleteStandardRequest),
    GetPersonCompliance(pb::GetPersonComplianceRequest),
}

impl StandardCall {
    fn method(&self) -> &'static str {
        match self {
            Self::CreateStandard(_) => "CreateStandard",
            Self::GetStandard(_) => "GetStandard",
            Self::ListStandards(_) => "ListStandards",
            Self::UpdateStandard(_) => "UpdateStandard",
            Self::DeleteStandard(_) => "DeleteStandard",
            Self::GetPersonCompliance(_) => "GetPersonCompliance",
        }
    }

    /// Runs the call; the standards of its answer.
    async fn run(&self, client: &mut StandardClient) -> Result<Vec<pb::Standard>, Status> {
        match self.clone() {
            Self::CreateStandard(r) => {
                client.create_standard(r).await.map(|a| a.into_inner().standard.into_iter().collect())
            }
            Self::GetStandard(r) => client.get_standard(r).await.map(|a| a.into_inner().standard.into_iter().collect()),
            Self::ListStandards(r) => client.list_standards(r).await.map(|a| a.into_inner().standards),
            Self::UpdateStandard(r) => {
                client.update_standard(r).await.map(|a| a.into_inner().standard.into_iter().collect())
            }
            Self::DeleteStandard(r) => client.delete_standard(r).await.map(|_| Vec::new()),
            Self::GetPersonCompliance(r) => client.get_person_compliance(r).await.map(|_| Vec::new()),
        }
    }
}

/// A standard for commune civil servants from the 2023 decree.
fn commune_standard(name: &str) -> pb::Standard {
    pb::Standard {
        display_name: name.to_owned(),
        tier: T::Commune.into(),
        category: C::CivilServant.into(),
        effective_from: Some(date(2023, 8, 1)),
        minimum_levels: vec!["scales/professional/levels/university".to_owned()],
        legal_basis: "Nghị định 33/2023/NĐ-CP".to_owned(),
        ..Default::default()
    }
}

/// Changes of the fixture's standard and of a new one: a national admin's alone.
fn standard_changes(existing: &pb::Standard) -> [StandardCall; 3] {
    [
        StandardCall::CreateStandard(pb::CreateStandardRequest {
            standard: Some(commune_standard("Công chức cấp xã (thử)")),
            request_id: String::new(),
        }),
        StandardCall::UpdateStandard(pb::UpdateStandardRequest {
            standard: Some(pb::Standard { display_name: "Đổi tên".into(), ..existing.clone() }),
            update_mask: mask("display_name"),
        }),
        StandardCall::DeleteStandard(pb::DeleteStandardRequest { name: existing.name.clone(), etag: String::new() }),
    ]
}

/// The compliance of `person`: personal data, in the person's scope.
fn compliance_of(person: &str) -> StandardCall {
    StandardCall::GetPersonCompliance(pb::GetPersonComplianceRequest { person: person.to_owned(), as_of: None })
}

/// Reads of the fixture's standard: any role's.
fn standard_reads(existing: &pb::Standard) -> [StandardCall; 2] {
    [
        StandardCall::GetStandard(pb::GetStandardRequest { name: existing.name.clone() }),
        StandardCall::ListStandards(pb::ListStandardsRequest::default()),
    ]
}

#[tokio::test]
async fn every_standard_rpc_refuses_callers_without_the_scope_or_role_it_needs_and_any_role_reads_standards() {
    // Arrange
    let f = fixture().await;
    let mut admin = NATIONAL_ADMIN.standards(&f.app);
    let existing = admin
        .create_standard(pb::CreateStandardRequest {
            standard: Some(commune_standard("Công chức cấp xã")),
            request_id: String::new(),
        })
        .await
        .expect("creating a standard")
        .into_inner()
        .standard
        .expect("standard");
    let mut refused: Vec<(Caller, StandardCall)> = Vec::new();
    for caller in [LANG_SON_EDITOR, LANG_SON_ADMIN, NATIONAL_EDITOR] {
        refused.extend(standard_changes(&existing).map(|call| (caller, call)));
    }
    for caller in [LANG_SON_READER, LANG_SON_EDITOR, DIEN_BIEN_AGGREGATE_READER, DIEN_BIEN_EDITOR] {
        refused.push((caller, compliance_of(&f.dien_bien.person)));
    }
    let mut granted: Vec<(Caller, StandardCall)> = Vec::new();
    for caller in [LANG_SON_AGGREGATE_READER, LANG_SON_EDITOR, DIEN_BIEN_READER] {
        granted.extend(standard_reads(&existing).map(|call| (caller, call)));
    }
    let covered: BTreeSet<String> = refused.iter().chain(&granted).map(|(_, c)| c.method().to_owned()).collect();
    assert_eq!(covered, service_methods("StandardService"), "every StandardService RPC needs a call here");

    for (caller, call) in refused {
        let method = call.method();
        let before = f.app.snapshot().await;

        // Act
        let result = call.run(&mut caller.standards(&f.app)).await;

        // Assert
        assert_eq!(code_of(result), Code::PermissionDenied, "{method} by {}", caller.who);
        assert_eq!(f.app.snapshot().await, before, "{method} by {} changed the database", caller.who);
    }
    for (caller, call) in granted {
        let method = call.method();

        // Act
        let result = call.run(&mut caller.standards(&f.app)).await;

        // Assert
        let standards = result.unwrap_or_else(|s| panic!("{method} by {}: {s:?}", caller.who));
        assert!(standards.contains(&existing), "{method} by {}: {standards:?}", caller.who);
    }

    // The refused calls are granted to a national admin.
    let control = [compliance_of(&f.dien_bien.person)].into_iter().chain(standard_changes(&existing));
    for call in control {
        call.run(&mut admin).await.unwrap_or_else(|s| panic!("{} by a national admin: {s:?}", call.method()));
    }
}

// ---- ScaleService ------------------------------------------------------------------

/// One ScaleService call; each variant is named by its RPC.
#[derive(Debug, Clone)]
enum ScaleCall {
    ListScales(pb::ListScalesRequest),
    GetScale(pb::GetScaleRequest),
    CreateLevel(pb::CreateLevelRequest),
    UpdateLevel(pb::UpdateLevelRequest),
}

impl ScaleCall {
    fn method(&self) -> &'static str {
        match self {
            Self::ListScales(_) => "ListScales",
            Self::GetScale(_) => "GetScale",
            Self::CreateLevel(_) => "CreateLevel",
            Self::UpdateLevel(_) => "UpdateLevel",
        }
    }

    /// Runs the call; the scales of its answer.
    async fn run(&self, client: &mut ScaleClient) -> Result<Vec<pb::Scale>, Status> {
        match self.clone() {
            Self::ListScales(r) => client.list_scales(r).await.map(|a| a.into_inner().scales),
            Self::GetScale(r) => client.get_scale(r).await.map(|a| a.into_inner().scale.into_iter().collect()),
            Self::CreateLevel(r) => client.create_level(r).await.map(|_| Vec::new()),
            Self::UpdateLevel(r) => client.update_level(r).await.map(|_| Vec::new()),
        }
    }
}

/// Changes of a scale: a national admin's alone.
fn scale_changes() -> [ScaleCall; 2] {
    [
        ScaleCall::CreateLevel(pb::CreateLevelRequest {
            parent: "scales/it".to_owned(),
            level_id: "expert".to_owned(),
            level: Some(pb::Level {
                name: String::new(),
                rank: 40,
                display_name: "Chuyên gia công nghệ thông tin".to_owned(),
                english_name: "IT expert".to_owned(),
            }),
        }),
        ScaleCall::UpdateLevel(pb::UpdateLevelRequest {
            level: Some(pb::Level {
                name: "scales/professional/levels/master".to_owned(),
                rank: 65,
                display_name: "Thạc sĩ (mới)".to_owned(),
                english_name: "Master's degree (new)".to_owned(),
            }),
        }),
    ]
}

/// Reads of the scales: any role's.
fn scale_reads() -> [ScaleCall; 2] {
    [
        ScaleCall::ListScales(pb::ListScalesRequest {}),
        ScaleCall::GetScale(pb::GetScaleRequest { name: "scales/professional".to_owned() }),
    ]
}

#[tokio::test]
async fn every_scale_rpc_refuses_changes_by_anyone_but_a_national_admin_and_any_role_reads_the_scales() {
    // Arrange
    let app = spawn_app().await;
    app.load_demo().await;
    let mut refused: Vec<(Caller, ScaleCall)> = Vec::new();
    for caller in [LANG_SON_EDITOR, LANG_SON_ADMIN, NATIONAL_EDITOR] {
        refused.extend(scale_changes().map(|call| (caller, call)));
    }
    let mut granted: Vec<(Caller, ScaleCall)> = Vec::new();
    for caller in [LANG_SON_AGGREGATE_READER, LANG_SON_EDITOR, DIEN_BIEN_READER] {
        granted.extend(scale_reads().map(|call| (caller, call)));
    }
    let covered: BTreeSet<String> = refused.iter().chain(&granted).map(|(_, c)| c.method().to_owned()).collect();
    assert_eq!(covered, service_methods("ScaleService"), "every ScaleService RPC needs a call here");

    for (caller, call) in refused {
        let method = call.method();
        let before = app.snapshot().await;

        // Act
        let result = call.run(&mut caller.scales(&app)).await;

        // Assert
        assert_eq!(code_of(result), Code::PermissionDenied, "{method} by {}", caller.who);
        assert_eq!(app.snapshot().await, before, "{method} by {} changed the database", caller.who);
    }
    for (caller, call) in granted {
        let method = call.method();

        // Act
        let result = call.run(&mut caller.scales(&app)).await;

        // Assert
        let scales = result.unwrap_or_else(|s| panic!("{method} by {}: {s:?}", caller.who));
        assert!(
            scales.iter().any(|s| s.name == "scales/professional" && !s.levels.is_empty()),
            "{method} by {}: {scales:?}",
            caller.who
        );
    }

    // The refused changes are granted to a national admin.
    let mut admin = NATIONAL_ADMIN.scales(&app);
    for call in scale_changes() {
        call.run(&mut admin).await.unwrap_or_else(|s| panic!("{} by a national admin: {s:?}", call.method()));
    }
}
