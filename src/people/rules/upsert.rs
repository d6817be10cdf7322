//! Upserting an imported record into a person already recorded (ImportPeople's
//! `IMPORT_MODE_UPSERT`): which of the person's rows the record changes and which it
//! adds, so that importing the same records twice changes nothing the second time.
//!
//! The rules, as the proto states them:
//! - the person's own fields are replaced by the record's; what the record leaves
//!   empty and is optional (an end of employment, a staff code) keeps its stored value;
//! - a placement with the same unit and start date is updated (post, leader, key post,
//!   and its end when the record gives one); any other is added, and an open
//!   placement not in the record that began earlier is closed the day the new one
//!   begins; any other overlap is a violation;
//! - a qualification of the same level is updated (its award date, and its field and
//!   institution when the record gives them), any other is added; when the person
//!   holds a level more than once, one awarded the same day is matched first;
//! - an evaluation of the same year is replaced; others are added;
//! - nothing the record does not mention is removed.

use chrono::NaiveDate;

use super::{
    identity::Identity,
    person::{
        PersonFields, PlacementFields, QualificationFields, Rating, check_person, check_placement, first_overlap,
    },
};
use crate::error::Violation;

/// A stored row: its id, its revision (to detect concurrent changes) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<T> {
    /// Id of the row.
    pub id: i64,
    /// Revision of the row when it was read.
    pub revision: i64,
    /// Its fields.
    pub fields: T,
}

/// A person as recorded, with every record an import may touch.
#[derive(Debug, Clone, Copy)]
pub struct StoredPerson<'a> {
    /// Id of the person.
    pub id: i64,
    /// Their own fields.
    pub fields: &'a PersonFields,
    /// Their identifiers.
    pub identity: &'a Identity,
    /// Their placements.
    pub placements: &'a [Stored<PlacementFields>],
    /// Their qualifications.
    pub qualifications: &'a [Stored<QualificationFields>],
    /// Their evaluations: (year, rating, revision).
    pub evaluations: &'a [(i32, Rating, i64)],
}

/// An imported record that passed the checks that need no stored data.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The person's own fields.
    pub person: &'a PersonFields,
    /// The identifiers.
    pub identity: &'a Identity,
    /// The placements.
    pub placements: &'a [PlacementFields],
    /// The qualifications.
    pub qualifications: &'a [QualificationFields],
    /// The evaluations (year, rating).
    pub evaluations: &'a [(i32, Rating)],
}

/// What an upsert writes for one person; empty when the record changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The person's new own fields and identifiers, when they change.
    pub person: Option<(PersonFields, Identity)>,
    /// Placements updated: (id, revision read, new fields).
    pub placements_updated: Vec<(i64, i64, PlacementFields)>,
    /// Placements added.
    pub placements_added: Vec<PlacementFields>,
    /// Qualifications updated: (id, revision read, new fields).
    pub qualifications_updated: Vec<(i64, i64, QualificationFields)>,
    /// Qualifications added.
    pub qualifications_added: Vec<QualificationFields>,
    /// Evaluations replaced: (year, revision read, new rating).
    pub evaluations_updated: Vec<(i32, i64, Rating)>,
    /// Evaluations added: (year, rating).
    pub evaluations_added: Vec<(i32, Rating)>,
}

impl Changes {
    /// Whether the record changes nothing.
    pub fn is_empty(&self) -> bool {
        self.person.is_none()
            && self.placements_updated.is_empty()
            && self.placements_added.is_empty()
            && self.qualifications_updated.is_empty()
            && self.qualifications_added.is_empty()
            && self.evaluations_updated.is_empty()
            && self.evaluations_added.is_empty()
    }
}

/// One placement of the person after the upsert: where it comes from and its fields.
struct After {
    /// Index among the stored placements, for one already recorded.
    stored: Option<usize>,
    /// Index among the record's placements, for one the record mentions.
    record: Option<usize>,
    fields: PlacementFields,
}

