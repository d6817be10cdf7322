//! The measurements: start-up and memory of the server process, every report for a
//! commune, a province and the country through gRPC, a write, a scale-rank change,
//! and the column-scan floor. Each figure is the median (p50) and the 95th percentile
//! of `iterations` calls made one after another after one warm-up call.

use std::{
    fmt::Write as _,
    future::Future,
    time::{Duration, Instant},
};

use hrplan::{
    auth::{Role, mint_hs256},
    grpc::pb::{
        self, person_service_client::PersonServiceClient, report_service_client::ReportServiceClient,
        scale_service_client::ScaleServiceClient, staffing_service_client::StaffingServiceClient,
        training_plan_service_client::TrainingPlanServiceClient,
    },
    store,
};
use sea_orm::{ConnectionTrait, DbBackend, Value};
use tonic::{Request, Status, metadata::MetadataValue, transport::Channel};

use crate::{
    Settings, backend_of, floor,
    generate::LoadReport,
    server::{Memory, Server},
};

/// The latencies of one figure.
#[derive(Debug, Clone)]
pub struct Timing {
    /// Sorted.
    sorted: Vec<Duration>,
}

impl Timing {
    /// From the measured times.
    pub fn of(mut times: Vec<Duration>) -> Self {
        times.sort();
        Self { sorted: times }
    }

    fn percentile(&self, p: f64) -> Duration {
        let index = ((self.sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
        self.sorted.get(index).copied().unwrap_or_default()
    }

    /// The median.
    pub fn p50(&self) -> Duration {
        self.percentile(0.5)
    }

    /// The 95th percentile.
    pub fn p95(&self) -> Duration {
        self.percentile(0.95)
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.2}") } else { format!("{ms:.1}") }
}

/// Calls `call` once to warm up, then `iterations` times, and times each call.
async fn time<F, Fut>(iterations: usize, mut call: F) -> Result<Timing, Status>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), Status>>,
{
    call(0).await?;
    let mut times = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let t = Instant::now();
        call(i + 1).await?;
        times.push(t.elapsed());
    }
    Ok(Timing::of(times))
}

/// The clients, each call with the bench's token (an administrator of the country).
#[derive(Clone)]
struct Clients {
    token: MetadataValue<tonic::metadata::Ascii>,
    reports: ReportServiceClient<Channel>,
    staffing: StaffingServiceClient<Channel>,
    training: TrainingPlanServiceClient<Channel>,
    people: PersonServiceClient<Channel>,
    scales: ScaleServiceClient<Channel>,
}

impl Clients {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        let channel = Channel::from_shared(url.to_owned())?.connect().await?;
        let token = format!(
            "Bearer {}",
            mint_hs256(
                crate::server::SECRET.as_bytes(),
                "national-bench",
                &["*".to_owned()],
                &[Role::Admin],
                Duration::from_secs(24 * 3600),
            )?
        )
        .parse()?;
        let big = 256 * 1024 * 1024;
        Ok(Self {
            token,
            reports: ReportServiceClient::new(channel.clone()).max_decoding_message_size(big),
            staffing: StaffingServiceClient::new(channel.clone()).max_decoding_message_size(big),
            training: TrainingPlanServiceClient::new(channel.clone()).max_decoding_message_size(big),
            people: PersonServiceClient::new(channel.clone()).max_decoding_message_size(big),
            scales: ScaleServiceClient::new(channel).max_decoding_message_size(big),
        })
    }

    fn req<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", self.token.clone());
        request
    }
}

/// The day the reports count (after the reorganisation, in the quota year).
const AS_OF: pb::Date = pb::Date { year: 2025, month: 12, day: 31 };

fn scope(locality: &str, by_child: bool) -> pb::ReportScope {
    pb::ReportScope {
        locality: locality.into(),
        as_of: Some(AS_OF),
        breakdown_by_child: by_child,
        ..Default::default()
    }
}

/// The reports timed for each scope.
const REPORTS: [&str; 9] = [
    "GetWorkforceProfile by child",
    "CompareWorkforceProfiles (2025-12-31 vs 2024-06-30)",
    "SummarizeEvaluations 2021-2024",
    "GetStandardCompliance by child",
    "SummarizeTraining 2025 by child",
    "SummarizeRotations 2023 by child",
    "GetStaffingSummary by child",
    "StaffingService.GetHeadcount",
    "TrainingPlanService.GetTrainingPlanProgress",
];

