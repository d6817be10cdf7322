//! A report table as an XLSX workbook: one sheet with the title block, the headers
//! (up to three levels, merged), a row per group, footnotes, and a chart of the main
//! distribution beside the data it plots.
//!
//! Figures stay numbers, so that they read back as the RPC's and sum in Excel, and
//! are shown the Vietnamese way. An .xlsx number format names its separators only by
//! role (`,` grouping, `.` decimal) and the reader substitutes its own regional ones,
//! so:
//! - thousands are grouped with a literal dot (`#\.###`, chosen by magnitude), which
//!   every reader shows as `1.314` whatever its regional settings;
//! - a decimal comma cannot be forced in Excel (its decimal separator is always the
//!   system's). Percent formats carry the Vietnamese locale tag `[$-42A]`, which
//!   LibreOffice honours (`109,5 %` everywhere) and Excel ignores (`109,5 %` on a
//!   Vietnamese system, `109.5 %` on an English one). The alternative, text cells,
//!   would break sums and the read-back, so the percent stays a number: the
//!   response's unrounded value (109.5 for 109,5 %), shown with one decimal.

use rust_xlsxwriter::{
    Chart as XlsxChart, ChartDataLabel, ChartEmptyCells, ChartLegendPosition, ChartType, Color, DocProperties, Format,
    FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::sheets::{Chart, ChartKind, HIDDEN_MARKER, ReportTable, RowKind, Value};

/// Counts: `1.314`, `2.500.000`. Conditions choose the grouping, so the format also
/// suits a count a reader types in.
pub const COUNT_FORMAT: &str = r"[>=1000000]#\.###\.###;[>=1000]#\.###;0";
/// Percentages as the responses carry them (109.5): `109,5 %`.
pub const PERCENT_FORMAT: &str = r#"[$-42A]0.0" %""#;
/// Changes in percentage points: `+1,5`, `-0,3`.
pub const POINTS_FORMAT: &str = "[$-42A]+0.0;-0.0;0.0";

/// The format of a signed count (a change, vacancies) of this size. Readers differ on
/// the sign of a negative number in a conditional section (LibreOffice drops it), so
/// signed counts get a plain `positive;negative;zero` format chosen by magnitude.
pub fn signed_format(value: i64) -> &'static str {
    match value.unsigned_abs() {
        0..1_000 => "+0;-0;0",
        1_000..1_000_000 => r"+#\.###;-#\.###;0",
        _ => r"+#\.###\.###;-#\.###\.###;0",
    }
}

const HEADER_FILL: u32 = 0xDDEBF7;
const TOTAL_FILL: u32 = 0xF2F2F2;

/// The formats of one sheet.
struct Styles {
    title: Format,
    bold: Format,
    plain: Format,
    header: Format,
    note: Format,
}

impl Styles {
    fn new() -> Self {
        Self {
            title: Format::new().set_bold().set_font_size(14),
            bold: Format::new().set_bold(),
            plain: Format::new(),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_border(FormatBorder::Thin)
                .set_background_color(Color::RGB(HEADER_FILL)),
            note: Format::new().set_italic().set_font_size(9),
        }
    }

    /// The base format of a data cell of a row of `kind`.
    fn cell(kind: RowKind) -> Format {
        let format = Format::new().set_border(FormatBorder::Thin);
        match kind {
            RowKind::Part => format,
            RowKind::OwnUnits => format.set_italic(),
            RowKind::Total => format.set_bold().set_background_color(Color::RGB(TOTAL_FILL)),
            RowKind::Change => format.set_bold().set_italic(),
        }
    }

    fn label(kind: RowKind) -> Format {
        Self::cell(kind).set_text_wrap().set_align(FormatAlign::VerticalCenter)
    }

    fn value(kind: RowKind, value: &Value) -> Format {
        let format = Self::cell(kind);
        match value {
            Value::Count(_) => format.set_num_format(COUNT_FORMAT),
            Value::Signed(n) => format.set_num_format(signed_format(*n)),
            Value::Percent(_) => format.set_num_format(PERCENT_FORMAT),
            Value::Points(_) => format.set_num_format(POINTS_FORMAT),
            Value::Hidden => format.set_align(FormatAlign::Right),
            Value::Blank => format,
        }
    }
}

/// Writes a value: a number, the marker of a suppressed figure, or nothing.
fn write_value(sheet: &mut Worksheet, row: u32, col: u16, value: &Value, format: &Format) -> Result<(), XlsxError> {
    match value {
        Value::Count(n) | Value::Signed(n) => sheet.write_number_with_format(row, col, *n as f64, format)?,
        Value::Percent(x) | Value::Points(x) => sheet.write_number_with_format(row, col, *x, format)?,
        Value::Hidden => sheet.write_string_with_format(row, col, HIDDEN_MARKER, format)?,
        Value::Blank => sheet.write_blank(row, col, format)?,
    };
    Ok(())
}

