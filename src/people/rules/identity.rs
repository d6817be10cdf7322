//! A person's stable identifiers: the 12-digit personal identification number (số
//! định danh cá nhân) and an employer's staff code.
//!
//! Both are personal data, unique among people (the database enforces it with unique
//! indexes), and optional: people recorded before identifiers existed stay valid.
//!
//! For tests, the demo and benchmarks, [`PersonalId::synthetic`] builds a number that
//! passes every check for a given province, birth date, gender and serial.

use chrono::{Datelike, NaiveDate};

use super::person::Gender;
use crate::error::Violation;

/// Lowest province code of a personal identification number.
pub const MIN_PROVINCE: u16 = 1;
/// Highest province code of a personal identification number.
pub const MAX_PROVINCE: u16 = 96;
/// Number of digits of a personal identification number.
pub const PERSONAL_ID_DIGITS: usize = 12;
/// Longest staff code.
pub const MAX_STAFF_CODE: usize = 32;
/// First year of birth a personal identification number can encode (the 1900s, digit
/// 4 = 0 or 1).
pub const FIRST_CENTURY: i32 = 1900;
/// Number of centuries the 4th digit encodes (two digits each, 0 to 9).
const CENTURIES: i32 = 5;

/// A personal identification number whose format is valid: 12 ASCII digits, a
/// province code 001 to 096 first. Whether it agrees with a birth date and gender is
/// [`PersonalId::disagreements`].
///
/// Layout (Circular 59/2021/TT-BCA): `PPP G YY NNNNNN`: province of birth
/// registration, century and gender (1900s: male 0, female 1; 2000s: 2, 3; 2100s: 4,
/// 5; …), the last two digits of the year of birth, and a serial.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonalId(String);

