// The credit heat map: the level's shapes (committed GeoJSON, see geo/SOURCES.md) coloured by the
// page's figures; clicking a shape opens the next level. No tiles, no CDN.
(function () {
  var holder = document.getElementById("data-heatmap");
  var el = document.getElementById("heatmap-chart");
  if (!holder || !el || !window.echarts || !window.fetch) { return; }
  var data = JSON.parse(holder.textContent);
  var byCode = {};
  data.rows.forEach(function (r) { byCode[r.code] = r; });
  fetch(data.geo, { credentials: "same-origin" }).then(function (resp) { return resp.json(); }).then(function (geo) {
    var mapName = "xr-" + data.name;
    echarts.registerMap(mapName, geo);
    var values = [], max = 0;
    geo.features.forEach(function (f) {
      var codes = f.properties.codes || [f.properties.code], sum = null;
      codes.forEach(function (c) {
        var r = byCode[c];
        if (r && r.value !== null && r.value !== undefined) { sum = (sum || 0) + Number(r.value); }
      });
      if (data.decimals && sum !== null && codes.length > 1) { sum = null; }  // an average cannot be summed
      if (sum !== null && sum > max) { max = sum; }
      values.push({ name: f.properties.name, value: sum, code: f.properties.code });
    });
    var narrow = el.clientWidth < 600;
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var v = p.data && p.data.value !== null && p.data.value !== undefined ? Number(p.data.value).toLocaleString("zh-CN") : data.words.none;
          return p.name + "<br>" + data.label + "：" + v;
        }
      },
      visualMap: {
        min: 0, max: max || 1, calculable: true, precision: data.decimals,
        orient: narrow ? "horizontal" : "vertical", left: narrow ? "center" : 10, bottom: narrow ? 0 : 10,
        itemHeight: narrow ? 120 : 140,
        text: [data.words.high, data.words.low], inRange: { color: ["#fdf0e6", "#f4a582", "#d6604d", "#b2182b"] }
      },
      series: [{
        type: "map", map: mapName, roam: false, selectedMode: false,
        top: 10, bottom: narrow ? 60 : 10,
        label: { show: true, fontSize: 10 },
        emphasis: { label: { show: true } },
        data: values
      }]
    });
    chart.on("click", function (p) {
      if (p.data && p.data.code) { window.location.href = data.link.replace("CODE", p.data.code); }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-ready", "1");
  });
})();
