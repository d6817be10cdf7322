//! People and their records: batched reads, batched inserts for imports, the writes of
//! single records, and the people search.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, QueryResult, Value};

use super::{insert_rows, placeholders, scope::scope_codes_cte, stmt};
use crate::{
    domain::{
        identity::{Identity, PersonalId, StaffCode},
        locality::Code,
        person::{
            Category, EmploymentEnd, Gender, PersonFields, PlacementFields, QualificationFields, Rating, Sanction,
        },
        text::fold,
        upsert::Changes,
    },
    error::{Error, Result},
};

/// Rows per multi-row INSERT; keeps every statement under SQLite's parameter limit.
/// Ids per `IN (...)` list.
const READ_CHUNK: usize = 900;

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not known to this version of the service"))
}

fn parse<T>(row: &QueryResult, column: &str, from_db: fn(&str) -> Option<T>) -> Result<T> {
    let value: String = row.try_get("", column)?;
    from_db(&value).ok_or_else(|| corrupt(column, &value))
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

fn id_values(ids: &[i64]) -> Vec<Value> {
    ids.iter().map(|id| Value::from(*id)).collect()
}

async fn rows_for_ids(conn: &impl ConnectionTrait, sql: &str, ids: &[i64]) -> Result<Vec<QueryResult>> {
    rows_for_values(conn, sql, &id_values(ids)).await
}

/// Runs `sql` once per chunk of `values`, each chunk's placeholders replacing `{ids}`.
async fn rows_for_values(conn: &impl ConnectionTrait, sql: &str, values: &[Value]) -> Result<Vec<QueryResult>> {
    let mut rows = Vec::new();
    for chunk in values.chunks(READ_CHUNK) {
        let sql = sql.replace("{ids}", &placeholders(chunk.len()));
        rows.extend(conn.query_all_raw(stmt(conn.get_database_backend(), &sql, chunk.to_vec())).await?);
    }
    Ok(rows)
}

fn person_of(row: &QueryResult) -> Result<PersonRow> {
    Ok(PersonRow {
        id: row.try_get("", "id")?,
        fields: PersonFields {
            full_name: row.try_get("", "full_name")?,
            birth_date: row.try_get("", "birth_date")?,
            gender: parse(row, "gender", Gender::from_db)?,
            ethnicity: row.try_get("", "ethnicity")?,
            category: parse(row, "category", Category::from_db)?,
            employed_from: row.try_get("", "employed_from")?,
            employed_until: row.try_get("", "employed_until")?,
            end_reason: row
                .try_get::<Option<String>>("", "end_reason")?
                .map(|r| EmploymentEnd::from_db(&r).ok_or_else(|| corrupt("end_reason", &r)))
                .transpose()?,
        },
        identity: identity_of(row)?,
        revision: row.try_get("", "revision")?,
        create_time: row.try_get("", "create_time")?,
        update_time: row.try_get("", "update_time")?,
    })
}

fn identity_of(row: &QueryResult) -> Result<Identity> {
    Ok(Identity {
        personal_id: row
            .try_get::<Option<String>>("", "personal_id")?
            .map(PersonalId::from_db)
            .transpose()
            .map_err(Error::internal)?,
        staff_code: row
            .try_get::<Option<String>>("", "staff_code")?
            .map(StaffCode::from_db)
            .transpose()
            .map_err(Error::internal)?,
    })
}

const PERSON_COLUMNS: &str = "id, full_name, birth_date, gender, ethnicity, category, employed_from, employed_until, \
    end_reason, personal_id, staff_code, revision, create_time, update_time";

/// The people with these ids, in the order given; unknown ids are left out.
pub async fn load_people(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<PersonRow>> {
    let rows = rows_for_ids(conn, &format!("SELECT {PERSON_COLUMNS} FROM people WHERE id IN ({{ids}})"), ids).await?;
    let mut by_id: HashMap<i64, PersonRow> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let person = person_of(row)?;
        by_id.insert(person.id, person);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One person.
pub async fn load_person(conn: &impl ConnectionTrait, id: i64) -> Result<Option<PersonRow>> {
    Ok(load_people(conn, &[id]).await?.pop())
}

fn placement_of(row: &QueryResult) -> Result<PlacementRow> {
    Ok(PlacementRow {
        id: row.try_get("", "id")?,
        person_id: row.try_get("", "person_id")?,
        fields: PlacementFields {
            unit_id: row.try_get("", "unit_id")?,
            post_title: row.try_get("", "post_title")?,
            leader: row.try_get("", "is_leader")?,
            key_post: row.try_get("", "is_key_post")?,
            valid_from: row.try_get("", "valid_from")?,
            valid_until: row.try_get("", "valid_until")?,
        },
        locality: Code::from_db(row.try_get("", "locality_code")?),
        revision: row.try_get("", "revision")?,
    })
}

const PLACEMENT_COLUMNS: &str = "p.id, p.person_id, p.unit_id, p.post_title, p.is_leader, p.is_key_post, \
    p.valid_from, p.valid_until, p.revision, u.locality_code";

/// The placements of these people, by person then start.
pub async fn placements_of(conn: &impl ConnectionTrait, person_ids: &[i64]) -> Result<Vec<PlacementRow>> {
    let sql = format!(
        "SELECT {PLACEMENT_COLUMNS} FROM placements p JOIN units u ON u.id = p.unit_id \
         WHERE p.person_id IN ({{ids}}) ORDER BY p.person_id, p.valid_from"
    );
    rows_for_ids(conn, &sql, person_ids).await?.iter().map(placement_of).collect()
}

/// One placement of a person.
pub async fn placement(conn: &impl ConnectionTrait, person_id: i64, id: i64) -> Result<Option<PlacementRow>> {
    let sql = format!(
        "SELECT {PLACEMENT_COLUMNS} FROM placements p JOIN units u ON u.id = p.unit_id WHERE p.person_id = ? AND p.id = ?"
    );
    let row = conn.query_one_raw(stmt(conn.get_database_backend(), &sql, vec![person_id.into(), id.into()])).await?;
    row.as_ref().map(placement_of).transpose()
}

fn qualification_of(row: &QueryResult) -> Result<QualificationRow> {
    Ok(QualificationRow {
        id: row.try_get("", "id")?,
        person_id: row.try_get("", "person_id")?,
        fields: QualificationFields {
            scale: row.try_get("", "scale_code")?,
            level: row.try_get("", "level_code")?,
            field_of_study: row.try_get("", "field_of_study")?,
            institution: row.try_get("", "institution")?,
            awarded_on: row.try_get("", "awarded_on")?,
        },
        revision: row.try_get("", "revision")?,
    })
}

const QUALIFICATION_COLUMNS: &str =
    "id, person_id, scale_code, level_code, field_of_study, institution, awarded_on, revision";

/// The qualifications of these people, by person then date.
pub async fn qualifications_of(conn: &impl ConnectionTrait, person_ids: &[i64]) -> Result<Vec<QualificationRow>> {
    let sql = format!(
        "SELECT {QUALIFICATION_COLUMNS} FROM qualifications WHERE person_id IN ({{ids}}) ORDER BY person_id, awarded_on, id"
    );
    rows_for_ids(conn, &sql, person_ids).await?.iter().map(qualification_of).collect()
}

/// One qualification of a person.
pub async fn qualification(conn: &impl ConnectionTrait, person_id: i64, id: i64) -> Result<Option<QualificationRow>> {
    let sql = format!("SELECT {QUALIFICATION_COLUMNS} FROM qualifications WHERE person_id = ? AND id = ?");
    let row = conn.query_one_raw(stmt(conn.get_database_backend(), &sql, vec![person_id.into(), id.into()])).await?;
    row.as_ref().map(qualification_of).transpose()
}

fn evaluation_of(row: &QueryResult) -> Result<EvaluationRow> {
    Ok(EvaluationRow {
        person_id: row.try_get("", "person_id")?,
        year: row.try_get("", "year")?,
        rating: parse(row, "rating", Rating::from_db)?,
        revision: row.try_get("", "revision")?,
    })
}

/// The evaluations of these people, by person then year.
pub async fn evaluations_of(conn: &impl ConnectionTrait, person_ids: &[i64]) -> Result<Vec<EvaluationRow>> {
    rows_for_ids(
        conn,
        "SELECT person_id, year, rating, revision FROM evaluations WHERE person_id IN ({ids}) ORDER BY person_id, year",
        person_ids,
    )
    .await?
    .iter()
    .map(evaluation_of)
    .collect()
}

/// One evaluation of a person.
pub async fn evaluation(conn: &impl ConnectionTrait, person_id: i64, year: i32) -> Result<Option<EvaluationRow>> {
    let row = conn
        .query_one_raw(stmt(
            conn.get_database_backend(),
            "SELECT person_id, year, rating, revision FROM evaluations WHERE person_id = ? AND year = ?",
            vec![person_id.into(), year.into()],
        ))
        .await?;
    row.as_ref().map(evaluation_of).transpose()
}

fn discipline_of(row: &QueryResult) -> Result<DisciplineRow> {
    Ok(DisciplineRow {
        id: row.try_get("", "id")?,
        person_id: row.try_get("", "person_id")?,
        sanction: parse(row, "sanction", Sanction::from_db)?,
        decided_on: row.try_get("", "decided_on")?,
        decision_number: row.try_get("", "decision_number")?,
        reason: row.try_get("", "reason")?,
        revision: row.try_get("", "revision")?,
    })
}

const DISCIPLINE_COLUMNS: &str = "id, person_id, sanction, decided_on, decision_number, reason, revision";

/// The disciplinary decisions of a person, by date.
pub async fn disciplines_of(conn: &impl ConnectionTrait, person_id: i64) -> Result<Vec<DisciplineRow>> {
    let sql = format!("SELECT {DISCIPLINE_COLUMNS} FROM disciplines WHERE person_id = ? ORDER BY decided_on, id");
    conn.query_all_raw(stmt(conn.get_database_backend(), &sql, vec![person_id.into()]))
        .await?
        .iter()
        .map(discipline_of)
        .collect()
}

/// One disciplinary decision of a person.
pub async fn discipline(conn: &impl ConnectionTrait, person_id: i64, id: i64) -> Result<Option<DisciplineRow>> {
    let sql = format!("SELECT {DISCIPLINE_COLUMNS} FROM disciplines WHERE person_id = ? AND id = ?");
    let row = conn.query_one_raw(stmt(conn.get_database_backend(), &sql, vec![person_id.into(), id.into()])).await?;
    row.as_ref().map(discipline_of).transpose()
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

/// The units with these ids.
pub async fn unit_periods(conn: &impl ConnectionTrait, ids: &BTreeSet<i64>) -> Result<HashMap<i64, UnitPeriod>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let rows =
        rows_for_ids(conn, "SELECT id, locality_code, valid_from, valid_until FROM units WHERE id IN ({ids})", &ids)
            .await?;
    let mut units = HashMap::with_capacity(rows.len());
    for row in &rows {
        units.insert(
            row.try_get::<i64>("", "id")?,
            UnitPeriod {
                locality: Code::from_db(row.try_get("", "locality_code")?),
                valid_from: row.try_get("", "valid_from")?,
                valid_until: row.try_get("", "valid_until")?,
            },
        );
    }
    Ok(units)
}

/// Every level of every scale, as (scale, level).
pub async fn levels(conn: &impl ConnectionTrait) -> Result<HashSet<(String, String)>> {
    let rows = conn
        .query_all_raw(stmt(conn.get_database_backend(), "SELECT scale_code, code FROM scale_levels", vec![]))
        .await?;
    rows.iter().map(|r| Ok((r.try_get("", "scale_code")?, r.try_get("", "code")?))).collect()
}

/// Reserves `n` new ids of `table` inside a write transaction, so that a batch can be
/// inserted with ids known in advance. On PostgreSQL the ids come from the table's
/// sequence; on SQLite the write lock of the transaction makes `MAX(id) + 1…` safe.
pub async fn allocate_ids(txn: &DatabaseTransaction, table: &str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|_| Error::internal("too many ids requested"))?;
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            let sql = format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, {count}) ORDER BY 1"
            );
            let rows = txn.query_all_raw(stmt(DbBackend::Postgres, &sql, vec![])).await?;
            rows.iter().map(|r| Ok(r.try_get::<i64>("", "id")?)).collect()
        }
        backend => {
            // AUTOINCREMENT never reuses the id of a deleted row: neither may we.
            let sql = format!(
                "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
                 COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0)) AS id"
            );
            let row = txn.query_one_raw(stmt(backend, &sql, vec![])).await?;
            let max: i64 = match row {
                Some(row) => row.try_get("", "id")?,
                None => 0,
            };
            Ok((1..=count).map(|i| max + i).collect())
        }
    }
}

