//! Spawning the server for a test, clients with tokens, fixtures and database snapshots.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use hrplan::{
    auth::{KeyConfig, Role, mint_hs256},
    config::ServerConfig,
    grpc::pb::{self},
    reports::engine::Engine,
    startup::Application,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tokio::sync::oneshot;
use tonic::{Code, Response, Status, transport::Channel};

/// The HS256 secret of every test server.
pub const SECRET: &[u8] = b"hrplan-test-secret-0123456789abcdef";

pub use hrplan::cli::client::Bearer;

/// An interceptor presenting `token` (or none), for clients of any service.
pub fn bearer(token: Option<String>) -> Bearer {
    Bearer::new(token.as_deref()).expect("ascii token")
}

/// A running server and what a test needs to reach it.
pub struct TestApp {
    /// The database's URL.
    pub url: String,
    /// The server's address.
    pub addr: SocketAddr,
    /// A channel to it.
    pub channel: Channel,
    /// A connection of the test's own to the server's database.
    pub db: DatabaseConnection,
    /// The server's own pool (closing it makes the database unreachable for the server).
    pub server_db: DatabaseConnection,
    /// The server's report engine, if it aggregates reports in memory.
    pub engine: Option<Engine>,
    shutdown: Option<oneshot::Sender<()>>,
    sqlite_path: Option<PathBuf>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("hrplan_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Creates an empty database for one test on `backend`, or on the backend
/// `HRPLAN_TEST_BACKEND` names: `(url, sqlite file to remove)`.
pub async fn fresh_database(backend: Option<&str>) -> (String, Option<PathBuf>) {
    let named = std::env::var("HRPLAN_TEST_BACKEND");
    match backend.map_or(named.as_deref().map_err(|_| ()), Ok) {
        Ok("postgres") => {
            let admin = std::env::var("HRPLAN_TEST_POSTGRES_URL")
                .expect("HRPLAN_TEST_BACKEND=postgres needs HRPLAN_TEST_POSTGRES_URL (an admin URL)");
            let name = unique_name();
            let conn = Database::connect(admin.as_str()).await.expect("connecting to the PostgreSQL admin URL");
            conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("creating the test database");
            conn.close().await.ok();
            let (base, _) = admin.rsplit_once('/').expect("the admin URL names a database");
            (format!("{base}/{name}"), None)
        }
        Ok("sqlite") | Err(_) => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
            (format!("sqlite://{}?mode=rwc", path.display()), Some(path))
        }
        Ok(other) => panic!("unknown HRPLAN_TEST_BACKEND `{other}`; expected sqlite or postgres"),
    }
}

/// Spawns a server with an HS256 key and an empty, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns a server after `configure` adjusts its configuration.
pub async fn spawn_app_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    spawn_on(None, configure).await
}

/// Spawns a server on SQLite whatever `HRPLAN_TEST_BACKEND` says, to compare backends.
pub async fn spawn_sqlite_app() -> TestApp {
    spawn_on(Some("sqlite"), |_| {}).await
}

async fn spawn_on(backend: Option<&str>, configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    // HRPLAN_TEST_LOG=error (or any filter) shows the server's logs, e.g. the cause
    // of an INTERNAL answer.
    if let Ok(filter) = std::env::var("HRPLAN_TEST_LOG") {
        hrplan::telemetry::init(&filter);
    }
    let (url, sqlite_path) = fresh_database(backend).await;
    spawn_app_on(url, sqlite_path, configure).await
}

/// Spawns a server on the database at `url` (a SQLite file to remove with the app, if
/// any) after `configure` adjusts its configuration.
pub async fn spawn_app_on(
    url: String,
    sqlite_path: Option<PathBuf>,
    configure: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let mut config = ServerConfig::new(url.clone());
    config.keys = KeyConfig::Hs256(SECRET.to_vec());
    config.health_probe_interval = Duration::from_millis(100);
    configure(&mut config);
    let app = Application::build(config).await.expect("building the application");
    let addr = app.local_addr();
    let server_db = app.db().clone();
    let engine = app.engine().cloned();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async {
            rx.await.ok();
        })
        .await
        .expect("server failed");
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("valid uri")
        .connect()
        .await
        .expect("connecting to the test server");
    let db = Database::connect(url.as_str()).await.expect("connecting to the test database");
    // Reports are meant to come from the engine, so the tests wait for it to load
    // (bounded: a test of an unreachable database goes on without it).
    if let Some(engine) = &engine {
        let loading = async {
            while !engine.is_loaded() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), loading).await.ok();
    }
    TestApp { url, addr, channel, db, server_db, engine, shutdown: Some(tx), sqlite_path }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
            }
        }
    }
}

