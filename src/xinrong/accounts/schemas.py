"""API schemas for accounts."""

from ninja import Schema


class OrganisationOut(Schema):
    """An organisation as seen by its members."""

    id: int
    name: str
    kind: str
    kind_label: str
    region_code: str


class MeOut(Schema):
    """The calling user (or API key's service account)."""

    username: str
    display_name: str
    organisation: OrganisationOut | None
    roles: list[str]
