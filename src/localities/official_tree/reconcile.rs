//! Reconciliation: what to write so that the stored tree holds the official one, given
//! what it holds already (the demo's units, an earlier import, corrections by hand).
//!
//! The official lists say what each unit was on 2025-06-30 and what it is from
//! 2025-07-01, nothing about earlier dates. So, for every official code:
//! - a stored version in force on one of those days that says the same (name, kind,
//!   parent) is kept as it is, with its own start and its earlier history;
//! - one that says something else is corrected in place, and listed;
//! - a version in force across the reorganisation is ended on 2025-07-01 when the unit
//!   ends or changes, and the new version follows it that day;
//! - missing versions are added: before the reorganisation from `--old-tree-from` (or
//!   from the end of the stored history, if later); after it until the next stored
//!   version, if any; a unit that stays the same keeps one version (a stored one is
//!   extended rather than followed by an identical one);
//! - missing succession links are added and links of another kind corrected; stored
//!   links and localities that the lists lack are listed and kept.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::{
    Correction, Summary, TierCounts, Unlisted,
    tree::{OfficialTree, Unit},
};
use crate::{
    error::RuleViolation,
    localities::rules::{Code, Kind, SuccessionKind, Tier, Version, check_versions},
};

/// What a unit is on one day: name, kind and parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Its parent.
    pub parent: Option<Code>,
}

impl State {
    fn of_unit(unit: &Unit) -> Self {
        Self { name: unit.name.clone(), kind: unit.kind, parent: unit.parent.clone() }
    }

    fn of_version(version: &Version) -> Self {
        Self { name: version.display_name.clone(), kind: version.kind, parent: version.parent.clone() }
    }

    fn apply_to(&self, version: &mut Version) {
        version.display_name = self.name.clone();
        version.kind = self.kind;
        version.parent = self.parent.clone();
    }

    fn version(&self, valid_from: NaiveDate, valid_until: Option<NaiveDate>) -> Version {
        Version {
            valid_from,
            valid_until,
            display_name: self.name.clone(),
            kind: self.kind,
            parent: self.parent.clone(),
        }
    }
}

/// What the official lists say of one code: its state on the day before the
/// reorganisation, and from the day of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// On 2025-06-30; `None` if the unit did not exist then.
    pub before: Option<State>,
    /// From 2025-07-01; `None` if the unit no longer exists.
    pub after: Option<State>,
}

impl OfficialTree {
    /// What the lists say of every code they name.
    pub fn desired(&self) -> BTreeMap<Code, Desired> {
        let mut desired: BTreeMap<Code, Desired> = BTreeMap::new();
        for unit in self.old_provinces.iter().chain(&self.old_districts).chain(&self.old_communes) {
            desired.entry(unit.code.clone()).or_default().before = Some(State::of_unit(unit));
        }
        for unit in self.new_provinces.iter().chain(&self.new_communes) {
            desired.entry(unit.code.clone()).or_default().after = Some(State::of_unit(unit));
        }
        desired
    }
}

/// The stored tree, as far as the import needs it.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// Every stored locality.
    pub heads: BTreeSet<Code>,
    /// Every stored version, per locality, ordered by `valid_from`.
    pub versions: BTreeMap<Code, Vec<Version>>,
    /// The stored succession links effective on the reorganisation day.
    pub links: BTreeMap<(Code, Code), SuccessionKind>,
}

/// A stored version rewritten: the one that starts on `valid_from` becomes `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionUpdate {
    /// The locality.
    pub code: Code,
    /// The start of the stored version (its key).
    pub valid_from: NaiveDate,
    /// What it becomes.
    pub version: Version,
}

impl VersionUpdate {
    /// Whether only the end changes from `stored` (the common case, written in bulk).
    pub fn only_ends(&self, stored: &Version) -> bool {
        stored.valid_from == self.version.valid_from && State::of_version(stored) == State::of_version(&self.version)
    }
}

