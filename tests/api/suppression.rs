//! Suppressed report cells stay hidden: for every report RPC that suppresses, every
//! role without the personal-data role, and several scopes and breakdowns of the demo
//! data, the linear equations a response states (each distribution adds up to its
//! headcount, cumulative counts add the cells from the top, a share discloses its
//! denominator, children and own units add up to the total, ...) leave every hidden
//! count undetermined. Checked twice: by the plain attacks (a sum with one unknown,
//! repeated as long as it solves something: subtraction from the total, cumulative
//! differences) and exactly (a hidden value is determined iff its unit vector lies in
//! the row space of the equations restricted to the hidden values).
//!
//! The equations are written from the responses' documented meaning, independently of
//! the server's suppression, and each is first checked against the full figures a
//! personal-data reader gets, so that the test only uses sums that really hold.

use std::collections::{BTreeMap, BTreeSet};

use hrplan::{auth::Role, grpc::pb};

use crate::clients::Caller;
use crate::helpers::{date, spawn_app_with};

/// The suppression threshold the server runs with.
const THRESHOLD: i64 = 5;

/// One cell as a response shows it.
#[derive(Debug, Clone, Copy)]
struct Shown {
    count: i64,
    cumulative: Option<i64>,
    denominator: i64,
    percent: f64,
    cumulative_percent: f64,
    suppressed: bool,
}

/// What a response states: its cells, and linear equations over their values (a value
/// is `cell#count` or `cell#cumulative`): Σ coefficient × value = constant.
#[derive(Debug, Default)]
struct Stated {
    cells: BTreeMap<String, Shown>,
    equations: Vec<(Vec<(String, i128)>, i128)>,
    /// (cell, the value its denominator is): a shown denominator discloses that value.
    shares: Vec<(String, String)>,
}

impl Stated {
    fn cell(&mut self, path: &str, cell: &pb::Cell, cumulative: bool) {
        let shown = Shown {
            count: cell.count,
            cumulative: cumulative.then_some(cell.cumulative_count),
            denominator: cell.denominator,
            percent: cell.percent,
            cumulative_percent: cell.cumulative_percent,
            suppressed: cell.suppressed,
        };
        self.cells.insert(path.to_owned(), shown);
    }

    fn share(&mut self, path: &str, cell: &pb::Cell, denominator: &str) {
        self.cell(path, cell, false);
        self.shares.push((path.to_owned(), format!("{denominator}#count")));
    }

    /// parts add up to a public number.
    fn sum_public(&mut self, parts: Vec<String>, total: i64) {
        self.equations.push((parts.into_iter().map(|p| (p, 1)).collect(), i128::from(total)));
    }

    /// parts add up to a value.
    fn sum(&mut self, parts: Vec<String>, total: String) {
        let mut terms: Vec<(String, i128)> = parts.into_iter().map(|p| (p, 1)).collect();
        terms.push((total, -1));
        self.equations.push((terms, 0));
    }

    fn distribution(&mut self, prefix: &str, cells: &[pb::Cell], headcount: i64, ordered: bool) {
        let last = cells.len().saturating_sub(1);
        let mut previous: Option<String> = None;
        for (i, c) in cells.iter().enumerate() {
            let path = format!("{prefix}/{}", c.key);
            // The last cell's cumulative count is the headcount itself.
            self.cell(&path, c, ordered && i < last);
            if ordered {
                let parts: Vec<String> = previous.iter().cloned().chain([format!("{path}#count")]).collect();
                if i < last {
                    self.sum(parts, format!("{path}#cumulative"));
                    previous = Some(format!("{path}#cumulative"));
                } else {
                    self.sum_public(parts, headcount);
                }
            }
        }
        self.sum_public(cells.iter().map(|c| format!("{prefix}/{}#count", c.key)).collect(), headcount);
    }

    /// The values under `prefix/`, by what follows the prefix.
    fn values_under(&self, prefix: &str) -> BTreeMap<String, String> {
        let start = format!("{prefix}/");
        let mut out = BTreeMap::new();
        for (path, shown) in &self.cells {
            if let Some(rest) = path.strip_prefix(&start) {
                out.insert(format!("{rest}#count"), format!("{path}#count"));
                if shown.cumulative.is_some() {
                    out.insert(format!("{rest}#cumulative"), format!("{path}#cumulative"));
                }
            }
        }
        out
    }

