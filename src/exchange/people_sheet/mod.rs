//! The personnel list an office keeps, one row per person, read into the records
//! `PersonService.ImportPeople` takes.
//!
//! Everything here is pure: the caller supplies the sheet's cells ([`Grid`]) and what
//! the server knows that the sheet names (scales and levels, units, localities, as
//! a [`Reference`]); nothing is fetched or written. The rules the sheet cannot
//! express are decided here and documented in the README ("Spreadsheets in"):
//!
//! - a placement starts on the row's "Ngày bổ nhiệm" when the sheet has that column,
//!   else on the later of "Ngày vào làm" and the unit's own start;
//! - a qualification given only by its level was awarded on "Ngày vào làm", unless
//!   the import names one date for all (`--awarded-on`);
//! - headers, values, unit, locality and level names are compared folded (case,
//!   diacritics and extra spaces ignored).

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use chrono::{Days, NaiveDate};

use super::sheet::{Cell, Grid, number_text};
use crate::{
    domain::text::{fold, normalize_name},
    edge::request::to_date,
    grpc::pb,
};

mod layout;
mod reference;
#[cfg(test)]
mod tests;
mod values;
mod vocabulary;

pub use layout::*;
pub use reference::*;
pub use values::*;
pub use vocabulary::*;

/// A problem with one cell (or a whole row, without a column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Index of the row (0 is Excel's row 1).
    pub row: usize,
    /// Index of the column, if the problem is one cell's.
    pub column: Option<usize>,
    /// The column's header ("" for a whole row).
    pub header: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(column) => {
                write!(
                    f,
                    "row {}, column {} \"{}\": {}",
                    self.row + 1,
                    column_letter(column),
                    self.header,
                    self.message
                )
            }
            None => write!(f, "row {}: {}", self.row + 1, self.message),
        }
    }
}

/// A row turned into a record, and where each of the record's fields came from.
#[derive(Debug, Clone)]
pub struct RowRecord {
    /// Index of the row (0 is Excel's row 1).
    pub row: usize,
    /// The record to import.
    pub record: pb::PersonRecord,
    /// Field paths of the record (`person.birth_date`, `placements[0]`) and the
    /// column each came from, to point the server's rejections back at cells.
    pub paths: Vec<(String, usize)>,
}

impl RowRecord {
    /// The column a field path of the record came from: the longest path that is
    /// the field or contains it (`placements[0].unit` → the "Đơn vị" column).
    pub fn column_of(&self, field: &str) -> Option<usize> {
        self.paths
            .iter()
            .filter(|(path, _)| {
                field == path
                    || field
                        .strip_prefix(path.as_str())
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
            .max_by_key(|(path, _)| path.len())
            .map(|(_, column)| *column)
    }
}

/// Choices the sheet cannot express.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Accept rows without a personal identification number (a second import of the
    /// sheet would create them again).
    pub allow_missing_id: bool,
    /// The award date of every qualification; default each person's first day of
    /// employment.
    pub awarded_on: Option<NaiveDate>,
}

/// The records of a sheet and its problems.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Where the data is.
    pub layout: Layout,
    /// The rows without problems, as records, in sheet order.
    pub records: Vec<RowRecord>,
    /// Every problem found, in sheet order.
    pub problems: Vec<Problem>,
    /// Number of data rows (non-empty rows below the header).
    pub rows: usize,
}

