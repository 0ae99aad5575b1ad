"""The credit heat map as a government user meets it, in a real Chromium at 1366 and 390 px.

On the seeded demo world: the provincial finance department's fund approver (``gov_fund``) clicks
海西州's bar of the home page's region chart and lands on its counties, goes up to the province,
clicks a prefecture on the map (海西州), sees its
counties on the map and in the ranked table, switches the metric to 信用创评, and the figures of
the table agree with the map's data and with the database; then opens a county (格尔木) whose
townships are ranked, and a township whose villages are ranked.

Screenshots: ``/tmp/journey-issue16-heatmap/`` and ``var/screenshots/journeys/issue16-heatmap/``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db.models import Sum

from xinrong.insight.models import CampaignRecord
from xinrong.insight.selectors.heatmap import campaign_year
from xinrong.web.tests.journey_support import Person, demo_site_fixture, figure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

demo_site = demo_site_fixture()

ISSUE = "issue16-heatmap"


def _table(p: Person) -> dict[str, list[str]]:
    """The ranked table: {division code: [cell texts]}."""
    rows = p.page.locator("#heatmap-table tbody tr")
    return {
        rows.nth(i).get_attribute("data-code") or "": [
            t.strip() for t in rows.nth(i).locator("td").all_inner_texts()
        ]
        for i in range(rows.count())
    }


def _map_data(p: Person) -> dict[str, Any]:
    return dict(json.loads(p.page.locator("#data-heatmap").inner_text() or "{}"))


def test_a_government_user_drills_the_map_and_switches_metric(browser: Any, demo_site: str):
    gov = Person(browser, demo_site, "gov_fund", issue=ISSUE)
    try:
        gov.look("01-home")
        # the home page's region chart: a click on 海西州's bar opens its counties
        bars = gov.page.locator("#chart-prefecture[data-clickable='1']")
        bars.scroll_into_view_if_needed()
        point = gov.page.evaluate(
            """() => {
              const c = echarts.getInstanceByDom(document.getElementById('chart-prefecture'));
              const names = c.getOption().yAxis[0].data;
              const i = names.indexOf('海西蒙古族藏族自治州');
              const v = c.getOption().series[0].data[i];
              return c.convertToPixel({gridIndex: 0}, [v / 2, i]);
            }"""
        )
        with gov.page.expect_navigation():
            bars.click(position={"x": point[0], "y": point[1]})
        assert "region=632800" in gov.page.url
        gov.page.locator("#heatmap-chart[data-ready='1']").wait_for()
        gov.look("02-from-home-bar")
        gov.click("#heatmap-trail li[data-code='630000'] a")
        gov.page.locator("#heatmap-chart[data-ready='1']").wait_for()
        words = gov.look("02-province")
        assert "海西蒙古族藏族自治州" in words
        # click 海西州 on the map (its shape's centre, found through the chart)
        chart = gov.page.locator("#heatmap-chart")
        point = gov.page.evaluate(
            """() => {
              const c = echarts.getInstanceByDom(document.getElementById('heatmap-chart'));
              const s = c.getModel().getSeriesByIndex(0);
              const region = s.coordinateSystem.getRegion('海西蒙古族藏族自治州');
              return c.convertToPixel({seriesIndex: 0}, region.getCenter());
            }"""
        )
        with gov.page.expect_navigation():
            chart.click(position={"x": point[0], "y": point[1]})
        gov.page.locator("#heatmap-chart[data-ready='1']").wait_for()
        words = gov.look("03-haixi-counties")
        assert "region=632800" in gov.page.url
        assert "格尔木市" in words and "茫崖市" in words and "德令哈市" in words
        data = _map_data(gov)
        table = _table(gov)
        assert set(table) == {r["code"] for r in data["rows"]}
        for row in data["rows"]:  # the map's figure is the table's first column
            assert figure(table[row["code"]][2]) == row["value"]
        # switch the metric to 信用创评
        gov.click("#heatmap-metrics a[data-metric='campaigns']")
        gov.page.locator("#heatmap-chart[data-ready='1']").wait_for()
        gov.look("04-haixi-campaigns")
        year = campaign_year()
        assert year is not None
        table = _table(gov)
        data = _map_data(gov)
        golmud = CampaignRecord.objects.filter(division_code__startswith="632801", year=year)
        households = golmud.aggregate(n=Sum("credit_households"))["n"]
        assert households and figure(table["632801"][2]) == households
        assert {r["code"]: r["value"] for r in data["rows"]}["632801"] == households
        # the county's townships, then a township's villages, as ranked tables
        gov.click("#heatmap-table tr[data-code='632801'] a")
        words = gov.look("05-golmud-townships")
        assert gov.page.locator("#heatmap-chart").count() == 0
        townships = _table(gov)
        assert sum(figure(cells[2]) for cells in townships.values()) == households
        first = next(iter(townships))
        gov.click(f"#heatmap-table tr[data-code='{first}'] a")
        words = gov.look("06-villages")
        villages = _table(gov)
        assert sum(figure(c[2]) for c in villages.values()) == figure(townships[first][2])
    finally:
        gov.close()
