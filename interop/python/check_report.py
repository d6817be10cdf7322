#!/usr/bin/env python3
"""Interop check: a generated Python client reproduces the public worked example of
DOMAIN.md end to end and checks the suppression of small cells.

    python interop/python/check_report.py --target 127.0.0.1:50051 \
        --secret SECRET --gen-dir GEN

"A provincial city has 244 leaders and managers among its 2,886 cadres, civil
servants, public employees and workers. By professional qualification: 1 doctorate,
41 master's, 198 university, 3 college, 1 intermediate. By political theory: 85
advanced, 157 intermediate."

Against a server with `--demo` and `--jwt-hs256-secret SECRET`, the script loads the
example with the data of the Rust test tests/api/reports.rs (2,886 civil servants of
one unit, placed 2020-01-01 to 2025-07-01, the first 244 leaders with the
professional levels above and political theory 85 advanced, 157 intermediate and 2
without; everybody else a university degree and elementary political theory) through
the ImportPeople client stream, reads the workforce profile on 2024-01-01 and checks
every figure: the headcount, the leaders (8.45 %), the professional and political
distributions among leaders, and "university or higher" (240, 98.36 %). Then it
checks that an aggregate reader sees the 1-person doctorate cell suppressed, with the
master's cell as its partner (their cumulative counts would give it away), while a
personal-data reader sees them.

The Rust test uses Thành phố Lạng Sơn (178) of a database holding only the demo tree,
but `serve --demo` also loads a demo workforce into every demo locality (and the
other interop checks add people to 178), so the script creates its own provincial
city under Tỉnh Lạng Sơn (20) through LocalityService: code `--city`, default 979,
which must not exist yet. Point it at a throwaway database.

Exit status: 0 when every check passed, 1 when one failed, 2 on a setup error
(server unreachable, generated code missing, the test city already exists).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
import warnings
from typing import Any, Callable

try:
    import grpc
    import jwt
except ImportError as exc:  # pragma: no cover - setup error
    sys.stderr.write(f"check_report: {exc}; install interop/python/requirements.txt\n")
    sys.exit(2)

# A short test secret is the caller's business.
warnings.filterwarnings("ignore", message="The HMAC key is")

PROVINCE = "20"  # Tỉnh Lạng Sơn, in the demo tree
AS_OF = (2024, 1, 1)
HEADCOUNT = 2886
LEADERS = 244
# Among leaders, in the order the Rust test hands them out.
PROFESSIONAL = [("doctorate", 1), ("master", 41), ("university", 198), ("college", 3), ("intermediate", 1)]
POLITICAL = [("advanced", 85), ("intermediate", 157), ("", 2)]
# The cells of the leaders' distributions, highest rank first: levels of equal rank
# share a cell (doctorate with medical specialist II, master with specialist I,
# advanced with bachelor); `none` counts people with no qualification in the scale.
PROFESSIONAL_CELLS = [
    ("scales/professional/levels/doctorate", 1),
    ("scales/professional/levels/master", 41),
    ("scales/professional/levels/university", 198),
    ("scales/professional/levels/college", 3),
    ("scales/professional/levels/intermediate", 1),
    ("scales/professional/levels/elementary", 0),
    ("scales/professional/levels/untrained", 0),
    ("none", 0),
]
POLITICAL_CELLS = [
    ("scales/political_theory/levels/advanced", 85),
    ("scales/political_theory/levels/intermediate", 157),
    ("scales/political_theory/levels/elementary", 0),
    ("scales/political_theory/levels/none", 0),
    ("none", 2),
]
LEADERS_PERCENT = 8.45  # 244 / 2,886
UNIVERSITY_OR_HIGHER = (240, 98.36)  # of the 244 leaders


class SetupError(Exception):
    """The server or the environment is not what the check needs."""


def metadata(secret: str, localities: list[str], roles: list[str]) -> list[tuple[str, str]]:
    now = int(time.time())
    claims = {"sub": "python-interop", "iat": now, "exp": now + 900, "localities": localities, "roles": roles}
    return [("authorization", f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, help="host:port, e.g. 127.0.0.1:50051")
    parser.add_argument(
        "--secret",
        default=os.environ.get("HRPLAN_JWT_HS256_SECRET"),
        help="the server's HS256 secret (default: $HRPLAN_JWT_HS256_SECRET)",
    )
    parser.add_argument("--gen-dir", required=True, help="directory holding the generated hrplan/v1/*_pb2*.py")
    parser.add_argument("--city", default="979", help="code of the test provincial city (3 digits, must not exist)")
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline of each unary RPC, seconds")
    parser.add_argument("--import-timeout", type=float, default=300.0, help="deadline of the import, seconds")
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret (or HRPLAN_JWT_HS256_SECRET) is required")

    sys.path.insert(0, os.path.abspath(args.gen_dir))
    try:
        from hrplan.v1 import (
            common_pb2,
            locality_pb2,
            locality_service_pb2,
            locality_service_pb2_grpc,
            person_pb2,
            person_service_pb2,
            person_service_pb2_grpc,
            report_pb2,
            report_service_pb2,
            report_service_pb2_grpc,
            scale_service_pb2,
            scale_service_pb2_grpc,
            unit_pb2,
            unit_service_pb2,
            unit_service_pb2_grpc,
        )
    except ImportError as exc:
        sys.stderr.write(f"check_report: generated code missing in {args.gen_dir}: {exc}\n")
        return 2

    channel = grpc.insecure_channel(args.target)
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
    except grpc.FutureTimeoutError:
        sys.stderr.write(f"check_report: {args.target} is unreachable\n")
        return 2

    T = args.timeout
    admin = metadata(args.secret, ["*"], ["admin"])
    personal = metadata(args.secret, [PROVINCE], ["personal_data_reader"])
    aggregate = metadata(args.secret, [PROVINCE], ["aggregate_reader"])
    city = f"localities/{args.city}"
    failures: list[str] = []

    def check(description: str, condition: bool, detail: str = "") -> bool:
        if condition:
            print(f"ok   {description}", flush=True)
        else:
            print(f"FAIL {description}" + (f"\n     {detail}" if detail else ""), flush=True)
            failures.append(description)
        return condition

    def rpc(description: str, call: Callable[[], Any]) -> Any:
        """Runs a call a later check depends on; an RPC error fails the check."""
        try:
            return call()
        except grpc.RpcError as error:
            check(description, False, f"{error.code().name}: {error.details()}")
            return None

    def date(y: int, m: int, d: int):
        return common_pb2.Date(year=y, month=m, day=d)

    def pct(value: float) -> str:
        return f"{value:.2f} %"

    try:
        # --- the level codes of the example exist in the scales, as data
        scales = scale_service_pb2_grpc.ScaleServiceStub(channel)
        for scale, wanted in (
            ("scales/professional", [level for level, _ in PROFESSIONAL]),
            ("scales/political_theory", [level for level, _ in POLITICAL if level] + ["elementary"]),
        ):
            got = rpc(
                f"ScaleService.GetScale {scale}",
                lambda: scales.GetScale(scale_service_pb2.GetScaleRequest(name=scale), metadata=admin, timeout=T),
            )
            if got is None:
                raise SetupError(f"cannot read {scale}")
            levels = {level.name for level in got.scale.levels}
            missing = [f"{scale}/levels/{code}" for code in wanted if f"{scale}/levels/{code}" not in levels]
            check(f"ScaleService.GetScale {scale} has the example's levels", not missing, f"missing: {missing}")

        # --- a provincial city of its own under Lạng Sơn, and a unit in it
        localities = locality_service_pb2_grpc.LocalityServiceStub(channel)
        try:
            created = localities.CreateLocality(
                locality_service_pb2.CreateLocalityRequest(
                    locality_id=args.city,
                    locality=locality_pb2.Locality(
                        tier=locality_pb2.LOCALITY_TIER_DISTRICT,
                        versions=[
                            locality_pb2.LocalityVersion(
                                valid_from=date(2020, 1, 1),
                                valid_until=date(2025, 7, 1),
                                display_name="Thành phố Kiểm Thử Báo Cáo",
                                kind=locality_pb2.LOCALITY_KIND_PROVINCIAL_CITY,
                                parent=f"localities/{PROVINCE}",
                            )
                        ],
                    ),
                    request_id=str(uuid.uuid4()),
                ),
                metadata=admin,
                timeout=T,
            ).locality
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                raise SetupError(
                    f"{city} already exists: run against a fresh database or pass another --city"
                ) from None
            raise SetupError(f"CreateLocality {city}: {error.code().name}: {error.details()}") from None
        check(f"CreateLocality {city} under localities/{PROVINCE}", created.name == city, created.name)

        unit = unit_service_pb2_grpc.UnitServiceStub(channel).CreateUnit(
            unit_service_pb2.CreateUnitRequest(
                unit=unit_pb2.Unit(
                    display_name="Ủy ban nhân dân thành phố Kiểm Thử Báo Cáo",
                    locality=city,
                    sector=unit_pb2.SECTOR_STATE_ADMINISTRATION,
                    kind=unit_pb2.UNIT_KIND_PEOPLES_COMMITTEE,
                    valid_from=date(2020, 1, 1),
                    valid_until=date(2025, 7, 1),
                ),
                request_id=str(uuid.uuid4()),
            ),
            metadata=admin,
            timeout=T,
        ).unit.name
        check("CreateUnit returns a unit name", unit.startswith("units/"), unit)

        # --- 2,886 person-level records through the client stream, as tests/api/reports.rs
        def records():
            leader_professional = iter([level for level, n in PROFESSIONAL for _ in range(n)])
            leader_political = iter([level for level, n in POLITICAL for _ in range(n)])
            for i in range(HEADCOUNT):
                leader = i < LEADERS
                professional = next(leader_professional, "university") if leader else "university"
                qualifications = [
                    person_pb2.Qualification(
                        level=f"scales/professional/levels/{professional}", awarded_on=date(2005, 6, 30)
                    )
                ]
                political = next(leader_political, "") if leader else "elementary"
                if political:
                    qualifications.append(
                        person_pb2.Qualification(
                            level=f"scales/political_theory/levels/{political}", awarded_on=date(2012, 6, 30)
                        )
                    )
                yield person_service_pb2.ImportPeopleRequest(
                    record=person_pb2.PersonRecord(
                        person=person_pb2.Person(
                            full_name=f"Cán bộ {i}",
                            birth_date=date(1965 + i % 20, 1, 1),
                            gender=person_pb2.GENDER_FEMALE if i % 3 == 0 else person_pb2.GENDER_MALE,
                            ethnicity="Tày" if i % 4 == 0 else "Kinh",
                            category=person_pb2.PERSON_CATEGORY_CIVIL_SERVANT,
                            employed_from=date(2006, 1, 1),
                        ),
                        placements=[
                            person_pb2.Placement(
                                unit=unit,
                                post_title="Trưởng phòng" if leader else "Chuyên viên",
                                leader=leader,
                                valid_from=date(2020, 1, 1),
                                valid_until=date(2025, 7, 1),
                            )
                        ],
                        qualifications=qualifications,
                    )
                )

        started = time.monotonic()
        imported = rpc(
            "PersonService.ImportPeople",
            lambda: person_service_pb2_grpc.PersonServiceStub(channel).ImportPeople(
                records(), metadata=admin, timeout=args.import_timeout
            ),
        )
        if imported is None:
            raise SetupError("the import failed; nothing to report on")
        seconds = time.monotonic() - started
        if not check(
            f"ImportPeople writes all {HEADCOUNT:,} records in one stream ({seconds:.1f} s)",
            imported.received_count == HEADCOUNT
            and imported.imported_count == HEADCOUNT
            and len(imported.people) == HEADCOUNT
            and not imported.rejected,
            f"received {imported.received_count}, imported {imported.imported_count}, "
            f"first rejected: {imported.rejected[0] if imported.rejected else None}",
        ):
            raise SetupError("the import was not complete; nothing to report on")

        # --- the worked example, as a personal-data reader of Lạng Sơn
        reports = report_service_pb2_grpc.ReportServiceStub(channel)

        def profile(md, *, leaders_only: bool, locality: str = city, breakdown: bool = False):
            return reports.GetWorkforceProfile(
                report_service_pb2.GetWorkforceProfileRequest(
                    scope=report_pb2.ReportScope(
                        locality=locality,
                        as_of=date(*AS_OF),
                        leaders_only=leaders_only,
                        breakdown_by_child=breakdown,
                    )
                ),
                metadata=md,
                timeout=T,
            )

        def cells(total, dimension: str) -> list:
            for distribution in total.distributions:
                if distribution.dimension == dimension:
                    return list(distribution.cells)
            return []

        def shape(got: list) -> list[tuple[str, int]]:
            return [(c.key, c.count) for c in got]

        everyone = rpc("GetWorkforceProfile of everyone", lambda: profile(personal, leaders_only=False))
        if everyone is not None:
            total = everyone.total
            check(f"headcount {HEADCOUNT:,}", total.headcount == HEADCOUNT, f"got {total.headcount}")
            leaders = total.leaders
            check(
                f"leaders {LEADERS} of {HEADCOUNT:,} = {pct(LEADERS_PERCENT)}",
                (leaders.count, leaders.denominator) == (LEADERS, HEADCOUNT)
                and round(leaders.percent, 2) == LEADERS_PERCENT,
                f"got {leaders.count} of {leaders.denominator} = {leaders.percent!r} %",
            )

        managers = rpc("GetWorkforceProfile with leaders_only", lambda: profile(personal, leaders_only=True))
        if managers is not None:
            total = managers.total
            check(f"leaders_only headcount {LEADERS}", total.headcount == LEADERS, f"got {total.headcount}")

            professional = cells(total, "scales/professional")
            check(
                "professional among leaders: 1 doctorate, 41 master, 198 university, 3 college, 1 intermediate",
                shape(professional) == PROFESSIONAL_CELLS,
                f"got {shape(professional)}",
            )
            check(
                f"every professional cell is of the {LEADERS} leaders, with its percentage",
                all(
                    c.denominator == LEADERS and round(c.percent, 2) == round(100 * n / LEADERS, 2)
                    for c, (_, n) in zip(professional, PROFESSIONAL_CELLS)
                )
                and len(professional) == len(PROFESSIONAL_CELLS),
                f"got {[(c.denominator, round(c.percent, 2)) for c in professional]}",
            )
            university = next((c for c in professional if c.key == "scales/professional/levels/university"), None)
            count, percent = UNIVERSITY_OR_HIGHER
            check(
                f"university or higher: {count} = {pct(percent)} of the leaders",
                university is not None
                and university.cumulative_count == count
                and round(university.cumulative_percent, 2) == percent,
                f"got {university.cumulative_count} = {university.cumulative_percent!r} %" if university else "no cell",
            )

            political = cells(total, "scales/political_theory")
            check(
                "political theory among leaders: 85 advanced, 157 intermediate (2 without)",
                shape(political) == POLITICAL_CELLS,
                f"got {shape(political)}",
            )
            intermediate = next(
                (c for c in political if c.key == "scales/political_theory/levels/intermediate"), None
            )
            check(
                "political theory intermediate or higher: 242 = 99.18 %",
                intermediate is not None
                and intermediate.cumulative_count == 242
                and round(intermediate.cumulative_percent, 2) == 99.18,
                f"got {intermediate.cumulative_count} = {intermediate.cumulative_percent!r} %"
                if intermediate
                else "no cell",
            )

        province = rpc(
            f"GetWorkforceProfile of localities/{PROVINCE} by child",
            lambda: profile(personal, leaders_only=True, locality=f"localities/{PROVINCE}", breakdown=True),
        )
        if province is not None:
            child = next((c for c in province.children if c.locality == city), None)
            check(
                f"the province's breakdown by child shows {city} with its {LEADERS} leaders",
                child is not None and child.headcount == LEADERS,
                f"children: {[(c.locality, c.headcount) for c in province.children]}",
            )

        # --- small cells: hidden from an aggregate reader only
        hidden = rpc("GetWorkforceProfile as an aggregate reader", lambda: profile(aggregate, leaders_only=True))
        if managers is not None and hidden is not None:
            exact_cells = cells(managers.total, "scales/professional")
            hidden_cells = cells(hidden.total, "scales/professional")
            by_key = lambda got: {c.key: c for c in got}  # noqa: E731
            exact, masked = by_key(exact_cells), by_key(hidden_cells)
            doctorate = "scales/professional/levels/doctorate"
            e, h = exact.get(doctorate), masked.get(doctorate)
            check(
                "a personal-data reader sees the 1 doctorate",
                e is not None and (e.count, e.suppressed) == (1, False),
                f"got {(e.count, e.suppressed) if e else None}",
            )
            check(
                "an aggregate reader sees the doctorate cell suppressed with count 0",
                h is not None and (h.count, h.suppressed, h.percent) == (0, True, 0.0),
                f"got {(h.count, h.suppressed, h.percent) if h else None}",
            )
            m = masked.get("scales/professional/levels/master")
            check(
                "an aggregate reader does not see the 41 master's either (42 or higher minus 41 is the doctorate)",
                m is not None and (m.count, m.cumulative_count, m.suppressed) == (0, 0, True),
                f"got {(m.count, m.cumulative_count, m.suppressed) if m else None}",
            )
            v = masked.get("scales/professional/levels/university")
            check(
                "an aggregate reader still sees the 198 university degrees",
                v is not None and (v.count, v.suppressed) == (198, False),
                f"got {(v.count, v.suppressed) if v else None}",
            )
            u = masked.get("scales/professional/levels/untrained")
            check(
                "an empty cell stays visible to an aggregate reader",
                u is not None and (u.count, u.suppressed) == (0, False),
                f"got {(u.count, u.suppressed) if u else None}",
            )
            check(
                f"an aggregate reader sees the headcount {LEADERS}",
                hidden.total.headcount == LEADERS,
                f"got {hidden.total.headcount}",
            )
    except SetupError as error:
        sys.stderr.write(f"check_report: {error}\n")
        # A failed check that stops the run is a failure; anything else is setup.
        print(f"check_report: stopped ({error}); {len(failures)} failed")
        return 1 if failures else 2

    print(f"check_report: {len(failures)} failed")
    if failures:
        sys.stderr.write("check_report: FAILED: " + "; ".join(failures) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