fn col(index: usize) -> Result<u16, XlsxError> {
    u16::try_from(index).map_err(|_| XlsxError::ParameterError(format!("column {index} is out of range")))
}

fn row_at(index: usize) -> Result<u32, XlsxError> {
    u32::try_from(index).map_err(|_| XlsxError::ParameterError(format!("row {index} is out of range")))
}

/// How many header levels the table uses (1 to 3).
fn header_depth(table: &ReportTable) -> usize {
    (0..3).rev().find(|level| table.columns.iter().any(|c| !c.header[*level].is_empty())).map_or(1, |l| l + 1)
}

/// Writes a merged cell, or a plain one when it spans a single cell.
fn merged(
    sheet: &mut Worksheet,
    (first_row, first_col): (u32, u16),
    (last_row, last_col): (u32, u16),
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if first_row == last_row && first_col == last_col {
        sheet.write_string_with_format(first_row, first_col, text, format)?;
    } else {
        sheet.merge_range(first_row, first_col, last_row, last_col, text, format)?;
    }
    Ok(())
}

/// Writes the headers from `top`: the label headers over every level, then each
/// value column's levels, a level merged across neighbours that share it and down
/// over the levels below that all of them leave empty.
fn write_headers(
    sheet: &mut Worksheet,
    table: &ReportTable,
    top: u32,
    depth: usize,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let labels = table.label_headers.len();
    let bottom = top + row_at(depth - 1)?;
    for (i, header) in table.label_headers.iter().enumerate() {
        merged(sheet, (top, col(i)?), (bottom, col(i)?), header, &styles.header)?;
    }
    // Borders and fill for header cells no merge covers.
    for c in 0..table.columns.len() {
        for level in 0..depth {
            sheet.write_blank(top + row_at(level)?, col(labels + c)?, &styles.header)?;
        }
    }
    let columns = &table.columns;
    for level in 0..depth {
        let mut c = 0;
        while c < columns.len() {
            let text = &columns[c].header[level];
            if text.is_empty() {
                c += 1;
                continue;
            }
            let same = |k: usize| columns[k].header[..=level] == columns[c].header[..=level];
            let mut end = c;
            while end + 1 < columns.len() && same(end + 1) {
                end += 1;
            }
            let mut last_level = level;
            while last_level + 1 < depth && (c..=end).all(|k| columns[k].header[last_level + 1].is_empty()) {
                last_level += 1;
            }
            merged(
                sheet,
                (top + row_at(level)?, col(labels + c)?),
                (top + row_at(last_level)?, col(labels + end)?),
                text,
                &styles.header,
            )?;
            c = end + 1;
        }
    }
    let heights: &[f64] = match depth {
        1 => &[45.0],
        2 => &[30.0, 45.0],
        _ => &[30.0, 45.0, 45.0],
    };
    for (level, height) in heights.iter().enumerate() {
        sheet.set_row_height(top + row_at(level)?, *height)?;
    }
    Ok(())
}

/// Sets the widths: label columns after their longest text, value columns narrow
/// (their headers wrap).
fn set_widths(sheet: &mut Worksheet, table: &ReportTable) -> Result<(), XlsxError> {
    for (i, header) in table.label_headers.iter().enumerate() {
        let longest = table
            .rows
            .iter()
            .filter_map(|r| r.labels.get(i))
            .chain([header])
            .map(|t| t.chars().count())
            .max()
            .unwrap_or_default();
        let width = (longest as f64 + 2.0).clamp(6.0, 48.0);
        sheet.set_column_width(col(i)?, width)?;
    }
    for (c, _) in table.columns.iter().enumerate() {
        let percent = table.rows.iter().any(|r| matches!(r.values.get(c), Some(Value::Percent(_) | Value::Points(_))));
        sheet.set_column_width(col(table.label_headers.len() + c)?, if percent { 9.5 } else { 10.5 })?;
    }
    Ok(())
}