/// A token for the test server.
pub fn token(localities: &[&str], roles: &[Role]) -> String {
    let localities: Vec<String> = localities.iter().map(|s| (*s).to_owned()).collect();
    mint_hs256(SECRET, "tester", &localities, roles, Duration::from_secs(600)).expect("minting a token")
}

impl TestApp {
    /// Loads the demo tree (provinces 01, 11, 20; the 2025 reorganisation), without
    /// the demo workforce.
    pub async fn load_demo(&self) {
        assert!(hrplan::demo::load_tree(&self.db).await.expect("loading the demo tree"));
    }

    /// Every row of every table (migration bookkeeping aside), as text, in a stable
    /// order: equal snapshots mean an unchanged database. Each row reads
    /// `table: value | value | …`: for the tables below, their identifying and
    /// meaningful columns in this order (surrogate ids of versions left out, so that
    /// rows read the same whatever order they were written in); for every other table,
    /// all its columns in table order.
    pub async fn snapshot(&self) -> Vec<String> {
        let chosen: [(&str, &[&str]); 15] = [
            ("localities", &["code", "tier", "revision", "update_time"]),
            ("locality_versions", &["code", "valid_from", "valid_until", "name", "name_folded", "kind", "parent_code"]),
            ("locality_tags", &["code", "tag"]),
            ("locality_links", &["predecessor_code", "successor_code", "kind", "effective_date"]),
            ("request_log", &["method", "request_id", "fingerprint", "resource"]),
            ("audit_log", &["id", "subject", "method", "resource"]),
            ("units", &["id", "locality_code", "name", "sector", "kind", "valid_from", "valid_until", "revision"]),
            ("scale_levels", &["scale_code", "code", "rank", "name", "english_name"]),
            (
                "people",
                &[
                    "id",
                    "full_name",
                    "birth_date",
                    "category",
                    "employed_from",
                    "employed_until",
                    "personal_id",
                    "staff_code",
                    "staff_code_key",
                    "revision",
                ],
            ),
            ("placements", &["id", "person_id", "unit_id", "post_title", "valid_from", "valid_until", "revision"]),
            ("qualifications", &["id", "person_id", "scale_code", "level_code", "awarded_on", "revision"]),
            ("evaluations", &["person_id", "year", "rating", "revision"]),
            ("disciplines", &["id", "person_id", "sanction", "decided_on", "revision"]),
            ("standards", &["id", "name", "effective_from", "effective_until", "revision"]),
            ("standard_minimums", &["standard_id", "scale_code", "level_code"]),
        ];
        let backend = self.db.get_database_backend();
        let query = |sql: String| Statement::from_string(backend, sql);
        let tables_sql = match backend {
            DbBackend::Postgres => "SELECT table_name AS name FROM information_schema.tables \
                                    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                .to_owned(),
            _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'".to_owned(),
        };
        let mut rows = Vec::new();
        for table in self.db.query_all_raw(query(tables_sql)).await.expect("listing the tables") {
            let table: String = table.try_get("", "name").expect("table name");
            if table == "seaql_migrations" {
                continue;
            }
            if let Some((_, chosen)) = chosen.iter().find(|(name, _)| *name == table) {
                let columns: Vec<String> = chosen.iter().map(|c| (*c).to_owned()).collect();
                rows.extend(self.rows_of(&table, &columns).await);
                continue;
            }
            let columns_sql = match backend {
                DbBackend::Postgres => format!(
                    "SELECT column_name AS name FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
                ),
                _ => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
            };
            let columns: Vec<String> = self
                .db
                .query_all_raw(query(columns_sql))
                .await
                .expect("listing the columns")
                .iter()
                .map(|row| row.try_get("", "name").expect("column name"))
                .collect();
            rows.extend(self.rows_of(&table, &columns).await);
        }
        rows.sort();
        rows
    }