/// The writes that make the stored tree hold the official one.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Localities to create (their tier follows from the code).
    pub new_heads: Vec<Code>,
    /// Versions to insert.
    pub inserts: Vec<(Code, Version)>,
    /// Stored versions to rewrite, each with the stored version it replaces.
    pub updates: Vec<(VersionUpdate, Version)>,
    /// Links to insert: (predecessor, successor, kind).
    pub new_links: Vec<(Code, Code, SuccessionKind)>,
    /// Stored links whose kind changes.
    pub relinks: Vec<(Code, Code, SuccessionKind)>,
    /// Localities whose versions change: the tree's rules are checked around them.
    pub touched: BTreeSet<Code>,
    /// Stored localities that change (versions or links): their revision goes up.
    pub changed: BTreeSet<Code>,
    /// What the plan does, for people.
    pub summary: Summary,
}

impl Plan {
    /// Whether the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        self.new_heads.is_empty()
            && self.inserts.is_empty()
            && self.updates.is_empty()
            && self.new_links.is_empty()
            && self.relinks.is_empty()
    }
}

/// One version being planned: the stored one it started as (if any) and what it becomes.
struct Work {
    stored: Option<Version>,
    version: Version,
}

fn count_tier(counts: &mut TierCounts, tier: Tier) {
    match tier {
        Tier::Province => counts.provinces += 1,
        Tier::District => counts.districts += 1,
        Tier::Commune => counts.communes += 1,
    }
}

