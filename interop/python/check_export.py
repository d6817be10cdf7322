#!/usr/bin/env python3
"""Interop check: a generated Python client downloads the workforce-profile workbook
over gRPC (ReportService.ExportReport, a server stream) and checks it with openpyxl
against the GetWorkforceProfile response.

    python interop/python/check_export.py --target 127.0.0.1:50051 \
        --secret SECRET --gen-dir GEN

Against a server with `--demo` and `--jwt-hs256-secret SECRET`, as a reader of the
province `--locality` (default 11, Điện Biên) on `--as-of` (default 2024-12-31)
broken down by child, the script checks that:

- the stream starts with the file's metadata (content type, the suggested name
  `hoso-nhan-luc-11-2024-12-31.xlsx`, size), then chunks of at most 64 KiB adding
  up to that size;
- the workbook has one sheet, frozen headers, a chart, and a row per child
  locality, the province's own units and the total, in the response's order;
- every figure of every row (headcount, leaders, every cell's count and percent,
  and "this level or higher" on the qualification scales) is a number equal to
  the response's, under the header of its dimension, cell and measure; counts are
  shown with a literal dot for thousands and percentages with a " %" suffix;
- for an aggregate reader, every cell the response suppresses is `*` in the
  workbook, never a number;
- the CSV export (UTF-8 with BOM, `;`, decimal comma) holds the same figures.

Exit status: 0 when every check passed, 1 when one failed, 2 on a setup error
(server unreachable, generated code or openpyxl missing).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
import warnings
from typing import Any, Callable

try:
    import grpc
    import jwt
    import openpyxl
except ImportError as exc:  # pragma: no cover - setup error
    sys.stderr.write(f"check_export: {exc}; install interop/python/requirements.txt\n")
    sys.exit(2)

# A short test secret is the caller's business.
warnings.filterwarnings("ignore", message="The HMAC key is")

CHUNK_BYTES = 64 * 1024
SHEET = "Hồ sơ nhân lực"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The workbook's headings of the dimensions that are not scales.
DIMENSION_LABELS = {"age_band": "Độ tuổi", "gender": "Giới tính", "ethnic_minority": "Dân tộc"}
MEASURES = {
    "Số người": lambda c: c.count,
    "Tỷ lệ (%)": lambda c: c.percent,
    "Từ mức này trở lên": lambda c: c.cumulative_count,
    "Tỷ lệ từ mức này trở lên (%)": lambda c: c.cumulative_percent,
}
MARKER = "*"
MISSING = object()


class SetupError(Exception):
    """The server or the environment is not what the check needs."""


def metadata(secret: str, localities: list[str], roles: list[str]) -> list[tuple[str, str]]:
    now = int(time.time())
    claims = {"sub": "python-interop", "iat": now, "exp": now + 900, "localities": localities, "roles": roles}
    return [("authorization", f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}")]


def expected(profile, path: list[str], labels: dict[str, str]):
    """The figure of `profile` under a column's header path, or MISSING."""
    def measure(cell, name):
        if cell.suppressed:
            return MARKER
        getter = MEASURES.get(name)
        return getter(cell) if getter else MISSING

    if path == ["Tổng số người"]:
        return profile.headcount
    if len(path) == 2 and path[0] == "Lãnh đạo, quản lý":
        return measure(profile.leaders, path[1])
    if len(path) == 3:
        dimension, label, name = path
        for distribution in profile.distributions:
            if labels.get(distribution.dimension) == dimension:
                for cell in distribution.cells:
                    if cell.label == label:
                        return measure(cell, name)
    return MISSING


def figures_of(profile) -> int:
    """Headcount, leaders (2), and per cell 2, or 4 on the ordered scales."""
    return 3 + sum(
        len(d.cells) * (4 if d.dimension.startswith("scales/") else 2) for d in profile.distributions
    )


