//! Import throughput: streams N people (each with a placement, a qualification and an
//! evaluation) through `ImportPeople` to a server running in this process, and prints
//! the rate in people per second, three times:
//!
//! 1. `create`: N people without identifiers (`IMPORT_MODE_CREATE`, as before
//!    identifiers existed);
//! 2. `create+ids`: N other people, each with a personal identification number and a
//!    staff code (`IMPORT_MODE_CREATE`: every number looked up, the unique indexes kept);
//! 3. `upsert again`: the same N records as in 2 once more, in `IMPORT_MODE_UPSERT`:
//!    every record matches its person and changes nothing.
//!
//! ```sh
//! cargo bench --bench import                      # SQLite, 100,000 people
//! HRPLAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench import
//! HRPLAN_BENCH_PEOPLE=20000 cargo bench --bench import
//! ```
//! With a PostgreSQL admin URL the benchmark creates (and leaves) a fresh database.

use std::time::{Duration, Instant};

use hrplan::{
    auth::{KeyConfig, Role, mint_hs256},
    config::ServerConfig,
    grpc::pb::{self, person_service_client::PersonServiceClient, unit_service_client::UnitServiceClient},
    people::rules::{identity::PersonalId, person::Gender},
    startup::Application,
};
use sea_orm::{ConnectionTrait, Database};
use tonic::{metadata::MetadataValue, transport::Channel};

const SECRET: &[u8] = b"hrplan-bench-secret-0123456789abcdef";

fn date(year: i32, month: i32, day: i32) -> pb::Date {
    pb::Date { year, month, day }
}

fn record(unit: &str, i: usize) -> pb::PersonRecord {
    let i32_of = |n: usize| i32::try_from(n).unwrap_or_default();
    pb::PersonRecord {
        person: Some(pb::Person {
            full_name: format!("Nguyễn Văn Thử {i}"),
            birth_date: Some(date(1970 + i32_of(i % 30), 1 + i32_of(i % 12), 1 + i32_of(i % 28))),
            gender: if i.is_multiple_of(2) { pb::Gender::Female } else { pb::Gender::Male }.into(),
            ethnicity: if i.is_multiple_of(5) { "Tày" } else { "Kinh" }.into(),
            category: pb::PersonCategory::CivilServant.into(),
            employed_from: Some(date(2018, 1, 1)),
            ..Default::default()
        }),
        placements: vec![pb::Placement {
            unit: unit.into(),
            post_title: "Công chức Văn phòng - Thống kê".into(),
            leader: i.is_multiple_of(10),
            valid_from: Some(date(2020, 1, 1)),
            ..Default::default()
        }],
        qualifications: vec![pb::Qualification {
            level: "scales/professional/levels/university".into(),
            awarded_on: Some(date(2012, 6, 30)),
            ..Default::default()
        }],
        evaluations: vec![pb::Evaluation { year: 2024, rating: pb::Rating::Good.into(), ..Default::default() }],
    }
}

/// Record `i` with a synthetic personal identification number and a staff code, both
/// unique per `i`.
fn identified_record(unit: &str, i: usize) -> anyhow::Result<pb::PersonRecord> {
    let mut r = record(unit, i);
    let person = r.person.as_mut().ok_or_else(|| anyhow::anyhow!("no person"))?;
    let born = person.birth_date.as_ref().ok_or_else(|| anyhow::anyhow!("no birth date"))?;
    let born = chrono::NaiveDate::from_ymd_opt(born.year, u32::try_from(born.month)?, u32::try_from(born.day)?)
        .ok_or_else(|| anyhow::anyhow!("not a date"))?;
    let gender = if person.gender == pb::Gender::Male as i32 { Gender::Male } else { Gender::Female };
    let province = u16::try_from(1 + i % 96)?;
    person.personal_id =
        PersonalId::synthetic(province, born, gender, u32::try_from(i)?).map_err(anyhow::Error::msg)?.to_string();
    person.staff_code = format!("BENCH-{i:06}");
    Ok(r)
}

/// The interceptor that adds the bench's token.
type WithToken = Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>;

