//! The aggregates of a report's population, read from the columns: the same answers as
//! the SQL of [`crate::reports::queries`] (which stays as the oracle the engine is
//! tested against), computed by one pass over the segments of the tree's localities.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;

use super::columns::{Columns, KEY_POST, LEADER, Segment, day_number};
use crate::reports::{
    queries::{
        Population, tier_lengths,
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
        Some(Self { day: day_number(p.as_of), nodes, groups, categories, sectors, flags })
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
    let mut tallies: Vec<ProfileTally> = scope
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
        .collect();
    scope.each(columns, |group, _, s, r| {
        let Some(t) = tallies.get_mut(group) else { return };
        t.headcount += 1;
        t.leaders += i64::from(s.flags[r] & LEADER != 0);
        t.kinh += i64::from(columns.kinh.get(usize::from(s.ethnicity[r])).copied().unwrap_or(false));
        let birth = s.birth[r];
        let band = bounds.iter().position(|bound| birth > *bound).unwrap_or(4);
        t.bands[band] += 1;
        if let Some(n) = t.genders.get_mut(usize::from(s.gender[r])) {
            *n += 1;
        }
        if let Some(n) = t.levels.get_mut(s.levels[r] as usize) {
            *n += 1;
        }
    });
    let rank_of = ranks(levels);
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
        for (code, n) in t.levels.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            for (scale, level) in columns.level_pairs.get(code).map(Vec::as_slice).unwrap_or_default() {
                if let Some(rank) = rank_of.get(&(scale.as_str(), level.as_str())) {
                    *counts.ranks.entry((scale.clone(), *rank)).or_default() += n;
                }
            }
        }
        out.insert(key.clone(), counts);
    }
    out
}

/// The headcount and the people rated each (year, rating) over `first_year..=last_year`,
/// as [`crate::reports::queries::workforce::evaluation_counts`] gives them.
pub fn evaluation_counts(
    columns: &Columns,
    scope: &Scope,
    first_year: i32,
    last_year: i32,
) -> (i64, BTreeMap<(i32, String), i64>) {
    let mut headcount = 0;
    let mut by_ratings = vec![0_i64; columns.ratings.len()];
    scope.each(columns, |_, _, s, r| {
        headcount += 1;
        if let Some(n) = by_ratings.get_mut(s.ratings[r] as usize) {
            *n += 1;
        }
    });
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
    type Key = (usize, usize, u16, bool, u32, u32);
    let mut rows: HashMap<Key, i64, BuildHasherDefault<IntHasher>> = HashMap::default();
    let tier_len: Vec<usize> = (0..columns.segments.len())
        .map(|l| columns.localities.value(u32::try_from(l).unwrap_or(u32::MAX)).len())
        .collect();
    scope.each(columns, |group, segment, s, r| {
        let title = s.title[r];
        let title = if named.get(title as usize).copied().unwrap_or(false) { title } else { u32::MAX };
        let tier = tier_len.get(segment).copied().unwrap_or_default();
        let key = (group, tier, s.category[r], s.flags[r] & LEADER != 0, title, s.levels[r]);
        *rows.entry(key).or_default() += 1;
    });
    rows.into_iter()
        .map(|((group, tier_len, category, is_leader, title, levels), n)| PostRow {
            grp: scope.groups.get(group).cloned().unwrap_or_default(),
            tier_len: i32::try_from(tier_len).unwrap_or_default(),
            category: columns.categories.value(u32::from(category)).to_owned(),
            is_leader,
            title: if title == u32::MAX { String::new() } else { columns.titles.value(title).to_owned() },
            levels: columns.levels.value(levels).to_owned(),
            n,
        })
        .collect()
}

/// The headcount per group, as [`crate::reports::queries::activity::headcounts`] gives it.
pub fn headcounts(columns: &Columns, scope: &Scope) -> BTreeMap<String, i64> {
    let mut counts = vec![0_i64; scope.groups.len()];
    scope.each(columns, |group, _, _, _| {
        if let Some(n) = counts.get_mut(group) {
            *n += 1;
        }
    });
    scope.groups.iter().cloned().zip(counts).filter(|(_, n)| *n != 0).collect()
}
