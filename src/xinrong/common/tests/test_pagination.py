"""The one page helper and pager: bounded sizes, bad page numbers, filters kept."""

from __future__ import annotations

import pytest
from django.template import RequestContext, Template
from django.test import RequestFactory

from xinrong.common.pagination import MAX_PAGE_SIZE, page_size_clamp, paginate

ITEMS = list(range(45))


@pytest.mark.parametrize(
    ("raw", "number"),
    [("", 1), ("abc", 1), ("2", 2), ("3", 3), ("99", 3), ("-4", 3), ("0", 3), ("1.5", 1)],
)
def test_a_bad_page_number_gives_the_first_or_last_page(raw, number):
    page = paginate(RequestFactory().get("/", {"page": raw}), ITEMS, per_page=20)
    assert page.number == number


def test_a_huge_page_number_is_the_last_page_not_an_error():
    page = paginate({"page": "9" * 5000}, ITEMS, per_page=20)
    assert page.number in (1, 3)


@pytest.mark.parametrize(("raw", "size"), [(0, 1), (-5, 1), (10, 10), (10_000, MAX_PAGE_SIZE)])
def test_page_size_is_bounded(raw, size):
    assert page_size_clamp(raw) == size
    assert paginate({}, list(range(500)), per_page=raw).paginator.per_page == size


def test_the_request_may_choose_the_size_only_when_the_view_allows_it():
    request = RequestFactory().get("/", {"size": "5"})
    assert paginate(request, ITEMS).paginator.per_page == 20
    assert paginate(request, ITEMS, size_param="size").paginator.per_page == 5
    huge = RequestFactory().get("/", {"size": "100000"})
    assert paginate(huge, ITEMS, size_param="size").paginator.per_page == MAX_PAGE_SIZE
    junk = RequestFactory().get("/", {"size": "x"})
    assert paginate(junk, ITEMS, per_page=7, size_param="size").paginator.per_page == 7


def _pager(query: dict[str, str], items=ITEMS) -> str:
    request = RequestFactory().get("/list/", query)
    page = paginate(request, items, per_page=20)
    template = Template('{% include "web/_pagination.html" %}')
    return template.render(RequestContext(request, {"page": page}))


def test_the_pager_keeps_the_filters_and_changes_only_the_page():
    html = _pager({"status": "open", "q": "拉面", "page": "2"})
    assert 'rel="prev"' in html and 'rel="next"' in html
    assert "page=1" in html and "page=3" in html
    assert html.count("status=open") == 2
    assert "q=%E6%8B%89%E9%9D%A2" in html
    assert "第 2 / 3 页" in html


def test_the_pager_is_not_drawn_for_one_page():
    assert _pager({}, items=list(range(3))).strip() == ""
