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
    grpc::{convert::to_date, pb},
};

/// How many rows above the header row (title rows) are searched for it.
pub const HEADER_SEARCH_ROWS: usize = 30;

/// What a column of the sheet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Họ và tên.
    FullName,
    /// Ngày sinh.
    BirthDate,
    /// Giới tính.
    Gender,
    /// Dân tộc.
    Ethnicity,
    /// Số định danh cá nhân.
    PersonalId,
    /// Mã cán bộ.
    StaffCode,
    /// Đối tượng: the category of employment.
    Category,
    /// Đơn vị: a unit's name or code.
    Unit,
    /// Mã đơn vị: a unit's code.
    UnitCode,
    /// Địa bàn: the locality that tells units of the same name apart.
    Locality,
    /// Chức vụ.
    Post,
    /// Lãnh đạo, quản lý.
    Leader,
    /// Chủ chốt.
    KeyPost,
    /// Ngày vào làm: first day of employment.
    EmployedFrom,
    /// Ngày bổ nhiệm: first day of the placement.
    PlacementFrom,
    /// The level held on a scale: the index of the scale in the [`Reference`].
    Scale(usize),
    /// The rating of a year.
    Rating(i32),
}

/// The column headers of the template, in its order (scales and ratings go between
/// "Ngày bổ nhiệm" and the end, see [`template_fields`]).
pub const HEADERS: &[(Field, &str)] = &[
    (Field::FullName, "Họ và tên"),
    (Field::BirthDate, "Ngày sinh"),
    (Field::Gender, "Giới tính"),
    (Field::Ethnicity, "Dân tộc"),
    (Field::PersonalId, "Số định danh cá nhân"),
    (Field::StaffCode, "Mã cán bộ"),
    (Field::Category, "Đối tượng"),
    (Field::Unit, "Đơn vị"),
    (Field::Locality, "Địa bàn"),
    (Field::Post, "Chức vụ"),
    (Field::Leader, "Lãnh đạo, quản lý"),
    (Field::KeyPost, "Chủ chốt"),
    (Field::EmployedFrom, "Ngày vào làm"),
    (Field::PlacementFrom, "Ngày bổ nhiệm"),
    (Field::UnitCode, "Mã đơn vị"),
];

/// Other accepted spellings of the headers, folded (see [`header_key`]); English
/// ones included.
const SYNONYMS: &[(&str, Field)] = &[
    ("ho ten", Field::FullName),
    ("ho va ten khai sinh", Field::FullName),
    ("full name", Field::FullName),
    ("name", Field::FullName),
    ("ngay thang nam sinh", Field::BirthDate),
    ("birth date", Field::BirthDate),
    ("date of birth", Field::BirthDate),
    ("gender", Field::Gender),
    ("sex", Field::Gender),
    ("ethnicity", Field::Ethnicity),
    ("ethnic group", Field::Ethnicity),
    ("so dinh danh", Field::PersonalId),
    ("so cccd", Field::PersonalId),
    ("cccd", Field::PersonalId),
    ("so can cuoc", Field::PersonalId),
    ("so can cuoc cong dan", Field::PersonalId),
    ("personal id", Field::PersonalId),
    ("personal identification number", Field::PersonalId),
    ("ma can bo cong chuc", Field::StaffCode),
    ("ma cb", Field::StaffCode),
    ("ma cbccvc", Field::StaffCode),
    ("staff code", Field::StaffCode),
    ("loai", Field::Category),
    ("phan loai", Field::Category),
    ("doi tuong", Field::Category),
    ("category", Field::Category),
    ("co quan don vi", Field::Unit),
    ("don vi cong tac", Field::Unit),
    ("unit", Field::Unit),
    ("unit code", Field::UnitCode),
    ("xa phuong", Field::Locality),
    ("dia ban", Field::Locality),
    ("locality", Field::Locality),
    ("chuc danh", Field::Post),
    ("chuc vu chuc danh", Field::Post),
    ("post", Field::Post),
    ("post title", Field::Post),
    ("position", Field::Post),
    ("lanh dao", Field::Leader),
    ("leader", Field::Leader),
    ("can bo chu chot", Field::KeyPost),
    ("key post", Field::KeyPost),
    ("ngay tuyen dung", Field::EmployedFrom),
    ("employed from", Field::EmployedFrom),
    ("employment start", Field::EmployedFrom),
    ("placement start", Field::PlacementFrom),
    ("appointed on", Field::PlacementFrom),
];

/// Words that, followed by a year, head a rating column: "Xếp loại 2024".
const RATING_PREFIXES: &[&str] = &[
    "xep loai",
    "xep loai nam",
    "danh gia",
    "danh gia xep loai",
    "danh gia xep loai nam",
    "ket qua danh gia",
    "ket qua xep loai",
    "rating",
    "evaluation",
];

