//! Pace: point reads and imports measured against what the same PostgreSQL does on its
//! own, in the same run.
//!
//! - **GetPerson** through gRPC, with `IN_FLIGHT` requests in flight (10), each on its
//!   own connection, for `SECONDS` (10) a run, the median of `RUNS` (3) runs; against
//!   `pgbench -S` (`pgbench -i` in a scratch database, `-c IN_FLIGHT -j 2 -S -T SECONDS`)
//!   and against a bare tonic service (the gRPC health check, served with nothing
//!   around it) at the same concurrency. GetPerson needs the `personal_data_reader`
//!   role, so every answer is a read of personal data and writes its audit record
//!   before it leaves: it is measured for a national caller and for a caller scoped to
//!   the province of the people read (whose scope is checked in SQL), and for a national
//!   caller of a second server over the same database whose audit records of reads
//!   commit asynchronously (`--audit-reads-async-commit`).
//! - **ImportPeople** of `PEOPLE` people (20,000; each with a placement, a
//!   qualification and an evaluation) through gRPC, against a `COPY` of the very rows
//!   the import wrote (people, placements, qualifications, evaluations) into bare copies
//!   of the same tables (`CREATE TABLE … (LIKE …)`: no keys, indexes, defaults or
//!   triggers), timed in the same run; the median of `RUNS` runs each. The same rows are
//!   also copied back into the real tables they came from (deleted, then COPY with every
//!   key, index, exclusion constraint and trigger of the schema, in a transaction rolled
//!   back): the pace the schema itself allows, whatever writes it.
//! - Two ceilings of a gRPC point read in this stack, at the same concurrency: the health
//!   check's `Check` answered by one `SELECT` of `pgbench_accounts` through a sqlx pool of
//!   the service's size, and the same followed by an `INSERT` into `pgbench_history`
//!   committed on its own (what an audited read adds).
//!
//! ```sh
//! HRPLAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench pace
//! ```
//!
//! Environment: `HRPLAN_BENCH_POSTGRES_URL` (required): an admin URL, where the
//! benchmark creates (and leaves) a fresh database for the service and a scratch one for
//! pgbench; `HRPLAN_BENCH_DATABASE_URL`: serve an existing, loaded database instead of
//! a fresh one (the imports add `RUNS × PEOPLE` people to its first open unit: use a
//! copy); `HRPLAN_BENCH_PEOPLE`, `HRPLAN_BENCH_SECONDS`, `HRPLAN_BENCH_RUNS`,
//! `HRPLAN_BENCH_IN_FLIGHT`; `HRPLAN_BENCH_POOL`: the service's pool size (default: sized
//! by the service, `store::pool_size`). `pgbench` must be on the PATH.

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicI32, Ordering},
    },
    time::{Duration, Instant},
};

use hrplan::{
    auth::{KeyConfig, Role, mint_hs256},
    config::ServerConfig,
    grpc::pb::{self, person_service_client::PersonServiceClient, unit_service_client::UnitServiceClient},
    startup::Application,
};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    sqlx::{
        self, AssertSqlSafe, Connection as _,
        postgres::{PgConnection, PgPool, PgPoolOptions},
    },
};
use tokio::{net::TcpListener, sync::Barrier};
use tokio_stream::StreamExt as _;
use tonic::{
    metadata::MetadataValue,
    transport::{Channel, Server},
};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse,
    health_check_response::ServingStatus,
    health_client::HealthClient,
    health_server::{Health, HealthServer},
};

const SECRET: &[u8] = b"hrplan-bench-secret-0123456789abcdef";

/// The tables an import writes, in the order their rows are copied.
const TABLES: [(&str, &str); 4] =
    [("people", "id"), ("placements", "person_id"), ("qualifications", "person_id"), ("evaluations", "person_id")];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn date(year: i32, month: i32, day: i32) -> pb::Date {
    pb::Date { year, month, day }
}