    /// The rows of `table` as `table: value | value | …` over `columns`.
    async fn rows_of(&self, table: &str, columns: &[String]) -> Vec<String> {
        let cells: Vec<String> = columns.iter().map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), 'NULL')")).collect();
        // Reads of personal data and refused calls are audited even when a request
        // changes nothing: a snapshot compares what requests changed, so it keeps writes.
        let only = if table == "audit_log" { " WHERE kind = 'write'" } else { "" };
        let sql = format!("SELECT {} AS r FROM {table}{only}", cells.join(" || ' | ' || "));
        let statement = Statement::from_string(self.db.get_database_backend(), sql);
        let rows = self.db.query_all_raw(statement).await.expect("snapshot query");
        rows.iter().map(|row| format!("{table}: {}", row.try_get::<String>("", "r").expect("text row"))).collect()
    }
}

/// Runs `call`, asserting that it fails with `code` and leaves the database exactly as
/// it was; returns the status.
pub async fn fails_with<T: std::fmt::Debug>(
    app: &TestApp,
    call: impl Future<Output = Result<Response<T>, Status>>,
    code: Code,
) -> Status {
    let before = app.snapshot().await;
    let status = match call.await {
        Ok(answer) => panic!("expected {code:?}, got {answer:?}"),
        Err(status) => status,
    };
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(app.snapshot().await, before, "a failed request changed the database");
    status
}

/// Runs `call`, asserting INVALID_ARGUMENT with a violation of `field` and an
/// unchanged database; returns the violations as (field, description).
pub async fn rejects<T: std::fmt::Debug>(
    app: &TestApp,
    call: impl Future<Output = Result<Response<T>, Status>>,
    field: &str,
) -> Vec<(String, String)> {
    let status = fails_with(app, call, Code::InvalidArgument).await;
    let violations = field_violations(&status);
    assert!(violations.iter().any(|(f, _)| f == field), "expected a violation of `{field}`, got {violations:?}");
    violations
}

/// A date on the wire.
pub fn date(year: i32, month: i32, day: i32) -> pb::Date {
    pb::Date { year, month, day }
}

/// A version on the wire; `until` and `parent` optional.
pub fn version(
    from: pb::Date,
    until: Option<pb::Date>,
    name: &str,
    kind: pb::LocalityKind,
    parent: &str,
) -> pb::LocalityVersion {
    pb::LocalityVersion {
        valid_from: Some(from),
        valid_until: until,
        display_name: name.to_owned(),
        kind: kind.into(),
        parent: parent.to_owned(),
    }
}