    /// The groups under `parts` add up to the group under `total`, value by value (a
    /// value a group does not list is 0 there).
    fn across(&mut self, total: &str, parts: &[String]) {
        let parts: Vec<BTreeMap<String, String>> = parts.iter().map(|p| self.values_under(p)).collect();
        for (rest, value) in self.values_under(total) {
            self.sum(parts.iter().filter_map(|p| p.get(&rest).cloned()).collect(), value);
        }
    }

    fn value(&self, path: &str) -> Option<i64> {
        let (cell, which) = path.split_once('#').expect("a value path");
        let shown = self.cells.get(cell).unwrap_or_else(|| panic!("no cell {cell}"));
        if shown.suppressed {
            return None;
        }
        Some(if which == "count" { shown.count } else { shown.cumulative.expect("a cumulative count") })
    }

    fn truth(&self, path: &str) -> i64 {
        let (cell, which) = path.split_once('#').expect("a value path");
        let shown = self.cells.get(cell).unwrap_or_else(|| panic!("no cell {cell}"));
        assert!(!shown.suppressed, "the personal-data reader sees {cell} suppressed");
        if which == "count" { shown.count } else { shown.cumulative.expect("a cumulative count") }
    }
}

fn profile(st: &mut Stated, prefix: &str, p: &pb::WorkforceProfile) {
    if let Some(leaders) = &p.leaders {
        st.cell(&format!("{prefix}/leaders"), leaders, false);
    }
    for d in &p.distributions {
        st.distribution(
            &format!("{prefix}/{}", d.dimension),
            &d.cells,
            p.headcount,
            d.dimension.starts_with("scales/"),
        );
    }
}

/// The groups of a response with a breakdown: total, children and own units, each under
/// its prefix; the children and own units add up to the total.
fn groups<T>(
    st: &mut Stated,
    prefix: &str,
    total: Option<&T>,
    children: &[T],
    own: Option<&T>,
    additive: bool,
    mut add: impl FnMut(&mut Stated, &str, &T),
) {
    if let Some(t) = total {
        add(st, &format!("{prefix}/total"), t);
    }
    let mut parts = Vec::new();
    for (i, c) in children.iter().enumerate() {
        parts.push(format!("{prefix}/child{i}"));
        add(st, &format!("{prefix}/child{i}"), c);
    }
    if let Some(o) = own {
        parts.push(format!("{prefix}/own"));
        add(st, &format!("{prefix}/own"), o);
    }
    if additive && !parts.is_empty() {
        st.across(&format!("{prefix}/total"), &parts);
    }
}

fn profile_response(st: &mut Stated, prefix: &str, r: &pb::GetWorkforceProfileResponse) {
    groups(st, prefix, r.total.as_ref(), &r.children, r.own_units.as_ref(), true, profile);
}

fn comparison(st: &mut Stated, r: &pb::CompareWorkforceProfilesResponse) {
    let (base, other) = (r.base.as_ref().expect("base"), r.other.as_ref().expect("other"));
    profile_response(st, "base", base);
    profile_response(st, "other", other);
    let delta = |st: &mut Stated, path: &str, d: &pb::CellDelta| {
        if d.suppressed {
            assert!(d.count_delta == 0 && d.percentage_point_delta == 0.0, "{path}: a hidden delta shows a number");
        } else {
            let terms = vec![(format!("other/total/{path}#count"), 1), (format!("base/total/{path}#count"), -1)];
            st.equations.push((terms, i128::from(d.count_delta)));
        }
    };
    if let Some(d) = &r.leaders_delta {
        delta(st, "leaders", d);
    }
    for dd in &r.distribution_deltas {
        for d in &dd.cells {
            delta(st, &format!("{}/{}", dd.dimension, d.key), d);
        }
    }
}

