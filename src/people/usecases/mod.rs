//! What PersonService does: one function per RPC. Reads check the caller's access,
//! then read; writes run through the unit of work, with every check that reads the
//! database (scope, existence, units, levels, overlaps, identifiers) inside the
//! transaction that writes.
//!
//! A person is in a caller's scope when the locality of their placement on the day is
//! (for writes, of their latest placement when none is in force): scope is judged
//! before existence, so that refusals reveal nothing about other provinces.
//!
//! - [`people`]: create, get, update, delete, lookup;
//! - [`search`]: search and export;
//! - [`placements`]: a person's placements;
//! - [`records`]: qualifications, evaluations and disciplinary decisions;
//! - [`import`]: the ImportPeople stream.

pub mod import;
pub mod people;
pub mod placements;
pub mod records;
pub mod search;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::{
    queries::{self, NewRecord, PersonRead, PersonRow, UnitPeriod},
    rules::{
        identity::Identity,
        person::{PlacementFields, QualificationFields},
    },
    wire::PersonView,
};
use crate::{
    context::{Access, PersonAccess, Principal, Role, Scope},
    domain::locality::Code,
    edge::{
        names::{PersonName, UnitName},
        page::Page,
    },
    error::{Error, Result, Violation},
    policy::{authorize, authorize_person},
    scope,
};

/// Whether responses to the caller carry personal identifiers.
pub fn sees_identifiers(principal: &Principal) -> bool {
    principal.has_role(Role::PersonalDataReader)
}

/// PERMISSION_DENIED unless the caller may read personal data.
pub fn personal_reader(principal: &Principal) -> Result<()> {
    if sees_identifiers(principal) {
        Ok(())
    } else {
        Err(Error::PermissionDenied("reading personal data needs the personal_data_reader role".to_owned()))
    }
}

/// Resolves a person for `access` as placed on `day`: scope before existence, so a
/// scoped caller learns nothing about people outside its scope.
pub async fn person_for(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    name: PersonName,
    day: NaiveDate,
    access: PersonAccess,
) -> Result<PersonRow> {
    authorize_person(conn, principal, name.id(), day, access).await?;
    queries::load_person(conn, name.id()).await?.ok_or_else(|| Error::NotFound(name.to_string()))
}

/// A person as a reader of personal data sees them on `day`, read in one statement
/// that also checks the scope: what [`person_for`] (with `PersonAccess::ReadPersonal`)
/// then [`view`] answer, with the same refusals, in one round trip instead of four.
pub async fn read_personal(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    name: PersonName,
    day: NaiveDate,
) -> Result<PersonView> {
    personal_reader(principal)?;
    let roots = match &principal.scope {
        Scope::National => None,
        Scope::Localities(roots) => Some(roots),
    };
    match queries::read_person(conn, name.id(), day, roots).await? {
        PersonRead::Found(row, placements) => {
            Ok(PersonView { row, placements, as_of: day, personal: sees_identifiers(principal) })
        }
        // Scope before existence, as `policy::authorize_person` judges.
        PersonRead::Hidden if roots.is_some() => {
            Err(Error::PermissionDenied(format!("{name} is outside the caller's locality scope on {day}")))
        }
        PersonRead::Hidden => Err(Error::NotFound(name.to_string())),
    }
}

/// A person as responses show them to the caller, on `as_of`.
pub async fn view(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    row: PersonRow,
    as_of: NaiveDate,
) -> Result<PersonView> {
    let placements = queries::placements_of(conn, &[row.id]).await?;
    Ok(PersonView { row, placements, as_of, personal: sees_identifiers(principal) })
}

/// Checks that the caller may write in a unit's locality. A unit elsewhere is not told
/// apart from none: both are refused to a scoped caller (a national caller learns of a
/// missing unit from the placement's checks).
pub async fn authorize_unit_write(conn: &impl ConnectionTrait, principal: &Principal, unit: UnitName) -> Result<()> {
    match scope::unit_locality(conn, unit.id()).await? {
        Some(code) => authorize(conn, principal, &code, Access::Write).await,
        None if matches!(principal.scope, Scope::Localities(_)) => {
            Err(Error::PermissionDenied(format!("{unit} is outside the caller's locality scope")))
        }
        None => Ok(()),
    }
}

/// What the database knows that record checks need, read once for a whole batch.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    units: HashMap<i64, UnitPeriod>,
    levels: HashSet<(String, String)>,
    /// Localities the caller may write to; `None` for a national caller.
    writable: Option<HashSet<Code>>,
}

impl Reference {
    /// Reads the units of `unit_ids`, every level and the caller's writable localities.
    pub async fn load(conn: &impl ConnectionTrait, principal: &Principal, unit_ids: BTreeSet<i64>) -> Result<Self> {
        let writable = match &principal.scope {
            Scope::National => None,
            Scope::Localities(roots) => Some(queries::codes_within(conn, roots).await?),
        };
        Ok(Self {
            units: queries::unit_periods(conn, &unit_ids).await?,
            levels: queries::levels(conn).await?,
            writable,
        })
    }

