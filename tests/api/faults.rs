//! Faults of the database: PostgreSQL crashed (SIGKILL to every server process, crash
//! recovery on restart) while hrplan writes, then started again, without restarting
//! hrplan. What must hold: no acknowledged write is lost, nothing is written in part,
//! every call made while the database is down answers UNAVAILABLE (never INTERNAL), the
//! health service says NOT_SERVING, and writes succeed again within 2 s of the restart.
//!
//! These tests need a PostgreSQL cluster of their own to kill (`scripts/lib/pg.sh`
//! starts it with `synchronous_commit = on`, so that an acknowledged commit is on
//! disk): they run in the PostgreSQL pass of `scripts/test`, which CI requires, and
//! say so on the SQLite pass.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use hrplan::grpc::pb;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use tokio::sync::Mutex;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::{
    clients::PersonClient,
    helpers::{TestApp, date, spawn_app_on, unit},
};

/// How long a restarted database may take to serve writes through hrplan again.
const BACK_WITHIN: Duration = Duration::from_secs(2);

/// A throwaway PostgreSQL cluster that a test may kill and restart.
struct Cluster {
    dir: String,
    port: String,
}

impl Cluster {
    /// Starts a cluster, or `None` (with the reason printed) outside the PostgreSQL pass.
    fn start() -> Option<Self> {
        if std::env::var("HRPLAN_TEST_BACKEND").as_deref() != Ok("postgres") {
            eprintln!("database fault tests run in the PostgreSQL pass of scripts/test (HRPLAN_TEST_BACKEND=postgres)");
            return None;
        }
        let output = Self::script("PG_EXTRA_CONF='synchronous_commit = on' pg_start && echo \"$PG_DIR $PG_PORT\"")
            .output()
            .expect("running scripts/lib/pg.sh");
        assert!(output.status.success(), "pg_start failed: {}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let (dir, port) = stdout.trim().rsplit_once(' ').expect("pg_start prints its directory and port");
        Some(Self { dir: dir.to_owned(), port: port.to_owned() })
    }

    fn script(body: &str) -> Command {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut command = Command::new("bash");
        command.current_dir(&root).arg("-c").arg(format!("source scripts/lib/pg.sh && {body}"));
        command
    }

    fn run(&self, body: &str) {
        let output =
            Self::script(body).env("PG_DIR", &self.dir).env("PG_PORT", &self.port).output().expect("running pg.sh");
        assert!(output.status.success(), "`{body}` failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// Crashes every server process of the cluster.
    fn kill(&self) {
        self.run("pg_kill");
    }

    /// Starts the cluster again and waits until it accepts connections.
    fn restart(&self) {
        self.run("pg_restart");
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A server on a new database of this cluster, with the demo locality tree.
    async fn app(&self) -> TestApp {
        let admin = Database::connect(self.url("postgres")).await.expect("connecting to the fault cluster");
        admin.execute_unprepared("CREATE DATABASE hrplan_faults").await.expect("creating the database");
        admin.close().await.ok();
        let app = spawn_app_on(self.url("hrplan_faults"), None, |_| {}).await;
        app.load_demo().await;
        app
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Self::script("pg_find_bindir; pg_stop").env("PG_DIR", &self.dir).env("PG_PORT", &self.port).status();
    }
}

fn record(unit: &str, name: &str) -> pb::PersonRecord {
    crate::helpers::person_record(unit, name)
}

/// People whose name matches the LIKE `pattern`, and how many of them lack the
/// placement or the qualification their write carried (a write applied in part).
async fn people_like(app: &TestApp, pattern: &str) -> (i64, i64) {
    let count = |sql: &str| {
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [pattern.into()]);
        async move {
            let row = app.db.query_one_raw(statement).await.expect("counting").expect("a row");
            row.try_get_by_index::<i64>(0).expect("a count")
        }
    };
    let people = count("SELECT COUNT(*) FROM people WHERE full_name LIKE $1").await;
    let partial = count(
        "SELECT COUNT(*) FROM people p WHERE p.full_name LIKE $1 AND \
         (NOT EXISTS (SELECT 1 FROM placements x WHERE x.person_id = p.id) \
          OR NOT EXISTS (SELECT 1 FROM qualifications q WHERE q.person_id = p.id))",
    )
    .await;
    (people, partial)
}

async fn health(app: &TestApp) -> Option<ServingStatus> {
    let mut client = HealthClient::new(app.channel.clone());
    let answer = client.check(HealthCheckRequest { service: String::new() }).await.ok()?;
    ServingStatus::try_from(answer.into_inner().status).ok()
}

/// What one CreatePerson call answered, and when it ran.
#[derive(Debug, Clone)]
struct Call {
    request_id: String,
    name: String,
    started: Instant,
    ended: Instant,
    code: Code,
}

#[tokio::test]
async fn acknowledged_writes_survive_postgres_crashes_during_concurrent_writes() {
    let Some(cluster) = Cluster::start() else { return };
    let app = cluster.app().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = (0..6)
        .map(|writer| {
            let (mut client, office, calls, stop) =
                (app.as_admin().people(), office.clone(), calls.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let (request_id, name) = (format!("crash-{writer}-{i}"), format!("Crash {writer}-{i}"));
                    let started = Instant::now();
                    let answer = client
                        .create_person(pb::CreatePersonRequest {
                            record: Some(record(&office, &name)),
                            request_id: request_id.clone(),
                        })
                        .await;
                    let code = answer.map_or_else(|status| status.code(), |_| Code::Ok);
                    calls.lock().await.push(Call { request_id, name, started, ended: Instant::now(), code });
                }
            })
        })
        .collect();

    let mut outages = Vec::new();
    let mut recoveries = Vec::new();
    let mut probe = app.as_admin().people();
    for round in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cluster.kill();
        let down = Instant::now();
        // Longer than the pool waits for a connection (5 s), so that calls begin and
        // end while the database is down.
        tokio::time::sleep(Duration::from_millis(6500)).await;
        assert_eq!(health(&app).await, Some(ServingStatus::NotServing), "round {round}: health while down");
        let restarting = Instant::now();
        outages.push((down, restarting));
        cluster.restart();
        let ready = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = probe
                .create_person(pb::CreatePersonRequest {
                    record: Some(record(&office, &format!("Probe {round}-{attempt}"))),
                    request_id: format!("probe-{round}-{attempt}"),
                })
                .await;
            if answer.is_ok() {
                break;
            }
            assert!(ready.elapsed() < BACK_WITHIN, "round {round}: no write succeeded within {BACK_WITHIN:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        recoveries.push(ready.elapsed());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let calls = calls.lock().await.clone();

    // Every answer is a success or UNAVAILABLE; a call made wholly while the database
    // was down is UNAVAILABLE.
    let codes: BTreeMap<String, usize> = calls.iter().fold(BTreeMap::new(), |mut codes, call| {
        *codes.entry(format!("{:?}", call.code)).or_default() += 1;
        codes
    });
    assert!(calls.iter().all(|c| matches!(c.code, Code::Ok | Code::Unavailable)), "codes: {codes:?}");
    let while_down: Vec<&Call> = calls
        .iter()
        .filter(|c| outages.iter().any(|(down, restarting)| c.started > *down && c.ended < *restarting))
        .collect();
    assert!(!while_down.is_empty(), "no call was made while the database was down");
    assert!(while_down.iter().all(|c| c.code == Code::Unavailable), "{while_down:?}");
    let refused = calls.iter().filter(|c| c.code == Code::Unavailable).count();
    assert!(refused > 0, "the crashes refused no write: {codes:?}");

    // Nothing acknowledged is lost, and nothing is written in part.
    let acknowledged: Vec<&Call> = calls.iter().filter(|c| c.code == Code::Ok).collect();
    for call in &acknowledged {
        let (found, partial) = people_like(&app, &call.name).await;
        assert_eq!((found, partial), (1, 0), "acknowledged {} is not there whole", call.name);
    }
    let (_, partial) = people_like(&app, "Crash %").await;
    assert_eq!(partial, 0, "a write was applied in part");

    // Retried with the same identifier, every refused write happens once: none twice.
    let mut client = app.as_admin().people();
    for call in calls.iter().filter(|c| c.code != Code::Ok) {
        client
            .create_person(pb::CreatePersonRequest {
                record: Some(record(&office, &call.name)),
                request_id: call.request_id.clone(),
            })
            .await
            .expect("a retry once the database is back");
    }
    let (people, partial) = people_like(&app, "Crash %").await;
    assert_eq!((people, partial), (calls.len() as i64, 0), "each request is written exactly once");

    eprintln!(
        "database faults: {} crashes during concurrent writes; {} writes acknowledged, 0 lost; {} answered \
         UNAVAILABLE and written once on retry; writes served again {:?} after each restart",
        outages.len(),
        acknowledged.len(),
        refused,
        recoveries
    );
}

#[tokio::test]
async fn an_import_cut_by_a_postgres_crash_is_written_whole_or_not_at_all() {
    let Some(cluster) = Cluster::start() else { return };
    let app = cluster.app().await;
    let office = unit(&app, "localities/06463", "Ủy ban nhân dân xã Chi Lăng", date(2020, 1, 1), None).await;
    const RECORDS: usize = 3_000;
    let stream = |prefix: &str| -> Vec<pb::ImportPeopleRequest> {
        (0..RECORDS)
            .map(|i| pb::ImportPeopleRequest {
                record: Some(record(&office, &format!("{prefix}{i}"))),
                ..Default::default()
            })
            .collect()
    };
    // How long an import takes here, undisturbed: the crashes come at fractions of it,
    // while the stream arrives, while its one transaction writes, and around its commit.
    let started = Instant::now();
    let baseline = app.as_admin().people().import_people(tokio_stream::iter(stream("Baseline "))).await;
    assert_eq!(baseline.expect("an undisturbed import").into_inner().imported_count, RECORDS as i32);
    let took = started.elapsed();
    let mut outcomes = Vec::new();
    for (round, share) in [0.0, 0.2, 0.5, 0.8, 0.95, 1.2, 2.0].into_iter().enumerate() {
        let prefix = format!("Import {round} ");
        let records = stream(&prefix);
        let mut client: PersonClient = app.as_admin().people();
        let import = tokio::spawn(async move { client.import_people(tokio_stream::iter(records)).await });
        let delay_ms = took.mul_f64(share).as_millis();
        tokio::time::sleep(took.mul_f64(share)).await;
        cluster.kill();
        let answer = import.await.expect("import task");
        cluster.restart();
        let ready = Instant::now();
        let (people, partial) = loop {
            match tokio::time::timeout(Duration::from_secs(1), async { people_like(&app, &format!("{prefix}%")).await })
                .await
            {
                Ok(counts) => break counts,
                Err(_) => assert!(ready.elapsed() < BACK_WITHIN * 5, "the database did not come back"),
            }
        };
        assert_eq!(partial, 0, "round {round}: people written without their records");
        match answer {
            Ok(answer) => {
                assert_eq!(answer.into_inner().imported_count, RECORDS as i32, "round {round}");
                assert_eq!(people, RECORDS as i64, "round {round}: an acknowledged import lost people");
            }
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "round {round}: {status:?}");
                assert_eq!(people, 0, "round {round}: a refused import left {people} people");
            }
        }
        outcomes.push((delay_ms, people));
        // Serving again: the next round's import needs the database back.
        let mut client = app.as_admin().people();
        let back = Instant::now();
        while client
            .get_person(pb::GetPersonRequest { name: "people/1".into(), ..Default::default() })
            .await
            .is_err_and(|status| status.code() == Code::Unavailable && back.elapsed() < BACK_WITHIN)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let cut = outcomes.iter().filter(|(_, people)| *people == 0).count();
    assert!(cut > 0, "no crash cut an import: {outcomes:?}");
    eprintln!(
        "database faults: {} crashes during streamed imports of {RECORDS} people (undisturbed: {took:?}): {} \
         refused with nothing written, {} acknowledged whole (delay ms, people: {outcomes:?})",
        outcomes.len(),
        cut,
        outcomes.len() - cut
    );
}
