//! What a locality is and the rules it obeys, free of I/O: its code, tier and kind,
//! its dated versions (each within its parent's), its tags, and the conditions and
//! orders of locality lists.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{edge::enums::Table as _, enum_table, error::Violation, grpc::pb};

pub use crate::domain::locality::{COLLECTION, Code, Tier};

/// The kind of an administrative unit; each kind belongs to one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Tỉnh.
    Province,
    /// Thành phố trực thuộc trung ương.
    CentralCity,
    /// Huyện.
    RuralDistrict,
    /// Quận.
    UrbanDistrict,
    /// Thị xã.
    Town,
    /// Thành phố thuộc tỉnh.
    ProvincialCity,
    /// Xã.
    Commune,
    /// Phường.
    Ward,
    /// Thị trấn.
    Township,
    /// Đặc khu.
    SpecialZone,
}

impl Kind {
    /// The tier units of this kind belong to.
    pub fn tier(self) -> Tier {
        match self {
            Self::Province | Self::CentralCity => Tier::Province,
            Self::RuralDistrict | Self::UrbanDistrict | Self::Town | Self::ProvincialCity => Tier::District,
            Self::Commune | Self::Ward | Self::Township | Self::SpecialZone => Tier::Commune,
        }
    }

    /// Stable name stored in the database (the enum table's stored name).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The kind stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
    }
}

enum_table!(Kind, pb::LocalityKind, "LOCALITY_KIND_", {
    Province => Province = "province",
    CentralCity => CentralCity = "central_city",
    RuralDistrict => RuralDistrict = "rural_district",
    UrbanDistrict => UrbanDistrict = "urban_district",
    Town => Town = "town",
    ProvincialCity => ProvincialCity = "provincial_city",
    Commune => Commune = "commune",
    Ward => Ward = "ward",
    Township => Township = "township",
    SpecialZone => SpecialZone = "special_zone",
});

/// How a locality passed to another on a reorganisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuccessionKind {
    /// The whole predecessor became part of the successor.
    Merge,
    /// Part of the predecessor went to the successor.
    Split,
    /// The predecessor continues under another code.
    Rename,
}

impl SuccessionKind {
    /// Stable name stored in the database (the enum table's stored name).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The kind stored under `name`.
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
    }

    /// Whether the successor's caller scope takes in the whole predecessor.
    ///
    /// Only a whole passage (merge, rename) does: a commune that split between two
    /// provinces stays visible through its old parents only, so that neither new
    /// province sees what went to the other.
    pub fn carries_scope(self) -> bool {
        matches!(self, Self::Merge | Self::Rename)
    }
}

enum_table!(SuccessionKind, pb::SuccessionKind, "SUCCESSION_KIND_", {
    Merge => Merge = "merge",
    Split => Split = "split",
    Rename => Rename = "rename",
});

/// One dated version of a locality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// First day in force (inclusive).
    pub valid_from: NaiveDate,
    /// First day no longer in force (exclusive); `None` is open-ended.
    pub valid_until: Option<NaiveDate>,
    /// Vietnamese name in NFC.
    pub display_name: String,
    /// Kind during this version.
    pub kind: Kind,
    /// Parent during this version; `None` for provinces.
    pub parent: Option<Code>,
}

impl Version {
    /// Whether the version is in force on `day`.
    pub fn contains(&self, day: NaiveDate) -> bool {
        crate::domain::date::period_contains(self.valid_from, self.valid_until, day)
    }
}

/// A succession link seen from one locality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The locality on the other side.
    pub other: Code,
    /// How the predecessor passed to the successor.
    pub kind: SuccessionKind,
    /// First day of the succession.
    pub effective_date: NaiveDate,
    /// Name of the other side around the effective date, if it had a version then.
    pub other_name: Option<String>,
}

/// A locality with its whole history, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalityRecord {
    /// The official code.
    pub code: Code,
    /// The tier.
    pub tier: Tier,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Versions ordered by `valid_from`.
    pub versions: Vec<Version>,
    /// Localities this one passed to.
    pub successors: Vec<Link>,
    /// Localities that passed to this one.
    pub predecessors: Vec<Link>,
    /// Incremented on every change; the etag.
    pub revision: i64,
    /// When it was created here.
    pub create_time: DateTime<Utc>,
    /// When it last changed here.
    pub update_time: DateTime<Utc>,
}

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Most tags on one locality.
pub const MAX_TAGS: usize = 32;