/// The Vietnamese labels of the categories, as the template lists them.
pub const CATEGORIES: &[(pb::PersonCategory, &str)] = &[
    (pb::PersonCategory::Cadre, "Cán bộ"),
    (pb::PersonCategory::CivilServant, "Công chức"),
    (pb::PersonCategory::PublicEmployee, "Viên chức"),
    (pb::PersonCategory::PartTimeWorker, "Người hoạt động không chuyên trách"),
    (pb::PersonCategory::ContractWorker, "Người lao động"),
];

/// Other accepted category values, folded.
const CATEGORY_SYNONYMS: &[(&str, pb::PersonCategory)] = &[
    ("cadre", pb::PersonCategory::Cadre),
    ("civil servant", pb::PersonCategory::CivilServant),
    ("public employee", pb::PersonCategory::PublicEmployee),
    ("khong chuyen trach", pb::PersonCategory::PartTimeWorker),
    ("hoat dong khong chuyen trach", pb::PersonCategory::PartTimeWorker),
    ("part time worker", pb::PersonCategory::PartTimeWorker),
    ("lao dong", pb::PersonCategory::ContractWorker),
    ("hop dong", pb::PersonCategory::ContractWorker),
    ("lao dong hop dong", pb::PersonCategory::ContractWorker),
    ("hop dong lao dong", pb::PersonCategory::ContractWorker),
    ("nguoi lao dong hop dong", pb::PersonCategory::ContractWorker),
    ("contract worker", pb::PersonCategory::ContractWorker),
];

/// The Vietnamese labels of the genders.
pub const GENDERS: &[(pb::Gender, &str)] = &[(pb::Gender::Male, "Nam"), (pb::Gender::Female, "Nữ")];

const GENDER_SYNONYMS: &[(&str, pb::Gender)] =
    &[("male", pb::Gender::Male), ("m", pb::Gender::Male), ("female", pb::Gender::Female), ("f", pb::Gender::Female)];

/// The ratings in full, as the template lists them, with their usual abbreviations.
pub const RATINGS: &[(pb::Rating, &str, &str)] = &[
    (pb::Rating::Excellent, "Hoàn thành xuất sắc nhiệm vụ", "HTXSNV"),
    (pb::Rating::Good, "Hoàn thành tốt nhiệm vụ", "HTTNV"),
    (pb::Rating::Completed, "Hoàn thành nhiệm vụ", "HTNV"),
    (pb::Rating::NotCompleted, "Không hoàn thành nhiệm vụ", "KHTNV"),
];

const RATING_SYNONYMS: &[(&str, pb::Rating)] = &[
    ("hoan thanh xuat sac", pb::Rating::Excellent),
    ("xuat sac", pb::Rating::Excellent),
    ("excellent", pb::Rating::Excellent),
    ("hoan thanh tot", pb::Rating::Good),
    ("tot", pb::Rating::Good),
    ("good", pb::Rating::Good),
    ("hoan thanh", pb::Rating::Completed),
    ("completed", pb::Rating::Completed),
    ("khong hoan thanh", pb::Rating::NotCompleted),
    ("not completed", pb::Rating::NotCompleted),
];

/// The values of a yes/no column, as the template lists them.
pub const FLAGS: &[&str] = &["Có", "Không"];

const YES: &[&str] = &["co", "x", "yes", "true", "1", "v", "✓", "✔"];
const NO: &[&str] = &["khong", "no", "false", "0", "-"];

/// The note the template writes under the "Họ và tên" header; a data row that
/// carries it is the template's notes row and is skipped.
pub const FULL_NAME_NOTE: &str = "Bắt buộc. Họ và tên đầy đủ, ví dụ: Nguyễn Thị Hoa";

/// A header folded for matching: case, diacritics and punctuation ignored, any
/// parenthesised hint removed ("Họ và tên (*)" → "ho va ten").
pub fn header_key(header: &str) -> String {
    let mut without_hints = String::with_capacity(header.len());
    let mut depth = 0_u32;
    for c in header.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => without_hints.push(c),
            _ => {}
        }
    }
    let folded = fold(&without_hints);
    let spaced: String = folded.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A value folded for matching: case, diacritics and extra spaces ignored, `_` and
