"""National (GM/T) cryptography helpers: SM3 hashing, SM4-GCM field encryption, blind indexes.

SM4 runs through OpenSSL (``cryptography``); SM3 through hashlib when OpenSSL offers it and
through ``gmssl`` otherwise, so results are the same on every machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.utils.translation import gettext as _

from xinrong.common.errors import ApplicationError

CIPHERTEXT_PREFIX = "sm4g1:"
_NONCE_BYTES = 12
_TAG_BYTES = 16


def sm3_hex(data: bytes) -> str:
    """Return the SM3 digest of ``data`` as 64 hex characters."""
    if "sm3" in hashlib.algorithms_available:
        return hashlib.new("sm3", data).hexdigest()
    from gmssl import func, sm3  # pure-Python fallback

    return str(sm3.sm3_hash(func.bytes_to_list(data)))


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """Return HMAC-SM3 (RFC 2104 construction, 64-byte block) of ``data``."""
    if "sm3" in hashlib.algorithms_available:  # OpenSSL's one-shot HMAC: the same bytes, in C
        return hmac.digest(key, data, "sm3")
    block = 64
    if len(key) > block:
        key = bytes.fromhex(sm3_hex(key))
    key = key.ljust(block, b"\0")
    inner = bytes.fromhex(sm3_hex(bytes(b ^ 0x36 for b in key) + data))
    return bytes.fromhex(sm3_hex(bytes(b ^ 0x5C for b in key) + inner))


@lru_cache(maxsize=4)
def _derive(master: str, purpose: str) -> bytes:
    """Derive a 16-byte key for ``purpose`` from the master secret."""
    return hmac_sm3(master.encode("utf-8"), b"xinrong:" + purpose.encode("ascii"))[:16]


def _master() -> str:
    return str(getattr(settings, "FIELD_ENCRYPTION_KEY", "") or settings.SECRET_KEY)


def encrypt_text(plaintext: str) -> str:
    """Encrypt ``plaintext`` with SM4-GCM under the field key; return printable ciphertext."""
    key = _derive(_master(), "field-encryption")
    nonce = os.urandom(_NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    body = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
    token = base64.urlsafe_b64encode(nonce + body + encryptor.tag).decode("ascii")
    return CIPHERTEXT_PREFIX + token


def decrypt_text(token: str) -> str:
    """Decrypt a value made by :func:`encrypt_text`; raise ApplicationError if it was altered."""
    if not token.startswith(CIPHERTEXT_PREFIX):
        raise ApplicationError("crypto_format", _("密文格式不正确"), status=500)
    raw = base64.urlsafe_b64decode(token[len(CIPHERTEXT_PREFIX) :].encode("ascii"))
    nonce, body, tag = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:-_TAG_BYTES], raw[-_TAG_BYTES:]
    key = _derive(_master(), "field-encryption")
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode("utf-8")
    except InvalidTag as exc:
        raise ApplicationError(
            "crypto_tampered", _("密文校验失败：数据可能被篡改或密钥已更换"), status=500
        ) from exc


def blind_index(value: str, *, purpose: str) -> str:
    """Return a keyed, deterministic HMAC-SM3 digest so encrypted values can be looked up."""
    key = _derive(_master(), "blind-index:" + purpose)
    return hmac_sm3(key, value.encode("utf-8")).hex()
