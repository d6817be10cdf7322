//! The blank personnel-list template that `hrplan import people` reads: a sheet
//! "Danh sách" with the header row, a notes row under it saying what each column
//! takes, drop-down lists (data validation) for genders, categories, yes/no flags,
//! the levels of every scale, ratings and (when given) the caller's units, date
//! columns formatted dd/mm/yyyy, identifier columns as text (Excel keeps leading
//! zeros), frozen header and name, widths; and a sheet "Danh mục" holding the lists.

use std::path::Path;

use anyhow::Context as _;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Formula, Workbook,
};

use super::people_sheet::{CATEGORIES, FLAGS, FULL_NAME_NOTE, Field, GENDERS, HEADERS, RATINGS};
use crate::grpc::pb;

/// The name of the data sheet.
pub const DATA_SHEET: &str = "Danh sách";
/// The name of the sheet holding the drop-down lists.
pub const LISTS_SHEET: &str = "Danh mục";
/// Data rows the drop-downs and formats cover: as many as one import takes.
pub const TEMPLATE_ROWS: u32 = 100_000;

/// What the template lists, from the server (or the seeded scales offline).
#[derive(Debug, Clone, Default)]
pub struct TemplateSpec {
    /// The scales whose levels the template offers, one column each.
    pub scales: Vec<pb::Scale>,
    /// The years that get a rating column ("Xếp loại 2024").
    pub rating_years: Vec<i32>,
    /// Unit names for the "Đơn vị" drop-down; none for a free-text column.
    pub units: Vec<String>,
}

/// One column of the template.
struct TemplateColumn {
    header: String,
    note: String,
    width: f64,
    kind: Kind,
    /// The values of its drop-down, if it has one.
    list: Option<Vec<String>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Date,
    Identifier,
}

fn fixed_column(field: Field, spec: &TemplateSpec) -> Option<TemplateColumn> {
    let header = HEADERS.iter().find(|(f, _)| *f == field).map(|(_, h)| (*h).to_owned())?;
    let flags = || Some(FLAGS.iter().map(|f| (*f).to_owned()).collect());
    let (note, width, kind, list): (String, f64, Kind, Option<Vec<String>>) = match field {
        Field::FullName => (FULL_NAME_NOTE.to_owned(), 28.0, Kind::Text, None),
        Field::BirthDate => ("Bắt buộc. Ngày/tháng/năm (dd/mm/yyyy), ví dụ 01/02/1985".to_owned(), 12.0, Kind::Date, None),
        Field::Gender => ("Bắt buộc. Nam hoặc Nữ".to_owned(), 9.0, Kind::Text, Some(GENDERS.iter().map(|(_, l)| (*l).to_owned()).collect())),
        Field::Ethnicity => ("Bắt buộc. Ví dụ: Kinh, Tày, Thái".to_owned(), 10.0, Kind::Text, None),
        Field::PersonalId => (
            "12 chữ số (số định danh cá nhân, in trên thẻ căn cước). Cần có để nhập lại danh sách không tạo trùng người".to_owned(),
            16.0,
            Kind::Identifier,
            None,
        ),
        Field::StaffCode => ("Không bắt buộc. Mã cán bộ, công chức của cơ quan; không trùng nhau".to_owned(), 14.0, Kind::Identifier, None),
        Field::Category => ("Bắt buộc. Chọn trong danh sách".to_owned(), 22.0, Kind::Text, Some(CATEGORIES.iter().map(|(_, l)| (*l).to_owned()).collect())),
        Field::Unit => (
            "Bắt buộc. Tên đơn vị như trong hệ thống (không phân biệt hoa thường, dấu) hoặc mã đơn vị".to_owned(),
            36.0,
            Kind::Text,
            (!spec.units.is_empty()).then(|| spec.units.clone()),
        ),
        Field::Locality => (
            "Khi có đơn vị trùng tên: mã hoặc tên xã, phường (hoặc huyện, tỉnh) của đơn vị".to_owned(),
            18.0,
            Kind::Text,
            None,
        ),
        Field::Post => ("Bắt buộc. Ví dụ: Chủ tịch Ủy ban nhân dân, Chuyên viên".to_owned(), 28.0, Kind::Text, None),
        Field::Leader => ("Có nếu là cán bộ lãnh đạo, quản lý; để trống nếu không".to_owned(), 10.0, Kind::Text, flags()),
        Field::KeyPost => ("Có nếu là cán bộ chủ chốt; để trống nếu không".to_owned(), 10.0, Kind::Text, flags()),
        Field::EmployedFrom => (
            "Bắt buộc. Ngày bắt đầu công tác (dd/mm/yyyy); cũng là ngày cấp các văn bằng, chứng chỉ ghi trong danh sách".to_owned(),
            12.0,
            Kind::Date,
            None,
        ),
        Field::PlacementFrom => (
            "Ngày bắt đầu giữ chức vụ tại đơn vị (dd/mm/yyyy). Để trống: ngày vào làm, hoặc ngày đơn vị bắt đầu nếu muộn hơn. Người chuyển đơn vị: ghi ngày chuyển".to_owned(),
            12.0,
            Kind::Date,
            None,
        ),
        Field::UnitCode | Field::Scale(_) | Field::Rating(_) => return None,
    };
    Some(TemplateColumn { header, note, width, kind, list })
}

