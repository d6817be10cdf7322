//! The SQL of staffing quotas and headcounts, typed. Headcounts are aggregated in the
//! database: people employed on the date whose placement that day is in the unit, or
//! in a unit whose locality lies in the locality's subtree as the tree stood that day.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::ConnectionTrait;

use super::rules::{HeadcountRow, NewQuota, QuotaRecord, Target, headcount_rows};
use crate::{
    error::{Error, Result},
    localities::rules::Code,
    people::rules::person::Category,
    scope::scope_codes,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// A quota as stored.
#[derive(Debug, FromQueryResult)]
struct QuotaRow {
    id: i64,
    unit_id: Option<i64>,
    locality_code: Option<String>,
    year: i32,
    category: String,
    quota: i32,
    revision: i64,
}

impl TryFrom<QuotaRow> for QuotaRecord {
    type Error = Error;

    fn try_from(row: QuotaRow) -> Result<Self> {
        let target = match (row.unit_id, row.locality_code) {
            (Some(unit), _) => Target::Unit(unit),
            (None, Some(code)) => Target::Locality(Code::from_db(code)),
            (None, None) => return Err(Error::internal("a stored quota has neither unit nor locality")),
        };
        Ok(Self {
            id: row.id,
            target,
            year: row.year,
            category: Category::from_db(&row.category)
                .ok_or_else(|| Error::internal(format!("stored category `{}` is unknown", row.category)))?,
            quota: row.quota,
            revision: row.revision,
        })
    }
}

#[derive(Debug, FromQueryResult)]
struct Id {
    id: i64,
}

const COLUMNS: &str = "q.id, q.unit_id, q.locality_code, q.year, q.category, q.quota, q.revision";

/// Loads quota `id`.
pub async fn load(conn: &impl ConnectionTrait, id: i64) -> Result<Option<QuotaRecord>> {
    let row: Option<QuotaRow> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT q.id, q.unit_id, q.locality_code, q.year, q.category, q.quota, q.revision \
             FROM staffing_quotas q WHERE q.id = {id}"
        ),
    )
    .await?;
    row.map(QuotaRecord::try_from).transpose()
}

/// The locality that scopes quota `id`: its locality, or its unit's.
pub async fn quota_locality(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Code>> {
    #[derive(FromQueryResult)]
    struct Scoped {
        code: Option<String>,
    }
    let row: Option<Scoped> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT COALESCE(q.locality_code, u.locality_code) AS code FROM staffing_quotas q \
             LEFT JOIN units u ON u.id = q.unit_id WHERE q.id = {id}"
        ),
    )
    .await?;
    Ok(row.and_then(|r| r.code).map(Code::from_db))
}

/// Whether what `target` names exists.
pub async fn target_exists(conn: &impl ConnectionTrait, target: &Target) -> Result<bool> {
    let statement = match target {
        Target::Unit(id) => raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM units WHERE id = {id}"),
        Target::Locality(code) => raw_sql!(Postgres, "SELECT COUNT(*) AS n FROM localities WHERE code = {code}"),
    };
    Ok(sql::count(conn, statement).await? > 0)
}

/// The quota for the same target, year and category as `new`, if there is one.
pub async fn holder(conn: &impl ConnectionTrait, new: &NewQuota) -> Result<Option<i64>> {
    let (year, category) = (new.year, new.category.as_str());
    let statement = match &new.target {
        Target::Unit(id) => raw_sql!(
            Postgres,
            "SELECT id FROM staffing_quotas WHERE unit_id = {id} AND year = {year} AND category = {category}"
        ),
        Target::Locality(code) => raw_sql!(
            Postgres,
            "SELECT id FROM staffing_quotas WHERE locality_code = {code} AND year = {year} AND category = {category}"
        ),
    };
    Ok(sql::one::<Id>(conn, statement).await?.map(|r| r.id))
}

/// Inserts a quota; its id.
pub async fn insert(conn: &impl ConnectionTrait, new: &NewQuota) -> Result<i64> {
    let (unit, locality) = match &new.target {
        Target::Unit(id) => (Some(*id), None),
        Target::Locality(code) => (None, Some(code.as_str().to_owned())),
    };
    let (year, category, quota) = (new.year, new.category.as_str(), new.quota);
    let row: Option<Id> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "INSERT INTO staffing_quotas (unit_id, locality_code, year, category, quota, revision) \
             VALUES ({unit}, {locality}, {year}, {category}, {quota}, 1) RETURNING id"
        ),
    )
    .await?;
    row.map(|r| r.id).ok_or_else(|| Error::internal("inserting a quota returned no id"))
}

/// Sets quota `id`'s number if it is still at `revision`; whether it was.
pub async fn update(conn: &impl ConnectionTrait, id: i64, revision: i64, quota: i32) -> Result<bool> {
    let changed = sql::execute(
        conn,
        raw_sql!(
            Postgres,
            "UPDATE staffing_quotas SET quota = {quota}, revision = revision + 1 \
             WHERE id = {id} AND revision = {revision}"
        ),
    )
    .await?;
    Ok(changed == 1)
}

/// Deletes quota `id`.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    sql::execute(conn, raw_sql!(Postgres, "DELETE FROM staffing_quotas WHERE id = {id}")).await?;
    Ok(())
}