fn evaluations(st: &mut Stated, r: &pb::SummarizeEvaluationsResponse) {
    for y in &r.years {
        let prefix = format!("year{}", y.year);
        st.distribution(&prefix, &y.cells, r.headcount, true);
        if let Some(g) = &y.good_or_better {
            st.cell(&format!("{prefix}/good_or_better"), g, false);
            st.sum(vec![format!("{prefix}/good#cumulative")], format!("{prefix}/good_or_better#count"));
        }
    }
}

fn compliance_group(st: &mut Stated, prefix: &str, g: &pb::ComplianceSummary) {
    let pair = |st: &mut Stated, prefix: &str, with: &Option<pb::Cell>, meeting: &Option<pb::Cell>| {
        if let Some(w) = with {
            st.cell(&format!("{prefix}/with_standard"), w, false);
        }
        if let Some(m) = meeting {
            st.share(&format!("{prefix}/meeting"), m, &format!("{prefix}/with_standard"));
        }
    };
    pair(st, prefix, &g.with_standard, &g.meeting);
    for b in &g.breakdown {
        pair(st, &format!("{prefix}/post{}-{}", b.tier, b.category), &b.with_standard, &b.meeting);
    }
    // When everybody has a tier and a category, the breakdown adds up to the group.
    if g.breakdown.iter().map(|b| b.headcount).sum::<i64>() == g.headcount {
        for figure in ["with_standard", "meeting"] {
            let parts =
                g.breakdown.iter().map(|b| format!("{prefix}/post{}-{}/{figure}#count", b.tier, b.category)).collect();
            st.sum(parts, format!("{prefix}/{figure}#count"));
        }
    }
    for m in &g.missed_minimums {
        st.share(&format!("{prefix}/missed/{}", m.key), m, &format!("{prefix}/with_standard"));
    }
}

fn compliance(st: &mut Stated, r: &pb::GetStandardComplianceResponse) {
    groups(st, "c", r.total.as_ref(), &r.children, r.own_units.as_ref(), true, compliance_group);
}

const TRAINING_FIGURES: [&str; 5] = ["under_way", "started", "completed", "discontinued", "in_progress"];

fn training_group(st: &mut Stated, prefix: &str, g: &pb::TrainingSummary) {
    for line in &g.programmes {
        let p = format!("{prefix}/{}", line.key);
        if let Some(u) = &line.under_way {
            st.cell(&format!("{p}/under_way"), u, false);
        }
        let dependents = [&line.started, &line.completed, &line.discontinued, &line.in_progress];
        for (name, cell) in TRAINING_FIGURES.iter().skip(1).zip(dependents) {
            if let Some(c) = cell {
                st.share(&format!("{p}/{name}"), c, &format!("{p}/under_way"));
            }
        }
        st.sum(
            ["completed", "discontinued", "in_progress"].iter().map(|f| format!("{p}/{f}#count")).collect(),
            format!("{p}/under_way#count"),
        );
    }
    let keys: BTreeSet<&str> = g.programmes.iter().map(|l| l.key.as_str()).collect();
    for figure in TRAINING_FIGURES {
        if keys.contains("all") && keys.contains("degree") && keys.contains("refresher") {
            let parts = vec![format!("{prefix}/degree/{figure}#count"), format!("{prefix}/refresher/{figure}#count")];
            st.sum(parts, format!("{prefix}/all/{figure}#count"));
        }
        for scale in g.programmes.iter().filter(|l| l.level.is_empty() && l.key.starts_with("scales/")) {
            let levels = g
                .programmes
                .iter()
                .filter(|l| !l.level.is_empty() && l.scale == scale.key)
                .map(|l| format!("{prefix}/{}/{figure}#count", l.key))
                .collect();
            st.sum(levels, format!("{prefix}/{}/{figure}#count", scale.key));
        }
    }
}

fn training(st: &mut Stated, r: &pb::SummarizeTrainingResponse) {
    groups(st, "t", r.total.as_ref(), &r.children, r.own_units.as_ref(), true, training_group);
}