/// `-` read as spaces ("CIVIL_SERVANT" → "civil servant").
fn value_key(value: &str) -> String {
    if value.is_ascii() {
        // Most cells of a large sheet (numbers, codes, abbreviations) need no
        // Unicode decomposition: lower case and collapse the spaces only.
        let mut key = String::with_capacity(value.len());
        for word in value.split(|c: char| c.is_ascii_whitespace() || c == '_' || c == '-').filter(|w| !w.is_empty()) {
            if !key.is_empty() {
                key.push(' ');
            }
            key.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return key;
    }
    fold(&value.replace(['_', '-'], " "))
}

/// A level of a scale as the sheet may name it.
#[derive(Debug, Clone)]
pub struct LevelRef {
    /// Resource name: `scales/professional/levels/master`.
    pub name: String,
    /// Vietnamese label.
    pub display_name: String,
    /// English label.
    pub english_name: String,
}

/// A scale as the sheet may name it.
#[derive(Debug, Clone)]
pub struct ScaleRef {
    /// The scale's id: `professional`.
    pub id: String,
    /// Vietnamese name: the header of its column.
    pub display_name: String,
    /// English name.
    pub english_name: String,
    /// The levels, highest first.
    pub levels: Vec<LevelRef>,
    /// Folded level names (Vietnamese, English, id, the part in parentheses) to the
    /// indexes of the levels they name.
    index: HashMap<String, Vec<usize>>,
}

/// A unit the sheet may name.
#[derive(Debug, Clone)]
pub struct UnitRef {
    /// Resource name: `units/42`.
    pub name: String,
    /// Vietnamese name.
    pub display_name: String,
    /// The unit's unique code, if it has one.
    pub code: String,
    /// Code of its locality: `06463`.
    pub locality: String,
    /// First day it exists.
    pub valid_from: NaiveDate,
}

/// A locality the sheet may name in its "Địa bàn" column.
#[derive(Debug, Clone)]
pub struct LocalityRef {
    /// Official code.
    pub code: String,
    /// Vietnamese name.
    pub display_name: String,
    /// Code of the parent, empty for a province.
    pub parent: String,
}

/// What the server knows that the sheet names: scales and their levels, the units
/// and localities of the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// The scales, in the server's order.
    pub scales: Vec<ScaleRef>,
    /// The units of the caller's scope.
    pub units: Vec<UnitRef>,
    /// The localities of the caller's scope, by code.
    pub localities: HashMap<String, LocalityRef>,
    /// Folded unit names and folded codes to unit indexes.
    unit_index: HashMap<String, Vec<usize>>,
    /// Folded locality names (also without their kind: "xa thanh xuong" and
    /// "thanh xuong") to codes.
    locality_index: HashMap<String, Vec<String>>,
}

/// The part of a name in parentheses: "Bậc 3 (B1)" → "B1".
fn parenthesised(name: &str) -> Option<&str> {
    let open = name.find('(')?;
    let close = name[open..].find(')')? + open;
    Some(name[open + 1..close].trim()).filter(|s| !s.is_empty())
}

/// Kinds that open locality names, folded, longest first.
const LOCALITY_KINDS: &[&str] =
    &["thanh pho", "thi tran", "thi xa", "dac khu", "phuong", "huyen", "quan", "tinh", "xa"];

