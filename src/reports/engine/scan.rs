//! The aggregates of a report's population, read from the columns: the same answers as
//! the SQL of [`crate::reports::queries`] (which stays as the oracle the engine is
//! tested against), computed by one pass over the segments of the tree's localities.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;

use super::{
    columns::{Columns, KEY_POST, LEADER, Segment, day_number},
    training::{Tally as TrainingTally, Training},
};
use crate::reports::{
    queries::{
        Population,
        activity::TrainingRow,
        tier_lengths,
        workforce::{GroupCounts, PostRow, ScaleLevels, ranks},
    },
    rules::{AGE_BANDS, RATINGS, age_band_bounds},
};

/// Which rows of which segments a report counts, and the group each segment counts in.
#[derive(Debug)]
pub struct Scope {
    day: i32,
    /// (segment, group) of every locality of the tree that has facts.
    nodes: Vec<(usize, usize)>,
    /// The groups' keys (the `grp` of the SQL).
    groups: Vec<String>,
    categories: Option<Vec<bool>>,
    sectors: Option<Vec<bool>>,
    flags: u8,
    /// Rows beyond which the scan is split over two threads.
    parallel_rows: usize,
}

fn mask(dict_len: usize, value_of: impl Fn(u32) -> bool) -> Vec<bool> {
    (0..u32::try_from(dict_len).unwrap_or(u32::MAX)).map(value_of).collect()
}

impl Scope {
    /// The scope of `p` over `columns`; `None` when `p`'s tree is not resolved for its
    /// date (the caller then asks the SQL).
    pub fn new(columns: &Columns, p: &Population) -> Option<Self> {
        let (day, tree) = p.tree.as_ref()?;
        if *day != p.as_of {
            return None;
        }
        let lengths: Vec<usize> = tier_lengths(&p.tiers).filter_map(|l| usize::try_from(l).ok()).collect();
        let mut groups: Vec<String> = Vec::new();
        let mut group_of: HashMap<&str, usize> = HashMap::new();
        let mut nodes = Vec::new();
        for node in tree {
            if !p.tags.is_empty() && node.tagged != 1 {
                continue;
            }
            if !lengths.is_empty() && !lengths.contains(&node.code.len()) {
                continue;
            }
            let Some(segment) = columns.localities.code(&node.code) else { continue };
            let group = *group_of.entry(node.grp.as_str()).or_insert_with(|| {
                groups.push(node.grp.clone());
                groups.len() - 1
            });
            nodes.push((segment as usize, group));
        }
        let categories = (!p.categories.is_empty()).then(|| {
            mask(columns.categories.len(), |c| {
                p.categories.iter().any(|wanted| wanted.as_str() == columns.categories.value(c))
            })
        });
        let sectors = (!p.sectors.is_empty()).then(|| {
            mask(columns.sectors.len(), |s| p.sectors.iter().any(|wanted| *wanted == columns.sectors.value(s)))
        });
        let flags = if p.leaders_only { LEADER } else { 0 } | if p.key_posts_only { KEY_POST } else { 0 };
        Some(Self { day: day_number(p.as_of), nodes, groups, categories, sectors, flags, parallel_rows: PARALLEL_ROWS })
    }

    /// Calls `f(group, segment, row)` for every row in the population; `segment` is
    /// also the code of its locality.
    fn each<'c>(&self, columns: &'c Columns, mut f: impl FnMut(usize, usize, &'c Segment, usize)) {
        for &(segment, group) in &self.nodes {
            let Some(s) = columns.segments.get(segment) else { continue };
            for r in 0..s.len() {
                if s.from[r] > self.day || s.until[r] <= self.day {
                    continue;
                }
                if self.flags != 0 && s.flags[r] & self.flags != self.flags {
                    continue;
                }
                if let Some(wanted) = &self.categories
                    && !wanted.get(usize::from(s.category[r])).copied().unwrap_or(false)
                {
                    continue;
                }
                if let Some(wanted) = &self.sectors
                    && !wanted.get(usize::from(s.sector[r])).copied().unwrap_or(false)
                {
                    continue;
                }
                f(group, segment, s, r);
            }
        }
    }
}

/// Rows beyond which a scan is split over two threads (a province is well below it; the
/// whole country well above).
const PARALLEL_ROWS: usize = 400_000;

