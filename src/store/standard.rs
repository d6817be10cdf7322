//! Position standards: reads, transactional writes (audited, idempotent creates,
//! etag-checked updates and deletes), and the facts a compliance answer needs: the
//! person's employment, the placement in force on the date with its locality's tier
//! that day, the highest level held per scale, and the standards in force.
//!
//! Minimum levels are stored one row per scale (the key is the standard and the
//! scale), so they are read back ordered by scale code, not in the order given.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, QueryResult, Value};
use serde_json::json;

use super::{audit, begin_write, locality_write::Idempotency, placeholders, stmt};
use crate::{
    context::RequestContext,
    domain::{
        date::period_contains,
        etag,
        locality::{Code, Tier},
        person::Category,
        standard::{
            Applicability, Candidate, Leadership, LevelRef, PostFacts, RankedLevel, StandardSpec, Unmet, applicable,
            unmet,
        },
        text::fold,
    },
    error::{Error, Result, Violation},
};

/// The collection segment of standard resource names.
pub const COLLECTION: &str = "standards";

/// The resource name of a standard.
pub fn standard_name(id: i64) -> String {
    format!("{COLLECTION}/{id}")
}

/// A standard as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardRecord {
    /// Its id.
    pub id: i64,
    /// Its content; minimums ordered by scale code.
    pub spec: StandardSpec,
    /// Incremented on every change; the etag.
    pub revision: i64,
    /// When it was created here.
    pub create_time: DateTime<Utc>,
    /// When it last changed here.
    pub update_time: DateTime<Utc>,
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

fn optional<T>(row: &QueryResult, column: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>> {
    row.try_get::<Option<String>>("", column)?
        .filter(|v| !v.is_empty())
        .map(|v| parse(&v).ok_or_else(|| corrupt(what, &v)))
        .transpose()
}

fn applicability_of(row: &QueryResult) -> Result<Applicability> {
    Ok(Applicability {
        tier: optional(row, "tier", "tier", Tier::from_db)?,
        category: optional(row, "category", "category", Category::from_db)?,
        leadership: optional(row, "leadership", "leadership", Leadership::from_db)?,
        post_title: row.try_get::<Option<String>>("", "post_title")?.filter(|p| !p.is_empty()),
    })
}

const COLUMNS: &str = "id, name, tier, category, leadership, post_title, effective_from, effective_until, \
                       legal_basis, revision, create_time, update_time";

/// Loads the standards `ids`, in the order given; unknown ids are left out.
pub async fn load(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<StandardRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    let marks = placeholders(ids.len());
    let values = || ids.iter().map(|id| Value::from(*id)).collect::<Vec<_>>();
    let rows = conn
        .query_all_raw(stmt(backend, &format!("SELECT {COLUMNS} FROM standards WHERE id IN ({marks})"), values()))
        .await?;
    let mut records = BTreeMap::new();
    for row in &rows {
        let record = StandardRecord {
            id: row.try_get("", "id")?,
            spec: StandardSpec {
                display_name: row.try_get("", "name")?,
                applies_to: applicability_of(row)?,
                effective_from: row.try_get("", "effective_from")?,
                effective_until: row.try_get("", "effective_until")?,
                minimums: Vec::new(),
                legal_basis: row.try_get("", "legal_basis")?,
            },
            revision: row.try_get("", "revision")?,
            create_time: row.try_get("", "create_time")?,
            update_time: row.try_get("", "update_time")?,
        };
        records.insert(record.id, record);
    }
    let minimums = conn
        .query_all_raw(stmt(
            backend,
            &format!(
                "SELECT standard_id, scale_code, level_code FROM standard_minimums \
                 WHERE standard_id IN ({marks}) ORDER BY standard_id, scale_code"
            ),
            values(),
        ))
        .await?;
    for row in &minimums {
        let id: i64 = row.try_get("", "standard_id")?;
        if let Some(record) = records.get_mut(&id) {
            record.spec.minimums.push(LevelRef::new(
                row.try_get::<String>("", "scale_code")?,
                row.try_get::<String>("", "level_code")?,
            ));
        }
    }
    Ok(ids.iter().filter_map(|id| records.remove(id)).collect())
}

/// Loads one standard.
pub async fn load_one(conn: &impl ConnectionTrait, id: i64) -> Result<Option<StandardRecord>> {
    Ok(load(conn, &[id]).await?.pop())
}

/// A page of standards.
#[derive(Debug, Clone)]
pub struct StandardPage {
    /// The standards, by id.
    pub records: Vec<StandardRecord>,
    /// The id to resume after, when more follow.
    pub next_after: Option<i64>,
}

/// Standards by id after `after`, at most `limit`, optionally only those in force on
/// `in_force_on`.
pub async fn list(
    conn: &impl ConnectionTrait,
    in_force_on: Option<NaiveDate>,
    after: Option<i64>,
    limit: u64,
) -> Result<StandardPage> {
    let mut sql = "SELECT id FROM standards WHERE id > ?".to_owned();
    let mut values: Vec<Value> = vec![after.unwrap_or(0).into()];
    if let Some(day) = in_force_on {
        sql.push_str(" AND effective_from <= ? AND (effective_until IS NULL OR effective_until > ?)");
        values.extend([day.into(), day.into()]);
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    values.push(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX).into());
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let mut ids = rows.iter().map(|r| r.try_get::<i64>("", "id")).collect::<Result<Vec<_>, _>>()?;
    let more = ids.len() as u64 > limit;
    ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after = if more { ids.last().copied() } else { None };
    Ok(StandardPage { records: load(conn, &ids).await?, next_after })
}

/// The levels of `levels` that no scale defines.
pub async fn missing_levels(conn: &impl ConnectionTrait, levels: &[LevelRef]) -> Result<BTreeSet<LevelRef>> {
    let wanted: BTreeSet<&LevelRef> = levels.iter().collect();
    if wanted.is_empty() {
        return Ok(BTreeSet::new());
    }
    let conditions = vec!["(scale_code = ? AND code = ?)"; wanted.len()].join(" OR ");
    let values: Vec<Value> =
        wanted.iter().flat_map(|l| [Value::from(l.scale.as_str()), Value::from(l.level.as_str())]).collect();
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            &format!("SELECT scale_code, code FROM scale_levels WHERE {conditions}"),
            values,
        ))
        .await?;
    let mut found = BTreeSet::new();
    for row in &rows {
        found.insert(LevelRef::new(row.try_get::<String>("", "scale_code")?, row.try_get::<String>("", "code")?));
    }
    Ok(wanted.into_iter().filter(|l| !found.contains(*l)).cloned().collect())
}