/// A create request for `code` with one open version from 2020-01-01.
pub fn create_request(
    code: &str,
    tier: pb::LocalityTier,
    name: &str,
    kind: pb::LocalityKind,
    parent: &str,
) -> pb::CreateLocalityRequest {
    pb::CreateLocalityRequest {
        locality_id: code.to_owned(),
        locality: Some(pb::Locality {
            tier: tier.into(),
            versions: vec![version(date(2020, 1, 1), None, name, kind, parent)],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Creates Tỉnh Điện Biên (11) with Thành phố Điện Biên Phủ (094: Noong Bua 03124,
/// Nam Thanh 03139) and Huyện Điện Biên (100: Thanh Xương 03334), all from 2020-01-01.
pub async fn seed_dien_bien(client: &mut crate::clients::LocalityClient) {
    use pb::{LocalityKind as K, LocalityTier as T};
    let units = [
        ("11", T::Province, "Tỉnh Điện Biên", K::Province, ""),
        ("094", T::District, "Thành phố Điện Biên Phủ", K::ProvincialCity, "localities/11"),
        ("100", T::District, "Huyện Điện Biên", K::RuralDistrict, "localities/11"),
        ("03124", T::Commune, "Phường Noong Bua", K::Ward, "localities/094"),
        ("03139", T::Commune, "Phường Nam Thanh", K::Ward, "localities/094"),
        ("03334", T::Commune, "Xã Thanh Xương", K::Commune, "localities/100"),
    ];
    for (code, tier, name, kind, parent) in units {
        client.create_locality(create_request(code, tier, name, kind, parent)).await.expect("seeding Điện Biên");
    }
}

/// The code of a failed call, failing the test if the call succeeded.
pub fn code_of<T: std::fmt::Debug>(result: Result<T, Status>) -> Code {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(status) => status.code(),
    }
}

/// The field violations of an INVALID_ARGUMENT status, as (field, description).
pub fn field_violations(status: &Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .map(|br| br.field_violations.iter().map(|v| (v.field.clone(), v.description.clone())).collect())
        .unwrap_or_default()
}

/// The status of a call that must fail with INVALID_ARGUMENT.
pub fn invalid<T: std::fmt::Debug>(result: Result<T, Status>) -> Status {
    match result {
        Ok(value) => panic!("expected INVALID_ARGUMENT, got {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            status
        }
    }
}

/// The display names of a list of localities.
pub fn names(localities: &[pb::Locality]) -> Vec<String> {
    localities.iter().map(|l| l.name.clone()).collect()
}

impl TestApp {
    /// Asserts that the person facts the reports count are in step with the records:
    /// the stored facts equal those derived afresh from every record.
    pub async fn assert_facts_in_step(&self) {
        let (stored, derived) = hrplan::facts::stored_and_derived(&self.db).await.expect("deriving the person facts");
        let missing: Vec<&String> = derived.iter().filter(|l| !stored.contains(l)).collect();
        let stale: Vec<&String> = stored.iter().filter(|l| !derived.contains(l)).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "person facts out of step: missing {missing:#?}, stale {stale:#?}"
        );
        // And the report engine holds exactly the stored facts once caught up.
        if let Some(engine) = &self.engine {
            let (held, stored) = engine.held_and_stored(&self.server_db).await.expect("catching the engine up");
            let missing: Vec<_> = stored.iter().filter(|f| held.binary_search(f).is_err()).collect();
            let stale: Vec<_> = held.iter().filter(|f| stored.binary_search(f).is_err()).collect();
            assert!(
                missing.is_empty() && stale.is_empty() && held.len() == stored.len(),
                "report engine out of step: missing {missing:#?}, stale {stale:#?}"
            );
        }
    }
}

/// Creates, as an admin, a people's committee (state administration) of `locality`
/// named `display_name`, in force from `from` until `until`; returns it.
pub async fn create_unit(
    app: &TestApp,
    locality: &str,
    display_name: &str,
    from: pb::Date,
    until: Option<pb::Date>,
) -> pb::Unit {
    app.as_admin()
        .units()
        .create_unit(pb::CreateUnitRequest {
            unit: Some(pb::Unit {
                display_name: display_name.into(),
                locality: locality.into(),
                sector: pb::Sector::StateAdministration.into(),
                kind: pb::UnitKind::PeoplesCommittee.into(),
                valid_from: Some(from),
                valid_until: until,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("creating a unit")
        .into_inner()
        .unit
        .expect("unit")
}

/// [`create_unit`], returning the unit's name.
pub async fn unit(
    app: &TestApp,
    locality: &str,
    display_name: &str,
    from: pb::Date,
    until: Option<pb::Date>,
) -> String {
    create_unit(app, locality, display_name, from, until).await.name
}

/// [`create_unit`] in force from 2020-01-01.
pub async fn committee_unit(app: &TestApp, locality: &str, display_name: &str, until: Option<pb::Date>) -> pb::Unit {
    create_unit(app, locality, display_name, date(2020, 1, 1), until).await
}

/// Where the official tree import's inputs are: the package's wheel (or its
/// `nested-divisions.json`) and the folder of `splits.json` and `merges.json`.
#[derive(Debug, Clone)]
pub struct OfficialInputs {
    /// The `vietnam-provinces` 0.6.0 wheel, or the JSON file taken out of it.
    pub divisions: PathBuf,
    /// The folder holding `splits.json` and `merges.json`.
    pub admin_units: PathBuf,
}

static OFFICIAL_PACKAGE: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();

/// The inputs of the official tree import, failing the test (never skipping it) with
/// what is missing and how to get it.
///
/// The mapping files are `<repo>/../shared/data/admin-units-2025` (or
/// `HRPLAN_ADMIN_UNITS_2025`); the package is `HRPLAN_VIETNAM_PROVINCES`, or else is
/// downloaded once with pip into `<target dir>/official-data` (into a folder of this
/// process first, then renamed into place, so that parallel test processes never see
/// half a file).
pub fn official_inputs() -> OfficialInputs {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let admin_units = std::env::var_os("HRPLAN_ADMIN_UNITS_2025")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/data/admin-units-2025"));
    for file in ["splits.json", "merges.json"] {
        assert!(
            admin_units.join(file).is_file(),
            "the official tree tests need {}: the mapping files of the 2025 reorganisation (mapping/{file} of \
             https://github.com/dvhcvn/20250701) are looked for in <repo>/../shared/data/admin-units-2025; set \
             HRPLAN_ADMIN_UNITS_2025 to the folder holding splits.json and merges.json",
            admin_units.join(file).display()
        );
    }
    let divisions = match std::env::var_os("HRPLAN_VIETNAM_PROVINCES") {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.exists(),
                "HRPLAN_VIETNAM_PROVINCES={} does not exist; it names the vietnam-provinces 0.6.0 wheel \
                 (`python3 -m pip download --no-deps vietnam-provinces==0.6.0 -d DIR`) or its nested-divisions.json",
                path.display()
            );
            path
        }
        None => match OFFICIAL_PACKAGE.get_or_init(|| download_package(&repo)) {
            Ok(path) => path.clone(),
            Err(message) => panic!("{message}"),
        },
    };
    OfficialInputs { divisions, admin_units }
}

fn download_package(repo: &std::path::Path) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo.join("target"));
    let folder = target.join("official-data");
    let wheel = folder.join(hrplan::cli::official::WHEEL_NAME);
    if wheel.is_file() {
        return Ok(wheel);
    }
    let scratch = folder.join(format!("download-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let output = std::process::Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "vietnam-provinces==0.6.0", "-d"])
        .arg(&scratch)
        .output();
    let downloaded = scratch.join(hrplan::cli::official::WHEEL_NAME);
    let result = match output {
        Ok(output) if output.status.success() && downloaded.is_file() => std::fs::rename(&downloaded, &wheel)
            .map(|()| wheel.clone())
            .map_err(|e| format!("cannot move the downloaded wheel to {}: {e}", wheel.display())),
        Ok(output) => Err(format!("it failed: {}", String::from_utf8_lossy(&output.stderr).trim())),
        Err(e) => Err(format!("python3 could not be started: {e}")),
    };
    std::fs::remove_dir_all(&scratch).ok();
    result.map_err(|why| {
        format!(
            "the official tree tests need the PyPI package vietnam-provinces 0.6.0 (its nested-divisions.json): \
             set HRPLAN_VIETNAM_PROVINCES to its wheel or to that file, or let the tests run \
             `python3 -m pip download --no-deps vietnam-provinces==0.6.0 -d {}`; {why}",
            folder.display()
        )
    })
}

/// A civil servant born in 1985, employed from 2012, placed at `unit` from 2020 with a
/// university degree: the plainest record a test needs.
pub fn person_record(unit: &str, full_name: &str) -> pb::PersonRecord {
    pb::PersonRecord {
        person: Some(pb::Person {
            full_name: full_name.into(),
            birth_date: Some(date(1985, 3, 14)),
            gender: pb::Gender::Male.into(),
            ethnicity: "Kinh".into(),
            category: pb::PersonCategory::CivilServant.into(),
            employed_from: Some(date(2012, 9, 1)),
            ..Default::default()
        }),
        placements: vec![pb::Placement {
            unit: unit.into(),
            post_title: "Công chức Tư pháp - Hộ tịch".into(),
            valid_from: Some(date(2020, 1, 1)),
            ..Default::default()
        }],
        qualifications: vec![pb::Qualification {
            level: "scales/professional/levels/university".into(),
            field_of_study: "Luật".into(),
            awarded_on: Some(date(2010, 6, 30)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// SplitMix64: a small, well-known generator, so that a seed gives the same sequence
/// everywhere without a dependency (the randomised tests share it).
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}
