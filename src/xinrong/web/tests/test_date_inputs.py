"""Date inputs carry ISO dates in every language: a browser shows nothing for "2027/03/07".

Found by the enterprise's browser journey: the authorisation form's 有效期至 looked empty and the
form was refused with "请填写有效期至" although the page had pre-filled it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from xinrong.accounts.forms import SecurityLogFilterForm
from xinrong.credit.forms import AuthorisationForm

ISO_VALUE = re.compile(
    r'type="date"[^>]*value="\d{4}-\d{2}-\d{2}"|value="\d{4}-\d{2}-\d{2}"[^>]*type="date"'
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_authorisation_expiry_is_prefilled_as_an_iso_date(language):
    with translation.override(language):
        html = str(AuthorisationForm()["expires_on"])
    assert ISO_VALUE.search(html), html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_security_record_filter_keeps_its_dates_as_iso(language):
    form = SecurityLogFilterForm(initial={"date_from": dt.date(2026, 3, 7)})
    with translation.override(language):
        html = str(form["date_from"])
    assert 'value="2026-03-07"' in html, html
