//! Generating (or reusing) the national dataset: migrate, import the official tree,
//! create units, plans, people with their records, quotas and standards in bulk, then
//! build the person facts with `hrplan::facts::catch_up` and refresh the planner's
//! statistics. Each step is timed.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use chrono::{SecondsFormat, Utc};
use hrplan::{
    cli::official::{ImportOptions, WHEEL_NAME, import},
    localities::official_tree::DEFAULT_OLD_TREE_FROM,
    store,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Value};

use crate::{
    Settings,
    load::{Format, Loader},
    people::{Batch, FirstIds, Generator},
    tree,
};

/// What the load took, step by step (empty when the dataset was reused).
#[derive(Debug, Default)]
pub struct LoadReport {
    /// (step, time) in order.
    pub steps: Vec<(String, Duration)>,
    /// Whether an existing dataset was reused.
    pub reused: bool,
}

impl LoadReport {
    fn step(&mut self, name: impl Into<String>, since: Instant) {
        let name = name.into();
        let took = since.elapsed();
        println!("  {name}: {:.1} s", took.as_secs_f64());
        self.steps.push((name, took));
    }

    /// The whole load.
    pub fn total(&self) -> Duration {
        self.steps.iter().map(|(_, d)| *d).sum()
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(store::stmt(db.get_database_backend(), sql, vec![]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// The inputs of the official tree import, found as the tests find them.
fn official_inputs(repo: &Path) -> anyhow::Result<ImportOptions> {
    let admin_units = std::env::var_os("HRPLAN_ADMIN_UNITS_2025")
        .map_or_else(|| repo.join("../shared/data/admin-units-2025"), PathBuf::from);
    let divisions = match std::env::var_os("HRPLAN_VIETNAM_PROVINCES") {
        Some(path) => PathBuf::from(path),
        None => {
            let folder = repo.join("target/official-data");
            let wheel = folder.join(WHEEL_NAME);
            if !wheel.is_file() {
                println!("  downloading vietnam-provinces 0.6.0 into {}", folder.display());
                let status = std::process::Command::new("python3")
                    .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check"])
                    .arg("vietnam-provinces==0.6.0")
                    .arg("-d")
                    .arg(&folder)
                    .status()?;
                anyhow::ensure!(
                    status.success() && wheel.is_file(),
                    "the official tree import needs the vietnam-provinces 0.6.0 wheel: set HRPLAN_VIETNAM_PROVINCES \
                     or run `python3 -m pip download --no-deps vietnam-provinces==0.6.0 -d {}`",
                    folder.display()
                );
            }
            wheel
        }
    };
    Ok(ImportOptions { divisions, admin_units, old_tree_from: DEFAULT_OLD_TREE_FROM, dry_run: false })
}

/// Makes the dataset of `settings` ready: reused when the database holds exactly the
/// people asked for, generated when it holds none.
pub async fn dataset(settings: &Settings, repo: &Path) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    let t = Instant::now();
    let db = store::connect(&settings.database_url, 4).await?;
    store::migrate(&db).await?;
    report.step("migrate", t);
    let existing = count(&db, "SELECT COUNT(*) FROM people").await?;
    let wanted = i64::try_from(settings.people)?;
    if existing == wanted {
        println!("  reusing the dataset: {existing} people");
        report.reused = true;
        report.steps.clear();
        db.close().await?;
        return Ok(report);
    }
    anyhow::ensure!(
        existing == 0,
        "the database holds {existing} people, not {wanted}: drop it (or point HRPLAN_BENCH_DATABASE_URL at an \
         empty one) to generate anew"
    );

    let t = Instant::now();
    if count(&db, "SELECT COUNT(*) FROM localities").await? == 0 {
        let summary = import(&db, &official_inputs(repo)?).await?;
        let _ = summary;
    }
    report.step("official tree import", t);

    let t = Instant::now();
    let loader = Loader::open(&db, &settings.database_url).await?;
    let format = loader.format();
    let stamp = match format {
        Format::Copy => Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
        Format::Literal => Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, false),
    };
    let first = |table: &str| {
        let db = db.clone();
        let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
        async move { count(&db, &sql).await }
    };
    let tree = tree::read(&db, format, first("units").await?, &stamp).await?;
    let ids = FirstIds {
        person: first("people").await?,
        placement: first("placements").await?,
        qualification: first("qualifications").await?,
        enrollment: first("enrollments").await?,
        rotation: first("rotations").await?,
    };
    println!(
        "  tree: {} provinces, {} communes from 2025-07-01; {} provinces, {} districts, {} communes before; {} units",
        tree.provinces.len(),
        tree.communes.len(),
        tree.old_provinces.len(),
        tree.districts.len(),
        tree.old_communes.len(),
        tree.unit_count
    );
    let mut generator =
        Generator::new(tree, format, loader.marks_pending(), settings.seed, settings.people, ids, stamp.clone());
    loader.write(&generator.plans().tables).await?;
    report.step("units and training plans", t);

    // People: generated on a thread of their own while the previous batch loads.
    let t = Instant::now();
    let (send, mut receive) = tokio::sync::mpsc::channel::<Batch>(2);
    let producer = std::thread::spawn(move || {
        while let Some(batch) = generator.next_batch() {
            if send.blocking_send(batch).is_err() {
                break;
            }
        }
        let quotas = generator.quotas();
        let _ = send.blocking_send(quotas);
        generator.counts
    });
    let mut loaded = 0usize;
    let mut last_print = Instant::now();
    while let Some(batch) = receive.recv().await {
        loader.write(&batch.tables).await?;
        loaded += batch.people;
        if last_print.elapsed() > Duration::from_secs(15) {
            let rate = loaded as f64 / t.elapsed().as_secs_f64();
            println!("    {loaded} people loaded ({rate:.0} people/s)");
            last_print = Instant::now();
        }
    }
    let counts = producer.join().map_err(|_| anyhow::anyhow!("the generator panicked"))?;
    println!(
        "  {} people, {} placements, {} qualifications, {} evaluations, {} enrolments, {} movements, {} quotas",
        counts.people,
        counts.placements,
        counts.qualifications,
        counts.evaluations,
        counts.enrollments,
        counts.rotations,
        counts.quotas
    );
    report.step(
        format!("people and their records ({:.0} people/s)", counts.people as f64 / t.elapsed().as_secs_f64()),
        t,
    );
    loader.close().await?;

    let t = Instant::now();
    standards(&db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // The rows were loaded with their ids: move the sequences past them.
        for table in [
            "units",
            "people",
            "placements",
            "qualifications",
            "training_plans",
            "enrollments",
            "rotations",
            "staffing_quotas",
        ] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            ))
            .await?;
        }
    }
    report.step("standards and sequences", t);

    let t = Instant::now();
    // On PostgreSQL catch-ups claim their batches row by row (as replicas do), so two
    // run at once, one per core; SQLite serialises writers, so one is enough.
    let workers = if db.get_database_backend() == DbBackend::Postgres { 2 } else { 1 };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let db = db.clone();
        tasks.spawn(async move { hrplan::facts::catch_up(&db).await });
    }
    let mut rebuilt = 0;
    while let Some(done) = tasks.join_next().await {
        rebuilt += done??;
    }
    report.step(
        format!(
            "person facts: facts::catch_up, {workers} at once ({rebuilt} people, {:.0} people/s)",
            rebuilt as f64 / t.elapsed().as_secs_f64()
        ),
        t,
    );

    let t = Instant::now();
    if db.get_database_backend() == DbBackend::Postgres {
        // The steady state autovacuum reaches on its own: statistics, and a visibility
        // map that lets index-only scans skip the table.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    report.step("statistics (VACUUM ANALYZE / ANALYZE)", t);
    println!("  whole load: {:.1} s", report.total().as_secs_f64());
    db.close().await?;
    Ok(report)
}

