//! The report engine alone, without a database or gRPC: builds the columns of a
//! synthetic national workforce (34 provinces, about 3,300 communes, 2.5 million people
//! with two or three periods of facts each), then times the workforce profile's
//! aggregation for the whole country, a province and a commune, next to a baseline
//! measured in the same run: a bare pass over a packed column of as many rows, summing
//! one field (the floor no aggregation can beat). Also prints the memory the columns
//! take (VmRSS before and after building them).
//!
//! ```sh
//! cargo bench --bench engine                         # 2.5 million people
//! HRPLAN_BENCH_PEOPLE=250000 cargo bench --bench engine
//! ```

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use hrplan::reports::{
    engine::{
        columns::{Columns, Fact},
        scan::{self, Scope},
    },
    queries::{Population, TreeNode, workforce::ScaleLevels},
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn time(iterations: usize, mut f: impl FnMut() -> i64) -> (Duration, i64) {
    let mut check = f();
    let times = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            check = std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    (median(times), check)
}

fn main() -> anyhow::Result<()> {
    let people: u64 = std::env::var("HRPLAN_BENCH_PEOPLE").ok().and_then(|n| n.parse().ok()).unwrap_or(2_500_000);
    let provinces = 34_u64;
    let communes_per_province = 98_u64;
    let before = rss_mb();
    let mut rng = Rng(0x5EED);
    let levels =
        ["professional=university", "professional=master", "political_theory=advanced,professional=university"];
    let mut columns = Columns::default();
    let started = Instant::now();
    let mut rows = 0_u64;
    for person in 0..people {
        let province = rng.below(provinces);
        // Three in ten at the province's own agencies, the rest in its communes.
        let locality = if rng.below(10) < 3 {
            format!("{:02}", province + 1)
        } else {
            format!("{:05}", province * communes_per_province + rng.below(communes_per_province) + 1)
        };
        let periods = 2 + rng.below(2);
        let mut from = day(2010 + i32::try_from(rng.below(8)).unwrap_or(0), 1, 1);
        for p in 0..periods {
            let until = if p + 1 == periods { day(9999, 12, 31) } else { day(from.year() + 3, 1, 1) };
            columns
                .push(&Fact {
                    person_id: i64::try_from(person).unwrap_or(0),
                    valid_from: from,
                    valid_until: until,
                    locality_code: locality.clone(),
                    unit_id: i64::try_from(province).unwrap_or(0),
                    sector: "education".into(),
                    category: ["cadre", "civil_servant", "public_employee"][usize::try_from(rng.below(3)).unwrap_or(0)]
                        .into(),
                    is_leader: rng.below(10) == 0,
                    is_key_post: rng.below(30) == 0,
                    post_title_folded: "chuyen vien".into(),
                    birth_date: day(1965 + i32::try_from(rng.below(35)).unwrap_or(0), 6, 15),
                    gender: if rng.below(2) == 0 { "male" } else { "female" }.into(),
                    ethnicity: if rng.below(5) == 0 { "Tày" } else { "Kinh" }.into(),
                    levels: levels[usize::try_from(rng.below(3)).unwrap_or(0)].into(),
                    ratings: ",2023=good,2024=excellent,".into(),
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            rows += 1;
            from = until;
        }
    }
    columns.shrink_to_fit();
    let built = started.elapsed();
    let after = rss_mb();
    println!(
        "columns: {people} people, {rows} rows, built in {:.1} s, {:.0} MB ({:.0} MB before, {:.0} MB after)",
        built.as_secs_f64(),
        after - before,
        before,
        after
    );

    let as_of = day(2024, 6, 30);
    let node = |code: String, grp: String| TreeNode { code, grp, tagged: 0 };
    let province_tree = |p: u64| -> Vec<TreeNode> {
        let root = format!("{:02}", p + 1);
        let mut nodes = vec![node(root.clone(), root.clone())];
        for c in 0..communes_per_province {
            let code = format!("{:05}", p * communes_per_province + c + 1);
            nodes.push(node(code.clone(), code));
        }
        nodes
    };
    let population = |root: Option<&str>, tree: Vec<TreeNode>| Population {
        by_child: true,
        tree: Some((as_of, tree)),
        ..Population::whole(root.map(|r| hrplan::domain::locality::Code::from_db(r.to_owned())), as_of)
    };
    let country: Vec<TreeNode> = (0..provinces)
        .flat_map(|p| {
            let grp = format!("{:02}", p + 1);
            province_tree(p).into_iter().map(move |n| TreeNode { grp: grp.clone(), ..n })
        })
        .collect();
    let scale_levels = ScaleLevels::new();
    let iterations = 21;

    // The floor: one pass summing a packed column of as many rows.
    let packed: Vec<i32> = (0..rows).map(|i| i32::try_from(i % 7).unwrap_or(0)).collect();
    let (floor, _) = time(iterations, || packed.iter().map(|v| i64::from(*v)).sum());
    println!("floor: a pass over {rows} packed rows: {:.2} ms (median of {iterations})", floor.as_secs_f64() * 1e3);

    for (label, population) in [
        ("the whole country", population(None, country)),
        ("a province", population(Some("01"), province_tree(0))),
        ("a commune", population(Some("00001"), vec![node("00001".into(), "00001".into())])),
    ] {
        let scope = Scope::new(&columns, &population).ok_or_else(|| anyhow::anyhow!("no scope"))?;
        let (profile, n) = time(iterations, || {
            scan::workforce_counts(&columns, &scope, as_of, &scale_levels).values().map(|g| g.heads.headcount).sum()
        });
        let (compliance, _) =
            time(iterations, || i64::try_from(scan::post_rows(&columns, &scope, &[]).len()).unwrap_or(0));
        let (evaluations, _) = time(iterations, || scan::evaluation_counts(&columns, &scope, 2020, 2024).0);
        println!(
            "{label} ({n} people in force): profile {:.2} ms, compliance groups {:.2} ms, evaluations {:.2} ms (medians of {iterations})",
            profile.as_secs_f64() * 1e3,
            compliance.as_secs_f64() * 1e3,
            evaluations.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