impl Reference {
    /// Builds the reference from the server's answers.
    pub fn new(scales: &[pb::Scale], units: &[pb::Unit], localities: &[pb::Locality]) -> Self {
        let scales = scales
            .iter()
            .map(|s| {
                let levels: Vec<LevelRef> = s
                    .levels
                    .iter()
                    .map(|l| LevelRef {
                        name: l.name.clone(),
                        display_name: l.display_name.clone(),
                        english_name: l.english_name.clone(),
                    })
                    .collect();
                let mut index: HashMap<String, Vec<usize>> = HashMap::new();
                for (i, level) in levels.iter().enumerate() {
                    let id = level.name.rsplit('/').next().unwrap_or_default();
                    let mut keys: HashSet<String> =
                        [value_key(&level.display_name), value_key(&level.english_name), value_key(id)].into();
                    for label in [&level.display_name, &level.english_name] {
                        if let Some(inner) = parenthesised(label) {
                            keys.insert(value_key(inner));
                        }
                        keys.insert(value_key(label.split('(').next().unwrap_or_default()));
                    }
                    for key in keys.into_iter().filter(|k| !k.is_empty()) {
                        index.entry(key).or_default().push(i);
                    }
                }
                ScaleRef {
                    id: s.name.strip_prefix("scales/").unwrap_or(&s.name).to_owned(),
                    display_name: s.display_name.clone(),
                    english_name: s.english_name.clone(),
                    levels,
                    index,
                }
            })
            .collect();
        let units: Vec<UnitRef> = units
            .iter()
            .map(|u| UnitRef {
                name: u.name.clone(),
                display_name: u.display_name.clone(),
                code: u.code.clone(),
                locality: u.locality.strip_prefix("localities/").unwrap_or(&u.locality).to_owned(),
                valid_from: u
                    .valid_from
                    .as_ref()
                    .and_then(|d| crate::domain::date::from_ymd(d.year, d.month, d.day))
                    .unwrap_or(NaiveDate::MIN),
            })
            .collect();
        let mut unit_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, unit) in units.iter().enumerate() {
            unit_index.entry(fold(&unit.display_name)).or_default().push(i);
            if !unit.code.is_empty() {
                let entry = unit_index.entry(fold(&unit.code)).or_default();
                if !entry.contains(&i) {
                    entry.push(i);
                }
            }
        }
        let localities: HashMap<String, LocalityRef> = localities
            .iter()
            .map(|l| {
                let code = if l.code.is_empty() {
                    l.name.strip_prefix("localities/").unwrap_or(&l.name).to_owned()
                } else {
                    l.code.clone()
                };
                let parent = l.parent.strip_prefix("localities/").unwrap_or(&l.parent).to_owned();
                (code.clone(), LocalityRef { code, display_name: l.display_name.clone(), parent })
            })
            .collect();
        let mut locality_index: HashMap<String, Vec<String>> = HashMap::new();
        for locality in localities.values() {
            let folded = fold(&locality.display_name);
            let mut keys = vec![folded.clone()];
            if let Some(bare) =
                LOCALITY_KINDS.iter().find_map(|k| folded.strip_prefix(k).and_then(|r| r.strip_prefix(' ')))
            {
                keys.push(bare.to_owned());
            }
            for key in keys {
                locality_index.entry(key).or_default().push(locality.code.clone());
            }
        }
        for codes in locality_index.values_mut() {
            codes.sort();
        }
        Self { scales, units, localities, unit_index, locality_index }
    }

    /// The name of a locality for messages: "Xã Thanh Xương (03334)".
    fn locality_label(&self, code: &str) -> String {
        match self.localities.get(code) {
            Some(l) => format!("{} ({code})", l.display_name),
            None => format!("localities/{code}"),
        }
    }

    /// Whether `ancestor` is `code` or one of its ancestors.
    fn within(&self, code: &str, ancestor: &str) -> bool {
        let mut current = code;
        for _ in 0..8 {
            if current == ancestor {
                return true;
            }
            match self.localities.get(current) {
                Some(l) if !l.parent.is_empty() => current = &l.parent,
                _ => return false,
            }
        }
        false
    }

    /// The localities a cell of the "Địa bàn" column names: a code, or a name with or
    /// without its kind ("Xã Thanh Xương", "thanh xuong").
    fn find_localities(&self, value: &str) -> Result<Vec<String>, String> {
        let trimmed = value.trim();
        if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_digit()) {
            return if self.localities.contains_key(trimmed) {
                Ok(vec![trimmed.to_owned()])
            } else {
                Err(format!("no locality with code `{trimmed}` in your scope"))
            };
        }
        self.locality_index
            .get(&fold(trimmed))
            .cloned()
            .ok_or_else(|| format!("no locality named `{trimmed}` in your scope"))
    }

    /// The unit a row names, by name or code, within the localities of its "Địa bàn"
    /// cell if the sheet has one.
    fn find_unit(&self, value: &str, locality: Option<&str>) -> Result<usize, String> {
        let key = fold(value);
        let mut candidates: Vec<usize> = self.unit_index.get(&key).cloned().unwrap_or_default();
        let mut place = String::new();
        if let Some(locality) = locality.filter(|l| !l.trim().is_empty()) {
            let codes = self.find_localities(locality)?;
            candidates.retain(|&i| codes.iter().any(|c| self.within(&self.units[i].locality, c)));
            place = format!(" in {}", codes.iter().map(|c| self.locality_label(c)).collect::<Vec<_>>().join(" or "));
        }
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("no unit named `{}`{place} in your scope", value.trim())),
            many => {
                let mut names: Vec<String> = many
                    .iter()
                    .map(|&i| {
                        let u = &self.units[i];
                        let code = if u.code.is_empty() { String::new() } else { format!(", code {}", u.code) };
                        format!("{} ({}{code}) in {}", u.display_name, u.name, self.locality_label(&u.locality))
                    })
                    .collect();
                names.sort();
                let total = names.len();
                names.truncate(10);
                let more = if total > 10 { format!(" and {} more", total - 10) } else { String::new() };
                // A locality tells them apart only if they lie in different ones;
                // otherwise only a unit code can.
                let localities: HashSet<&str> = many.iter().map(|&i| self.units[i].locality.as_str()).collect();
                let all_coded = many.iter().all(|&i| !self.units[i].code.is_empty());
                let remedy = match (localities.len() == many.len() && locality.is_none(), all_coded) {
                    (true, true) => {
                        "add a column \"Địa bàn\" with the locality's code or name, or give the unit's code"
                    }
                    (true, false) => "add a column \"Địa bàn\" with the locality's code or name",
                    (false, true) => "give the unit's code",
                    (false, false) => "an administrator gives the units codes (UpdateUnit), then give the unit's code",
                };
                Err(format!(
                    "`{}`{place} is ambiguous: {total} units have that name ({}{more}); {remedy}",
                    value.trim(),
                    names.join("; ")
                ))
            }
        }
    }
}

/// A column of the sheet that is imported.
#[derive(Debug, Clone)]
pub struct Column {
    /// Index of the column (0 is A).
    pub index: usize,
    /// The header as written.
    pub header: String,
    /// What it holds.
    pub field: Field,
}

/// Where the data sits in the sheet: the header row and the imported columns.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Index of the header row (0 is Excel's row 1).
    pub header_row: usize,
    /// The imported columns, left to right.
    pub columns: Vec<Column>,
    /// Headers that are not imported (index, header), such as "STT" or "Ghi chú".
    pub ignored: Vec<(usize, String)>,
}

impl Layout {
    /// The column of a field.
    pub fn column(&self, field: Field) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == field)
    }

    /// Whether column `index` is imported.
    pub fn column_at(&self, index: usize) -> bool {
        self.columns.iter().any(|c| c.index == index)
    }

    /// The header of column `index`, or its letter when it has none.
    pub fn header_of(&self, index: usize) -> String {
        self.columns.iter().find(|c| c.index == index).map_or_else(|| column_letter(index), |c| c.header.clone())
    }
}

