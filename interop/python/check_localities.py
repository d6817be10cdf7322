#!/usr/bin/env python3
"""Interop check: a Python client generated from proto/ talks to a running hrplan.

Generate the client code first (it is never committed):

    python -m grpc_tools.protoc -I proto --python_out=GEN --grpc_python_out=GEN \
        proto/hrplan/v1/*.proto

then run, against a server started with `--jwt-hs256-secret SECRET`:

    python interop/python/check_localities.py --target 127.0.0.1:50051 \
        --secret SECRET --gen-dir GEN

The script mints its own HS256 tokens with PyJWT (claims `sub`, `iat`, `exp`,
`localities`, `roles`), creates a test province and a district under it, reads
them back, lists the province's children, retries a create with the same
request_id (AIP-155), and checks that missing, invalid, expired and
out-of-scope tokens are refused with the right status codes. It writes to the
server's database, so point it at a throwaway one; the codes it creates
(`--province`, `--district`, default 96 and 960) must not exist yet.

Exit status: 0 if every check passed, 1 if any failed, 2 on a usage or setup
error (server unreachable, generated code missing).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import unicodedata
import uuid
import warnings
from typing import Any, Callable

try:
    import grpc
    import jwt
except ImportError as exc:  # pragma: no cover - setup error
    sys.stderr.write(
        f"check_localities: {exc}; install interop/python/requirements.txt\n"
    )
    sys.exit(2)


# A short test secret is the caller's business; do not drown the report in
# PyJWT's key-length warnings.
warnings.filterwarnings("ignore", message="The HMAC key is")


class CheckFailed(Exception):
    """A check found the server answering something else than the contract."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_eq(actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