impl Scope {
    /// Folds the population's rows: `step` adds a row into an accumulator made by `init`;
    /// large scopes are split in two halves of the tree scanned on two threads, whose
    /// accumulators `merge` then adds up.
    fn fold<A: Send>(
        &self,
        columns: &Columns,
        init: impl Fn() -> A + Sync,
        step: impl Fn(&mut A, usize, usize, &Segment, usize) + Sync,
        merge: impl Fn(&mut A, A),
    ) -> A {
        let rows: usize = self.nodes.iter().filter_map(|(s, _)| columns.segments.get(*s)).map(Segment::len).sum();
        let run = |nodes: &[(usize, usize)]| {
            let part = Scope { nodes: nodes.to_vec(), groups: Vec::new(), ..self.filters() };
            let mut acc = init();
            part.each(columns, |group, segment, s, r| step(&mut acc, group, segment, s, r));
            acc
        };
        if rows < self.parallel_rows || self.nodes.len() < 2 {
            return run(&self.nodes);
        }
        // Cut where half the rows lie before.
        let mut seen = 0;
        let cut = self
            .nodes
            .iter()
            .position(|(s, _)| {
                seen += columns.segments.get(*s).map_or(0, Segment::len);
                seen * 2 >= rows
            })
            .map_or(self.nodes.len() / 2, |i| (i + 1).min(self.nodes.len() - 1));
        let (first, second) = self.nodes.split_at(cut);
        let (mut a, b) = std::thread::scope(|threads| {
            let other = threads.spawn(|| run(second));
            let a = run(first);
            (a, other.join())
        });
        match b {
            Ok(b) => merge(&mut a, b),
            // A scan does not panic; if it did, count the half again on this thread.
            Err(_) => merge(&mut a, run(second)),
        }
        a
    }

    /// The same filters over no nodes.
    fn filters(&self) -> Self {
        Self {
            day: self.day,
            nodes: Vec::new(),
            groups: Vec::new(),
            categories: self.categories.clone(),
            sectors: self.sectors.clone(),
            flags: self.flags,
            parallel_rows: usize::MAX,
        }
    }
}

/// What the profile counts of one group, by code.
struct ProfileTally {
    headcount: i64,
    leaders: i64,
    kinh: i64,
    bands: [i64; 5],
    genders: Vec<i64>,
    levels: Vec<i64>,
}

/// The workforce profile's aggregates per group, as
/// [`crate::reports::queries::workforce::workforce_counts`] gives them.
pub fn workforce_counts(
    columns: &Columns,
    scope: &Scope,
    as_of: NaiveDate,
    levels: &ScaleLevels,
) -> BTreeMap<String, GroupCounts> {
    let bounds = age_band_bounds(as_of).map(day_number);
    let init = || -> Vec<ProfileTally> {
        scope
            .groups
            .iter()
            .map(|_| ProfileTally {
                headcount: 0,
                leaders: 0,
                kinh: 0,
                bands: [0; 5],
                genders: vec![0; columns.genders.len()],
                levels: vec![0; columns.levels.len()],
            })
            .collect()
    };
    let step = |tallies: &mut Vec<ProfileTally>, group: usize, _: usize, s: &Segment, r: usize| {
        let Some(t) = tallies.get_mut(group) else { return };
        t.headcount += 1;
        t.leaders += i64::from(s.flags[r] & LEADER != 0);
        t.kinh += i64::from(columns.kinh.get(usize::from(s.ethnicity[r])).copied().unwrap_or(false));
        let birth = s.birth[r];
        let band = usize::from(birth <= bounds[0])
            + usize::from(birth <= bounds[1])
            + usize::from(birth <= bounds[2])
            + usize::from(birth <= bounds[3]);
        t.bands[band] += 1;
        if let Some(n) = t.genders.get_mut(usize::from(s.gender[r])) {
            *n += 1;
        }
        if let Some(n) = t.levels.get_mut(s.levels[r] as usize) {
            *n += 1;
        }
    };
    let merge = |into: &mut Vec<ProfileTally>, other: Vec<ProfileTally>| {
        for (a, b) in into.iter_mut().zip(other) {
            a.headcount += b.headcount;
            a.leaders += b.leaders;
            a.kinh += b.kinh;
            a.bands.iter_mut().zip(b.bands).for_each(|(x, y)| *x += y);
            a.genders.iter_mut().zip(b.genders).for_each(|(x, y)| *x += y);
            a.levels.iter_mut().zip(b.levels).for_each(|(x, y)| *x += y);
        }
    };
    let tallies = scope.fold(columns, init, step, merge);
    let slots = RankSlots::new(columns, levels);
    let mut out = BTreeMap::new();
    for (key, t) in scope.groups.iter().zip(tallies) {
        if t.headcount == 0 {
            continue;
        }
        let mut counts = GroupCounts::default();
        counts.heads.headcount = t.headcount;
        counts.heads.leaders = t.leaders;
        let mut add = |dimension: &str, key: &str, k: i64| {
            if k != 0 {
                *counts.cells.entry((dimension.to_owned(), key.to_owned())).or_default() += k;
            }
        };
        for (code, n) in t.genders.iter().enumerate() {
            add("gender", columns.genders.value(u32::try_from(code).unwrap_or(u32::MAX)), *n);
        }
        add("ethnic_minority", "kinh", t.kinh);
        add("ethnic_minority", "minority", t.headcount - t.kinh);
        for ((band, _), k) in AGE_BANDS.iter().zip(t.bands) {
            add("age_band", band, k);
        }
        let mut by_slot = vec![0_i64; slots.keys.len()];
        for (code, n) in t.levels.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            for slot in slots.of_code.get(code).map(Vec::as_slice).unwrap_or_default() {
                by_slot[*slot] += n;
            }
        }
        for (key, n) in slots.keys.iter().zip(by_slot) {
            if n != 0 {
                counts.ranks.insert(key.clone(), n);
            }
        }
        out.insert(key.clone(), counts);
    }
    out
}

