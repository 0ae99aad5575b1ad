"""Words for the security record: an event's details as labelled Chinese values, not codes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinrong.accounts.choices import OrgKind, Role
from xinrong.reference import divisions


def _roles(value: Any) -> str:
    codes = value if isinstance(value, list | tuple) else [value]
    labels = [str(Role(c).label) if c in Role.values else str(c) for c in codes]
    return "、".join(labels) or _("无")


def _kind(value: Any) -> str:
    return str(OrgKind(value).label) if value in OrgKind.values else str(value)


def _region(value: Any) -> str:
    if not value:
        return _("全省（不限区划）")
    division = divisions.get(str(value))
    return f"{division.name}（{value}）" if division else str(value)


def _minutes(value: Any) -> str:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return str(value)
    return _("%(m)s 分钟") % {"m": max(1, round(seconds / 60))}


# How values of apps above accounts read in its security log (e.g. a data source's categories):
# those apps register them when they start (``detail_reader_register``), accounts imports none.
_READERS: dict[str, Any] = {}


def detail_reader_register(key: str, read: Any) -> None:
    """Say how the value ``key`` of a security event's details reads (``read(value) -> str``)."""
    _READERS[key] = read


def _registered(key: str) -> Any:
    return lambda v: _READERS[key](v) if key in _READERS else str(v)


def _users(value: Any) -> str:
    count = len(value) if isinstance(value, list | tuple) else value
    return _("%(n)s 个") % {"n": count}


# what was changed: field → (label, how a value reads)
_CHANGED: dict[str, tuple[Any, Any]] = {
    "name": (gettext_lazy("名称"), str),
    "contact": (gettext_lazy("联系人及电话"), str),
    "region_code": (gettext_lazy("管辖区划"), lambda v: _region(v)),
    "display_name": (gettext_lazy("姓名"), str),
    "phone": (gettext_lazy("手机号"), None),  # the digits are not recorded
    "categories": (gettext_lazy("报送的数据类别"), _registered("categories")),
    "cadence": (gettext_lazy("更新频率"), _registered("cadence")),
    "description": (gettext_lazy("说明"), str),
}


def _changes(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    parts = []
    for key, pair in value.items():
        label, show = _CHANGED.get(key, (key, str))
        if show is None:
            parts.append(_("%(f)s已修改") % {"f": label})
            continue
        before, after = [*pair, "", ""][:2] if isinstance(pair, list) else ("", pair)
        parts.append(
            _("%(f)s：%(a)s → %(b)s")
            % {
                "f": label,
                "a": show(before) if before else _("（空）"),
                "b": show(after) or _("（空）"),
            }
        )
    return "；".join(parts)


# key → (label, how the value reads)
_FIELDS: dict[str, tuple[Any, Any]] = {
    "name": (gettext_lazy("名称"), str),
    "kind": (gettext_lazy("机构类型"), _kind),
    "region_code": (gettext_lazy("管辖区划"), _region),
    "roles": (gettext_lazy("角色"), _roles),
    "before": (gettext_lazy("原角色"), _roles),
    "after": (gettext_lazy("新角色"), _roles),
    "reason": (gettext_lazy("理由"), str),
    "contact": (gettext_lazy("申请联系人"), str),
    "failures": (gettext_lazy("连续失败次数"), str),
    "seconds": (gettext_lazy("锁定时长"), _minutes),
    "lockouts": (gettext_lazy("累计锁定次数"), str),
    "cleared": (gettext_lazy("解除的锁定"), str),
    "prefix": (gettext_lazy("密钥前缀"), lambda v: f"xr_{v}_…"),
    "service_user": (gettext_lazy("服务账号"), str),
    "changes": (gettext_lazy("修改内容"), _changes),
    "users": (gettext_lazy("一并停用或恢复的账号"), _users),
    "source": (gettext_lazy("数据来源代码"), str),
    "categories": (gettext_lazy("报送的数据类别"), _registered("categories")),
}


def security_event_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """Return an event's details as (label, value) pairs in the platform's language."""
    out = []
    for key, value in (details or {}).items():
        label, show = _FIELDS.get(key, (key, str))
        out.append((str(label), show(value)))
    return out
