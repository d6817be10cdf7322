//! Staffing quotas (biên chế) and headcount against them.
//!
//! A quota is for a unit or for a locality as a whole, per year and category; quotas
//! are additive. Headcounts are aggregated in the database: people employed on the
//! date whose placement that day is in the unit, or in a unit whose locality lies in
//! the locality's subtree as the tree stood that day.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Value};
use serde_json::json;

use super::{audit, begin_write, locality_write::Idempotency, scope::scope_codes_cte, stmt};
use crate::{
    context::RequestContext,
    domain::{etag, locality::Code, person::Category},
    error::{Error, Result},
};

/// The collection segment of quota resource names.
pub const COLLECTION: &str = "staffingQuotas";

/// The resource name of a quota.
pub fn quota_name(id: i64) -> String {
    format!("{COLLECTION}/{id}")
}

/// What a quota or a headcount is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One unit.
    Unit(i64),
    /// A locality (for a quota, the locality as a whole; for a headcount, its subtree).
    Locality(Code),
}

/// A quota as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaRecord {
    /// Its id.
    pub id: i64,
    /// What it is for.
    pub target: Target,
    /// The year.
    pub year: i32,
    /// The category counted.
    pub category: Category,
    /// The number of posts.
    pub quota: i32,
    /// Incremented on every change; the etag.
    pub revision: i64,
}

impl QuotaRecord {
    /// Its resource name.
    pub fn name(&self) -> String {
        quota_name(self.id)
    }
}

const COLUMNS: &str = "q.id, q.unit_id, q.locality_code, q.year, q.category, q.quota, q.revision";

fn record_of(row: &QueryResult) -> Result<QuotaRecord> {
    let unit: Option<i64> = row.try_get("", "unit_id")?;
    let locality: Option<String> = row.try_get("", "locality_code")?;
    let target = match (unit, locality) {
        (Some(unit), _) => Target::Unit(unit),
        (None, Some(code)) => Target::Locality(Code::from_db(code)),
        (None, None) => return Err(Error::internal("a stored quota has neither unit nor locality")),
    };
    let category: String = row.try_get("", "category")?;
    Ok(QuotaRecord {
        id: row.try_get("", "id")?,
        target,
        year: row.try_get("", "year")?,
        category: Category::from_db(&category)
            .ok_or_else(|| Error::internal(format!("stored category `{category}` is unknown")))?,
        quota: row.try_get("", "quota")?,
        revision: row.try_get("", "revision")?,
    })
}

/// Loads quota `id`.
pub async fn load(conn: &impl ConnectionTrait, id: i64) -> Result<Option<QuotaRecord>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            &format!("SELECT {COLUMNS} FROM staffing_quotas q WHERE q.id = ?"),
            vec![id.into()],
        ))
        .await?;
    row.as_ref().map(record_of).transpose()
}

/// The locality that scopes quota `id`: its locality, or its unit's.
pub async fn quota_locality(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Code>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT COALESCE(q.locality_code, u.locality_code) AS code FROM staffing_quotas q \
             LEFT JOIN units u ON u.id = q.unit_id WHERE q.id = ?",
            vec![id.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<Option<String>>("", "code"))
        .transpose()?
        .flatten()
        .map(|c| Ok(Code::from_db(c)))
        .transpose()
}

fn check_etag(given: Option<&str>, record: &QuotaRecord) -> Result<()> {
    match given {
        Some(given) if given != etag(record.revision) => Err(Error::Aborted(format!(
            "{} changed since it was read (etag {given}, now {}); read it again",
            record.name(),
            etag(record.revision)
        ))),
        _ => Ok(()),
    }
}

fn target_values(target: &Target) -> (Value, Value) {
    match target {
        Target::Unit(id) => (Some(*id).into(), Option::<String>::None.into()),
        Target::Locality(code) => (Option::<i64>::None.into(), Some(code.as_str().to_owned()).into()),
    }
}

fn target_name(target: &Target) -> String {
    match target {
        Target::Unit(id) => format!("units/{id}"),
        Target::Locality(code) => code.name(),
    }
}

