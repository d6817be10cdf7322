//! Report latency: generates a synthetic, realistic workforce on the demo tree (people
//! with placements, some moved between communes in 2023 and some gone since mid-2023,
//! three qualifications each awarded over their career, and ratings for 2022–2024),
//! then times the workforce reports through the gRPC client and prints p50 and p95:
//! `GetWorkforceProfile` (per province and for the whole country, by child),
//! `CompareWorkforceProfiles`, `SummarizeEvaluations` and `GetStandardCompliance`.
//! It also records training (plans, lines, enrolments with their status history) and
//! the movements of the people moved, and times `SummarizeTraining`,
//! `SummarizeRotations` and `GetStaffingSummary` (no quotas are generated, so the last
//! one times the headcount side only).
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
    auth::{KeyConfig, Role, mint_hs256},
    config::ServerConfig,
    context::{Principal, RequestContext},
    domain::locality::{Code, Tier},
    grpc::pb::{self, report_service_client::ReportServiceClient},
    people::{
        queries::{NewRecord, insert_records},
        rules::person::{Category, EmploymentEnd, Gender, PersonFields, PlacementFields, QualificationFields, Rating},
    },
    startup::Application,
    store,
    units::{Sector, UnitFields, UnitKind, usecases::create, wire::CreateUnit},
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

