// Draw the evidence charts from the figures the server embedded with json_script.
(function () {
  var el = document.getElementById("evidence-chart");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var charts = [];
  var funnel = document.getElementById("chart-funnel");
  if (funnel) {
    var c1 = echarts.init(funnel);
    c1.setOption({
      tooltip: { trigger: "item" },
      grid: { left: 80, right: 30, top: 10, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: data.funnel.map(function (r) { return r.name; }) },
      series: [{ type: "bar", data: data.funnel.map(function (r) { return r.value; }), itemStyle: { color: "#b52a2a" }, label: { show: true, position: "right" } }]
    });
    charts.push(c1);
  }
  var budget = document.getElementById("chart-budget");
  if (budget) {
    var c2 = echarts.init(budget);
    var names = data.departments.map(function (r) { return r.name; });
    function col(key) { return data.departments.map(function (r) { return r[key] === null ? 0 : Number(r[key]); }); }
    c2.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 150, right: 20, top: 30, bottom: 20 },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: names },
      series: [
        { name: data.labels.budget, type: "bar", data: col("budget"), itemStyle: { color: "#c9c9c9" } },
        { name: data.labels.granted, type: "bar", data: col("granted"), itemStyle: { color: "#e08a2c" } },
        { name: data.labels.disbursed, type: "bar", data: col("disbursed"), itemStyle: { color: "#2c7be0" } }
      ]
    });
    charts.push(c2);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