async fn call_report(c: &mut Clients, report: usize, locality: &str, plan: Option<&str>) -> Result<(), Status> {
    let year = |y| (pb::Date { year: y, month: 1, day: 1 }, pb::Date { year: y, month: 12, day: 31 });
    match report {
        0 => {
            let r = c.req(pb::GetWorkforceProfileRequest { scope: Some(scope(locality, true)) });
            c.reports.get_workforce_profile(r).await.map(drop)
        }
        1 => {
            let r = c.req(pb::CompareWorkforceProfilesRequest {
                scope: Some(scope(locality, false)),
                other_date: Some(pb::Date { year: 2024, month: 6, day: 30 }),
            });
            c.reports.compare_workforce_profiles(r).await.map(drop)
        }
        2 => {
            let r = c.req(pb::SummarizeEvaluationsRequest {
                scope: Some(scope(locality, false)),
                first_year: 2021,
                last_year: 2024,
            });
            c.reports.summarize_evaluations(r).await.map(drop)
        }
        3 => {
            let r = c.req(pb::GetStandardComplianceRequest { scope: Some(scope(locality, true)) });
            c.reports.get_standard_compliance(r).await.map(drop)
        }
        4 => {
            let (start, end) = year(2025);
            let r = c.req(pb::SummarizeTrainingRequest {
                scope: Some(scope(locality, true)),
                period_start: Some(start),
                period_end: Some(end),
            });
            c.reports.summarize_training(r).await.map(drop)
        }
        5 => {
            let (start, end) = year(2023);
            let r = c.req(pb::SummarizeRotationsRequest {
                scope: Some(scope(locality, true)),
                period_start: Some(start),
                period_end: Some(end),
            });
            c.reports.summarize_rotations(r).await.map(drop)
        }
        6 => {
            let r = c.req(pb::GetStaffingSummaryRequest { scope: Some(scope(locality, true)) });
            c.reports.get_staffing_summary(r).await.map(drop)
        }
        7 if locality == "localities/-" => {
            Err(Status::unimplemented("GetHeadcount counts a unit or a locality, not the country"))
        }
        7 => {
            let r =
                c.req(pb::GetHeadcountRequest { unit: String::new(), locality: locality.into(), as_of: Some(AS_OF) });
            c.staffing.get_headcount(r).await.map(drop)
        }
        _ => {
            let Some(plan) = plan else { return Err(Status::not_found("no plan is owned by the whole country")) };
            let r = c.req(pb::GetTrainingPlanProgressRequest { name: plan.into(), as_of: Some(AS_OF) });
            c.training.get_training_plan_progress(r).await.map(drop)
        }
    }
}

/// The child with the median headcount of `locality` on [`AS_OF`], with its headcount.
async fn median_child(c: &mut Clients, locality: &str) -> anyhow::Result<(String, String, i64)> {
    let r = c.req(pb::GetWorkforceProfileRequest { scope: Some(scope(locality, true)) });
    let mut children = c.reports.get_workforce_profile(r).await?.into_inner().children;
    children.sort_by_key(|p| p.headcount);
    let child = children.get(children.len() / 2).ok_or_else(|| anyhow::anyhow!("{locality} has no children"))?;
    Ok((child.locality.clone(), child.display_name.clone(), child.headcount))
}

/// The training plan a locality owns, read from the dataset.
async fn plan_of(settings: &Settings, locality: &str) -> anyhow::Result<Option<String>> {
    let code = locality.trim_start_matches("localities/");
    let db = store::connect(&settings.database_url, 1).await?;
    let row = db
        .query_one_raw(store::stmt(
            db.get_database_backend(),
            "SELECT MIN(id) AS id FROM training_plans WHERE owner_code = ?",
            vec![Value::from(code)],
        ))
        .await?;
    db.close().await?;
    let id: Option<i64> = match row {
        Some(row) => row.try_get("", "id")?,
        None => None,
    };
    Ok(id.map(|id| format!("trainingPlans/{id}")))
}

/// An empty database beside the dataset's, for the idle figure; dropped by `drop_empty`.
async fn empty_database(settings: &Settings) -> anyhow::Result<String> {
    if backend_of(&settings.database_url) == DbBackend::Postgres {
        let db = store::connect(&settings.database_url, 1).await?;
        db.execute_unprepared("DROP DATABASE IF EXISTS hrplan_bench_empty").await?;
        db.execute_unprepared("CREATE DATABASE hrplan_bench_empty").await?;
        db.close().await?;
        let (base, _) =
            settings.database_url.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("the URL names no database"))?;
        Ok(format!("{base}/hrplan_bench_empty"))
    } else {
        let path = settings.out.join("empty.db");
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
        Ok(format!("sqlite://{}?mode=rwc", path.display()))
    }
}

async fn drop_empty(settings: &Settings) -> anyhow::Result<()> {
    if backend_of(&settings.database_url) == DbBackend::Postgres {
        let db = store::connect(&settings.database_url, 1).await?;
        db.execute_unprepared("DROP DATABASE IF EXISTS hrplan_bench_empty").await?;
        db.close().await?;
    } else {
        let path = settings.out.join("empty.db");
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
    }
    Ok(())
}