/// Reads every data row below the header: the rows without problems become records,
/// every problem of the others is listed.
pub fn parse_people(grid: &Grid, reference: &Reference, options: &Options) -> anyhow::Result<Parsed> {
    let layout = find_layout(grid, &reference.scales)?;
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut rows = 0;
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut seen_codes: HashMap<String, usize> = HashMap::new();
    let mut unit_cache: HashMap<(String, String), Result<usize, String>> = HashMap::new();
    let mut keys = Keys::default();
    let name_column = layout.column(Field::FullName).map(|c| c.index);
    for row in layout.header_row + 1..grid.rows.len() {
        let cell = |field: Field| layout.column(field).map_or(&Cell::Empty, |c| grid.cell(row, c.index));
        if layout.columns.iter().all(|c| grid.cell(row, c.index).is_blank()) {
            continue;
        }
        if name_column.is_some_and(|c| text(grid.cell(row, c)) == FULL_NAME_NOTE) {
            continue;
        }
        rows += 1;
        let row_problems: RefCell<Vec<Problem>> = RefCell::new(Vec::new());
        let problem = |field: Field, message: String| {
            let column = layout.column(field);
            row_problems.borrow_mut().push(Problem {
                row,
                column: column.map(|c| c.index),
                header: column.map(|c| c.header.clone()).unwrap_or_default(),
                message,
            });
        };
        let mut paths: Vec<(String, usize)> = Vec::new();

        let required_text = |field: Field| {
            let value = text(cell(field));
            if value.is_empty() {
                problem(field, "is required".to_owned());
            }
            value
        };
        let full_name = required_text(Field::FullName);
        let ethnicity = required_text(Field::Ethnicity);
        let post = required_text(Field::Post);
        let date = |field: Field, required: bool| match parse_date(cell(field)) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                if required {
                    problem(field, "is required (dd/mm/yyyy)".to_owned());
                }
                None
            }
            Err(e) => {
                problem(field, e);
                None
            }
        };
        let birth_date = date(Field::BirthDate, true);
        let employed_from = date(Field::EmployedFrom, true);
        let placement_from = date(Field::PlacementFrom, false);

        let gender_text = text(cell(Field::Gender));
        let gender = GENDER_KEYS.get(&keys.get(&gender_text)).copied();
        if gender.is_none() {
            problem(
                Field::Gender,
                if gender_text.is_empty() {
                    "is required (Nam or Nữ)".to_owned()
                } else {
                    format!("`{gender_text}` is not a gender: Nam or Nữ")
                },
            );
        }
        let category_text = text(cell(Field::Category));
        let category = CATEGORY_KEYS.get(&keys.get(&category_text)).copied();
        if category.is_none() {
            let labels = accepted(CATEGORIES.iter().map(|(_, l)| (*l).to_owned()));
            problem(
                Field::Category,
                if category_text.is_empty() {
                    format!("is required: one of {labels}")
                } else {
                    format!("`{category_text}` is not a category: one of {labels}")
                },
            );
        }

        let personal_id = match parse_personal_id(cell(Field::PersonalId)) {
            Ok(Some(id)) => {
                if let Some(first) = seen_ids.get(&id) {
                    problem(Field::PersonalId, format!("{id} is also on row {}", first + 1));
                } else {
                    seen_ids.insert(id.clone(), row);
                }
                id
            }
            Ok(None) => {
                if !options.allow_missing_id {
                    let message = "is required: without it a second import of this sheet would create the person again (pass --allow-missing-id to import such rows anyway)";
                    if layout.column(Field::PersonalId).is_some() {
                        problem(Field::PersonalId, message.to_owned());
                    } else {
                        row_problems.borrow_mut().push(Problem {
                            row,
                            column: None,
                            header: String::new(),
                            message: format!(
                                "the sheet has no column \"Số định danh cá nhân\", which {}",
                                message.trim_start_matches("is ")
                            ),
                        });
                    }
                }
                String::new()
            }
            Err(e) => {
                problem(Field::PersonalId, e);
                String::new()
            }
        };
        let staff_code = text(cell(Field::StaffCode));
        if !staff_code.is_empty() {
            let key = staff_code.to_uppercase();
            if let Some(first) = seen_codes.get(&key) {
                problem(Field::StaffCode, format!("{staff_code} is also on row {}", first + 1));
            } else {
                seen_codes.insert(key, row);
            }
        }

        let leader = parse_flag(cell(Field::Leader)).unwrap_or_else(|e| {
            problem(Field::Leader, e);
            false
        });
        let key_post = parse_flag(cell(Field::KeyPost)).unwrap_or_else(|e| {
            problem(Field::KeyPost, e);
            false
        });

        // The unit: "Mã đơn vị" when filled in, else "Đơn vị".
        let code_text = text(cell(Field::UnitCode));
        let (unit_field, unit_text) =
            if code_text.is_empty() { (Field::Unit, text(cell(Field::Unit))) } else { (Field::UnitCode, code_text) };
        let locality_text = text(cell(Field::Locality));
        let unit = if unit_text.is_empty() {
            problem(Field::Unit, "is required: the unit's name or code".to_owned());
            None
        } else {
            let key = (unit_text.clone(), locality_text.clone());
            let found = unit_cache
                .entry(key)
                .or_insert_with(|| {
                    reference.find_unit(&unit_text, layout.column(Field::Locality).map(|_| locality_text.as_str()))
                })
                .clone();
            match found {
                Ok(i) => Some(&reference.units[i]),
                Err(e) => {
                    let field = if e.starts_with("no locality") { Field::Locality } else { unit_field };
                    problem(field, e);
                    None
                }
            }
        };

        let mut qualifications = Vec::new();
        let mut evaluations = Vec::new();
        for column in &layout.columns {
            let cell = grid.cell(row, column.index);
            match column.field {
                Field::Scale(s) => {
                    let value = text(cell);
                    if value.is_empty() {
                        continue;
                    }
                    let scale = &reference.scales[s];
                    match scale.index.get(&keys.get(&value)).map(Vec::as_slice) {
                        Some([level]) => {
                            let at = format!("qualifications[{}]", qualifications.len());
                            paths.push((at, column.index));
                            qualifications.push(pb::Qualification {
                                level: scale.levels[*level].name.clone(),
                                awarded_on: options.awarded_on.or(employed_from).map(to_date),
                                ..Default::default()
                            });
                        }
                        Some(many) => {
                            let names: Vec<String> =
                                many.iter().map(|&l| scale.levels[l].display_name.clone()).collect();
                            problem(column.field, format!("`{value}` is ambiguous: {}", names.join(", ")));
                        }
                        None => problem(
                            column.field,
                            format!(
                                "`{value}` is not a level of \"{}\": one of {}",
                                scale.display_name,
                                accepted(scale.levels.iter().map(|l| l.display_name.clone()))
                            ),
                        ),
                    }
                }
                Field::Rating(year) => {
                    let value = text(cell);
                    if value.is_empty() {
                        continue;
                    }
                    match RATING_KEYS.get(&keys.get(&value)).copied() {
                        Some(rating) => {
                            paths.push((format!("evaluations[{}]", evaluations.len()), column.index));
                            evaluations.push(pb::Evaluation { year, rating: rating.into(), ..Default::default() });
                        }
                        None => problem(
                            column.field,
                            format!(
                                "`{value}` is not a rating: one of {}",
                                accepted(RATINGS.iter().map(|(_, full, short)| format!("{full}\" (\"{short}")))
                            ),
                        ),
                    }
                }
                _ => {}
            }
        }

        let row_problems = row_problems.into_inner();
        if !row_problems.is_empty() {
            problems.extend(row_problems);
            continue;
        }
        let (Some(birth_date), Some(employed_from), Some(gender), Some(category), Some(unit)) =
            (birth_date, employed_from, gender, category, unit)
        else {
            continue;
        };
        let valid_from = placement_from.unwrap_or_else(|| employed_from.max(unit.valid_from));
        for (p, field) in [
            ("person.full_name", Field::FullName),
            ("person.birth_date", Field::BirthDate),
            ("person.gender", Field::Gender),
            ("person.ethnicity", Field::Ethnicity),
            ("person.personal_id", Field::PersonalId),
            ("person.staff_code", Field::StaffCode),
            ("person.category", Field::Category),
            ("person.employed_from", Field::EmployedFrom),
            ("placements", unit_field),
            ("placements[0]", unit_field),
            ("placements[0].unit", unit_field),
            ("placements[0].post_title", Field::Post),
            ("placements[0].leader", Field::Leader),
            ("placements[0].key_post", Field::KeyPost),
        ] {
            paths.extend(layout.column(field).map(|c| (p.to_owned(), c.index)));
        }
        let valid_from_field = if placement_from.is_some() { Field::PlacementFrom } else { Field::EmployedFrom };
        paths.extend(layout.column(valid_from_field).map(|c| ("placements[0].valid_from".to_owned(), c.index)));
        records.push(RowRecord {
            row,
            paths,
            record: pb::PersonRecord {
                person: Some(pb::Person {
                    full_name,
                    birth_date: Some(to_date(birth_date)),
                    gender: gender.into(),
                    ethnicity,
                    category: category.into(),
                    employed_from: Some(to_date(employed_from)),
                    personal_id,
                    staff_code,
                    ..Default::default()
                }),
                placements: vec![pb::Placement {
                    unit: unit.name.clone(),
                    post_title: post,
                    leader,
                    key_post,
                    valid_from: Some(to_date(valid_from)),
                    ..Default::default()
                }],
                qualifications,
                evaluations,
            },
        });
    }
    Ok(Parsed { layout, records, problems, rows })
}
