//! ImportPeople: a client stream of records written all or nothing, in one unit of
//! work, each creating a person or, in `IMPORT_MODE_UPSERT`, updating the person who
//! already carries its personal identification number (see `rules::upsert` for what
//! an update changes).
//!
//! Every record is checked first without the database (as it arrives), then, inside
//! the write transaction, against what the database holds (units, levels, scope) and
//! the people already recorded: the lookups of their identifiers, one query per chunk
//! of numbers, run in the transaction that writes, so two imports cannot both create
//! the person one number names (and the unique indexes back that). On PostgreSQL the
//! transaction reads one snapshot (REPEATABLE READ), so its lookups agree with each
//! other; an import that loses a race with a concurrent writer (a number created, a
//! row changed since the snapshot) is planned again from the start by the unit of work.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use tokio_stream::{Stream, StreamExt as _};
use tonic::Status;

use super::Reference;
use crate::{
    context::{Access, RequestContext, Role},
    domain::date::{period_contains, today},
    error::{Error, Result, Violation},
    people::{
        queries::{self, PersonChanges, PersonRow, PlacementRow},
        rules::{
            identity::{Identity, PersonalId},
            upsert::{Changes, Incoming, Stored, StoredPerson, merge},
        },
        wire::{
            IdentifiedRecord,
            import::{ImportAnswer, ImportMessage, MAX_IMPORT_RECORDS, Mode},
        },
    },
    policy::require_access,
    units::queries::{self as units, Lock},
    uow::{self, Done, Write},
};

/// The stream, received and checked without the database.
struct Received {
    mode: Mode,
    validate_only: bool,
    /// Every record in stream order; `None` where it could not be read.
    records: Vec<Option<IdentifiedRecord>>,
    rejected: BTreeMap<usize, Vec<Violation>>,
}

/// What the import does with one valid record.
#[derive(Debug)]
enum Plan {
    /// Creates a person.
    Create,
    /// Changes the person already recorded.
    Update { person_id: i64, revision: i64, changes: Box<Changes> },
    /// Matches a person already recorded and changes nothing.
    Unchanged { person_id: i64 },
}

/// Imports the people of a stream (ImportPeople).
pub async fn import(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    stream: impl Stream<Item = Result<ImportMessage, Status>> + Unpin,
) -> Result<ImportAnswer, Status> {
    require_access(&ctx.principal, Access::Write)?;
    let Received { mode, validate_only, records, mut rejected } = receive(ctx, stream).await?;
    let received = records.len();
    if records.is_empty() {
        return Ok(ImportAnswer { received, rejected, ..ImportAnswer::default() });
    }
    reject_duplicates(&records, &mut rejected);
    let unit_ids: BTreeSet<i64> =
        records.iter().flatten().flat_map(|(r, _)| r.placements.iter().map(|p| p.unit_id)).collect();
    let day = today();
    let write = Write::new("ImportPeople").snapshot().validate_only(validate_only);
    let answer = uow::retrying(|| async {
        let tx = write.begin(db, ctx).await?.fresh()?;
        // The units placed in keep their periods until the commit.
        for unit in &unit_ids {
            units::lock(tx.conn(), *unit, Lock::Share).await?;
        }
        let reference = Reference::load(tx.conn(), tx.principal(), unit_ids.clone()).await?;
        let mut rejected = rejected.clone();
        for (index, (record, _)) in records.iter().enumerate().filter_map(|(i, r)| r.as_ref().map(|r| (i, r))) {
            let violations = reference.check_record(record, "record");
            if !violations.is_empty() {
                rejected.entry(index).or_default().extend(violations);
            }
        }
        // The records to plan against the people recorded: those that passed every check.
        let valid: Vec<(usize, &IdentifiedRecord)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().filter(|_| !rejected.contains_key(&i)).map(|r| (i, r)))
            .collect();
        let (plans, found) = plan(tx.conn(), mode, &valid, &reference, day).await?;
        if !found.is_empty() || !rejected.is_empty() {
            for (index, violations) in found {
                rejected.entry(index).or_default().extend(violations);
            }
            // Nothing is written: the transaction rolls back as it is dropped.
            return Ok(ImportAnswer { received, rejected, ..ImportAnswer::default() });
        }
        let created = plans.iter().filter(|p| matches!(p, Plan::Create)).count();
        let updated = plans.iter().filter(|p| matches!(p, Plan::Update { .. })).count();
        let unchanged = plans.len() - created - updated;
        // A number created or a row changed by a concurrent writer since the plan was
        // made: plan again.
        let people = write_plans(tx.conn(), &valid, &plans).await.map_err(|e| match e {
            Error::AlreadyExists(what) | Error::Aborted(what) => Error::Conflict(what),
            other => other,
        })?;
        let resource = format!("people ({} imported)", people.len());
        let detail = json!({
            "people": people.len(),
            "mode": mode.name(),
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
        });
        let answer = ImportAnswer {
            received,
            people: if validate_only { Vec::new() } else { people },
            rejected: BTreeMap::new(),
            created,
            updated,
            unchanged,
        };
        tx.commit(Done::new(answer, resource).detail(detail)).await
    })
    .await?;
    if !validate_only && answer.rejected.is_empty() {
        let (created, updated, unchanged) = (answer.created, answer.updated, answer.unchanged);
        tracing::info!(
            people = answer.people.len(),
            created,
            updated,
            unchanged,
            mode = mode.name(),
            "imported people"
        );
    }
    Ok(answer)
}

