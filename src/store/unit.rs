//! Units (agencies and public-service units): reads, the list of a locality's subtree
//! on a date, and the writes, each in one transaction that checks the unit's period
//! against its locality's history and its placements, records the audit entry, and
//! commits only if the caller is still waiting.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, QueryResult, Value};
use serde_json::json;

use super::{
    audit, begin_write,
    locality::{code_at, load_one as load_locality},
    locality_write::Idempotency,
    scope::scope_codes_cte,
    stmt,
};
use crate::{
    context::RequestContext,
    domain::{
        etag,
        filter::UnitCondition,
        locality::{Code, covers},
        text::fold,
        unit::code_key,
    },
    error::{Error, Result, RuleViolation, Violation},
};

/// The sector of a unit, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sector {
    /// Party organs.
    Party,
    /// State administration.
    StateAdministration,
    /// The Fatherland Front and mass organisations.
    MassOrganisation,
    /// Education.
    Education,
    /// Health.
    Health,
    /// Any other public service.
    Other,
}

impl Sector {
    /// Every sector.
    pub const ALL: [Self; 6] =
        [Self::Party, Self::StateAdministration, Self::MassOrganisation, Self::Education, Self::Health, Self::Other];

    /// The stored name, lower snake case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Party => "party",
            Self::StateAdministration => "state_administration",
            Self::MassOrganisation => "mass_organisation",
            Self::Education => "education",
            Self::Health => "health",
            Self::Other => "other",
        }
    }

    /// The sector of a stored name.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// The kind of a unit, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitKind {
    /// A party committee or its boards.
    PartyCommittee,
    /// A people's council.
    PeoplesCouncil,
    /// A people's committee.
    PeoplesCommittee,
    /// A specialised department or office of a people's committee.
    SpecialisedDepartment,
    /// The Fatherland Front or a mass organisation.
    MassOrganisation,
    /// A school.
    School,
    /// A hospital, health centre or health station.
    HealthFacility,
    /// Another public-service unit.
    PublicServiceUnit,
    /// Anything else.
    Other,
}

impl UnitKind {
    /// Every kind.
    pub const ALL: [Self; 9] = [
        Self::PartyCommittee,
        Self::PeoplesCouncil,
        Self::PeoplesCommittee,
        Self::SpecialisedDepartment,
        Self::MassOrganisation,
        Self::School,
        Self::HealthFacility,
        Self::PublicServiceUnit,
        Self::Other,
    ];

    /// The stored name, lower snake case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PartyCommittee => "party_committee",
            Self::PeoplesCouncil => "peoples_council",
            Self::PeoplesCommittee => "peoples_committee",
            Self::SpecialisedDepartment => "specialised_department",
            Self::MassOrganisation => "mass_organisation",
            Self::School => "school",
            Self::HealthFacility => "health_facility",
            Self::PublicServiceUnit => "public_service_unit",
            Self::Other => "other",
        }
    }

    /// The kind of a stored name.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A condition of a unit list's filter.
pub type Condition = UnitCondition<Sector, UnitKind>;

/// The resource name of a unit, `units/{id}`.
pub fn unit_name(id: i64) -> String {
    format!("units/{id}")
}

/// A unit as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRecord {
    /// Assigned by the database.
    pub id: i64,
    /// The locality it belongs to; never changes.
    pub locality: Code,
    /// Vietnamese name in NFC.
    pub display_name: String,
    /// The sector.
    pub sector: Sector,
    /// The kind.
    pub kind: UnitKind,
    /// First day it exists (inclusive).
    pub valid_from: NaiveDate,
    /// First day it no longer exists (exclusive); `None` while it exists.
    pub valid_until: Option<NaiveDate>,
    /// Incremented on every change; the etag.
    pub revision: i64,
    /// When it was created here.
    pub create_time: DateTime<Utc>,
    /// When it last changed here.
    pub update_time: DateTime<Utc>,
    /// Its own code, as written; unique without regard to case.
    pub code: Option<String>,
}

impl UnitRecord {
    /// The resource name, `units/{id}`.
    pub fn name(&self) -> String {
        unit_name(self.id)
    }
}

const COLUMNS: &str = "u.id AS id, u.locality_code AS locality_code, u.name AS name, u.sector AS sector, \
     u.kind AS kind, u.valid_from AS valid_from, u.valid_until AS valid_until, u.revision AS revision, \
     u.create_time AS create_time, u.update_time AS update_time, u.code AS code";

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored unit {what} `{value}` is not known to this version of the service"))
}