/// The `(scale, rank)` cells of the profile's scales, numbered, and the cells each levels
/// key of the columns counts in: worked out once per report, so that each group only adds
/// numbers.
struct RankSlots {
    /// `(scale, rank)` of each slot.
    keys: Vec<(String, i32)>,
    /// The slots of each levels key (by its code in [`Columns::levels`]).
    of_code: Vec<Vec<usize>>,
}

impl RankSlots {
    fn new(columns: &Columns, levels: &ScaleLevels) -> Self {
        let rank_of = ranks(levels);
        let mut keys: Vec<(String, i32)> = Vec::new();
        let mut slot_of: HashMap<(&str, i32), usize> = HashMap::new();
        let of_code = columns
            .level_pairs
            .iter()
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|(scale, level)| {
                        let rank = *rank_of.get(&(scale.as_str(), level.as_str()))?;
                        Some(*slot_of.entry((scale.as_str(), rank)).or_insert_with(|| {
                            keys.push((scale.clone(), rank));
                            keys.len() - 1
                        }))
                    })
                    .collect()
            })
            .collect();
        Self { keys, of_code }
    }
}

/// The headcount and the people rated each (year, rating) over `first_year..=last_year`,
/// as [`crate::reports::queries::workforce::evaluation_counts`] gives them.
pub fn evaluation_counts(
    columns: &Columns,
    scope: &Scope,
    first_year: i32,
    last_year: i32,
) -> (i64, BTreeMap<(i32, String), i64>) {
    let (headcount, by_ratings) = scope.fold(
        columns,
        || (0_i64, vec![0_i64; columns.ratings.len()]),
        |(headcount, by_ratings), _, _, s, r| {
            *headcount += 1;
            if let Some(n) = by_ratings.get_mut(s.ratings[r] as usize) {
                *n += 1;
            }
        },
        |(headcount, by_ratings), (h, b)| {
            *headcount += h;
            by_ratings.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        },
    );
    let mut counts = BTreeMap::new();
    for (code, n) in by_ratings.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        for (year, rating) in columns.rating_entries.get(code).map(Vec::as_slice).unwrap_or_default() {
            if (first_year..=last_year).contains(year) && RATINGS.iter().any(|(known, _)| known == rating) {
                *counts.entry((*year, rating.clone())).or_default() += n;
            }
        }
    }
    (headcount, counts)
}

