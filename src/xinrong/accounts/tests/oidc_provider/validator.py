"""Claims of the test provider: each user's USCC / ID number from users.json."""

from __future__ import annotations

import json
from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

from xinrong.accounts.tests.oidc_provider import settings


class ClaimsValidator(OAuth2Validator):
    """Add the provincial platform's identity claims (with the profile scope)."""

    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "uscc": "profile",
        "id_number": "profile",
        "name": "profile",
        "amr": "openid",
    }

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        users = json.loads(settings.USERS_FILE.read_text(encoding="utf-8"))
        entry = users.get(request.user.username, {})
        return {"name": entry.get("name", request.user.username), **entry.get("claims", {})}
