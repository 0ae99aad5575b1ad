// The simulator's charts: percentiles per scenario against the balance, the exceedance curve
// and the histogram of yearly payouts; figures come from json_script "data-sim" (万元, %).
(function () {
  var node = document.getElementById("data-sim");
  if (!node || !window.echarts) return;
  var d = JSON.parse(node.textContent);
  var sc = d.scenarios || [];
  if (!sc.length) return;
  var charts = [];
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el);
    c.setOption(option);
    charts.push(c);
  }
  var wan = function (v) { return v == null ? "—" : Number(v).toLocaleString("zh-CN") + " 万元"; };
  var balanceLine = function (value, label) {
    return { silent: true, symbol: "none", lineStyle: { color: "#b52a2a", type: "dashed" },
      label: { formatter: label, position: "insideEndTop" }, data: [value] };
  };
  var names = sc.map(function (s) { return s.name; });
  draw("chart-sim-box", {
    tooltip: { trigger: "axis", valueFormatter: wan },
    legend: { top: 0 },
    grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, width: 80, overflow: "break" } },
    yAxis: { type: "value", name: "万元" },
    series: [
      { name: "中位数", type: "bar", data: sc.map(function (s) { return s.p50; }) },
      { name: "95%分位", type: "bar", data: sc.map(function (s) { return s.p95; }) },
      { name: "99%分位", type: "bar", data: sc.map(function (s) { return s.p99; }),
        markLine: balanceLine({ yAxis: d.balance }, "基金余额 " + d.balance + " 万元") }
    ]
  });
  draw("chart-sim-exceed", {
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    legend: { type: "scroll", top: 0 },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "value", name: "万元" },
    yAxis: { type: "value", name: "%", max: 100 },
    series: sc.map(function (s, i) {
      var line = { name: s.name, type: "line", showSymbol: false, data: s.exceed };
      if (i === 0) {
        line.markLine = balanceLine({ xAxis: d.balance }, "基金余额");
        line.markLine.label.position = "end";
      }
      return line;
    })
  });
  draw("chart-sim-hist", {
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    legend: { type: "scroll", top: 0 },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "value", name: "万元" },
    yAxis: { type: "value", name: "%" },
    series: sc.map(function (s) {
      return { name: s.name, type: "line", step: "middle", showSymbol: false, areaStyle: { opacity: 0.15 }, data: s.hist };
    })
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
