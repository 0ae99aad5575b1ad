#!/usr/bin/env python3
"""信融 xinrong 机构对接接口（一网通办）示例客户端 · example client of the bank integration API.

Only the Python standard library (urllib, hmac, hashlib). HMAC-SM3 needs an SM3 hash: OpenSSL's
through hashlib where it has one, otherwise the ``gmssl`` package if installed.

用法 / usage::

    export XINRONG_URL=http://127.0.0.1:8000          # 平台地址 / platform address
    export XINRONG_API_KEY=xr_<前缀>_<密钥>            # 机构管理员在“API 密钥”页面申请

    python example_client.py pull [--status submitted] [--cursor C] [--limit 20] [--no-archive]
    python example_client.py get SQ20260601ABCD1234
    python example_client.py accept SQ20260601ABCD1234
    python example_client.py review SQ20260601ABCD1234
    python example_client.py approve SQ20260601ABCD1234 --amount 400000 --rate 4.35 --term 12
    python example_client.py reject SQ20260601ABCD1234 --reason credit --note "近两年有逾期记录"
    python example_client.py contract SQ20260601ABCD1234 --contract-no HT-2026-001 [--signed-on D]
    python example_client.py disburse SQ20260601ABCD1234 --amount 400000 [--loan-no JJ001]
    python example_client.py repay DK20260601ABCD1234 --amount 35000.00 [--paid-on 2026-07-01]
    python example_client.py overdue DK20260601ABCD1234 [--as-of 2026-08-05]
    python example_client.py default DK20260601ABCD1234 --note "逾期超过 90 天" [--on D]

    add --sm3 to sign with HMAC-SM3 instead of HMAC-SHA256;
    add --idempotency-key K to resend a write (the platform answers it once, then replays).

Each write gets a fresh idempotency key unless one is given: keep the key of a message in your
outbox and send it again with the same key when you are not sure it arrived.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from typing import Any

HMAC_SHA256 = "HMAC-SHA256"
HMAC_SM3 = "HMAC-SM3"
API_PREFIX = "/api/v1/bank"


def _sm3(data: bytes) -> bytes:
    if "sm3" in hashlib.algorithms_available:
        return hashlib.new("sm3", data).digest()
    try:
        from gmssl import func, sm3  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise SystemExit("HMAC-SM3 needs OpenSSL with SM3 or `pip install gmssl`") from exc
    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """HMAC (RFC 2104) over SM3: 64-byte blocks, 32-byte digest."""
    if len(key) > 64:
        key = _sm3(key)
    key = key.ljust(64, b"\x00")
    inner = _sm3(bytes(b ^ 0x36 for b in key) + message)
    return _sm3(bytes(b ^ 0x5C for b in key) + inner)


def canonical_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """METHOD, path with query, timestamp, nonce and hex SHA-256 of the body, one per line."""
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign_request(
    *,
    api_key: str,
    method: str,
    path: str,
    body: bytes = b"",
    algorithm: str = HMAC_SHA256,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return the headers that sign one request with the API key ``xr_<prefix>_<secret>``.

    ``path`` is exactly what goes on the request line: the path and, if any, ``?query``.
    """
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "xr":
        raise ValueError("an API key looks like xr_<prefix>_<secret>")
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    message = canonical_string(method, path, ts, nonce, body).encode("utf-8")
    secret = api_key.encode("utf-8")
    if algorithm == HMAC_SHA256:
        signature = hmac.new(secret, message, hashlib.sha256).hexdigest()
    elif algorithm == HMAC_SM3:
        signature = hmac_sm3(secret, message).hex()
    else:
        raise ValueError(f"algorithm must be {HMAC_SHA256} or {HMAC_SM3}")
    return {
        "X-Xinrong-Key": parts[1],
        "X-Xinrong-Timestamp": ts,
        "X-Xinrong-Nonce": nonce,
        "X-Xinrong-Signature-Method": algorithm,
        "X-Xinrong-Signature": signature,
    }