/// Checks a history against the rules that need no database: ordered, non-overlapping
/// periods that end after they start; kinds of the locality's tier; a parent exactly
/// when the tier has one, of a higher tier, and never the locality itself.
///
/// `path` is the request path of the versions list, such as `locality.versions`.
pub fn check_versions(code: &Code, versions: &[Version], path: &str) -> Vec<Violation> {
    let tier = code.tier();
    let mut violations = Vec::new();
    if versions.is_empty() {
        violations.push(Violation::new(path, "at least one version is required"));
    }
    for (i, version) in versions.iter().enumerate() {
        let at = |field: &str| format!("{path}[{i}].{field}");
        if version.valid_until.is_some_and(|until| until <= version.valid_from) {
            violations.push(Violation::new(at("valid_until"), "must be after valid_from"));
        }
        if version.display_name.is_empty() {
            violations.push(Violation::new(at("display_name"), "is required"));
        } else if version.display_name.chars().count() > MAX_NAME_CHARS {
            violations.push(Violation::new(at("display_name"), format!("is longer than {MAX_NAME_CHARS} characters")));
        }
        if version.kind.tier() != tier {
            violations.push(Violation::new(
                at("kind"),
                format!("a {} kind cannot be the kind of a {}", version.kind.tier().as_str(), tier.as_str()),
            ));
        }
        match (&version.parent, tier) {
            (Some(_), Tier::Province) => {
                violations.push(Violation::new(at("parent"), "a province has no parent"));
            }
            (None, Tier::District | Tier::Commune) => {
                violations.push(Violation::new(at("parent"), format!("is required for a {}", tier.as_str())));
            }
            (Some(parent), _) if parent == code => {
                violations.push(Violation::new(at("parent"), "a locality cannot be its own parent (cycle)"));
            }
            (Some(parent), _) if parent.tier() >= tier => {
                violations.push(Violation::new(
                    at("parent"),
                    format!(
                        "the parent must be of a higher tier than {}; `{}` is a {}",
                        tier.as_str(),
                        parent.name(),
                        parent.tier().as_str()
                    ),
                ));
            }
            _ => {}
        }
        if let Some(previous) = i.checked_sub(1).and_then(|p| versions.get(p)) {
            if version.valid_from <= previous.valid_from {
                violations.push(Violation::new(at("valid_from"), "versions must be ordered by valid_from"));
            } else if previous.valid_until.is_none_or(|until| until > version.valid_from) {
                violations.push(Violation::new(at("valid_from"), format!("overlaps version {}", i - 1)));
            }
        }
    }
    violations
}

/// Checks tags: lower snake case, 1 to 64 characters, unique, at most [`MAX_TAGS`].
pub fn check_tags(tags: &[String], path: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    if tags.len() > MAX_TAGS {
        violations.push(Violation::new(path, format!("at most {MAX_TAGS} tags")));
    }
    for (i, tag) in tags.iter().enumerate() {
        let valid = (1..=64).contains(&tag.len())
            && tag.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && tag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            violations.push(Violation::new(
                format!("{path}[{i}]"),
                format!("{} must be lower snake case (a-z, 0-9, _), 1 to 64 characters", crate::error::quote(tag)),
            ));
        } else if tags[..i].contains(tag) {
            violations
                .push(Violation::new(format!("{path}[{i}]"), format!("{} is repeated", crate::error::quote(tag))));
        }
    }
    violations
}

/// Whether the union of `periods` covers the whole period `[from, until)`.
pub fn covers(periods: &[(NaiveDate, Option<NaiveDate>)], from: NaiveDate, until: Option<NaiveDate>) -> bool {
    let mut sorted = periods.to_vec();
    sorted.sort_by_key(|(start, _)| *start);
    let mut covered_until = from;
    for (start, end) in sorted {
        if start > covered_until {
            break;
        }
        match end {
            None => return true,
            Some(end) if end > covered_until => covered_until = end,
            Some(_) => {}
        }
        if until.is_some_and(|u| covered_until >= u) {
            return true;
        }
    }
    until.is_some_and(|u| covered_until >= u)
}

/// One condition of a locality filter (`tier = COMMUNE AND kind != WARD AND tags:x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `tier = X` (`equal`) or `tier != X`.
    Tier {
        /// Whether the tier must equal (true) or differ (false).
        equal: bool,
        /// The tier compared with.
        tier: Tier,
    },
    /// `kind = X` or `kind != X`.
    Kind {
        /// Whether the kind must equal (true) or differ (false).
        equal: bool,
        /// The kind compared with.
        kind: Kind,
    },
    /// `tags:x` (`has`) or `NOT tags:x`.
    Tag {
        /// Whether the tag must be present (true) or absent (false).
        has: bool,
        /// The tag.
        tag: String,
    },
}

/// The sort keys of locality lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalityOrder {
    /// By code.
    Code,
    /// By display name on the as-of date, then code.
    DisplayName,
}

/// The state of a locality on a date, and the version that shows it: the one in
/// force, else the next to come, else the last.
pub fn shown_on(versions: &[Version], as_of: NaiveDate) -> (pb::LocalityState, Option<&Version>) {
    match versions.iter().find(|v| v.contains(as_of)) {
        Some(v) => (pb::LocalityState::Active, Some(v)),
        None => match versions.iter().find(|v| v.valid_from > as_of) {
            Some(next) => (pb::LocalityState::NotYetEstablished, Some(next)),
            None => (pb::LocalityState::Ended, versions.last()),
        },
    }
}

