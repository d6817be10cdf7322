//! The reference data of reports held in memory: the dated locality tree (versions,
//! tags, succession links) and the levels of the qualification scales, as of one
//! version of `reference_version` (see the migration that creates it: every
//! transaction that changes those tables bumps it, so one version always stands for the
//! same data).
//!
//! A report reads in SQL its snapshot, the caller's authorisation, its scope's tree and
//! tags, the names of its groups and the scales' levels: some ten round trips and two
//! recursive queries, which cost a province report ten times what counting its people
//! does. With this copy they are answered from memory, with exactly the semantics of
//! the SQL they replace ([`crate::scope::is_within`], [`crate::reports::queries`]'s
//! `root_tagged` and `resolve_tree`, the children listed by
//! [`crate::localities::queries::list`]); the differential tests compare both.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;

use crate::{
    domain::{
        date::period_contains,
        locality::{Code, Tier},
    },
    reports::queries::{Population, TreeNode, workforce::ScaleLevels},
};

/// A version of a locality: its period, name and parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// First day in force.
    pub valid_from: NaiveDate,
    /// First day no longer in force; `None` is open-ended.
    pub valid_until: Option<NaiveDate>,
    /// Its name in this version.
    pub name: String,
    /// Its parent in this version; `None` for a province.
    pub parent: Option<String>,
}

/// A locality as the reports read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locality {
    /// Its tier, as stored.
    pub tier: Option<Tier>,
    /// Its versions, ordered by start.
    pub versions: Vec<Period>,
    /// Its tags.
    pub tags: Vec<String>,
}

impl Locality {
    /// The version in force on `day`.
    pub fn version_at(&self, day: NaiveDate) -> Option<&Period> {
        self.versions.iter().find(|v| period_contains(v.valid_from, v.valid_until, day))
    }
}

/// The reference data of one version.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// The version of `reference_version` it was read at.
    pub version: i64,
    localities: HashMap<String, Locality>,
    /// Parent → the localities with a version under it (each once, sorted).
    children: HashMap<String, Vec<String>>,
    /// The localities with a version without parent (sorted).
    tops: Vec<String>,
    /// The scope graph, from below to above: every parent of every version, and the
    /// successors of whole successions (merge, rename), as [`crate::scope::EDGES`].
    ups: HashMap<String, Vec<String>>,
    /// The levels of every scale, as [`crate::reports::queries::workforce::scale_levels`].
    pub levels: ScaleLevels,
}

impl Reference {
    /// The reference data of `localities` (with their versions and tags), the scope
    /// graph's succession edges `(successor, predecessor)` and the scales' `levels`.
    pub fn new(
        version: i64,
        localities: HashMap<String, Locality>,
        successions: Vec<(String, String)>,
        levels: ScaleLevels,
    ) -> Self {
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        let mut tops = Vec::new();
        let mut ups: HashMap<String, Vec<String>> = HashMap::new();
        for (code, locality) in &localities {
            let mut parents: Vec<&String> = locality.versions.iter().filter_map(|v| v.parent.as_ref()).collect();
            parents.sort();
            parents.dedup();
            for parent in parents {
                children.entry(parent.clone()).or_default().push(code.clone());
                ups.entry(code.clone()).or_default().push(parent.clone());
            }
            if locality.versions.iter().any(|v| v.parent.is_none()) {
                tops.push(code.clone());
            }
        }
        for (successor, predecessor) in successions {
            ups.entry(predecessor).or_default().push(successor);
        }
        children.values_mut().for_each(|codes| codes.sort());
        tops.sort();
        Self { version, localities, children, tops, ups, levels }
    }

    /// Whether the locality exists.
    pub fn exists(&self, code: &Code) -> bool {
        self.localities.contains_key(code.as_str())
    }

    /// The locality's name on `day` (empty when it is not in force then), or `None` when
    /// it does not exist.
    pub fn name_at(&self, code: &str, day: NaiveDate) -> Option<String> {
        let locality = self.localities.get(code)?;
        Some(locality.version_at(day).map(|v| v.name.clone()).unwrap_or_default())
    }

    /// Whether `code` lies within the scope of one of `roots`: a root is `code` itself
    /// or above it in the scope graph (see [`crate::scope::is_within`]).
    pub fn is_within(&self, code: &Code, roots: &BTreeSet<Code>) -> bool {
        let wanted: HashSet<&str> = roots.iter().map(Code::as_str).collect();
        let mut seen: HashSet<&str> = HashSet::from([code.as_str()]);
        let mut stack = vec![code.as_str()];
        while let Some(current) = stack.pop() {
            if wanted.contains(current) {
                return true;
            }
            for up in self.ups.get(current).into_iter().flatten() {
                if seen.insert(up.as_str()) {
                    stack.push(up.as_str());
                }
            }
        }
        false
    }

