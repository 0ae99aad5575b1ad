// The PBoC column's charts: quota used vs quota, and credit/first-loan shares by month.
(function () {
  var node = document.getElementById("data-pboc");
  if (!node || !window.echarts) return;
  var d = JSON.parse(node.textContent);
  var q = document.getElementById("chart-quotas");
  if (q && d.quotas.length) {
    echarts.init(q).setOption({
      tooltip: { trigger: "axis" }, legend: { data: ["额度", "已使用"] },
      grid: { left: 8, right: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", name: "元" },
      yAxis: { type: "category", data: d.quotas.map(function (r) { return r.name; }) },
      series: [
        { name: "额度", type: "bar", data: d.quotas.map(function (r) { return Number(r.quota); }) },
        { name: "已使用", type: "bar", data: d.quotas.map(function (r) { return Number(r.used); }) }
      ]
    });
  }
  var s = document.getElementById("chart-shares");
  if (s && d.months.length) {
    var series = [];
    d.series.forEach(function (x) {
      series.push({ name: x.name + " 信用贷款占比", type: "line", data: x.credit, connectNulls: true });
      series.push({ name: x.name + " 首贷占比", type: "line", data: x.first, connectNulls: true, lineStyle: { type: "dashed" } });
    });
    echarts.init(s).setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
      legend: { type: "scroll" }, grid: { left: 8, right: 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.months }, yAxis: { type: "value", max: 100, name: "%" },
      series: series
    });
  }
})();