/// A quota to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuota {
    /// What it is for.
    pub target: Target,
    /// The year.
    pub year: i32,
    /// The category.
    pub category: Category,
    /// The number of posts.
    pub quota: i32,
}

/// Creates a quota; one per unit (or locality), year and category.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    new: &NewQuota,
    idem: &Idempotency,
) -> Result<QuotaRecord> {
    const METHOD: &str = "CreateStaffingQuota";
    let txn = begin_write(db).await?;
    if let Some(resource) = audit::replayed(&txn, METHOD, idem.request_id.as_deref(), &idem.fingerprint).await? {
        let id = resource.strip_prefix("staffingQuotas/").and_then(|id| id.parse::<i64>().ok());
        let record = match id {
            Some(id) => load(&txn, id).await?,
            None => None,
        };
        txn.rollback().await?;
        return record.ok_or(Error::NotFound(resource));
    }
    let backend = txn.get_database_backend();
    let (exists_sql, field, key): (&str, &str, Value) = match &new.target {
        Target::Unit(id) => ("SELECT id FROM units WHERE id = ?", "staffing_quota.unit", (*id).into()),
        Target::Locality(code) => {
            ("SELECT code FROM localities WHERE code = ?", "staffing_quota.locality", code.as_str().into())
        }
    };
    if txn.query_one_raw(stmt(backend, exists_sql, vec![key.clone()])).await?.is_none() {
        return Err(Error::invalid(field, format!("{} does not exist", target_name(&new.target))));
    }
    let column = match new.target {
        Target::Unit(_) => "unit_id",
        Target::Locality(_) => "locality_code",
    };
    let existing = txn
        .query_one_raw(stmt(
            backend,
            &format!("SELECT id FROM staffing_quotas WHERE {column} = ? AND year = ? AND category = ?"),
            vec![key, new.year.into(), new.category.as_str().into()],
        ))
        .await?;
    if let Some(row) = existing {
        let id: i64 = row.try_get("", "id")?;
        return Err(Error::AlreadyExists(format!(
            "{} (the quota of {} for {} in {})",
            quota_name(id),
            target_name(&new.target),
            new.category.as_str(),
            new.year
        )));
    }
    let (unit, locality) = target_values(&new.target);
    let row = txn
        .query_one_raw(stmt(
            backend,
            "INSERT INTO staffing_quotas (unit_id, locality_code, year, category, quota, revision) \
             VALUES (?, ?, ?, ?, ?, 1) RETURNING id",
            vec![unit, locality, new.year.into(), new.category.as_str().into(), new.quota.into()],
        ))
        .await?
        .ok_or_else(|| Error::internal("insert returned no id"))?;
    let id: i64 = row.try_get("", "id")?;
    let name = quota_name(id);
    if let Some(request_id) = &idem.request_id {
        audit::remember_request(&txn, METHOD, request_id, &idem.fingerprint, &name).await?;
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        METHOD,
        &name,
        idem.request_id.as_deref(),
        json!({
            "for": target_name(&new.target),
            "year": new.year,
            "category": new.category.as_str(),
            "quota": new.quota,
        }),
    )
    .await?;
    let record = load(&txn, id).await?.ok_or_else(|| Error::internal("created quota vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(record)
}

/// Updates a quota's number.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    etag_given: Option<&str>,
    quota: i32,
) -> Result<QuotaRecord> {
    let txn = begin_write(db).await?;
    let record = load(&txn, id).await?.ok_or_else(|| Error::NotFound(quota_name(id)))?;
    check_etag(etag_given, &record)?;
    let result = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE staffing_quotas SET quota = ?, revision = revision + 1 WHERE id = ? AND revision = ?",
            vec![quota.into(), id.into(), record.revision.into()],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(Error::Aborted(format!("{} changed concurrently; read it again", record.name())));
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "UpdateStaffingQuota",
        &record.name(),
        None,
        json!({ "quota": quota, "was": record.quota }),
    )
    .await?;
    let updated = load(&txn, id).await?.ok_or_else(|| Error::internal("updated quota vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

/// Deletes a quota.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, id: i64, etag_given: Option<&str>) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load(&txn, id).await?.ok_or_else(|| Error::NotFound(quota_name(id)))?;
    check_etag(etag_given, &record)?;
    txn.execute_raw(stmt(txn.get_database_backend(), "DELETE FROM staffing_quotas WHERE id = ?", vec![id.into()]))
        .await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "DeleteStaffingQuota",
        &record.name(),
        None,
        json!({ "for": target_name(&record.target), "year": record.year, "quota": record.quota }),
    )
    .await?;
    super::commit(txn, ctx).await
}

/// One page of quotas and the id to resume after, if more follow.
#[derive(Debug, Clone)]
pub struct QuotaPage {
    /// The quotas, by id.
    pub quotas: Vec<QuotaRecord>,
    /// The id to resume after.
    pub next_after: Option<i64>,
}

/// Lists the quotas of `locality`, of its subtree's localities (in any version of the
/// tree) and of their units, optionally of one year.
pub async fn list(
    conn: &impl ConnectionTrait,
    locality: &Code,
    year: Option<i32>,
    after: Option<i64>,
    limit: u64,
) -> Result<QuotaPage> {
    let (cte, mut values) = scope_codes_cte(&[locality.clone()].into_iter().collect());
    let mut sql = format!(
        "WITH RECURSIVE {cte} SELECT {COLUMNS} FROM staffing_quotas q LEFT JOIN units u ON u.id = q.unit_id \
         WHERE (q.locality_code IN (SELECT code FROM scope_codes) OR u.locality_code IN (SELECT code FROM scope_codes))"
    );
    if let Some(year) = year {
        sql.push_str(" AND q.year = ?");
        values.push(year.into());
    }
    if let Some(after) = after {
        sql.push_str(" AND q.id > ?");
        values.push(after.into());
    }
    sql.push_str(" ORDER BY q.id LIMIT ?");
    values.push(i64::try_from(limit + 1).unwrap_or(i64::MAX).into());
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let mut quotas = rows.iter().map(record_of).collect::<Result<Vec<_>>>()?;
    let more = quotas.len() as u64 > limit;
    quotas.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(QuotaPage { next_after: quotas.last().filter(|_| more).map(|q| q.id), quotas })
}

/// Headcount against quota for one category, or in total (`category: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadcountRow {
    /// The category; `None` for the total.
    pub category: Option<Category>,
    /// People employed and placed.
    pub headcount: i64,
    /// The sum of the quotas that apply.
    pub quota: i64,
    /// headcount / quota × 100; 0 without a quota.
    pub percent_of_quota: f64,
}