/// A few qualification standards, so that compliance has something to check: commune
/// civil servants, leaders, and provincial cadres.
async fn standards(db: &DatabaseConnection) -> anyhow::Result<()> {
    let now = Utc::now();
    let backend = db.get_database_backend();
    // (name, tier, category, leadership, minimums)
    type Standard = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        [(&'static str, &'static str); 2],
    );
    let rows: [Standard; 3] = [
        (
            "Công chức cấp xã",
            Some("commune"),
            Some("civil_servant"),
            None,
            [("professional", "university"), ("political_theory", "elementary")],
        ),
        (
            "Lãnh đạo, quản lý",
            None,
            None,
            Some("leaders"),
            [("professional", "university"), ("political_theory", "intermediate")],
        ),
        (
            "Cán bộ cấp tỉnh",
            Some("province"),
            Some("cadre"),
            None,
            [("political_theory", "intermediate"), ("state_management", "specialist")],
        ),
    ];
    for (name, tier, category, leadership, minimums) in rows {
        let row = db
            .query_one_raw(store::stmt(
                backend,
                "INSERT INTO standards (name, tier, category, leadership, post_title, post_title_folded, effective_from, \
                 effective_until, legal_basis, revision, create_time, update_time) \
                 VALUES (?, ?, ?, ?, NULL, NULL, ?, NULL, ?, 1, ?, ?) RETURNING id",
                vec![
                    Value::from(name),
                    Value::from(tier),
                    Value::from(category),
                    Value::from(leadership),
                    Value::from(DEFAULT_OLD_TREE_FROM),
                    Value::from("Nghị định 06/2010/NĐ-CP; Thông tư 11/2014/TT-BNV"),
                    Value::from(now),
                    Value::from(now),
                ],
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("inserting a standard returned no id"))?;
        let id: i64 = row.try_get("", "id")?;
        for (scale, level) in minimums {
            db.execute_raw(store::stmt(
                backend,
                "INSERT INTO standard_minimums (standard_id, scale_code, level_code) VALUES (?, ?, ?)",
                vec![Value::from(id), Value::from(scale), Value::from(level)],
            ))
            .await?;
        }
    }
    Ok(())
}
