//! What a unit is and the rules it obeys, free of I/O: its sector and kind, its own
//! code (mã đơn vị), and its period, which must lie within its locality's history.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{
    domain::locality::Code, edge::names::UnitName, enum_table, error::Violation, grpc::pb, localities::rules::covers,
};

/// The sector of a unit.
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

enum_table!(Sector, pb::Sector, "SECTOR_", {
    Party => Party = "party",
    StateAdministration => StateAdministration = "state_administration",
    MassOrganisation => MassOrganisation = "mass_organisation",
    Education => Education = "education",
    Health => Health = "health",
    Other => Other = "other",
});

/// The kind of a unit.
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

enum_table!(UnitKind, pb::UnitKind, "UNIT_KIND_", {
    PartyCommittee => PartyCommittee = "party_committee",
    PeoplesCouncil => PeoplesCouncil = "peoples_council",
    PeoplesCommittee => PeoplesCommittee = "peoples_committee",
    SpecialisedDepartment => SpecialisedDepartment = "specialised_department",
    MassOrganisation => MassOrganisation = "mass_organisation",
    School => School = "school",
    HealthFacility => HealthFacility = "health_facility",
    PublicServiceUnit => PublicServiceUnit = "public_service_unit",
    Other => Other = "other",
});

/// A unit as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Its name, `units/{id}`.
    pub name: UnitName,
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

/// The fields of a unit a caller sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFields {
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
    /// Its own code.
    pub code: Option<String>,
}

impl Unit {
    /// The unit's own fields.
    pub fn fields(&self) -> UnitFields {
        UnitFields {
            display_name: self.display_name.clone(),
            sector: self.sector,
            kind: self.kind,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            code: self.code.clone(),
        }
    }
}

/// Changes to a unit's fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

impl UnitChanges {
    /// `fields` with these changes applied.
    pub fn apply(&self, fields: &UnitFields) -> UnitFields {
        UnitFields {
            display_name: self.display_name.clone().unwrap_or_else(|| fields.display_name.clone()),
            sector: self.sector.unwrap_or(fields.sector),
            kind: self.kind.unwrap_or(fields.kind),
            valid_from: self.valid_from.unwrap_or(fields.valid_from),
            valid_until: self.valid_until.unwrap_or(fields.valid_until),
            code: self.code.clone().unwrap_or_else(|| fields.code.clone()),
        }
    }
}

/// One condition of a unit list's filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `sector = X` (`equal`) or `sector != X`.
    Sector {
        /// Whether the sector must equal (true) or differ (false).
        equal: bool,
        /// The sector compared with.
        sector: Sector,
    },
    /// `kind = X` or `kind != X`.
    Kind {
        /// Whether the kind must equal (true) or differ (false).
        equal: bool,
        /// The kind compared with.
        kind: UnitKind,
    },
    /// `code = "X"` or `code != "X"`, compared without regard to case.
    Code {
        /// Whether the code must equal (true) or differ (false).
        equal: bool,
        /// The code compared with, as given.
        code: String,
    },
}

/// Longest accepted unit name, in characters.
pub const MAX_NAME_CHARS: usize = 300;

/// Longest unit code.
pub const MAX_CODE_CHARS: usize = 32;

/// A required unit name: trimmed, whitespace collapsed, NFC, at most
/// [`MAX_NAME_CHARS`] characters.
pub fn display_name(value: &str) -> Result<String, String> {
    let name = crate::domain::text::normalize_name(value);
    if name.is_empty() {
        Err("is required".to_owned())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(format!("is longer than {MAX_NAME_CHARS} characters"))
    } else {
        Ok(name)
    }
}