fn columns(spec: &TemplateSpec) -> Vec<TemplateColumn> {
    let mut columns: Vec<TemplateColumn> = [
        Field::FullName,
        Field::BirthDate,
        Field::Gender,
        Field::Ethnicity,
        Field::PersonalId,
        Field::StaffCode,
        Field::Category,
        Field::Unit,
        Field::Locality,
        Field::Post,
        Field::Leader,
        Field::KeyPost,
        Field::EmployedFrom,
        Field::PlacementFrom,
    ]
    .into_iter()
    .filter_map(|f| fixed_column(f, spec))
    .collect();
    for scale in ordered_scales(&spec.scales) {
        let levels: Vec<String> = scale.levels.iter().map(|l| l.display_name.clone()).collect();
        columns.push(TemplateColumn {
            header: scale.display_name.clone(),
            note: "Trình độ cao nhất; chọn trong danh sách. Để trống nếu không rõ".to_owned(),
            width: 22.0,
            kind: Kind::Text,
            list: Some(levels),
        });
    }
    for year in &spec.rating_years {
        columns.push(TemplateColumn {
            header: format!("Xếp loại {year}"),
            note: format!(
                "Kết quả đánh giá, xếp loại năm {year}: {} hoặc viết tắt; để trống nếu chưa có",
                RATINGS.iter().map(|(_, full, short)| format!("{full} ({short})")).collect::<Vec<_>>().join(", ")
            ),
            width: 18.0,
            kind: Kind::Text,
            list: Some(RATINGS.iter().map(|(_, full, _)| (*full).to_owned()).collect()),
        });
    }
    columns
}

/// The order offices list the seeded scales in; other scales follow in the
/// server's order.
const SCALE_ORDER: &[&str] = &["professional", "political_theory", "state_management", "it", "foreign_language"];

/// The scales in the order offices list them.
fn ordered_scales(scales: &[pb::Scale]) -> Vec<&pb::Scale> {
    let mut ordered: Vec<&pb::Scale> = scales.iter().collect();
    ordered.sort_by_key(|s| {
        let id = s.name.strip_prefix("scales/").unwrap_or(&s.name);
        SCALE_ORDER.iter().position(|known| *known == id).unwrap_or(SCALE_ORDER.len())
    });
    ordered
}

/// A sheet-qualified absolute range for a list: `='Danh mục'!$A$2:$A$4`.
fn list_range(column: u16, len: usize) -> String {
    let letter = super::people_sheet::column_letter(usize::from(column));
    format!("='{LISTS_SHEET}'!${letter}$2:${letter}${}", len + 1)
}

/// Writes the template to `path`.
pub fn write(path: &Path, spec: &TemplateSpec) -> anyhow::Result<()> {
    let mut workbook = Workbook::new();
    let columns = columns(spec);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(Color::RGB(0xDD_EB_F7))
        .set_border(FormatBorder::Thin);
    let note = Format::new()
        .set_italic()
        .set_text_wrap()
        .set_font_color(Color::RGB(0x59_59_59))
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let text = Format::new().set_num_format("@");
    let list_header = Format::new().set_bold();

    let data = workbook.add_worksheet();
    data.set_name(DATA_SHEET)?;
    data.set_row_height(1, 90)?;
    let mut list_column: u16 = 0;
    let mut lists: Vec<(String, Vec<String>)> = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let c = u16::try_from(i).context("too many template columns")?;
        data.set_column_width(c, column.width)?;
        match column.kind {
            Kind::Date => {
                data.set_column_format(c, &date)?;
            }
            Kind::Identifier => {
                data.set_column_format(c, &text)?;
            }
            Kind::Text => {}
        }
        data.write_string_with_format(0, c, &column.header, &header)?;
        data.write_string_with_format(1, c, &column.note, &note)?;
        if let Some(values) = &column.list {
            let validation = DataValidation::new()
                .allow_list_formula(Formula::new(list_range(list_column, values.len())))
                .ignore_blank(true)
                // Typed values the list lacks (abbreviations, English names) are
                // accepted by the import: warn, do not refuse.
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_title("Giá trị không có trong danh sách")?
                .set_error_message("Giá trị này không có trong danh sách; hrplan import people sẽ kiểm tra lại.")?;
            data.add_data_validation(2, c, TEMPLATE_ROWS + 1, c, &validation)?;
            lists.push((column.header.clone(), values.clone()));
            list_column += 1;
        }
    }
    data.set_freeze_panes(2, 1)?;

    let sheet = workbook.add_worksheet();
    sheet.set_name(LISTS_SHEET)?;
    for (i, (title, values)) in lists.iter().enumerate() {
        let c = u16::try_from(i)?;
        sheet.write_string_with_format(0, c, title, &list_header)?;
        let width = values.iter().map(|v| v.chars().count()).max().unwrap_or(10).clamp(10, 60);
        #[expect(clippy::cast_precision_loss, reason = "a width of at most 60")]
        sheet.set_column_width(c, width as f64 + 2.0)?;
        for (r, value) in values.iter().enumerate() {
            sheet.write_string(u32::try_from(r + 1)?, c, value)?;
        }
    }
    workbook.save(path).with_context(|| format!("writing the template {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::people_sheet::{Reference, field_of};

    #[test]
    fn list_ranges_are_absolute_and_sheet_qualified() {
        assert_eq!(list_range(0, 2), "='Danh mục'!$A$2:$A$3");
        assert_eq!(list_range(27, 9), "='Danh mục'!$AB$2:$AB$10");
    }

    #[test]
    fn every_template_header_is_read_back_by_the_import() {
        let spec = TemplateSpec {
            scales: vec![pb::Scale {
                name: "scales/it".into(),
                display_name: "Tin học".into(),
                english_name: "Information technology".into(),
                levels: vec![],
            }],
            rating_years: vec![2024],
            units: vec![],
        };
        let reference = Reference::new(&spec.scales, &[], &[]);
        for column in columns(&spec) {
            assert!(field_of(&column.header, &reference.scales).is_some(), "{}", column.header);
        }
    }
}