/// What upserting `incoming` into `stored` changes, or why it cannot; violation
/// paths start with `path` (`record`), as those of the record's own checks.
pub fn merge(
    stored: &StoredPerson<'_>,
    incoming: &Incoming<'_>,
    path: &str,
    today: NaiveDate,
) -> Result<Changes, Vec<Violation>> {
    let mut violations = Vec::new();
    let mut changes = Changes::default();

    // The person: the record's fields; a stored end of employment stays unless the
    // record gives one.
    let mut person = incoming.person.clone();
    if person.employed_until.is_none() && person.end_reason.is_none() {
        person.employed_until = stored.fields.employed_until;
        person.end_reason = stored.fields.end_reason;
        if person.employed_until.is_some() {
            for v in check_person(&person, &format!("{path}.person"), today) {
                violations.push(Violation::new(
                    v.field,
                    format!("{} (with the recorded end of employment, which the record leaves empty)", v.description),
                ));
            }
        }
    }
    let identity = Identity {
        personal_id: incoming.identity.personal_id.clone().or_else(|| stored.identity.personal_id.clone()),
        staff_code: incoming.identity.staff_code.clone().or_else(|| stored.identity.staff_code.clone()),
    };
    if person != *stored.fields || identity != *stored.identity {
        changes.person = Some((person.clone(), identity));
    }

    // Placements: update those of the same unit and start, then add the others.
    let mut after: Vec<After> = stored
        .placements
        .iter()
        .enumerate()
        .map(|(i, p)| After { stored: Some(i), record: None, fields: p.fields.clone() })
        .collect();
    let mut added = Vec::new();
    for (r, p) in incoming.placements.iter().enumerate() {
        let same = after
            .iter_mut()
            .find(|a| a.record.is_none() && a.fields.unit_id == p.unit_id && a.fields.valid_from == p.valid_from);
        match same {
            Some(a) => {
                let mut fields = p.clone();
                if fields.valid_until.is_none() {
                    fields.valid_until = a.fields.valid_until;
                }
                a.fields = fields;
                a.record = Some(r);
            }
            None => added.push(r),
        }
    }
    for r in added {
        let p = &incoming.placements[r];
        for a in after.iter_mut() {
            if a.stored.is_some()
                && a.record.is_none()
                && a.fields.valid_until.is_none()
                && a.fields.valid_from < p.valid_from
            {
                a.fields.valid_until = Some(p.valid_from);
            }
        }
        after.push(After { stored: None, record: Some(r), fields: p.clone() });
    }
    let name = |a: &After| match a.stored {
        Some(i) => format!("people/{}/placements/{}", stored.id, stored.placements[i].id),
        None => format!("placement {}", a.record.unwrap_or_default()),
    };
    for (i, a) in after.iter().enumerate() {
        let others = after[..i].iter().map(|o| (o.fields.valid_from, o.fields.valid_until));
        if let Some(j) = first_overlap((a.fields.valid_from, a.fields.valid_until), others) {
            let other = &after[j];
            // Two placements of the record were checked against each other already.
            let (mentioned, recorded) = match (a.record, other.record) {
                (Some(r), None) => (r, other),
                (None, Some(r)) => (r, a),
                _ => continue,
            };
            violations.push(Violation::new(
                format!("{path}.placements[{mentioned}].valid_from"),
                format!(
                    "overlaps {}; an import closes only an open placement that began earlier and that the record \
                     does not list",
                    name(recorded)
                ),
            ));
        }
    }
    for a in &after {
        if a.record.is_some() && person == *incoming.person {
            continue; // checked against the record's person already
        }
        let outside = check_placement(&a.fields, &person, "p");
        if outside.iter().any(|v| v.field == "p.valid_from" || v.field == "p.valid_until") {
            let field = if a.fields.valid_from < person.employed_from { "employed_from" } else { "employed_until" };
            violations.push(Violation::new(
                format!("{path}.person.{field}"),
                format!("{} would fall outside the employment", name(a)),
            ));
        }
    }
    for a in after {
        match a.stored {
            Some(i) if a.fields != stored.placements[i].fields => {
                let row = &stored.placements[i];
                changes.placements_updated.push((row.id, row.revision, a.fields));
            }
            Some(_) => {}
            None => changes.placements_added.push(a.fields),
        }
    }

    // Qualifications: the same level (awarded the same day first), else added.
    let mut matched: Vec<Option<usize>> = vec![None; incoming.qualifications.len()];
    let mut used = vec![false; stored.qualifications.len()];
    for exact in [true, false] {
        for (r, q) in incoming.qualifications.iter().enumerate() {
            if matched[r].is_some() {
                continue;
            }
            let found = stored.qualifications.iter().enumerate().position(|(k, s)| {
                !used[k]
                    && s.fields.scale == q.scale
                    && s.fields.level == q.level
                    && (!exact || s.fields.awarded_on == q.awarded_on)
            });
            if let Some(k) = found {
                used[k] = true;
                matched[r] = Some(k);
            }
        }
    }
    for (q, m) in incoming.qualifications.iter().zip(matched) {
        match m {
            Some(k) => {
                let row = &stored.qualifications[k];
                let mut fields = q.clone();
                if fields.field_of_study.is_empty() {
                    fields.field_of_study.clone_from(&row.fields.field_of_study);
                }
                if fields.institution.is_empty() {
                    fields.institution.clone_from(&row.fields.institution);
                }
                if fields != row.fields {
                    changes.qualifications_updated.push((row.id, row.revision, fields));
                }
            }
            None => changes.qualifications_added.push(q.clone()),
        }
    }

    // Evaluations: one per year, replaced.
    for (year, rating) in incoming.evaluations {
        match stored.evaluations.iter().find(|(y, _, _)| y == year) {
            Some((_, old, _)) if old == rating => {}
            Some((_, _, revision)) => changes.evaluations_updated.push((*year, *revision, *rating)),
            None => changes.evaluations_added.push((*year, *rating)),
        }
    }

    if violations.is_empty() { Ok(changes) } else { Err(violations) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::rules::{
        identity::{PersonalId, StaffCode},
        person::{EmploymentEnd, Gender, tests::person},
    };

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    const TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 1, 1) {
        Some(d) => d,
        None => NaiveDate::MIN,
    };

    fn identity() -> Identity {
        Identity {
            personal_id: Some(PersonalId::synthetic(20, day(1985, 3, 2), Gender::Female, 1).unwrap()),
            staff_code: Some(StaffCode::parse("LS-001").unwrap()),
        }
    }

    fn placement(unit: i64, from: NaiveDate, until: Option<NaiveDate>) -> PlacementFields {
        PlacementFields {
            unit_id: unit,
            post_title: "Chuyên viên".into(),
            leader: false,
            key_post: false,
            valid_from: from,
            valid_until: until,
        }
    }

    fn qualification(level: &str, on: NaiveDate) -> QualificationFields {
        QualificationFields {
            scale: "professional".into(),
            level: level.into(),
            field_of_study: "Luật".into(),
            institution: "Đại học Luật Hà Nội".into(),
            awarded_on: on,
        }
    }

    fn stored<T>(id: i64, fields: T) -> Stored<T> {
        Stored { id, revision: 1, fields }
    }

    struct Fixture {
        person: PersonFields,
        identity: Identity,
        placements: Vec<Stored<PlacementFields>>,
        qualifications: Vec<Stored<QualificationFields>>,
        evaluations: Vec<(i32, Rating, i64)>,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                person: person(),
                identity: identity(),
                placements: vec![stored(10, placement(1, day(2020, 1, 1), None))],
                qualifications: vec![stored(20, qualification("university", day(2007, 6, 30)))],
                evaluations: vec![(2024, Rating::Good, 1)],
            }
        }

        fn as_stored(&self) -> StoredPerson<'_> {
            StoredPerson {
                id: 7,
                fields: &self.person,
                identity: &self.identity,
                placements: &self.placements,
                qualifications: &self.qualifications,
                evaluations: &self.evaluations,
            }
        }
    }

    struct Record {
        person: PersonFields,
        identity: Identity,
        placements: Vec<PlacementFields>,
        qualifications: Vec<QualificationFields>,
        evaluations: Vec<(i32, Rating)>,
    }

    impl Record {
        /// The record the fixture was imported from.
        fn same() -> Self {
            Self {
                person: person(),
                identity: identity(),
                placements: vec![placement(1, day(2020, 1, 1), None)],
                qualifications: vec![qualification("university", day(2007, 6, 30))],
                evaluations: vec![(2024, Rating::Good)],
            }
        }

        fn incoming(&self) -> Incoming<'_> {
            Incoming {
                person: &self.person,
                identity: &self.identity,
                placements: &self.placements,
                qualifications: &self.qualifications,
                evaluations: &self.evaluations,
            }
        }
    }

    fn merged(fixture: &Fixture, record: &Record) -> Result<Changes, Vec<Violation>> {
        merge(&fixture.as_stored(), &record.incoming(), "record", TODAY)
    }

    #[test]
    fn the_same_record_again_changes_nothing() {
        let changes = merged(&Fixture::new(), &Record::same()).unwrap();
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn empty_optional_fields_keep_what_is_recorded() {
        let mut fixture = Fixture::new();
        fixture.person.employed_until = Some(day(2025, 1, 1));
        fixture.person.end_reason = Some(EmploymentEnd::Retired);
        fixture.placements[0].fields.valid_until = Some(day(2025, 1, 1));
        let mut record = Record::same();
        record.identity.staff_code = None;
        record.qualifications[0].field_of_study.clear();
        record.qualifications[0].institution.clear();
        assert!(merged(&fixture, &record).unwrap().is_empty());
    }

    #[test]
    fn changed_own_fields_and_a_new_staff_code_update_the_person() {
        let mut record = Record::same();
        record.person.full_name = "Nguyễn Thị Hòa".into();
        record.identity.staff_code = Some(StaffCode::parse("LS-002").unwrap());
        let changes = merged(&Fixture::new(), &record).unwrap();
        let (fields, identity) = changes.person.clone().unwrap();
        assert_eq!(fields.full_name, "Nguyễn Thị Hòa");
        assert_eq!(identity.staff_code.unwrap().as_str(), "LS-002");
        assert_eq!(changes, Changes { person: changes.person.clone(), ..Changes::default() });
    }

    #[test]
    fn a_placement_of_the_same_unit_and_start_is_updated_and_keeps_its_end_unless_given() {
        let mut record = Record::same();
        record.placements[0].post_title = "Phó Chủ tịch".into();
        record.placements[0].leader = true;
        let changes = merged(&Fixture::new(), &record).unwrap();
        assert_eq!(changes.placements_updated.len(), 1);
        assert_eq!(changes.placements_updated[0].0, 10);
        assert!(changes.placements_updated[0].2.leader);
        assert!(changes.placements_added.is_empty());
        record.placements[0].valid_until = Some(day(2025, 7, 1));
        let changes = merged(&Fixture::new(), &record).unwrap();
        assert_eq!(changes.placements_updated[0].2.valid_until, Some(day(2025, 7, 1)));
    }

    #[test]
    fn a_new_placement_closes_the_earlier_open_one_the_day_it_begins() {
        let mut record = Record::same();
        record.placements = vec![placement(2, day(2025, 7, 1), None)];
        let changes = merged(&Fixture::new(), &record).unwrap();
        assert_eq!(changes.placements_updated, vec![(10, 1, placement(1, day(2020, 1, 1), Some(day(2025, 7, 1))))]);
        assert_eq!(changes.placements_added, vec![placement(2, day(2025, 7, 1), None)]);
    }

    #[test]
    fn other_overlaps_with_recorded_placements_are_violations() {
        let mut fixture = Fixture::new();
        fixture.placements[0].fields.valid_until = Some(day(2025, 1, 1));
        let mut record = Record::same();
        record.placements = vec![placement(2, day(2024, 1, 1), None)];
        let violations = merged(&fixture, &record).unwrap_err();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "record.placements[0].valid_from");
        assert!(violations[0].description.contains("people/7/placements/10"), "{violations:?}");
        // An open placement that began later is not closed either.
        let mut record = Record::same();
        record.placements = vec![placement(2, day(2019, 1, 1), Some(day(2021, 1, 1)))];
        assert_eq!(merged(&Fixture::new(), &record).unwrap_err()[0].field, "record.placements[0].valid_from");
    }

    #[test]
    fn a_recorded_placement_outside_the_new_employment_is_a_violation() {
        let mut record = Record::same();
        record.person.employed_until = Some(day(2019, 1, 1));
        record.person.end_reason = Some(EmploymentEnd::Left);
        record.placements.clear();
        let violations = merged(&Fixture::new(), &record).unwrap_err();
        assert_eq!(violations[0].field, "record.person.employed_until");
        assert!(violations[0].description.contains("people/7/placements/10"));
    }

    #[test]
    fn qualifications_match_on_level_and_others_are_added() {
        let mut record = Record::same();
        record.qualifications[0].awarded_on = day(2007, 7, 15);
        record.qualifications.push(qualification("master", day(2015, 6, 30)));
        let changes = merged(&Fixture::new(), &record).unwrap();
        assert_eq!(changes.qualifications_updated.len(), 1);
        assert_eq!(changes.qualifications_updated[0].2.awarded_on, day(2007, 7, 15));
        assert_eq!(changes.qualifications_added, vec![qualification("master", day(2015, 6, 30))]);
    }

    #[test]
    fn a_level_held_twice_matches_the_one_awarded_the_same_day_first() {
        let mut fixture = Fixture::new();
        fixture.qualifications.push(stored(21, qualification("university", day(2012, 6, 30))));
        let mut record = Record::same();
        record.qualifications = vec![qualification("university", day(2012, 6, 30))];
        assert!(merged(&fixture, &record).unwrap().is_empty());
    }

    #[test]
    fn evaluations_of_the_same_year_are_replaced_and_others_added() {
        let mut record = Record::same();
        record.evaluations = vec![(2024, Rating::Excellent), (2025, Rating::Good)];
        let changes = merged(&Fixture::new(), &record).unwrap();
        assert_eq!(changes.evaluations_updated, vec![(2024, 1, Rating::Excellent)]);
        assert_eq!(changes.evaluations_added, vec![(2025, Rating::Good)]);
    }
}