fn record(unit: &str, i: usize) -> pb::PersonRecord {
    let i32_of = |n: usize| i32::try_from(n).unwrap_or_default();
    pb::PersonRecord {
        person: Some(pb::Person {
            full_name: format!("Nguyễn Văn Nhịp {i}"),
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

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

fn show(xs: &[f64]) -> String {
    xs.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join(", ")
}

/// A URL on the server of `admin` naming database `name`.
fn on_server(admin: &str, name: &str) -> anyhow::Result<String> {
    let (base, _) = admin.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("the admin URL names no database"))?;
    Ok(format!("{base}/{name}"))
}

async fn create_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let conn = Database::connect(admin).await?;
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await?;
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    conn.close().await?;
    on_server(admin, name)
}

/// A bearer token for `localities` and `roles`.
fn token(localities: &[&str], roles: &[Role]) -> anyhow::Result<MetadataValue<tonic::metadata::Ascii>> {
    let localities: Vec<String> = localities.iter().map(|l| (*l).to_owned()).collect();
    let jwt = mint_hs256(SECRET, "bench", &localities, roles, Duration::from_secs(3600))?;
    Ok(format!("Bearer {jwt}").parse()?)
}

/// The interceptor that adds a bearer token; cheap to clone.
#[derive(Clone)]
struct WithToken(MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for WithToken {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert("authorization", self.0.clone());
        Ok(request)
    }
}

fn with(token: MetadataValue<tonic::metadata::Ascii>) -> WithToken {
    WithToken(token)
}

async fn channel(addr: std::net::SocketAddr) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?.connect().await?)
}

/// Calls per second of `call` run by `in_flight` tasks, each on its own connection,
/// for `seconds`. Any failed call fails the run.
async fn throughput<C, F, Fut>(
    addr: std::net::SocketAddr,
    in_flight: usize,
    seconds: u64,
    client: C,
) -> anyhow::Result<f64>
where
    C: Fn(Channel) -> anyhow::Result<F> + Send + Sync + 'static,
    F: FnMut(usize) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let start = Arc::new(Barrier::new(in_flight + 1));
    let mut tasks = Vec::new();
    for task in 0..in_flight {
        let mut call = client(channel(addr).await?)?;
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let until = Instant::now() + Duration::from_secs(seconds);
            let mut done = 0usize;
            while Instant::now() < until {
                call(task + in_flight * done).await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    start.wait().await;
    let started = Instant::now();
    let mut calls = 0;
    for task in tasks {
        calls += task.await??;
    }
    Ok(calls as f64 / started.elapsed().as_secs_f64())
}

/// Transactions per second of `pgbench -S` on a scratch database of `admin`'s server.
fn pgbench(admin: &str, in_flight: usize, seconds: u64) -> anyhow::Result<f64> {
    let url = on_server(admin, "hrplan_pace_pgbench")?;
    let out = std::process::Command::new("pgbench")
        .args(["-c", &in_flight.to_string(), "-j", "2", "-S", "-T", &seconds.to_string(), &url])
        .output()?;
    anyhow::ensure!(out.status.success(), "pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no tps in pgbench's output: {text}"))
}

/// Serves the bare gRPC health service on a free port, with nothing around it.
async fn echo_server() -> anyhow::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (_reporter, service) = tonic_health::server::health_reporter();
    tokio::spawn(
        Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    Ok(addr)
}

/// A gRPC point read with nothing else around it: `Check` reads one row of pgbench's
/// accounts through the pool (and, `with_write`, inserts one history row, committed on
/// its own).
struct PointRead {
    pool: PgPool,
    with_write: bool,
    next: AtomicI32,
}

#[tonic::async_trait]
impl Health for PointRead {
    async fn check(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        let internal = |e: sqlx::Error| tonic::Status::internal(e.to_string());
        let aid = 1 + self.next.fetch_add(7919, Ordering::Relaxed).rem_euclid(100_000);
        let balance: i32 = sqlx::query_scalar("SELECT abalance FROM pgbench_accounts WHERE aid = $1")
            .bind(aid)
            .fetch_one(&self.pool)
            .await
            .map_err(internal)?;
        if self.with_write {
            sqlx::query("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, $1, $2, now())")
                .bind(aid)
                .bind(balance)
                .execute(&self.pool)
                .await
                .map_err(internal)?;
        }
        Ok(tonic::Response::new(HealthCheckResponse { status: ServingStatus::Serving.into() }))
    }

    type WatchStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<HealthCheckResponse, tonic::Status>> + Send>>;

    async fn watch(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("not part of the bench"))
    }
}