/// A unit code as given: trimmed; empty means none. 1 to 32 characters among ASCII
/// letters, digits and `-`, `_`, `.`, `/`, the characters registers use.
pub fn parse_code(value: &str) -> Result<Option<String>, String> {
    let code = value.trim();
    if code.is_empty() {
        return Ok(None);
    }
    if code.len() > MAX_CODE_CHARS {
        return Err(format!("{} is longer than {MAX_CODE_CHARS} characters", crate::error::quote(code)));
    }
    if let Some(bad) = code.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))) {
        return Err(format!(
            "{} holds `{bad}`; a unit code has letters, digits and - _ . / only",
            crate::error::quote(code)
        ));
    }
    Ok(Some(code.to_owned()))
}

/// The form codes are compared and kept unique in: upper case (`ub-03334` and
/// `UB-03334` are the same code).
pub fn code_key(code: &str) -> String {
    code.to_ascii_uppercase()
}

/// A period, as messages write it.
pub fn period(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(until) => format!("[{from}, {until})"),
        None => format!("from {from} on"),
    }
}

/// A unit ends after it begins: the violation otherwise, on `field`.
pub fn check_order(from: NaiveDate, until: Option<NaiveDate>, field: &str) -> Option<Violation> {
    until
        .filter(|until| *until <= from)
        .map(|until| Violation::new(field, format!("the unit would end ({until}) before it starts ({from})")))
}

/// Checks that the versions of `locality` (their periods) cover the unit's period.
/// The violation is reported on `valid_from` when the locality is not in force on the
/// first day, on `valid_until` when it ends before the unit does.
pub fn locality_covers(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::enums::Table as _;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn every_sector_and_kind_converts_both_ways_and_fits_its_column() {
        for s in Sector::ALL {
            assert_eq!(Sector::required(s.wire()), Ok(*s));
            assert_eq!(Sector::from_stored(s.stored()), Some(*s));
            assert_eq!(Sector::from_filter(s.to_wire().as_str_name()), Ok(*s));
        }
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::required(k.wire()), Ok(*k));
            assert_eq!(UnitKind::from_filter(k.to_wire().as_str_name()), Ok(*k));
            assert!(k.stored().len() <= 32);
        }
        assert!(Sector::required(0).is_err());
        assert!(UnitKind::required(99).is_err());
        assert_eq!(Sector::from_stored("army"), None);
    }

    #[test]
    fn unit_names_are_limited_to_300_characters() {
        assert_eq!(display_name("  Trường   Tiểu học "), Ok("Trường Tiểu học".to_owned()));
        assert!(display_name(&"a".repeat(300)).is_ok());
        assert!(display_name(&"a".repeat(301)).is_err());
        assert!(display_name("   ").is_err());
    }

    #[test]
    fn unit_codes_take_register_characters_only_and_compare_without_case() {
        assert_eq!(parse_code("  DB-UBND/03334.1_a "), Ok(Some("DB-UBND/03334.1_a".to_owned())));
        assert_eq!(parse_code(""), Ok(None));
        assert!(parse_code("UB 03334").is_err());
        assert!(parse_code("Ủy-ban").is_err());
        assert!(parse_code(&"A".repeat(33)).is_err());
        assert!(parse_code(&"A".repeat(32)).is_ok());
        assert_eq!(code_key("ub-03334"), code_key("UB-03334"));
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

    #[test]
    fn changes_apply_field_by_field() {
        let fields = UnitFields {
            display_name: "UBND xã A".into(),
            sector: Sector::StateAdministration,
            kind: UnitKind::PeoplesCommittee,
            valid_from: day(2020, 1, 1),
            valid_until: None,
            code: Some("A".into()),
        };
        let changes =
            UnitChanges { valid_until: Some(Some(day(2025, 7, 1))), code: Some(None), ..UnitChanges::default() };
        let changed = changes.apply(&fields);
        assert_eq!((changed.valid_until, changed.code), (Some(day(2025, 7, 1)), None));
        assert_eq!(changed.display_name, fields.display_name);
        assert!(check_order(day(2020, 1, 1), Some(day(2020, 1, 1)), "unit.valid_until").is_some());
        assert!(check_order(day(2020, 1, 1), None, "unit.valid_until").is_none());
    }
}
