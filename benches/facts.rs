//! Person-fact upkeep at scale: generates N people on the demo tree (a placement in a
//! commune's people's committee, three or four qualifications, ratings), then times
//!
//! - the import: `insert_records` in transactions of 10,000 people, facts built by the
//!   flush at commit, in people/s;
//! - a rebuild of everybody: every person marked pending, then `facts::catch_up`, in
//!   people/s (median of 3);
//! - a scale-rank change that flips the highest level of nearly everybody (every
//!   person holds elementary vocational training, raised above every other level and
//!   back): the `UPDATE` and the flush in one transaction, in seconds (median of 3),
//!   with the number of people it rebuilt;
//! - a one-person write (an `UPDATE` of a person and the flush), p50 over 200, before
//!   and right after the rank changes, whose marks leave dead rows behind on
//!   PostgreSQL until vacuum;
//!
//! and checks at the end that the facts are in step with the records.
//!
//! ```sh
//! cargo bench --bench facts                      # SQLite, 250,000 people
//! HRPLAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench facts
//! HRPLAN_BENCH_PEOPLE=20000 cargo bench --bench facts
//! ```
//! `HRPLAN_BENCH_KEEP=1` keeps the database (its name is printed) for EXPLAIN.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use hrplan::{
    context::{Principal, RequestContext},
    domain::locality::{Code, Tier},
    people::{
        queries::{NewRecord, insert_records},
        rules::person::{Category, Gender, PersonFields, PlacementFields, QualificationFields, Rating},
    },
    store,
    units::{Sector, UnitFields, UnitKind, usecases::create, wire::CreateUnit},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

fn day(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow::anyhow!("bad date"))
}

/// A small deterministic generator (xorshift), so that runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or_default()
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// One write of one person and its flush, as a request's commit runs it; its duration.
async fn one_write(db: &DatabaseConnection, person: i64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let txn = store::begin_write(db).await?;
    txn.execute_raw(store::stmt(
        db.get_database_backend(),
        "UPDATE people SET ethnicity = ethnicity WHERE id = ?",
        vec![person.into()],
    ))
    .await?;
    store::commit_background(txn).await?;
    Ok(started.elapsed())
}