type Client = PersonServiceClient<tonic::service::interceptor::InterceptedService<Channel, WithToken>>;

/// Streams `records` in `mode`, checks that every record was imported, and prints the rate.
async fn run(
    client: &mut Client,
    backend: &str,
    label: &str,
    records: Vec<pb::PersonRecord>,
    mode: pb::ImportMode,
) -> anyhow::Result<pb::ImportPeopleResponse> {
    let people = records.len();
    let requests: Vec<pb::ImportPeopleRequest> = records
        .into_iter()
        .map(|record| pb::ImportPeopleRequest { record: Some(record), mode: mode.into(), validate_only: false })
        .collect();
    let started = Instant::now();
    let answer = client.import_people(tokio_stream::iter(requests)).await?.into_inner();
    let elapsed = started.elapsed();
    anyhow::ensure!(
        answer.imported_count as usize == people,
        "imported {} of {people}; first rejection {:?}",
        answer.imported_count,
        answer.rejected.first()
    );
    println!(
        "import {backend} {label}: {people} people (each with 1 placement, 1 qualification, 1 evaluation) in {:.2} s \
         = {:.0} people/s (created {}, updated {}, unchanged {})",
        elapsed.as_secs_f64(),
        people as f64 / elapsed.as_secs_f64(),
        answer.created_count,
        answer.updated_count,
        answer.unchanged_count,
    );
    Ok(answer)
}

async fn database_url() -> anyhow::Result<(String, &'static str)> {
    if let Ok(admin) = std::env::var("HRPLAN_BENCH_POSTGRES_URL") {
        let name = format!("hrplan_bench_{}", std::process::id());
        let conn = Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let (base, _) = admin.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("the admin URL names no database"))?;
        return Ok((format!("{base}/{name}"), "PostgreSQL"));
    }
    let path = std::env::temp_dir().join(format!("hrplan_bench_{}.db", std::process::id()));
    Ok((format!("sqlite://{}?mode=rwc", path.display()), "SQLite"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let people: usize = std::env::var("HRPLAN_BENCH_PEOPLE").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let (url, backend) = database_url().await?;
    let mut config = ServerConfig::new(url);
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.demo = true;
    config.request_timeout = Duration::from_secs(600);
    let app = Application::build(config).await?;
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));

    let channel = Channel::from_shared(format!("http://{addr}"))?.connect().await?;
    let token: MetadataValue<_> = format!(
        "Bearer {}",
        mint_hs256(SECRET, "bench", &["*".to_owned()], &[Role::Admin], Duration::from_secs(3600))?
    )
    .parse()?;
    let with_token = move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", token.clone());
        Ok(request)
    };
    let mut units = UnitServiceClient::with_interceptor(channel.clone(), with_token.clone());
    let unit = units
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: "Ủy ban nhân dân xã Chi Lăng".into(),
                locality: "localities/06463".into(),
                sector: pb::Sector::StateAdministration.into(),
                kind: pb::UnitKind::PeoplesCommittee.into(),
                valid_from: Some(date(2020, 1, 1)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await?
        .into_inner()
        .unit
        .ok_or_else(|| anyhow::anyhow!("no unit"))?
        .name;

    let with_token: WithToken = Box::new(with_token);
    let mut client =
        PersonServiceClient::with_interceptor(channel, with_token).max_decoding_message_size(64 * 1024 * 1024);
    let plain = (0..people).map(|i| record(&unit, i)).collect();
    run(&mut client, backend, "create", plain, pb::ImportMode::Create).await?;
    let identified = (people..2 * people).map(|i| identified_record(&unit, i)).collect::<anyhow::Result<Vec<_>>>()?;
    let first = run(&mut client, backend, "create+ids", identified.clone(), pb::ImportMode::Create).await?;
    let again = run(&mut client, backend, "upsert again", identified, pb::ImportMode::Upsert).await?;
    anyhow::ensure!(
        again.unchanged_count as usize == people && again.people == first.people,
        "the re-import changed something: created {}, updated {}, unchanged {}",
        again.created_count,
        again.updated_count,
        again.unchanged_count
    );
    stop.send(()).ok();
    server.await??;
    Ok(())
}