fn record_of(row: &QueryResult) -> Result<UnitRecord> {
    let sector: String = row.try_get("", "sector")?;
    let kind: String = row.try_get("", "kind")?;
    Ok(UnitRecord {
        id: row.try_get("", "id")?,
        locality: code_at(row, "locality_code")?,
        display_name: row.try_get("", "name")?,
        sector: Sector::from_db(&sector).ok_or_else(|| corrupt("sector", &sector))?,
        kind: UnitKind::from_db(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        valid_from: row.try_get("", "valid_from")?,
        valid_until: row.try_get("", "valid_until")?,
        revision: row.try_get("", "revision")?,
        create_time: row.try_get("", "create_time")?,
        update_time: row.try_get("", "update_time")?,
        code: row.try_get("", "code")?,
    })
}

/// Loads one unit.
pub async fn load(conn: &impl ConnectionTrait, id: i64) -> Result<Option<UnitRecord>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            &format!("SELECT {COLUMNS} FROM units u WHERE u.id = ?"),
            vec![id.into()],
        ))
        .await?;
    row.as_ref().map(record_of).transpose()
}

/// What a list of units selects and how it pages.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Units of this locality and of its subtree on `as_of`.
    pub locality: Code,
    /// The date of the tree and of the units' existence.
    pub as_of: NaiveDate,
    /// Filter conditions.
    pub conditions: Vec<Condition>,
    /// The caller's scope roots; `None` for a national caller.
    pub scope: Option<BTreeSet<Code>>,
    /// Resume after this id (from a page token).
    pub after: Option<i64>,
    /// Page size.
    pub limit: u64,
}

/// One page of units and the id to resume after, if more follow.
#[derive(Debug, Clone)]
pub struct UnitPage {
    /// The units of this page, by id.
    pub units: Vec<UnitRecord>,
    /// The id of the last unit, when another page follows.
    pub next_after: Option<i64>,
}

/// Lists the units that exist on a date in a locality's subtree as it was that day,
/// one page at a time, ordered by id.
pub async fn list(conn: &impl ConnectionTrait, query: &ListQuery) -> Result<UnitPage> {
    let mut ctes: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(roots) = &query.scope {
        let (cte, cte_values) = scope_codes_cte(roots);
        ctes.push(cte);
        values.extend(cte_values);
    }
    // The locality itself, and every locality whose version in force that day has a
    // parent in the subtree.
    ctes.push(
        "subtree(code) AS (SELECT code FROM localities WHERE code = ? \
         UNION SELECT v.code FROM locality_versions v JOIN subtree s ON v.parent_code = s.code \
         WHERE v.valid_from <= ? AND (v.valid_until IS NULL OR v.valid_until > ?))"
            .to_owned(),
    );
    values.extend([query.locality.as_str().into(), query.as_of.into(), query.as_of.into()]);
    let mut sql = format!(
        "WITH RECURSIVE {} SELECT {COLUMNS} FROM units u WHERE u.locality_code IN (SELECT code FROM subtree) \
         AND u.valid_from <= ? AND (u.valid_until IS NULL OR u.valid_until > ?)",
        ctes.join(", ")
    );
    values.extend([query.as_of.into(), query.as_of.into()]);
    if query.scope.is_some() {
        sql.push_str(" AND u.locality_code IN (SELECT code FROM scope_codes)");
    }
    for condition in &query.conditions {
        match condition {
            UnitCondition::Sector { equal, sector } => {
                sql.push_str(if *equal { " AND u.sector = ?" } else { " AND u.sector <> ?" });
                values.push(sector.as_str().into());
            }
            UnitCondition::Kind { equal, kind } => {
                sql.push_str(if *equal { " AND u.kind = ?" } else { " AND u.kind <> ?" });
                values.push(kind.as_str().into());
            }
            UnitCondition::Code { equal, code } => {
                sql.push_str(if *equal {
                    " AND u.code_key = ?"
                } else {
                    " AND (u.code_key IS NULL OR u.code_key <> ?)"
                });
                values.push(code_key(code).into());
            }
        }
    }
    if let Some(after) = query.after {
        sql.push_str(" AND u.id > ?");
        values.push(after.into());
    }
    sql.push_str(" ORDER BY u.id LIMIT ?");
    values.push(i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX).into());

    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let mut units = rows.iter().map(record_of).collect::<Result<Vec<_>>>()?;
    let more = units.len() as u64 > query.limit;
    units.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    let next_after = if more { units.last().map(|u| u.id) } else { None };
    Ok(UnitPage { units, next_after })
}

