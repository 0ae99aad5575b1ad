// Draw the workbench charts from figures the server embedded with json_script (times are
// already Beijing time, formatted by the server).
(function () {
  function read(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return; }
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var lang = document.documentElement.lang || "zh-hans";
  var zh = lang.indexOf("zh") === 0;
  var trend = read("data-grade-trend");
  if (trend && trend.length) {
    draw("chart-grade-trend", {
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: {
        trigger: "axis",
        formatter: function (p) { var r = trend[p[0].dataIndex]; return r.at + "<br>" + (zh ? "信用分 " : "Score ") + r.score + " · " + r.grade; }
      },
      xAxis: { type: "category", data: trend.map(function (r) { return r.at.slice(5, 10); }) },
      yAxis: { type: "value", scale: true },
      series: [{ type: "line", data: trend.map(function (r) { return r.score; }), itemStyle: { color: "#b52a2a" }, symbolSize: 6 }]
    });
  }
  var monthly = read("data-monthly");
  if (monthly && monthly.length) {
    var names = zh
      ? { applications: "申请笔数", approvals: "批准笔数", disbursed: "放款笔数", amount: "放款金额（万元）", count: "笔数", wan: "万元" }
      : { applications: "Applications", approvals: "Approvals", disbursed: "Disbursed", amount: "Disbursed (10k CNY)", count: "Count", wan: "10k CNY" };
    // on a phone the legend takes two lines: the plot starts below it and the axis names
    var box = document.getElementById("chart-monthly");
    var narrow = box && box.clientWidth < 520;
    draw("chart-monthly", {
      grid: { left: 48, right: 56, top: narrow ? 76 : 40, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: { type: "category", data: monthly.map(function (r) { return r.month; }) },
      yAxis: [
        { type: "value", name: names.count, minInterval: 1 },
        { type: "value", name: names.wan, splitLine: { show: false } }
      ],
      series: [
        { name: names.applications, type: "bar", data: monthly.map(function (r) { return r.applications; }) },
        { name: names.approvals, type: "bar", data: monthly.map(function (r) { return r.approvals; }) },
        { name: names.disbursed, type: "bar", data: monthly.map(function (r) { return r.disbursed; }) },
        { name: names.amount, type: "line", yAxisIndex: 1, data: monthly.map(function (r) { return Number(r.amount_wan); }), itemStyle: { color: "#b52a2a" } }
      ]
    });
  }
})();
