// Draw a scoring model's KS and AUC per disbursement period (platform loan outcomes), in the
// style of the model page's PSI charts. Periods with too few outcomes are null: gaps in the lines
// (every point keeps its symbol, so a period between two gaps still shows).
(function () {
  "use strict";
  var el = document.getElementById("data-model");
  var chartEl = document.getElementById("chart-ks");
  if (!el || !chartEl || !window.echarts) { return; }
  var periods = JSON.parse(el.textContent).ks.periods;
  var label = chartEl.dataset;
  var encode = echarts.format.encodeHTML;

  function pct(x) { return x === null ? "—" : (100 * x).toFixed(1) + "%"; }

  function tip(params) {
    var p = periods[params[0].dataIndex];
    var lines = [encode(p.period)];
    if (p.ks === null) {
      lines.push(encode(label.labelFew));
    } else {
      lines.push("KS " + p.ks.toFixed(3), "AUC " + p.auc.toFixed(3));
    }
    lines.push(
      encode(label.labelRows) + " " + p.rows + " · " + encode(label.labelLoans) + " " + p.loans,
      encode(label.labelBads) + " " + p.bads + " · " + encode(label.labelBadRate) + " " + pct(p.bad_rate)
    );
    return lines.join("<br>");
  }

  var chart = echarts.init(chartEl);
  chart.setOption({
    grid: { left: 40, right: 10, top: 30, bottom: 30 },
    tooltip: { trigger: "axis", formatter: tip },
    legend: { data: ["KS", "AUC"], top: 0 },
    xAxis: { type: "category", data: periods.map(function (p) { return p.period; }) },
    yAxis: { type: "value", min: 0, max: 1 },
    series: [
      { name: "KS", type: "line", connectNulls: false, showAllSymbol: true, itemStyle: { color: "#b52a2a" },
        data: periods.map(function (p) { return p.ks; }) },
      { name: "AUC", type: "line", connectNulls: false, showAllSymbol: true, itemStyle: { color: "#1f6feb" },
        data: periods.map(function (p) { return p.auc; }) }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
