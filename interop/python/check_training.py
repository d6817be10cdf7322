#!/usr/bin/env python3
"""Interop check: a generated Python client plans training and follows its progress.

    python interop/python/check_training.py --target 127.0.0.1:50051 \
        --secret SECRET --gen-dir GEN

It creates a unit in the demo commune 06463 (Xã Chi Lăng, Lạng Sơn), a person placed
there, a 2021-2025 plan of Lạng Sơn with a degree line and a refresher line, approves
it, enrols the person, completes the enrolment and reads the progress and the
qualification it recorded; then checks that a caller of another province is refused.
Exit status: 0 when every check passed, 1 when one failed, 2 on a setup error.
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
    sys.stderr.write(f"check_training: {exc}; install interop/python/requirements.txt\n")
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
            enrollment_service_pb2,
            enrollment_service_pb2_grpc,
            person_pb2,
            person_service_pb2,
            person_service_pb2_grpc,
            training_pb2,
            training_plan_service_pb2,
            training_plan_service_pb2_grpc,
            unit_pb2,
            unit_service_pb2,
            unit_service_pb2_grpc,
        )
    except ImportError as exc:
        sys.stderr.write(f"check_training: generated code missing in {args.gen_dir}: {exc}\n")
        return 2

    channel = grpc.insecure_channel(args.target)
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
    except grpc.FutureTimeoutError:
        sys.stderr.write(f"check_training: {args.target} is unreachable\n")
        return 2
    admin = metadata(args.secret, ["*"], ["admin"])
    failures: list[str] = []

    def check(description: str, condition: bool, detail: str = "") -> None:
        print(f"ok   {description}" if condition else f"FAIL {description} {detail}")
        if not condition:
            failures.append(description)

    def date(y: int, m: int, d: int):
        return common_pb2.Date(year=y, month=m, day=d)

    unit = unit_service_pb2_grpc.UnitServiceStub(channel).CreateUnit(
        unit_service_pb2.CreateUnitRequest(
            unit=unit_pb2.Unit(
                display_name="Ủy ban nhân dân xã Chi Lăng (kiểm thử đào tạo)",
                locality="localities/06463",
                sector=unit_pb2.SECTOR_STATE_ADMINISTRATION,
                kind=unit_pb2.UNIT_KIND_PEOPLES_COMMITTEE,
                valid_from=date(2020, 1, 1),
            )
        ),
        metadata=admin,
    ).unit
    person = person_service_pb2_grpc.PersonServiceStub(channel).CreatePerson(
        person_service_pb2.CreatePersonRequest(
            record=person_pb2.PersonRecord(
                person=person_pb2.Person(
                    full_name="Lăng Văn Học",
                    birth_date=date(1990, 2, 3),
                    gender=person_pb2.GENDER_MALE,
                    ethnicity="Nùng",
                    category=person_pb2.PERSON_CATEGORY_CIVIL_SERVANT,
                    employed_from=date(2014, 1, 1),
                ),
                placements=[
                    person_pb2.Placement(unit=unit.name, post_title="Công chức Văn phòng - Thống kê", valid_from=date(2020, 1, 1))
                ],
            )
        ),
        metadata=admin,
    ).person

    plans = training_plan_service_pb2_grpc.TrainingPlanServiceStub(channel)
    plan = plans.CreateTrainingPlan(
        training_plan_service_pb2.CreateTrainingPlanRequest(
            training_plan=training_pb2.TrainingPlan(
                title="Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức giai đoạn 2021-2025",
                owner="localities/20",
                period_start=date(2021, 1, 1),
                period_end=date(2026, 1, 1),
                legal_basis=training_pb2.LegalBasis(document_number="125/KH-UBND", issued_on=date(2020, 12, 15)),
                lines=[
                    training_pb2.TargetLine(
                        line_id="political_theory_intermediate",
                        title="Trung cấp lý luận chính trị",
                        kind=training_pb2.PROGRAMME_KIND_DEGREE,
                        level="scales/political_theory/levels/intermediate",
                        target_enrollments=2,
                    ),
                    training_pb2.TargetLine(
                        line_id="digital_skills",
                        title="Bồi dưỡng kỹ năng chuyển đổi số",
                        kind=training_pb2.PROGRAMME_KIND_REFRESHER,
                        topic="Kỹ năng chuyển đổi số",
                        target_enrollments=1,
                    ),
                ],
            ),
            request_id=str(uuid.uuid4()),
        ),
        metadata=admin,
    ).training_plan
    check("CreateTrainingPlan returns a draft plan", plan.status == training_pb2.TRAINING_PLAN_STATUS_DRAFT, str(plan.status))
    plan = plans.ApproveTrainingPlan(training_plan_service_pb2.ApproveTrainingPlanRequest(name=plan.name), metadata=admin).training_plan
    check("ApproveTrainingPlan approves it", plan.status == training_pb2.TRAINING_PLAN_STATUS_APPROVED)

    enrollments = enrollment_service_pb2_grpc.EnrollmentServiceStub(channel)
    enrollment = enrollments.CreateEnrollment(
        enrollment_service_pb2.CreateEnrollmentRequest(
            parent=plan.name,
            enrollment=training_pb2.Enrollment(
                person=person.name, line_id="political_theory_intermediate", enrollment_date=date(2023, 3, 1), enrolled=True
            ),
        ),
        metadata=admin,
    ).enrollment
    check("CreateEnrollment enrols the person", enrollment.status == training_pb2.ENROLLMENT_STATUS_ENROLLED, str(enrollment))
    completed = enrollments.TransitionEnrollment(
        enrollment_service_pb2.TransitionEnrollmentRequest(
            name=enrollment.name, status=training_pb2.ENROLLMENT_STATUS_COMPLETED, date=date(2024, 6, 30),
            result=training_pb2.EnrollmentResult(grade="Giỏi"),
        ),
        metadata=admin,
    ).enrollment
    check("completing the degree line records a qualification", completed.qualification.startswith(person.name + "/qualifications/"), str(completed))

    progress = plans.GetTrainingPlanProgress(
        training_plan_service_pb2.GetTrainingPlanProgressRequest(name=plan.name, as_of=date(2025, 1, 1)), metadata=admin
    )
    check(
        "progress counts 1 of 3 planned enrolments achieved",
        progress.total.target == 3 and progress.total.completed == 1 and abs(progress.total.percent_of_plan - 100 / 3) < 1e-6,
        str(progress.total),
    )
    check(
        "the degree line is at 50 % and under target",
        progress.lines[0].percent_of_plan == 50.0 and progress.lines[0].achievement == training_plan_service_pb2.ACHIEVEMENT_UNDER,
        str(progress.lines[0]),
    )

    other = metadata(args.secret, ["11"], ["admin"])
    try:
        plans.GetTrainingPlan(training_plan_service_pb2.GetTrainingPlanRequest(name=plan.name), metadata=other)
        code = None
    except grpc.RpcError as error:
        code = error.code()
    check("a caller of another province is PERMISSION_DENIED", code == grpc.StatusCode.PERMISSION_DENIED, str(code))
    try:
        enrollments.TransitionEnrollment(
            enrollment_service_pb2.TransitionEnrollmentRequest(
                name=enrollment.name, status=training_pb2.ENROLLMENT_STATUS_PLANNED, date=date(2024, 7, 1)
            ),
            metadata=admin,
        )
        code = None
    except grpc.RpcError as error:
        code = error.code()
    check("a transition that is not allowed is FAILED_PRECONDITION", code == grpc.StatusCode.FAILED_PRECONDITION, str(code))

    print(f"check_training: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