fn period(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(until) => format!("[{from}, {until})"),
        None => format!("from {from} on"),
    }
}

/// Checks that the versions of `locality` (their periods) cover the unit's period.
/// The violation is reported on `valid_from` when the locality is not in force on the
/// first day, on `valid_until` when it ends before the unit does.
fn locality_covers(
    locality: &Code,
    periods: &[(NaiveDate, Option<NaiveDate>)],
    from: NaiveDate,
    until: Option<NaiveDate>,
    path: &str,
) -> Option<Violation> {
    if covers(periods, from, until) {
        return None;
    }
    let field = if covers(periods, from, from.succ_opt()) { "valid_until" } else { "valid_from" };
    Some(Violation::new(
        format!("{path}.{field}"),
        format!("{} is not in force over the whole period {} of the unit", locality.name(), period(from, until)),
    ))
}

/// The periods of the versions of `code`; `None` if it does not exist.
async fn locality_periods(
    txn: &DatabaseTransaction,
    code: &Code,
) -> Result<Option<Vec<(NaiveDate, Option<NaiveDate>)>>> {
    Ok(load_locality(txn, code).await?.map(|r| r.versions.iter().map(|v| (v.valid_from, v.valid_until)).collect()))
}

fn check_etag(given: Option<&str>, record: &UnitRecord) -> Result<()> {
    match given {
        Some(given) if given != etag(record.revision) => Err(Error::Aborted(format!(
            "{} changed since it was read (etag {given}, now {}); read it again",
            record.name(),
            etag(record.revision)
        ))),
        _ => Ok(()),
    }
}

/// A unit to create.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// Its locality.
    pub locality: Code,
    /// Its name, in NFC.
    pub display_name: String,
    /// Its sector.
    pub sector: Sector,
    /// Its kind.
    pub kind: UnitKind,
    /// First day it exists.
    pub valid_from: NaiveDate,
    /// First day it no longer exists, after `valid_from`.
    pub valid_until: Option<NaiveDate>,
}

/// Fails with ALREADY_EXISTS when another unit than `except` has the code.
async fn check_code_free(txn: &DatabaseTransaction, code: &str, except: Option<i64>) -> Result<()> {
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "SELECT id FROM units WHERE code_key = ? AND id <> ?",
            vec![code_key(code).into(), except.unwrap_or(0).into()],
        ))
        .await?;
    if let Some(row) = row {
        let id: i64 = row.try_get("", "id")?;
        return Err(Error::AlreadyExists(format!("the unit code `{code}` is already {}'s", unit_name(id))));
    }
    Ok(())
}

/// Creates a unit without a code in a locality that exists and is in force over the
/// unit's period.
pub async fn create(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    new: &NewUnit,
    idem: &Idempotency,
) -> Result<UnitRecord> {
    create_with_code(db, ctx, new, None, idem).await
}