fn person_values(id: i64, p: &PersonFields, identity: &Identity, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        id.into(),
        p.full_name.as_str().into(),
        fold(&p.full_name).into(),
        p.birth_date.into(),
        p.gender.as_str().into(),
        p.ethnicity.as_str().into(),
        p.category.as_str().into(),
        p.employed_from.into(),
        p.employed_until.into(),
        p.end_reason.map(|r| r.as_str().to_owned()).into(),
        identity.personal_id.as_ref().map(|i| i.as_str().to_owned()).into(),
        identity.staff_code.as_ref().map(|c| c.as_str().to_owned()).into(),
        identity.staff_code.as_ref().map(StaffCode::key).into(),
        1i64.into(),
        now.into(),
        now.into(),
    ]
}

fn placement_values(id: i64, person_id: i64, p: &PlacementFields) -> Vec<Value> {
    vec![
        id.into(),
        person_id.into(),
        p.unit_id.into(),
        p.post_title.as_str().into(),
        fold(&p.post_title).into(),
        p.leader.into(),
        p.key_post.into(),
        p.valid_from.into(),
        p.valid_until.into(),
        1i64.into(),
    ]
}

fn qualification_values(id: i64, person_id: i64, q: &QualificationFields) -> Vec<Value> {
    vec![
        id.into(),
        person_id.into(),
        q.scale.as_str().into(),
        q.level.as_str().into(),
        q.field_of_study.as_str().into(),
        q.institution.as_str().into(),
        q.awarded_on.into(),
        1i64.into(),
    ]
}