/// Serves [`PointRead`] over a pool of `pool` connections to `url` on a free port.
async fn point_read_server(url: &str, pool: u32, with_write: bool) -> anyhow::Result<std::net::SocketAddr> {
    let pool = PgPoolOptions::new().max_connections(pool).min_connections(pool).connect(url).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let service = HealthServer::new(PointRead { pool, with_write, next: AtomicI32::new(0) });
    tokio::spawn(
        Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    Ok(addr)
}

/// Calls per second of the health check `Check` on `addr`.
async fn health_rate(addr: std::net::SocketAddr, in_flight: usize, seconds: u64) -> anyhow::Result<f64> {
    throughput(addr, in_flight, seconds, |channel| {
        let client = HealthClient::new(channel);
        Ok(move |_| {
            let mut client = client.clone();
            async move {
                client.check(HealthCheckRequest { service: String::new() }).await?;
                anyhow::Ok(())
            }
        })
    })
    .await
}

/// The rows of the people `first..=last` in the tables an import writes, as COPY text.
async fn rows_of(conn: &mut PgConnection, first: i64, last: i64) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut all = Vec::new();
    for (table, key) in TABLES {
        let mut data = Vec::new();
        let sql = format!("COPY (SELECT * FROM {table} WHERE {key} BETWEEN {first} AND {last}) TO STDOUT");
        let mut out = conn.copy_out_raw(&sql).await?;
        while let Some(chunk) = out.next().await {
            data.extend_from_slice(&chunk?);
        }
        drop(out);
        all.push(data);
    }
    Ok(all)
}

