//! The candidates of a pool on a date, each with their compliance with the standard of
//! the pool's post that day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::rules::{Candidate, Pool};
use crate::{
    domain::date::period_contains,
    error::Result,
    people::rules::person::Category,
    sql::{self, FromQueryResult, raw_sql},
    standards::compliance::{ComplianceStatus, held_levels, in_force, ranked_minimums},
    standards::rules::{PostFacts, RankedLevel, applicable, unmet},
};

/// A membership in force on a date, with what compliance needs of the person.
#[derive(Debug, FromQueryResult)]
struct CandidateRow {
    person_id: i64,
    added_on: NaiveDate,
    added_reason: String,
    removed_on: Option<NaiveDate>,
    removed_reason: Option<String>,
    full_name: String,
    category: String,
    employed_from: NaiveDate,
    employed_until: Option<NaiveDate>,
}

/// The candidates of `pool` on `day`, by the day added then person, each with their
/// compliance with the standard of the pool's post that day.
pub async fn candidates_on(conn: &impl ConnectionTrait, pool: &Pool, day: NaiveDate) -> Result<Vec<Candidate>> {
    let pool_id = pool.name.id();
    let rows: Vec<CandidateRow> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT c.person_id, c.added_on, c.added_reason, c.removed_on, c.removed_reason, p.full_name, \
             p.category, p.employed_from, p.employed_until FROM pool_candidates c JOIN people p ON p.id = c.person_id \
             WHERE c.pool_id = {pool_id} AND c.added_on <= {day} AND (c.removed_on IS NULL OR c.removed_on > {day}) \
             ORDER BY c.added_on, c.person_id"
        ),
    )
    .await?;
    let standards = in_force(conn, day).await?;
    let mut minimums_of: BTreeMap<i64, Vec<RankedLevel>> = BTreeMap::new();
    let mut candidates = Vec::with_capacity(rows.len());
    for row in rows {
        let (status, missing) = if period_contains(row.employed_from, row.employed_until, day) {
            let facts = PostFacts {
                tier: Some(pool.locality.tier()),
                category: Category::from_db(&row.category),
                leader: pool.spec.leader_post,
                post_title: pool.spec.post_title.clone(),
            };
            match applicable(&standards, &facts, day) {
                None => (ComplianceStatus::NoStandard, Vec::new()),
                Some(standard) => {
                    let minimums = match minimums_of.get(&standard.id) {
                        Some(m) => m.clone(),
                        None => {
                            let m = ranked_minimums(conn, standard.id).await?;
                            minimums_of.insert(standard.id, m.clone());
                            m
                        }
                    };
                    let held: BTreeMap<String, RankedLevel> = held_levels(conn, row.person_id, day)
                        .await?
                        .into_iter()
                        .map(|h| (h.level.scale.clone(), h))
                        .collect();
                    let missing = unmet(&minimums, &held);
                    let status =
                        if missing.is_empty() { ComplianceStatus::Compliant } else { ComplianceStatus::NotCompliant };
                    (status, missing)
                }
            }
        } else {
            (ComplianceStatus::NotPlaced, Vec::new())
        };
        candidates.push(Candidate {
            person_id: row.person_id,
            full_name: row.full_name,
            added_on: row.added_on,
            added_reason: row.added_reason,
            removed_on: row.removed_on,
            removed_reason: row.removed_reason,
            status,
            unmet: missing,
        });
    }
    Ok(candidates)
}