const PEOPLE_INSERT: &str = "people (id, full_name, name_folded, birth_date, gender, ethnicity, category, \
    employed_from, employed_until, end_reason, personal_id, staff_code, staff_code_key, revision, create_time, \
    update_time)";
const PEOPLE_WIDTH: usize = 16;
const PLACEMENTS_INSERT: &str = "placements (id, person_id, unit_id, post_title, post_title_folded, is_leader, \
    is_key_post, valid_from, valid_until, revision)";
const QUALIFICATIONS_INSERT: &str =
    "qualifications (id, person_id, scale_code, level_code, field_of_study, institution, awarded_on, revision)";
const EVALUATIONS_INSERT: &str = "evaluations (person_id, year, rating, revision)";

/// Inserts people without identifiers with their records in batches; returns the new
/// person ids in order.
pub async fn insert_records(txn: &DatabaseTransaction, records: &[NewRecord]) -> Result<Vec<i64>> {
    insert_people(txn, records.iter().map(|r| (r, &Identity::NONE)), records.len()).await
}

/// Inserts people with their identifiers and records in batches; returns the new
/// person ids in order. A taken identifier fails the statement (unique indexes):
/// ALREADY_EXISTS naming the identifier.
pub async fn insert_identified(txn: &DatabaseTransaction, records: &[(&NewRecord, &Identity)]) -> Result<Vec<i64>> {
    insert_people(txn, records.iter().copied(), records.len()).await
}

