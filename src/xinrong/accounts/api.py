"""Accounts API: who am I."""

from django.http import HttpRequest
from ninja import Router

from xinrong.accounts.schemas import MeOut, OrganisationOut

router = Router(tags=["accounts"])


@router.get("/me", response=MeOut, summary="当前调用者")
def me(request: HttpRequest) -> MeOut:
    """Return the calling user, its organisation and roles."""
    user = request.user
    org = user.organisation  # type: ignore[union-attr]
    return MeOut(
        username=user.username,  # type: ignore[union-attr]
        display_name=user.display_name,  # type: ignore[union-attr]
        organisation=OrganisationOut(
            id=org.pk, name=org.name, kind=org.kind, kind_label=str(org.get_kind_display()),
            region_code=org.region_code,
        )
        if org
        else None,
        roles=sorted(user.role_codes),  # type: ignore[union-attr]
    )