/// Plans the import of `tree` effective on `effective_date` into the stored tree
/// `existing`; the old tree starts on `old_tree_from` where nothing is stored.
///
/// Fails with the rules the result would break: only stored histories that cannot
/// take the official versions (such as a version starting on a day the plan needs)
/// get there.
pub fn plan(
    tree: &OfficialTree,
    existing: &Existing,
    effective_date: NaiveDate,
    old_tree_from: NaiveDate,
) -> Result<Plan, Vec<RuleViolation>> {
    let Some(day_before) = effective_date.pred_opt() else {
        return Err(vec![RuleViolation {
            subject: "effective_date".into(),
            description: "has no day before it".into(),
        }]);
    };
    if old_tree_from > day_before {
        return Err(vec![RuleViolation {
            subject: "old_tree_from".into(),
            description: format!("{old_tree_from} must be before the reorganisation of {effective_date}"),
        }]);
    }
    let mut plan = Plan::default();
    let mut violations = Vec::new();
    let mut summary = Summary { effective_date, old_tree_from, ..Default::default() };
    summary.fill_from_tree(tree);

    let desired = tree.desired();
    let none: Vec<Version> = Vec::new();
    for (code, wanted) in &desired {
        let stored = existing.versions.get(code).unwrap_or(&none);
        let mut work: Vec<Work> = stored.iter().map(|v| Work { stored: Some(v.clone()), version: v.clone() }).collect();
        let mut added: Vec<Version> = Vec::new();
        let mut corrections: Vec<Correction> = Vec::new();
        let at = |work: &[Work], day: NaiveDate| work.iter().position(|w| w.version.contains(day));
        let i0 = at(&work, day_before);
        let i1 = at(&work, effective_date);
        let correct = |w: &mut Work, state: &State, corrections: &mut Vec<Correction>| {
            let now = State::of_version(&w.version);
            if &now != state {
                corrections.push(Correction {
                    code: code.clone(),
                    valid_from: w.version.valid_from,
                    before: (now.name, now.kind, now.parent),
                    after: (state.name.clone(), state.kind, state.parent.clone()),
                });
                state.apply_to(&mut w.version);
            }
        };
        let next_start = work.iter().map(|w| w.version.valid_from).filter(|from| *from > effective_date).min();

        match (i0, i1) {
            (Some(i), Some(j)) if i == j => match (&wanted.before, &wanted.after) {
                (Some(before), Some(after)) => {
                    correct(&mut work[i], before, &mut corrections);
                    if before != after {
                        let until = work[i].version.valid_until;
                        work[i].version.valid_until = Some(effective_date);
                        summary.versions_ended += 1;
                        added.push(after.version(effective_date, until));
                        summary.versions_added_after += 1;
                    }
                }
                (Some(before), None) => {
                    correct(&mut work[i], before, &mut corrections);
                    work[i].version.valid_until = Some(effective_date);
                    summary.versions_ended += 1;
                }
                (None, Some(after)) => {
                    summary.unlisted.push(Unlisted {
                        code: code.clone(),
                        name: work[i].version.display_name.clone(),
                        day: day_before,
                    });
                    if &State::of_version(&work[i].version) != after {
                        let until = work[i].version.valid_until;
                        work[i].version.valid_until = Some(effective_date);
                        summary.versions_ended += 1;
                        added.push(after.version(effective_date, until));
                        summary.versions_added_after += 1;
                    }
                }
                (None, None) => {}
            },
            (i0, i1) => {
                let mut after_done = false;
                match (&wanted.before, i0) {
                    (Some(before), Some(i)) => correct(&mut work[i], before, &mut corrections),
                    (Some(before), None) => {
                        let start = work
                            .iter()
                            .filter_map(|w| w.version.valid_until.filter(|until| *until <= day_before))
                            .chain([old_tree_from])
                            .max()
                            .unwrap_or(old_tree_from);
                        if wanted.after.as_ref() == Some(before) {
                            after_done = true;
                            match i1 {
                                None => {
                                    added.push(before.version(start, next_start));
                                    summary.versions_added_before += 1;
                                }
                                Some(j) => {
                                    correct(&mut work[j], before, &mut corrections);
                                    work[j].version.valid_from = start;
                                    summary.versions_extended += 1;
                                }
                            }
                        } else {
                            added.push(before.version(start, Some(effective_date)));
                            summary.versions_added_before += 1;
                        }
                    }
                    (None, Some(i)) => summary.unlisted.push(Unlisted {
                        code: code.clone(),
                        name: work[i].version.display_name.clone(),
                        day: day_before,
                    }),
                    (None, None) => {}
                }
                if !after_done {
                    match (&wanted.after, i1) {
                        (Some(after), Some(j)) => correct(&mut work[j], after, &mut corrections),
                        (Some(after), None) => {
                            let continues = i0.filter(|&i| {
                                wanted.before.as_ref() == Some(after)
                                    && &State::of_version(&work[i].version) == after
                                    && work[i].version.valid_until == Some(effective_date)
                            });
                            match continues {
                                Some(i) => {
                                    work[i].version.valid_until = next_start;
                                    summary.versions_extended += 1;
                                }
                                None => {
                                    added.push(after.version(effective_date, next_start));
                                    summary.versions_added_after += 1;
                                }
                            }
                        }
                        (None, Some(j)) => summary.unlisted.push(Unlisted {
                            code: code.clone(),
                            name: work[j].version.display_name.clone(),
                            day: effective_date,
                        }),
                        (None, None) => {}
                    }
                }
            }
        }

        summary.versions_corrected += corrections.len();
        summary.corrections.extend(corrections);
        let mut changed = !added.is_empty();
        for w in &work {
            if let Some(stored) = &w.stored
                && stored != &w.version
            {
                changed = true;
                plan.updates.push((
                    VersionUpdate { code: code.clone(), valid_from: stored.valid_from, version: w.version.clone() },
                    stored.clone(),
                ));
            }
        }
        let mut result: Vec<Version> = work.into_iter().map(|w| w.version).chain(added.iter().cloned()).collect();
        result.sort_by_key(|v| v.valid_from);
        for violation in check_versions(code, &result, "versions") {
            violations.push(RuleViolation {
                subject: code.name(),
                description: format!(
                    "its stored history cannot take the official versions: {}: {}",
                    violation.field, violation.description
                ),
            });
        }
        plan.inserts.extend(added.into_iter().map(|v| (code.clone(), v)));
        if !existing.heads.contains(code) {
            plan.new_heads.push(code.clone());
            let counts = if wanted.before.is_some() { &mut summary.created_before } else { &mut summary.created_after };
            count_tier(counts, code.tier());
        } else if changed {
            plan.changed.insert(code.clone());
        }
        if changed {
            plan.touched.insert(code.clone());
        }
    }

    for ((predecessor, successor), kind) in &tree.links {
        match existing.links.get(&(predecessor.clone(), successor.clone())) {
            None => {
                plan.new_links.push((predecessor.clone(), successor.clone(), *kind));
                match kind {
                    SuccessionKind::Merge => summary.links_added_merge += 1,
                    SuccessionKind::Split => summary.links_added_split += 1,
                    SuccessionKind::Rename => summary.links_added_rename += 1,
                }
            }
            Some(stored) if stored != kind => {
                plan.relinks.push((predecessor.clone(), successor.clone(), *kind));
                summary.links_corrected.push((predecessor.clone(), successor.clone(), *stored, *kind));
            }
            Some(_) => continue,
        }
        for code in [predecessor, successor] {
            if existing.heads.contains(code) {
                plan.changed.insert(code.clone());
            }
        }
    }
    for ((predecessor, successor), kind) in &existing.links {
        if !tree.links.contains_key(&(predecessor.clone(), successor.clone())) {
            summary.unlisted_links.push((predecessor.clone(), successor.clone(), *kind));
        }
    }
    for (code, versions) in &existing.versions {
        if desired.contains_key(code) {
            continue;
        }
        for day in [day_before, effective_date] {
            if let Some(version) = versions.iter().find(|v| v.contains(day)) {
                summary.unlisted.push(Unlisted { code: code.clone(), name: version.display_name.clone(), day });
            }
        }
    }
    summary.revisions_bumped = plan.changed.len();
    plan.summary = summary;
    if violations.is_empty() { Ok(plan) } else { Err(violations) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localities::official_tree::tree::OfficialTree;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn code(c: &str) -> Code {
        Code::parse(c).unwrap_or_else(|_| Code::from_db(c.to_owned()))
    }

    fn unit(c: &str, name: &str, kind: Kind, parent: Option<&str>) -> Unit {
        Unit { code: code(c), name: name.into(), kind, parent: parent.map(code) }
    }

    fn version(from: NaiveDate, until: Option<NaiveDate>, name: &str, kind: Kind, parent: Option<&str>) -> Version {
        Version { valid_from: from, valid_until: until, display_name: name.into(), kind, parent: parent.map(code) }
    }

    const D1: (i32, u32, u32) = (2025, 7, 1);

    fn d1() -> NaiveDate {
        day(D1.0, D1.1, D1.2)
    }

    fn from_2020() -> NaiveDate {
        day(2020, 1, 1)
    }

    /// Province 20 (unchanged), district 187 (ends), commune 06463 (a township that
    /// becomes a commune under the province), commune 06466 (merged into 06463).
    fn tree() -> OfficialTree {
        let mut tree = OfficialTree {
            old_provinces: vec![unit("20", "Tỉnh Lạng Sơn", Kind::Province, None)],
            old_districts: vec![unit("187", "Huyện Chi Lăng", Kind::RuralDistrict, Some("20"))],
            old_communes: vec![
                unit("06463", "Thị trấn Đồng Mỏ", Kind::Township, Some("187")),
                unit("06466", "Thị trấn Chi Lăng", Kind::Township, Some("187")),
            ],
            new_provinces: vec![unit("20", "Tỉnh Lạng Sơn", Kind::Province, None)],
            new_communes: vec![unit("06463", "Xã Chi Lăng", Kind::Commune, Some("20"))],
            ..Default::default()
        };
        tree.links.insert((code("06466"), code("06463")), SuccessionKind::Merge);
        tree.links.insert((code("187"), code("06463")), SuccessionKind::Merge);
        tree
    }

    /// The state after applying `plan` to an empty store.
    fn stored(plan: &Plan) -> Existing {
        let mut existing = Existing::default();
        existing.heads.extend(plan.new_heads.iter().cloned());
        for (code, version) in &plan.inserts {
            existing.versions.entry(code.clone()).or_default().push(version.clone());
        }
        for versions in existing.versions.values_mut() {
            versions.sort_by_key(|v| v.valid_from);
        }
        for (p, s, k) in &plan.new_links {
            existing.links.insert((p.clone(), s.clone()), *k);
        }
        existing
    }

    #[test]
    fn into_an_empty_store_everything_is_created_and_an_unchanged_province_keeps_one_version() {
        let tree = tree();
        let plan = plan(&tree, &Existing::default(), d1(), from_2020()).expect("plan");
        assert_eq!(plan.new_heads.len(), 4);
        assert_eq!(plan.summary.created_before, TierCounts { provinces: 1, districts: 1, communes: 2 });
        let province: Vec<&Version> = plan.inserts.iter().filter(|(c, _)| c == &code("20")).map(|(_, v)| v).collect();
        assert_eq!(province, [&version(from_2020(), None, "Tỉnh Lạng Sơn", Kind::Province, None)]);
        let dong_mo: Vec<&Version> = plan.inserts.iter().filter(|(c, _)| c == &code("06463")).map(|(_, v)| v).collect();
        assert_eq!(
            dong_mo,
            [
                &version(from_2020(), Some(d1()), "Thị trấn Đồng Mỏ", Kind::Township, Some("187")),
                &version(d1(), None, "Xã Chi Lăng", Kind::Commune, Some("20")),
            ]
        );
        assert_eq!(plan.summary.versions_added_before, 4);
        assert_eq!(plan.summary.versions_added_after, 1);
        assert_eq!((plan.summary.links_added_merge, plan.summary.links_added_split), (2, 0));
        assert!(plan.changed.is_empty(), "nothing stored changes");
    }

    #[test]
    fn a_second_plan_over_the_result_of_the_first_is_empty() {
        let tree = tree();
        let first = plan(&tree, &Existing::default(), d1(), from_2020()).expect("plan");
        let second = plan(&tree, &stored(&first), d1(), from_2020()).expect("plan");
        assert!(second.is_empty(), "{:?}", second.summary);
        assert!(!second.summary.changed());
        assert!(second.changed.is_empty());
    }

    #[test]
    fn a_matching_stored_version_keeps_its_start_and_is_ended_on_the_effective_date() {
        let tree = tree();
        let mut existing = Existing::default();
        existing.heads.extend([code("20"), code("187"), code("06463")]);
        existing
            .versions
            .insert(code("20"), vec![version(day(2008, 8, 1), None, "Tỉnh Lạng Sơn", Kind::Province, None)]);
        existing.versions.insert(
            code("187"),
            vec![version(day(2008, 8, 1), None, "Huyện Chi Lăng", Kind::RuralDistrict, Some("20"))],
        );
        existing.versions.insert(
            code("06463"),
            vec![version(day(2008, 8, 1), None, "Thị trấn Đồng Mỏ", Kind::Township, Some("187"))],
        );
        let plan = plan(&tree, &existing, d1(), from_2020()).expect("plan");
        // The province stays as it is; the district and the commune end.
        assert!(!plan.touched.contains(&code("20")));
        let ended: Vec<(&str, NaiveDate, Option<NaiveDate>)> =
            plan.updates.iter().map(|(u, _)| (u.code.as_str(), u.version.valid_from, u.version.valid_until)).collect();
        assert_eq!(ended, [("06463", day(2008, 8, 1), Some(d1())), ("187", day(2008, 8, 1), Some(d1()))]);
        assert!(plan.updates.iter().all(|(u, stored)| u.only_ends(stored)));
        assert_eq!(plan.summary.versions_ended, 2);
        assert!(plan.summary.corrections.is_empty());
        // The new version of 06463 follows; 06466 is created from the old tree's start.
        assert!(plan.inserts.contains(&(code("06463"), version(d1(), None, "Xã Chi Lăng", Kind::Commune, Some("20")))));
        assert_eq!(plan.new_heads, [code("06466")]);
        // The localities at either end of the new links change.
        assert!(plan.changed.contains(&code("06463")) && plan.changed.contains(&code("187")));
    }

    #[test]
    fn a_stored_version_that_differs_is_corrected_and_listed() {
        let tree = tree();
        let mut existing = Existing::default();
        existing.heads.insert(code("06466"));
        existing.versions.insert(
            code("06466"),
            vec![version(from_2020(), Some(d1()), "Xã Chi Lăng Cũ", Kind::Commune, Some("187"))],
        );
        let plan = plan(&tree, &existing, d1(), from_2020()).expect("plan");
        assert_eq!(plan.summary.corrections.len(), 1);
        let correction = &plan.summary.corrections[0];
        assert_eq!(correction.code, code("06466"));
        assert_eq!(correction.after.0, "Thị trấn Chi Lăng");
        let (update, _) = &plan.updates[0];
        assert_eq!(update.version, version(from_2020(), Some(d1()), "Thị trấn Chi Lăng", Kind::Township, Some("187")));
        assert_eq!(plan.summary.versions_corrected, 1);
    }

    #[test]
    fn missing_versions_start_after_the_stored_history() {
        let tree = tree();
        let mut existing = Existing::default();
        existing.heads.insert(code("06466"));
        // An earlier history ending in 2022 (say, before a boundary change).
        existing.versions.insert(
            code("06466"),
            vec![version(day(2015, 1, 1), Some(day(2022, 1, 1)), "Xã Cũ", Kind::Commune, Some("187"))],
        );
        let plan = plan(&tree, &existing, d1(), from_2020()).expect("plan");
        assert!(plan.inserts.contains(&(
            code("06466"),
            version(day(2022, 1, 1), Some(d1()), "Thị trấn Chi Lăng", Kind::Township, Some("187"))
        )));
        assert!(plan.updates.is_empty());
    }

    #[test]
    fn an_unchanged_unit_stored_with_an_end_is_extended_rather_than_split() {
        let tree = tree();
        let mut existing = Existing::default();
        existing.heads.insert(code("20"));
        existing
            .versions
            .insert(code("20"), vec![version(from_2020(), Some(d1()), "Tỉnh Lạng Sơn", Kind::Province, None)]);
        let plan = plan(&tree, &existing, d1(), from_2020()).expect("plan");
        assert!(!plan.inserts.iter().any(|(c, _)| c == &code("20")));
        assert_eq!(plan.updates[0].0.version, version(from_2020(), None, "Tỉnh Lạng Sơn", Kind::Province, None));
        assert_eq!(plan.summary.versions_extended, 1);
    }

    #[test]
    fn a_new_version_ends_where_a_later_stored_version_begins() {
        let tree = tree();
        let mut existing = Existing::default();
        existing.heads.insert(code("06463"));
        existing
            .versions
            .insert(code("06463"), vec![version(day(2026, 1, 1), None, "Xã Chi Lăng", Kind::Commune, Some("20"))]);
        let plan = plan(&tree, &existing, d1(), from_2020()).expect("plan");
        assert!(plan.inserts.contains(&(
            code("06463"),
            version(d1(), Some(day(2026, 1, 1)), "Xã Chi Lăng", Kind::Commune, Some("20"))
        )));
    }

    #[test]
    fn stored_links_are_kept_corrected_or_listed_never_deleted() {
        let tree = tree();
        let first = plan(&tree, &Existing::default(), d1(), from_2020()).expect("plan");
        let mut existing = stored(&first);
        existing.links.insert((code("06466"), code("06463")), SuccessionKind::Split);
        existing.links.insert((code("187"), code("20")), SuccessionKind::Merge);
        let plan = plan(&tree, &existing, d1(), from_2020()).expect("plan");
        assert_eq!(plan.relinks, [(code("06466"), code("06463"), SuccessionKind::Merge)]);
        assert_eq!(plan.summary.unlisted_links, [(code("187"), code("20"), SuccessionKind::Merge)]);
        assert!(plan.new_links.is_empty());
        assert_eq!(plan.changed, BTreeSet::from([code("06463"), code("06466")]));
    }

    #[test]
    fn stored_localities_the_lists_lack_are_listed_and_kept() {
        let tree = tree();
        let mut existing = Existing::default();
        existing.heads.insert(code("06469"));
        existing
            .versions
            .insert(code("06469"), vec![version(from_2020(), None, "Xã Ngoài Danh Sách", Kind::Commune, Some("187"))]);
        let plan = plan(&tree, &existing, d1(), from_2020()).expect("plan");
        let unlisted: Vec<(&str, NaiveDate)> = plan.summary.unlisted.iter().map(|u| (u.code.as_str(), u.day)).collect();
        assert_eq!(unlisted, [("06469", day(2025, 6, 30)), ("06469", d1())]);
        assert!(!plan.touched.contains(&code("06469")));
    }

    #[test]
    fn a_stored_history_that_cannot_take_the_official_versions_is_refused() {
        let tree = tree();
        let mut existing = Existing::default();
        existing.heads.insert(code("06463"));
        // A stored version of the wrong tier's kind cannot be kept beside the official ones.
        existing.versions.insert(
            code("06463"),
            vec![version(from_2020(), Some(day(2021, 1, 1)), "Huyện Lạ", Kind::RuralDistrict, Some("20"))],
        );
        let violations = plan(&tree, &existing, d1(), from_2020()).expect_err("refused");
        assert!(violations.iter().all(|v| v.subject == "localities/06463"), "{violations:?}");
    }

    #[test]
    fn the_old_tree_must_start_before_the_reorganisation() {
        assert!(plan(&tree(), &Existing::default(), d1(), d1()).is_err());
    }
}
