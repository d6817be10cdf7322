//! ImportPeople: a client stream of records written all or nothing, each creating a
//! person or, in `IMPORT_MODE_UPSERT`, updating the person who already carries its
//! personal identification number (see `domain::upsert` for what an update changes).
//!
//! Every record is checked first without the database, then against what the
//! database holds (units, levels, scope), then, inside the write transaction, against
//! the people already recorded: the lookups of their identifiers, one query per chunk
//! of numbers, run in the same transaction as the writes, so two imports cannot both
//! create the person one number names (and the unique indexes back that). On
//! PostgreSQL the transaction reads one snapshot (REPEATABLE READ), so its lookups
//! agree with each other; an import that loses a race with a concurrent writer (a
//! number created, a row changed since the snapshot) is planned again from the start.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio_stream::StreamExt as _;
use tonic::{Status, Streaming};

use super::{IdentifiedRecord, MAX_IMPORT_RECORDS, Reference, Violations, person_name, record};
use crate::{
    auth::{Access, RequestContext, Role, require_access},
    domain::{
        date::{period_contains, today},
        identity::PersonalId,
        locality::Code,
        upsert::{Changes, Incoming, Stored, StoredPerson, merge},
    },
    error::{Error, Result, Violation},
    grpc::pb,
    store::{
        self, audit,
        person::{self as people, PersonChanges, PlacementRow},
    },
};

/// Attempts at planning and writing an import that lost a race with a concurrent
/// write (a number created meanwhile, a row changed meanwhile).
const ATTEMPTS: usize = 3;

/// How records of people already recorded are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every record creates a person.
    Create,
    /// A record whose personal_id is recorded updates that person.
    Upsert,
}