async fn insert_people<'a>(
    txn: &DatabaseTransaction,
    records: impl Iterator<Item = (&'a NewRecord, &'a Identity)> + Clone,
    count: usize,
) -> Result<Vec<i64>> {
    let now = Utc::now();
    let people_count = count;
    let person_ids = allocate_ids(txn, "people", people_count).await?;
    let placement_ids = allocate_ids(txn, "placements", records.clone().map(|(r, _)| r.placements.len()).sum()).await?;
    let qualification_ids =
        allocate_ids(txn, "qualifications", records.clone().map(|(r, _)| r.qualifications.len()).sum()).await?;
    let mut people = Vec::with_capacity(people_count);
    let mut placements = Vec::with_capacity(placement_ids.len());
    let mut qualifications = Vec::with_capacity(qualification_ids.len());
    let mut evaluations = Vec::new();
    let mut next_placement = placement_ids.iter();
    let mut next_qualification = qualification_ids.iter();
    for ((record, identity), person_id) in records.zip(&person_ids) {
        people.push(person_values(*person_id, &record.person, identity, now));
        for (placement, id) in record.placements.iter().zip(next_placement.by_ref()) {
            placements.push(placement_values(*id, *person_id, placement));
        }
        for (qualification, id) in record.qualifications.iter().zip(next_qualification.by_ref()) {
            qualifications.push(qualification_values(*id, *person_id, qualification));
        }
        for (year, rating) in &record.evaluations {
            evaluations.push(vec![(*person_id).into(), (*year).into(), rating.as_str().into(), 1i64.into()]);
        }
    }
    insert_rows(txn, PEOPLE_INSERT, PEOPLE_WIDTH, people).await?;
    insert_rows(txn, PLACEMENTS_INSERT, 10, placements).await?;
    insert_rows(txn, QUALIFICATIONS_INSERT, 8, qualifications).await?;
    insert_rows(txn, EVALUATIONS_INSERT, 4, evaluations).await?;
    Ok(person_ids)
}

