"""Turn registry rows into display dicts (masked), shared by the web pages and the API."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from xinrong.common.masking import mask_id_number, mask_name
from xinrong.enterprises.models import MarketEntity, Relationship
from xinrong.reference import divisions, industries


def industry_name(code: str) -> str:
    """Return the industry's name ("农副食品加工业"), or the bare code when unknown: a reader
    knows industries by name (the code stays in ``industry_code``)."""
    item = industries.get(code)
    return item.display_name if item else code


def entity_row(entity: MarketEntity) -> dict[str, Any]:
    """Return the list-row fields of an entity, with the legal representative masked."""
    rep = entity.legal_representative
    return {
        "uscc": entity.uscc,
        "name": entity.name,
        "entity_type": entity.entity_type,
        "entity_type_label": str(entity.get_entity_type_display()),
        "industry_code": entity.industry_code,
        "industry_name": industry_name(entity.industry_code),
        "division_code": entity.division_code,
        "region_name": divisions.full_name(entity.division_code),
        "size_class": entity.size_class,
        "size_class_label": str(entity.get_size_class_display()) if entity.size_class else "",
        "legal_representative": mask_name(rep.name) if rep else "",
        "registration_status": str(entity.get_registration_status_display()),
    }


def relationship_row(rel: Relationship, linkable: Collection[int] = ()) -> dict[str, Any]:
    """Return a relationship for display; natural persons' names are masked.

    ``party_uscc`` (the link to the party's registry page) is set only for an entity in
    ``linkable``, the related entities the reader may open: a person has no page, and a link to
    an entity the reader may not see would answer 404.
    """
    party_uscc = None
    if rel.person_id and rel.person:
        party_name = mask_name(rel.person.name)
    else:
        holder = rel.holder_entity
        party_name = holder.name if holder else ""
        if holder is not None and holder.pk in linkable:
            party_uscc = holder.uscc
    return {
        "kind": rel.kind,
        "kind_label": str(rel.get_kind_display()),
        "party_name": party_name,
        "party_uscc": party_uscc,
        "share_ratio": rel.share_ratio,
        "title": rel.title,
    }


def entity_detail(
    entity: MarketEntity, relationships: list[Relationship], linkable: Collection[int] = ()
) -> dict[str, Any]:
    """Return the detail fields of an entity (public registration data, personal data masked);
    related entities in ``linkable`` (ids the reader may see) are linked."""
    rep = entity.legal_representative
    return {
        **entity_row(entity),
        "registered_capital": entity.registered_capital,
        "established_on": entity.established_on,
        "address": entity.address,
        "employees": entity.employees,
        "annual_revenue": entity.annual_revenue,
        "total_assets": entity.total_assets,
        "tags": [t.name for t in entity.tags.all()],
        "legal_representative_id_number": mask_id_number(rep.id_number) if rep else "",
        "relationships": [relationship_row(r, linkable) for r in relationships],
    }
