//! The people search (SearchPeople, ExportPeople): people placed on a date in a
//! locality's subtree and the caller's scope, by words of their name and a filter,
//! ordered by id or name, one page at a time.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::{
    domain::{locality::Code, text::escape_like},
    edge::enums::Table as _,
    error::Result,
    people::rules::{
        identity::{PersonalId, StaffCode},
        person::{Category, EmploymentEnd},
    },
    scope,
    sql::{self, FromQueryResult, Query},
};

/// Status filters of the people search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Not yet employed on the date.
    NotYetEmployed,
    /// Employed on the date.
    Active,
    /// Employment ended for this reason before the date.
    Ended(EmploymentEnd),
}

/// One condition of the people search filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeopleCondition {
    /// `category = X` / `!=`.
    Category(bool, Category),
    /// `status = X` / `!=`.
    Status(bool, StatusFilter),
    /// `leader = true|false`: the placement on the date is a leader post.
    Leader(bool),
    /// `personal_id = "…"`: the person carries this number.
    PersonalId(PersonalId),
    /// `staff_code = "…"`: the person carries this staff code (compared by its key).
    StaffCode(StaffCode),
}

/// What a people search selects and how it pages.
#[derive(Debug, Clone)]
pub struct PeopleQuery {
    /// The date.
    pub as_of: NaiveDate,
    /// Only people placed in this locality's subtree on the date.
    pub locality: Option<Code>,
    /// The caller's scope roots; `None` for a national caller.
    pub scope: Option<BTreeSet<Code>>,
    /// Folded words of the name.
    pub words: Vec<String>,
    /// Filter conditions.
    pub conditions: Vec<PeopleCondition>,
    /// Order by folded full name (then id) instead of id.
    pub by_name: bool,
    /// Descending order.
    pub descending: bool,
    /// Resume after this key: the id, and the folded name when ordering by name.
    pub after: Option<(i64, Option<String>)>,
    /// Page size (`None`: everything, for exports).
    pub limit: Option<u64>,
}

/// One page of a people search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The people's ids, in order.
    pub ids: Vec<i64>,
    /// Their folded names, in the same order.
    pub names: Vec<String>,
    /// The key to resume after, when more follow.
    pub next_after: Option<(i64, Option<String>)>,
}

#[derive(Debug, FromQueryResult)]
struct Key {
    id: i64,
    name_folded: String,
}

/// Finds people, one page at a time.
pub async fn search(conn: &impl ConnectionTrait, query: &PeopleQuery) -> Result<SearchPage> {
    let as_of = query.as_of;
    let mut ctes = Vec::new();
    if let Some(roots) = &query.scope {
        ctes.push(scope::scope_codes(roots));
    }
    if let Some(root) = &query.locality {
        let mut cte = Query::new("subtree(code) AS (SELECT CAST(");
        cte.bind(root.as_str()).push(" AS TEXT) UNION SELECT v.code FROM locality_versions v ");
        cte.push("JOIN subtree s ON v.parent_code = s.code WHERE v.valid_from <= ").bind(as_of);
        cte.push(" AND (v.valid_until IS NULL OR v.valid_until > ").bind(as_of).push("))");
        ctes.push(cte);
    }
    let needs_placement = query.locality.is_some()
        || query.scope.is_some()
        || query.conditions.iter().any(|c| matches!(c, PeopleCondition::Leader(_)));
    let mut q = Query::new("");
    for (i, cte) in ctes.into_iter().enumerate() {
        q.push(if i == 0 { "WITH RECURSIVE " } else { ", " });
        q.append(cte);
    }
    q.push(" SELECT p.id, p.name_folded FROM people p");
    if needs_placement {
        q.push(" JOIN placements pl ON pl.person_id = p.id AND pl.valid_from <= ").bind(as_of);
        q.push(" AND (pl.valid_until IS NULL OR pl.valid_until > ").bind(as_of);
        q.push(") JOIN units u ON u.id = pl.unit_id");
    }
    q.push(" WHERE 1 = 1");
    if query.locality.is_some() {
        q.push(" AND u.locality_code IN (SELECT code FROM subtree)");
    }
    if query.scope.is_some() {
        q.push(" AND u.locality_code IN (SELECT code FROM scope_codes)");
    }
    for word in &query.words {
        q.push(" AND p.name_folded LIKE ").bind(format!("%{}%", escape_like(word))).push(" ESCAPE '\\'");
    }
    for condition in &query.conditions {
        match condition {
            PeopleCondition::Category(true, category) => q.push(" AND p.category = ").bind(category.stored()),
            PeopleCondition::Category(false, category) => q.push(" AND p.category <> ").bind(category.stored()),
            PeopleCondition::Leader(leader) => q.push(" AND pl.is_leader = ").bind(*leader),
            PeopleCondition::PersonalId(number) => q.push(" AND p.personal_id = ").bind(number.as_str()),
            PeopleCondition::StaffCode(code) => q.push(" AND p.staff_code_key = ").bind(code.key()),
            PeopleCondition::Status(equal, status) => {
                q.push(if *equal { " AND " } else { " AND NOT " });
                match status {
                    StatusFilter::NotYetEmployed => q.push("p.employed_from > ").bind(as_of),
                    StatusFilter::Active => q
                        .push("(p.employed_from <= ")
                        .bind(as_of)
                        .push(" AND (p.employed_until IS NULL OR p.employed_until > ")
                        .bind(as_of)
                        .push("))"),
                    StatusFilter::Ended(reason) => q
                        .push("(p.employed_until IS NOT NULL AND p.employed_until <= ")
                        .bind(as_of)
                        .push(" AND p.end_reason = ")
                        .bind(reason.stored())
                        .push(")"),
                }
            }
        };
    }
    let (cmp, dir) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
    match &query.after {
        Some((id, Some(name))) if query.by_name => {
            q.push(format!(" AND (p.name_folded {cmp} ")).bind(name.as_str());
            q.push(" OR (p.name_folded = ").bind(name.as_str()).push(format!(" AND p.id {cmp} ")).bind(*id).push("))");
        }
        Some((id, _)) => {
            q.push(format!(" AND p.id {cmp} ")).bind(*id);
        }
        None => {}
    }
    if query.by_name {
        q.push(format!(" ORDER BY p.name_folded {dir}, p.id {dir}"));
    } else {
        q.push(format!(" ORDER BY p.id {dir}"));
    }
    if let Some(limit) = query.limit {
        q.push(" LIMIT ").bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
    }
    let mut keys: Vec<Key> = sql::all(conn, q.build()).await?;
    let more = query.limit.is_some_and(|limit| keys.len() as u64 > limit);
    if let Some(limit) = query.limit {
        keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(SearchPage {
        next_after: keys.last().filter(|_| more).map(|k| (k.id, query.by_name.then(|| k.name_folded.clone()))),
        ids: keys.iter().map(|k| k.id).collect(),
        names: keys.into_iter().map(|k| k.name_folded).collect(),
    })
}
