"""Model fields for sensitive data."""

from __future__ import annotations

from typing import Any

from django.db import models

from xinrong.common.crypto import CIPHERTEXT_PREFIX, decrypt_text, encrypt_text


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored SM4-GCM-encrypted at rest; Python code sees the plaintext.

    Encrypted columns cannot be searched; pair them with a blind-index column.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        if value == "":
            return ""
        return str(decrypt_text(value))

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "" or str(value).startswith(CIPHERTEXT_PREFIX):
            return value
        return encrypt_text(str(value))
