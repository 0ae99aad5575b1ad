"""The process editor's form: the diagram (BPMN XML from the modeler) and who works in each lane."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from xinrong.accounts.choices import OrgKind, Role
from xinrong.workflows import bpmn


def _lane_field(lane_id: str, part: str) -> str:
    return f"lane__{lane_id}__{part}"


class VersionForm(forms.Form):
    """A draft's diagram, change note, and for each lane: roles, named people, organisation kind."""

    bpmn_xml = forms.CharField(widget=forms.HiddenInput, label=_("流程图"))
    note = forms.CharField(label=_("修改说明"), max_length=200, required=False)

    def __init__(self, *args: Any, lanes: list[bpmn.Lane], lane_map: dict[str, Any], **kw: Any):
        super().__init__(*args, **kw)
        self.lanes = lanes
        users = get_user_model()
        for lane in lanes:
            entry = lane_map.get(lane.id) or {}
            names = list(
                users.objects.filter(pk__in=entry.get("users", [])).values_list(
                    "username", flat=True
                )
            )
            self.fields[_lane_field(lane.id, "roles")] = forms.MultipleChoiceField(
                label=_("角色"),
                choices=Role.choices,
                required=False,
                initial=entry.get("roles", []),
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[_lane_field(lane.id, "users")] = forms.CharField(
                label=_("指定人员（登录名，多个用逗号分隔）"),
                required=False,
                initial="，".join(names),
            )
            self.fields[_lane_field(lane.id, "org_kind")] = forms.ChoiceField(
                label=_("限定机构类型"),
                choices=[("", _("不限")), *OrgKind.choices],
                required=False,
                initial=entry.get("org_kind", ""),
            )

    def lane_rows(self) -> list[tuple[bpmn.Lane, list[forms.BoundField]]]:
        """Return each lane with its three bound fields, for the template."""
        return [
            (lane, [self[_lane_field(lane.id, part)] for part in ("roles", "users", "org_kind")])
            for lane in self.lanes
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        users = get_user_model()
        lane_map: dict[str, Any] = {}
        for lane in self.lanes:
            field = _lane_field(lane.id, "users")
            raw = (data.get(field) or "").replace("，", ",").replace("、", ",")
            names = [n.strip() for n in raw.split(",") if n.strip()]
            found = dict(
                users.objects.filter(username__in=names, is_active=True).values_list(
                    "username", "pk"
                )
            )
            missing = [n for n in names if n not in found]
            if missing:
                self.add_error(
                    field,
                    _("找不到这些登录名（或账号已停用）：%(names)s")
                    % {"names": "、".join(missing)},
                )
            lane_map[lane.id] = {
                "roles": data.get(_lane_field(lane.id, "roles")) or [],
                "users": [found[n] for n in names if n in found],
                "org_kind": data.get(_lane_field(lane.id, "org_kind")) or "",
            }
        data["lane_map"] = lane_map
        return data