/// A hasher for small integer keys (multiply and rotate): the keys are ours, not a
/// caller's, so no protection against chosen collisions is needed.
#[derive(Debug, Default)]
struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// The population grouped by what decides a standard and whether it is met, as
/// [`crate::reports::queries::workforce::post_rows`] gives it; `titles` are the folded
/// post titles some standard names (others count as one, the empty title).
pub fn post_rows(columns: &Columns, scope: &Scope, titles: &[String]) -> Vec<PostRow> {
    let named: Vec<bool> =
        mask(columns.titles.len(), |t| titles.iter().any(|wanted| wanted == columns.titles.value(t)));
    // The key packed in one integer: group (20 bits), tier length (3), category (8),
    // leader (1), title (32: the code, or all ones for a title no standard names).
    // The levels key's code rides beside it.
    type Rows = HashMap<(u64, u32), i64, BuildHasherDefault<IntHasher>>;
    let tier_len: Vec<u64> = (0..columns.segments.len())
        .map(|l| columns.localities.value(u32::try_from(l).unwrap_or(u32::MAX)).len() as u64)
        .collect();
    let rows: Rows = scope.fold(
        columns,
        Rows::default,
        |rows, group, segment, s, r| {
            let title = s.title[r];
            let title = if named.get(title as usize).copied().unwrap_or(false) { title } else { u32::MAX };
            let tier = tier_len.get(segment).copied().unwrap_or_default();
            let key = (group as u64) << 44
                | tier << 41
                | u64::from(s.category[r] & 0xff) << 33
                | u64::from(s.flags[r] & LEADER != 0) << 32
                | u64::from(title);
            *rows.entry((key, s.levels[r])).or_default() += 1;
        },
        |rows, other| {
            for (key, n) in other {
                *rows.entry(key).or_default() += n;
            }
        },
    );
    rows.into_iter()
        .map(|((key, levels), n)| {
            let title = u32::try_from(key & 0xffff_ffff).unwrap_or(u32::MAX);
            PostRow {
                grp: usize::try_from(key >> 44).ok().and_then(|g| scope.groups.get(g)).cloned().unwrap_or_default(),
                tier_len: i32::try_from((key >> 41) & 0x7).unwrap_or_default(),
                category: columns.categories.value(u32::try_from((key >> 33) & 0xff).unwrap_or_default()).to_owned(),
                is_leader: (key >> 32) & 1 == 1,
                title: if title == u32::MAX { String::new() } else { columns.titles.value(title).to_owned() },
                levels: columns.levels.value(levels).to_owned(),
                n,
            }
        })
        .collect()
}

/// The headcount per group, as [`crate::reports::queries::activity::headcounts`] gives it.
pub fn headcounts(columns: &Columns, scope: &Scope) -> BTreeMap<String, i64> {
    let counts = scope.fold(
        columns,
        || vec![0_i64; scope.groups.len()],
        |counts, group, _, _, _| {
            if let Some(n) = counts.get_mut(group) {
                *n += 1;
            }
        },
        |counts, other| counts.iter_mut().zip(other).for_each(|(x, y)| *x += y),
    );
    scope.groups.iter().cloned().zip(counts).filter(|(_, n)| *n != 0).collect()
}

/// See [`crate::reports::queries::activity::category_headcounts`]: the headcount per
/// group and category (stored name).
pub fn category_headcounts(columns: &Columns, scope: &Scope) -> Vec<(String, String, i64)> {
    let categories = columns.categories.len();
    let counts = scope.fold(
        columns,
        || vec![0_i64; scope.groups.len() * categories],
        |counts, group, _, s, r| {
            let category = s.category.get(r).map_or(0, |c| usize::from(*c));
            if let Some(n) = counts.get_mut(group * categories + category) {
                *n += 1;
            }
        },
        |counts, other| counts.iter_mut().zip(other).for_each(|(x, y)| *x += y),
    );
    let mut out = Vec::new();
    for (g, group) in scope.groups.iter().enumerate() {
        for c in 0..categories {
            if let Some(&n) = counts.get(g * categories + c)
                && n != 0
            {
                let category = columns.categories.value(u32::try_from(c).unwrap_or(u32::MAX));
                out.push((group.clone(), category.to_owned(), n));
            }
        }
    }
    out
}

