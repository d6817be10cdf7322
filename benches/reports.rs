//! Report latency: generates a synthetic, realistic workforce on the demo tree (people
//! with placements, some moved between communes in 2023 and some gone since mid-2023,
//! three qualifications each awarded over their career, and ratings for 2022–2024),
//! then times the workforce reports through the gRPC client and prints p50 and p95:
//! `GetWorkforceProfile` (per province and for the whole country, by child),
//! `CompareWorkforceProfiles`, `SummarizeEvaluations` and `GetStandardCompliance`.
//! The generator makes no training or rotation records, so the activity reports are
//! not timed here.
//!
//! ```sh
//! cargo bench --bench reports                      # SQLite, 250,000 people
//! HRPLAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench reports
//! HRPLAN_BENCH_PEOPLE=50000 HRPLAN_BENCH_ITERATIONS=20 cargo bench --bench reports
//! ```
//! People are spread over the communes of the demo tree as of 2024 (Hà Nội about
//! 58 %, Điện Biên and Lạng Sơn about 21 % each), so a province report of Lạng Sơn
//! counts about a fifth of the dataset.

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use hrplan::{
    auth::{KeyConfig, Principal, RequestContext, Role, mint_hs256},
    config::ServerConfig,
    domain::{
        locality::{Code, Tier},
        person::{Category, EmploymentEnd, Gender, PersonFields, PlacementFields, QualificationFields, Rating},
    },
    grpc::pb::{self, report_service_client::ReportServiceClient},
    startup::Application,
    store::{
        self,
        locality_write::Idempotency,
        person::{NewRecord, insert_records},
        unit::{NewUnit, Sector, UnitKind, create},
    },
};
use sea_orm::{ConnectionTrait, Database};
use tonic::{metadata::MetadataValue, transport::Channel};

const SECRET: &[u8] = b"hrplan-bench-secret-0123456789abcdef";

fn day(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow::anyhow!("bad date"))
}

async fn database_url() -> anyhow::Result<(String, &'static str)> {
    if let Ok(admin) = std::env::var("HRPLAN_BENCH_POSTGRES_URL") {
        let name = format!("hrplan_bench_reports_{}", std::process::id());
        let conn = Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let (base, _) = admin.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("the admin URL names no database"))?;
        return Ok((format!("{base}/{name}"), "PostgreSQL"));
    }
    let path = std::env::temp_dir().join(format!("hrplan_bench_reports_{}.db", std::process::id()));
    Ok((format!("sqlite://{}?mode=rwc", path.display()), "SQLite"))
}

/// Calls `call` `iterations` times and prints the p50 and p95 of its latency.
async fn time<F, Fut>(iterations: usize, label: &str, call: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), tonic::Status>>,
{
    call().await?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        call().await?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{label}: p50 {:.1} ms, p95 {:.1} ms ({iterations} calls)",
        percentile(&times, 0.50).as_secs_f64() * 1000.0,
        percentile(&times, 0.95).as_secs_f64() * 1000.0,
    );
    Ok(())
}