impl Mode {
    fn parse(value: i32) -> Result<Self, String> {
        match pb::ImportMode::try_from(value).map_err(|_| format!("{value} is not an ImportMode"))? {
            pb::ImportMode::Unspecified | pb::ImportMode::Create => Ok(Self::Create),
            pb::ImportMode::Upsert => Ok(Self::Upsert),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Create => "IMPORT_MODE_CREATE",
            Self::Upsert => "IMPORT_MODE_UPSERT",
        }
    }
}

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
pub(super) async fn import_people(
    db: &DatabaseConnection,
    ctx: &RequestContext,
    stream: Streaming<pb::ImportPeopleRequest>,
) -> Result<pb::ImportPeopleResponse, Status> {
    require_access(&ctx.principal, Access::Write)?;
    let Received { mode, validate_only, records, mut rejected } = receive(ctx, stream).await?;
    let received_count = count(records.len());
    if records.is_empty() {
        return Ok(rejection(received_count, rejected));
    }
    reject_duplicates(&records, &mut rejected);
    let unit_ids = records.iter().flatten().flat_map(|(r, _)| r.placements.iter().map(|p| p.unit_id)).collect();
    let reference = Reference::load(db, &ctx.principal, unit_ids).await?;
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
    let day = today();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let txn = store::begin_write_snapshot(db).await?;
        let (plans, found) = plan(&txn, mode, &valid, &reference, day).await?;
        if !found.is_empty() || !rejected.is_empty() {
            let mut all = rejected;
            for (index, violations) in found {
                all.entry(index).or_default().extend(violations);
            }
            return Ok(rejection(received_count, all));
        }
        let created = plans.iter().filter(|p| matches!(p, Plan::Create)).count();
        let updated = plans.iter().filter(|p| matches!(p, Plan::Update { .. })).count();
        let unchanged = plans.len() - created - updated;
        if validate_only {
            return Ok(pb::ImportPeopleResponse {
                received_count,
                imported_count: 0,
                rejected: Vec::new(),
                people: Vec::new(),
                created_count: count(created),
                updated_count: count(updated),
                unchanged_count: count(unchanged),
            });
        }
        match write(txn, ctx, mode, &valid, &plans).await {
            Ok(ids) => {
                tracing::info!(people = ids.len(), created, updated, unchanged, mode = mode.name(), "imported people");
                return Ok(pb::ImportPeopleResponse {
                    received_count,
                    imported_count: count(ids.len()),
                    rejected: Vec::new(),
                    people: ids.into_iter().map(person_name).collect(),
                    created_count: count(created),
                    updated_count: count(updated),
                    unchanged_count: count(unchanged),
                });
            }
            Err(Error::AlreadyExists(what) | Error::Aborted(what) | Error::Conflict(what)) if attempt < ATTEMPTS => {
                tracing::info!(attempt, conflict = %what, "an import met a concurrent write; planning it again");
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The answer of an import that wrote nothing because of `rejected`.
fn rejection(received_count: i32, rejected: BTreeMap<usize, Vec<Violation>>) -> pb::ImportPeopleResponse {
    pb::ImportPeopleResponse {
        received_count,
        imported_count: 0,
        rejected: rejected
            .into_iter()
            .map(|(index, violations)| pb::RejectedRecord {
                index: count(index),
                violations: violations
                    .into_iter()
                    .map(|v| pb::RecordViolation {
                        field: v.field.strip_prefix("record.").unwrap_or(&v.field).to_owned(),
                        description: v.description,
                    })
                    .collect(),
            })
            .collect(),
        people: Vec::new(),
        created_count: 0,
        updated_count: 0,
        unchanged_count: 0,
    }
}

/// Reads the stream: the mode and `validate_only` from its first message, every
/// record checked without the database.
async fn receive(ctx: &RequestContext, mut stream: Streaming<pb::ImportPeopleRequest>) -> Result<Received, Status> {
    let day = today();
    let mut received =
        Received { mode: Mode::Create, validate_only: false, records: Vec::new(), rejected: BTreeMap::new() };
    while let Some(message) = stream.next().await {
        let message = message?;
        let index = received.records.len();
        if index >= MAX_IMPORT_RECORDS {
            return Err(Status::resource_exhausted(format!(
                "an import carries at most {MAX_IMPORT_RECORDS} records; split it"
            )));
        }
        let mode = Mode::parse(message.mode).map_err(|e| Error::invalid("mode", e))?;
        if index == 0 {
            received.mode = mode;
            received.validate_only = message.validate_only;
            if mode == Mode::Upsert && !ctx.principal.has_role(Role::PersonalDataReader) {
                return Err(Error::PermissionDenied(
                    "IMPORT_MODE_UPSERT looks people up by their personal_id: it needs the personal_data_reader \
                     role besides editor"
                        .to_owned(),
                )
                .into());
            }
        } else {
            if message.mode != pb::ImportMode::Unspecified as i32 && mode != received.mode {
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
            if message.validate_only && !received.validate_only {
                return Err(Error::invalid(
                    "validate_only",
                    format!("message {index} sets it but the first message did not; it is read from the first"),
                )
                .into());
            }
        }
        let mut v = Violations::new();
        let new = match &message.record {
            Some(r) => record(&mut v, r, "record", day),
            None => {
                v.add("record", "is required");
                None
            }
        };
        if let Err(Error::InvalidArgument(violations)) = v.finish() {
            received.rejected.insert(index, violations);
        }
        received.records.push(new);
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
/// on `day`, else of the latest (as `auth::authorize_person` judges writes).
fn write_locality(placements: &[PlacementRow], day: NaiveDate) -> Option<&Code> {
    placements
        .iter()
        .find(|p| period_contains(p.fields.valid_from, p.fields.valid_until, day))
        .or_else(|| placements.iter().max_by_key(|p| p.fields.valid_from))
        .map(|p| &p.locality)
}

/// Plans every valid record against the people recorded, in `txn`: what it creates or
/// changes, or why it cannot be imported (by stream index).
async fn plan(
    txn: &DatabaseTransaction,
    mode: Mode,
    valid: &[(usize, &IdentifiedRecord)],
    reference: &Reference,
    day: NaiveDate,
) -> Result<(Vec<Plan>, BTreeMap<usize, Vec<Violation>>)> {
    let numbers: BTreeSet<PersonalId> = valid.iter().filter_map(|(_, (_, i))| i.personal_id.clone()).collect();
    let keys: BTreeSet<String> =
        valid.iter().filter_map(|(_, (_, i))| i.staff_code.as_ref().map(|c| c.key())).collect();
    let by_number = people::ids_by_personal_id(txn, &numbers).await?;
    let by_key = people::ids_by_staff_key(txn, &keys).await?;
    let matched_of = |identity: &crate::domain::identity::Identity| match mode {
        Mode::Upsert => identity.personal_id.as_ref().and_then(|n| by_number.get(n)).copied(),
        Mode::Create => None,
    };
    let matched: Vec<i64> = valid.iter().filter_map(|(_, (_, identity))| matched_of(identity)).collect();
    let persons: HashMap<i64, people::PersonRow> =
        people::load_people(txn, &matched).await?.into_iter().map(|p| (p.id, p)).collect();
    let placements = people::by_person(&people::placements_of(txn, &matched).await?, |p| p.person_id);
    let qualifications = people::by_person(&people::qualifications_of(txn, &matched).await?, |q| q.person_id);
    let evaluations = people::by_person(&people::evaluations_of(txn, &matched).await?, |e| e.person_id);

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
                let in_scope =
                    reference.writable.as_ref().is_none_or(|w| write_locality(ps, day).is_some_and(|c| w.contains(c)));
                if !in_scope {
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

/// Writes the plans of every record in `txn`, audits and commits; returns the person
/// of each record, in stream order.
async fn write(
    txn: DatabaseTransaction,
    ctx: &RequestContext,
    mode: Mode,
    valid: &[(usize, &IdentifiedRecord)],
    plans: &[Plan],
) -> Result<Vec<i64>> {
    let creates: Vec<_> = valid
        .iter()
        .zip(plans)
        .filter(|(_, plan)| matches!(plan, Plan::Create))
        .map(|((_, (record, identity)), _)| (record, identity))
        .collect();
    let created = people::insert_identified(&txn, &creates).await?;
    let changes: Vec<PersonChanges<'_>> = plans
        .iter()
        .filter_map(|plan| match plan {
            Plan::Update { person_id, revision, changes } => {
                Some(PersonChanges { person_id: *person_id, revision: *revision, changes })
            }
            Plan::Create | Plan::Unchanged { .. } => None,
        })
        .collect();
    people::apply_changes(&txn, &changes).await?;
    let mut next_created = created.iter();
    let mut ids = Vec::with_capacity(plans.len());
    for plan in plans {
        ids.push(match plan {
            Plan::Create => *next_created.next().ok_or_else(|| Error::internal("fewer people created than planned"))?,
            Plan::Update { person_id, .. } | Plan::Unchanged { person_id } => *person_id,
        });
    }
    audit::record(
        &txn,
        &ctx.principal.subject,
        "ImportPeople",
        &format!("people ({} imported)", ids.len()),
        None,
        serde_json::json!({
            "people": ids.len(),
            "mode": mode.name(),
            "created": created.len(),
            "updated": changes.len(),
            "unchanged": ids.len() - created.len() - changes.len(),
        }),
    )
    .await?;
    store::commit(txn, ctx).await?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        identity::{Identity, StaffCode},
        person::{Category, Gender, PersonFields},
    };
    use crate::store::person::NewRecord;

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

    #[test]
    fn modes_parse_with_create_as_the_default() {
        assert_eq!(Mode::parse(0), Ok(Mode::Create));
        assert_eq!(Mode::parse(1), Ok(Mode::Create));
        assert_eq!(Mode::parse(2), Ok(Mode::Upsert));
        assert!(Mode::parse(9).is_err());
    }
}