/// See [`crate::reports::queries::activity::training_counts`]: the enrolments of the
/// population's people over `[start, end]`, per group and line.
pub fn training_counts(
    columns: &Columns,
    scope: &Scope,
    training: &Training,
    start: NaiveDate,
    end: NaiveDate,
) -> Vec<TrainingRow> {
    let (start, end) = (day_number(start), day_number(end));
    let tally = scope.fold(
        columns,
        TrainingTally::new,
        |tally, group, _, s, r| {
            if let Some(&person) = s.person.get(r) {
                training.add(tally, group, person, start, end);
            }
        },
        |tally, other| {
            for (key, counts) in other {
                tally.entry(key).or_default().add(&counts);
            }
        },
    );
    training.rows(&scope.groups, tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{engine::columns::Fact, queries::TreeNode};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    /// 600 people over 12 localities in 3 groups, varied in every column.
    fn columns() -> Columns {
        let mut columns = Columns::default();
        for person in 0..600_i64 {
            let locality = format!("{:05}", person % 12);
            let fact = Fact {
                person_id: person,
                valid_from: day(2010 + i32::try_from(person % 5).unwrap_or(0), 1, 1),
                valid_until: if person % 7 == 0 { day(2023, 1, 1) } else { day(9999, 12, 31) },
                locality_code: locality,
                unit_id: person % 12,
                sector: ["education", "health"][usize::try_from(person % 2).unwrap_or(0)].into(),
                category: ["cadre", "civil_servant", "public_employee"][usize::try_from(person % 3).unwrap_or(0)]
                    .into(),
                is_leader: person % 4 == 0,
                is_key_post: person % 9 == 0,
                post_title_folded: ["chu tich", "cong chuc"][usize::try_from(person % 2).unwrap_or(0)].into(),
                birth_date: day(1960 + i32::try_from(person % 40).unwrap_or(0), 3, 1),
                gender: ["male", "female"][usize::try_from(person % 2).unwrap_or(0)].into(),
                ethnicity: ["Kinh", "Tày", "Nùng"][usize::try_from(person % 3).unwrap_or(0)].into(),
                levels: ["professional=university", "professional=master,it=basic", ""]
                    [usize::try_from(person % 3).unwrap_or(0)]
                .into(),
                ratings: [",2023=good,", ",2023=excellent,2024=good,", ","][usize::try_from(person % 3).unwrap_or(0)]
                    .into(),
            };
            columns.push(&fact).unwrap_or_default();
        }
        columns
    }

    fn population() -> Population {
        let as_of = day(2024, 6, 30);
        let tree =
            (0..12).map(|l| TreeNode { code: format!("{l:05}"), grp: format!("g{}", l % 3), tagged: 0 }).collect();
        Population { by_child: true, tree: Some((as_of, tree)), ..Population::whole(None, as_of) }
    }

    #[test]
    fn a_scan_split_over_two_threads_counts_what_one_thread_counts() {
        let columns = columns();
        let population = population();
        let levels: ScaleLevels = [(
            "professional".to_owned(),
            vec![(50, "university".to_owned(), String::new()), (60, "master".to_owned(), String::new())],
        )]
        .into_iter()
        .collect();
        let one = Scope::new(&columns, &population).expect("a scope");
        let two = Scope { parallel_rows: 0, ..Scope::new(&columns, &population).expect("a scope") };
        let profile = workforce_counts(&columns, &one, population.as_of, &levels);
        assert_eq!(profile.values().map(|g| g.heads.headcount).sum::<i64>(), 600 - 86);
        assert_eq!(profile, workforce_counts(&columns, &two, population.as_of, &levels));
        assert_eq!(evaluation_counts(&columns, &one, 2023, 2024), evaluation_counts(&columns, &two, 2023, 2024));
        let titles = ["chu tich".to_owned()];
        let (mut a, mut b) = (post_rows(&columns, &one, &titles), post_rows(&columns, &two, &titles));
        let key = |r: &PostRow| (r.grp.clone(), r.category.clone(), r.is_leader, r.title.clone(), r.levels.clone());
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b);
        assert!(a.iter().any(|r| r.title == "chu tich") && a.iter().any(|r| r.title.is_empty()));
        assert_eq!(headcounts(&columns, &one), headcounts(&columns, &two));
    }
}
