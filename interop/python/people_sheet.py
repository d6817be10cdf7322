#!/usr/bin/env python3
"""Interop check of spreadsheets in: fills the template that `hrplan template people`
wrote, with openpyxl (a spreadsheet library of its own), so that `hrplan import people`
can read it back; and reads the error workbook that a failed import wrote.

    python interop/python/people_sheet.py fill --template mau.xlsx --out ds.xlsx \
        [--rows 25] [--bad-date-row 3]
    python interop/python/people_sheet.py check-errors --workbook ds.loi.xlsx --row 5 \
        --column "Ngày sinh"

`fill` keeps the template's header, notes row and drop-downs and writes one person a
row below them: half the dates as Excel dates, half as dd/mm/yyyy text; units, levels
and ratings taken from the template's own lists (sheet "Danh mục"); valid 12-digit
personal identification numbers of province 011. `--bad-date-row N` puts an impossible
date in "Ngày sinh" of data row N (1 is the first person). `check-errors` checks that
the error column "Lỗi" of the error workbook flags exactly the given Excel row, naming
the column. Exit status: 0 on success, 1 on a failed check, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

try:
    import openpyxl
except ImportError as exc:  # pragma: no cover - setup error
    sys.stderr.write(f"people_sheet: {exc}; install interop/python/requirements.txt\n")
    sys.exit(2)

DATA = "Danh sách"
LISTS = "Danh mục"


def lists(book) -> dict[str, list[str]]:
    """The template's drop-down lists, by the header of the column they serve."""
    sheet = book[LISTS]
    out: dict[str, list[str]] = {}
    for column in sheet.iter_cols(values_only=True):
        title, *values = column
        if title:
            out[str(title)] = [str(v) for v in values if v not in (None, "")]
    return out


def personal_id(birth: dt.date, female: bool, serial: int) -> str:
    """Province 011, the century and gender digit, the year's last two digits, a serial."""
    digit = (birth.year - 1900) // 100 * 2 + (1 if female else 0)
    return f"011{digit}{birth.year % 100:02d}{serial:06d}"


def fill(args: argparse.Namespace) -> int:
    book = openpyxl.load_workbook(args.template)
    options = lists(book)
    sheet = book[DATA]
    headers = [c.value for c in sheet[1]]
    where = {h: i + 1 for i, h in enumerate(headers) if h}
    missing = [h for h in ("Họ và tên", "Ngày sinh", "Đơn vị", "Số định danh cá nhân") if h not in where]
    if missing:
        print(f"FAIL the template lacks the columns {missing}: {headers}")
        return 1
    units = [u for u in options.get("Đơn vị", []) if u.startswith("Ủy ban nhân dân")][:3]
    if not units:
        print(f"FAIL the template lists no people's committee among its units: {options.get('Đơn vị')}")
        return 1
    ratings = [h for h in headers if h and str(h).startswith("Xếp loại ")]
    first_row = 3  # below the header and the notes row
    for i in range(args.rows):
        row = first_row + i
        female = i % 2 == 1
        birth = dt.date(1970 + i % 25, 1 + i % 12, 1 + i % 27)
        employed = dt.date(birth.year + 24, 9, 1)

        def put(header: str, value) -> None:
            if header in where:
                sheet.cell(row=row, column=where[header], value=value)

        put("Họ và tên", f"Người Thử Bảng Tính {i + 1}")
        if args.bad_date_row == i + 1:
            put("Ngày sinh", "31/02/1980")
        else:
            put("Ngày sinh", birth if i % 2 == 0 else birth.strftime("%d/%m/%Y"))
        put("Giới tính", "Nữ" if female else "Nam")
        put("Dân tộc", "Thái" if i % 3 == 0 else "Kinh")
        put("Số định danh cá nhân", personal_id(birth, female, 900_000 + i))
        put("Đối tượng", options["Đối tượng"][1] if "Đối tượng" in options else "Công chức")
        put("Đơn vị", units[i % len(units)])
        put("Chức vụ", "Chuyên viên")
        put("Ngày vào làm", employed if i % 2 == 1 else employed.strftime("%d/%m/%Y"))
        for scale in ("Trình độ chuyên môn", "Lý luận chính trị"):
            if options.get(scale):
                put(scale, options[scale][i % min(3, len(options[scale]))])
        for header in ratings:
            put(header, options[header][i % len(options[header])] if options.get(header) else "HTTNV")
    book.save(args.out)
    print(f"ok   wrote {args.rows} people into {args.out} (units: {', '.join(units)})")
    return 0


def check_errors(args: argparse.Namespace) -> int:
    book = openpyxl.load_workbook(args.workbook)
    sheet = book.worksheets[0]
    header_row = None
    error_column = None
    for row in sheet.iter_rows(min_row=1, max_row=30):
        for cell in row:
            if cell.value == "Lỗi":
                header_row, error_column = cell.row, cell.column
        if header_row:
            break
    if not header_row:
        print("FAIL the error workbook has no column \"Lỗi\"")
        return 1
    flagged = {
        r: sheet.cell(row=r, column=error_column).value
        for r in range(header_row + 1, sheet.max_row + 1)
        if sheet.cell(row=r, column=error_column).value
    }
    if list(flagged) != [args.row]:
        print(f"FAIL the error column flags rows {sorted(flagged)}, expected only row {args.row}")
        return 1
    if args.column not in str(flagged[args.row]):
        print(f"FAIL row {args.row}'s error does not name the column {args.column!r}: {flagged[args.row]!r}")
        return 1
    print(f"ok   the error workbook flags row {args.row}: {flagged[args.row]}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    f = commands.add_parser("fill")
    f.add_argument("--template", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--rows", type=int, default=25)
    f.add_argument("--bad-date-row", type=int, default=0)
    c = commands.add_parser("check-errors")
    c.add_argument("--workbook", required=True)
    c.add_argument("--row", type=int, required=True)
    c.add_argument("--column", required=True)
    args = parser.parse_args()
    return fill(args) if args.command == "fill" else check_errors(args)


if __name__ == "__main__":
    sys.exit(main())