async fn write_p50(db: &DatabaseConnection, people: &[i64]) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for i in 0..200 {
        let person = people[(i * 7919) % people.len()];
        times.push(one_write(db, person).await?.as_secs_f64() * 1000.0);
    }
    Ok(median(times))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let people: usize = std::env::var("HRPLAN_BENCH_PEOPLE").ok().and_then(|n| n.parse().ok()).unwrap_or(250_000);
    let keep = std::env::var("HRPLAN_BENCH_KEEP").is_ok_and(|v| v == "1");
    let name = format!("hrplan_bench_facts_{}", std::process::id());
    let (url, backend) = if let Ok(admin) = std::env::var("HRPLAN_BENCH_POSTGRES_URL") {
        let conn = Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
        let (base, _) = admin.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("the admin URL names no database"))?;
        (format!("{base}/{name}"), "PostgreSQL")
    } else {
        let path = std::env::temp_dir().join(format!("{name}.db"));
        (format!("sqlite://{}?mode=rwc", path.display()), "SQLite")
    };
    println!("database {url} ({backend})");
    let db = store::connect(&url, 4).await?;
    store::migrate(&db).await?;
    hrplan::demo::load_tree(&db).await?;
    let sqlite = backend == "SQLite";

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
    let mut units: Vec<i64> = Vec::new();
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
        units.push(unit.name.id());
    }
    anyhow::ensure!(!units.is_empty(), "no commune in force on {as_of}");

    // Everybody holds elementary vocational training from 2005 and one higher
    // professional level from 2012, political theory and state management awarded
    // during their placement: two or three periods of facts each.
    let professional = ["university", "university", "university", "college", "master", "intermediate"];
    let political = ["advanced", "intermediate", "elementary"];
    let management = ["principal_specialist", "specialist", "officer"];
    let categories = [Category::Cadre, Category::CivilServant, Category::PublicEmployee];
    let mut rng = Rng(20_261_201);
    let started = Instant::now();
    let mut ids: Vec<i64> = Vec::with_capacity(people);
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..people {
        let unit_id = units[rng.below(units.len())];
        let qualification = |scale: &str, level: &str, on: NaiveDate| QualificationFields {
            scale: scale.into(),
            level: level.into(),
            field_of_study: String::new(),
            institution: String::new(),
            awarded_on: on,
        };
        let during = |rng: &mut Rng| day(2018 + i32::try_from(rng.below(7)).unwrap_or_default(), 3, 1);
        let born = day(1965 + i32::try_from(rng.below(35)).unwrap_or_default(), 5, 1)?;
        batch.push(NewRecord {
            person: PersonFields {
                full_name: format!("Người thử {i}"),
                birth_date: born,
                gender: if rng.below(100) < 45 { Gender::Female } else { Gender::Male },
                ethnicity: if rng.below(100) < 30 { "Tày".into() } else { "Kinh".into() },
                category: categories[rng.below(categories.len())],
                employed_from: day(2010, 1, 1)?,
                employed_until: None,
                end_reason: None,
            },
            placements: vec![PlacementFields {
                unit_id,
                post_title: "Công chức".into(),
                leader: rng.below(100) < 9,
                key_post: false,
                valid_from: day(2020, 1, 1)?,
                valid_until: None,
            }],
            qualifications: vec![
                qualification("professional", "elementary", day(2005, 6, 30)?),
                qualification("professional", professional[rng.below(professional.len())], day(2012, 6, 30)?),
                qualification("political_theory", political[rng.below(political.len())], during(&mut rng)?),
                qualification("state_management", management[rng.below(management.len())], during(&mut rng)?),
            ],
            evaluations: vec![(2023, Rating::Good), (2024, Rating::Excellent)],
        });
        if batch.len() == 10_000 || i + 1 == people {
            let txn = store::begin_write(&db).await?;
            ids.extend(insert_records(&txn, &batch).await.map_err(|e| anyhow::anyhow!("{e}"))?);
            store::commit_background(txn).await?;
            batch.clear();
        }
    }
    let import = started.elapsed().as_secs_f64();
    println!(
        "import: {people} people, facts built at commit, in {import:.1} s: {:.0} people/s ({backend})",
        people as f64 / import
    );
    db.execute_unprepared(if sqlite { "ANALYZE" } else { "VACUUM ANALYZE" }).await?;

    let before = write_p50(&db, &ids).await?;
    println!("one-person write p50 before: {before:.2} ms");

    let mut rates = Vec::new();
    for _ in 0..3 {
        db.execute_unprepared("INSERT INTO person_facts_pending (person_id) SELECT id FROM people").await?;
        let started = Instant::now();
        let n = hrplan::facts::catch_up(&db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let rate = n as f64 / started.elapsed().as_secs_f64();
        println!("  catch_up rebuilt {n} people in {:.2} s: {rate:.0} people/s", started.elapsed().as_secs_f64());
        rates.push(rate);
    }
    println!("rebuild (catch_up of everybody), median of 3: {:.0} people/s", median(rates));

    let mut times = Vec::new();
    for rank in [80, 20, 80] {
        let started = Instant::now();
        let txn = store::begin_write(&db).await?;
        txn.execute_raw(store::stmt(
            db.get_database_backend(),
            "UPDATE scale_levels SET rank = ? WHERE scale_code = 'professional' AND code = 'elementary'",
            vec![rank.into()],
        ))
        .await?;
        let n = hrplan::facts::flush(&txn).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        store::commit_background(txn).await?;
        let took = started.elapsed().as_secs_f64();
        println!("  rank of professional/elementary to {rank}: {n} people rebuilt in {took:.2} s");
        times.push(took);
    }
    println!("scale-rank change, median of 3: {:.2} s", median(times));

    let after = write_p50(&db, &ids).await?;
    println!("one-person write p50 right after the rank changes: {after:.2} ms ({:.1}× before)", after / before);

    let (stored, derived) = hrplan::facts::stored_and_derived(&db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(stored == derived, "the person facts are out of step after the benchmark");
    println!("facts in step: {} periods", stored.len());

    db.close().await?;
    if !keep {
        if let Ok(admin) = std::env::var("HRPLAN_BENCH_POSTGRES_URL") {
            let conn = Database::connect(admin.as_str()).await?;
            conn.execute_unprepared(&format!("DROP DATABASE {name}")).await?;
        } else {
            std::fs::remove_file(std::env::temp_dir().join(format!("{name}.db"))).ok();
        }
    }
    Ok(())
}