/// Inserts one placement; returns its id.
pub async fn insert_placement(txn: &DatabaseTransaction, person_id: i64, placement: &PlacementFields) -> Result<i64> {
    let id = allocate_ids(txn, "placements", 1).await?.pop().ok_or_else(|| Error::internal("no id allocated"))?;
    insert_rows(txn, PLACEMENTS_INSERT, 10, vec![placement_values(id, person_id, placement)]).await?;
    Ok(id)
}

/// Inserts one qualification; returns its id.
pub async fn insert_qualification(txn: &DatabaseTransaction, person_id: i64, q: &QualificationFields) -> Result<i64> {
    let id = allocate_ids(txn, "qualifications", 1).await?.pop().ok_or_else(|| Error::internal("no id allocated"))?;
    insert_rows(txn, QUALIFICATIONS_INSERT, 8, vec![qualification_values(id, person_id, q)]).await?;
    Ok(id)
}

/// Inserts one evaluation.
pub async fn insert_evaluation(txn: &DatabaseTransaction, person_id: i64, year: i32, rating: Rating) -> Result<()> {
    insert_rows(
        txn,
        EVALUATIONS_INSERT,
        4,
        vec![vec![person_id.into(), year.into(), rating.as_str().into(), 1i64.into()]],
    )
    .await
}

/// Inserts one disciplinary decision; returns its id.
pub async fn insert_discipline(
    txn: &DatabaseTransaction,
    person_id: i64,
    sanction: Sanction,
    decided_on: NaiveDate,
    decision_number: &str,
    reason: &str,
) -> Result<i64> {
    let id = allocate_ids(txn, "disciplines", 1).await?.pop().ok_or_else(|| Error::internal("no id allocated"))?;
    insert_rows(
        txn,
        "disciplines (id, person_id, sanction, decided_on, decision_number, reason, revision)",
        7,
        vec![vec![
            id.into(),
            person_id.into(),
            sanction.as_str().into(),
            decided_on.into(),
            decision_number.into(),
            reason.into(),
            1i64.into(),
        ]],
    )
    .await?;
    Ok(id)
}

/// Updates a row's columns if its revision is still `expected` (any revision when
/// `None`), incrementing the revision. Returns whether a row was updated.
pub async fn update_row(
    txn: &DatabaseTransaction,
    table: &str,
    key: &[(&str, Value)],
    expected: Option<i64>,
    columns: Vec<(&str, Value)>,
) -> Result<bool> {
    let mut sets: Vec<String> = columns.iter().map(|(c, _)| format!("{c} = ?")).collect();
    sets.push("revision = revision + 1".to_owned());
    let mut values: Vec<Value> = columns.into_iter().map(|(_, v)| v).collect();
    let mut conditions: Vec<String> = key.iter().map(|(c, _)| format!("{c} = ?")).collect();
    values.extend(key.iter().map(|(_, v)| v.clone()));
    if let Some(revision) = expected {
        conditions.push("revision = ?".to_owned());
        values.push(revision.into());
    }
    let sql = format!("UPDATE {table} SET {} WHERE {}", sets.join(", "), conditions.join(" AND "));
    Ok(txn.execute_raw(stmt(txn.get_database_backend(), &sql, values)).await?.rows_affected() == 1)
}

