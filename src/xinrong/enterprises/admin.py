"""Operator admin for the registry (personal identifiers stay masked)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from xinrong.common.masking import mask_id_number, mask_name
from xinrong.enterprises.models import MarketEntity, Person, Relationship, Tag
from xinrong.enterprises.names import address_key, name_key


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ("code", "name")


class RelationshipInline(admin.TabularInline[Relationship, MarketEntity]):
    model = Relationship
    fk_name = "entity"
    extra = 0
    raw_id_fields = ("person", "holder_entity")


@admin.register(MarketEntity)
class MarketEntityAdmin(admin.ModelAdmin[MarketEntity]):
    list_display = ("name", "uscc", "entity_type", "industry_code", "division_code", "size_class")
    list_filter = ("entity_type", "size_class", "registration_status")
    search_fields = ("=uscc", "name")
    raw_id_fields = ("legal_representative", "organisation")
    inlines = (RelationshipInline,)
    show_full_result_count = False  # the province registry has 520,000 rows
    # an entity moves region only by a registry delivery, which also moves its facts' province
    # (datahub.fact_province_sync); an edit here would leave them in the old partition
    readonly_fields = ("division_code",)

    def save_model(self, request: HttpRequest, obj: MarketEntity, form: Any, change: bool) -> None:
        # the matching keys follow an edited name or address (association, shared addresses)
        obj.name_key = name_key(obj.name)
        obj.address_key = address_key(obj.address)
        super().save_model(request, obj, form, change)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ("masked_name", "masked_id_number", "created_at")
    exclude = ("id_number", "phone", "id_number_index", "phone_index")
    readonly_fields = ("masked_name", "masked_id_number")
    show_full_result_count = False

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: Person) -> str:
        return mask_name(obj.name)

    @admin.display(description=_("身份证号码"))
    def masked_id_number(self, obj: Person) -> str:
        return mask_id_number(obj.id_number)
