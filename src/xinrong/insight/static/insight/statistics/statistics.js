/* 统计分析: bar chart of the current table (amount and number of loans). No inline script (CSP). */
(function () {
  "use strict";
  var el = document.getElementById("stats-chart");
  var src = document.getElementById("stats-chart-data");
  if (!el || !src || typeof echarts === "undefined") return;
  var d = JSON.parse(src.textContent);
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: [d.amount_name, d.loans_name] },
    grid: { left: 8, right: 8, bottom: 8, top: 32, containLabel: true },
    xAxis: { type: "category", data: d.labels, axisLabel: { interval: 0, rotate: d.labels.length > 6 ? 30 : 0 } },
    yAxis: [{ type: "value", name: "" }, { type: "value", name: "", splitLine: { show: false } }],
    series: [
      { name: d.amount_name, type: "bar", data: d.amounts },
      { name: d.loans_name, type: "line", yAxisIndex: 1, data: d.loans }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
