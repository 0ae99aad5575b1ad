"""Password rules beyond Django's defaults."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """Require letters and digits in a password (common rule of Chinese financial systems)."""

    def validate(self, password: str, user: Any = None) -> None:
        if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
            raise ValidationError(
                _("密码必须同时包含字母和数字。"), code="password_character_classes"
            )

    def get_help_text(self) -> str:
        return _("密码必须同时包含字母和数字。")