/// Runs `sql` (the bench's own statements, no input in them).
async fn run(conn: &mut PgConnection, sql: String) -> anyhow::Result<()> {
    sea_orm::sqlx::raw_sql(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// Seconds to COPY `rows` (as from [`rows_of`]) into fresh bare copies of the tables,
/// in one transaction.
async fn copy_seconds(conn: &mut PgConnection, rows: &[Vec<u8>]) -> anyhow::Result<f64> {
    for (table, _) in TABLES {
        run(conn, format!("DROP TABLE IF EXISTS pace_bare_{table}; CREATE TABLE pace_bare_{table} (LIKE {table})"))
            .await?;
    }
    let started = Instant::now();
    run(conn, "BEGIN".to_owned()).await?;
    for ((table, _), data) in TABLES.iter().zip(rows) {
        let mut copy = conn.copy_in_raw(&format!("COPY pace_bare_{table} FROM STDIN")).await?;
        copy.send(data.as_slice()).await?;
        copy.finish().await?;
    }
    run(conn, "COMMIT".to_owned()).await?;
    let seconds = started.elapsed().as_secs_f64();
    for (table, _) in TABLES {
        run(conn, format!("DROP TABLE pace_bare_{table}")).await?;
    }
    Ok(seconds)
}

/// Seconds to COPY `rows` (as from [`rows_of`], the people `first..=last`) back into the
/// real tables they came from: in one transaction, their rows are deleted, copied in
/// again with every key, index, constraint (checked at once) and trigger of the schema,
/// and the transaction is rolled back. Only the copies are timed.
async fn copy_real_seconds(conn: &mut PgConnection, rows: &[Vec<u8>], first: i64, last: i64) -> anyhow::Result<f64> {
    run(conn, "BEGIN".to_owned()).await?;
    for (table, key) in TABLES.iter().rev() {
        run(conn, format!("DELETE FROM {table} WHERE {key} BETWEEN {first} AND {last}")).await?;
    }
    run(conn, "SET CONSTRAINTS ALL IMMEDIATE".to_owned()).await?;
    let started = Instant::now();
    for ((table, _), data) in TABLES.iter().zip(rows) {
        let mut copy = conn.copy_in_raw(&format!("COPY {table} FROM STDIN")).await?;
        copy.send(data.as_slice()).await?;
        copy.finish().await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    run(conn, "ROLLBACK".to_owned()).await?;
    Ok(seconds)
}

/// A unit open since 2020 at the latest, with its locality code: the bench's own in a
/// fresh database, the first such unit of a loaded one.
async fn unit(db: &DatabaseConnection, addr: std::net::SocketAddr, fresh: bool) -> anyhow::Result<(String, String)> {
    if fresh {
        let mut units = UnitServiceClient::with_interceptor(channel(addr).await?, with(token(&["*"], &[Role::Admin])?));
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
            .ok_or_else(|| anyhow::anyhow!("no unit"))?;
        return Ok((unit.name, "06463".to_owned()));
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id, locality_code FROM units WHERE valid_from <= DATE '2020-01-01' AND valid_until IS NULL \
             ORDER BY id LIMIT 1",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no unit open since 2020 in the database"))?;
    let id: i64 = row.try_get("", "id")?;
    let code: String = row.try_get("", "locality_code")?;
    Ok((format!("units/{id}"), code))
}

/// The topmost ancestor of locality `code` (its province), so that a caller scoped to
/// it has its scope checked through the tree.
async fn top_of(db: &DatabaseConnection, code: &str) -> anyhow::Result<String> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH RECURSIVE up(code, depth) AS (SELECT CAST($1 AS TEXT), 0 UNION \
             SELECT v.parent_code, u.depth + 1 FROM locality_versions v JOIN up u ON v.code = u.code \
             WHERE v.parent_code IS NOT NULL AND u.depth < 10) SELECT code FROM up ORDER BY depth DESC LIMIT 1",
            [code.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no locality {code}"))?;
    Ok(row.try_get("", "code")?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin = std::env::var("HRPLAN_BENCH_POSTGRES_URL")
        .map_err(|_| anyhow::anyhow!("set HRPLAN_BENCH_POSTGRES_URL to a PostgreSQL admin URL"))?;
    let people: usize = env_or("HRPLAN_BENCH_PEOPLE", 20_000);
    let seconds: u64 = env_or("HRPLAN_BENCH_SECONDS", 10);
    let runs: usize = env_or("HRPLAN_BENCH_RUNS", 3).max(1);
    let in_flight: usize = env_or("HRPLAN_BENCH_IN_FLIGHT", 10).max(1);

    let existing = std::env::var("HRPLAN_BENCH_DATABASE_URL").ok();
    let fresh = existing.is_none();
    let url = match existing {
        Some(url) => url,
        None => create_database(&admin, &format!("hrplan_pace_{}", std::process::id())).await?,
    };
    let mut config = ServerConfig::new(url.clone());
    if let Ok(pool) = std::env::var("HRPLAN_BENCH_POOL") {
        config.database_max_connections = pool.parse()?;
    }
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.demo = fresh;
    config.request_timeout = Duration::from_secs(600);
    let pool = hrplan::store::pool_size(&url, config.database_max_connections);
    let app = Application::build(config).await?;
    let db = app.db().clone();
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));
    println!(
        "pace: PostgreSQL, {} database, pool {pool}, {in_flight} in flight, {runs} runs of {seconds} s, imports of \
         {people} people",
        if fresh { "a fresh" } else { "an existing" }
    );

    // ImportPeople against COPY of the same rows into bare tables.
    let (unit, locality) = unit(&db, addr, fresh).await?;
    let mut importer =
        PersonServiceClient::with_interceptor(channel(addr).await?, with(token(&["*"], &[Role::Admin])?))
            .max_decoding_message_size(64 * 1024 * 1024);
    let mut raw = PgConnection::connect(&url).await?;
    let (mut import_rates, mut copy_rates, mut real_rates, mut ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let requests: Vec<pb::ImportPeopleRequest> = (run * people..(run + 1) * people)
            .map(|i| pb::ImportPeopleRequest {
                record: Some(record(&unit, i)),
                mode: pb::ImportMode::Create.into(),
                validate_only: false,
            })
            .collect();
        let started = Instant::now();
        let answer = importer.import_people(tokio_stream::iter(requests)).await?.into_inner();
        let elapsed = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            answer.imported_count as usize == people,
            "imported {} of {people}; first rejection {:?}",
            answer.imported_count,
            answer.rejected.first()
        );
        let run_ids: Vec<i64> =
            answer.people.iter().filter_map(|name| name.strip_prefix("people/")?.parse().ok()).collect();
        let (first, last) = (run_ids.iter().min().copied().unwrap_or(0), run_ids.iter().max().copied().unwrap_or(0));
        anyhow::ensure!(last - first + 1 == i64::try_from(people)?, "the imported ids are not one range");
        let rows = rows_of(&mut raw, first, last).await?;
        let copy = copy_seconds(&mut raw, &rows).await?;
        let real = copy_real_seconds(&mut raw, &rows, first, last).await?;
        import_rates.push(people as f64 / elapsed);
        copy_rates.push(people as f64 / copy);
        real_rates.push(people as f64 / real);
        ids.extend(run_ids);
    }
    let (import, copy, real) = (median(import_rates.clone()), median(copy_rates.clone()), median(real_rates.clone()));
    println!("ImportPeople: {import:.0} people/s (runs: {})", show(&import_rates));
    println!("COPY into bare tables: {copy:.0} people/s (runs: {})", show(&copy_rates));
    println!("COPY into the real tables: {real:.0} people/s (runs: {})", show(&real_rates));
    println!("ImportPeople / COPY = {:.3} (target ≥ 0.3)", import / copy);
    println!(
        "COPY into the real tables / COPY = {:.3}; ImportPeople / COPY into the real tables = {:.3}",
        real / copy,
        import / real
    );

    // GetPerson against pgbench -S and a bare tonic service.
    let scratch = create_database(&admin, "hrplan_pace_pgbench").await?;
    let out = std::process::Command::new("pgbench").args(["-i", "-q", &scratch]).output()?;
    anyhow::ensure!(out.status.success(), "pgbench -i failed: {}", String::from_utf8_lossy(&out.stderr));
    let ids = Arc::new(ids);
    let echo = echo_server().await?;
    let point_read = point_read_server(&scratch, pool, false).await?;
    let point_read_write = point_read_server(&scratch, pool, true).await?;
    let province = top_of(&db, &locality).await?;
    // The same database served again, reads audited with asynchronous commits.
    let mut config = ServerConfig::new(url.clone());
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.database_max_connections = pool;
    config.audit_reads_async_commit = true;
    let async_app = Application::build(config).await?;
    let async_addr = async_app.local_addr();
    let (stop_async, stopped_async) = tokio::sync::oneshot::channel::<()>();
    let async_server = tokio::spawn(async_app.run_until(async {
        stopped_async.await.ok();
    }));
    let callers = [
        ("national, audited", addr, token(&["*"], &[Role::PersonalDataReader])?),
        ("scoped to its province, audited", addr, token(&[province.as_str()], &[Role::PersonalDataReader])?),
        ("national, audit commits async", async_addr, token(&["*"], &[Role::PersonalDataReader])?),
    ];
    let (mut pg, mut bare, mut reads, mut read_writes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut gets = vec![Vec::new(); callers.len()];
    for _ in 0..runs {
        pg.push(pgbench(&admin, in_flight, seconds)?);
        bare.push(health_rate(echo, in_flight, seconds).await?);
        reads.push(health_rate(point_read, in_flight, seconds).await?);
        read_writes.push(health_rate(point_read_write, in_flight, seconds).await?);
        for ((_, addr, token), rates) in callers.iter().zip(&mut gets) {
            let (ids, token) = (Arc::clone(&ids), token.clone());
            rates.push(
                throughput(*addr, in_flight, seconds, move |channel| {
                    let client = PersonServiceClient::with_interceptor(channel, with(token.clone()));
                    let ids = Arc::clone(&ids);
                    Ok(move |i: usize| {
                        let mut client = client.clone();
                        let name = format!("people/{}", ids[(i * 7919) % ids.len()]);
                        async move {
                            let person = client
                                .get_person(pb::GetPersonRequest { name, ..Default::default() })
                                .await?
                                .into_inner()
                                .person;
                            anyhow::ensure!(person.is_some(), "GetPerson answered no person");
                            anyhow::Ok(())
                        }
                    })
                })
                .await?,
            );
        }
    }
    let (pg_rate, bare_rate) = (median(pg.clone()), median(bare.clone()));
    println!("pgbench -S -c {in_flight} -j 2: {pg_rate:.0} tps (runs: {})", show(&pg));
    println!("bare tonic (health check): {bare_rate:.0} calls/s (runs: {})", show(&bare));
    let (read_rate, read_write_rate) = (median(reads.clone()), median(read_writes.clone()));
    println!(
        "tonic + one SELECT through a pool of {pool}: {read_rate:.0} calls/s (runs: {}); / pgbench -S = {:.3}",
        show(&reads),
        read_rate / pg_rate
    );
    println!(
        "tonic + SELECT + INSERT committed on its own: {read_write_rate:.0} calls/s (runs: {}); / pgbench -S = {:.3}",
        show(&read_writes),
        read_write_rate / pg_rate
    );
    for ((caller, _, _), rates) in callers.iter().zip(gets) {
        let rate = median(rates.clone());
        println!(
            "GetPerson, personal_data_reader {caller}: {rate:.0} calls/s (runs: {}); / pgbench -S = {:.3} \
             (target ≥ 0.5); / bare tonic = {:.3}",
            show(&rates),
            rate / pg_rate,
            rate / bare_rate
        );
    }
    stop.send(()).ok();
    stop_async.send(()).ok();
    server.await??;
    async_server.await??;
    Ok(())
}