impl PersonalId {
    /// Parses a number as written (surrounding spaces ignored), checking its format.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("is empty".to_owned());
        }
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must contain only the digits 0 to 9".to_owned());
        }
        if value.len() != PERSONAL_ID_DIGITS {
            return Err(format!("must have {PERSONAL_ID_DIGITS} digits; it has {}", value.len()));
        }
        let province: u16 = value[..3].parse().map_err(|_| "must contain only the digits 0 to 9".to_owned())?;
        if !(MIN_PROVINCE..=MAX_PROVINCE).contains(&province) {
            return Err(format!(
                "begins with {}, which is not a province code: the first three digits must be 001 to 096",
                &value[..3]
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// Builds a valid number for a person born on `birth_date` of `gender`, registered
    /// in `province` (1 to 96), with `serial` (0 to 999,999) as the last six digits.
    /// Distinct serials give distinct numbers for the same province, century, gender
    /// and year. For tests, the demo and benchmarks: real numbers are issued by the
    /// police, never made up.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use hrplan::people::rules::{identity::PersonalId, person::Gender};
    ///
    /// let born = NaiveDate::from_ymd_opt(1989, 4, 12).unwrap_or_default();
    /// let id = PersonalId::synthetic(1, born, Gender::Male, 12345).unwrap_or_else(|e| panic!("{e}"));
    /// assert_eq!(id.as_str(), "001089012345");
    /// assert!(id.disagreements(born, Gender::Male).is_empty());
    /// ```
    pub fn synthetic(province: u16, birth_date: NaiveDate, gender: Gender, serial: u32) -> Result<Self, String> {
        if !(MIN_PROVINCE..=MAX_PROVINCE).contains(&province) {
            return Err(format!("province {province} is not 1 to 96"));
        }
        if serial > 999_999 {
            return Err(format!("serial {serial} has more than six digits"));
        }
        let year = birth_date.year();
        let century = (year - FIRST_CENTURY).div_euclid(100);
        if !(0..CENTURIES).contains(&century) {
            return Err(format!("a birth year of {year} cannot be encoded"));
        }
        let digit = century * 2 + i32::from(gender == Gender::Female);
        Self::parse(&format!("{province:03}{digit}{:02}{serial:06}", year.rem_euclid(100)))
    }

    /// The number as stored in the database.
    pub fn from_db(value: String) -> Result<Self, String> {
        Self::parse(&value).map_err(|e| format!("stored personal_id {e}"))
    }

    /// The twelve digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digit(&self, index: usize) -> i32 {
        self.0.as_bytes().get(index).map_or(0, |b| i32::from(b - b'0'))
    }

    /// The province code: the first three digits (1 to 96).
    pub fn province(&self) -> u16 {
        self.0[..3].parse().unwrap_or_default()
    }

    /// The gender the 4th digit gives: even male, odd female.
    pub fn gender(&self) -> Gender {
        if self.digit(3) % 2 == 0 { Gender::Male } else { Gender::Female }
    }

    /// The first year of the century of birth the 4th digit gives (1900, 2000, …).
    pub fn century(&self) -> i32 {
        FIRST_CENTURY + 100 * (self.digit(3) / 2)
    }

    /// The year of birth the number gives: its century and its 5th and 6th digits.
    pub fn birth_year(&self) -> i32 {
        self.century() + self.digit(4) * 10 + self.digit(5)
    }

    /// Why the number cannot belong to a person born on `birth_date` of `gender`, one
    /// sentence per digit that disagrees; empty when it agrees.
    pub fn disagreements(&self, birth_date: NaiveDate, gender: Gender) -> Vec<String> {
        let mut reasons = Vec::new();
        let fourth = self.digit(3);
        let who = match self.gender() {
            Gender::Male => "a man",
            Gender::Female => "a woman",
        };
        if self.gender() != gender {
            reasons.push(format!(
                "the 4th digit, {fourth}, is for {who} born in the {}s, but gender is {}",
                self.century(),
                gender.as_str()
            ));
        }
        let year = birth_date.year();
        if self.century() != (year - FIRST_CENTURY).div_euclid(100) * 100 + FIRST_CENTURY {
            reasons.push(format!(
                "the 4th digit, {fourth}, is for {who} born in the {}s, but birth_date is in {year}",
                self.century()
            ));
        }
        let suffix = &self.0[4..6];
        if suffix.parse::<i32>().ok() != Some(year.rem_euclid(100)) {
            reasons.push(format!(
                "the 5th and 6th digits, {suffix}, are the last two digits of the year of birth, but birth_date is \
                 in {year}"
            ));
        }
        reasons
    }
}

impl std::fmt::Display for PersonalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An employer's staff code (mã cán bộ, công chức): 1 to 32 characters among ASCII
/// letters, digits and `-`, `_`, `.`, `/`. Kept as written; compared and kept unique
/// by [`StaffCode::key`], its upper-case form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StaffCode(String);

impl StaffCode {
    /// Parses a code as written (surrounding spaces ignored).
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("is empty".to_owned());
        }
        if value.len() > MAX_STAFF_CODE {
            return Err(format!("is longer than {MAX_STAFF_CODE} characters"));
        }
        if let Some(bad) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))) {
            return Err(format!("contains `{bad}`; a staff code has only letters A to Z, digits and - _ . /"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The code as stored in the database.
    pub fn from_db(value: String) -> Result<Self, String> {
        Self::parse(&value).map_err(|e| format!("stored staff_code {e}"))
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form codes are compared in: upper case, so `hn-001` and `HN-001` are one code.
    pub fn key(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

impl std::fmt::Display for StaffCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identifiers a person carries; both optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The personal identification number.
    pub personal_id: Option<PersonalId>,
    /// The employer's staff code.
    pub staff_code: Option<StaffCode>,
}

impl Identity {
    /// No identifier.
    pub const NONE: Self = Self { personal_id: None, staff_code: None };

    /// Whether the person carries neither identifier.
    pub fn is_empty(&self) -> bool {
        self.personal_id.is_none() && self.staff_code.is_none()
    }

    /// Violations of the identifiers against the person who carries them: the personal
    /// identification number must agree with the birth date and gender (reported on
    /// `{path}.personal_id`, one violation per digit that disagrees).
    pub fn check(&self, birth_date: NaiveDate, gender: Gender, path: &str) -> Vec<Violation> {
        self.personal_id
            .iter()
            .flat_map(|id| id.disagreements(birth_date, gender))
            .map(|reason| Violation::new(format!("{path}.personal_id"), reason))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_well_formed_number_parses_and_tells_its_parts() {
        let id = PersonalId::parse(" 001089012345 ").unwrap();
        assert_eq!(id.as_str(), "001089012345");
        assert_eq!(id.province(), 1);
        assert_eq!(id.gender(), Gender::Male);
        assert_eq!(id.century(), 1900);
        assert_eq!(id.birth_year(), 1989);
        let woman_2000s = PersonalId::parse("096305000001").unwrap();
        assert_eq!((woman_2000s.gender(), woman_2000s.birth_year()), (Gender::Female, 2005));
        assert_eq!(PersonalId::parse("011501000001").unwrap().birth_year(), 2101);
    }

    #[test]
    fn numbers_of_the_wrong_length_or_with_other_characters_are_refused() {
        assert_eq!(PersonalId::parse("00108901234"), Err("must have 12 digits; it has 11".to_owned()));
        assert_eq!(PersonalId::parse("0010890123456"), Err("must have 12 digits; it has 13".to_owned()));
        assert_eq!(PersonalId::parse("00108901234x"), Err("must contain only the digits 0 to 9".to_owned()));
        assert_eq!(PersonalId::parse("001 089012345"), Err("must contain only the digits 0 to 9".to_owned()));
        assert_eq!(PersonalId::parse("００１089012345"), Err("must contain only the digits 0 to 9".to_owned()));
        assert_eq!(PersonalId::parse("  "), Err("is empty".to_owned()));
    }

    #[test]
    fn the_first_three_digits_must_be_a_province_code() {
        assert!(PersonalId::parse("000089012345").unwrap_err().contains("000, which is not a province code"));
        assert!(PersonalId::parse("097089012345").unwrap_err().contains("097"));
        assert!(PersonalId::parse("096089012345").is_ok());
        assert!(PersonalId::parse("001089012345").is_ok());
    }

    #[test]
    fn the_fourth_digit_must_agree_with_gender_and_century() {
        let born = day(1989, 4, 12);
        assert!(PersonalId::parse("001089012345").unwrap().disagreements(born, Gender::Male).is_empty());
        assert!(PersonalId::parse("001189012345").unwrap().disagreements(born, Gender::Female).is_empty());
        let woman = PersonalId::parse("001189012345").unwrap().disagreements(born, Gender::Male);
        assert_eq!(woman, ["the 4th digit, 1, is for a woman born in the 1900s, but gender is male"]);
        let twenty_first = PersonalId::parse("001289012345").unwrap().disagreements(born, Gender::Male);
        assert_eq!(twenty_first, ["the 4th digit, 2, is for a man born in the 2000s, but birth_date is in 1989"]);
        let both = PersonalId::parse("001389012345").unwrap().disagreements(born, Gender::Male);
        assert_eq!(both.len(), 2, "{both:?}");
        assert!(PersonalId::parse("001205012345").unwrap().disagreements(day(2005, 1, 1), Gender::Male).is_empty());
        assert!(PersonalId::parse("001305012345").unwrap().disagreements(day(2005, 1, 1), Gender::Female).is_empty());
    }

    #[test]
    fn the_fifth_and_sixth_digits_must_be_the_year_of_birth() {
        let id = PersonalId::parse("001088012345").unwrap();
        assert_eq!(
            id.disagreements(day(1989, 4, 12), Gender::Male),
            ["the 5th and 6th digits, 88, are the last two digits of the year of birth, but birth_date is in 1989"]
        );
        assert!(id.disagreements(day(1988, 12, 31), Gender::Male).is_empty());
    }

    #[test]
    fn synthetic_numbers_agree_with_what_they_were_built_from() {
        for (province, born, gender, serial) in [
            (1, day(1989, 4, 12), Gender::Male, 12_345),
            (11, day(1975, 1, 1), Gender::Female, 0),
            (96, day(2003, 12, 31), Gender::Male, 999_999),
            (20, day(2001, 6, 1), Gender::Female, 7),
        ] {
            let id = PersonalId::synthetic(province, born, gender, serial).unwrap();
            assert_eq!(id.province(), province);
            assert!(id.disagreements(born, gender).is_empty(), "{id}");
            assert_eq!(PersonalId::parse(id.as_str()).as_ref(), Ok(&id));
        }
        assert_eq!(PersonalId::synthetic(20, day(2001, 6, 1), Gender::Female, 7).unwrap().as_str(), "020301000007");
        assert!(PersonalId::synthetic(0, day(1989, 1, 1), Gender::Male, 1).is_err());
        assert!(PersonalId::synthetic(97, day(1989, 1, 1), Gender::Male, 1).is_err());
        assert!(PersonalId::synthetic(1, day(1989, 1, 1), Gender::Male, 1_000_000).is_err());
        assert!(PersonalId::synthetic(1, day(1899, 1, 1), Gender::Male, 1).is_err());
    }

    #[test]
    fn identity_checks_report_on_the_personal_id_field() {
        let identity = Identity { personal_id: PersonalId::parse("001189012345").ok(), staff_code: None };
        let violations = identity.check(day(1989, 4, 12), Gender::Male, "record.person");
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "record.person.personal_id");
        assert!(Identity::NONE.check(day(1989, 4, 12), Gender::Male, "p").is_empty());
        assert!(Identity::NONE.is_empty() && !identity.is_empty());
    }

    #[test]
    fn staff_codes_are_short_plain_and_compared_in_upper_case() {
        let code = StaffCode::parse(" hn-UBND_00123/a.b ").unwrap();
        assert_eq!(code.as_str(), "hn-UBND_00123/a.b");
        assert_eq!(code.key(), "HN-UBND_00123/A.B");
        assert_eq!(StaffCode::parse("A").unwrap().key(), "A");
        assert!(StaffCode::parse(&"X".repeat(32)).is_ok());
        assert_eq!(StaffCode::parse(&"X".repeat(33)), Err("is longer than 32 characters".to_owned()));
        assert_eq!(StaffCode::parse(""), Err("is empty".to_owned()));
        assert!(StaffCode::parse("HN 001").unwrap_err().contains("` `"));
        assert!(StaffCode::parse("HN-đ01").unwrap_err().contains("`đ`"));
        assert!(StaffCode::parse("HN+1").is_err());
    }
}
