#!/usr/bin/env python3
"""Interop check: a generated Python client moves a cadre, keeps a succession pool,
counts staff against quota and reads a workforce profile.

    python interop/python/check_planning.py --target 127.0.0.1:50051 \
        --secret SECRET --gen-dir GEN

Against a server with `--demo` and `--jwt-hs256-secret SECRET`: it creates units in
Thành phố Lạng Sơn (178) and Huyện Chi Lăng (187), people placed in them, rotates
one to Chi Lăng for 2023 and back, adds both to a succession pool, sets a quota and
reads the headcount and the workforce profile. Exit status: 0 when every check
passed, 1 when one failed, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
import warnings

try:
    import grpc
    import jwt
except ImportError as exc:  # pragma: no cover - setup error
    sys.stderr.write(f"check_planning: {exc}; install interop/python/requirements.txt\n")
    sys.exit(2)

warnings.filterwarnings("ignore", message="The HMAC key is")


def metadata(secret: str, localities: list[str], roles: list[str]) -> list[tuple[str, str]]:
    now = int(time.time())
    claims = {"sub": "python-interop", "iat": now, "exp": now + 600, "localities": localities, "roles": roles}
    return [("authorization", f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--gen-dir", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.gen_dir)
    try:
        from hrplan.v1 import (
            common_pb2,
            person_pb2,
            person_service_pb2,
            person_service_pb2_grpc,
            report_pb2,
            report_service_pb2,
            report_service_pb2_grpc,
            rotation_pb2,
            rotation_service_pb2,
            rotation_service_pb2_grpc,
            staffing_pb2,
            staffing_service_pb2,
            staffing_service_pb2_grpc,
            succession_pb2,
            succession_service_pb2,
            succession_service_pb2_grpc,
            unit_pb2,
            unit_service_pb2,
            unit_service_pb2_grpc,
        )
    except ImportError as exc:
        sys.stderr.write(f"check_planning: generated code missing in {args.gen_dir}: {exc}\n")
        return 2

    channel = grpc.insecure_channel(args.target)
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
    except grpc.FutureTimeoutError:
        sys.stderr.write(f"check_planning: {args.target} is unreachable\n")
        return 2
    admin = metadata(args.secret, ["*"], ["admin"])
    failures: list[str] = []

    def check(description: str, condition: bool, detail: str = "") -> None:
        print(f"ok   {description}" if condition else f"FAIL {description} {detail}")
        if not condition:
            failures.append(description)

    def date(y: int, m: int, d: int):
        return common_pb2.Date(year=y, month=m, day=d)

    units = unit_service_pb2_grpc.UnitServiceStub(channel)

    def unit(locality: str, name: str) -> str:
        return units.CreateUnit(
            unit_service_pb2.CreateUnitRequest(
                unit=unit_pb2.Unit(
                    display_name=name,
                    locality=locality,
                    sector=unit_pb2.SECTOR_STATE_ADMINISTRATION,
                    kind=unit_pb2.UNIT_KIND_PEOPLES_COMMITTEE,
                    valid_from=date(2020, 1, 1),
                    valid_until=date(2025, 7, 1),
                )
            ),
            metadata=admin,
        ).unit.name

    city = unit("localities/178", "Ủy ban nhân dân thành phố Lạng Sơn (kiểm thử)")
    district = unit("localities/187", "Ủy ban nhân dân huyện Chi Lăng (kiểm thử)")
    people = person_service_pb2_grpc.PersonServiceStub(channel)

    def person(name: str) -> str:
        return people.CreatePerson(
            person_service_pb2.CreatePersonRequest(
                record=person_pb2.PersonRecord(
                    person=person_pb2.Person(
                        full_name=name,
                        birth_date=date(1984, 5, 6),
                        gender=person_pb2.GENDER_MALE,
                        ethnicity="Tày",
                        category=person_pb2.PERSON_CATEGORY_CIVIL_SERVANT,
                        employed_from=date(2008, 1, 1),
                    ),
                    placements=[
                        person_pb2.Placement(
                            unit=city, post_title="Phó Trưởng phòng Nội vụ", leader=True,
                            valid_from=date(2020, 1, 1), valid_until=date(2025, 7, 1),
                        )
                    ],
                )
            ),
            metadata=admin,
        ).person.name

    moved = person("Hoàng Văn Luân")
    stayed = person("Nông Văn Chuyển")

    rotations = rotation_service_pb2_grpc.RotationServiceStub(channel)
    rotation = rotations.CreateRotation(
        rotation_service_pb2.CreateRotationRequest(
            rotation=rotation_pb2.Rotation(
                person=moved,
                kind=rotation_pb2.ROTATION_KIND_ROTATION,
                source_unit=city,
                source_post="Phó Trưởng phòng Nội vụ",
                destination_unit=district,
                destination_post="Phó Chủ tịch Ủy ban nhân dân huyện",
                destination_leader=True,
                start_date=date(2023, 1, 1),
                planned_end_date=date(2024, 1, 1),
                decision=rotation_pb2.RotationDecision(
                    number="215-QĐ/TU", decided_on=date(2022, 12, 15), issuing_body="Ban Thường vụ Tỉnh ủy Lạng Sơn"
                ),
            ),
            request_id=str(uuid.uuid4()),
        ),
        metadata=admin,
    ).rotation
    check("a city-to-district rotation is lateral", rotation.direction == rotation_pb2.ROTATION_DIRECTION_LATERAL, str(rotation.direction))
    rotation = rotations.StartRotation(rotation_service_pb2.StartRotationRequest(name=rotation.name), metadata=admin).rotation
    check("StartRotation makes it active", rotation.status == rotation_pb2.ROTATION_STATUS_ACTIVE)

    def placed(as_of) -> str:
        return people.GetPerson(person_service_pb2.GetPersonRequest(name=moved, as_of=as_of), metadata=admin).person.placement.locality

    check("during the rotation the person counts at the destination", placed(date(2023, 6, 1)) == "localities/187", placed(date(2023, 6, 1)))
    rotation = rotations.CompleteRotation(
        rotation_service_pb2.CompleteRotationRequest(
            name=rotation.name, actual_end_date=date(2024, 1, 1), outcome=rotation_pb2.RotationOutcome(promoted=True)
        ),
        metadata=admin,
    ).rotation
    check("CompleteRotation completes it", rotation.status == rotation_pb2.ROTATION_STATUS_COMPLETED)
    check("after the return the person counts at the source", placed(date(2024, 6, 1)) == "localities/178", placed(date(2024, 6, 1)))

    pools = succession_service_pb2_grpc.SuccessionPoolServiceStub(channel)
    pool = pools.CreateSuccessionPool(
        succession_service_pb2.CreateSuccessionPoolRequest(
            succession_pool=succession_pb2.SuccessionPool(
                term_start_year=2020, term_end_year=2025, unit=city, post_title="Trưởng phòng Nội vụ",
                leader_post=True, min_candidates=3, max_candidates=4,
            )
        ),
        metadata=admin,
    ).succession_pool
    for candidate in (moved, stayed):
        pool = pools.AddCandidate(
            succession_service_pb2.AddCandidateRequest(
                succession_pool=pool.name,
                candidate=succession_pb2.Candidate(person=candidate, added_on=date(2022, 3, 1), added_reason="Quy hoạch nhiệm kỳ"),
            ),
            metadata=admin,
        ).succession_pool
    pool = pools.GetSuccessionPool(
        succession_service_pb2.GetSuccessionPoolRequest(name=pool.name, as_of=date(2024, 6, 1)), metadata=admin
    ).succession_pool
    check(
        "a pool of 2 with a minimum of 3 is below its minimum",
        pool.candidate_count == 2 and pool.bounds == succession_pb2.POOL_BOUNDS_BELOW_MINIMUM,
        f"{pool.candidate_count} {pool.bounds}",
    )

    staffing = staffing_service_pb2_grpc.StaffingServiceStub(channel)
    staffing.CreateStaffingQuota(
        staffing_service_pb2.CreateStaffingQuotaRequest(
            staffing_quota=staffing_pb2.StaffingQuota(
                unit=city, year=2024, category=person_pb2.PERSON_CATEGORY_CIVIL_SERVANT, quota=4
            )
        ),
        metadata=admin,
    )
    headcount = staffing.GetHeadcount(
        staffing_service_pb2.GetHeadcountRequest(unit=city, as_of=date(2024, 6, 1)), metadata=admin
    )
    check(
        "2 of 4 civil servants: 50 % of quota",
        headcount.total.headcount == 2 and headcount.total.quota == 4 and headcount.total.percent_of_quota == 50.0,
        str(headcount.total),
    )

    reader = metadata(args.secret, ["20"], ["personal_data_reader"])
    profile = report_service_pb2_grpc.ReportServiceStub(channel).GetWorkforceProfile(
        report_service_pb2.GetWorkforceProfileRequest(
            scope=report_pb2.ReportScope(locality="localities/178", as_of=date(2024, 6, 1), leaders_only=True)
        ),
        metadata=reader,
    )
    check("the workforce profile counts the city's leaders", profile.total.headcount >= 2, str(profile.total.headcount))

    print(f"check_planning: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