    /// Reads one unit only (for a single placement; the scope was checked already).
    pub async fn unit(conn: &impl ConnectionTrait, unit: i64) -> Result<Self> {
        Ok(Self { units: queries::unit_periods(conn, &BTreeSet::from([unit])).await?, ..Self::default() })
    }

    /// Reads the levels only.
    pub async fn levels(conn: &impl ConnectionTrait) -> Result<Self> {
        Ok(Self { levels: queries::levels(conn).await?, ..Self::default() })
    }

    /// Whether the caller may write in `code` (always, for a national caller).
    pub fn writable(&self, code: &Code) -> bool {
        self.writable.as_ref().is_none_or(|w| w.contains(code))
    }

    /// Whether the caller's scope is national.
    pub fn national(&self) -> bool {
        self.writable.is_none()
    }

    /// Violations of a placement against its unit: the unit exists (and, for a scoped
    /// caller, is in scope: both read the same, so nothing leaks) over the period.
    pub fn check_placement(&self, p: &PlacementFields, path: &str) -> Option<Violation> {
        let unit = self.units.get(&p.unit_id).filter(|u| self.writable(&u.locality));
        match unit {
            None if self.writable.is_some() => Some(Violation::new(
                format!("{path}.unit"),
                format!("units/{} does not exist or is outside the caller's scope", p.unit_id),
            )),
            None => Some(Violation::new(format!("{path}.unit"), format!("units/{} does not exist", p.unit_id))),
            Some(unit) if !unit.covers(p.valid_from, p.valid_until) => Some(Violation::new(
                format!("{path}.unit"),
                format!("units/{} does not exist over the whole placement", p.unit_id),
            )),
            Some(_) => None,
        }
    }

    /// A violation when a qualification's level is not a level of its scale.
    pub fn check_level(&self, q: &QualificationFields, path: &str) -> Option<Violation> {
        (!self.levels.contains(&(q.scale.clone(), q.level.clone()))).then(|| {
            Violation::new(
                format!("{path}.level"),
                format!("scales/{}/levels/{} is not a level of that scale", q.scale, q.level),
            )
        })
    }

    /// Violations of a whole record against the database.
    pub fn check_record(&self, r: &NewRecord, path: &str) -> Vec<Violation> {
        let mut violations = Vec::new();
        for (i, p) in r.placements.iter().enumerate() {
            violations.extend(self.check_placement(p, &format!("{path}.placements[{i}]")));
        }
        for (i, q) in r.qualifications.iter().enumerate() {
            violations.extend(self.check_level(q, &format!("{path}.qualifications[{i}]")));
        }
        if self.writable.is_some() && r.placements.is_empty() {
            violations.push(Violation::new(
                format!("{path}.placements"),
                "a caller without a national scope must place the person in its scope",
            ));
        }
        violations
    }
}

/// ALREADY_EXISTS when another person than `except` carries one of `identity`'s
/// identifiers, naming the field under `path` (never who carries it). Run inside the
/// write transaction; the unique indexes back it against concurrent writers on both
/// backends.
pub async fn check_identity_free(
    conn: &impl ConnectionTrait,
    identity: &Identity,
    except: Option<i64>,
    path: &str,
) -> Result<()> {
    if let Some(number) = &identity.personal_id {
        let holder = queries::ids_by_personal_id(conn, &BTreeSet::from([number.clone()])).await?;
        if holder.get(number).is_some_and(|id| Some(*id) != except) {
            return Err(Error::AlreadyExists(format!("{path}.personal_id: a person with this personal_id")));
        }
    }
    if let Some(code) = &identity.staff_code {
        let holder = queries::ids_by_staff_key(conn, &BTreeSet::from([code.key()])).await?;
        if holder.get(&code.key()).is_some_and(|id| Some(*id) != except) {
            return Err(Error::AlreadyExists(format!(
                "{path}.staff_code: a person with this staff_code (compared without regard to case)"
            )));
        }
    }
    Ok(())
}

/// ABORTED for a guarded write that found its row changed since it was read.
pub fn changed(name: impl std::fmt::Display) -> Error {
    Error::Aborted(format!("{name} changed concurrently; read it again"))
}

/// One page of a person's records, all read (a person has few): in key order, after
/// the token's key, with the token of the next page.
pub fn paginate<T>(page: &Page, mut rows: Vec<T>, key: impl Fn(&T) -> i64) -> Result<(Vec<T>, String)> {
    let after = page.after_id().map_err(|e| Error::invalid("page_token", e))?;
    rows.sort_by_key(|r| key(r));
    rows.retain(|r| after.is_none_or(|a| key(r) > a));
    rows.truncate(usize::try_from(page.fetch()).unwrap_or(usize::MAX));
    Ok(page.cut(rows, |r| vec![key(r).to_string()]))
}
