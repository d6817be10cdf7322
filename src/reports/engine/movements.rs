//! The movements of SummarizeRotations held in memory: every rotation with its two
//! units' localities and sectors and its person's category, indexed by the locality of
//! each unit, so that a report reads only the movements touching its tree's localities
//! (a commune's few, never the whole country's).
//!
//! The copy is of one version of `movement_version` (bumped by every transaction that
//! changes a rotation, moves a unit or changes its sector, or changes a person's
//! category: see the migration creating it), and a report reads it only when its
//! snapshot shows that same version; otherwise the SQL answers and the background task
//! loads the new version, as for the training records ([`super::training`]).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::columns::day_number;
use crate::{
    error::{Error, Result},
    movements::rules::{Direction, Kind, Status},
    reports::{
        queries::{Population, tier_lengths},
        rules::activity::{MovementCount, direction_of_code_lengths},
    },
};

/// A day number that means "open" for the end of a movement.
const OPEN: i32 = i32::MAX;

/// A rotation as stored, with its units and person (one row of the load).
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct MovementRow {
    /// Its kind, as stored.
    pub kind: String,
    /// Its status, as stored.
    pub status: String,
    /// Whether a promotion was recorded at the end.
    pub promoted: bool,
    /// Whether the destination post is a leader's.
    pub destination_leader: bool,
    /// First day at the destination.
    pub start_date: NaiveDate,
    /// The actual end, else the planned one; `None`: open.
    pub end_date: Option<NaiveDate>,
    /// The source unit's locality.
    pub source_locality: String,
    /// The source unit's sector, as stored.
    pub source_sector: String,
    /// The destination unit's locality.
    pub destination_locality: String,
    /// The destination unit's sector, as stored.
    pub destination_sector: String,
    /// The person's category, as stored.
    pub category: String,
}

/// One side of a movement: its unit's locality and sector.
#[derive(Debug, Clone, Copy)]
struct Side {
    locality: u32,
    sector: u16,
}

/// A movement, coded.
#[derive(Debug, Clone, Copy)]
struct Movement {
    source: Side,
    destination: Side,
    start: i32,
    end: i32,
    category: u16,
    leader: bool,
    kind: Kind,
    status: Status,
    direction: Direction,
    promoted: bool,
}

/// The movements of one version, in memory.
#[derive(Debug, Default)]
pub struct Movements {
    /// The version of `movement_version` they are of.
    pub version: i64,
    /// Whether they are held (false: a stored value this version does not know, and the
    /// SQL answers, with its error).
    pub indexed: bool,
    localities: Vec<String>,
    sectors: Vec<String>,
    categories: Vec<String>,
    movements: Vec<Movement>,
    /// Per locality: the movements whose source unit lies in it.
    from: HashMap<String, Vec<u32>>,
    /// Per locality: the movements whose destination unit lies in it.
    to: HashMap<String, Vec<u32>>,
}

fn code(values: &mut Vec<String>, codes: &mut HashMap<String, usize>, value: &str) -> usize {
    if let Some(&c) = codes.get(value) {
        return c;
    }
    values.push(value.to_owned());
    codes.insert(value.to_owned(), values.len() - 1);
    values.len() - 1
}

fn small(n: usize) -> Result<u16> {
    u16::try_from(n).map_err(|_| Error::internal("too many distinct values for the report engine"))
}

fn index(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::internal("too many movements for the report engine"))
}

/// What a scope asks of a movement's units, coded for one copy of the movements.
struct Filter<'m> {
    /// Per locality of the tree: its group and whether it is tagged.
    tree: HashMap<&'m str, (usize, bool)>,
    /// The groups' keys.
    groups: Vec<&'m str>,
    lengths: Vec<usize>,
    sectors: Option<Vec<bool>>,
    categories: Option<Vec<bool>>,
    tags: bool,
    leaders_only: bool,
    start: i32,
    end: i32,
}

impl Movements {
    /// The movements of `version` from their rows (in any order).
    pub fn new(version: i64, rows: &[MovementRow]) -> Result<Self> {
        let mut m = Self { version, indexed: true, ..Self::default() };
        let (mut localities, mut sectors, mut categories) = (HashMap::new(), HashMap::new(), HashMap::new());
        for row in rows {
            let (Some(kind), Some(status), Some(direction)) = (
                Kind::from_db(&row.kind),
                Status::from_db(&row.status),
                direction_of_code_lengths(row.source_locality.len(), row.destination_locality.len()),
            ) else {
                return Ok(Self { version, ..Self::default() });
            };
            let source = Side {
                locality: index(code(&mut m.localities, &mut localities, &row.source_locality))?,
                sector: small(code(&mut m.sectors, &mut sectors, &row.source_sector))?,
            };
            let destination = Side {
                locality: index(code(&mut m.localities, &mut localities, &row.destination_locality))?,
                sector: small(code(&mut m.sectors, &mut sectors, &row.destination_sector))?,
            };
            let i = index(m.movements.len())?;
            m.from.entry(row.source_locality.clone()).or_default().push(i);
            m.to.entry(row.destination_locality.clone()).or_default().push(i);
            m.movements.push(Movement {
                source,
                destination,
                start: day_number(row.start_date),
                end: row.end_date.map_or(OPEN, day_number),
                category: small(code(&mut m.categories, &mut categories, &row.category))?,
                leader: row.destination_leader,
                kind,
                status,
                direction,
                promoted: row.promoted,
            });
        }
        m.movements.shrink_to_fit();
        Ok(m)
    }

