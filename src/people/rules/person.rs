//! People and their records: categories, employment, placements, qualifications,
//! ratings and sanctions, and the rules that need no database.

use chrono::{Datelike, NaiveDate};

use crate::{edge::enums::Table, enum_table, error::Violation, grpc::pb};

/// Declares an enum whose values, wire forms and stored names are listed once, in its
/// [`enum_table!`] below; `as_str`, `from_db` and `ALL` stay for the code that reads
/// the stored names through them.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = <Self as Table>::ALL;

            /// Stable name stored in the database.
            pub fn as_str(self) -> &'static str {
                Table::stored(self)
            }

            /// The value stored under `name`.
            pub fn from_db(name: &str) -> Option<Self> {
                <Self as Table>::from_stored(name)
            }
        }
    };
}

stored_enum! {
    /// The category of a person's employment.
    Category {
        /// Cán bộ.
        Cadre,
        /// Công chức.
        CivilServant,
        /// Viên chức.
        PublicEmployee,
        /// Người hoạt động không chuyên trách.
        PartTimeWorker,
        /// Người lao động.
        ContractWorker,
    }
}

stored_enum! {
    /// Gender as recorded in personnel files.
    Gender {
        /// Male.
        Male,
        /// Female.
        Female,
    }
}

stored_enum! {
    /// Why employment ended.
    EmploymentEnd {
        /// Retired.
        Retired,
        /// Left the public service.
        Left,
        /// Deceased.
        Deceased,
    }
}

stored_enum! {
    /// An annual rating, best first.
    Rating {
        /// Hoàn thành xuất sắc nhiệm vụ.
        Excellent,
        /// Hoàn thành tốt nhiệm vụ.
        Good,
        /// Hoàn thành nhiệm vụ.
        Completed,
        /// Không hoàn thành nhiệm vụ.
        NotCompleted,
    }
}

stored_enum! {
    /// A disciplinary sanction.
    Sanction {
        /// Khiển trách.
        Reprimand,
        /// Cảnh cáo.
        Warning,
        /// Cách chức.
        RemovalFromPost,
        /// Buộc thôi việc.
        Dismissal,
    }
}

// The wire and stored names of each enum, in one table each.
enum_table!(Category, pb::PersonCategory, "PERSON_CATEGORY_", {
    Cadre => Cadre = "cadre",
    CivilServant => CivilServant = "civil_servant",
    PublicEmployee => PublicEmployee = "public_employee",
    PartTimeWorker => PartTimeWorker = "part_time_worker",
    ContractWorker => ContractWorker = "contract_worker",
});
enum_table!(Gender, pb::Gender, "GENDER_", { Male => Male = "male", Female => Female = "female" });
enum_table!(EmploymentEnd, pb::EmploymentEnd, "EMPLOYMENT_END_", {
    Retired => Retired = "retired",
    Left => Left = "left",
    Deceased => Deceased = "deceased",
});
enum_table!(Rating, pb::Rating, "RATING_", {
    Excellent => Excellent = "excellent",
    Good => Good = "good",
    Completed => Completed = "completed",
    NotCompleted => NotCompleted = "not_completed",
});
enum_table!(Sanction, pb::Sanction, "SANCTION_", {
    Reprimand => Reprimand = "reprimand",
    Warning => Warning = "warning",
    RemovalFromPost => RemovalFromPost = "removal_from_post",
    Dismissal => Dismissal = "dismissal",
});

/// The ethnic group that is not a minority.
pub const MAJORITY_ETHNICITY: &str = "Kinh";

/// Whether an ethnic group is a minority (every group but Kinh).
pub fn is_minority(ethnicity: &str) -> bool {
    !ethnicity.trim().eq_ignore_ascii_case(MAJORITY_ETHNICITY)
}

/// Youngest age at which a person may be employed.
pub const MIN_EMPLOYMENT_AGE: i32 = 15;
/// Oldest age at which a person may start employment.
pub const MAX_EMPLOYMENT_AGE: i32 = 80;
/// Youngest age at which a qualification may be awarded.
pub const MIN_QUALIFICATION_AGE: i32 = 10;