/// The letters of a column: 0 → A, 26 → AA.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// What a header names, if anything.
pub fn field_of(header: &str, scales: &[ScaleRef]) -> Option<Field> {
    let key = header_key(header);
    if key.is_empty() {
        return None;
    }
    if let Some((field, _)) = HEADERS.iter().find(|(_, h)| header_key(h) == key) {
        return Some(*field);
    }
    if let Some((_, field)) = SYNONYMS.iter().find(|(s, _)| *s == key) {
        return Some(*field);
    }
    if let Some((prefix, year)) = key.rsplit_once(' ')
        && year.len() == 4
        && let Ok(year) = year.parse::<i32>()
        && RATING_PREFIXES.contains(&prefix)
    {
        return Some(Field::Rating(year));
    }
    scales.iter().position(|s| scale_keys(s).contains(&key)).map(Field::Scale)
}

/// The headers that name a scale's column: its Vietnamese and English names and id,
/// with or without "Trình độ", and the initials of a name of three words or more
/// ("Lý luận chính trị" → "LLCT").
fn scale_keys(scale: &ScaleRef) -> Vec<String> {
    let display = header_key(&scale.display_name);
    let bare = display.strip_prefix("trinh do ").unwrap_or(&display).to_owned();
    let mut keys = vec![
        display.clone(),
        header_key(&scale.english_name),
        header_key(&scale.id.replace('_', " ")),
        bare.clone(),
        format!("trinh do {bare}"),
    ];
    let words: Vec<&str> = bare.split(' ').collect();
    if words.len() >= 3 {
        keys.push(words.iter().filter_map(|w| w.chars().next()).collect());
    }
    keys
}

/// Finds the header row among the first [`HEADER_SEARCH_ROWS`] rows: the first row
/// with "Họ và tên" and at least two other known headers.
pub fn find_layout(grid: &Grid, scales: &[ScaleRef]) -> anyhow::Result<Layout> {
    for (row, cells) in grid.rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let fields: Vec<Option<Field>> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(t) => field_of(t, scales),
                _ => None,
            })
            .collect();
        let known = fields.iter().flatten().count();
        if known < 3 || !fields.contains(&Some(Field::FullName)) {
            continue;
        }
        let mut columns: Vec<Column> = Vec::new();
        let mut ignored = Vec::new();
        for (index, (cell, field)) in cells.iter().zip(fields).enumerate() {
            let header = normalize_name(&cell.to_string());
            match field {
                Some(field) => {
                    if let Some(first) = columns.iter().find(|c| c.field == field) {
                        anyhow::bail!(
                            "row {}: columns {} (\"{}\") and {} (\"{header}\") hold the same thing; keep one",
                            row + 1,
                            column_letter(first.index),
                            first.header,
                            column_letter(index)
                        );
                    }
                    columns.push(Column { index, header, field });
                }
                None if !header.is_empty() => ignored.push((index, header)),
                None => {}
            }
        }
        let layout = Layout { header_row: row, columns, ignored };
        let required = [
            Field::FullName,
            Field::BirthDate,
            Field::Gender,
            Field::Ethnicity,
            Field::Category,
            Field::Post,
            Field::EmployedFrom,
        ];
        let mut missing: Vec<&str> = required
            .iter()
            .filter(|f| layout.column(**f).is_none())
            .filter_map(|f| HEADERS.iter().find(|(h, _)| h == f).map(|(_, name)| *name))
            .collect();
        if layout.column(Field::Unit).is_none() && layout.column(Field::UnitCode).is_none() {
            missing.push("Đơn vị");
        }
        if !missing.is_empty() {
            anyhow::bail!(
                "the header row (row {}) lacks the column{} {}; found: {}",
                row + 1,
                if missing.len() == 1 { "" } else { "s" },
                missing.iter().map(|m| format!("\"{m}\"")).collect::<Vec<_>>().join(", "),
                layout.columns.iter().map(|c| format!("\"{}\"", c.header)).collect::<Vec<_>>().join(", ")
            );
        }
        return Ok(layout);
    }
    anyhow::bail!(
        "no header row in the first {HEADER_SEARCH_ROWS} rows of sheet `{}`: expected a row with \"Họ và tên\", \"Ngày sinh\", \"Giới tính\", \"Dân tộc\", \"Số định danh cá nhân\", \"Đối tượng\", \"Đơn vị\", \"Chức vụ\", \"Ngày vào làm\" (or their English names; see `hrplan template people`)",
        grid.sheet
    )
}

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

/// The text of a cell, trimmed: numbers without a decimal point, dates dd/mm/yyyy.
fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) if t.is_ascii() => t.split_ascii_whitespace().collect::<Vec<_>>().join(" "),
        Cell::Text(t) => normalize_name(t),
        other => other.to_string().trim().to_owned(),
    }
}

