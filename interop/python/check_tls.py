#!/usr/bin/env python3
"""Interop check: a generated Python client reaches hrplan over TLS with a client
certificate (mTLS), and is refused without one.

Run against a server started with `--tls-cert-file`, `--tls-key-file`,
`--tls-client-ca-file` and `--jwt-hs256-secret SECRET`, after generating the
client code (see check_localities.py):

    python interop/python/check_tls.py --target localhost:50051 --ca ca.pem \
        --cert client.pem --key client.key --secret SECRET --gen-dir GEN

Checks: ListLocalities with the CA and the client certificate succeeds; the same
call without a client certificate fails, and so does a plaintext call.

Exit status: 0 if every check passed, 1 if any failed, 2 on a usage or setup error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

try:
    import grpc
    import jwt
except ImportError as exc:  # pragma: no cover - setup error
    sys.stderr.write(f"check_tls: {exc}; install interop/python/requirements.txt\n")
    sys.exit(2)

warnings.filterwarnings("ignore", message="The HMAC key is")


def main() -> int:
    parser = argparse.ArgumentParser(description="Check hrplan over TLS and mTLS.")
    parser.add_argument("--target", required=True, help="host:port named by the server certificate")
    parser.add_argument("--ca", required=True, help="PEM file of the CA that signed the server certificate")
    parser.add_argument("--cert", required=True, help="PEM file of the client certificate")
    parser.add_argument("--key", required=True, help="PEM file of the client certificate's key")
    parser.add_argument("--secret", default=os.environ.get("HRPLAN_JWT_HS256_SECRET"),
                        help="the server's HS256 secret (default: $HRPLAN_JWT_HS256_SECRET)")
    parser.add_argument("--gen-dir", required=True, help="directory holding the generated hrplan/v1/*_pb2*.py")
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline of each RPC, seconds")
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret (or HRPLAN_JWT_HS256_SECRET) is required")

    sys.path.insert(0, os.path.abspath(args.gen_dir))
    try:
        from hrplan.v1 import locality_service_pb2 as svc
        from hrplan.v1 import locality_service_pb2_grpc as svc_grpc
    except ImportError as exc:
        sys.stderr.write(f"check_tls: cannot import the generated code from {args.gen_dir}: {exc}\n")
        return 2

    def read(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    now = int(time.time())
    token = jwt.encode({"sub": "interop-tls", "iat": now, "exp": now + 600, "localities": ["*"],
                        "roles": ["aggregate_reader"]}, args.secret, algorithm="HS256")
    metadata = [("authorization", f"Bearer {token}")]

    def list_localities(channel: grpc.Channel) -> None:
        with channel:
            stub = svc_grpc.LocalityServiceStub(channel)
            stub.ListLocalities(svc.ListLocalitiesRequest(page_size=1), metadata=metadata,
                                timeout=args.timeout)

    failed: list[str] = []
    passed = 0

    def check(description: str, ok: bool, detail: str = "") -> None:
        nonlocal passed
        if ok:
            passed += 1
            print(f"ok    {description}", flush=True)
        else:
            failed.append(description)
            print(f"FAIL  {description}: {detail}", flush=True)

    ca = read(args.ca)
    with_cert = grpc.ssl_channel_credentials(root_certificates=ca, private_key=read(args.key),
                                             certificate_chain=read(args.cert))
    try:
        list_localities(grpc.secure_channel(args.target, with_cert))
        check("ListLocalities over mTLS with a client certificate succeeds", True)
    except grpc.RpcError as err:
        check("ListLocalities over mTLS with a client certificate succeeds", False,
              f"{err.code()} {err.details()}")

    without_cert = grpc.ssl_channel_credentials(root_certificates=ca)
    try:
        list_localities(grpc.secure_channel(args.target, without_cert))
        check("ListLocalities over TLS without a client certificate is refused", False, "it succeeded")
    except grpc.RpcError as err:
        check(f"ListLocalities over TLS without a client certificate is refused ({err.code().name})",
              err.code() == grpc.StatusCode.UNAVAILABLE, f"{err.code()} {err.details()}")

    try:
        list_localities(grpc.insecure_channel(args.target))
        check("ListLocalities in plaintext to the TLS port is refused", False, "it succeeded")
    except grpc.RpcError as err:
        check(f"ListLocalities in plaintext to the TLS port is refused ({err.code().name})", True)

    print(f"python tls interop: {passed} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