/// The quotas of `locality`, of its subtree's localities (in any version of the tree)
/// and of their units, optionally of one year, after an id, by id.
pub async fn list(
    conn: &impl ConnectionTrait,
    locality: &Code,
    year: Option<i32>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<QuotaRecord>> {
    let mut q = Query::new("WITH RECURSIVE ");
    q.append(scope_codes(&[locality.clone()].into_iter().collect()));
    q.push(format!(
        " SELECT {COLUMNS} FROM staffing_quotas q LEFT JOIN units u ON u.id = q.unit_id \
         WHERE (q.locality_code IN (SELECT code FROM scope_codes) OR u.locality_code IN (SELECT code FROM scope_codes))"
    ));
    if let Some(year) = year {
        q.push(" AND q.year = ").bind(year);
    }
    if let Some(after) = after {
        q.push(" AND q.id > ").bind(after);
    }
    q.push(" ORDER BY q.id LIMIT ").bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let rows: Vec<QuotaRow> = sql::all(conn, q.build()).await?;
    rows.into_iter().map(QuotaRecord::try_from).collect()
}

#[derive(Debug, FromQueryResult)]
struct ByCategory {
    category: String,
    n: Option<i64>,
}

fn by_category(rows: Vec<ByCategory>) -> Result<BTreeMap<&'static str, i64>> {
    let mut map = BTreeMap::new();
    for row in rows {
        let Some(category) = Category::from_db(&row.category) else {
            return Err(Error::internal(format!("stored category `{}` is unknown", row.category)));
        };
        *map.entry(category.as_str()).or_insert(0) += row.n.unwrap_or(0);
    }
    Ok(map)
}

/// `WITH RECURSIVE subtree(code) AS (…)`: `code` and the localities under it on `as_of`.
fn subtree(code: &Code, as_of: NaiveDate) -> Query {
    let mut q = Query::new("WITH RECURSIVE subtree(code) AS (SELECT CAST(");
    q.bind(code)
        .push(" AS TEXT) UNION SELECT v.code FROM locality_versions v JOIN subtree s ON v.parent_code = s.code");
    q.push(" WHERE v.valid_from <= ").bind(as_of).push(" AND (v.valid_until IS NULL OR v.valid_until > ").bind(as_of);
    q.push(")) ");
    q
}

/// People employed and placed on `as_of`, by category (`n`), before the target's term.
fn people(as_of: NaiveDate) -> Query {
    let mut q = Query::new(
        "SELECT p.category, COUNT(DISTINCT p.id) AS n FROM people p JOIN placements pl ON pl.person_id = p.id \
         AND pl.valid_from <= ",
    );
    q.bind(as_of).push(" AND (pl.valid_until IS NULL OR pl.valid_until > ").bind(as_of);
    q.push(") JOIN units u ON u.id = pl.unit_id WHERE p.employed_from <= ").bind(as_of);
    q.push(" AND (p.employed_until IS NULL OR p.employed_until > ").bind(as_of).push(")");
    q
}

/// The headcount of `target` on `as_of` by category, against the quotas of its year.
pub async fn headcount(
    conn: &impl ConnectionTrait,
    target: &Target,
    as_of: NaiveDate,
) -> Result<(Vec<HeadcountRow>, HeadcountRow)> {
    let counted = match target {
        Target::Unit(id) => {
            let mut q = people(as_of);
            q.push(" AND pl.unit_id = ").bind(*id).push(" GROUP BY p.category");
            sql::all(conn, q.build()).await?
        }
        Target::Locality(code) => {
            let mut q = subtree(code, as_of);
            q.append(people(as_of)).push(" AND u.locality_code IN (SELECT code FROM subtree) GROUP BY p.category");
            sql::all(conn, q.build()).await?
        }
    };
    Ok(headcount_rows(&by_category(counted)?, &quotas(conn, target, as_of).await?))
}

/// The quotas of `as_of`'s year that apply to `target`, by category: a unit's own, or
/// those of a locality's subtree on `as_of` and of its units.
pub async fn quotas(
    conn: &impl ConnectionTrait,
    target: &Target,
    as_of: NaiveDate,
) -> Result<BTreeMap<&'static str, i64>> {
    let year = as_of.year();
    let rows = match target {
        Target::Unit(id) => {
            sql::all(
                conn,
                raw_sql!(
                    Postgres,
                    "SELECT category, SUM(quota) AS n FROM staffing_quotas \
                     WHERE year = {year} AND unit_id = {id} GROUP BY category"
                ),
            )
            .await?
        }
        Target::Locality(code) => {
            // A locality quota where its locality is, a unit quota where its unit is: two
            // branches, each through its index, rather than one OR that reads every quota
            // of the year.
            let mut q = subtree(code, as_of);
            q.push("SELECT q.category, SUM(q.quota) AS n FROM (SELECT q.category, q.quota FROM staffing_quotas q ");
            q.push("WHERE q.year = ").bind(year).push(" AND q.locality_code IN (SELECT code FROM subtree) UNION ALL ");
            q.push(
                "SELECT q.category, q.quota FROM staffing_quotas q JOIN units u ON u.id = q.unit_id WHERE q.year = ",
            );
            q.bind(year).push(" AND q.locality_code IS NULL AND u.locality_code IN (SELECT code FROM subtree)) q ");
            q.push("GROUP BY q.category");
            sql::all(conn, q.build()).await?
        }
    };
    by_category(rows)
}