/// A person's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFields {
    /// Full name in NFC.
    pub full_name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Gender.
    pub gender: Gender,
    /// Ethnic group.
    pub ethnicity: String,
    /// Category.
    pub category: Category,
    /// First day employed.
    pub employed_from: NaiveDate,
    /// First day no longer employed.
    pub employed_until: Option<NaiveDate>,
    /// Why employment ended.
    pub end_reason: Option<EmploymentEnd>,
}

/// Whole years between `birth` and `day`.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Checks a person's own fields: names, plausible ages, ordered employment dates, and
/// an end reason exactly when employment ended.
pub fn check_person(person: &PersonFields, path: &str, today: NaiveDate) -> Vec<Violation> {
    let at = |field: &str| format!("{path}.{field}");
    let mut violations = Vec::new();
    if person.full_name.is_empty() {
        violations.push(Violation::new(at("full_name"), "is required"));
    } else if person.full_name.chars().count() > 200 {
        violations.push(Violation::new(at("full_name"), "is longer than 200 characters"));
    }
    let ethnicity = person.ethnicity.trim();
    if ethnicity.is_empty() {
        violations.push(Violation::new(at("ethnicity"), "is required"));
    } else if ethnicity.chars().count() > 64 {
        violations.push(Violation::new(at("ethnicity"), "is longer than 64 characters"));
    }
    if person.birth_date > today {
        violations.push(Violation::new(at("birth_date"), "is in the future"));
    }
    let age = age_on(person.birth_date, person.employed_from);
    if !(MIN_EMPLOYMENT_AGE..=MAX_EMPLOYMENT_AGE).contains(&age) {
        violations.push(Violation::new(
            at("employed_from"),
            format!(
                "makes the person {age} years old when employed; expected {MIN_EMPLOYMENT_AGE} to {MAX_EMPLOYMENT_AGE}"
            ),
        ));
    }
    match (person.employed_until, person.end_reason) {
        (Some(until), _) if until <= person.employed_from => {
            violations.push(Violation::new(at("employed_until"), "must be after employed_from"));
        }
        (Some(_), None) => violations.push(Violation::new(at("end_reason"), "is required when employed_until is set")),
        (None, Some(_)) => violations.push(Violation::new(at("end_reason"), "must be unspecified while employed")),
        _ => {}
    }
    violations
}

/// A placement's fields (the unit is checked against the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementFields {
    /// The unit's id.
    pub unit_id: i64,
    /// The post in NFC.
    pub post_title: String,
    /// Leader or manager post.
    pub leader: bool,
    /// Key post.
    pub key_post: bool,
    /// First day (inclusive).
    pub valid_from: NaiveDate,
    /// First day no longer in force (exclusive).
    pub valid_until: Option<NaiveDate>,
}

fn overlaps(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    a.1.is_none_or(|a_end| b.0 < a_end) && b.1.is_none_or(|b_end| a.0 < b_end)
}

/// Checks one placement against the person's employment: ordered dates, a post, and a
/// period inside the employment period.
pub fn check_placement(placement: &PlacementFields, person: &PersonFields, path: &str) -> Vec<Violation> {
    let at = |field: &str| format!("{path}.{field}");
    let mut violations = Vec::new();
    if placement.post_title.is_empty() {
        violations.push(Violation::new(at("post_title"), "is required"));
    } else if placement.post_title.chars().count() > 200 {
        violations.push(Violation::new(at("post_title"), "is longer than 200 characters"));
    }
    if placement.valid_until.is_some_and(|until| until <= placement.valid_from) {
        violations.push(Violation::new(at("valid_until"), "must be after valid_from"));
    }
    if placement.valid_from < person.employed_from {
        violations.push(Violation::new(at("valid_from"), "is before the person's employment began"));
    }
    if let Some(end) = person.employed_until
        && placement.valid_until.is_none_or(|until| until > end)
    {
        violations.push(Violation::new(at("valid_until"), format!("must end by the end of employment, {end}")));
    }
    violations
}

/// The index of the first of `others` that overlaps `period`, if any.
pub fn first_overlap(
    period: (NaiveDate, Option<NaiveDate>),
    others: impl IntoIterator<Item = (NaiveDate, Option<NaiveDate>)>,
) -> Option<usize> {
    others.into_iter().position(|other| overlaps(period, other))
}

