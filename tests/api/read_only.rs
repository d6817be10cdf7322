//! Read RPCs never write. A second server is started over the database the first one
//! wrote, through access that can only read — on PostgreSQL a role granted SELECT
//! and nothing else, on SQLite the file opened read-only (`mode=ro`) — and every
//! report, and the other reads reachable cheaply, must answer there exactly as on the
//! first server. A report also never builds the person facts of records written
//! around the server: the server's background task does.

use std::time::Duration;

use hrplan::{
    auth::{KeyConfig, Role},
    config::ServerConfig,
    grpc::pb::{
        self, export_report_request::Report as Asked, locality_service_client::LocalityServiceClient,
        person_service_client::PersonServiceClient, report_service_client::ReportServiceClient,
        staffing_service_client::StaffingServiceClient, training_plan_service_client::TrainingPlanServiceClient,
        unit_service_client::UnitServiceClient,
    },
    sql::{self, FromQueryResult, raw_sql},
    startup::Application,
};
use sea_orm::{ConnectionTrait, DbBackend};
use tokio::sync::oneshot;
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;

use crate::clients::Caller;
use crate::helpers::{SECRET, TestApp, bearer, date, spawn_app_with, token};

/// A server over another URL of an existing database, without migrating it.
struct Reader {
    channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct Text {
    value: String,
}

/// A URL of `app`'s database through which nothing can be written.
async fn read_only_url(app: &TestApp) -> String {
    match app.db.get_database_backend() {
        DbBackend::Postgres => {
            let name: Option<Text> = sql::one(&app.db, raw_sql!(Postgres, "SELECT current_database() AS value"))
                .await
                .expect("the database's name");
            let database = name.expect("a name").value;
            let role = format!("{database}_reader");
            for statement in [
                format!("CREATE ROLE {role} LOGIN PASSWORD 'reader'"),
                format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
            ] {
                app.db.execute_unprepared(&statement).await.expect(&statement);
            }
            let admin = std::env::var("HRPLAN_TEST_POSTGRES_URL").expect("the PostgreSQL admin URL");
            let (_, host) = admin.rsplit_once('@').expect("the admin URL names a user and a host");
            let (host, _) = host.split_once('/').expect("the admin URL names a database");
            format!("postgres://{role}:reader@{host}/{database}")
        }
        _ => {
            let file: Option<Text> = sql::one(
                &app.db,
                raw_sql!(Postgres, "SELECT file AS value FROM pragma_database_list WHERE name = 'main'"),
            )
            .await
            .expect("the database's file");
            format!("sqlite://{}?mode=ro", file.expect("a file").value)
        }
    }
}

/// Starts a server over `url` that does not migrate (it could not), auditing reads of
/// personal data in the primary's database at `audit_url`.
async fn spawn_reader(url: String, audit_url: &str) -> Reader {
    let mut config = ServerConfig::new(url);
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.migrate = false;
    config.audit_database_url = Some(audit_url.to_owned());
    let app = Application::build(config).await.expect("a server over read-only access");
    let addr = app.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async {
            rx.await.ok();
        })
        .await
        .expect("the read-only server failed");
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("valid uri")
        .connect()
        .await
        .expect("connecting to the read-only server");
    Reader { channel, shutdown: Some(tx) }
}

fn scope(locality: &str, as_of: pb::Date, by_child: bool) -> Option<pb::ReportScope> {
    Some(pb::ReportScope {
        locality: locality.into(),
        as_of: Some(as_of),
        breakdown_by_child: by_child,
        ..Default::default()
    })
}

