//! The facts a compliance answer needs, typed: the person's employment, the placement
//! in force on the date with its locality's tier that day, the highest level held per
//! scale, and the standards in force; and the answer made of them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::{
    queries::{CriteriaRow, corrupt},
    rules::{Candidate, LevelRef, PostFacts, RankedLevel, Unmet, applicable, unmet},
};
use crate::{
    domain::date::period_contains,
    edge::enums::Table as _,
    error::Result,
    localities::rules::{Code, Tier},
    people::rules::person::Category,
    sql::{self, FromQueryResult, raw_sql},
};

/// A placement as a compliance answer shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRecord {
    /// Its id.
    pub id: i64,
    /// The person's id.
    pub person_id: i64,
    /// The unit's id.
    pub unit_id: i64,
    /// The post.
    pub post_title: String,
    /// Whether it is a leader post.
    pub leader: bool,
    /// Whether it is a key post.
    pub key_post: bool,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day no longer in force.
    pub valid_until: Option<NaiveDate>,
    /// The revision; the etag.
    pub revision: i64,
    /// The unit's locality.
    pub locality: Code,
    /// The locality's tier (fixed by its code).
    pub tier: Tier,
    /// Whether the locality was in force on the date asked; if not, no tier-specific
    /// standard applies.
    pub locality_in_force: bool,
}

/// Whether a person meets the standard of their post on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplianceStatus {
    /// A standard applies and every minimum is met.
    Compliant,
    /// A standard applies and at least one minimum is not met.
    NotCompliant,
    /// The person is placed but no standard applies.
    NoStandard,
    /// The person is not employed or has no placement on the date.
    NotPlaced,
}

/// A person's compliance on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compliance {
    /// The answer.
    pub status: ComplianceStatus,
    /// The placement in force, if the person is employed and placed.
    pub placement: Option<PlacementRecord>,
    /// The id of the standard applied.
    pub standard_id: Option<i64>,
    /// Every unmet minimum, ordered by scale.
    pub unmet: Vec<Unmet>,
    /// The highest level held per scale, ordered by scale.
    pub held: Vec<LevelRef>,
}

#[derive(Debug, FromQueryResult)]
struct PlacementRow {
    id: i64,
    person_id: i64,
    unit_id: i64,
    post_title: String,
    is_leader: bool,
    is_key_post: bool,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    revision: i64,
    locality_code: String,
    tier: String,
    in_force: i32,
}

/// The placement of `person_id` in force on `day`, with its locality and whether that
/// locality was in force that day (placements do not overlap; should they, the latest
/// begun wins).
pub async fn placement_on(
    conn: &impl ConnectionTrait,
    person_id: i64,
    day: NaiveDate,
) -> Result<Option<PlacementRecord>> {
    let row: Option<PlacementRow> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT p.id, p.person_id, p.unit_id, p.post_title, p.is_leader, p.is_key_post, p.valid_from, \
             p.valid_until, p.revision, u.locality_code, l.tier, \
             CASE WHEN v.code IS NULL THEN 0 ELSE 1 END AS in_force \
             FROM placements p JOIN units u ON u.id = p.unit_id JOIN localities l ON l.code = u.locality_code \
             LEFT JOIN locality_versions v ON v.code = u.locality_code AND v.valid_from <= {day} \
               AND (v.valid_until IS NULL OR v.valid_until > {day}) \
             WHERE p.person_id = {person_id} AND p.valid_from <= {day} AND (p.valid_until IS NULL OR p.valid_until > {day}) \
             ORDER BY p.valid_from DESC, p.id DESC LIMIT 1"
        ),
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(PlacementRecord {
        id: row.id,
        person_id: row.person_id,
        unit_id: row.unit_id,
        post_title: row.post_title,
        leader: row.is_leader,
        key_post: row.is_key_post,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        revision: row.revision,
        locality: Code::from_db(row.locality_code),
        tier: Tier::from_stored(&row.tier).ok_or_else(|| corrupt("tier", &row.tier))?,
        locality_in_force: row.in_force == 1,
    }))
}

#[derive(Debug, FromQueryResult)]
struct RankedRow {
    scale_code: String,
    level_code: String,
    level_rank: i32,
}

impl From<RankedRow> for RankedLevel {
    fn from(row: RankedRow) -> Self {
        RankedLevel { level: LevelRef::new(row.scale_code, row.level_code), rank: row.level_rank }
    }
}