def call(
    base_url: str,
    api_key: str,
    method: str,
    path: str,
    payload: dict[str, Any] | None = None,
    *,
    algorithm: str = HMAC_SHA256,
    idempotency_key: str | None = None,
) -> tuple[int, dict[str, str], Any]:
    """Send one signed request; return (status, headers, JSON body). Writes get an idempotency
    key (a fresh one unless given)."""
    body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = sign_request(
        api_key=api_key, method=method, path=path, body=body, algorithm=algorithm
    )
    headers["Accept"] = "application/json"
    if payload is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
    if method.upper() != "GET":
        headers["Idempotency-Key"] = idempotency_key or secrets.token_hex(16)
    request = urllib.request.Request(  # noqa: S310 (the platform's own http(s) address)
        base_url.rstrip("/") + path, data=body or None, headers=headers, method=method.upper()
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:  # 4xx: the body is {"code", "message", "extra"}
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="信融 xinrong 机构对接接口示例客户端 (XINRONG_URL, XINRONG_API_KEY)"
    )
    parser.add_argument("--sm3", action="store_true", help="sign with HMAC-SM3")
    parser.add_argument("--idempotency-key", help="resend a write under this key")
    sub = parser.add_subparsers(dest="command", required=True)
    pull = sub.add_parser("pull", help="pull new or updated applications")
    pull.add_argument("--status", default="")
    pull.add_argument("--cursor", default="")
    pull.add_argument("--limit", type=int, default=20)
    pull.add_argument("--no-archive", action="store_true")
    for name in ("get", "accept", "review"):
        sub.add_parser(name, help=f"{name} one application").add_argument("number")
    approve = sub.add_parser("approve", help="push an approval")
    approve.add_argument("number")
    approve.add_argument("--amount", required=True)
    approve.add_argument("--rate", required=True)
    approve.add_argument("--term", type=int, required=True)
    reject = sub.add_parser("reject", help="push a rejection")
    reject.add_argument("number")
    reject.add_argument("--reason", required=True, help="credit, capacity, collateral, ...")
    reject.add_argument("--note", required=True)
    contract = sub.add_parser("contract", help="push the signed loan contract")
    contract.add_argument("number")
    contract.add_argument("--contract-no", required=True)
    contract.add_argument("--signed-on", help="YYYY-MM-DD, default today")
    disburse = sub.add_parser("disburse", help="push a disbursement")
    disburse.add_argument("number")
    disburse.add_argument("--amount", required=True)
    disburse.add_argument("--disbursed-on", help="YYYY-MM-DD, default today")
    disburse.add_argument("--loan-no", default="", help="the institution's own loan number")
    repay = sub.add_parser("repay", help="push a repayment of a loan")
    repay.add_argument("loan_no")
    repay.add_argument("--amount", required=True)
    repay.add_argument("--paid-on")
    overdue = sub.add_parser("overdue", help="push an overdue event of a loan")
    overdue.add_argument("loan_no")
    overdue.add_argument("--as-of", help="YYYY-MM-DD, default today")
    default = sub.add_parser("default", help="push a default of an overdue loan")
    default.add_argument("loan_no")
    default.add_argument("--note", required=True)
    default.add_argument("--on", help="YYYY-MM-DD, default today")
    return parser


def _given(**fields: Any) -> dict[str, Any]:
    """Drop the optional fields left out on the command line."""
    return {k: v for k, v in fields.items() if v not in (None, "")}


def _request_of(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    from urllib.parse import quote, urlencode

    if args.command == "pull":
        query = {"limit": args.limit, "archive": str(not args.no_archive).lower()}
        query.update({k: v for k, v in (("status", args.status), ("cursor", args.cursor)) if v})
        return "GET", f"{API_PREFIX}/applications?{urlencode(query)}", None
    if args.command in ("repay", "overdue", "default"):
        loan = f"{API_PREFIX}/loans/{quote(args.loan_no)}"
        if args.command == "repay":
            return "POST", f"{loan}/repayments", _given(amount=args.amount, paid_on=args.paid_on)
        if args.command == "overdue":
            return "POST", f"{loan}/overdue", _given(as_of=args.as_of)
        return "POST", f"{loan}/default", _given(note=args.note, on=args.on)
    app = f"{API_PREFIX}/applications/{quote(args.number)}"
    if args.command == "get":
        return "GET", app, None
    if args.command == "approve":
        payload = {"amount": args.amount, "rate": args.rate, "term_months": args.term}
        return "POST", f"{app}/approve", payload
    if args.command == "reject":
        return "POST", f"{app}/reject", {"reason": args.reason, "note": args.note}
    if args.command == "contract":
        payload = _given(contract_no=args.contract_no, signed_on=args.signed_on)
        return "POST", f"{app}/contract", payload
    if args.command == "disburse":
        payload = _given(amount=args.amount, disbursed_on=args.disbursed_on, loan_no=args.loan_no)
        return "POST", f"{app}/disburse", payload
    return "POST", f"{app}/{args.command}", {}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    base_url = os.environ.get("XINRONG_URL", "http://127.0.0.1:8000")
    api_key = os.environ.get("XINRONG_API_KEY", "")
    if not api_key:
        print("set XINRONG_API_KEY=xr_<prefix>_<secret>", file=sys.stderr)
        return 2
    method, path, payload = _request_of(args)
    status, headers, body = call(
        base_url,
        api_key,
        method,
        path,
        payload,
        algorithm=HMAC_SM3 if args.sm3 else HMAC_SHA256,
        idempotency_key=args.idempotency_key,
    )
    replayed = " (replayed)" if headers.get("Idempotent-Replayed") == "true" else ""
    print(f"HTTP {status}{replayed}")
    print(json.dumps(body, ensure_ascii=False, indent=2))
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