/// Creates a unit, with its own code if given (unique without regard to case), in a
/// locality that exists and is in force over the unit's period.
pub async fn create_with_code(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    new: &NewUnit,
    code: Option<&str>,
    idem: &Idempotency,
) -> Result<UnitRecord> {
    const METHOD: &str = "CreateUnit";
    let txn = begin_write(db).await?;
    if let Some(resource) = audit::replayed(&txn, METHOD, idem.request_id.as_deref(), &idem.fingerprint).await? {
        let id = resource.strip_prefix("units/").and_then(|id| id.parse::<i64>().ok());
        let record = match id {
            Some(id) => load(&txn, id).await?,
            None => None,
        };
        txn.rollback().await?;
        // The unit made by the first request has been deleted since.
        return record.ok_or(Error::NotFound(resource));
    }
    let Some(periods) = locality_periods(&txn, &new.locality).await? else {
        return Err(Error::invalid("unit.locality", format!("{} does not exist", new.locality.name())));
    };
    if let Some(violation) = locality_covers(&new.locality, &periods, new.valid_from, new.valid_until, "unit") {
        return Err(Error::InvalidArgument(vec![violation]));
    }
    if let Some(code) = code {
        check_code_free(&txn, code, None).await?;
    }
    let now = Utc::now();
    let row = txn
        .query_one_raw(stmt(
            txn.get_database_backend(),
            "INSERT INTO units (locality_code, name, name_folded, sector, kind, valid_from, valid_until, revision, \
             create_time, update_time, code, code_key) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id",
            vec![
                new.locality.as_str().into(),
                new.display_name.as_str().into(),
                fold(&new.display_name).into(),
                new.sector.as_str().into(),
                new.kind.as_str().into(),
                new.valid_from.into(),
                new.valid_until.into(),
                now.into(),
                now.into(),
                code.map(str::to_owned).into(),
                code.map(code_key).into(),
            ],
        ))
        .await?
        .ok_or_else(|| Error::internal("inserting a unit returned no id"))?;
    let id: i64 = row.try_get("", "id")?;
    let name = unit_name(id);
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
            "locality": new.locality.name(),
            "sector": new.sector.as_str(),
            "kind": new.kind.as_str(),
            "valid_from": new.valid_from,
            "valid_until": new.valid_until,
            "code": code,
        }),
    )
    .await?;
    let record = load(&txn, id).await?.ok_or_else(|| Error::internal("created unit vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(record)
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UnitChanges {
    /// New name, in NFC.
    pub display_name: Option<String>,
    /// New sector.
    pub sector: Option<Sector>,
    /// New kind.
    pub kind: Option<UnitKind>,
    /// New first day.
    pub valid_from: Option<NaiveDate>,
    /// New end (`Some(None)` makes the unit open-ended).
    pub valid_until: Option<Option<NaiveDate>>,
    /// New code (`Some(None)` removes it).
    pub code: Option<Option<String>>,
}

/// Placements of unit `id` that do not lie within `[from, until)`: up to `limit`, as
/// (placement id, person id, from, until).
async fn placements_outside(
    txn: &DatabaseTransaction,
    id: i64,
    from: NaiveDate,
    until: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<(i64, i64, NaiveDate, Option<NaiveDate>)>> {
    let mut sql = "SELECT id, person_id, valid_from, valid_until FROM placements WHERE unit_id = ? AND (valid_from < ?"
        .to_owned();
    let mut values: Vec<Value> = vec![id.into(), from.into()];
    if let Some(until) = until {
        sql.push_str(" OR valid_until IS NULL OR valid_until > ?");
        values.push(until.into());
    }
    sql.push_str(") ORDER BY valid_from, id LIMIT ?");
    values.push(limit.into());
    let rows = txn.query_all_raw(stmt(txn.get_database_backend(), &sql, values)).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "id")?,
                r.try_get("", "person_id")?,
                r.try_get("", "valid_from")?,
                r.try_get("", "valid_until")?,
            ))
        })
        .collect()
}