    /// Movements held.
    pub fn len(&self) -> usize {
        self.movements.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.movements.is_empty()
    }

    fn filter<'m>(&'m self, p: &'m Population, start: NaiveDate, end: NaiveDate) -> Option<Filter<'m>> {
        let (day, tree) = p.tree.as_ref()?;
        if *day != p.as_of {
            return None;
        }
        let mut group_of: HashMap<&str, usize> = HashMap::new();
        let mut groups = Vec::new();
        let tree = tree
            .iter()
            .map(|node| {
                let group = *group_of.entry(node.grp.as_str()).or_insert_with(|| {
                    groups.push(node.grp.as_str());
                    groups.len() - 1
                });
                (node.code.as_str(), (group, node.tagged == 1))
            })
            .collect();
        let mask = |values: &[String], wanted: &dyn Fn(&str) -> bool| values.iter().map(|v| wanted(v)).collect();
        Some(Filter {
            tree,
            groups,
            lengths: tier_lengths(&p.tiers).filter_map(|l| usize::try_from(l).ok()).collect(),
            sectors: (!p.sectors.is_empty()).then(|| mask(&self.sectors, &|s| p.sectors.iter().any(|w| w == s))),
            categories: (!p.categories.is_empty())
                .then(|| mask(&self.categories, &|c| p.categories.iter().any(|w| w.as_str() == c))),
            tags: !p.tags.is_empty(),
            leaders_only: p.leaders_only,
            start: day_number(start),
            end: day_number(end),
        })
    }

    /// The group of a movement's side when it qualifies: its locality in the tree and
    /// its unit passing the sectors, tiers and tags.
    fn side(&self, f: &Filter<'_>, side: Side) -> Option<usize> {
        let locality = self.localities.get(side.locality as usize)?;
        let &(group, tagged) = f.tree.get(locality.as_str())?;
        if let Some(sectors) = &f.sectors
            && !sectors.get(usize::from(side.sector)).copied().unwrap_or(false)
        {
            return None;
        }
        if !f.lengths.is_empty() && !f.lengths.contains(&locality.len()) {
            return None;
        }
        if f.tags && !tagged {
            return None;
        }
        Some(group)
    }

    /// See [`crate::reports::queries::activity::movement_counts`]; `None` when the
    /// population's tree is not resolved for its date.
    pub fn counts(
        &self,
        p: &Population,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Option<Vec<(Option<String>, MovementCount)>> {
        let f = self.filter(p, start, end)?;
        // (group or none for the total, kind, direction, status, promoted) → count.
        type Key = (Option<usize>, Kind, Direction, Status, bool);
        let mut tally: HashMap<Key, i64> = HashMap::new();
        let mut count = |i: u32, source: Option<usize>, destination: Option<usize>| {
            let Some(m) = self.movements.get(i as usize) else { return };
            if m.start > f.end || m.end <= f.start {
                return;
            }
            if let Some(wanted) = &f.categories
                && !wanted.get(usize::from(m.category)).copied().unwrap_or(false)
            {
                return;
            }
            if f.leaders_only && !m.leader {
                return;
            }
            let mut add = |group| *tally.entry((group, m.kind, m.direction, m.status, m.promoted)).or_default() += 1;
            add(None);
            if p.by_child {
                if let Some(g) = source {
                    add(Some(g));
                }
                if let Some(g) = destination
                    && source != Some(g)
                {
                    add(Some(g));
                }
            }
        };
        for node in p.tree.as_ref().map(|(_, t)| t.as_slice()).unwrap_or_default() {
            // A movement is met from its source's locality when the source qualifies,
            // else from its destination's.
            for &i in self.from.get(&node.code).map(Vec::as_slice).unwrap_or_default() {
                let Some(m) = self.movements.get(i as usize) else { continue };
                if let Some(source) = self.side(&f, m.source) {
                    count(i, Some(source), self.side(&f, m.destination));
                }
            }
            for &i in self.to.get(&node.code).map(Vec::as_slice).unwrap_or_default() {
                let Some(m) = self.movements.get(i as usize) else { continue };
                if self.side(&f, m.source).is_none()
                    && let Some(destination) = self.side(&f, m.destination)
                {
                    count(i, None, Some(destination));
                }
            }
        }
        Some(
            tally
                .into_iter()
                .map(|((group, kind, direction, status, promoted), n)| {
                    let group = group.and_then(|g| f.groups.get(g)).map(|g| (*g).to_owned());
                    (group, MovementCount { kind, direction, status, promoted, count: n })
                })
                .collect(),
        )
    }
}
