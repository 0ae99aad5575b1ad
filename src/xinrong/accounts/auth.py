"""Authentication of institutions' systems by API key."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import APIKeyHeader

from xinrong.accounts.models import ApiKey, User
from xinrong.accounts.services import api_key_authenticate


class ApiKeyAuth(APIKeyHeader):
    """Accept ``X-API-Key: xr_<prefix>_<secret>``; the caller acts as the key's service user."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        if not key:
            return None
        api_key = api_key_authenticate(key)
        if api_key is None:
            return None
        request.user = api_key.service_user
        return api_key


def request_user(request: HttpRequest) -> User:
    """Return the logged-in platform user of a view guarded by ``login_required``."""
    user = request.user
    assert isinstance(user, User), "view must require login"
    return user