/// Reads the stream: the mode and `validate_only` from its first message, every
/// record checked without the database.
async fn receive(
    ctx: &RequestContext,
    mut stream: impl Stream<Item = Result<ImportMessage, Status>> + Unpin,
) -> Result<Received, Status> {
    let mut received =
        Received { mode: Mode::Create, validate_only: false, records: Vec::new(), rejected: BTreeMap::new() };
    while let Some(message) = stream.next().await {
        let ImportMessage { mode, validate_only, record, violations } = message?;
        let index = received.records.len();
        if index >= MAX_IMPORT_RECORDS {
            return Err(Status::resource_exhausted(format!(
                "an import carries at most {MAX_IMPORT_RECORDS} records; split it"
            )));
        }
        if index == 0 {
            received.mode = mode.unwrap_or(Mode::Create);
            received.validate_only = validate_only;
            if received.mode == Mode::Upsert && !ctx.principal.has_role(Role::PersonalDataReader) {
                return Err(Error::PermissionDenied(
                    "IMPORT_MODE_UPSERT looks people up by their personal_id: it needs the personal_data_reader \
                     role besides editor"
                        .to_owned(),
                )
                .into());
            }
        } else {
            if let Some(mode) = mode
                && mode != received.mode
            {
                return Err(Error::invalid(
                    "mode",
                    format!(
                        "message {index} sets {} but the first message set {}; later messages leave it unspecified \
                         or repeat it",
                        mode.name(),
                        received.mode.name()
                    ),
                )
                .into());
            }
            if validate_only && !received.validate_only {
                return Err(Error::invalid(
                    "validate_only",
                    format!("message {index} sets it but the first message did not; it is read from the first"),
                )
                .into());
            }
        }
        if !violations.is_empty() {
            received.rejected.insert(index, violations);
        }
        received.records.push(record);
    }
    Ok(received)
}

/// Rejects every record that shares its personal_id or staff code with another record
/// of the stream: which of them is right is for the sender to say.
fn reject_duplicates(records: &[Option<IdentifiedRecord>], rejected: &mut BTreeMap<usize, Vec<Violation>>) {
    let mut numbers: HashMap<&PersonalId, Vec<usize>> = HashMap::new();
    let mut codes: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, (_, identity)) in records.iter().enumerate().filter_map(|(i, r)| r.as_ref().map(|r| (i, r))) {
        if let Some(number) = &identity.personal_id {
            numbers.entry(number).or_default().push(index);
        }
        if let Some(code) = &identity.staff_code {
            codes.entry(code.key()).or_default().push(index);
        }
    }
    let groups = numbers
        .into_values()
        .map(|g| (g, "personal_id"))
        .chain(codes.into_values().map(|g| (g, "staff_code")))
        .filter(|(g, _)| g.len() > 1);
    for (group, field) in groups {
        for &index in &group {
            let others: Vec<String> = group.iter().filter(|&&o| o != index).map(ToString::to_string).collect();
            let listed = match others.as_slice() {
                [one] => format!("record {one}"),
                [first @ .., last] if others.len() <= 5 => format!("records {} and {last}", first.join(", ")),
                _ => format!("records {} and {} more", others[..5].join(", "), others.len() - 5),
            };
            rejected.entry(index).or_default().push(Violation::new(
                format!("record.person.{field}"),
                format!("is also the {field} of {listed} of this import; import each person once"),
            ));
        }
    }
}

