//! Reading a worksheet (XLSX) or a CSV file into a grid of cells, as Excel shows it:
//! row and column indexes are the sheet's own (row 0 is Excel's row 1, column 0 is
//! column A), whatever rows and columns are empty.

use std::{
    fmt,
    fs::File,
    io::{BufReader, Read as _},
    path::Path,
};

use anyhow::{Context as _, bail};
use calamine::{DataRef, Reader as _, Xlsx};
use chrono::NaiveDate;

/// One cell as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing in the cell.
    Empty,
    /// Text (every cell of a CSV file is text).
    Text(String),
    /// A number that is not formatted as a date.
    Number(f64),
    /// A cell formatted as a date (the time of day, if any, is dropped).
    Date(NaiveDate),
    /// TRUE or FALSE.
    Bool(bool),
    /// An Excel error value such as `#N/A`.
    Error(String),
}

impl Cell {
    /// Whether the cell holds nothing but blanks.
    pub fn is_blank(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }
}

impl fmt::Display for Cell {
    /// The cell as a person reads it: dates as dd/mm/yyyy, whole numbers without a
    /// decimal point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => Ok(()),
            Self::Text(text) => f.write_str(text),
            Self::Number(n) => write!(f, "{}", number_text(*n)),
            Self::Date(d) => write!(f, "{}", d.format("%d/%m/%Y")),
            Self::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Self::Error(e) => f.write_str(e),
        }
    }
}

/// A number as text: whole numbers without a decimal point (`1089012345`, not
/// `1089012345.0`), others as Rust prints them.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{n:.0}") } else { n.to_string() }
}

/// Which kind of file a grid came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// An Excel workbook.
    Xlsx,
    /// A CSV file.
    Csv {
        /// The field separator found.
        delimiter: u8,
    },
}

/// A worksheet's cells, row by row.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The worksheet's name (the file's stem for CSV).
    pub sheet: String,
    /// What the grid was read from.
    pub kind: SourceKind,
    /// `rows[r][c]` is the cell of Excel row `r + 1`, column `c`; a row is as long
    /// as its last non-empty cell.
    pub rows: Vec<Vec<Cell>>,
}

impl Grid {
    /// The cell at (row, column); `Cell::Empty` outside the rows read.
    pub fn cell(&self, row: usize, column: usize) -> &Cell {
        const EMPTY: &Cell = &Cell::Empty;
        self.rows.get(row).and_then(|r| r.get(column)).unwrap_or(EMPTY)
    }

    /// Number of columns of the widest row.
    pub fn width(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(0)
    }
}

/// Reports reading progress: `(done, total)` in rows (XLSX, total from the sheet's
/// declared dimensions) or bytes (CSV).
pub type OnProgress<'a> = &'a mut dyn FnMut(u64, u64);

/// Reads a worksheet of an `.xlsx` file (the first sheet unless `sheet` names one) or
/// a `.csv` file, chosen by the file's extension.
pub fn read(path: &Path, sheet: Option<&str>, progress: OnProgress<'_>) -> anyhow::Result<Grid> {
    if !path.is_file() {
        bail!("{}: no such file", path.display());
    }
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    match extension.as_str() {
        "xlsx" | "xlsm" => read_xlsx(path, sheet, progress),
        "csv" | "txt" => {
            if sheet.is_some() {
                bail!("--sheet applies to workbooks only; {} is a CSV file", path.display());
            }
            read_csv(path, progress)
        }
        "xls" | "ods" => bail!(
            "{} is an old or OpenDocument workbook: save it as Excel Workbook (.xlsx) or CSV UTF-8 (.csv)",
            path.display()
        ),
        _ => bail!("{}: expected a .xlsx or .csv file", path.display()),
    }
}

fn date_of(value: &calamine::ExcelDateTime) -> Cell {
    if value.is_duration() {
        return Cell::Number(value.as_f64());
    }
    let (year, month, day, ..) = value.to_ymd_hms_milli();
    NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day))
        .map_or_else(|| Cell::Number(value.as_f64()), Cell::Date)
}

fn cell_of(value: DataRef<'_>) -> Cell {
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s),
        DataRef::SharedString(s) => Cell::Text(s.to_owned()),
        // Integers beyond 2^53 do not occur in personnel lists; their text form
        // (number_text) stays exact up to there.
        #[expect(clippy::cast_precision_loss, reason = "cell integers are far below 2^53")]
        DataRef::Int(i) => Cell::Number(i as f64),
        DataRef::Float(f) => Cell::Number(f),
        DataRef::Bool(b) => Cell::Bool(b),
        DataRef::DateTime(d) => date_of(&d),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn put(rows: &mut Vec<Vec<Cell>>, row: usize, column: usize, cell: Cell) {
    if cell == Cell::Empty {
        return;
    }
    if rows.len() <= row {
        rows.resize_with(row + 1, Vec::new);
    }
    let cells = &mut rows[row];
    if cells.len() <= column {
        cells.resize(column + 1, Cell::Empty);
    }
    cells[column] = cell;
}