/// Updates a unit's name, sector, kind or period. A new period must lie within the
/// locality's history and cover every placement of the unit.
pub async fn update(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    id: i64,
    etag_given: Option<&str>,
    changes: &UnitChanges,
) -> Result<UnitRecord> {
    let txn = begin_write(db).await?;
    let record = load(&txn, id).await?.ok_or_else(|| Error::NotFound(unit_name(id)))?;
    check_etag(etag_given, &record)?;
    let name = record.name();
    let from = changes.valid_from.unwrap_or(record.valid_from);
    let until = changes.valid_until.unwrap_or(record.valid_until);
    if until.is_some_and(|until| until <= from) {
        let field = if changes.valid_until.is_some() { "unit.valid_until" } else { "unit.valid_from" };
        return Err(Error::invalid(
            field,
            format!(
                "the unit would end ({}) before it starts ({from})",
                until.map(|u| u.to_string()).unwrap_or_default()
            ),
        ));
    }
    if (from, until) != (record.valid_from, record.valid_until) {
        let periods = locality_periods(&txn, &record.locality).await?.unwrap_or_default();
        if let Some(violation) = locality_covers(&record.locality, &periods, from, until, "unit") {
            return Err(Error::precondition(name, violation.description));
        }
        let outside = placements_outside(&txn, id, from, until, 10).await?;
        if !outside.is_empty() {
            return Err(Error::FailedPrecondition(
                outside
                    .into_iter()
                    .map(|(placement, person, p_from, p_until)| RuleViolation {
                        subject: format!("people/{person}/placements/{placement}"),
                        description: format!(
                            "this placement {} in {name} would lie outside the unit's new period {}",
                            period(p_from, p_until),
                            period(from, until)
                        ),
                    })
                    .collect(),
            ));
        }
    }
    let display_name = changes.display_name.clone().unwrap_or_else(|| record.display_name.clone());
    let sector = changes.sector.unwrap_or(record.sector);
    let kind = changes.kind.unwrap_or(record.kind);
    let code = changes.code.clone().unwrap_or_else(|| record.code.clone());
    if let Some(code) = &code
        && record.code.as_deref().map(code_key) != Some(code_key(code))
    {
        check_code_free(&txn, code, Some(id)).await?;
    }
    let result = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE units SET name = ?, name_folded = ?, sector = ?, kind = ?, valid_from = ?, valid_until = ?, \
             code = ?, code_key = ?, revision = revision + 1, update_time = ? WHERE id = ? AND revision = ?",
            vec![
                display_name.as_str().into(),
                fold(&display_name).into(),
                sector.as_str().into(),
                kind.as_str().into(),
                from.into(),
                until.into(),
                code.clone().into(),
                code.as_deref().map(code_key).into(),
                Utc::now().into(),
                id.into(),
                record.revision.into(),
            ],
        ))
        .await?;
    if result.rows_affected() != 1 {
        return Err(Error::Aborted(format!("{name} changed concurrently; read it again")));
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "UpdateUnit",
        &name,
        None,
        json!({
            "display_name": changes.display_name,
            "sector": changes.sector.map(Sector::as_str),
            "kind": changes.kind.map(UnitKind::as_str),
            "valid_from": changes.valid_from,
            "valid_until": changes.valid_until,
            "code": changes.code,
        }),
    )
    .await?;
    let updated = load(&txn, id).await?.ok_or_else(|| Error::internal("updated unit vanished"))?;
    super::commit(txn, ctx).await?;
    Ok(updated)
}

/// Deletes a unit that no placement refers to.
pub async fn delete(db: &DatabaseConnection, ctx: &RequestContext, id: i64, etag_given: Option<&str>) -> Result<()> {
    let txn = begin_write(db).await?;
    let record = load(&txn, id).await?.ok_or_else(|| Error::NotFound(unit_name(id)))?;
    check_etag(etag_given, &record)?;
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(stmt(backend, "SELECT COUNT(*) AS n FROM placements WHERE unit_id = ?", vec![id.into()]))
        .await?;
    let placements: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    if placements > 0 {
        return Err(Error::precondition(
            record.name(),
            format!("{placements} placement(s) refer to it; end it with valid_until instead"),
        ));
    }
    txn.execute_raw(stmt(backend, "DELETE FROM units WHERE id = ?", vec![id.into()])).await?;
    audit::record(
        &txn,
        &ctx.principal.subject,
        "DeleteUnit",
        &record.name(),
        None,
        json!({ "locality": record.locality.name(), "revision": record.revision }),
    )
    .await?;
    super::commit(txn, ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn stored_names_round_trip() {
        for sector in Sector::ALL {
            assert_eq!(Sector::from_db(sector.as_str()), Some(sector));
        }
        for kind in UnitKind::ALL {
            assert_eq!(UnitKind::from_db(kind.as_str()), Some(kind));
            assert!(kind.as_str().len() <= 32);
        }
        assert_eq!(Sector::from_db("army"), None);
    }

    #[test]
    fn a_unit_outside_its_locality_is_blamed_on_the_end_it_overruns() {
        let code = Code::from_db("03124".to_owned());
        let ended = [(day(2020, 1, 1), Some(day(2025, 7, 1)))];
        assert_eq!(locality_covers(&code, &ended, day(2024, 1, 1), Some(day(2025, 7, 1)), "unit"), None);
        let open = locality_covers(&code, &ended, day(2024, 1, 1), None, "unit");
        assert_eq!(open.map(|v| v.field), Some("unit.valid_until".to_owned()));
        let early = locality_covers(&code, &ended, day(2019, 1, 1), Some(day(2021, 1, 1)), "unit");
        assert_eq!(early.map(|v| v.field), Some("unit.valid_from".to_owned()));
        let after = locality_covers(&code, &ended, day(2025, 7, 1), None, "unit");
        assert_eq!(after.map(|v| v.field), Some("unit.valid_from".to_owned()));
        assert!(locality_covers(&code, &[], day(2024, 1, 1), None, "unit").is_some());
    }
}