    /// Whether the population's root or one of its ancestors (up to three) on its date
    /// carries one of its tags (see [`crate::reports::queries::root_tagged`]).
    pub fn root_tagged(&self, p: &Population) -> bool {
        let Some(root) = &p.root else { return false };
        if p.tags.is_empty() {
            return false;
        }
        let mut chain = vec![root.as_str().to_owned()];
        let mut current = root.as_str().to_owned();
        while let Some(parent) =
            self.localities.get(&current).and_then(|l| l.version_at(p.as_of)).and_then(|v| v.parent.clone())
        {
            chain.push(parent.clone());
            current = parent;
            if chain.len() > 3 {
                break;
            }
        }
        chain.iter().filter_map(|code| self.localities.get(code)).any(|l| l.tags.iter().any(|t| p.tags.contains(t)))
    }

    fn tagged(&self, code: &str, tags: &[String]) -> bool {
        !tags.is_empty() && self.localities.get(code).is_some_and(|l| l.tags.iter().any(|t| tags.contains(t)))
    }

    /// The localities in force on `day` whose version then has `parent` as parent
    /// (`None`: the provinces' level), sorted by code.
    fn children_at<'a>(&'a self, parent: Option<&str>, day: NaiveDate) -> impl Iterator<Item = &'a String> + 'a {
        let codes = match parent {
            Some(parent) => self.children.get(parent).map_or(&[][..], Vec::as_slice),
            None => self.tops.as_slice(),
        };
        let parent = parent.map(str::to_owned);
        codes.iter().filter(move |code| {
            self.localities
                .get(code.as_str())
                .and_then(|l| l.version_at(day))
                .is_some_and(|v| v.parent.as_deref() == parent.as_deref())
        })
    }

    /// The localities of the population's tree on its date, with their groups and
    /// whether they are tagged (see [`crate::reports::queries::resolve_tree`]; its
    /// `root_tagged` must be resolved first).
    pub fn tree(&self, p: &Population) -> Vec<TreeNode> {
        let mut nodes = Vec::new();
        match &p.root {
            Some(root) => nodes.push(TreeNode {
                code: root.as_str().to_owned(),
                grp: root.as_str().to_owned(),
                tagged: i32::from(p.root_tagged),
            }),
            None => {
                for code in self.children_at(None, p.as_of) {
                    let grp = if p.by_child { code.clone() } else { "-".to_owned() };
                    nodes.push(TreeNode { code: code.clone(), grp, tagged: i32::from(self.tagged(code, &p.tags)) });
                }
            }
        }
        // Breadth first, as the recursive query walks it; a locality is reached through
        // its parent on the date only, so each at most once (and a cycle, which the
        // rules of the tree forbid, ends when every locality of it was seen).
        let mut seen: HashSet<String> = nodes.iter().map(|n| n.code.clone()).collect();
        let mut next = 0;
        while next < nodes.len() {
            let (code, grp, tagged) = (nodes[next].code.clone(), nodes[next].grp.clone(), nodes[next].tagged);
            let by_child_root = p.by_child && p.root.as_ref().is_some_and(|r| r.as_str() == code);
            for child in self.children_at(Some(&code), p.as_of) {
                if !seen.insert(child.clone()) {
                    continue;
                }
                nodes.push(TreeNode {
                    code: child.clone(),
                    grp: if by_child_root { child.clone() } else { grp.clone() },
                    tagged: if tagged == 1 { 1 } else { i32::from(self.tagged(child, &p.tags)) },
                });
            }
            next += 1;
        }
        nodes
    }

    /// The groups of a by-child report: the localities in force on `day` under `root`
    /// (for the whole country, the provinces in force), sorted by code, at most `limit`.
    pub fn child_codes(&self, root: Option<&Code>, day: NaiveDate, limit: usize) -> Vec<String> {
        match root {
            Some(root) => self.children_at(Some(root.as_str()), day).take(limit).cloned().collect(),
            None => {
                let mut provinces: Vec<&String> = self
                    .localities
                    .iter()
                    .filter(|(_, l)| l.tier == Some(Tier::Province) && l.version_at(day).is_some())
                    .map(|(code, _)| code)
                    .collect();
                provinces.sort();
                provinces.into_iter().take(limit).cloned().collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn period(from: NaiveDate, until: Option<NaiveDate>, parent: Option<&str>) -> Period {
        Period { valid_from: from, valid_until: until, name: String::new(), parent: parent.map(str::to_owned) }
    }

    /// Province 01 with district 001 (ended 2025-07-01) holding commune 00001, which
    /// moved under the province then; province 02 merged into 01 on that day.
    fn sample() -> Reference {
        let cut = day(2025, 7, 1);
        let start = day(2000, 1, 1);
        let mut localities = HashMap::new();
        let locality = |tier, versions, tags: &[&str]| Locality {
            tier: Some(tier),
            versions,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        };
        localities.insert("01".to_owned(), locality(Tier::Province, vec![period(start, None, None)], &["border_area"]));
        localities.insert("02".to_owned(), locality(Tier::Province, vec![period(start, Some(cut), None)], &[]));
        localities.insert(
            "001".to_owned(),
            locality(Tier::District, vec![period(start, Some(cut), Some("01"))], &["ethnic_minority_area"]),
        );
        localities.insert(
            "00001".to_owned(),
            locality(Tier::Commune, vec![period(start, Some(cut), Some("001")), period(cut, None, Some("01"))], &[]),
        );
        localities.insert("00002".to_owned(), locality(Tier::Commune, vec![period(start, Some(cut), Some("02"))], &[]));
        Reference::new(1, localities, vec![("01".to_owned(), "02".to_owned())], ScaleLevels::new())
    }

    fn population(root: Option<&str>, as_of: NaiveDate, by_child: bool, tags: &[&str]) -> Population {
        Population {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            by_child,
            ..Population::whole(root.map(|r| Code::from_db(r.to_owned())), as_of)
        }
    }

    fn groups(nodes: &[TreeNode]) -> Vec<(&str, &str, i32)> {
        let mut out: Vec<_> = nodes.iter().map(|n| (n.code.as_str(), n.grp.as_str(), n.tagged)).collect();
        out.sort();
        out
    }

    #[test]
    fn a_tree_follows_the_parents_in_force_on_its_date() {
        let reference = sample();
        let before = population(Some("01"), day(2024, 1, 1), true, &[]);
        assert_eq!(groups(&reference.tree(&before)), vec![("00001", "001", 0), ("001", "001", 0), ("01", "01", 0)]);
        let after = population(Some("01"), day(2025, 7, 1), true, &[]);
        assert_eq!(groups(&reference.tree(&after)), vec![("00001", "00001", 0), ("01", "01", 0)]);
        let country = population(None, day(2024, 1, 1), false, &["ethnic_minority_area"]);
        assert_eq!(
            groups(&reference.tree(&country)),
            vec![("00001", "-", 1), ("00002", "-", 0), ("001", "-", 1), ("01", "-", 0), ("02", "-", 0)]
        );
    }

    #[test]
    fn a_tag_of_the_root_or_an_ancestor_tags_the_whole_tree() {
        let reference = sample();
        let mut p = population(Some("001"), day(2024, 1, 1), false, &["border_area"]);
        p.root_tagged = reference.root_tagged(&p);
        assert!(p.root_tagged);
        assert_eq!(groups(&reference.tree(&p)), vec![("00001", "001", 1), ("001", "001", 1)]);
        let other = population(Some("001"), day(2024, 1, 1), false, &["no_such_tag"]);
        assert!(!reference.root_tagged(&other));
    }

    #[test]
    fn scope_follows_every_version_and_whole_successions() {
        let reference = sample();
        let roots = |codes: &[&str]| codes.iter().map(|c| Code::from_db((*c).to_owned())).collect::<BTreeSet<_>>();
        let code = |c: &str| Code::from_db(c.to_owned());
        assert!(reference.is_within(&code("00001"), &roots(&["001"])));
        assert!(reference.is_within(&code("00001"), &roots(&["01"])));
        // The successor of a merge sees the old subtree of what merged into it.
        assert!(reference.is_within(&code("00002"), &roots(&["01"])));
        assert!(!reference.is_within(&code("00001"), &roots(&["02"])));
        assert!(!reference.is_within(&code("01"), &roots(&["001"])));
    }

    #[test]
    fn children_are_those_in_force_under_the_root_on_the_date() {
        let reference = sample();
        let code = Code::from_db("01".to_owned());
        assert_eq!(reference.child_codes(Some(&code), day(2024, 1, 1), 1000), vec!["001"]);
        assert_eq!(reference.child_codes(Some(&code), day(2025, 7, 1), 1000), vec!["00001"]);
        assert_eq!(reference.child_codes(None, day(2024, 1, 1), 1000), vec!["01", "02"]);
        assert_eq!(reference.child_codes(None, day(2025, 7, 1), 1000), vec!["01"]);
        assert!(reference.name_at("99", day(2024, 1, 1)).is_none());
    }
}