/// The locality that puts a person in a writer's scope: that of the placement in force
/// on `day`, else of the latest (as `policy::authorize_person` judges writes).
fn write_locality(placements: &[PlacementRow], day: NaiveDate) -> Option<&crate::domain::locality::Code> {
    placements
        .iter()
        .find(|p| period_contains(p.fields.valid_from, p.fields.valid_until, day))
        .or_else(|| placements.iter().max_by_key(|p| p.fields.valid_from))
        .map(|p| &p.locality)
}

/// Plans every valid record against the people recorded: what it creates or changes,
/// or why it cannot be imported (by stream index).
async fn plan(
    conn: &impl ConnectionTrait,
    mode: Mode,
    valid: &[(usize, &IdentifiedRecord)],
    reference: &Reference,
    day: NaiveDate,
) -> Result<(Vec<Plan>, BTreeMap<usize, Vec<Violation>>)> {
    let numbers: BTreeSet<PersonalId> = valid.iter().filter_map(|(_, (_, i))| i.personal_id.clone()).collect();
    let keys: BTreeSet<String> =
        valid.iter().filter_map(|(_, (_, i))| i.staff_code.as_ref().map(|c| c.key())).collect();
    let by_number = queries::ids_by_personal_id(conn, &numbers).await?;
    let by_key = queries::ids_by_staff_key(conn, &keys).await?;
    let matched_of = |identity: &Identity| match mode {
        Mode::Upsert => identity.personal_id.as_ref().and_then(|n| by_number.get(n)).copied(),
        Mode::Create => None,
    };
    let matched: Vec<i64> = valid.iter().filter_map(|(_, (_, identity))| matched_of(identity)).collect();
    let persons: HashMap<i64, PersonRow> =
        queries::load_people(conn, &matched).await?.into_iter().map(|p| (p.id, p)).collect();
    let placements = queries::by_person(&queries::placements_of(conn, &matched).await?, |p| p.person_id);
    let qualifications = queries::by_person(&queries::qualifications_of(conn, &matched).await?, |q| q.person_id);
    let evaluations = queries::by_person(&queries::evaluations_of(conn, &matched).await?, |e| e.person_id);

    let mut plans = Vec::with_capacity(valid.len());
    let mut rejected: BTreeMap<usize, Vec<Violation>> = BTreeMap::new();
    let none = Vec::new();
    for (index, (record, identity)) in valid {
        let mut violations = Vec::new();
        let matched = matched_of(identity);
        if mode == Mode::Create && identity.personal_id.as_ref().is_some_and(|n| by_number.contains_key(n)) {
            violations.push(Violation::new(
                "record.person.personal_id",
                "is already recorded for a person; IMPORT_MODE_UPSERT updates the person who carries it",
            ));
        }
        if let Some(code) = &identity.staff_code
            && by_key.get(&code.key()).is_some_and(|holder| Some(*holder) != matched)
        {
            violations.push(Violation::new(
                "record.person.staff_code",
                "is already recorded for another person (staff codes are compared without regard to case)",
            ));
        }
        let plan = match matched.and_then(|id| persons.get(&id)) {
            None => Plan::Create,
            Some(person) => {
                let ps = placements.get(&person.id).unwrap_or(&none);
                if !reference.national() && !write_locality(ps, day).is_some_and(|c| reference.writable(c)) {
                    violations.push(Violation::new(
                        "record.person.personal_id",
                        "is recorded for a person outside the caller's locality scope, whom this import may not \
                         change",
                    ));
                    rejected.insert(*index, violations);
                    continue;
                }
                let stored_placements: Vec<Stored<_>> =
                    ps.iter().map(|p| Stored { id: p.id, revision: p.revision, fields: p.fields.clone() }).collect();
                let stored_qualifications: Vec<Stored<_>> = qualifications
                    .get(&person.id)
                    .into_iter()
                    .flatten()
                    .map(|q| Stored { id: q.id, revision: q.revision, fields: q.fields.clone() })
                    .collect();
                let stored_evaluations: Vec<(i32, _, i64)> =
                    evaluations.get(&person.id).into_iter().flatten().map(|e| (e.year, e.rating, e.revision)).collect();
                let stored = StoredPerson {
                    id: person.id,
                    fields: &person.fields,
                    identity: &person.identity,
                    placements: &stored_placements,
                    qualifications: &stored_qualifications,
                    evaluations: &stored_evaluations,
                };
                let incoming = Incoming {
                    person: &record.person,
                    identity,
                    placements: &record.placements,
                    qualifications: &record.qualifications,
                    evaluations: &record.evaluations,
                };
                match merge(&stored, &incoming, "record", day) {
                    Ok(changes) if changes.is_empty() => Plan::Unchanged { person_id: person.id },
                    Ok(changes) => {
                        Plan::Update { person_id: person.id, revision: person.revision, changes: Box::new(changes) }
                    }
                    Err(found) => {
                        violations.extend(found);
                        Plan::Unchanged { person_id: person.id }
                    }
                }
            }
        };
        if violations.is_empty() {
            plans.push(plan);
        } else {
            rejected.insert(*index, violations);
        }
    }
    Ok((plans, rejected))
}

