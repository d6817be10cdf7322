//! The SQL of people and their records, typed: rows come back as `FromQueryResult`
//! structs and are turned into the feature's types here; parameters are named or
//! bound by [`Query`].
//!
//! - this module: the stored records and their reads (batched by person for imports
//!   and exports);
//! - [`write`]: inserts (batched for imports), guarded updates and deletes;
//! - [`search`]: the people search.

pub mod search;
pub mod write;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ConnectionTrait;

pub use self::{search::*, write::*};
use super::rules::{
    identity::{Identity, PersonalId, StaffCode},
    person::{
        Category, DisciplineFields, EmploymentEnd, Gender, PersonFields, PlacementFields, QualificationFields, Rating,
        Sanction,
    },
};
use crate::{
    domain::locality::Code,
    edge::enums::Table,
    error::{Error, Result},
    scope,
    sql::{self, FromQueryResult, Query, raw_sql},
};

/// Ids (or identifiers) per `IN (…)` list.
const READ_CHUNK: usize = 900;

fn stored<T: Table>(what: &str, value: &str) -> Result<T> {
    T::from_stored(value)
        .ok_or_else(|| Error::internal(format!("stored {what} `{value}` is not known to this version of the service")))
}

/// A stored person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Id.
    pub id: i64,
    /// Fields.
    pub fields: PersonFields,
    /// Identifiers (personal data).
    pub identity: Identity,
    /// Revision (etag).
    pub revision: i64,
    /// Created.
    pub create_time: DateTime<Utc>,
    /// Last changed.
    pub update_time: DateTime<Utc>,
}

/// A stored placement, with its unit's locality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRow {
    /// Id.
    pub id: i64,
    /// The person.
    pub person_id: i64,
    /// Fields.
    pub fields: PlacementFields,
    /// The unit's locality.
    pub locality: Code,
    /// Revision (etag).
    pub revision: i64,
}

/// A stored qualification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualificationRow {
    /// Id.
    pub id: i64,
    /// The person.
    pub person_id: i64,
    /// Fields.
    pub fields: QualificationFields,
    /// Revision (etag).
    pub revision: i64,
}

/// A stored evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationRow {
    /// The person.
    pub person_id: i64,
    /// Year.
    pub year: i32,
    /// Rating.
    pub rating: Rating,
    /// Revision (etag).
    pub revision: i64,
}

/// A stored disciplinary decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisciplineRow {
    /// Id.
    pub id: i64,
    /// The person.
    pub person_id: i64,
    /// Sanction.
    pub sanction: Sanction,
    /// Date decided.
    pub decided_on: NaiveDate,
    /// Decision number.
    pub decision_number: String,
    /// Reason.
    pub reason: String,
    /// Revision (etag).
    pub revision: i64,
}

/// A person with the records written with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    /// The person.
    pub person: PersonFields,
    /// Placements.
    pub placements: Vec<PlacementFields>,
    /// Qualifications.
    pub qualifications: Vec<QualificationFields>,
    /// Evaluations (year, rating).
    pub evaluations: Vec<(i32, Rating)>,
}

#[derive(Debug, FromQueryResult)]
struct PersonDb {
    id: i64,
    full_name: String,
    birth_date: NaiveDate,
    gender: String,
    ethnicity: String,
    category: String,
    employed_from: NaiveDate,
    employed_until: Option<NaiveDate>,
    end_reason: Option<String>,
    personal_id: Option<String>,
    staff_code: Option<String>,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
}

impl TryFrom<PersonDb> for PersonRow {
    type Error = Error;

