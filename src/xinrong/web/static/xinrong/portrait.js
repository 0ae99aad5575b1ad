// Draw the portrait's radar (dimension sub-scores) and score trend from json_script data.
(function () {
  var el = document.getElementById("data-portrait");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var radarEl = document.getElementById("chart-radar");
  if (radarEl && data.radar.length) {
    var radar = echarts.init(radarEl);
    radar.setOption({
      tooltip: {},
      radar: { indicator: data.radar.map(function (d) { return { name: d.name, max: 100 }; }), radius: "65%" },
      series: [{ type: "radar", data: [{ value: data.radar.map(function (d) { return d.value; }), name: data.label, areaStyle: { opacity: 0.2 } }], itemStyle: { color: "#b52a2a" } }]
    });
    window.addEventListener("resize", function () { radar.resize(); });
  }
  var trendEl = document.getElementById("chart-trend");
  if (trendEl && data.trend.length) {
    var trend = echarts.init(trendEl);
    trend.setOption({
      grid: { left: 40, right: 10, top: 10, bottom: 30 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.map(function (d) { return d.date; }) },
      yAxis: { type: "value", scale: true },
      series: [{ type: "line", data: data.trend.map(function (d) { return d.score; }), itemStyle: { color: "#b52a2a" } }]
    });
    window.addEventListener("resize", function () { trend.resize(); });
  }
})();
