//! A report table as CSV, the way Excel writes and reads it in Vietnam: UTF-8 with a
//! byte order mark (so Excel does not read the text as ANSI), `;` between fields
//! (the list separator of Vietnamese regional settings, where `,` is the decimal
//! separator), CRLF line ends, one header row (the header levels joined by ` - `),
//! then one row per group.
//!
//! Counts are plain integers (`1314`: a grouping dot would read as a decimal point
//! under other settings); percentages are the response's values with a decimal comma
//! and every digit they have (`8,454608454608455`), so that they read back exactly;
//! a suppressed figure is `*` and a missing one empty.

use super::sheets::{HIDDEN_MARKER, ReportTable, Value};

/// The byte order mark of UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A number with a decimal comma and the shortest digits that read back as `x`.
pub fn decimal_comma(x: f64) -> String {
    format!("{x}").replace('.', ",")
}

fn field(value: &Value) -> String {
    match value {
        Value::Count(n) | Value::Signed(n) => n.to_string(),
        Value::Percent(x) | Value::Points(x) => decimal_comma(*x),
        Value::Hidden => HIDDEN_MARKER.to_owned(),
        Value::Blank => String::new(),
    }
}

/// Writes `table` as CSV.
pub fn write(table: &ReportTable) -> Result<Vec<u8>, ::csv::Error> {
    let mut writer =
        ::csv::WriterBuilder::new().delimiter(b';').terminator(::csv::Terminator::CRLF).from_writer(BOM.to_vec());
    let header: Vec<String> =
        table.label_headers.iter().cloned().chain(table.columns.iter().map(|c| c.flat_header())).collect();
    writer.write_record(&header)?;
    for row in &table.rows {
        writer.write_record(row.labels.iter().cloned().chain(row.values.iter().map(field)))?;
    }
    writer.into_inner().map_err(|e| ::csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::files::sheets::{Column, Row, RowKind};

    #[test]
    fn a_table_is_written_with_bom_semicolons_and_decimal_commas() {
        let table = ReportTable {
            sheet_name: "s".into(),
            title: "t".into(),
            context: vec![],
            label_headers: vec!["Mã".into(), "Địa bàn".into()],
            columns: vec![
                Column { header: ["Trình độ".into(), "Thạc sĩ".into(), "Số người".into()] },
                Column { header: ["Trình độ".into(), "Thạc sĩ".into(), "Tỷ lệ (%)".into()] },
                Column { header: ["Lãnh đạo".into(), String::new(), "Số người".into()] },
            ],
            rows: vec![Row {
                labels: vec!["094".into(), "Thành phố Điện Biên Phủ; mới".into()],
                values: vec![Value::Count(1314), Value::Percent(109.5), Value::Hidden],
                kind: RowKind::Part,
            }],
            notes: vec![],
            chart: None,
            file_stem: "x".into(),
        };
        let bytes = write(&table).expect("csv");
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[BOM.len()..].to_vec()).expect("utf-8");
        assert_eq!(
            text,
            "Mã;Địa bàn;Trình độ - Thạc sĩ - Số người;Trình độ - Thạc sĩ - Tỷ lệ (%);Lãnh đạo - Số người\r\n\
             094;\"Thành phố Điện Biên Phủ; mới\";1314;109,5;*\r\n"
        );
    }

    #[test]
    fn percentages_keep_every_digit() {
        let x = 244.0 * 100.0 / 2886.0;
        let back: f64 = decimal_comma(x).replace(',', ".").parse().expect("a number");
        assert_eq!(back.to_bits(), x.to_bits());
    }
}
