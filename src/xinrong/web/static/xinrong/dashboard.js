// Draw the registry charts from figures the server embedded with json_script.
(function () {
  function read(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : []; }
  var pref = read("data-prefecture"), size = read("data-size");
  var elPref = document.getElementById("chart-prefecture");
  if (elPref && window.echarts) {
    var c1 = echarts.init(elPref);
    c1.setOption({
      grid: { left: 150, right: 20, top: 10, bottom: 20 },
      tooltip: {},
      xAxis: { type: "value" },
      yAxis: { type: "category", data: pref.map(function (r) { return r.name; }).reverse() },
      series: [{ type: "bar", data: pref.map(function (r) { return r.count; }).reverse(), itemStyle: { color: "#b52a2a" } }]
    });
    window.addEventListener("resize", function () { c1.resize(); });
    // a click on a prefecture's bar opens the heat map of its counties (when the user may see it)
    var drill = elPref.getAttribute("data-drill");
    if (drill) {
      var codes = pref.map(function (r) { return r.code; }).reverse();
      elPref.setAttribute("data-clickable", "1");
      c1.on("click", function (p) {
        var code = codes[p.dataIndex];
        if (code) { window.location.href = drill.replace("CODE", code); }
      });
    }
  }
  var elSize = document.getElementById("chart-size");
  if (elSize && window.echarts) {
    var c2 = echarts.init(elSize);
    c2.setOption({
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["40%", "70%"], data: size.map(function (r) { return { name: r.name, value: r.count }; }) }]
    });
    window.addEventListener("resize", function () { c2.resize(); });
  }
})();
