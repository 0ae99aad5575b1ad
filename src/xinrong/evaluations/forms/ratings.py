"""Forms of ratings and appeals; the services validate (every error at once, in Chinese)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinrong.evaluations.choices import ITEMS, RatingItem

STARS = [(str(i), _("%(n)s 分") % {"n": i}) for i in range(5, 0, -1)]


class RatingForm(forms.Form):
    """One radio group of 1–5 per item of the user's side, and a comment."""

    def __init__(self, *args: Any, direction: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in ITEMS[direction]:
            self.fields[item] = forms.ChoiceField(
                label=RatingItem(item).label,
                choices=STARS,
                widget=forms.RadioSelect(attrs={"class": "xr-stars"}),
                required=False,
            )
        self.fields["comment"] = forms.CharField(
            label=_("评价内容（选填）"),
            widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
            required=False,
        )

    def scores(self) -> dict[str, Any]:
        return {k: self.data.get(k) for k in self.fields if k != "comment"}


class AppealForm(forms.Form):
    reason = forms.CharField(
        label=_("申诉理由"),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        required=False,
    )


class DecideForm(forms.Form):
    action = forms.ChoiceField(
        label=_("处理结果"),
        choices=[
            ("uphold", _("申诉成立（撤销该评价）")),
            ("reject", _("申诉不成立（评价继续有效）")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("处理意见"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