/// Days from Excel's day 0 (1899-12-30, past the 1900 leap-year bug) to a serial.
fn excel_serial(serial: f64) -> Option<NaiveDate> {
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
struct Keys(HashMap<String, String>);

impl Keys {
    fn get(&mut self, raw: &str) -> String {
        if let Some(key) = self.0.get(raw) {
            return key.clone();
        }
        let key = value_key(raw);
        self.0.insert(raw.to_owned(), key.clone());
        key
    }
}

/// Folded labels and synonyms to values, built once.
fn vocabulary<T: Copy>(labels: &[(T, &str)], synonyms: &[(&str, T)]) -> HashMap<String, T> {
    let mut keys: HashMap<String, T> = synonyms.iter().map(|(s, v)| ((*s).to_owned(), *v)).collect();
    keys.extend(labels.iter().map(|(v, label)| (value_key(label), *v)));
    keys
}

static CATEGORY_KEYS: LazyLock<HashMap<String, pb::PersonCategory>> = LazyLock::new(|| {
    let mut keys = vocabulary(CATEGORIES, CATEGORY_SYNONYMS);
    // The API's own names: `CIVIL_SERVANT` folds to "civil servant".
    for (category, _) in CATEGORIES {
        let name = category.as_str_name().trim_start_matches("PERSON_CATEGORY_");
        keys.insert(value_key(name), *category);
    }
    keys
});
static GENDER_KEYS: LazyLock<HashMap<String, pb::Gender>> = LazyLock::new(|| vocabulary(GENDERS, GENDER_SYNONYMS));
static RATING_KEYS: LazyLock<HashMap<String, pb::Rating>> = LazyLock::new(|| {
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

fn accepted(labels: impl Iterator<Item = String>) -> String {
    labels.map(|l| format!("\"{l}\"")).collect::<Vec<_>>().join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn reference() -> Reference {
        let level = |scale: &str, id: &str, vi: &str, en: &str| pb::Level {
            name: format!("scales/{scale}/levels/{id}"),
            rank: 0,
            display_name: vi.into(),
            english_name: en.into(),
        };
        let scales = vec![
            pb::Scale {
                name: "scales/professional".into(),
                display_name: "Trình độ chuyên môn".into(),
                english_name: "Professional qualification".into(),
                levels: vec![
                    level("professional", "master", "Thạc sĩ", "Master's degree"),
                    level("professional", "university", "Đại học", "University degree"),
                ],
            },
            pb::Scale {
                name: "scales/political_theory".into(),
                display_name: "Lý luận chính trị".into(),
                english_name: "Political theory".into(),
                levels: vec![level("political_theory", "intermediate", "Trung cấp", "Intermediate")],
            },
            pb::Scale {
                name: "scales/foreign_language".into(),
                display_name: "Ngoại ngữ".into(),
                english_name: "Foreign language".into(),
                levels: vec![level("foreign_language", "level_3", "Bậc 3 (B1)", "Level 3 (B1)")],
            },
        ];
        let unit = |id: i64, name: &str, locality: &str| pb::Unit {
            name: format!("units/{id}"),
            display_name: name.into(),
            locality: format!("localities/{locality}"),
            valid_from: Some(pb::Date { year: 2020, month: 1, day: 1 }),
            ..Default::default()
        };
        let units = vec![
            unit(1, "Ủy ban nhân dân xã Thanh Xương", "03334"),
            unit(2, "Trạm Y tế", "03334"),
            unit(3, "Trạm Y tế", "03124"),
        ];
        let locality = |code: &str, name: &str, parent: &str| pb::Locality {
            name: format!("localities/{code}"),
            code: code.into(),
            display_name: name.into(),
            parent: if parent.is_empty() { String::new() } else { format!("localities/{parent}") },
            ..Default::default()
        };
        let localities = vec![
            locality("11", "Tỉnh Điện Biên", ""),
            locality("100", "Huyện Điện Biên", "11"),
            locality("03334", "Xã Thanh Xương", "100"),
            locality("094", "Thành phố Điện Biên Phủ", "11"),
            locality("03124", "Phường Noong Bua", "094"),
        ];
        Reference::new(&scales, &units, &localities)
    }

    fn grid(rows: Vec<Vec<&str>>) -> Grid {
        Grid {
            sheet: "Sheet1".into(),
            kind: super::super::sheet::SourceKind::Xlsx,
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(|c| if c.is_empty() { Cell::Empty } else { Cell::Text(c.into()) }).collect())
                .collect(),
        }
    }

    const HEADER: [&str; 13] = [
        "STT",
        "Họ và tên",
        "Ngày sinh",
        "Giới tính",
        "Dân tộc",
        "Số định danh cá nhân",
        "Đối tượng",
        "Đơn vị",
        "Xã, phường",
        "Chức vụ",
        "Ngày vào làm",
        "TRÌNH ĐỘ  chuyên môn",
        "Xếp loại 2024",
    ];

    #[test]
    fn headers_match_without_case_diacritics_or_hints() {
        let r = reference();
        assert_eq!(field_of("HO VA TEN (*)", &r.scales), Some(Field::FullName));
        assert_eq!(field_of("Ngày\nsinh", &r.scales), Some(Field::BirthDate));
        assert_eq!(field_of("Date of birth", &r.scales), Some(Field::BirthDate));
        assert_eq!(field_of("Xã, phường", &r.scales), Some(Field::Locality));
        assert_eq!(field_of("Xếp loại năm 2023", &r.scales), Some(Field::Rating(2023)));
        assert_eq!(field_of("Rating 2022", &r.scales), Some(Field::Rating(2022)));
        assert_eq!(field_of("Trình độ lý luận chính trị", &r.scales), Some(Field::Scale(1)));
        assert_eq!(field_of("LLCT", &r.scales), Some(Field::Scale(1)));
        assert_eq!(field_of("Foreign language", &r.scales), Some(Field::Scale(2)));
        assert_eq!(field_of("Ghi chú", &r.scales), None);
    }

    #[test]
    fn the_header_row_is_found_below_title_rows() {
        let g = grid(vec![vec!["DANH SÁCH CÁN BỘ, CÔNG CHỨC"], vec![], HEADER.to_vec()]);
        let layout = find_layout(&g, &reference().scales).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(layout.header_row, 2);
        assert_eq!(layout.ignored, vec![(0, "STT".to_owned())]);
        assert_eq!(layout.column(Field::Scale(0)).map(|c| c.index), Some(11));
    }

    #[test]
    fn a_sheet_without_required_columns_names_them() {
        let g = grid(vec![vec!["Họ và tên", "Ngày sinh", "Giới tính"]]);
        let message = find_layout(&g, &reference().scales).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("\"Dân tộc\"") && message.contains("\"Đơn vị\""), "{message}");
    }

    #[test]
    fn dates_are_read_in_every_form_offices_write() {
        assert_eq!(parse_date(&Cell::Text("01/02/1980".into())), Ok(Some(d(1980, 2, 1))));
        assert_eq!(parse_date(&Cell::Text("1/2/1980".into())), Ok(Some(d(1980, 2, 1))));
        assert_eq!(parse_date(&Cell::Text("01-02-1980".into())), Ok(Some(d(1980, 2, 1))));
        assert_eq!(parse_date(&Cell::Text("01.02.1980 00:00:00".into())), Ok(Some(d(1980, 2, 1))));
        assert_eq!(parse_date(&Cell::Text("1980-02-01".into())), Ok(Some(d(1980, 2, 1))));
        assert_eq!(parse_date(&Cell::Date(d(1980, 2, 1))), Ok(Some(d(1980, 2, 1))));
        assert_eq!(parse_date(&Cell::Number(29252.0)), Ok(Some(d(1980, 2, 1))));
        assert_eq!(parse_date(&Cell::Empty), Ok(None));
        assert!(parse_date(&Cell::Text("31/02/1980".into())).is_err_and(|e| e.contains("calendar")));
        assert!(parse_date(&Cell::Text("01/02/80".into())).is_err_and(|e| e.contains("two-digit")));
        assert!(parse_date(&Cell::Number(1980.0)).is_err_and(|e| e.contains("year")));
        assert!(parse_date(&Cell::Text("hôm qua".into())).is_err());
    }

    #[test]
    fn personal_ids_keep_their_leading_zeros() {
        assert_eq!(parse_personal_id(&Cell::Number(1_089_012_345.0)), Ok(Some("001089012345".into())));
        assert_eq!(parse_personal_id(&Cell::Text(" 001 089 012 345 ".into())), Ok(Some("001089012345".into())));
        assert_eq!(parse_personal_id(&Cell::Empty), Ok(None));
        assert!(parse_personal_id(&Cell::Text("12345".into())).is_err());
    }

    #[test]
    fn values_match_without_case_or_diacritics() {
        assert_eq!(parse_gender("nu"), Some(pb::Gender::Female));
        assert_eq!(parse_gender(" NAM "), Some(pb::Gender::Male));
        assert_eq!(parse_category("cong chuc"), Some(pb::PersonCategory::CivilServant));
        assert_eq!(parse_category("Hợp đồng"), Some(pb::PersonCategory::ContractWorker));
        assert_eq!(parse_category("PUBLIC_EMPLOYEE"), Some(pb::PersonCategory::PublicEmployee));
        assert_eq!(parse_category("Người hoạt động không chuyên trách"), Some(pb::PersonCategory::PartTimeWorker));
        assert_eq!(parse_rating("httnv"), Some(pb::Rating::Good));
        assert_eq!(parse_rating("Hoàn thành xuất sắc nhiệm vụ"), Some(pb::Rating::Excellent));
        assert_eq!(parse_rating("KHÔNG HOÀN THÀNH NHIỆM VỤ"), Some(pb::Rating::NotCompleted));
        assert_eq!(parse_flag(&Cell::Text("x".into())), Ok(true));
        assert_eq!(parse_flag(&Cell::Text("Không".into())), Ok(false));
        assert!(parse_flag(&Cell::Text("maybe".into())).is_err());
    }

    fn row(values: [&'static str; 13]) -> Vec<&'static str> {
        values.to_vec()
    }

    #[test]
    fn a_row_becomes_a_record_with_its_placement_qualification_and_rating() {
        let g = grid(vec![
            HEADER.to_vec(),
            row([
                "1",
                "Lò Thị Hoa",
                "01/02/1985",
                "Nữ",
                "Thái",
                "011185000123",
                "Công chức",
                "uy ban nhan dan xa thanh xuong",
                "",
                "Chủ tịch",
                "15/03/2010",
                "dai hoc",
                "HTTNV",
            ]),
        ]);
        let parsed = parse_people(&g, &reference(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.problems, vec![]);
        let record = &parsed.records[0];
        assert_eq!(record.row, 1);
        let person = record.record.person.as_ref().unwrap_or_else(|| panic!("person"));
        assert_eq!(person.personal_id, "011185000123");
        assert_eq!(person.gender, i32::from(pb::Gender::Female));
        let placement = &record.record.placements[0];
        assert_eq!(placement.unit, "units/1");
        // No "Ngày bổ nhiệm": the later of employment (2010) and the unit's start (2020).
        assert_eq!(placement.valid_from, Some(pb::Date { year: 2020, month: 1, day: 1 }));
        assert_eq!(record.record.qualifications[0].level, "scales/professional/levels/university");
        assert_eq!(record.record.qualifications[0].awarded_on, Some(pb::Date { year: 2010, month: 3, day: 15 }));
        assert_eq!(record.record.evaluations[0].year, 2024);
        assert_eq!(record.column_of("placements[0].unit"), Some(7));
        assert_eq!(record.column_of("qualifications[0].awarded_on"), Some(11));
        assert_eq!(record.column_of("person.birth_date"), Some(2));
        assert_eq!(record.column_of("person"), None);
    }

    #[test]
    fn every_problem_of_a_row_is_reported_with_its_column() {
        let g = grid(vec![
            HEADER.to_vec(),
            row([
                "1",
                "Lò Thị Hoa",
                "31/02/1985",
                "?",
                "Thái",
                "",
                "Công chức",
                "Trạm Y tế",
                "",
                "Trạm trưởng",
                "15/03/2010",
                "Tiến sĩ",
                "Tốt lắm",
            ]),
        ]);
        let parsed = parse_people(&g, &reference(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        let columns: Vec<Option<usize>> = parsed.problems.iter().map(|p| p.column).collect();
        assert_eq!(columns, vec![Some(2), Some(3), Some(5), Some(7), Some(11), Some(12)], "{:#?}", parsed.problems);
        assert!(parsed.problems[3].message.contains("ambiguous"), "{}", parsed.problems[3].message);
        assert!(parsed.problems[3].message.contains("Phường Noong Bua (03124)"), "{}", parsed.problems[3].message);
        assert!(parsed.records.is_empty());
    }

    #[test]
    fn a_locality_tells_units_of_the_same_name_apart() {
        let r = reference();
        assert_eq!(r.find_unit("tram y te", Some("Noong Bua")), Ok(2));
        assert_eq!(r.find_unit("Trạm Y tế", Some("03334")), Ok(1));
        assert_eq!(r.find_unit("Trạm Y tế", Some("Huyện Điện Biên")), Ok(1));
        assert!(r.find_unit("Trạm Y tế", Some("Tỉnh Điện Biên")).is_err_and(|e| e.contains("ambiguous")));
        assert!(r.find_unit("Trạm Y tế", Some("Hà Nội")).is_err_and(|e| e.starts_with("no locality")));
    }

    #[test]
    fn units_of_one_name_in_one_locality_need_a_code() {
        let unit = |id: i64, code: &str| pb::Unit {
            name: format!("units/{id}"),
            display_name: "Trạm Y tế".into(),
            locality: "localities/03334".into(),
            code: code.into(),
            ..Default::default()
        };
        let plain = Reference::new(&[], &[unit(1, ""), unit(2, "")], &[]);
        let message = plain.find_unit("Trạm Y tế", None).err().unwrap_or_default();
        assert!(message.contains("units/1") && message.contains("units/2"), "{message}");
        assert!(message.contains("administrator gives the units codes"), "{message}");
        let coded = Reference::new(&[], &[unit(1, "TYT-1"), unit(2, "tyt-2")], &[]);
        assert_eq!(coded.find_unit("TYT-2", None), Ok(1));
        assert!(coded.find_unit("Trạm Y tế", None).is_err_and(|m| m.ends_with("give the unit's code")));
    }

    #[test]
    fn the_template_notes_row_and_empty_rows_are_skipped() {
        let mut notes = vec![""; 13];
        notes[1] = FULL_NAME_NOTE;
        let g = grid(vec![HEADER.to_vec(), notes, vec![], vec!["", "", "", ""]]);
        let parsed = parse_people(&g, &reference(), &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.rows, 0);
        assert!(parsed.problems.is_empty());
    }

    #[test]
    fn column_letters_run_past_z() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