async fn check_levels_exist(txn: &DatabaseTransaction, minimums: &[LevelRef]) -> Result<Vec<Violation>> {
    let missing = missing_levels(txn, minimums).await?;
    Ok(minimums
        .iter()
        .enumerate()
        .filter(|(_, level)| missing.contains(*level))
        .map(|(i, level)| {
            Violation::new(format!("standard.minimum_levels[{i}]"), format!("{} does not exist", level.name()))
        })
        .collect())
}

fn check_etag(given: Option<&str>, record: &StandardRecord) -> Result<()> {
    match given {
        Some(given) if given != etag(record.revision) => Err(Error::Aborted(format!(
            "{} changed since it was read (etag {given}, now {}); read it again",
            standard_name(record.id),
            etag(record.revision)
        ))),
        _ => Ok(()),
    }
}

/// The values of the standards columns that a spec sets, in [`SET_COLUMNS`] order.
fn spec_values(spec: &StandardSpec) -> Vec<Value> {
    let a = &spec.applies_to;
    vec![
        spec.display_name.as_str().into(),
        a.tier.map(|t| t.as_str().to_owned()).into(),
        a.category.map(|c| c.as_str().to_owned()).into(),
        a.leadership.map(|l| l.as_str().to_owned()).into(),
        a.post_title.clone().into(),
        a.post_title.as_deref().map(fold).into(),
        spec.effective_from.into(),
        spec.effective_until.into(),
        spec.legal_basis.as_str().into(),
    ]
}

const SET_COLUMNS: [&str; 9] = [
    "name",
    "tier",
    "category",
    "leadership",
    "post_title",
    "post_title_folded",
    "effective_from",
    "effective_until",
    "legal_basis",
];

