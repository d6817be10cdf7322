//! One cell's value: text, dates, identifiers, categories, flags.

use super::*;

/// The text of a cell, trimmed: numbers without a decimal point, dates dd/mm/yyyy.
pub(super) fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) if t.is_ascii() => t.split_ascii_whitespace().collect::<Vec<_>>().join(" "),
        Cell::Text(t) => normalize_name(t),
        other => other.to_string().trim().to_owned(),
    }
}

/// Days from Excel's day 0 (1899-12-30, past the 1900 leap-year bug) to a serial.
pub(super) fn excel_serial(serial: f64) -> Option<NaiveDate> {
    if !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "range checked above")]
    let days = serial.floor() as u64;
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(Days::new(days))
}

/// A date from a cell: an Excel date, a date serial, or text as dd/mm/yyyy (also
/// with `-` or `.`), or yyyy-mm-dd. `None` for an empty cell.
pub fn parse_date(cell: &Cell) -> Result<Option<NaiveDate>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Number(n) if n.fract() == 0.0 && (1900.0..=2100.0).contains(n) => {
            Err(format!("`{}` is a year, not a date: write dd/mm/yyyy", number_text(*n)))
        }
        Cell::Number(n) => excel_serial(*n).map(Some).ok_or_else(|| format!("`{}` is not a date", number_text(*n))),
        Cell::Bool(_) | Cell::Error(_) => Err(format!("`{cell}` is not a date")),
        Cell::Text(t) => {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            // "01/02/1980 00:00:00" or "1980-02-01T00:00:00": the day only.
            let day = t.split([' ', 'T']).next().unwrap_or(t);
            let parts: Vec<&str> = day.split(['/', '-', '.']).collect();
            let numbers: Option<Vec<u32>> = parts.iter().map(|p| p.parse::<u32>().ok()).collect();
            let date = match (parts.as_slice(), numbers.as_deref()) {
                ([_, _, y], Some(&[d, m, year])) if y.len() == 4 => {
                    i32::try_from(year).ok().and_then(|year| NaiveDate::from_ymd_opt(year, m, d))
                }
                ([y, _, _], Some(&[year, m, d])) if y.len() == 4 => {
                    i32::try_from(year).ok().and_then(|year| NaiveDate::from_ymd_opt(year, m, d))
                }
                ([_, _, y], Some(_)) if y.len() == 2 => {
                    return Err(format!("`{t}` has a two-digit year: write dd/mm/yyyy"));
                }
                _ => return Err(format!("`{t}` is not a date: write dd/mm/yyyy")),
            };
            date.map(Some).ok_or_else(|| format!("`{t}` is not a calendar date"))
        }
    }
}

/// A personal identification number from a cell: 12 digits. A number cell is
/// padded with the leading zeros Excel drops from numbers.
pub fn parse_personal_id(cell: &Cell) -> Result<Option<String>, String> {
    let value = match cell {
        Cell::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 1e12 => format!("{:0>12}", number_text(*n)),
        other => text(other).replace([' ', '.'], ""),
    };
    let value = value.trim_start_matches('\'').to_owned();
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(value))
    } else {
        Err(format!(
            "`{value}` is not a personal identification number: 12 digits (format the column as Text so that Excel keeps leading zeros)"
        ))
    }
}

/// The folded keys of the values of one parse: the cells of a column repeat (a
/// few units, levels, categories), so each distinct value is folded once.
#[derive(Default)]
pub(super) struct Keys(HashMap<String, String>);

impl Keys {
    pub(super) fn get(&mut self, raw: &str) -> String {
        if let Some(key) = self.0.get(raw) {
            return key.clone();
        }
        let key = value_key(raw);
        self.0.insert(raw.to_owned(), key.clone());
        key
    }
}

/// Folded labels and synonyms to values, built once.
pub(super) fn vocabulary<T: Copy>(labels: &[(T, &str)], synonyms: &[(&str, T)]) -> HashMap<String, T> {
    let mut keys: HashMap<String, T> = synonyms.iter().map(|(s, v)| ((*s).to_owned(), *v)).collect();
    keys.extend(labels.iter().map(|(v, label)| (value_key(label), *v)));
    keys
}

pub(super) static CATEGORY_KEYS: LazyLock<HashMap<String, pb::PersonCategory>> = LazyLock::new(|| {
    let mut keys = vocabulary(CATEGORIES, CATEGORY_SYNONYMS);
    // The API's own names: `CIVIL_SERVANT` folds to "civil servant".
    for (category, _) in CATEGORIES {
        let name = category.as_str_name().trim_start_matches("PERSON_CATEGORY_");
        keys.insert(value_key(name), *category);
    }
    keys
});
pub(super) static GENDER_KEYS: LazyLock<HashMap<String, pb::Gender>> =
    LazyLock::new(|| vocabulary(GENDERS, GENDER_SYNONYMS));
pub(super) static RATING_KEYS: LazyLock<HashMap<String, pb::Rating>> = LazyLock::new(|| {
    let mut keys = vocabulary(&RATINGS.iter().map(|(r, full, _)| (*r, *full)).collect::<Vec<_>>(), RATING_SYNONYMS);
    keys.extend(RATINGS.iter().map(|(r, _, short)| (value_key(short), *r)));
    keys
});

/// A category from its Vietnamese or English label or enum name.
pub fn parse_category(value: &str) -> Option<pb::PersonCategory> {
    CATEGORY_KEYS.get(&value_key(value)).copied()
}

/// A gender: Nam / Nữ, Male / Female, M / F.
pub fn parse_gender(value: &str) -> Option<pb::Gender> {
    GENDER_KEYS.get(&value_key(value)).copied()
}

/// A rating in full, abbreviated (HTXSNV, HTTNV, HTNV, KHTNV) or in English.
pub fn parse_rating(value: &str) -> Option<pb::Rating> {
    RATING_KEYS.get(&value_key(value)).copied()
}

/// A yes/no cell: Có / x / yes / 1 / TRUE, or Không / no / 0 / FALSE / empty.
pub fn parse_flag(cell: &Cell) -> Result<bool, String> {
    match cell {
        Cell::Bool(b) => Ok(*b),
        Cell::Empty => Ok(false),
        other => {
            let key = value_key(&text(other));
            if key.is_empty() || NO.contains(&key.as_str()) {
                Ok(false)
            } else if YES.contains(&key.as_str()) {
                Ok(true)
            } else {
                Err(format!("`{}` is neither yes (Có, x) nor no (Không, empty)", text(other)))
            }
        }
    }
}

pub(super) fn accepted(labels: impl Iterator<Item = String>) -> String {
    labels.map(|l| format!("\"{l}\"")).collect::<Vec<_>>().join(", ")
}