    fn try_from(row: PersonDb) -> Result<Self> {
        Ok(Self {
            id: row.id,
            fields: PersonFields {
                full_name: row.full_name,
                birth_date: row.birth_date,
                gender: stored::<Gender>("gender", &row.gender)?,
                ethnicity: row.ethnicity,
                category: stored::<Category>("category", &row.category)?,
                employed_from: row.employed_from,
                employed_until: row.employed_until,
                end_reason: row.end_reason.as_deref().map(|r| stored::<EmploymentEnd>("end_reason", r)).transpose()?,
            },
            identity: Identity {
                personal_id: row.personal_id.map(PersonalId::from_db).transpose().map_err(Error::internal)?,
                staff_code: row.staff_code.map(StaffCode::from_db).transpose().map_err(Error::internal)?,
            },
            revision: row.revision,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

#[derive(Debug, FromQueryResult)]
struct PlacementDb {
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
}

impl From<PlacementDb> for PlacementRow {
    fn from(row: PlacementDb) -> Self {
        Self {
            id: row.id,
            person_id: row.person_id,
            fields: PlacementFields {
                unit_id: row.unit_id,
                post_title: row.post_title,
                leader: row.is_leader,
                key_post: row.is_key_post,
                valid_from: row.valid_from,
                valid_until: row.valid_until,
            },
            locality: Code::from_db(row.locality_code),
            revision: row.revision,
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct QualificationDb {
    id: i64,
    person_id: i64,
    scale_code: String,
    level_code: String,
    field_of_study: String,
    institution: String,
    awarded_on: NaiveDate,
    revision: i64,
}

impl From<QualificationDb> for QualificationRow {
    fn from(row: QualificationDb) -> Self {
        Self {
            id: row.id,
            person_id: row.person_id,
            fields: QualificationFields {
                scale: row.scale_code,
                level: row.level_code,
                field_of_study: row.field_of_study,
                institution: row.institution,
                awarded_on: row.awarded_on,
            },
            revision: row.revision,
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct EvaluationDb {
    person_id: i64,
    year: i32,
    rating: String,
    revision: i64,
}

impl TryFrom<EvaluationDb> for EvaluationRow {
    type Error = Error;

    fn try_from(row: EvaluationDb) -> Result<Self> {
        Ok(Self {
            person_id: row.person_id,
            year: row.year,
            rating: stored::<Rating>("rating", &row.rating)?,
            revision: row.revision,
        })
    }
}

#[derive(Debug, FromQueryResult)]
struct DisciplineDb {
    id: i64,
    person_id: i64,
    sanction: String,
    decided_on: NaiveDate,
    decision_number: String,
    reason: String,
    revision: i64,
}

impl TryFrom<DisciplineDb> for DisciplineRow {
    type Error = Error;

    fn try_from(row: DisciplineDb) -> Result<Self> {
        Ok(Self {
            id: row.id,
            person_id: row.person_id,
            sanction: stored::<Sanction>("sanction", &row.sanction)?,
            decided_on: row.decided_on,
            decision_number: row.decision_number,
            reason: row.reason,
            revision: row.revision,
        })
    }
}

impl DisciplineRow {
    /// The decision's own fields.
    pub fn fields(&self) -> DisciplineFields {
        DisciplineFields {
            sanction: self.sanction,
            decided_on: self.decided_on,
            decision_number: self.decision_number.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// Runs `head … IN (<chunk>) tail` once per chunk of `values`, gathering the rows.
async fn in_chunks<R, V>(conn: &impl ConnectionTrait, head: &str, values: &[V], tail: &str) -> Result<Vec<R>>
where
    R: FromQueryResult,
    V: Into<sea_orm::Value> + Clone,
{
    let mut rows = Vec::new();
    for chunk in values.chunks(READ_CHUNK) {
        let mut q = Query::new(head);
        q.push(" IN (").bind_list(chunk.iter().cloned()).push(")").push(tail);
        rows.extend(sql::all::<R>(conn, q.build()).await?);
    }
    Ok(rows)
}

const PERSON_COLUMNS: &str = "SELECT id, full_name, birth_date, gender, ethnicity, category, employed_from, \
    employed_until, end_reason, personal_id, staff_code, revision, create_time, update_time FROM people WHERE id";

/// The people with these ids, in the order given; unknown ids are left out.
pub async fn load_people(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<PersonRow>> {
    let rows: Vec<PersonDb> = in_chunks(conn, PERSON_COLUMNS, ids, "").await?;
    let mut by_id: HashMap<i64, PersonRow> = HashMap::with_capacity(rows.len());
    for row in rows {
        let person = PersonRow::try_from(row)?;
        by_id.insert(person.id, person);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One person.
pub async fn load_person(conn: &impl ConnectionTrait, id: i64) -> Result<Option<PersonRow>> {
    Ok(load_people(conn, &[id]).await?.pop())
}

/// What one statement found of a person for a reader on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRead {
    /// The person, with their placements by start.
    Found(PersonRow, Vec<PlacementRow>),
    /// No such person, or (for a scoped reader) none placed in the reader's scope that
    /// day: the statement does not tell them apart, so that neither can leak.
    Hidden,
}

/// The row of [`read_person`]: the person's columns, repeated beside each of their
/// placements (`NULL` placement columns for a person without any).
#[derive(Debug, FromQueryResult)]
struct PersonReadDb {
    id: i64,
    full_name: String,
    birth_date: NaiveDate,
    gender: String,
    ethnicity: String,
    category: String,
    employed_from: NaiveDate,
    employed_until: Option<NaiveDate>,
    end_reason: Option<String>,
    personal_id: Option<String>,
    staff_code: Option<String>,
    revision: i64,
    create_time: DateTime<Utc>,
    update_time: DateTime<Utc>,
    placement_id: Option<i64>,
    unit_id: Option<i64>,
    post_title: Option<String>,
    is_leader: Option<bool>,
    is_key_post: Option<bool>,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    placement_revision: Option<i64>,
    locality_code: Option<String>,
}

impl PersonReadDb {
    /// The placement of this row, if the person has one.
    fn placement(&self) -> Option<PlacementRow> {
        let PersonReadDb { id: person_id, placement_id, unit_id, is_leader, is_key_post, valid_from, .. } = self;
        Some(PlacementRow {
            id: (*placement_id)?,
            person_id: *person_id,
            fields: PlacementFields {
                unit_id: (*unit_id)?,
                post_title: self.post_title.clone()?,
                leader: (*is_leader)?,
                key_post: (*is_key_post)?,
                valid_from: (*valid_from)?,
                valid_until: self.valid_until,
            },
            locality: Code::from_db(self.locality_code.clone()?),
            revision: self.placement_revision?,
        })
    }
}

/// A person with their placements, in one statement (one round trip, no transaction:
/// a single statement reads one snapshot on both backends). With `roots`, the reader's
/// scope, the person is found only if the locality of their placement in force on `day`
/// lies within it (as `policy::authorize_person` judges reads), checked by the same
/// statement.
pub async fn read_person(
    conn: &impl ConnectionTrait,
    id: i64,
    day: NaiveDate,
    roots: Option<&BTreeSet<Code>>,
) -> Result<PersonRead> {
    let mut q = Query::new("");
    if roots.is_some() {
        q.push(format!("WITH RECURSIVE {}, placed(code) AS (", scope::EDGES));
        q.push("SELECT u.locality_code FROM placements p JOIN units u ON u.id = p.unit_id WHERE p.person_id = ");
        q.bind(id).push(" AND p.valid_from <= ").bind(day).push(" AND (p.valid_until IS NULL OR p.valid_until > ");
        q.bind(day).push(")), ups(code) AS (SELECT code FROM placed UNION SELECT e.up FROM edges e ");
        q.push("JOIN ups s ON e.down = s.code) ");
    }
    q.push(
        "SELECT pe.id, pe.full_name, pe.birth_date, pe.gender, pe.ethnicity, pe.category, pe.employed_from, \
         pe.employed_until, pe.end_reason, pe.personal_id, pe.staff_code, pe.revision, pe.create_time, \
         pe.update_time, pl.id AS placement_id, pl.unit_id, pl.post_title, pl.is_leader, pl.is_key_post, \
         pl.valid_from, pl.valid_until, pl.revision AS placement_revision, u.locality_code \
         FROM people pe LEFT JOIN (placements pl JOIN units u ON u.id = pl.unit_id) ON pl.person_id = pe.id \
         WHERE pe.id = ",
    );
    q.bind(id);
    if let Some(roots) = roots {
        q.push(" AND EXISTS (SELECT 1 FROM ups WHERE code IN (");
        if roots.is_empty() {
            // No roots: a code that cannot exist, so nobody is in scope.
            q.bind("-");
        } else {
            q.bind_list(roots.iter().map(|r| r.as_str().to_owned()));
        }
        q.push("))");
    }
    q.push(" ORDER BY pl.valid_from, pl.id");
    let rows: Vec<PersonReadDb> = sql::all(conn, q.build()).await?;
    let placements = rows.iter().filter_map(PersonReadDb::placement).collect();
    let Some(first) = rows.into_iter().next() else {
        return Ok(PersonRead::Hidden);
    };
    let person = PersonRow::try_from(PersonDb {
        id: first.id,
        full_name: first.full_name,
        birth_date: first.birth_date,
        gender: first.gender,
        ethnicity: first.ethnicity,
        category: first.category,
        employed_from: first.employed_from,
        employed_until: first.employed_until,
        end_reason: first.end_reason,
        personal_id: first.personal_id,
        staff_code: first.staff_code,
        revision: first.revision,
        create_time: first.create_time,
        update_time: first.update_time,
    })?;
    Ok(PersonRead::Found(person, placements))
}

/// Locks person `id` against concurrent changes until the transaction ends (PostgreSQL
/// `FOR UPDATE`; SQLite's writers are serialised already); whether it exists.
pub async fn lock_person(conn: &impl ConnectionTrait, id: i64) -> Result<bool> {
    sql::lock_row(conn, "people", id, sql::Lock::Update).await
}

const PLACEMENT_COLUMNS: &str = "SELECT p.id, p.person_id, p.unit_id, p.post_title, p.is_leader, p.is_key_post, \
    p.valid_from, p.valid_until, p.revision, u.locality_code FROM placements p JOIN units u ON u.id = p.unit_id \
    WHERE p.person_id";

/// The placements of these people, by person then start.
pub async fn placements_of(conn: &impl ConnectionTrait, person_ids: &[i64]) -> Result<Vec<PlacementRow>> {
    let rows: Vec<PlacementDb> =
        in_chunks(conn, PLACEMENT_COLUMNS, person_ids, " ORDER BY p.person_id, p.valid_from").await?;
    Ok(rows.into_iter().map(PlacementRow::from).collect())
}

/// One placement of a person.
pub async fn placement(conn: &impl ConnectionTrait, person_id: i64, id: i64) -> Result<Option<PlacementRow>> {
    let row: Option<PlacementDb> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT p.id, p.person_id, p.unit_id, p.post_title, p.is_leader, p.is_key_post, p.valid_from, \
             p.valid_until, p.revision, u.locality_code FROM placements p JOIN units u ON u.id = p.unit_id \
             WHERE p.person_id = {person_id} AND p.id = {id}"
        ),
    )
    .await?;
    Ok(row.map(PlacementRow::from))
}

/// The qualifications of these people, by person then date.
pub async fn qualifications_of(conn: &impl ConnectionTrait, person_ids: &[i64]) -> Result<Vec<QualificationRow>> {
    let rows: Vec<QualificationDb> = in_chunks(
        conn,
        "SELECT id, person_id, scale_code, level_code, field_of_study, institution, awarded_on, revision \
         FROM qualifications WHERE person_id",
        person_ids,
        " ORDER BY person_id, awarded_on, id",
    )
    .await?;
    Ok(rows.into_iter().map(QualificationRow::from).collect())
}

/// One qualification of a person.
pub async fn qualification(conn: &impl ConnectionTrait, person_id: i64, id: i64) -> Result<Option<QualificationRow>> {
    let row: Option<QualificationDb> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, person_id, scale_code, level_code, field_of_study, institution, awarded_on, revision \
             FROM qualifications WHERE person_id = {person_id} AND id = {id}"
        ),
    )
    .await?;
    Ok(row.map(QualificationRow::from))
}

/// The evaluations of these people, by person then year.
pub async fn evaluations_of(conn: &impl ConnectionTrait, person_ids: &[i64]) -> Result<Vec<EvaluationRow>> {
    let rows: Vec<EvaluationDb> = in_chunks(
        conn,
        "SELECT person_id, year, rating, revision FROM evaluations WHERE person_id",
        person_ids,
        " ORDER BY person_id, year",
    )
    .await?;
    rows.into_iter().map(EvaluationRow::try_from).collect()
}

/// One evaluation of a person.
pub async fn evaluation(conn: &impl ConnectionTrait, person_id: i64, year: i32) -> Result<Option<EvaluationRow>> {
    let row: Option<EvaluationDb> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT person_id, year, rating, revision FROM evaluations WHERE person_id = {person_id} AND year = {year}"
        ),
    )
    .await?;
    row.map(EvaluationRow::try_from).transpose()
}

/// The disciplinary decisions of a person, by date.
pub async fn disciplines_of(conn: &impl ConnectionTrait, person_id: i64) -> Result<Vec<DisciplineRow>> {
    let rows: Vec<DisciplineDb> = sql::all(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, person_id, sanction, decided_on, decision_number, reason, revision FROM disciplines \
             WHERE person_id = {person_id} ORDER BY decided_on, id"
        ),
    )
    .await?;
    rows.into_iter().map(DisciplineRow::try_from).collect()
}

/// One disciplinary decision of a person.
pub async fn discipline(conn: &impl ConnectionTrait, person_id: i64, id: i64) -> Result<Option<DisciplineRow>> {
    let row: Option<DisciplineDb> = sql::one(
        conn,
        raw_sql!(
            Postgres,
            "SELECT id, person_id, sanction, decided_on, decision_number, reason, revision FROM disciplines \
             WHERE person_id = {person_id} AND id = {id}"
        ),
    )
    .await?;
    row.map(DisciplineRow::try_from).transpose()
}

/// A unit's locality and period, for checking placements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitPeriod {
    /// The unit's locality.
    pub locality: Code,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day no longer.
    pub valid_until: Option<NaiveDate>,
}

impl UnitPeriod {
    /// Whether the unit exists over the whole period `[from, until)`.
    pub fn covers(&self, from: NaiveDate, until: Option<NaiveDate>) -> bool {
        self.valid_from <= from
            && match (self.valid_until, until) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(end), Some(until)) => until <= end,
            }
    }
}

#[derive(Debug, FromQueryResult)]
struct UnitPeriodDb {
    id: i64,
    locality_code: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
}

/// The units with these ids.
pub async fn unit_periods(conn: &impl ConnectionTrait, ids: &BTreeSet<i64>) -> Result<HashMap<i64, UnitPeriod>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let rows: Vec<UnitPeriodDb> =
        in_chunks(conn, "SELECT id, locality_code, valid_from, valid_until FROM units WHERE id", &ids, "").await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let period = UnitPeriod {
                locality: Code::from_db(r.locality_code),
                valid_from: r.valid_from,
                valid_until: r.valid_until,
            };
            (r.id, period)
        })
        .collect())
}

/// Every level of every scale, as (scale, level).
pub async fn levels(conn: &impl ConnectionTrait) -> Result<HashSet<(String, String)>> {
    #[derive(FromQueryResult)]
    struct Level {
        scale_code: String,
        code: String,
    }
    let rows: Vec<Level> = sql::all(conn, raw_sql!(Postgres, "SELECT scale_code, code FROM scale_levels")).await?;
    Ok(rows.into_iter().map(|l| (l.scale_code, l.code)).collect())
}

/// Every locality within the scope of `roots`, for checking many records at once.
pub async fn codes_within(conn: &impl ConnectionTrait, roots: &BTreeSet<Code>) -> Result<HashSet<Code>> {
    #[derive(FromQueryResult)]
    struct CodeRow {
        code: String,
    }
    let mut q = Query::new("WITH RECURSIVE ");
    q.append(scope::scope_codes(roots)).push(" SELECT code FROM scope_codes");
    let rows: Vec<CodeRow> = sql::all(conn, q.build()).await?;
    Ok(rows.into_iter().map(|r| Code::from_db(r.code)).collect())
}

/// Groups rows by person id.
pub fn by_person<T: Clone>(rows: &[T], person_of: impl Fn(&T) -> i64) -> BTreeMap<i64, Vec<T>> {
    let mut map: BTreeMap<i64, Vec<T>> = BTreeMap::new();
    for row in rows {
        map.entry(person_of(row)).or_default().push(row.clone());
    }
    map
}

/// The people who carry these personal identification numbers: number → person id.
/// One query per chunk of numbers, on the unique index.
pub async fn ids_by_personal_id(
    conn: &impl ConnectionTrait,
    numbers: &BTreeSet<PersonalId>,
) -> Result<HashMap<PersonalId, i64>> {
    #[derive(FromQueryResult)]
    struct Holder {
        id: i64,
        personal_id: String,
    }
    let values: Vec<String> = numbers.iter().map(|n| n.as_str().to_owned()).collect();
    let rows: Vec<Holder> =
        in_chunks(conn, "SELECT id, personal_id FROM people WHERE personal_id", &values, "").await?;
    rows.into_iter().map(|r| Ok((PersonalId::from_db(r.personal_id).map_err(Error::internal)?, r.id))).collect()
}

/// The people who carry these staff codes, by key (upper case): key → person id.
pub async fn ids_by_staff_key(conn: &impl ConnectionTrait, keys: &BTreeSet<String>) -> Result<HashMap<String, i64>> {
    #[derive(FromQueryResult)]
    struct Holder {
        id: i64,
        staff_code_key: String,
    }
    let values: Vec<String> = keys.iter().cloned().collect();
    let rows: Vec<Holder> =
        in_chunks(conn, "SELECT id, staff_code_key FROM people WHERE staff_code_key", &values, "").await?;
    Ok(rows.into_iter().map(|r| (r.staff_code_key, r.id)).collect())
}

/// The person who carries an identifier, if anybody does.
pub async fn id_by_identifier(conn: &impl ConnectionTrait, identity: &Identity) -> Result<Option<i64>> {
    if let Some(number) = &identity.personal_id {
        return Ok(ids_by_personal_id(conn, &BTreeSet::from([number.clone()])).await?.get(number).copied());
    }
    if let Some(code) = &identity.staff_code {
        return Ok(ids_by_staff_key(conn, &BTreeSet::from([code.key()])).await?.get(&code.key()).copied());
    }
    Ok(None)
}