async fn insert_minimums(txn: &DatabaseTransaction, id: i64, minimums: &[LevelRef]) -> Result<()> {
    let backend = txn.get_database_backend();
    for minimum in minimums {
        txn.execute_raw(stmt(
            backend,
            "INSERT INTO standard_minimums (standard_id, scale_code, level_code) VALUES (?, ?, ?)",
            vec![id.into(), minimum.scale.as_str().into(), minimum.level.as_str().into()],
        ))
        .await?;
    }
    Ok(())
}

fn audit_detail(spec: &StandardSpec) -> serde_json::Value {
    json!({
        "display_name": spec.display_name,
        "effective_from": spec.effective_from.to_string(),
        "effective_until": spec.effective_until.map(|d| d.to_string()),
        "minimum_levels": spec.minimums.iter().map(LevelRef::name).collect::<Vec<_>>(),
    })
}

/// Creates a standard whose spec passed [`StandardSpec::check`]; a retry with the same
/// request identifier returns the first result.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    spec: &StandardSpec,
    idem: &Idempotency,
) -> Result<StandardRecord> {
    const METHOD: &str = "CreateStandard";
    let txn = begin_write(db).await?;
    if let Some(resource) = audit::replayed(&txn, METHOD, idem.request_id.as_deref(), &idem.fingerprint).await? {
        let id = resource
            .strip_prefix("standards/")
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or_else(|| Error::internal(format!("request log names `{resource}`")))?;
        let record = load_one(&txn, id).await?.ok_or_else(|| Error::NotFound(resource.clone()))?;
        txn.rollback().await?;
        return Ok(record);
    }
    let missing = check_levels_exist(&txn, &spec.minimums).await?;
    if !missing.is_empty() {
        return Err(Error::InvalidArgument(missing));
    }
    let now = Utc::now();
    let mut values = spec_values(spec);
    values.extend([now.into(), now.into()]);
    let sql = format!(
        "INSERT INTO standards ({}, revision, create_time, update_time) VALUES ({}, 1, ?, ?) RETURNING id",
        SET_COLUMNS.join(", "),
        placeholders(SET_COLUMNS.len())
    );
    let row = txn
        .query_one_raw(stmt(txn.get_database_backend(), &sql, values))
        .await?
        .ok_or_else(|| Error::internal("inserting a standard returned no id"))?;
    let id: i64 = row.try_get("", "id")?;
    insert_minimums(&txn, id, &spec.minimums).await?;
    let name = standard_name(id);
    if let Some(request_id) = &idem.request_id {
        audit::remember_request(&txn, METHOD, request_id, &idem.fingerprint, &name).await?;
    }
    audit::record(&txn, &ctx.principal.subject, METHOD, &name, idem.request_id.as_deref(), audit_detail(spec)).await?;
    let record = load_one(&txn, id).await?.ok_or_else(|| Error::internal("created standard vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(record)
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct StandardChanges {
    /// New title.
    pub display_name: Option<String>,
    /// New tier criterion (`Some(None)` clears it).
    pub tier: Option<Option<Tier>>,
    /// New category criterion.
    pub category: Option<Option<Category>>,
    /// New leadership criterion.
    pub leadership: Option<Option<Leadership>>,
    /// New post title criterion.
    pub post_title: Option<Option<String>>,
    /// New first day.
    pub effective_from: Option<NaiveDate>,
    /// New end (`Some(None)` makes it open-ended).
    pub effective_until: Option<Option<NaiveDate>>,
    /// New minimum levels.
    pub minimums: Option<Vec<LevelRef>>,
    /// New legal basis.
    pub legal_basis: Option<String>,
}

impl StandardChanges {
    /// `spec` with these changes.
    pub fn apply(&self, spec: &StandardSpec) -> StandardSpec {
        let mut out = spec.clone();
        let a = &mut out.applies_to;
        if let Some(v) = &self.display_name {
            out.display_name.clone_from(v);
        }
        if let Some(v) = self.tier {
            a.tier = v;
        }
        if let Some(v) = self.category {
            a.category = v;
        }
        if let Some(v) = self.leadership {
            a.leadership = v;
        }
        if let Some(v) = &self.post_title {
            a.post_title.clone_from(v);
        }
        if let Some(v) = self.effective_from {
            out.effective_from = v;
        }
        if let Some(v) = self.effective_until {
            out.effective_until = v;
        }
        if let Some(v) = &self.minimums {
            out.minimums.clone_from(v);
        }
        if let Some(v) = &self.legal_basis {
            out.legal_basis.clone_from(v);
        }
        out
    }
}

/// Updates a standard, checking the rules on the result.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    etag_given: Option<&str>,
    changes: &StandardChanges,
) -> Result<StandardRecord> {
    let txn = begin_write(db).await?;
    let record = load_one(&txn, id).await?.ok_or_else(|| Error::NotFound(standard_name(id)))?;
    check_etag(etag_given, &record)?;
    let spec = changes.apply(&record.spec);
    let mut violations: Vec<Violation> = spec
        .check("standard")
        .into_iter()
        .map(|v| {
            // A period made empty by a new start is the start's fault.
            if v.field == "standard.effective_until" && changes.effective_until.is_none() {
                Violation::new("standard.effective_from", format!("must be before effective_until; {}", v.description))
            } else {
                v
            }
        })
        .collect();
    if changes.minimums.is_some() {
        violations.extend(check_levels_exist(&txn, &spec.minimums).await?);
    }
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    let backend = txn.get_database_backend();
    let assignments: Vec<String> = SET_COLUMNS.iter().map(|c| format!("{c} = ?")).collect();
    let mut values = spec_values(&spec);
    values.extend([Utc::now().into(), id.into(), record.revision.into()]);
    let sql = format!(
        "UPDATE standards SET {}, revision = revision + 1, update_time = ? WHERE id = ? AND revision = ?",
        assignments.join(", ")
    );
    if txn.execute_raw(stmt(backend, &sql, values)).await?.rows_affected() != 1 {
        return Err(Error::Aborted(format!("{} changed concurrently; read it again", standard_name(id))));
    }
    if changes.minimums.is_some() {
        txn.execute_raw(stmt(backend, "DELETE FROM standard_minimums WHERE standard_id = ?", vec![id.into()])).await?;
        insert_minimums(&txn, id, &spec.minimums).await?;
    }
    audit::record(&txn, &ctx.principal.subject, "UpdateStandard", &standard_name(id), None, audit_detail(&spec))
        .await?;
    let updated = load_one(&txn, id).await?.ok_or_else(|| Error::internal("updated standard vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

/// Deletes a standard.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, id: i64, etag_given: Option<&str>) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load_one(&txn, id).await?.ok_or_else(|| Error::NotFound(standard_name(id)))?;
    check_etag(etag_given, &record)?;
    let backend = txn.get_database_backend();
    txn.execute_raw(stmt(backend, "DELETE FROM standard_minimums WHERE standard_id = ?", vec![id.into()])).await?;
    txn.execute_raw(stmt(backend, "DELETE FROM standards WHERE id = ?", vec![id.into()])).await?;
    audit::record(&txn, &ctx.principal.subject, "DeleteStandard", &standard_name(id), None, audit_detail(&record.spec))
        .await?;
    super::commit(txn, ctx).await
}

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

/// The placement of `person_id` in force on `day`, with its locality and whether that
/// locality was in force that day (placements do not overlap; should they, the latest
/// begun wins).
pub async fn placement_on(
    conn: &impl ConnectionTrait,
    person_id: i64,
    day: NaiveDate,
) -> Result<Option<PlacementRecord>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT p.id, p.person_id, p.unit_id, p.post_title, p.is_leader, p.is_key_post, p.valid_from, \
             p.valid_until, p.revision, u.locality_code, l.tier, \
             CASE WHEN v.code IS NULL THEN 0 ELSE 1 END AS in_force \
             FROM placements p JOIN units u ON u.id = p.unit_id JOIN localities l ON l.code = u.locality_code \
             LEFT JOIN locality_versions v ON v.code = u.locality_code AND v.valid_from <= ? \
               AND (v.valid_until IS NULL OR v.valid_until > ?) \
             WHERE p.person_id = ? AND p.valid_from <= ? AND (p.valid_until IS NULL OR p.valid_until > ?) \
             ORDER BY p.valid_from DESC, p.id DESC LIMIT 1",
            vec![day.into(), day.into(), person_id.into(), day.into(), day.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let tier: String = row.try_get("", "tier")?;
    Ok(Some(PlacementRecord {
        id: row.try_get("", "id")?,
        person_id: row.try_get("", "person_id")?,
        unit_id: row.try_get("", "unit_id")?,
        post_title: row.try_get("", "post_title")?,
        leader: row.try_get("", "is_leader")?,
        key_post: row.try_get("", "is_key_post")?,
        valid_from: row.try_get("", "valid_from")?,
        valid_until: row.try_get("", "valid_until")?,
        revision: row.try_get("", "revision")?,
        locality: Code::from_db(row.try_get("", "locality_code")?),
        tier: Tier::from_db(&tier).ok_or_else(|| corrupt("tier", &tier))?,
        locality_in_force: row.try_get::<i32>("", "in_force")? == 1,
    }))
}

/// The highest level `person_id` holds in each scale on `day` (qualifications awarded
/// on or before it), ordered by scale; of levels tied at the top rank, the one
/// awarded last.
pub async fn held_levels(conn: &impl ConnectionTrait, person_id: i64, day: NaiveDate) -> Result<Vec<RankedLevel>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT scale_code, level_code, level_rank FROM (\
               SELECT q.scale_code, q.level_code, s.rank AS level_rank, ROW_NUMBER() OVER (\
                 PARTITION BY q.scale_code ORDER BY s.rank DESC, q.awarded_on DESC, q.id DESC) AS n \
               FROM qualifications q JOIN scale_levels s ON s.scale_code = q.scale_code AND s.code = q.level_code \
               WHERE q.person_id = ? AND q.awarded_on <= ?) ranked \
             WHERE n = 1 ORDER BY scale_code",
            vec![person_id.into(), day.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(RankedLevel {
                level: LevelRef::new(
                    row.try_get::<String>("", "scale_code")?,
                    row.try_get::<String>("", "level_code")?,
                ),
                rank: row.try_get("", "level_rank")?,
            })
        })
        .collect()
}

/// The standards in force on `day`, as candidates for a placement.
pub async fn in_force(conn: &impl ConnectionTrait, day: NaiveDate) -> Result<Vec<Candidate>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT id, tier, category, leadership, post_title, effective_from, effective_until FROM standards \
             WHERE effective_from <= ? AND (effective_until IS NULL OR effective_until > ?) ORDER BY id",
            vec![day.into(), day.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Candidate {
                id: row.try_get("", "id")?,
                applies_to: applicability_of(row)?,
                effective_from: row.try_get("", "effective_from")?,
                effective_until: row.try_get("", "effective_until")?,
            })
        })
        .collect()
}

