#!/usr/bin/env python3
"""Interop check: a generated Python client creates a person with a placement, a
qualification and a personal identification number, reads them back, looks the person
up by the number, imports people through the client stream and imports them again in
upsert mode, and checks the personal-data role and the locality scope.

    python interop/python/check_people.py --target 127.0.0.1:50051 \
        --secret SECRET --gen-dir GEN

GEN holds the code generated from proto/ by grpc_tools.protoc (never committed); the
server must run with `--jwt-hs256-secret SECRET` and the demo data (`--demo`), whose
locality 06463 (Xã Chi Lăng, Lạng Sơn) receives the test unit. Exit status: 0 when
every check passed, 1 when one failed, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
import warnings

try:
    import grpc
    import jwt
    from google.protobuf import field_mask_pb2
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

    def personal_id(province: int, year: int, female: bool, serial: int) -> str:
        # PPP G YY NNNNNN: province, century and gender (1900s: 0 male, 1 female), year, serial.
        return f"{province:03d}{1 if female else 0}{year % 100:02d}{serial:06d}"

    # Random serials, so that reruns against one server do not collide.
    serial = random.randrange(100_000, 900_000)

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
            personal_id=personal_id(20, 1988, True, serial),
            staff_code=f"py-{serial}",
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
    check(
        "the personal_id and staff code round-trip",
        created.personal_id == record.person.personal_id and created.staff_code == f"py-{serial}",
        f"{created.personal_id!r} {created.staff_code!r}",
    )

    reader = metadata(args.secret, ["20"], ["personal_data_reader"])
    got = people.GetPerson(person_service_pb2.GetPersonRequest(name=created.name), metadata=reader).person
    check("a personal-data reader of Lạng Sơn reads the person", got.placement.locality == "localities/06463", str(got.placement))
    check("a personal-data reader reads the personal_id", got.personal_id == record.person.personal_id, got.personal_id)
    looked_up = people.LookupPerson(
        person_service_pb2.LookupPersonRequest(personal_id=record.person.personal_id), metadata=reader
    ).person
    check("LookupPerson finds the person by personal_id", looked_up.name == created.name, looked_up.name)
    looked_up = people.LookupPerson(
        person_service_pb2.LookupPersonRequest(staff_code=f"PY-{serial}"), metadata=reader
    ).person
    check("LookupPerson finds the person by staff code in another case", looked_up.name == created.name, looked_up.name)
    found = people.SearchPeople(
        person_service_pb2.SearchPeopleRequest(filter=f'personal_id = "{record.person.personal_id}"'), metadata=reader
    ).people
    check("SearchPeople filters by personal_id", [p.name for p in found] == [created.name], str([p.name for p in found]))
    editor = metadata(args.secret, ["20"], ["editor"])
    renamed = people.UpdatePerson(
        person_service_pb2.UpdatePersonRequest(
            person=person_pb2.Person(name=created.name, full_name="Nông Thị Lan"),
            update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
        ),
        metadata=editor,
    ).person
    check("an editor without the personal-data role is not shown the personal_id", renamed.personal_id == "", renamed.personal_id)
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

    def stream(records, mode=person_service_pb2.IMPORT_MODE_CREATE, validate_only=False):
        for i, r in enumerate(records):
            # The mode and validate_only are read from the first message.
            if i == 0:
                yield person_service_pb2.ImportPeopleRequest(record=r, mode=mode, validate_only=validate_only)
            else:
                yield person_service_pb2.ImportPeopleRequest(record=r)

    batch = []
    for i in range(20):
        r = person_pb2.PersonRecord()
        r.CopyFrom(record)
        r.person.full_name = f"Hoàng Văn Nhập {i}"
        r.person.personal_id = personal_id(20, 1988, True, serial + 1 + i)
        r.person.staff_code = f"py-{serial}-{i}"
        batch.append(r)
    imported = people.ImportPeople(stream(batch), metadata=admin)
    check("ImportPeople writes every record", imported.imported_count == 20 and len(imported.people) == 20, str(imported))
    upsert = person_service_pb2.IMPORT_MODE_UPSERT
    again = people.ImportPeople(stream(batch, upsert), metadata=admin)
    check(
        "importing the same records again in upsert mode creates nobody",
        (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 20)
        and list(again.people) == list(imported.people),
        f"created {again.created_count}, updated {again.updated_count}, unchanged {again.unchanged_count}",
    )
    batch[3].person.full_name = "Hoàng Thị Nhập"
    dry = people.ImportPeople(stream(batch, upsert, validate_only=True), metadata=admin)
    check(
        "a validate_only upsert reports one update and writes nothing",
        (dry.created_count, dry.updated_count, dry.imported_count) == (0, 1, 0),
        str(dry),
    )
    changed = people.ImportPeople(stream(batch, upsert), metadata=admin)
    check("an upsert with one changed name updates one person", changed.updated_count == 1, str(changed.updated_count))
    batch[7].qualifications[0].level = "scales/professional/levels/wizard"
    rejected = people.ImportPeople(stream(batch, upsert), metadata=admin)
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