/// Runs every measurement and prints (and saves) the results.
pub async fn run(settings: &Settings, backend: &str, load: LoadReport) -> anyhow::Result<()> {
    let mut out = String::new();
    let n = settings.iterations;
    let _ = writeln!(out, "## {backend}, {} people ({n} calls per figure)\n", settings.people);
    if load.reused {
        let _ = writeln!(out, "Dataset reused (load not timed in this run).\n");
    } else {
        let _ = writeln!(out, "| load step | seconds |\n|---|---:|");
        for (step, took) in &load.steps {
            let _ = writeln!(out, "| {step} | {:.1} |", took.as_secs_f64());
        }
        let _ = writeln!(out, "| **whole load** | **{:.1}** |\n", load.total().as_secs_f64());
    }

    // The floor first, while nothing else of ours runs.
    let floor = floor::measure(settings.people, n);
    println!("column-scan floor measured");

    // The server on an empty database.
    let (idle, empty_ready) = if reports_only() {
        (Memory::default(), Duration::ZERO)
    } else {
        let empty = empty_database(settings).await?;
        let server = Server::start(&empty, &settings.out.join("server-empty.log")).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let idle = server.memory()?;
        let empty_ready = server.ready_after;
        server.stop().await?;
        drop_empty(settings).await?;
        println!("empty database: ready after {empty_ready:?}, {}", Memory::mb(idle.rss_kb));
        (idle, empty_ready)
    };

    // The server on the dataset.
    let server = Server::start(&settings.database_url, &settings.out.join("server.log")).await?;
    let loaded = server.memory()?;
    println!("dataset: ready after {:?}, {}", server.ready_after, Memory::mb(loaded.rss_kb));
    let result = measure_loaded(settings, &server, &mut out, &floor).await;
    let end = server.memory().unwrap_or_default();
    server.stop().await?;
    let table = result?;

    let _ = writeln!(out, "| server | figure |\n|---|---:|");
    let _ = writeln!(out, "| ready after start, empty database | {:.2} s |", empty_ready.as_secs_f64());
    let _ = writeln!(out, "| RSS idle, empty database (VmRSS 2 s after ready) | {} |", Memory::mb(idle.rss_kb));
    let _ = writeln!(
        out,
        "| ready after start, dataset (health SERVING for ReportService) | {:.2} s |",
        server_ready(&table)
    );
    let _ = writeln!(out, "| RSS when ready, dataset | {} |", Memory::mb(loaded.rss_kb));
    let _ = writeln!(
        out,
        "| RSS after the run, dataset (VmRSS / VmHWM) | {} / {} |",
        Memory::mb(end.rss_kb),
        Memory::mb(end.hwm_kb)
    );
    let _ = writeln!(out);
    out.push_str(&table.text);

    println!("\n{out}");
    let path = settings.out.join(format!("results-{}-{}.md", backend.to_lowercase(), settings.people));
    std::fs::write(&path, &out)?;
    println!("written to {}", path.display());
    Ok(())
}

/// Whether only the reports are timed (`HRPLAN_BENCH_REPORTS_ONLY=1`: no empty-database
/// start, no writes, no scale-rank change), for a quick look at a change to a report.
fn reports_only() -> bool {
    std::env::var("HRPLAN_BENCH_REPORTS_ONLY").is_ok_and(|v| v == "1")
}

fn server_ready(table: &Table) -> f64 {
    table.ready.as_secs_f64()
}

struct Table {
    text: String,
    ready: Duration,
}