/// Writes the chart's data from `top` in the last label column and the ones after
/// it (a suppressed figure as an empty cell, so that the chart shows a gap, never a
/// number, and its category marked), then the chart beside it.
fn write_chart(
    sheet: &mut Worksheet,
    sheet_name: &str,
    chart: &Chart,
    top: u32,
    first_col: u16,
    styles: &Styles,
) -> Result<(), XlsxError> {
    merged(sheet, (top, first_col), (top, first_col), &chart.category_header, &styles.header)?;
    for (s, series) in chart.series.iter().enumerate() {
        sheet.write_string_with_format(top, first_col + 1 + col(s)?, &series.name, &styles.header)?;
    }
    sheet.set_row_height(top, 45.0)?;
    for (i, category) in chart.categories.iter().enumerate() {
        let row = top + 1 + row_at(i)?;
        let hidden = chart.series.iter().any(|s| s.values.get(i) == Some(&Value::Hidden));
        let label = if hidden { format!("{category} ({HIDDEN_MARKER})") } else { category.clone() };
        sheet.write_string_with_format(row, first_col, &label, &Styles::label(RowKind::Part))?;
        for (s, series) in chart.series.iter().enumerate() {
            let value = match series.values.get(i) {
                Some(Value::Hidden) | None => Value::Blank,
                Some(v) => *v,
            };
            write_value(sheet, row, first_col + 1 + col(s)?, &value, &Styles::value(RowKind::Part, &value))?;
        }
    }
    let rows = row_at(chart.categories.len())?;
    if rows == 0 {
        return Ok(());
    }
    let mut plot = XlsxChart::new(match chart.kind {
        ChartKind::Clustered => ChartType::Column,
        ChartKind::Stacked => ChartType::ColumnStacked,
    });
    plot.title().set_name(chart.title.as_str());
    plot.show_empty_cells_as(ChartEmptyCells::Gaps);
    plot.set_width(760).set_height(380);
    if chart.series.len() == 1 {
        plot.legend().set_hidden();
    } else {
        plot.legend().set_position(ChartLegendPosition::Bottom);
    }
    for s in 0..chart.series.len() {
        let value_col = first_col + 1 + col(s)?;
        let series = plot
            .add_series()
            .set_categories((sheet_name, top + 1, first_col, top + rows, first_col))
            .set_values((sheet_name, top + 1, value_col, top + rows, value_col))
            .set_name((sheet_name, top, value_col));
        if chart.series.len() <= 2 {
            series.set_data_label(ChartDataLabel::new().show_value());
        }
    }
    sheet.insert_chart(top, first_col + 2 + col(chart.series.len())?, &plot)?;
    Ok(())
}

/// Writes `table` as a workbook of one sheet.
pub fn write(table: &ReportTable) -> Result<Vec<u8>, XlsxError> {
    let styles = Styles::new();
    let mut workbook = Workbook::new();
    let scope = table.context.first().map(|(_, v)| v.clone()).unwrap_or_default();
    workbook.set_properties(
        &DocProperties::new().set_title(table.title.as_str()).set_subject(scope.as_str()).set_author("hrplan"),
    );
    let sheet = workbook.add_worksheet();
    sheet.set_name(&table.sheet_name)?;

    sheet.write_string_with_format(0, 0, &table.title, &styles.title)?;
    let mut row = 1;
    for (what, value) in &table.context {
        sheet.write_rich_string(row, 0, &[(&styles.bold, &format!("{what}: ")), (&styles.plain, value)])?;
        row += 1;
    }
    row += 1;

    let depth = header_depth(table);
    let header_top = row;
    write_headers(sheet, table, header_top, depth, &styles)?;
    let first_data = header_top + row_at(depth)?;
    let labels = table.label_headers.len();
    for (i, r) in table.rows.iter().enumerate() {
        let row = first_data + row_at(i)?;
        for (c, text) in r.labels.iter().enumerate() {
            sheet.write_string_with_format(row, col(c)?, text, &Styles::label(r.kind))?;
        }
        for (c, value) in r.values.iter().enumerate() {
            write_value(sheet, row, col(labels + c)?, value, &Styles::value(r.kind, value))?;
        }
    }
    sheet.set_freeze_panes(first_data, col(labels)?)?;
    set_widths(sheet, table)?;

    let mut row = first_data + row_at(table.rows.len())? + 1;
    for note in &table.notes {
        sheet.write_string_with_format(row, 0, note, &styles.note)?;
        row += 1;
    }
    if let Some(chart) = &table.chart {
        write_chart(sheet, &table.sheet_name, chart, row + 1, col(labels.saturating_sub(1))?, &styles)?;
    }

    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_repeat_rows(header_top, first_data - 1)?;
    if table.columns.len() <= 24 {
        sheet.set_print_fit_to_pages(1, 0);
    } else {
        // Too wide for one page: each printed page repeats the labels instead.
        sheet.set_repeat_columns(0, col(labels.saturating_sub(1))?)?;
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_counts_get_a_grouping_by_magnitude() {
        assert_eq!(signed_format(-5), "+0;-0;0");
        assert_eq!(signed_format(999), "+0;-0;0");
        assert_eq!(signed_format(-1_500), r"+#\.###;-#\.###;0");
        assert_eq!(signed_format(2_500_000), r"+#\.###\.###;-#\.###\.###;0");
    }
}
