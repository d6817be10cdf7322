//! Where the header row is and which column holds what.

use super::*;

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
pub(super) fn scale_keys(scale: &ScaleRef) -> Vec<String> {
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