/// Every report and the other reads, answered by the server behind `channel`, as
/// debug text (each answer is compared whole).
async fn answers(channel: &Channel, roles: &[Role]) -> Vec<String> {
    let auth = || bearer(Some(token(&["*"], roles)));
    let mut reports = ReportServiceClient::with_interceptor(channel.clone(), auth());
    let day = date(2025, 6, 30);
    let period = (Some(date(2021, 1, 1)), Some(day));
    let mut out = Vec::new();
    let mut keep = |name: &str, answer: String| out.push(format!("{name}: {answer}"));

    let profile = pb::GetWorkforceProfileRequest { scope: scope("localities/20", day, true) };
    keep(
        "profile",
        format!("{:?}", reports.get_workforce_profile(profile.clone()).await.expect("profile").into_inner()),
    );
    let country = pb::GetWorkforceProfileRequest { scope: scope("localities/-", day, true) };
    keep("country", format!("{:?}", reports.get_workforce_profile(country).await.expect("country").into_inner()));
    let evaluations = pb::SummarizeEvaluationsRequest {
        scope: scope("localities/11", day, false),
        first_year: 2021,
        last_year: 2024,
    };
    keep(
        "evaluations",
        format!("{:?}", reports.summarize_evaluations(evaluations).await.expect("evaluations").into_inner()),
    );
    let comparison = pb::CompareWorkforceProfilesRequest {
        scope: scope("localities/20", date(2021, 6, 30), false),
        other_date: Some(day),
    };
    keep(
        "comparison",
        format!("{:?}", reports.compare_workforce_profiles(comparison).await.expect("comparison").into_inner()),
    );
    let compliance = pb::GetStandardComplianceRequest { scope: scope("localities/11", day, true) };
    keep(
        "compliance",
        format!("{:?}", reports.get_standard_compliance(compliance).await.expect("compliance").into_inner()),
    );
    let training = pb::SummarizeTrainingRequest {
        scope: scope("localities/11", day, true),
        period_start: period.0,
        period_end: period.1,
    };
    keep("training", format!("{:?}", reports.summarize_training(training).await.expect("training").into_inner()));
    let rotations = pb::SummarizeRotationsRequest {
        scope: scope("localities/11", day, true),
        period_start: period.0,
        period_end: period.1,
    };
    keep("rotations", format!("{:?}", reports.summarize_rotations(rotations).await.expect("rotations").into_inner()));
    let staffing = pb::GetStaffingSummaryRequest { scope: scope("localities/20", date(2024, 12, 31), true) };
    keep("staffing", format!("{:?}", reports.get_staffing_summary(staffing).await.expect("staffing").into_inner()));
    for (format, report) in [
        (pb::ExportFormat::Xlsx, Asked::WorkforceProfile(profile)),
        (
            pb::ExportFormat::Csv,
            Asked::TrainingPlanProgress(pb::GetTrainingPlanProgressRequest {
                name: "trainingPlans/1".into(),
                as_of: Some(day),
            }),
        ),
    ] {
        let mut stream = reports
            .export_report(pb::ExportReportRequest { report: Some(report), format: format.into() })
            .await
            .expect("an export")
            .into_inner();
        let mut bytes = Vec::new();
        while let Some(message) = stream.next().await {
            if let Some(pb::export_report_response::Content::Chunk(chunk)) = message.expect("a message").content {
                bytes.extend(chunk);
            }
        }
        // A workbook carries its creation time: only its kind is compared; a CSV whole.
        let file = match format {
            pb::ExportFormat::Csv => String::from_utf8_lossy(&bytes).into_owned(),
            _ => format!("a zip archive: {}", bytes.starts_with(b"PK")),
        };
        keep("export", format!("{format:?}: {file}"));
    }

    let progress = pb::GetTrainingPlanProgressRequest { name: "trainingPlans/1".into(), as_of: Some(day) };
    let mut plans = TrainingPlanServiceClient::with_interceptor(channel.clone(), auth());
    keep("progress", format!("{:?}", plans.get_training_plan_progress(progress).await.expect("progress").into_inner()));
    let mut staffing = StaffingServiceClient::with_interceptor(channel.clone(), auth());
    let headcount = pb::GetHeadcountRequest {
        locality: "localities/20".into(),
        as_of: Some(date(2024, 12, 31)),
        ..Default::default()
    };
    keep("headcount", format!("{:?}", staffing.get_headcount(headcount).await.expect("headcount").into_inner()));
    if roles.contains(&Role::PersonalDataReader) {
        let mut people = PersonServiceClient::with_interceptor(channel.clone(), auth());
        let person = pb::GetPersonRequest { name: "people/1".into(), ..Default::default() };
        keep("person", format!("{:?}", people.get_person(person).await.expect("a person").into_inner()));
        let search =
            pb::SearchPeopleRequest { locality: "localities/20".into(), as_of: Some(day), ..Default::default() };
        keep("people", format!("{:?}", people.search_people(search).await.expect("people").into_inner()));
    }
    let mut localities = LocalityServiceClient::with_interceptor(channel.clone(), auth());
    let list = pb::ListLocalitiesRequest { parent: "localities/20".into(), as_of: Some(day), ..Default::default() };
    keep("localities", format!("{:?}", localities.list_localities(list).await.expect("localities").into_inner()));
    let mut units = UnitServiceClient::with_interceptor(channel.clone(), auth());
    let list = pb::ListUnitsRequest { locality: "localities/20".into(), as_of: Some(day), ..Default::default() };
    keep("units", format!("{:?}", units.list_units(list).await.expect("units").into_inner()));
    out
}