def read_workbook(data: bytes):
    """(worksheet, column header paths, rows of (labels, values)) of the profile sheet."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    if workbook.sheetnames != [SHEET]:
        raise AssertionError(f"sheets {workbook.sheetnames}, expected [{SHEET!r}]")
    ws = workbook[SHEET]
    # A merged cell's value is in its top left cell.
    merged = {}
    for rng in ws.merged_cells.ranges:
        for row in range(rng.min_row, rng.max_row + 1):
            for col in range(rng.min_col, rng.max_col + 1):
                merged[(row, col)] = (rng.min_row, rng.min_col)

    def text(row: int, col: int) -> str:
        r, c = merged.get((row, col), (row, col))
        value = ws.cell(row=r, column=c).value
        return "" if value is None else str(value)

    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "Mã")
    labelled = lambda r: any(ws.cell(row=r, column=c).value not in (None, "") for c in (1, 2))  # noqa: E731
    first = next(r for r in range(top + 1, ws.max_row + 1) if labelled(r))
    paths = []
    for col in range(3, ws.max_column + 1):
        path = []
        for row in range(top, first):
            t = text(row, col)
            if t and (not path or path[-1] != t):
                path.append(t)
        if not path:
            break
        paths.append(path)
    rows = []
    row = first
    while row <= ws.max_row and labelled(row):
        labels = [text(row, 1), text(row, 2)]
        values = [ws.cell(row=row, column=col) for col in range(3, 3 + len(paths))]
        rows.append((labels, values))
        row += 1
    return ws, paths, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, help="host:port, e.g. 127.0.0.1:50051")
    parser.add_argument(
        "--secret",
        default=os.environ.get("HRPLAN_JWT_HS256_SECRET"),
        help="the server's HS256 secret (default: $HRPLAN_JWT_HS256_SECRET)",
    )
    parser.add_argument("--gen-dir", required=True, help="directory holding the generated hrplan/v1/*_pb2*.py")
    parser.add_argument("--locality", default="11", help="code of the province reported on (default 11)")
    parser.add_argument("--as-of", default="2024-12-31", help="the report's date, YYYY-MM-DD")
    parser.add_argument("--timeout", type=float, default=60.0, help="deadline of each RPC, seconds")
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret (or HRPLAN_JWT_HS256_SECRET) is required")

    sys.path.insert(0, os.path.abspath(args.gen_dir))
    try:
        from hrplan.v1 import (
            common_pb2,
            report_pb2,
            report_service_pb2,
            report_service_pb2_grpc,
            scale_service_pb2,
            scale_service_pb2_grpc,
        )
    except ImportError as exc:
        sys.stderr.write(f"check_export: generated code missing in {args.gen_dir}: {exc}\n")
        return 2

    channel = grpc.insecure_channel(args.target)
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
    except grpc.FutureTimeoutError:
        sys.stderr.write(f"check_export: {args.target} is unreachable\n")
        return 2

    T = args.timeout
    personal = metadata(args.secret, [args.locality], ["personal_data_reader"])
    aggregate = metadata(args.secret, [args.locality], ["aggregate_reader"])
    year, month, day = (int(p) for p in args.as_of.split("-"))
    failures: list[str] = []

    def check(description: str, condition: bool, detail: str = "") -> bool:
        if condition:
            print(f"ok   {description}", flush=True)
        else:
            print(f"FAIL {description}" + (f"\n     {detail}" if detail else ""), flush=True)
            failures.append(description)
        return condition

    def rpc(description: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except grpc.RpcError as error:
            check(description, False, f"{error.code().name}: {error.details()}")
            return None

    reports = report_service_pb2_grpc.ReportServiceStub(channel)
    request = report_service_pb2.GetWorkforceProfileRequest(
        scope=report_pb2.ReportScope(
            locality=f"localities/{args.locality}",
            as_of=common_pb2.Date(year=year, month=month, day=day),
            breakdown_by_child=True,
        )
    )

    def download(md, export_format):
        """(metadata, bytes, chunk sizes) of an export of the profile."""
        stream = reports.ExportReport(
            report_service_pb2.ExportReportRequest(workforce_profile=request, format=export_format),
            metadata=md,
            timeout=T,
        )
        file, chunks = None, []
        for message in stream:
            kind = message.WhichOneof("content")
            if kind == "file":
                if file is not None or chunks:
                    raise AssertionError("the metadata came after a chunk, or twice")
                file = message.file
            elif kind == "chunk":
                chunks.append(message.chunk)
        return file, b"".join(chunks), [len(c) for c in chunks]

    def compare(rows, paths, response, cell_value: Callable[[Any], Any], what: str) -> None:
        groups = list(response.children) + [response.own_units, response.total]
        check(
            f"{what}: a row per child locality, the own units and the total ({len(groups)} rows)",
            len(rows) == len(groups),
            f"rows: {[labels for labels, _ in rows]}",
        )
        check(
            f"{what}: a column per figure ({figures_of(response.total)})",
            len(paths) == figures_of(response.total),
            f"got {len(paths)} columns",
        )
        names_ok = all(labels[1] == g.display_name for (labels, _), g in zip(rows, response.children))
        names_ok = names_ok and rows[-1][0][1] == f"Tổng cộng: {response.total.display_name}"
        check(f"{what}: rows named after the children, then the total", names_ok, f"{[l for l, _ in rows]}")
        mismatches, compared = [], 0
        for (labels, values), group in zip(rows, groups):
            for path, value in zip(paths, values):
                want = expected(group, path, dimension_labels)
                got = cell_value(value)
                compared += 1
                if want is MISSING or got != want or (want != MARKER and not isinstance(got, (int, float))):
                    mismatches.append(f"{labels[1]} {path}: {got!r} != {want!r}")
        check(
            f"{what}: every figure equals the response's ({compared} compared)",
            not mismatches and compared > 0,
            "; ".join(mismatches[:5]),
        )

    try:
        scales = rpc(
            "ScaleService.ListScales",
            lambda: scale_service_pb2_grpc.ScaleServiceStub(channel).ListScales(
                scale_service_pb2.ListScalesRequest(), metadata=personal, timeout=T
            ),
        )
        if scales is None:
            raise SetupError("cannot read the scales")
        dimension_labels = {s.name: s.display_name for s in scales.scales} | DIMENSION_LABELS

        response = rpc("GetWorkforceProfile", lambda: reports.GetWorkforceProfile(request, metadata=personal, timeout=T))
        if response is None:
            raise SetupError("no profile to compare with")
        check(
            f"the profile of localities/{args.locality} on {args.as_of} has people and children",
            response.total.headcount > 0 and len(response.children) > 0,
            f"headcount {response.total.headcount}, {len(response.children)} children",
        )

        got = rpc(
            "ExportReport XLSX",
            lambda: download(personal, report_service_pb2.EXPORT_FORMAT_XLSX),
        )
        if got is None:
            raise SetupError("no workbook")
        file, data, chunks = got
        name = f"hoso-nhan-luc-{args.locality}-{args.as_of}.xlsx"
        check(
            f"the stream starts with the file's metadata: {name}, {file.size_bytes:,} bytes",
            file is not None and file.file_name == name and file.content_type == XLSX_TYPE,
            f"got {file}",
        )
        check(
            f"{len(chunks)} chunk(s) of at most 64 KiB add up to the announced size",
            len(data) == file.size_bytes and chunks and all(0 < n <= CHUNK_BYTES for n in chunks),
            f"{len(data)} bytes in chunks {chunks}",
        )
        ws, paths, rows = read_workbook(data)
        check("openpyxl reads one sheet with frozen headers", ws.freeze_panes is not None, f"{ws.freeze_panes}")
        check("the sheet has a chart", len(getattr(ws, "_charts", [])) >= 1)
        compare(rows, paths, response, lambda cell: cell.value, "XLSX")
        counts = [v for _, values in rows for path, v in zip(paths, values) if path[-1] in ("Số người", "Tổng số người")]
        percents = [v for _, values in rows for path, v in zip(paths, values) if path[-1].endswith("(%)")]
        check(
            "counts are shown with a literal dot for thousands (1.314)",
            counts and all("#\\.###" in c.number_format for c in counts if isinstance(c.value, (int, float))),
            f"{counts[0].number_format if counts else None}",
        )
        check(
            'percentages are shown with one decimal and " %" (109,5 %)',
            percents and all('0.0" %"' in c.number_format for c in percents if isinstance(c.value, (int, float))),
            f"{percents[0].number_format if percents else None}",
        )

        hidden = rpc(
            "GetWorkforceProfile as an aggregate reader",
            lambda: reports.GetWorkforceProfile(request, metadata=aggregate, timeout=T),
        )
        got = rpc("ExportReport XLSX as an aggregate reader", lambda: download(aggregate, report_service_pb2.EXPORT_FORMAT_XLSX))
        if hidden is not None and got is not None:
            _, paths, rows = read_workbook(got[1])
            compare(rows, paths, hidden, lambda cell: cell.value, "XLSX for an aggregate reader")
            suppressed = sum(
                1
                for p in list(hidden.children) + [hidden.own_units, hidden.total]
                for d in p.distributions
                for c in d.cells
                if c.suppressed
            )
            markers = sum(1 for _, values in rows for v in values if v.value == MARKER)
            check(
                f"the {suppressed} suppressed cell(s) are '*' in every column, never a number ({markers} markers)",
                markers >= 2 * suppressed,
                f"{markers} markers for {suppressed} suppressed cells",
            )

        got = rpc("ExportReport CSV", lambda: download(personal, report_service_pb2.EXPORT_FORMAT_CSV))
        if got is not None:
            file, data, _ = got
            check(
                "the CSV is UTF-8 with a byte order mark and a .csv name",
                data.startswith(b"\xef\xbb\xbf") and file.file_name == name.replace(".xlsx", ".csv"),
                f"{file.file_name}, starts {data[:3]!r}",
            )
            records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
            header, body = records[0], records[1:]
            paths = [h.split(" - ") for h in header[2:]]

            def number(field: str):
                if field in ("", MARKER):
                    return field
                return float(field.replace(",", "."))

            compare([(r[:2], r[2:]) for r in body], paths, response, number, "CSV")
    except SetupError as error:
        sys.stderr.write(f"check_export: {error}\n")
        print(f"check_export: stopped ({error}); {len(failures)} failed")
        return 1 if failures else 2
    except AssertionError as error:
        check("the export reads back", False, str(error))

    print(f"check_export: {len(failures)} failed")
    if failures:
        sys.stderr.write("check_export: FAILED: " + "; ".join(failures) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