/// A deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &'a [(&'a str, u64)]) -> &'a str {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.next() % total.max(1);
        for (item, weight) in items {
            if roll < *weight {
                return item;
            }
            roll -= weight;
        }
        items.last().map(|(item, _)| *item).unwrap_or_default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let people: usize = std::env::var("HRPLAN_BENCH_PEOPLE").ok().and_then(|n| n.parse().ok()).unwrap_or(250_000);
    let iterations: usize = std::env::var("HRPLAN_BENCH_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(30);
    let (url, backend) = database_url().await?;
    let mut config = ServerConfig::new(url);
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.request_timeout = Duration::from_secs(600);
    let app = Application::build(config).await?;
    let db = app.db().clone();
    hrplan::demo::load_tree(&db).await?;

    // One people's committee per commune in force in 2024.
    let as_of = day(2024, 6, 30)?;
    let ctx =
        RequestContext { principal: Principal { subject: "bench".into(), ..Principal::development() }, deadline: None };
    let rows = db
        .query_all_raw(store::stmt(
            db.get_database_backend(),
            "SELECT v.code, v.valid_from, v.valid_until FROM locality_versions v \
             WHERE v.valid_from <= ? AND (v.valid_until IS NULL OR v.valid_until > ?) ORDER BY v.code",
            vec![as_of.into(), as_of.into()],
        ))
        .await?;
    let mut units: Vec<(i64, Code)> = Vec::new();
    for row in &rows {
        let code = Code::from_db(row.try_get("", "code")?);
        if code.tier() != Tier::Commune {
            continue;
        }
        let new = NewUnit {
            locality: code.clone(),
            display_name: format!("Ủy ban nhân dân {code}"),
            sector: Sector::StateAdministration,
            kind: UnitKind::PeoplesCommittee,
            valid_from: row.try_get("", "valid_from")?,
            valid_until: row.try_get("", "valid_until")?,
        };
        let unit = create(&db, &ctx, &new, &Idempotency { request_id: None, fingerprint: String::new() })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        units.push((unit.id, code));
    }
    anyhow::ensure!(!units.is_empty(), "no commune in force on {as_of}");

    let started = Instant::now();
    let mut rng = Rng(20_250_701);
    let professional =
        [("doctorate", 1), ("master", 12), ("university", 70), ("college", 6), ("intermediate", 9), ("untrained", 2)];
    let political = [("advanced", 8), ("intermediate", 35), ("elementary", 40), ("none", 17)];
    let management = [("principal_specialist", 10), ("specialist", 50), ("officer", 10), ("none", 30)];
    let categories = [
        Category::Cadre,
        Category::CivilServant,
        Category::CivilServant,
        Category::PublicEmployee,
        Category::PartTimeWorker,
    ];
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..people {
        let (unit_id, _) = &units[usize::try_from(rng.next() % units.len() as u64).unwrap_or_default()];
        let born = day(
            1965 + i32::try_from(rng.next() % 35).unwrap_or_default(),
            1 + u32::try_from(rng.next() % 12).unwrap_or_default(),
            1 + u32::try_from(rng.next() % 28).unwrap_or_default(),
        )?;
        let employed = day(born.year() + 22, 1, 1)?;
        let qualification = |scale: &str, level: &str, on: NaiveDate| QualificationFields {
            scale: scale.into(),
            level: level.into(),
            field_of_study: String::new(),
            institution: String::new(),
            awarded_on: on,
        };
        // One in ten moved to another commune on 2023-01-01; one in twenty left on
        // 2023-07-01.
        let moved = rng.next().is_multiple_of(10);
        let left = !moved && rng.next().is_multiple_of(20);
        let (other_unit, _) = &units[usize::try_from(rng.next() % units.len() as u64).unwrap_or_default()];
        let leader = rng.next() % 100 < 9;
        let key_post = rng.next() % 100 < 3;
        let placement = |unit_id: i64, from: NaiveDate, until: NaiveDate| PlacementFields {
            unit_id,
            post_title: if leader { "Phó Chủ tịch Ủy ban nhân dân".into() } else { "Công chức".into() },
            leader,
            key_post,
            valid_from: from,
            valid_until: Some(until),
        };
        let placements = if moved {
            vec![
                placement(*unit_id, day(2020, 1, 1)?, day(2023, 1, 1)?),
                placement(*other_unit, day(2023, 1, 1)?, day(2025, 7, 1)?),
            ]
        } else if left {
            vec![placement(*unit_id, day(2020, 1, 1)?, day(2023, 7, 1)?)]
        } else {
            vec![placement(*unit_id, day(2020, 1, 1)?, day(2025, 7, 1)?)]
        };
        // Political theory and state management come during the career, so most
        // people's facts change once or twice while placed.
        let during = |rng: &mut Rng| -> anyhow::Result<NaiveDate> {
            day(
                2018 + i32::try_from(rng.next() % 7).unwrap_or_default(),
                1 + u32::try_from(rng.next() % 12).unwrap_or_default(),
                1 + u32::try_from(rng.next() % 28).unwrap_or_default(),
            )
        };
        let political_on = during(&mut rng)?;
        let management_on = during(&mut rng)?;
        let rating = |rng: &mut Rng| match rng.next() % 100 {
            0..10 => Rating::Excellent,
            10..75 => Rating::Good,
            75..97 => Rating::Completed,
            _ => Rating::NotCompleted,
        };
        batch.push(NewRecord {
            person: PersonFields {
                full_name: format!("Người thử {i}"),
                birth_date: born,
                gender: if rng.next() % 100 < 45 { Gender::Female } else { Gender::Male },
                ethnicity: if rng.next() % 100 < 30 { "Tày".into() } else { "Kinh".into() },
                category: categories[usize::try_from(rng.next() % 5).unwrap_or_default()],
                employed_from: employed.min(day(2020, 1, 1)?),
                employed_until: if left { Some(day(2023, 7, 1)?) } else { None },
                end_reason: if left { Some(EmploymentEnd::Retired) } else { None },
            },
            placements,
            qualifications: vec![
                qualification("professional", rng.pick(&professional), day(2012, 6, 30)?),
                qualification("political_theory", rng.pick(&political), political_on),
                qualification("state_management", rng.pick(&management), management_on),
            ],
            evaluations: if left {
                vec![(2022, rating(&mut rng))]
            } else {
                vec![(2022, rating(&mut rng)), (2023, rating(&mut rng)), (2024, rating(&mut rng))]
            },
        });
        if batch.len() == 10_000 || i + 1 == people {
            let txn = store::begin_write(&db).await?;
            insert_records(&txn, &batch).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            hrplan::store::commit_background(txn).await?;
            batch.clear();
        }
    }
    println!(
        "generated {people} people in {} communes in {:.1} s ({backend})",
        units.len(),
        started.elapsed().as_secs_f64()
    );
    if backend == "PostgreSQL" {
        // The steady state autovacuum reaches on its own: statistics, and a visibility
        // map that lets index-only scans skip the table.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }

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
    let mut client = ReportServiceClient::with_interceptor(channel, move |mut request: tonic::Request<()>| {
        request.metadata_mut().insert("authorization", token.clone());
        Ok(request)
    })
    .max_decoding_message_size(64 * 1024 * 1024);

    let scope = |locality: &str, by_child: bool| pb::ReportScope {
        locality: locality.into(),
        as_of: Some(pb::Date { year: 2024, month: 6, day: 30 }),
        breakdown_by_child: by_child,
        ..Default::default()
    };
    for (label, locality) in [
        ("province Lạng Sơn (20)", "localities/20"),
        ("province Điện Biên (11)", "localities/11"),
        ("city Hà Nội (01)", "localities/01"),
        ("whole country", "localities/-"),
    ] {
        let headcount = client
            .get_workforce_profile(pb::GetWorkforceProfileRequest { scope: Some(scope(locality, true)) })
            .await?
            .into_inner()
            .total
            .map(|t| t.headcount)
            .unwrap_or_default();
        println!("{label}: {headcount} people on 2024-06-30");
        let c = client.clone();
        time(iterations, &format!("GetWorkforceProfile {backend} {label} by child"), || {
            let mut c = c.clone();
            let request = pb::GetWorkforceProfileRequest { scope: Some(scope(locality, true)) };
            async move { c.get_workforce_profile(request).await.map(|_| ()) }
        })
        .await?;
        time(iterations, &format!("GetStandardCompliance {backend} {label} by child"), || {
            let mut c = c.clone();
            let request = pb::GetStandardComplianceRequest { scope: Some(scope(locality, true)) };
            async move { c.get_standard_compliance(request).await.map(|_| ()) }
        })
        .await?;
        time(iterations, &format!("SummarizeEvaluations {backend} {label} 2022-2024"), || {
            let mut c = c.clone();
            let request = pb::SummarizeEvaluationsRequest {
                scope: Some(scope(locality, false)),
                first_year: 2022,
                last_year: 2024,
            };
            async move { c.summarize_evaluations(request).await.map(|_| ()) }
        })
        .await?;
        time(iterations, &format!("CompareWorkforceProfiles {backend} {label} 2022-06-30 vs 2024-06-30"), || {
            let mut c = c.clone();
            let request = pb::CompareWorkforceProfilesRequest {
                scope: Some(scope(locality, false)),
                other_date: Some(pb::Date { year: 2022, month: 6, day: 30 }),
            };
            async move { c.compare_workforce_profiles(request).await.map(|_| ()) }
        })
        .await?;
    }
    stop.send(()).ok();
    server.await??;
    Ok(())
}
