// Draw a scoring model's stability charts (PSI over runs, PSI per feature).
(function () {
  var el = document.getElementById("data-model");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var psiEl = document.getElementById("chart-psi");
  if (psiEl) {
    var c1 = echarts.init(psiEl);
    c1.setOption({
      grid: { left: 40, right: 10, top: 10, bottom: 30 }, tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.psi.map(function (r) { return r.at; }) },
      yAxis: { type: "value" },
      series: [{ type: "line", data: data.psi.map(function (r) { return r.psi; }), itemStyle: { color: "#b52a2a" },
        markLine: { silent: true, data: [{ yAxis: 0.1 }, { yAxis: 0.25 }] } }]
    });
    window.addEventListener("resize", function () { c1.resize(); });
  }
  var fEl = document.getElementById("chart-feature-psi");
  if (fEl) {
    var names = Object.keys(data.features);
    var c2 = echarts.init(fEl);
    c2.setOption({
      grid: { left: 150, right: 10, top: 10, bottom: 20 }, tooltip: {},
      xAxis: { type: "value" }, yAxis: { type: "category", data: names },
      series: [{ type: "bar", data: names.map(function (n) { return data.features[n]; }), itemStyle: { color: "#6c757d" } }]
    });
    window.addEventListener("resize", function () { c2.resize(); });
  }
})();
