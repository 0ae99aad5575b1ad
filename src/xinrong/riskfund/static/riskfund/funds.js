// A risk fund's balance at the end of each month (line) with each month's inflow and outflow
// (bars), from figures the server embedded with json_script (summed from the ledger).
(function () {
  var node = document.getElementById("data-fund-balance");
  var el = document.getElementById("chart-balance");
  if (!node || !el || !window.echarts) return;
  var d = JSON.parse(node.textContent);
  var num = function (v) { return Number(v); };
  var fmt = function (v) {
    return v == null ? "—" : Number(v).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " " + d.labels.unit;
  };
  var axis = function (v) {
    var a = Math.abs(v);
    if (a >= 1e8) return (v / 1e8).toFixed(1) + d.labels.yi;
    if (a >= 1e4) return (v / 1e4).toFixed(0) + d.labels.wan;
    return String(v);
  };
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis", valueFormatter: fmt },
    legend: { data: [d.labels.balance, d.labels.inflow, d.labels.outflow], top: 0 },
    grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: d.months },
    yAxis: { type: "value", axisLabel: { formatter: axis } },
    series: [
      { name: d.labels.balance, type: "line", data: d.balance.map(num), smooth: false, symbolSize: 5, itemStyle: { color: "#b52a2a" }, areaStyle: { opacity: 0.08 } },
      { name: d.labels.inflow, type: "bar", data: d.inflow.map(num), itemStyle: { color: "#198754" }, barMaxWidth: 18 },
      { name: d.labels.outflow, type: "bar", data: d.outflow.map(num), itemStyle: { color: "#6c757d" }, barMaxWidth: 18 }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