/// headcount / quota × 100, unrounded; 0 when there is no quota.
pub fn percent(headcount: i64, quota: i64) -> f64 {
    if quota == 0 { 0.0 } else { headcount as f64 * 100.0 / quota as f64 }
}

/// One row per category with people or a quota, in category order, and the total.
pub fn headcount_rows(
    headcounts: &BTreeMap<&'static str, i64>,
    quotas: &BTreeMap<&'static str, i64>,
) -> (Vec<HeadcountRow>, HeadcountRow) {
    let mut rows = Vec::new();
    let (mut total_headcount, mut total_quota) = (0, 0);
    for category in Category::ALL {
        let headcount = headcounts.get(category.as_str()).copied();
        let quota = quotas.get(category.as_str()).copied();
        if headcount.is_none() && quota.is_none() {
            continue;
        }
        let (headcount, quota) = (headcount.unwrap_or(0), quota.unwrap_or(0));
        total_headcount += headcount;
        total_quota += quota;
        rows.push(HeadcountRow {
            category: Some(*category),
            headcount,
            quota,
            percent_of_quota: percent(headcount, quota),
        });
    }
    let total = HeadcountRow {
        category: None,
        headcount: total_headcount,
        quota: total_quota,
        percent_of_quota: percent(total_headcount, total_quota),
    };
    (rows, total)
}

fn by_category(rows: &[QueryResult], column: &str) -> Result<BTreeMap<&'static str, i64>> {
    let mut map = BTreeMap::new();
    for row in rows {
        let category: String = row.try_get("", "category")?;
        let Some(category) = Category::from_db(&category) else {
            return Err(Error::internal(format!("stored category `{category}` is unknown")));
        };
        let n: Option<i64> = row.try_get("", column)?;
        *map.entry(category.as_str()).or_insert(0) += n.unwrap_or(0);
    }
    Ok(map)
}