fn rotations(st: &mut Stated, r: &pb::SummarizeRotationsResponse) {
    // A movement between two children counts in both: the groups do not add up.
    groups(st, "r", r.total.as_ref(), &r.children, r.own_units.as_ref(), false, |st, prefix, g| {
        st.distribution(&format!("{prefix}/kind"), &g.by_kind, g.rotation_count, false);
        st.distribution(&format!("{prefix}/direction"), &g.by_direction, g.rotation_count, false);
        st.distribution(&format!("{prefix}/status"), &g.by_status, g.rotation_count, false);
        if let Some(p) = &g.promoted {
            st.share(&format!("{prefix}/promoted"), p, &format!("{prefix}/status/completed"));
        }
    });
}

/// What checking one response found.
#[derive(Debug, Default)]
struct Found {
    cells: usize,
    /// Hidden cells that are small themselves (the rest are partners).
    small: usize,
    hidden_cells: usize,
    secrets: usize,
    /// The secret values recomputed: by the plain attacks, and by the stated sums.
    by_subtraction: BTreeSet<String>,
    leaks: BTreeSet<String>,
}

/// The columns of `matrix` whose unit vector lies in its row space (Gauss–Jordan over
/// the rationals, rows kept integral).
fn determined(mut matrix: Vec<Vec<i128>>, width: usize) -> Vec<usize> {
    let gcd = |a: i128, b: i128| {
        let (mut a, mut b) = (a.abs(), b.abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let mut pivot_rows = Vec::new();
    let mut r = 0;
    for col in 0..width {
        let Some(p) = (r..matrix.len()).find(|i| matrix[*i][col] != 0) else { continue };
        matrix.swap(r, p);
        let pivot = matrix[r].clone();
        for (i, row) in matrix.iter_mut().enumerate() {
            if i == r || row[col] == 0 {
                continue;
            }
            let f = row[col];
            let mut g = 0;
            for (x, y) in row.iter_mut().zip(&pivot) {
                *x = *x * pivot[col] - *y * f;
                g = gcd(g, *x);
            }
            if g > 1 {
                row.iter_mut().for_each(|x| *x /= g);
            }
        }
        pivot_rows.push((r, col));
        r += 1;
    }
    pivot_rows
        .into_iter()
        .filter(|(r, _)| matrix[*r].iter().filter(|x| **x != 0).count() == 1)
        .map(|(_, c)| c)
        .collect()
}

/// Checks a response (`shown`) against the full figures of the same request (`full`).
fn check(what: &str, shown: &Stated, full: &Stated) -> Found {
    let mut found = Found::default();
    assert_eq!(shown.cells.keys().collect::<Vec<_>>(), full.cells.keys().collect::<Vec<_>>(), "{what}: same cells");
    // Every stated sum holds in the full figures: the test uses only true equations.
    for (terms, constant) in &full.equations {
        let value: i128 = terms.iter().map(|(v, c)| c * i128::from(full.truth(v))).sum();
        assert_eq!(value, *constant, "{what}: {terms:?} = {constant} does not hold in the full figures");
    }
    found.cells = shown.cells.len();
    for (path, cell) in &shown.cells {
        if cell.suppressed {
            found.hidden_cells += 1;
            let truth = full.cells[path];
            let small = |n: i64| n > 0 && n < THRESHOLD;
            found.small += usize::from(small(truth.count) || truth.cumulative.is_some_and(small));
            let blank = cell.count == 0
                && cell.percent == 0.0
                && cell.cumulative.unwrap_or_default() == 0
                && cell.cumulative_percent == 0.0;
            assert!(blank, "{what}: suppressed {path} shows a number: {cell:?}");
        }
    }
    // The unknowns: the values of the hidden cells. Secret: every count, and every
    // cumulative count below the threshold.
    let mut unknowns: Vec<String> = Vec::new();
    for (path, cell) in shown.cells.iter().filter(|(_, c)| c.suppressed) {
        unknowns.push(format!("{path}#count"));
        if cell.cumulative.is_some() {
            unknowns.push(format!("{path}#cumulative"));
        }
    }
    let index: BTreeMap<&str, usize> = unknowns.iter().enumerate().map(|(i, u)| (u.as_str(), i)).collect();
    let secret = |u: &str| {
        let truth = full.truth(u);
        u.ends_with("#count") || (truth > 0 && truth < THRESHOLD)
    };
    found.secrets = unknowns.iter().filter(|u| secret(u)).count();
    // The equations over the unknowns: Σ coefficient × unknown = constant − known.
    let mut equations: Vec<(BTreeMap<usize, i128>, i128)> = Vec::new();
    let mut stated = shown.equations.clone();
    for (cell, denominator) in &shown.shares {
        let c = shown.cells[cell];
        if c.denominator != 0 {
            stated.push((vec![(denominator.clone(), 1)], i128::from(c.denominator)));
        }
        if !c.suppressed && shown.value(denominator).is_none() && c.count != 0 {
            found.leaks.insert(format!("{what}: {cell} is shown as a share of hidden {denominator}"));
        }
    }
    for (terms, constant) in &stated {
        let mut row = BTreeMap::new();
        let mut rhs = *constant;
        for (v, c) in terms {
            match shown.value(v) {
                Some(known) => rhs -= c * i128::from(known),
                None => *row.entry(index[v.as_str()]).or_insert(0) += c,
            }
        }
        row.retain(|_, c| *c != 0);
        if !row.is_empty() {
            equations.push((row, rhs));
        }
    }
    // The plain attacks: solve every equation left with one unknown, as long as any is.
    let mut solved: BTreeMap<usize, i128> = BTreeMap::new();
    loop {
        let mut progress = false;
        for (row, rhs) in &equations {
            let open: Vec<(&usize, &i128)> = row.iter().filter(|(u, _)| !solved.contains_key(u)).collect();
            if let [(u, c)] = open[..] {
                let rest: i128 = row.iter().filter(|(v, _)| *v != u).map(|(v, k)| k * solved[v]).sum();
                let value = (rhs - rest) / c;
                assert_eq!(value, i128::from(full.truth(&unknowns[*u])), "{what}: an equation that does not hold");
                solved.insert(*u, value);
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    for u in solved.keys().filter(|u| secret(&unknowns[**u])) {
        found.by_subtraction.insert(format!("{what}: {}", unknowns[*u]));
    }
    // Exactly: a hidden value is determined iff its unit vector is in the row space.
    let matrix: Vec<Vec<i128>> = equations
        .iter()
        .map(|(row, _)| {
            let mut dense = vec![0; unknowns.len()];
            row.iter().for_each(|(u, c)| dense[*u] = *c);
            dense
        })
        .collect();
    for u in determined(matrix, unknowns.len()) {
        if secret(&unknowns[u]) {
            found.leaks.insert(format!("{what}: {}", unknowns[u]));
        }
    }
    found
}

fn scope(locality: &str, as_of: pb::Date, breakdown: bool, leaders_only: bool) -> Option<pb::ReportScope> {
    Some(pb::ReportScope {
        locality: locality.into(),
        as_of: Some(as_of),
        breakdown_by_child: breakdown,
        leaders_only,
        ..Default::default()
    })
}

/// Every report RPC that suppresses, for one scope, as `caller`: what each states.
async fn responses(
    app: &crate::helpers::TestApp,
    caller: Caller,
    s: &Option<pb::ReportScope>,
) -> Vec<(&'static str, Stated)> {
    let mut reports = app.as_(caller).reports();
    let mut out = Vec::new();
    let (start, end) = (Some(date(2021, 1, 1)), Some(date(2025, 12, 31)));
    let mut st = Stated::default();
    let r = reports.get_workforce_profile(pb::GetWorkforceProfileRequest { scope: s.clone() }).await;
    profile_response(&mut st, "p", &r.expect("a profile").into_inner());
    out.push(("GetWorkforceProfile", st));
    let mut st = Stated::default();
    let request = pb::CompareWorkforceProfilesRequest { scope: s.clone(), other_date: Some(date(2022, 1, 1)) };
    comparison(&mut st, &reports.compare_workforce_profiles(request).await.expect("a comparison").into_inner());
    out.push(("CompareWorkforceProfiles", st));
    let mut st = Stated::default();
    let request = pb::SummarizeEvaluationsRequest { scope: s.clone(), first_year: 2020, last_year: 2024 };
    evaluations(&mut st, &reports.summarize_evaluations(request).await.expect("evaluations").into_inner());
    out.push(("SummarizeEvaluations", st));
    let mut st = Stated::default();
    let request = pb::GetStandardComplianceRequest { scope: s.clone() };
    compliance(&mut st, &reports.get_standard_compliance(request).await.expect("compliance").into_inner());
    out.push(("GetStandardCompliance", st));
    let mut st = Stated::default();
    let request = pb::SummarizeTrainingRequest { scope: s.clone(), period_start: start, period_end: end };
    training(&mut st, &reports.summarize_training(request).await.expect("training").into_inner());
    out.push(("SummarizeTraining", st));
    let mut st = Stated::default();
    let request = pb::SummarizeRotationsRequest { scope: s.clone(), period_start: start, period_end: end };
    rotations(&mut st, &reports.summarize_rotations(request).await.expect("rotations").into_inner());
    out.push(("SummarizeRotations", st));
    out
}

#[tokio::test]
async fn no_suppressed_cell_of_any_report_can_be_recomputed_from_the_same_response() {
    let app = spawn_app_with(|config| {
        config.demo = true;
        config.report_suppression_threshold = THRESHOLD;
    })
    .await;
    let (before, after) = (date(2024, 6, 1), date(2025, 9, 1));
    let mut scopes = Vec::new();
    for (locality, as_of) in [
        ("localities/-", before),
        ("localities/-", after),
        ("localities/20", before),
        ("localities/11", after),
        ("localities/01", before),
        ("localities/178", before),
        ("localities/094", before),
        ("localities/05971", before),
    ] {
        for (breakdown, leaders_only) in [(true, false), (false, false), (true, true)] {
            scopes.push(scope(locality, as_of, breakdown, leaders_only));
        }
    }
    let full_caller = || Caller::of(&["*"], &[Role::AggregateReader, Role::PersonalDataReader]);
    let mut calls = 0;
    let mut per_rpc: BTreeMap<&str, (usize, usize, usize, usize, usize)> = BTreeMap::new();
    let mut leaks = BTreeSet::new();
    let mut by_subtraction = BTreeSet::new();
    for s in &scopes {
        let full = responses(&app, full_caller(), s).await;
        for role in [Role::AggregateReader, Role::Editor] {
            let shown = responses(&app, Caller::of(&["*"], &[role]), s).await;
            for ((rpc, shown), (_, full)) in shown.iter().zip(&full) {
                let what = format!("{rpc} {role:?} {s:?}");
                let found = check(&what, shown, full);
                let entry = per_rpc.entry(rpc).or_default();
                entry.0 += 1;
                entry.1 += found.hidden_cells;
                entry.2 += found.secrets;
                entry.3 += found.small;
                entry.4 += found.cells;
                calls += 1;
                leaks.extend(found.leaks);
                by_subtraction.extend(found.by_subtraction);
            }
        }
    }
    let hidden: usize = per_rpc.values().map(|e| e.1).sum();
    let secrets: usize = per_rpc.values().map(|e| e.2).sum();
    eprintln!(
        "suppression: {calls} calls, {hidden} hidden cells ({secrets} secret values) checked; per RPC (calls, hidden \
         cells, secret values, hidden cells small themselves, cells): {per_rpc:?}"
    );
    assert!(
        leaks.is_empty() && by_subtraction.is_empty(),
        "{} hidden values recomputed from the stated sums, {} of them by plain subtraction, e.g. {:#?}",
        leaks.len(),
        by_subtraction.len(),
        leaks.iter().take(20).collect::<Vec<_>>()
    );
    for rpc in ["GetWorkforceProfile", "CompareWorkforceProfiles", "SummarizeEvaluations", "GetStandardCompliance"] {
        assert!(per_rpc.get(rpc).is_some_and(|e| e.1 > 0), "the demo data hides cells of {rpc}: {per_rpc:?}");
    }
}