async fn measure_loaded(
    settings: &Settings,
    server: &Server,
    out: &mut String,
    floor: &[(String, Timing); 3],
) -> anyhow::Result<Table> {
    let n = settings.iterations;
    let mut c = Clients::connect(&server.url).await?;
    let mut text = String::new();

    let (province, province_name, province_count) = median_child(&mut c, "localities/-").await?;
    let (commune, commune_name, commune_count) = median_child(&mut c, &province).await?;
    let r = c.req(pb::GetWorkforceProfileRequest { scope: Some(scope("localities/-", false)) });
    let country_count = c.reports.get_workforce_profile(r).await?.into_inner().total.map_or(0, |t| t.headcount);
    let scopes = [
        (
            format!("commune {commune_name} ({commune_count} people)"),
            commune.clone(),
            plan_of(settings, &commune).await?,
        ),
        (
            format!("province {province_name} ({province_count} people)"),
            province.clone(),
            plan_of(settings, &province).await?,
        ),
        (format!("country ({country_count} people)"), "localities/-".to_owned(), None),
    ];
    let _ = writeln!(
        out,
        "Scopes: the median province of the country, the median commune of that province; as of 2025-12-31.\n"
    );

    let _ = writeln!(text, "| report (p50 / p95 ms) | {} | {} | {} |", scopes[0].0, scopes[1].0, scopes[2].0);
    let _ = writeln!(text, "|---|---:|---:|---:|");
    for (report, label) in REPORTS.iter().enumerate() {
        let mut row = format!("| {label} |");
        for (_, locality, plan) in &scopes {
            let timing = time(n, |_| {
                let mut c = c.clone();
                let locality = locality.clone();
                let plan = plan.clone();
                async move { call_report(&mut c, report, &locality, plan.as_deref()).await }
            })
            .await;
            let cell = match timing {
                Ok(t) => format!(" {} / {} |", ms(t.p50()), ms(t.p95())),
                Err(status) if status.code() == tonic::Code::Unimplemented || plan.is_none() && report == 8 => {
                    " n/a |".to_owned()
                }
                Err(status) => {
                    format!(" {:?}: {} |", status.code(), status.message().chars().take(60).collect::<String>())
                }
            };
            row.push_str(&cell);
        }
        println!("{row}");
        let _ = writeln!(text, "{row}");
    }
    let mut floor_row = "| column-scan floor (one core, packed u32 rows; profile by child) |".to_owned();
    for (label, t) in floor.iter().rev() {
        let _ = write!(floor_row, " {} / {} ({label}) |", ms(t.p50()), ms(t.p95()));
    }
    let _ = writeln!(text, "{floor_row}\n");
    if reports_only() {
        return Ok(Table { text, ready: server.ready_after });
    }

    // Writes: UpdatePerson (a new full name) on people spread over the dataset.
    let write = |c: &Clients, tag: &'static str| {
        let people = settings.people.max(1);
        let c = c.clone();
        async move {
            time(n, |i| {
                let mut c = c.clone();
                let id = 1 + (i * 7919 + 13) % people;
                async move {
                    let person = pb::Person {
                        name: format!("people/{id}"),
                        full_name: format!("Nguyễn Văn Thử {tag} {i}"),
                        ..Default::default()
                    };
                    let r = c.req(pb::UpdatePersonRequest {
                        person: Some(person),
                        update_mask: Some(prost_types::FieldMask { paths: vec!["full_name".into()] }),
                    });
                    c.people.update_person(r).await.map(drop)
                }
            })
            .await
        }
    };
    let cell = |t: Result<Timing, Status>| match t {
        Ok(t) => format!("{} / {}", ms(t.p50()), ms(t.p95())),
        Err(s) => format!("{:?}: {}", s.code(), s.message()),
    };
    let _ = writeln!(text, "| write | p50 / p95 ms, or seconds |\n|---|---:|");
    let _ = writeln!(text, "| UpdatePerson (full name) | {} |", cell(write(&c, "a").await));

    // A scale-rank change that reorders the scale: political theory "intermediate"
    // above "advanced", then back.
    let level_name = "scales/political_theory/levels/intermediate";
    let r = c.req(pb::GetScaleRequest { name: "scales/political_theory".into() });
    let scale = c.scales.get_scale(r).await?.into_inner().scale.ok_or_else(|| anyhow::anyhow!("no scale"))?;
    let level = scale.levels.into_iter().find(|l| l.name == level_name).ok_or_else(|| anyhow::anyhow!("no level"))?;
    let original = level.rank;
    let change = |rank: i32| {
        let mut c = c.clone();
        let level = pb::Level { rank, ..level.clone() };
        async move {
            let t = Instant::now();
            let r = c.req(pb::UpdateLevelRequest { level: Some(level) });
            let result = c.scales.update_level(r).await;
            (t.elapsed(), result.map(drop))
        }
    };
    let (took, result) = change(original + 15).await;
    let changed = result.is_ok();
    let _ = writeln!(
        text,
        "| UpdateLevel: political_theory/intermediate rank {original} → {} (reorders the scale) | {:.2} s{} |",
        original + 15,
        took.as_secs_f64(),
        result.err().map(|s| format!(" ({:?}: {})", s.code(), s.message())).unwrap_or_default()
    );
    let _ = writeln!(text, "| UpdatePerson right after the rank change | {} |", cell(write(&c, "b").await));
    if changed {
        let (took, result) = change(original).await;
        let _ = writeln!(
            text,
            "| UpdateLevel back to rank {original} | {:.2} s{} |",
            took.as_secs_f64(),
            result.err().map(|s| format!(" ({:?}: {})", s.code(), s.message())).unwrap_or_default()
        );
    }
    let _ = writeln!(text);
    Ok(Table { text, ready: server.ready_after })
}
