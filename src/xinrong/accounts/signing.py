"""Signed requests of institutions' systems: header names, the canonical string, the HMACs.

A request is signed with the API key's secret (the whole ``xr_<prefix>_<secret>`` string, as
UTF-8) over the canonical string::

    METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE \\n hex(SHA-256(body))

with HMAC-SHA256 (RFC 2104 over SHA-256) or HMAC-SM3 (the same construction over SM3, GM/T
0004-2012), sent as lower-case hex. docs/bank-api.md has a worked example; the example client
in docs/bank-api/ implements the same functions without Django.
"""

from __future__ import annotations

import hashlib
import hmac

from xinrong.common.crypto import hmac_sm3

HEADER_KEY = "X-Xinrong-Key"
HEADER_TIMESTAMP = "X-Xinrong-Timestamp"
HEADER_NONCE = "X-Xinrong-Nonce"
HEADER_METHOD = "X-Xinrong-Signature-Method"
HEADER_SIGNATURE = "X-Xinrong-Signature"
HEADER_IDEMPOTENCY = "Idempotency-Key"
HEADER_REPLAYED = "Idempotent-Replayed"

HMAC_SHA256 = "HMAC-SHA256"
HMAC_SM3 = "HMAC-SM3"
SIGNATURE_METHODS = (HMAC_SHA256, HMAC_SM3)

NONCE_MIN, NONCE_MAX = 16, 64
IDEMPOTENCY_MIN, IDEMPOTENCY_MAX = 8, 128
# Nonces and idempotency keys are printable tokens: letters, digits and - _ . :
TOKEN_PATTERN = r"^[A-Za-z0-9._:\-]+$"  # noqa: S105 (a pattern, not a password)


def body_digest(body: bytes) -> str:
    """Return the lower-case hex SHA-256 of the raw request body (of b"" when there is none)."""
    return hashlib.sha256(body).hexdigest()


def canonical_string(*, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Return the string a request's signature covers."""
    return "\n".join([method.upper(), path, timestamp, nonce, body_digest(body)])


def hmac_hex(*, algorithm: str, secret: str, message: str) -> str:
    """Return the HMAC of ``message`` under ``secret`` with ``algorithm`` as lower-case hex."""
    key, data = secret.encode("utf-8"), message.encode("utf-8")
    if algorithm == HMAC_SHA256:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    if algorithm == HMAC_SM3:
        return hmac_sm3(key, data).hex()
    raise ValueError(f"unknown signature method {algorithm!r}")


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """Return what identifies one write: method, path and body (for idempotency checks)."""
    return hashlib.sha256(
        "\n".join([method.upper(), path, body_digest(body)]).encode("utf-8")
    ).hexdigest()