/// Deletes a row if its revision is still `expected` (any when `None`). Returns whether
/// a row was deleted.
pub async fn delete_row(
    txn: &DatabaseTransaction,
    table: &str,
    key: &[(&str, Value)],
    expected: Option<i64>,
) -> Result<bool> {
    let mut conditions: Vec<String> = key.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let mut values: Vec<Value> = key.iter().map(|(_, v)| v.clone()).collect();
    if let Some(revision) = expected {
        conditions.push("revision = ?".to_owned());
        values.push(revision.into());
    }
    let sql = format!("DELETE FROM {table} WHERE {}", conditions.join(" AND "));
    Ok(txn.execute_raw(stmt(txn.get_database_backend(), &sql, values)).await?.rows_affected() == 1)
}

/// The people columns an update may set, from the person's fields.
pub fn person_columns(p: &PersonFields) -> Vec<(&'static str, Value)> {
    vec![
        ("full_name", p.full_name.as_str().into()),
        ("name_folded", fold(&p.full_name).into()),
        ("birth_date", p.birth_date.into()),
        ("gender", p.gender.as_str().into()),
        ("ethnicity", p.ethnicity.as_str().into()),
        ("category", p.category.as_str().into()),
        ("employed_from", p.employed_from.into()),
        ("employed_until", p.employed_until.into()),
        ("end_reason", p.end_reason.map(|r| r.as_str().to_owned()).into()),
        ("update_time", Utc::now().into()),
    ]
}

/// The identifier columns of a person.
pub fn identity_columns(identity: &Identity) -> Vec<(&'static str, Value)> {
    vec![
        ("personal_id", identity.personal_id.as_ref().map(|i| i.as_str().to_owned()).into()),
        ("staff_code", identity.staff_code.as_ref().map(|c| c.as_str().to_owned()).into()),
        ("staff_code_key", identity.staff_code.as_ref().map(StaffCode::key).into()),
    ]
}

/// The placement columns an update may set.
pub fn placement_columns(p: &PlacementFields) -> Vec<(&'static str, Value)> {
    vec![
        ("unit_id", p.unit_id.into()),
        ("post_title", p.post_title.as_str().into()),
        ("post_title_folded", fold(&p.post_title).into()),
        ("is_leader", p.leader.into()),
        ("is_key_post", p.key_post.into()),
        ("valid_from", p.valid_from.into()),
        ("valid_until", p.valid_until.into()),
    ]
}

/// The qualification columns an update may set.
pub fn qualification_columns(q: &QualificationFields) -> Vec<(&'static str, Value)> {
    vec![
        ("scale_code", q.scale.as_str().into()),
        ("level_code", q.level.as_str().into()),
        ("field_of_study", q.field_of_study.as_str().into()),
        ("institution", q.institution.as_str().into()),
        ("awarded_on", q.awarded_on.into()),
    ]
}

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