#[tokio::test]
async fn every_report_and_read_answers_the_same_through_access_that_cannot_write() {
    // The server's own catch-up waits an hour, and a record written by hand leaves a
    // person's facts pending: a read that built them would write.
    let app = spawn_app_with(|config| {
        config.demo = true;
        config.facts_catch_up_interval = Duration::from_secs(3600);
    })
    .await;
    write_around_the_server(&app).await;
    assert_eq!(pending(&app).await, 1);
    let reader = spawn_reader(read_only_url(&app).await, &app.url).await;
    for roles in [&[Role::Admin, Role::PersonalDataReader][..], &[Role::AggregateReader]] {
        // The read-only server first, while the facts are pending.
        let read = answers(&reader.channel, roles).await;
        let written = answers(&app.channel, roles).await;
        assert_eq!(written.len(), read.len());
        for (w, r) in written.iter().zip(&read) {
            assert_eq!(w, r, "the read-only server answered differently");
        }
        assert!(written.iter().any(|a| a.starts_with("profile:") && a.contains("headcount: ")), "{written:?}");
    }
    assert_eq!(pending(&app).await, 1, "no read built the pending facts");
    let audited: Option<Count> = sql::one(
        &app.db,
        raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM audit_log WHERE kind = 'read' AND method = 'GetPerson'"),
    )
    .await
    .expect("audited reads");
    assert_eq!(audited.map(|c| c.n), Some(2), "each server audited its read of a person in the primary");
    // The access really cannot write: a write the writer accepts fails through it.
    let create = pb::CreateUnitRequest {
        unit: Some(pb::Unit {
            display_name: "Ủy ban".into(),
            locality: "localities/20".into(),
            sector: pb::Sector::StateAdministration.into(),
            kind: pb::UnitKind::PeoplesCommittee.into(),
            valid_from: Some(date(2020, 1, 1)),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let admin = || bearer(Some(token(&["*"], &[Role::Admin])));
    let refused =
        UnitServiceClient::with_interceptor(reader.channel.clone(), admin()).create_unit(create.clone()).await;
    assert!(refused.is_err(), "a write through read-only access succeeded: {refused:?}");
    let accepted = UnitServiceClient::with_interceptor(app.channel.clone(), admin()).create_unit(create).await;
    assert!(accepted.is_ok(), "the same write through the writer failed: {accepted:?}");
}

#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

async fn pending(app: &TestApp) -> i64 {
    let row: Option<Count> =
        sql::one(&app.db, raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM person_facts_pending")).await.expect("pending");
    row.map_or(0, |r| r.n)
}

/// Writes, by hand, a unit of Lạng Sơn city and a leader placed there from 2020.
async fn write_around_the_server(app: &TestApp) {
    for sql in [
        "INSERT INTO units (id, locality_code, name, name_folded, sector, kind, valid_from, valid_until, revision, \
         create_time, update_time) VALUES (990001, '178', 'Ủy ban', 'uy ban', 'state_administration', \
         'peoples_committee', DATE '2020-01-01', NULL, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO people (id, full_name, name_folded, birth_date, gender, ethnicity, category, employed_from, \
         revision, create_time, update_time) VALUES (990001, 'Lý Văn An', 'ly van an', DATE '1990-01-01', 'male', \
         'Nùng', 'civil_servant', DATE '2015-01-01', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO placements (id, person_id, unit_id, post_title, post_title_folded, is_leader, is_key_post, \
         valid_from, revision) VALUES (990001, 990001, 990001, 'Chuyên viên', 'chuyen vien', TRUE, FALSE, DATE '2020-01-01', 1)",
    ] {
        let sql = if app.db.get_database_backend() == DbBackend::Postgres {
            sql.to_owned()
        } else {
            sql.replace("DATE '", "'")
        };
        app.db.execute_unprepared(&sql).await.expect("a write by hand");
    }
}

async fn headcount(app: &TestApp) -> i64 {
    let mut reports = app.as_(Caller::of(&["*"], &[Role::Admin, Role::PersonalDataReader])).reports();
    let request = pb::GetWorkforceProfileRequest { scope: scope("localities/20", date(2024, 6, 1), false) };
    reports.get_workforce_profile(request).await.expect("a profile").into_inner().total.expect("total").headcount
}

#[tokio::test]
async fn a_report_leaves_the_facts_of_records_written_around_the_server_to_the_background_task() {
    // The background task waits an hour: only a report could build the facts here.
    let app = spawn_app_with(|c| c.facts_catch_up_interval = Duration::from_secs(3600)).await;
    app.load_demo().await;
    write_around_the_server(&app).await;
    assert_eq!(pending(&app).await, 1, "the triggers mark the person");
    assert_eq!(headcount(&app).await, 0, "a report counts facts, and builds none");
    assert_eq!(pending(&app).await, 1, "a report wrote nothing");
}

#[tokio::test]
async fn the_background_task_builds_the_facts_of_records_written_around_the_server() {
    let app = spawn_app_with(|c| c.facts_catch_up_interval = Duration::from_millis(50)).await;
    app.load_demo().await;
    write_around_the_server(&app).await;
    let mut waited = Duration::ZERO;
    while pending(&app).await > 0 {
        assert!(waited < Duration::from_secs(20), "the background task left the marks");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert_eq!(headcount(&app).await, 1);
    app.assert_facts_in_step().await;
}