/// Writes the plans of every record; returns the person of each record, in stream
/// order.
async fn write_plans(
    conn: &impl ConnectionTrait,
    valid: &[(usize, &IdentifiedRecord)],
    plans: &[Plan],
) -> Result<Vec<i64>> {
    let creates: Vec<_> = valid
        .iter()
        .zip(plans)
        .filter(|(_, plan)| matches!(plan, Plan::Create))
        .map(|((_, (record, identity)), _)| (record, identity))
        .collect();
    let created = queries::insert_identified(conn, &creates).await?;
    let changes: Vec<PersonChanges<'_>> = plans
        .iter()
        .filter_map(|plan| match plan {
            Plan::Update { person_id, revision, changes } => {
                Some(PersonChanges { person_id: *person_id, revision: *revision, changes })
            }
            Plan::Create | Plan::Unchanged { .. } => None,
        })
        .collect();
    queries::apply_changes(conn, &changes).await?;
    let mut next_created = created.iter();
    let mut ids = Vec::with_capacity(plans.len());
    for plan in plans {
        ids.push(match plan {
            Plan::Create => *next_created.next().ok_or_else(|| Error::internal("fewer people created than planned"))?,
            Plan::Update { person_id, .. } | Plan::Unchanged { person_id } => *person_id,
        });
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::{
        queries::NewRecord,
        rules::{
            identity::StaffCode,
            person::{Category, Gender, PersonFields},
        },
    };

    fn record(number: Option<&str>, code: Option<&str>) -> Option<IdentifiedRecord> {
        let day = NaiveDate::from_ymd_opt(1989, 4, 12).unwrap_or_default();
        Some((
            NewRecord {
                person: PersonFields {
                    full_name: "Lò Văn Pấng".into(),
                    birth_date: day,
                    gender: Gender::Male,
                    ethnicity: "Thái".into(),
                    category: Category::CivilServant,
                    employed_from: NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or_default(),
                    employed_until: None,
                    end_reason: None,
                },
                placements: vec![],
                qualifications: vec![],
                evaluations: vec![],
            },
            Identity {
                personal_id: number.map(|n| PersonalId::parse(n).unwrap()),
                staff_code: code.map(|c| StaffCode::parse(c).unwrap()),
            },
        ))
    }

    #[test]
    fn every_record_sharing_a_number_or_a_staff_code_is_rejected() {
        let records = vec![
            record(Some("011089000001"), None),
            record(Some("011089000002"), Some("db-1")),
            record(Some("011089000001"), None),
            None,
            record(None, Some("DB-1")),
            record(None, None),
        ];
        let mut rejected = BTreeMap::new();
        reject_duplicates(&records, &mut rejected);
        assert_eq!(rejected.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 4]);
        assert_eq!(rejected[&0][0].field, "record.person.personal_id");
        assert!(rejected[&0][0].description.contains("record 2 of this import"), "{:?}", rejected[&0]);
        assert_eq!(rejected[&4][0].field, "record.person.staff_code");
        assert!(rejected[&4][0].description.contains("record 1"));
    }
}