/// Finds people, one page at a time.
pub async fn search(conn: &impl ConnectionTrait, query: &PeopleQuery) -> Result<SearchPage> {
    let mut ctes = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(roots) = &query.scope {
        let (cte, cte_values) = scope_codes_cte(roots);
        ctes.push(cte);
        values.extend(cte_values);
    }
    let in_force = "v.valid_from <= ? AND (v.valid_until IS NULL OR v.valid_until > ?)";
    if let Some(root) = &query.locality {
        ctes.push(format!(
            "subtree(code) AS (SELECT CAST(? AS TEXT) \
             UNION SELECT v.code FROM locality_versions v JOIN subtree s ON v.parent_code = s.code WHERE {in_force})"
        ));
        values.extend([root.as_str().into(), query.as_of.into(), query.as_of.into()]);
    }
    let needs_placement = query.locality.is_some()
        || query.scope.is_some()
        || query.conditions.iter().any(|c| matches!(c, PeopleCondition::Leader(_)));
    let mut sql = String::new();
    if !ctes.is_empty() {
        sql.push_str("WITH RECURSIVE ");
        sql.push_str(&ctes.join(", "));
        sql.push(' ');
    }
    sql.push_str("SELECT p.id, p.name_folded FROM people p");
    if needs_placement {
        sql.push_str(
            " JOIN placements pl ON pl.person_id = p.id AND pl.valid_from <= ? \
             AND (pl.valid_until IS NULL OR pl.valid_until > ?) JOIN units u ON u.id = pl.unit_id",
        );
        values.extend([query.as_of.into(), query.as_of.into()]);
    }
    sql.push_str(" WHERE 1 = 1");
    if query.locality.is_some() {
        sql.push_str(" AND u.locality_code IN (SELECT code FROM subtree)");
    }
    if query.scope.is_some() {
        sql.push_str(" AND u.locality_code IN (SELECT code FROM scope_codes)");
    }
    for word in &query.words {
        sql.push_str(" AND p.name_folded LIKE ? ESCAPE '\\'");
        values.push(format!("%{}%", crate::domain::text::escape_like(word)).into());
    }
    for condition in &query.conditions {
        match condition {
            PeopleCondition::Category(equal, category) => {
                sql.push_str(if *equal { " AND p.category = ?" } else { " AND p.category <> ?" });
                values.push(category.as_str().into());
            }
            PeopleCondition::Leader(leader) => {
                sql.push_str(" AND pl.is_leader = ?");
                values.push((*leader).into());
            }
            PeopleCondition::PersonalId(number) => {
                sql.push_str(" AND p.personal_id = ?");
                values.push(number.as_str().into());
            }
            PeopleCondition::StaffCode(code) => {
                sql.push_str(" AND p.staff_code_key = ?");
                values.push(code.key().into());
            }
            PeopleCondition::Status(equal, status) => {
                let (clause, extra): (&str, Vec<Value>) = match status {
                    StatusFilter::NotYetEmployed => ("p.employed_from > ?", vec![query.as_of.into()]),
                    StatusFilter::Active => (
                        "(p.employed_from <= ? AND (p.employed_until IS NULL OR p.employed_until > ?))",
                        vec![query.as_of.into(), query.as_of.into()],
                    ),
                    StatusFilter::Ended(reason) => (
                        "(p.employed_until IS NOT NULL AND p.employed_until <= ? AND p.end_reason = ?)",
                        vec![query.as_of.into(), reason.as_str().into()],
                    ),
                };
                sql.push_str(if *equal { " AND " } else { " AND NOT " });
                sql.push_str(clause);
                values.extend(extra);
            }
        }
    }
    let (cmp, dir) = if query.descending { ("<", "DESC") } else { (">", "ASC") };
    match &query.after {
        Some((id, Some(name))) if query.by_name => {
            sql.push_str(&format!(" AND (p.name_folded {cmp} ? OR (p.name_folded = ? AND p.id {cmp} ?))"));
            values.extend([name.as_str().into(), name.as_str().into(), (*id).into()]);
        }
        Some((id, _)) => {
            sql.push_str(&format!(" AND p.id {cmp} ?"));
            values.push((*id).into());
        }
        None => {}
    }
    if query.by_name {
        sql.push_str(&format!(" ORDER BY p.name_folded {dir}, p.id {dir}"));
    } else {
        sql.push_str(&format!(" ORDER BY p.id {dir}"));
    }
    if let Some(limit) = query.limit {
        sql.push_str(" LIMIT ?");
        values.push(i64::try_from(limit + 1).unwrap_or(i64::MAX).into());
    }
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    let mut keys: Vec<(i64, String)> = rows
        .iter()
        .map(|r| Ok((r.try_get::<i64>("", "id")?, r.try_get::<String>("", "name_folded")?)))
        .collect::<Result<_>>()?;
    let more = query.limit.is_some_and(|limit| keys.len() as u64 > limit);
    if let Some(limit) = query.limit {
        keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(SearchPage {
        next_after: keys.last().filter(|_| more).map(|(id, name)| (*id, query.by_name.then(|| name.clone()))),
        ids: keys.into_iter().map(|(id, _)| id).collect(),
    })
}

/// One page of a people search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The people's ids, in order.
    pub ids: Vec<i64>,
    /// The key to resume after, when more follow.
    pub next_after: Option<(i64, Option<String>)>,
}

