//! The sheet's vocabulary: the headers and values it may use, and how they are folded to keys.

use super::*;

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
pub(super) const SYNONYMS: &[(&str, Field)] = &[
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
pub(super) const RATING_PREFIXES: &[&str] = &[
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
pub(super) const CATEGORY_SYNONYMS: &[(&str, pb::PersonCategory)] = &[
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

pub(super) const GENDER_SYNONYMS: &[(&str, pb::Gender)] =
    &[("male", pb::Gender::Male), ("m", pb::Gender::Male), ("female", pb::Gender::Female), ("f", pb::Gender::Female)];

/// The ratings in full, as the template lists them, with their usual abbreviations.
pub const RATINGS: &[(pb::Rating, &str, &str)] = &[
    (pb::Rating::Excellent, "Hoàn thành xuất sắc nhiệm vụ", "HTXSNV"),
    (pb::Rating::Good, "Hoàn thành tốt nhiệm vụ", "HTTNV"),
    (pb::Rating::Completed, "Hoàn thành nhiệm vụ", "HTNV"),
    (pb::Rating::NotCompleted, "Không hoàn thành nhiệm vụ", "KHTNV"),
];

pub(super) const RATING_SYNONYMS: &[(&str, pb::Rating)] = &[
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

pub(super) const YES: &[&str] = &["co", "x", "yes", "true", "1", "v", "✓", "✔"];
pub(super) const NO: &[&str] = &["khong", "no", "false", "0", "-"];

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
pub(super) fn value_key(value: &str) -> String {
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