/// The highest level `person_id` holds in each scale on `day` (qualifications awarded
/// on or before it), ordered by scale; of levels tied at the top rank, the one
/// awarded last.
pub async fn held_levels(conn: &impl ConnectionTrait, person_id: i64, day: NaiveDate) -> Result<Vec<RankedLevel>> {
    let rows: Vec<RankedRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT scale_code, level_code, level_rank FROM (\
               SELECT q.scale_code, q.level_code, s.rank AS level_rank, ROW_NUMBER() OVER (\
                 PARTITION BY q.scale_code ORDER BY s.rank DESC, q.awarded_on DESC, q.id DESC) AS n \
               FROM qualifications q JOIN scale_levels s ON s.scale_code = q.scale_code AND s.code = q.level_code \
               WHERE q.person_id = {person_id} AND q.awarded_on <= {day}) ranked \
             WHERE n = 1 ORDER BY scale_code"
        ),
    )
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[derive(Debug, FromQueryResult)]
struct CandidateRow {
    id: i64,
    tier: Option<String>,
    category: Option<String>,
    leadership: Option<String>,
    post_title: Option<String>,
    effective_from: NaiveDate,
    effective_until: Option<NaiveDate>,
}

/// The standards in force on `day`, as candidates for a placement.
pub async fn in_force(conn: &impl ConnectionTrait, day: NaiveDate) -> Result<Vec<Candidate>> {
    let rows: Vec<CandidateRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, tier, category, leadership, post_title, effective_from, effective_until FROM standards \
             WHERE effective_from <= {day} AND (effective_until IS NULL OR effective_until > {day}) ORDER BY id"
        ),
    )
    .await?;
    rows.into_iter()
        .map(|row| {
            let CandidateRow { id, tier, category, leadership, post_title, effective_from, effective_until } = row;
            Ok(Candidate {
                id,
                applies_to: CriteriaRow { tier, category, leadership, post_title }.try_into()?,
                effective_from,
                effective_until,
            })
        })
        .collect()
}

/// The minimums of a standard with their ranks, ordered by scale.
pub async fn ranked_minimums(conn: &impl ConnectionTrait, standard_id: i64) -> Result<Vec<RankedLevel>> {
    let rows: Vec<RankedRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT m.scale_code, m.level_code, s.rank AS level_rank FROM standard_minimums m \
             JOIN scale_levels s ON s.scale_code = m.scale_code AND s.code = m.level_code \
             WHERE m.standard_id = {standard_id} ORDER BY m.scale_code"
        ),
    )
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Whether `person_id` meets the standard of their post on `day`; `None` if the person
/// does not exist.
pub async fn compliance(conn: &impl ConnectionTrait, person_id: i64, day: NaiveDate) -> Result<Option<Compliance>> {
    #[derive(FromQueryResult)]
    struct PersonRow {
        category: String,
        employed_from: NaiveDate,
        employed_until: Option<NaiveDate>,
    }
    let person: Option<PersonRow> = sql::one(
        conn,
        raw_sql!(Postgres, "SELECT category, employed_from, employed_until FROM people WHERE id = {person_id}"),
    )
    .await?;
    let Some(person) = person else { return Ok(None) };
    let employed = period_contains(person.employed_from, person.employed_until, day);
    let held = held_levels(conn, person_id, day).await?;
    let held_names: Vec<LevelRef> = held.iter().map(|h| h.level.clone()).collect();
    let placement = if employed { placement_on(conn, person_id, day).await? } else { None };
    let Some(placement) = placement else {
        return Ok(Some(Compliance {
            status: ComplianceStatus::NotPlaced,
            placement: None,
            standard_id: None,
            unmet: Vec::new(),
            held: held_names,
        }));
    };
    let facts = PostFacts {
        tier: Some(placement.tier).filter(|_| placement.locality_in_force),
        category: Some(Category::from_db(&person.category).ok_or_else(|| corrupt("category", &person.category))?),
        leader: placement.leader,
        post_title: placement.post_title.clone(),
    };
    let candidates = in_force(conn, day).await?;
    let Some(standard) = applicable(&candidates, &facts, day) else {
        return Ok(Some(Compliance {
            status: ComplianceStatus::NoStandard,
            placement: Some(placement),
            standard_id: None,
            unmet: Vec::new(),
            held: held_names,
        }));
    };
    let minimums = ranked_minimums(conn, standard.id).await?;
    let by_scale: BTreeMap<String, RankedLevel> = held.into_iter().map(|h| (h.level.scale.clone(), h)).collect();
    let unmet = unmet(&minimums, &by_scale);
    Ok(Some(Compliance {
        status: if unmet.is_empty() { ComplianceStatus::Compliant } else { ComplianceStatus::NotCompliant },
        placement: Some(placement),
        standard_id: Some(standard.id),
        unmet,
        held: held_names,
    }))
}