/// The minimums of a standard with their ranks, ordered by scale.
pub async fn ranked_minimums(conn: &impl ConnectionTrait, standard_id: i64) -> Result<Vec<RankedLevel>> {
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT m.scale_code, m.level_code, s.rank AS level_rank FROM standard_minimums m \
             JOIN scale_levels s ON s.scale_code = m.scale_code AND s.code = m.level_code \
             WHERE m.standard_id = ? ORDER BY m.scale_code",
            vec![standard_id.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(RankedLevel {
                level: LevelRef::new(
                    row.try_get::<String>("", "scale_code")?,
                    row.try_get::<String>("", "level_code")?,
                ),
                rank: row.try_get("", "level_rank")?,
            })
        })
        .collect()
}

/// Whether `person_id` meets the standard of their post on `day`; `None` if the person
/// does not exist.
pub async fn compliance(conn: &impl ConnectionTrait, person_id: i64, day: NaiveDate) -> Result<Option<Compliance>> {
    let person = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT category, employed_from, employed_until FROM people WHERE id = ?",
            vec![person_id.into()],
        ))
        .await?;
    let Some(person) = person else { return Ok(None) };
    let category: String = person.try_get("", "category")?;
    let employed = period_contains(person.try_get("", "employed_from")?, person.try_get("", "employed_until")?, day);
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
        category: Some(Category::from_db(&category).ok_or_else(|| corrupt("category", &category))?),
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
