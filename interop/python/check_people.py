#!/usr/bin/env python3
"""Interop check: a generated Python client creates a person with a placement and a
qualification, reads them back, imports people through the client stream, and checks
the personal-data role and the locality scope.

    python interop/python/check_people.py --target 127.0.0.1:50051 \
        --secret SECRET --gen-dir GEN

GEN holds the code generated from proto/ by grpc_tools.protoc (never committed); the
server must run with `--jwt-hs256-secret SECRET` and the demo data (`--demo`), whose
locality 06463 (Xã Chi Lăng, Lạng Sơn) receives the test unit. Exit status: 0 when
every check passed, 1 when one failed, 2 on a setup error.
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
    sys.stderr.write(f"check_people: {exc}; install interop/python/requirements.txt\n")
    sys.exit(2)


# A short test secret is the caller's business.
warnings.filterwarnings("ignore", message="The HMAC key is")


def token(secret: str, localities: list[str], roles: list[str]) -> str:
    now = int(time.time())
    claims = {"sub": "python-interop", "iat": now, "exp": now + 600, "localities": localities, "roles": roles}
    return jwt.encode(claims, secret, algorithm="HS256")


def metadata(secret: str, localities: list[str], roles: list[str]) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token(secret, localities, roles)}")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--gen-dir", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.gen_dir)
    try:
        from hrplan.v1 import common_pb2, person_pb2, person_service_pb2, person_service_pb2_grpc
        from hrplan.v1 import unit_pb2, unit_service_pb2, unit_service_pb2_grpc
    except ImportError as exc:
        sys.stderr.write(f"check_people: generated code missing in {args.gen_dir}: {exc}\n")
        return 2

    channel = grpc.insecure_channel(args.target)
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
    except grpc.FutureTimeoutError:
        sys.stderr.write(f"check_people: {args.target} is unreachable\n")
        return 2
    units = unit_service_pb2_grpc.UnitServiceStub(channel)
    people = person_service_pb2_grpc.PersonServiceStub(channel)
    admin = metadata(args.secret, ["*"], ["admin"])
    failures: list[str] = []

    def check(description: str, condition: bool, detail: str = "") -> None:
        if condition:
            print(f"ok   {description}")
        else:
            print(f"FAIL {description} {detail}")
            failures.append(description)

    def date(y: int, m: int, d: int):
        return common_pb2.Date(year=y, month=m, day=d)

    unit = units.CreateUnit(
        unit_service_pb2.CreateUnitRequest(
            unit=unit_pb2.Unit(
                display_name="Ủy ban nhân dân xã Chi Lăng (kiểm thử Python)",
                locality="localities/06463",
                sector=unit_pb2.SECTOR_STATE_ADMINISTRATION,
                kind=unit_pb2.UNIT_KIND_PEOPLES_COMMITTEE,
                valid_from=date(2020, 1, 1),
            ),
            request_id=str(uuid.uuid4()),
        ),
        metadata=admin,
    ).unit
    check("CreateUnit returns a unit name", unit.name.startswith("units/"), unit.name)

    record = person_pb2.PersonRecord(
        person=person_pb2.Person(
            full_name="Nông Thị Lan",
            birth_date=date(1988, 4, 12),
            gender=person_pb2.GENDER_FEMALE,
            ethnicity="Tày",
            category=person_pb2.PERSON_CATEGORY_CIVIL_SERVANT,
            employed_from=date(2012, 9, 1),
        ),
        placements=[
            person_pb2.Placement(
                unit=unit.name,
                post_title="Công chức Văn phòng - Thống kê",
                valid_from=date(2020, 1, 1),
            )
        ],
        qualifications=[
            person_pb2.Qualification(
                level="scales/professional/levels/university",
                field_of_study="Quản lý nhà nước",
                awarded_on=date(2011, 6, 30),
            )
        ],
    )
    request_id = str(uuid.uuid4())
    created = people.CreatePerson(
        person_service_pb2.CreatePersonRequest(record=record, request_id=request_id), metadata=admin
    ).person
    check("CreatePerson returns the person", created.full_name == "Nông Thị Lan" and created.name.startswith("people/"), str(created))
    check("the person is an ethnic minority", created.ethnic_minority)
    again = people.CreatePerson(
        person_service_pb2.CreatePersonRequest(record=record, request_id=request_id), metadata=admin
    ).person
    check("a retried CreatePerson returns the same person", again.name == created.name, again.name)

    reader = metadata(args.secret, ["20"], ["personal_data_reader"])
    got = people.GetPerson(person_service_pb2.GetPersonRequest(name=created.name), metadata=reader).person
    check("a personal-data reader of Lạng Sơn reads the person", got.placement.locality == "localities/06463", str(got.placement))
    placements = people.ListPlacements(person_service_pb2.ListPlacementsRequest(parent=created.name), metadata=reader).placements
    check("the placement is listed", [p.unit for p in placements] == [unit.name], str(placements))
    qualifications = people.ListQualifications(
        person_service_pb2.ListQualificationsRequest(parent=created.name), metadata=reader
    ).qualifications
    check(
        "the qualification is listed",
        [q.level for q in qualifications] == ["scales/professional/levels/university"],
        str(qualifications),
    )

    def code_of(call) -> grpc.StatusCode | None:
        try:
            call()
        except grpc.RpcError as error:
            return error.code()
        return None

    aggregate = metadata(args.secret, ["20"], ["aggregate_reader"])
    check(
        "reading a person without the personal-data role is PERMISSION_DENIED",
        code_of(lambda: people.GetPerson(person_service_pb2.GetPersonRequest(name=created.name), metadata=aggregate))
        == grpc.StatusCode.PERMISSION_DENIED,
    )
    other = metadata(args.secret, ["11"], ["personal_data_reader"])
    check(
        "a reader of another province is PERMISSION_DENIED",
        code_of(lambda: people.GetPerson(person_service_pb2.GetPersonRequest(name=created.name), metadata=other))
        == grpc.StatusCode.PERMISSION_DENIED,
    )
    bad = person_pb2.PersonRecord()
    bad.CopyFrom(record)
    bad.person.birth_date.CopyFrom(date(2040, 1, 1))
    error = None
    try:
        people.CreatePerson(person_service_pb2.CreatePersonRequest(record=bad), metadata=admin)
    except grpc.RpcError as rpc_error:
        error = rpc_error
    check(
        "a person born in the future is INVALID_ARGUMENT naming the field",
        error is not None
        and error.code() == grpc.StatusCode.INVALID_ARGUMENT
        and "record.person.birth_date" in (error.details() or ""),
        str(error),
    )

    def stream(records):
        for r in records:
            yield person_service_pb2.ImportPeopleRequest(record=r)

    batch = []
    for i in range(20):
        r = person_pb2.PersonRecord()
        r.CopyFrom(record)
        r.person.full_name = f"Hoàng Văn Nhập {i}"
        batch.append(r)
    imported = people.ImportPeople(stream(batch), metadata=admin)
    check("ImportPeople writes every record", imported.imported_count == 20 and len(imported.people) == 20, str(imported))
    batch[7].qualifications[0].level = "scales/professional/levels/wizard"
    rejected = people.ImportPeople(stream(batch), metadata=admin)
    check(
        "an import with one bad record writes nothing and names it",
        rejected.imported_count == 0
        and [r.index for r in rejected.rejected] == [7]
        and rejected.rejected[0].violations[0].field == "qualifications[0].level",
        str(rejected),
    )

    print(f"check_people: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
