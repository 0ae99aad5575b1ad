"""Accounts API: who am I."""

from typing import cast

from django.http import HttpRequest
from ninja import Router

from xinrong.accounts.models import User
from xinrong.accounts.schemas import MeOut, OrganisationOut

router = Router(tags=["accounts"])


@router.get("/me", response=MeOut, summary="当前调用者")
def me(request: HttpRequest) -> MeOut:
    """Return the calling user (or the API key's service account), its organisation and roles."""
    user = cast(User, request.user)
    org = user.organisation
    return MeOut(
        username=user.username,
        display_name=user.display_name,
        organisation=OrganisationOut(
            id=org.pk,
            name=org.name,
            kind=org.kind,
            kind_label=str(org.get_kind_display()),
            region_code=org.region_code,
        )
        if org
        else None,
        roles=sorted(user.role_codes),
    )