/// A period as messages print it: `[from, until)` or `from … on`.
pub fn period(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(until) => format!("[{from}, {until})"),
        None => format!("from {from} on"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn code(c: &str) -> Code {
        Code::parse(c).unwrap_or_else(|_| Code::from_db(c.to_owned()))
    }

    fn version(from: NaiveDate, until: Option<NaiveDate>, parent: Option<&str>) -> Version {
        Version {
            valid_from: from,
            valid_until: until,
            display_name: "Xã Chi Lăng".to_owned(),
            kind: Kind::Commune,
            parent: parent.map(code),
        }
    }

    fn fields(violations: &[Violation]) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn codes_must_be_digits_of_a_tier_length() {
        assert_eq!(Code::parse("01").map(|c| c.tier()), Ok(Tier::Province));
        assert_eq!(Code::parse("187").map(|c| c.tier()), Ok(Tier::District));
        assert_eq!(Code::parse("06463").map(|c| c.tier()), Ok(Tier::Commune));
        assert!(Code::parse("0646").is_err());
        assert!(Code::parse("0a").is_err());
        assert!(Code::parse("").is_err());
        assert!(Code::from_name("localities/01").is_ok());
        assert!(Code::from_name("people/01").is_err());
    }

    #[test]
    fn a_valid_history_has_no_violations() {
        let versions =
            [version(day(2020, 1, 1), Some(day(2025, 7, 1)), Some("187")), version(day(2025, 7, 1), None, Some("20"))];
        assert!(check_versions(&code("06463"), &versions, "v").is_empty());
    }

    #[test]
    fn overlapping_versions_are_rejected() {
        let versions =
            [version(day(2020, 1, 1), Some(day(2025, 7, 2)), Some("187")), version(day(2025, 7, 1), None, Some("20"))];
        assert_eq!(fields(&check_versions(&code("06463"), &versions, "v")), vec!["v[1].valid_from"]);
        let open = [version(day(2020, 1, 1), None, Some("187")), version(day(2025, 7, 1), None, Some("20"))];
        assert_eq!(fields(&check_versions(&code("06463"), &open, "v")), vec!["v[1].valid_from"]);
    }

    #[test]
    fn a_version_must_end_after_it_starts() {
        let versions = [version(day(2020, 1, 1), Some(day(2020, 1, 1)), Some("187"))];
        assert_eq!(fields(&check_versions(&code("06463"), &versions, "v")), vec!["v[0].valid_until"]);
    }

    #[test]
    fn parents_must_be_of_a_higher_tier_and_not_the_locality_itself() {
        let own = [version(day(2020, 1, 1), None, Some("06463"))];
        let violations = check_versions(&code("06463"), &own, "v");
        assert_eq!(fields(&violations), vec!["v[0].parent"]);
        assert!(violations[0].description.contains("cycle"));
        let sibling = [version(day(2020, 1, 1), None, Some("06466"))];
        assert_eq!(fields(&check_versions(&code("06463"), &sibling, "v")), vec!["v[0].parent"]);
        let missing = [version(day(2020, 1, 1), None, None)];
        assert_eq!(fields(&check_versions(&code("06463"), &missing, "v")), vec!["v[0].parent"]);
    }

    #[test]
    fn kinds_must_belong_to_the_tier() {
        let mut district = version(day(2020, 1, 1), None, Some("20"));
        district.kind = Kind::Ward;
        assert_eq!(fields(&check_versions(&code("187"), &[district], "v")), vec!["v[0].kind"]);
    }

    #[test]
    fn tags_are_lower_snake_case_and_unique() {
        let tags = ["poor_district".to_owned(), "Border".to_owned(), "poor_district".to_owned()];
        assert_eq!(fields(&check_tags(&tags, "t")), vec!["t[1]", "t[2]"]);
    }

    #[test]
    fn coverage_joins_adjacent_periods() {
        let parent = [(day(2020, 1, 1), Some(day(2023, 1, 1))), (day(2023, 1, 1), Some(day(2025, 7, 1)))];
        assert!(covers(&parent, day(2021, 1, 1), Some(day(2025, 7, 1))));
        assert!(!covers(&parent, day(2021, 1, 1), Some(day(2025, 7, 2))));
        assert!(!covers(&parent, day(2021, 1, 1), None));
        assert!(!covers(&parent, day(2019, 12, 31), Some(day(2021, 1, 1))));
        let gap = [(day(2020, 1, 1), Some(day(2021, 1, 1))), (day(2021, 1, 2), None)];
        assert!(!covers(&gap, day(2020, 6, 1), Some(day(2021, 6, 1))));
        assert!(covers(&gap, day(2021, 1, 2), None));
    }
}