/// Every locality within the scope of `roots`, for checking many records at once.
pub async fn codes_within(conn: &impl ConnectionTrait, roots: &BTreeSet<Code>) -> Result<HashSet<Code>> {
    let (cte, values) = scope_codes_cte(roots);
    let sql = format!("WITH RECURSIVE {cte} SELECT code FROM scope_codes");
    let rows = conn.query_all_raw(stmt(conn.get_database_backend(), &sql, values)).await?;
    rows.iter().map(|r| Ok(Code::from_db(r.try_get("", "code")?))).collect()
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
    let values: Vec<Value> = numbers.iter().map(|n| Value::from(n.as_str())).collect();
    let rows =
        rows_for_values(conn, "SELECT id, personal_id FROM people WHERE personal_id IN ({ids})", &values).await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        let number = PersonalId::from_db(row.try_get("", "personal_id")?).map_err(Error::internal)?;
        found.insert(number, row.try_get::<i64>("", "id")?);
    }
    Ok(found)
}

/// The people who carry these staff codes, by key (upper case): key → person id.
pub async fn ids_by_staff_key(conn: &impl ConnectionTrait, keys: &BTreeSet<String>) -> Result<HashMap<String, i64>> {
    let values: Vec<Value> = keys.iter().map(|k| Value::from(k.as_str())).collect();
    let rows =
        rows_for_values(conn, "SELECT id, staff_code_key FROM people WHERE staff_code_key IN ({ids})", &values).await?;
    rows.iter().map(|row| Ok((row.try_get::<String>("", "staff_code_key")?, row.try_get::<i64>("", "id")?))).collect()
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

/// What an upsert writes for one person already recorded.
#[derive(Debug, Clone, Copy)]
pub struct PersonChanges<'a> {
    /// The person.
    pub person_id: i64,
    /// The person's revision when read.
    pub revision: i64,
    /// The changes.
    pub changes: &'a Changes,
}

/// Writes the changes of an upsert: single-row updates guarded by the revisions read
/// (ABORTED when a row changed since), multi-row inserts for the rows added.
pub async fn apply_changes(txn: &DatabaseTransaction, people: &[PersonChanges<'_>]) -> Result<()> {
    let conflict = |what: String| Error::Aborted(format!("{what} changed during the import; import again"));
    let mut placements = Vec::new();
    let mut qualifications = Vec::new();
    let mut evaluations = Vec::new();
    for p in people {
        let c = p.changes;
        if let Some((fields, identity)) = &c.person {
            let mut columns = person_columns(fields);
            columns.extend(identity_columns(identity));
            if !update_row(txn, "people", &[("id", p.person_id.into())], Some(p.revision), columns).await? {
                return Err(conflict(format!("people/{}", p.person_id)));
            }
        }
        for (id, revision, fields) in &c.placements_updated {
            if !update_row(txn, "placements", &[("id", (*id).into())], Some(*revision), placement_columns(fields))
                .await?
            {
                return Err(conflict(format!("people/{}/placements/{id}", p.person_id)));
            }
        }
        for (id, revision, fields) in &c.qualifications_updated {
            let columns = qualification_columns(fields);
            if !update_row(txn, "qualifications", &[("id", (*id).into())], Some(*revision), columns).await? {
                return Err(conflict(format!("people/{}/qualifications/{id}", p.person_id)));
            }
        }
        for (year, revision, rating) in &c.evaluations_updated {
            let key = [("person_id", Value::from(p.person_id)), ("year", Value::from(*year))];
            if !update_row(txn, "evaluations", &key, Some(*revision), vec![("rating", rating.as_str().into())]).await? {
                return Err(conflict(format!("people/{}/evaluations/{year}", p.person_id)));
            }
        }
        placements.extend(c.placements_added.iter().map(|f| (p.person_id, f)));
        qualifications.extend(c.qualifications_added.iter().map(|f| (p.person_id, f)));
        evaluations.extend(
            c.evaluations_added
                .iter()
                .map(|(year, rating)| vec![p.person_id.into(), (*year).into(), rating.as_str().into(), 1i64.into()]),
        );
    }
    let ids = allocate_ids(txn, "placements", placements.len()).await?;
    let rows = placements.iter().zip(ids).map(|((person, f), id)| placement_values(id, *person, f)).collect();
    insert_rows(txn, PLACEMENTS_INSERT, 10, rows).await?;
    let ids = allocate_ids(txn, "qualifications", qualifications.len()).await?;
    let rows = qualifications.iter().zip(ids).map(|((person, f), id)| qualification_values(id, *person, f)).collect();
    insert_rows(txn, QUALIFICATIONS_INSERT, 8, rows).await?;
    insert_rows(txn, EVALUATIONS_INSERT, 4, evaluations).await?;
    Ok(())
}