fn read_xlsx(path: &Path, sheet: Option<&str>, progress: OnProgress<'_>) -> anyhow::Result<Grid> {
    let mut workbook: Xlsx<_> = calamine::open_workbook(path).with_context(|| format!("opening {}", path.display()))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| names.iter().find(|n| n.trim().eq_ignore_ascii_case(wanted.trim())))
            .cloned()
            .ok_or_else(|| {
                anyhow::anyhow!("{} has no sheet `{wanted}`; its sheets: {}", path.display(), names.join(", "))
            })?,
        None => names.first().cloned().ok_or_else(|| anyhow::anyhow!("{} has no worksheet", path.display()))?,
    };
    let mut reader = workbook
        .worksheet_cells_reader(&name)
        .with_context(|| format!("reading sheet `{name}` of {}", path.display()))?;
    let total = u64::from(reader.dimensions().end.0) + 1;
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut reported = 0;
    while let Some(cell) =
        reader.next_cell().with_context(|| format!("reading sheet `{name}` of {}", path.display()))?
    {
        let (row, column) = cell.get_position();
        let (row, column) = (row as usize, column as usize);
        put(&mut rows, row, column, cell_of(cell.get_value().clone()));
        let done = row as u64;
        if done >= reported + 256 {
            reported = done;
            progress(done, total.max(done));
        }
    }
    progress(rows.len() as u64, total.max(rows.len() as u64));
    Ok(Grid { sheet: name, kind: SourceKind::Xlsx, rows })
}

/// The separator of a CSV text: an Excel `sep=X` first line if any, else whichever of
/// `;`, `,` and tab splits some line of the first 50 into the most fields (the header
/// row is the widest row, whatever title rows stand above it).
pub fn detect_delimiter(text: &str) -> u8 {
    if let Some(first) = text.lines().next()
        && let Some(sep) = first.trim().strip_prefix("sep=")
        && let [byte] = sep.as_bytes()
    {
        return *byte;
    }
    let widest = |delimiter: u8| {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes())
            .records()
            .take(50)
            .filter_map(Result::ok)
            .map(|r| r.len())
            .max()
            .unwrap_or(0)
    };
    // Ties go to `;`, the separator of Excel in locales with a decimal comma (Vietnamese).
    [b';', b',', b'\t']
        .into_iter()
        .fold((b';', 0), |best, d| {
            let width = widest(d);
            if width > best.1 { (d, width) } else { best }
        })
        .0
}

fn read_csv(path: &Path, progress: OnProgress<'_>) -> anyhow::Result<Grid> {
    let mut bytes = Vec::new();
    BufReader::new(File::open(path).with_context(|| format!("opening {}", path.display()))?)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    let total = bytes.len() as u64;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (byte {}): save it from Excel as \"CSV UTF-8 (Comma delimited)\"",
            path.display(),
            e.valid_up_to()
        )
    })?;
    let delimiter = detect_delimiter(text);
    let skip_sep_line = text.lines().next().is_some_and(|l| l.trim().starts_with("sep="));
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut reported = 0;
    for (index, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        if index == 0 && skip_sep_line {
            // Excel's `sep=;` line is not a row of the sheet Excel shows.
            continue;
        }
        let mut cells: Vec<Cell> =
            record.iter().map(|f| if f.trim().is_empty() { Cell::Empty } else { Cell::Text(f.to_owned()) }).collect();
        while cells.last() == Some(&Cell::Empty) {
            cells.pop();
        }
        rows.push(cells);
        let done = record.position().map_or(0, |p| p.byte());
        if done >= reported + 65_536 {
            reported = done;
            progress(done, total);
        }
    }
    progress(total, total);
    let sheet = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Grid { sheet, kind: SourceKind::Csv { delimiter }, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_separator_line_wins() {
        assert_eq!(detect_delimiter("sep=,\na;b;c\n"), b',');
    }

    #[test]
    fn the_separator_splitting_the_header_widest_is_chosen() {
        let semicolons =
            "Danh sách cán bộ, công chức, viên chức\nHọ và tên;Ngày sinh;Xã, phường;Đơn vị\nA;01/01/1980;X;Y\n";
        assert_eq!(detect_delimiter(semicolons), b';');
        let commas = "Họ và tên,Ngày sinh,\"Xã; phường\",Đơn vị\nA,01/01/1980,X,Y\n";
        assert_eq!(detect_delimiter(commas), b',');
        assert_eq!(detect_delimiter("a\tb\tc\n"), b'\t');
    }

    #[test]
    fn whole_numbers_print_without_a_decimal_point() {
        assert_eq!(number_text(1_089_012_345.0), "1089012345");
        assert_eq!(number_text(2.5), "2.5");
        assert_eq!(Cell::Date(NaiveDate::from_ymd_opt(1980, 2, 1).unwrap_or_default()).to_string(), "01/02/1980");
    }

    #[test]
    fn blank_text_is_blank() {
        assert!(Cell::Text("  ".into()).is_blank());
        assert!(Cell::Empty.is_blank());
        assert!(!Cell::Number(0.0).is_blank());
    }
}