/// Violations for placements of one person that overlap each other (reported on the
/// later of each pair, under `path[i].valid_from`).
pub fn check_no_overlap(placements: &[PlacementFields], path: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (i, placement) in placements.iter().enumerate() {
        let earlier = placements[..i].iter().map(|p| (p.valid_from, p.valid_until));
        if let Some(j) = first_overlap((placement.valid_from, placement.valid_until), earlier) {
            violations.push(Violation::new(format!("{path}[{i}].valid_from"), format!("overlaps placement {j}")));
        }
    }
    violations
}

/// A qualification's fields (the level is checked against the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualificationFields {
    /// Scale code.
    pub scale: String,
    /// Level code.
    pub level: String,
    /// Field of study.
    pub field_of_study: String,
    /// Institution.
    pub institution: String,
    /// Date awarded.
    pub awarded_on: NaiveDate,
}

/// Checks a qualification: awarded in the past, at a plausible age, short texts.
pub fn check_qualification(
    q: &QualificationFields,
    birth_date: NaiveDate,
    path: &str,
    today: NaiveDate,
) -> Vec<Violation> {
    let at = |field: &str| format!("{path}.{field}");
    let mut violations = Vec::new();
    if q.awarded_on > today {
        violations.push(Violation::new(at("awarded_on"), "is in the future"));
    } else if age_on(birth_date, q.awarded_on) < MIN_QUALIFICATION_AGE {
        violations.push(Violation::new(
            at("awarded_on"),
            format!("is before the person was {MIN_QUALIFICATION_AGE} years old"),
        ));
    }
    for (field, value) in [("field_of_study", &q.field_of_study), ("institution", &q.institution)] {
        if value.chars().count() > 200 {
            violations.push(Violation::new(at(field), "is longer than 200 characters"));
        }
    }
    violations
}

/// A disciplinary decision's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisciplineFields {
    /// Sanction.
    pub sanction: Sanction,
    /// Date decided.
    pub decided_on: NaiveDate,
    /// Decision number, in NFC.
    pub decision_number: String,
    /// Reason.
    pub reason: String,
}

/// Longest decision number.
pub const MAX_DECISION_NUMBER: usize = 100;
/// Longest reason of a disciplinary decision.
pub const MAX_REASON: usize = 2000;

/// Checks an evaluation year: from 1950, at most next year, and not before the person
/// was employable.
pub fn check_evaluation_year(year: i32, birth_date: NaiveDate, path: &str, today: NaiveDate) -> Vec<Violation> {
    if !(1950..=today.year() + 1).contains(&year) {
        vec![Violation::new(format!("{path}.year"), format!("must be from 1950 to {}", today.year() + 1))]
    } else if year < birth_date.year() + MIN_EMPLOYMENT_AGE {
        vec![Violation::new(format!("{path}.year"), "is before the person was of working age")]
    } else {
        Vec::new()
    }
}

/// The employment status on `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not yet employed.
    NotYetEmployed,
    /// Employed.
    Active,
    /// Employment ended for this reason.
    Ended(EmploymentEnd),
}