class Checker:
    """Runs checks, keeps going after a failure, and counts the results."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def run(self, description: str, fn: Callable[[], Any]) -> Any:
        try:
            result = fn()
        except CheckFailed as exc:
            self.failed.append(description)
            print(f"  FAIL {description}\n       {exc}", flush=True)
            return None
        except grpc.RpcError as exc:
            self.failed.append(description)
            print(
                f"  FAIL {description}\n       unexpected RPC error: "
                f"{exc.code().name}: {exc.details()}",
                flush=True,
            )
            return None
        except Exception:  # noqa: BLE001 - report anything, then go on
            self.failed.append(description)
            print(f"  FAIL {description}\n       crashed:", flush=True)
            traceback.print_exc(file=sys.stdout)
            return None
        self.passed += 1
        print(f"  ok   {description}", flush=True)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Check hrplan's LocalityService from a generated Python client."
    )
    parser.add_argument("--target", required=True, help="host:port, e.g. 127.0.0.1:50051")
    parser.add_argument(
        "--secret",
        default=os.environ.get("HRPLAN_JWT_HS256_SECRET"),
        help="the server's HS256 secret (default: $HRPLAN_JWT_HS256_SECRET)",
    )
    parser.add_argument(
        "--gen-dir", required=True, help="directory holding the generated hrplan/v1/*_pb2*.py"
    )
    parser.add_argument("--province", default="96", help="code of the test province (2 digits)")
    parser.add_argument("--district", default="960", help="code of the test district (3 digits)")
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline of each RPC, seconds")
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret (or HRPLAN_JWT_HS256_SECRET) is required")

    sys.path.insert(0, os.path.abspath(args.gen_dir))
    try:
        from hrplan.v1 import common_pb2, locality_pb2, locality_service_pb2 as svc
        from hrplan.v1 import locality_service_pb2_grpc as svc_grpc
    except ImportError as exc:
        sys.stderr.write(
            f"check_localities: cannot import the generated code from {args.gen_dir}: {exc}\n"
        )
        return 2

    P = args.province
    D = args.district
    COMMUNE = D + "01"
    p_name = f"localities/{P}"
    d_name = f"localities/{D}"
    p_display = nfc("Tỉnh Kiểm Thử")
    d_display = nfc("Huyện Kiểm Thử")
    since = common_pb2.Date(year=2020, month=1, day=1)

    def token(localities: list[str], roles: list[str], ttl: int = 600,
              secret: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "sub": "interop-python",
            "iat": now,
            "exp": now + ttl,
            "localities": localities,
            "roles": roles,
        }
        return jwt.encode(claims, secret or args.secret, algorithm="HS256")

    def auth(tok: str) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {tok}")]

    editor_all = auth(token(["*"], ["editor"]))
    editor_01 = auth(token(["01"], ["editor"]))
    reader_p = auth(token([P], ["aggregate_reader"]))
    expired = auth(token(["*"], ["admin"], ttl=-3600))
    forged = auth(token(["*"], ["admin"], secret=args.secret + "-not-the-secret"))

    channel = grpc.insecure_channel(args.target)
    try:
        grpc.channel_ready_future(channel).result(timeout=args.timeout)
    except grpc.FutureTimeoutError:
        sys.stderr.write(f"check_localities: cannot connect to {args.target}\n")
        return 2
    stub = svc_grpc.LocalityServiceStub(channel)
    T = args.timeout

    def expect_code(call: Callable[[], Any], code: grpc.StatusCode) -> None:
        try:
            call()
        except grpc.RpcError as exc:
            if exc.code() != code:
                raise CheckFailed(
                    f"expected {code.name}, got {exc.code().name}: {exc.details()}"
                ) from None
            return
        raise CheckFailed(f"expected {code.name}, but the call succeeded")

    def same_result(first: Any, second: Any, what: str) -> None:
        a, b = type(first)(), type(second)()
        a.CopyFrom(first)
        b.CopyFrom(second)
        # The as-of date is "today"; everything else must be identical.
        a.ClearField("as_of")
        b.ClearField("as_of")
        if a != b:
            raise CheckFailed(f"{what}: the retry returned\n{b}\n       instead of\n{a}")

    def check_locality(loc: Any, *, code: str, tier: int, kind: int, display: str,
                       parent: str) -> None:
        expect_eq(loc.name, f"localities/{code}", "name")
        expect_eq(loc.code, code, "code")
        expect_eq(loc.tier, tier, "tier")
        expect_eq(loc.kind, kind, "kind")
        expect_eq(nfc(loc.display_name), display, "display_name")
        expect_eq(loc.parent, parent, "parent")
        expect_eq(loc.state, locality_pb2.LOCALITY_STATE_ACTIVE, "state")
        expect(loc.etag != "", "etag is empty")
        expect_eq(len(loc.versions), 1, "number of versions")
        v = loc.versions[0]
        expect_eq((v.valid_from.year, v.valid_from.month, v.valid_from.day),
                  (2020, 1, 1), "versions[0].valid_from")
        expect(not v.HasField("valid_until"),
               f"versions[0].valid_until should be absent, got {v.valid_until}")
        expect_eq(nfc(v.display_name), display, "versions[0].display_name")
        expect_eq(v.kind, kind, "versions[0].kind")
        expect_eq(v.parent, parent, "versions[0].parent")

    def province_request(request_id: str) -> Any:
        return svc.CreateLocalityRequest(
            locality_id=P,
            locality=locality_pb2.Locality(
                tier=locality_pb2.LOCALITY_TIER_PROVINCE,
                versions=[locality_pb2.LocalityVersion(
                    valid_from=since,
                    display_name=p_display,
                    kind=locality_pb2.LOCALITY_KIND_PROVINCE,
                )],
            ),
            request_id=request_id,
        )

    def district_request(code: str, request_id: str) -> Any:
        return svc.CreateLocalityRequest(
            locality_id=code,
            locality=locality_pb2.Locality(
                tier=locality_pb2.LOCALITY_TIER_DISTRICT,
                versions=[locality_pb2.LocalityVersion(
                    valid_from=since,
                    display_name=d_display,
                    kind=locality_pb2.LOCALITY_KIND_RURAL_DISTRICT,
                    parent=p_name,
                )],
            ),
            request_id=request_id,
        )

    p_request_id = str(uuid.uuid4())
    d_request_id = str(uuid.uuid4())
    created: dict[str, Any] = {}
    c = Checker()
    print(f"Python interop checks against {args.target} (grpcio {grpc.__version__})", flush=True)

    def create_province() -> None:
        resp = stub.CreateLocality(province_request(p_request_id), metadata=editor_all, timeout=T)
        check_locality(resp.locality, code=P, tier=locality_pb2.LOCALITY_TIER_PROVINCE,
                       kind=locality_pb2.LOCALITY_KIND_PROVINCE, display=p_display, parent="")
        created["province"] = resp.locality

    def retry_province() -> None:
        expect("province" in created, "the province was not created")
        resp = stub.CreateLocality(province_request(p_request_id), metadata=editor_all, timeout=T)
        same_result(created["province"], resp.locality, "retried CreateLocality")

    def create_district() -> None:
        resp = stub.CreateLocality(district_request(D, d_request_id), metadata=editor_all,
                                   timeout=T)
        check_locality(resp.locality, code=D, tier=locality_pb2.LOCALITY_TIER_DISTRICT,
                       kind=locality_pb2.LOCALITY_KIND_RURAL_DISTRICT, display=d_display,
                       parent=p_name)
        created["district"] = resp.locality

    def retry_district() -> None:
        expect("district" in created, "the district was not created")
        resp = stub.CreateLocality(district_request(D, d_request_id), metadata=editor_all,
                                   timeout=T)
        same_result(created["district"], resp.locality, "retried CreateLocality")

    def get_district() -> None:
        resp = stub.GetLocality(svc.GetLocalityRequest(name=d_name), metadata=editor_all,
                                timeout=T)
        check_locality(resp.locality, code=D, tier=locality_pb2.LOCALITY_TIER_DISTRICT,
                       kind=locality_pb2.LOCALITY_KIND_RURAL_DISTRICT, display=d_display,
                       parent=p_name)
        if "district" in created:
            expect_eq(resp.locality.etag, created["district"].etag, "etag after create")

    def list_children() -> None:
        names: list[str] = []
        page_token = ""
        for _ in range(100):
            resp = stub.ListLocalities(
                svc.ListLocalitiesRequest(parent=p_name, page_token=page_token),
                metadata=editor_all, timeout=T,
            )
            for loc in resp.localities:
                expect_eq(loc.parent, p_name, f"parent of listed {loc.name}")
                names.append(loc.name)
            page_token = resp.next_page_token
            if not page_token:
                break
        else:
            raise CheckFailed("ListLocalities kept returning a next_page_token")
        expect(d_name in names, f"{d_name} missing from the children of {p_name}: {names}")

    c.run(f"CreateLocality {p_name} (province, request_id {p_request_id})", create_province)
    c.run(f"CreateLocality {p_name} retried with the same request_id returns the same locality",
          retry_province)
    c.run(f"CreateLocality {d_name} (district under {p_name})", create_district)
    c.run(f"CreateLocality {d_name} retried with the same request_id returns the same locality",
          retry_district)
    c.run(f"CreateLocality {d_name} again with a new request_id fails with ALREADY_EXISTS",
          lambda: expect_code(
              lambda: stub.CreateLocality(district_request(D, str(uuid.uuid4())),
                                          metadata=editor_all, timeout=T),
              grpc.StatusCode.ALREADY_EXISTS))
    c.run("CreateLocality reusing a request_id for another request fails with INVALID_ARGUMENT",
          lambda: expect_code(
              lambda: stub.CreateLocality(district_request(D[:2] + str((int(D[2]) + 1) % 10),
                                                           p_request_id),
                                          metadata=editor_all, timeout=T),
              grpc.StatusCode.INVALID_ARGUMENT))
    c.run(f"GetLocality {d_name} returns what was created", get_district)
    c.run(f"ListLocalities parent={p_name} lists {d_name}", list_children)
    c.run(f"GetLocality {d_name} with a reader token scoped to {P} (its subtree) succeeds",
          lambda: stub.GetLocality(svc.GetLocalityRequest(name=d_name), metadata=reader_p,
                                   timeout=T))

    get_p = svc.GetLocalityRequest(name=p_name)
    c.run("GetLocality without a token fails with UNAUTHENTICATED",
          lambda: expect_code(lambda: stub.GetLocality(get_p, timeout=T),
                              grpc.StatusCode.UNAUTHENTICATED))
    c.run("GetLocality with a token signed with another secret fails with UNAUTHENTICATED",
          lambda: expect_code(lambda: stub.GetLocality(get_p, metadata=forged, timeout=T),
                              grpc.StatusCode.UNAUTHENTICATED))
    c.run("GetLocality with an expired token fails with UNAUTHENTICATED",
          lambda: expect_code(lambda: stub.GetLocality(get_p, metadata=expired, timeout=T),
                              grpc.StatusCode.UNAUTHENTICATED))
    c.run(f"GetLocality {p_name} with a token scoped to 01 fails with PERMISSION_DENIED",
          lambda: expect_code(lambda: stub.GetLocality(get_p, metadata=editor_01, timeout=T),
                              grpc.StatusCode.PERMISSION_DENIED))
    c.run(f"GetLocality {d_name} with a token scoped to 01 fails with PERMISSION_DENIED",
          lambda: expect_code(
              lambda: stub.GetLocality(svc.GetLocalityRequest(name=d_name), metadata=editor_01,
                                       timeout=T),
              grpc.StatusCode.PERMISSION_DENIED))

    def commune_request() -> Any:
        return svc.CreateLocalityRequest(
            locality_id=COMMUNE,
            locality=locality_pb2.Locality(
                tier=locality_pb2.LOCALITY_TIER_COMMUNE,
                versions=[locality_pb2.LocalityVersion(
                    valid_from=since,
                    display_name=nfc("Xã Kiểm Thử"),
                    kind=locality_pb2.LOCALITY_KIND_COMMUNE,
                    parent=d_name,
                )],
            ),
            request_id=str(uuid.uuid4()),
        )

    c.run(f"CreateLocality under {d_name} with a reader-only token fails with PERMISSION_DENIED",
          lambda: expect_code(
              lambda: stub.CreateLocality(commune_request(), metadata=reader_p, timeout=T),
              grpc.StatusCode.PERMISSION_DENIED))

    channel.close()
    print(f"python interop: {c.passed} passed, {len(c.failed)} failed", flush=True)
    if c.failed:
        print("check_localities: FAILED checks:", flush=True)
        for description in c.failed:
            print(f"  - {description}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