/// Training and movements for the generated people: an approved plan per province
/// with two degree lines and a refresher line; one person in five enrolled between
/// 2021 and 2024 (most completed a year later, some dropped, the rest still under
/// way); and a movement record for everybody moved on 2023-01-01 (two in three
/// rotations still active, one in three transfers completed, a fifth of those
/// promoted). Returns (enrolments, movements).
async fn training_and_rotations(
    db: &sea_orm::DatabaseConnection,
    person_ids: &[i64],
    gone: &[bool],
    moves: &[(usize, i64, i64)],
    rng: &mut Rng,
) -> anyhow::Result<(usize, usize)> {
    use sea_orm::Value;
    let now = chrono::Utc::now();
    let txn = store::begin_write(db).await?;
    let lines = [
        ("political_advanced", "degree", Some(("political_theory", "advanced")), None),
        ("state_management", "degree", Some(("state_management", "specialist")), None),
        ("refresher", "refresher", None, Some("Bồi dưỡng kiến thức quản lý nhà nước")),
    ];
    let mut plans = Vec::new();
    let mut line_rows = Vec::new();
    for (n, owner) in ["01", "11", "20"].iter().enumerate() {
        let id = i64::try_from(n).unwrap_or_default() + 1;
        plans.push(vec![
            Value::from(id),
            Value::from(format!("Kế hoạch đào tạo, bồi dưỡng cán bộ tỉnh {owner} giai đoạn 2021-2025")),
            Value::from(*owner),
            Value::from(day(2021, 1, 1)?),
            Value::from(day(2025, 12, 31)?),
            Value::from(format!("{id}/KH-UBND")),
            Value::from(day(2020, 12, 1)?),
            Value::from("approved"),
            Value::from(1i64),
            Value::from(now),
            Value::from(now),
        ]);
        for (position, (line, kind, level, topic)) in lines.iter().enumerate() {
            line_rows.push(vec![
                Value::from(id),
                Value::from(*line),
                Value::from(i32::try_from(position).unwrap_or_default()),
                Value::from(format!("Chỉ tiêu {line}")),
                Value::from(*kind),
                Value::from(level.map(|(s, _)| s.to_owned())),
                Value::from(level.map(|(_, l)| l.to_owned())),
                Value::from(topic.map(str::to_owned)),
                Value::from(None::<String>),
                Value::from(None::<String>),
                Value::from(false),
                Value::from(5000i32),
                Value::from(None::<i64>),
            ]);
        }
    }
    store::insert_rows(
        &txn,
        "training_plans (id, title, owner_code, period_start, period_end, document_number, issued_on, status, \
         revision, create_time, update_time)",
        11,
        plans,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    store::insert_rows(
        &txn,
        "target_lines (plan_id, line_id, position, title, kind, scale_code, level_code, topic, \
         audience_tier, audience_category, leaders_only, target, budget_vnd)",
        13,
        line_rows,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;

    let mut enrollments = Vec::new();
    let mut history = Vec::new();
    for (i, person) in person_ids.iter().enumerate() {
        if gone.get(i).copied().unwrap_or(true) || !rng.next().is_multiple_of(5) {
            continue;
        }
        let id = i64::try_from(enrollments.len()).unwrap_or_default() + 1;
        let plan = i64::try_from(rng.next() % 3).unwrap_or_default() + 1;
        let (line, _, _, _) = lines[usize::try_from(rng.next() % 3).unwrap_or_default()];
        let started = day(
            2021 + i32::try_from(rng.next() % 4).unwrap_or_default(),
            1 + u32::try_from(rng.next() % 12).unwrap_or_default(),
            1 + u32::try_from(rng.next() % 28).unwrap_or_default(),
        )?;
        let ended = started.with_year(started.year() + 1).unwrap_or(started);
        let outcome = match rng.next() % 10 {
            0 => Some("dropped"),
            _ if ended <= day(2024, 6, 30)? => Some("completed"),
            _ => None,
        };
        enrollments.push(vec![
            Value::from(id),
            Value::from(plan),
            Value::from(*person),
            Value::from(line),
            Value::from(None::<i64>),
            Value::from(outcome.unwrap_or("enrolled")),
            Value::from(started),
            Value::from(None::<String>),
            Value::from(false),
            Value::from(None::<i64>),
            Value::from(1i64),
        ]);
        history.push(vec![Value::from(id), Value::from(1i32), Value::from("enrolled"), Value::from(started)]);
        if let Some(outcome) = outcome {
            history.push(vec![Value::from(id), Value::from(2i32), Value::from(outcome), Value::from(ended)]);
        }
    }
    let enrollment_count = enrollments.len();
    store::insert_rows(
        &txn,
        "enrollments (id, plan_id, person_id, line_id, course_id, status, enrollment_date, grade, distinction, \
         qualification_id, revision)",
        11,
        enrollments,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    store::insert_rows(&txn, "enrollment_history (enrollment_id, seq, status, date)", 4, history)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let mut rotations = Vec::new();
    for (n, (i, from, to)) in moves.iter().enumerate() {
        let Some(person) = person_ids.get(*i) else { continue };
        let transfer = n % 3 == 0;
        rotations.push(vec![
            Value::from(i64::try_from(n).unwrap_or_default() + 1),
            Value::from(*person),
            Value::from(if transfer { "transfer" } else { "rotation" }),
            Value::from(*from),
            Value::from("Công chức"),
            Value::from(*to),
            Value::from("Công chức"),
            Value::from(false),
            Value::from(day(2023, 1, 1)?),
            Value::from(if transfer { None } else { Some(day(2026, 1, 1)?) }),
            Value::from(if transfer { Some(day(2023, 1, 1)?) } else { None }),
            Value::from(format!("{n}/QĐ-UBND")),
            Value::from(day(2022, 12, 1)?),
            Value::from("Ủy ban nhân dân tỉnh"),
            Value::from(""),
            Value::from(if transfer { "completed" } else { "active" }),
            Value::from(None::<String>),
            Value::from(transfer && n % 5 == 0),
            Value::from(None::<String>),
            Value::from(1i64),
            Value::from(now),
            Value::from(now),
        ]);
    }
    let rotation_count = rotations.len();
    store::insert_rows(
        &txn,
        "rotations (id, person_id, kind, source_unit_id, source_post, destination_unit_id, destination_post, \
         destination_leader, start_date, planned_end_date, actual_end_date, decision_number, decided_on, \
         issuing_body, programme, status, outcome_rating, promoted, post_after_return, revision, create_time, \
         update_time)",
        22,
        rotations,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    store::commit_background(txn).await?;
    Ok((enrollment_count, rotation_count))
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
    let ctx = RequestContext {
        principal: Principal { subject: "bench".into(), ..Principal::development() },
        deadline: None,
        peer: None,
        audit: None,
    };
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
        let new = CreateUnit {
            locality: code.clone(),
            fields: UnitFields {
                display_name: format!("Ủy ban nhân dân {code}"),
                sector: Sector::StateAdministration,
                kind: UnitKind::PeoplesCommittee,
                valid_from: row.try_get("", "valid_from")?,
                valid_until: row.try_get("", "valid_until")?,
                code: None,
            },
            key: None,
        };
        let unit = create(&db, &ctx, new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        units.push((unit.name.id(), code));
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
    // (person index, from unit, to unit) of the people moved on 2023-01-01.
    let mut moves: Vec<(usize, i64, i64)> = Vec::new();
    let mut person_ids: Vec<i64> = Vec::with_capacity(people);
    let mut gone: Vec<bool> = Vec::with_capacity(people);
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
        if moved {
            moves.push((i, *unit_id, *other_unit));
        }
        gone.push(left);
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
            person_ids.extend(insert_records(&txn, &batch).await.map_err(|e| anyhow::anyhow!("{e}"))?);
            hrplan::store::commit_background(txn).await?;
            batch.clear();
        }
    }
    let (enrollments, rotations) = training_and_rotations(&db, &person_ids, &gone, &moves, &mut rng).await?;
    println!(
        "generated {people} people ({enrollments} enrolments, {rotations} rotations) in {} communes in {:.1} s ({backend})",
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
        let period = (pb::Date { year: 2023, month: 1, day: 1 }, pb::Date { year: 2023, month: 12, day: 31 });
        time(iterations, &format!("SummarizeTraining {backend} {label} 2023 by child"), || {
            let mut c = c.clone();
            let request = pb::SummarizeTrainingRequest {
                scope: Some(scope(locality, true)),
                period_start: Some(period.0),
                period_end: Some(period.1),
            };
            async move { c.summarize_training(request).await.map(|_| ()) }
        })
        .await?;
        time(iterations, &format!("SummarizeRotations {backend} {label} 2023 by child"), || {
            let mut c = c.clone();
            let request = pb::SummarizeRotationsRequest {
                scope: Some(scope(locality, true)),
                period_start: Some(period.0),
                period_end: Some(period.1),
            };
            async move { c.summarize_rotations(request).await.map(|_| ()) }
        })
        .await?;
        time(iterations, &format!("GetStaffingSummary {backend} {label} by child"), || {
            let mut c = c.clone();
            let request = pb::GetStaffingSummaryRequest { scope: Some(scope(locality, true)) };
            async move { c.get_staffing_summary(request).await.map(|_| ()) }
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