/// The employment status of `person` on `day`.
pub fn status_on(person: &PersonFields, day: NaiveDate) -> Status {
    if day < person.employed_from {
        Status::NotYetEmployed
    } else {
        match (person.employed_until, person.end_reason) {
            (Some(until), Some(reason)) if day >= until => Status::Ended(reason),
            (Some(until), None) if day >= until => Status::Ended(EmploymentEnd::Left),
            _ => Status::Active,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    /// A valid person, for the unit tests of the rules about people.
    pub(crate) fn person() -> PersonFields {
        PersonFields {
            full_name: "Nguyễn Thị Hoa".into(),
            birth_date: day(1985, 3, 2),
            gender: Gender::Female,
            ethnicity: "Tày".into(),
            category: Category::CivilServant,
            employed_from: day(2008, 9, 1),
            employed_until: None,
            end_reason: None,
        }
    }

    fn fields(v: &[Violation]) -> Vec<&str> {
        v.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_plausible_person_has_no_violations() {
        assert!(check_person(&person(), "p", day(2026, 1, 1)).is_empty());
        assert!(is_minority("Tày"));
        assert!(!is_minority("Kinh"));
    }

    #[test]
    fn implausible_ages_and_dates_are_violations() {
        let mut child = person();
        child.employed_from = day(1995, 1, 1);
        assert_eq!(fields(&check_person(&child, "p", day(2026, 1, 1))), ["p.employed_from"]);
        let mut unborn = person();
        unborn.birth_date = day(2030, 1, 1);
        assert!(fields(&check_person(&unborn, "p", day(2026, 1, 1))).contains(&"p.birth_date"));
        let mut ended = person();
        ended.employed_until = Some(day(2020, 1, 1));
        assert_eq!(fields(&check_person(&ended, "p", day(2026, 1, 1))), ["p.end_reason"]);
        ended.end_reason = Some(EmploymentEnd::Retired);
        assert!(check_person(&ended, "p", day(2026, 1, 1)).is_empty());
        assert_eq!(status_on(&ended, day(2019, 12, 31)), Status::Active);
        assert_eq!(status_on(&ended, day(2020, 1, 1)), Status::Ended(EmploymentEnd::Retired));
        assert_eq!(status_on(&ended, day(2008, 8, 31)), Status::NotYetEmployed);
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_on(day(1985, 3, 2), day(2000, 3, 1)), 14);
        assert_eq!(age_on(day(1985, 3, 2), day(2000, 3, 2)), 15);
    }

    fn placement(from: NaiveDate, until: Option<NaiveDate>) -> PlacementFields {
        PlacementFields {
            unit_id: 1,
            post_title: "Công chức Văn phòng".into(),
            leader: false,
            key_post: false,
            valid_from: from,
            valid_until: until,
        }
    }

    #[test]
    fn placements_must_not_overlap_and_must_lie_within_employment() {
        let list = [placement(day(2010, 1, 1), Some(day(2015, 1, 1))), placement(day(2014, 6, 1), None)];
        assert_eq!(fields(&check_no_overlap(&list, "ps")), ["ps[1].valid_from"]);
        let adjacent = [placement(day(2010, 1, 1), Some(day(2015, 1, 1))), placement(day(2015, 1, 1), None)];
        assert!(check_no_overlap(&adjacent, "ps").is_empty());
        assert_eq!(fields(&check_placement(&placement(day(2007, 1, 1), None), &person(), "p")), ["p.valid_from"]);
        let mut retired = person();
        retired.employed_until = Some(day(2020, 1, 1));
        retired.end_reason = Some(EmploymentEnd::Retired);
        assert_eq!(fields(&check_placement(&placement(day(2010, 1, 1), None), &retired, "p")), ["p.valid_until"]);
    }

    #[test]
    fn qualifications_are_awarded_in_the_past_at_a_plausible_age() {
        let q = |on| QualificationFields {
            scale: "professional".into(),
            level: "university".into(),
            field_of_study: String::new(),
            institution: String::new(),
            awarded_on: on,
        };
        assert!(check_qualification(&q(day(2007, 6, 1)), day(1985, 3, 2), "q", day(2026, 1, 1)).is_empty());
        assert_eq!(
            fields(&check_qualification(&q(day(2027, 1, 1)), day(1985, 3, 2), "q", day(2026, 1, 1))),
            ["q.awarded_on"]
        );
        assert_eq!(
            fields(&check_qualification(&q(day(1990, 1, 1)), day(1985, 3, 2), "q", day(2026, 1, 1))),
            ["q.awarded_on"]
        );
    }

    #[test]
    fn evaluation_years_are_plausible() {
        assert!(check_evaluation_year(2024, day(1985, 3, 2), "e", day(2026, 1, 1)).is_empty());
        assert_eq!(check_evaluation_year(2028, day(1985, 3, 2), "e", day(2026, 1, 1)).len(), 1);
        assert_eq!(check_evaluation_year(1995, day(1985, 3, 2), "e", day(2026, 1, 1)).len(), 1);
    }
}