/// The headcount of `target` on `as_of` by category, against the quotas of its year.
pub async fn headcount(
    conn: &impl ConnectionTrait,
    target: &Target,
    as_of: NaiveDate,
) -> Result<(Vec<HeadcountRow>, HeadcountRow)> {
    let backend = conn.get_database_backend();
    let subtree = "WITH RECURSIVE subtree(code) AS (SELECT CAST(? AS TEXT) UNION SELECT v.code FROM locality_versions v \
                   JOIN subtree s ON v.parent_code = s.code WHERE v.valid_from <= ? AND (v.valid_until IS NULL OR v.valid_until > ?)) ";
    let people = "SELECT p.category, COUNT(DISTINCT p.id) AS n FROM people p JOIN placements pl ON pl.person_id = p.id \
                  AND pl.valid_from <= ? AND (pl.valid_until IS NULL OR pl.valid_until > ?) \
                  JOIN units u ON u.id = pl.unit_id \
                  WHERE p.employed_from <= ? AND (p.employed_until IS NULL OR p.employed_until > ?)";
    let year = as_of.year();
    let employed: Vec<Value> = vec![as_of.into(), as_of.into(), as_of.into(), as_of.into()];
    let (people_sql, people_values, quota_sql, quota_values): (String, Vec<Value>, String, Vec<Value>) = match target {
        Target::Unit(id) => (
            format!("{people} AND pl.unit_id = ? GROUP BY p.category"),
            employed.into_iter().chain([Value::from(*id)]).collect(),
            "SELECT category, SUM(quota) AS q FROM staffing_quotas WHERE year = ? AND unit_id = ? GROUP BY category"
                .to_owned(),
            vec![year.into(), (*id).into()],
        ),
        Target::Locality(code) => {
            let tree: Vec<Value> = vec![code.as_str().into(), as_of.into(), as_of.into()];
            (
                format!("{subtree}{people} AND u.locality_code IN (SELECT code FROM subtree) GROUP BY p.category"),
                tree.iter().cloned().chain(employed).collect(),
                format!(
                    "{subtree}SELECT q.category, SUM(q.quota) AS q FROM staffing_quotas q \
                     LEFT JOIN units u ON u.id = q.unit_id WHERE q.year = ? \
                     AND (q.locality_code IN (SELECT code FROM subtree) OR u.locality_code IN (SELECT code FROM subtree)) \
                     GROUP BY q.category"
                ),
                tree.into_iter().chain([Value::from(year)]).collect(),
            )
        }
    };
    let counted = conn.query_all_raw(stmt(backend, &people_sql, people_values)).await?;
    let quotas = conn.query_all_raw(stmt(backend, &quota_sql, quota_values)).await?;
    Ok(headcount_rows(&by_category(&counted, "n")?, &by_category(&quotas, "q")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_of_quota_is_unrounded_and_zero_without_a_quota() {
        assert!((percent(2813, 3050) - 92.229_508_196_721_3).abs() < 1e-9);
        assert!(percent(5, 0).abs() < f64::EPSILON);
        assert!((percent(3, 2) - 150.0).abs() < 1e-9);
    }

    #[test]
    fn rows_cover_categories_with_people_or_a_quota_in_category_order() {
        let headcounts: BTreeMap<&'static str, i64> = [("public_employee", 7), ("civil_servant", 2813)].into();
        let quotas: BTreeMap<&'static str, i64> = [("civil_servant", 3050), ("cadre", 10)].into();
        let (rows, total) = headcount_rows(&headcounts, &quotas);
        let categories: Vec<Option<Category>> = rows.iter().map(|r| r.category).collect();
        assert_eq!(categories, [Some(Category::Cadre), Some(Category::CivilServant), Some(Category::PublicEmployee)]);
        assert_eq!((rows[0].headcount, rows[0].quota), (0, 10));
        assert_eq!((rows[2].headcount, rows[2].quota), (7, 0));
        assert!(rows[2].percent_of_quota.abs() < f64::EPSILON);
        assert_eq!((total.category, total.headcount, total.quota), (None, 2820, 3060));
    }
}
