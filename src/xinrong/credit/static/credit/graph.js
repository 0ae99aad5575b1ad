// The relationship graph (图谱): fetch the JSON for the chosen number of hops, draw an ECharts
// force graph, and list the guarantee circles and related-party risk flags beside it.
// All text from the server is inserted as text (never as HTML); tooltips are HTML-escaped.
(function () {
  "use strict";
  var el = document.getElementById("graph-chart");
  if (!el || !window.echarts) { return; }
  var labels = JSON.parse(document.getElementById("graph-labels").textContent);
  var text = labels.text;
  var KINDS = ["enterprise", "individual_business", "person"];
  var NODE_COLORS = { enterprise: "#b52a2a", individual_business: "#e67e22", person: "#1f6feb" };
  var EDGE_STYLES = {
    guarantee: { color: "#c0392b", width: 2.5, type: "solid" },
    legal_representative: { color: "#1f6feb", width: 1.5, type: "solid" },
    shareholder: { color: "#2e7d32", width: 1.5, type: "solid" },
    executive: { color: "#6f42c1", width: 1, type: "dashed" },
    actual_controller: { color: "#d35400", width: 2, type: "solid" },
    shared_address: { color: "#8c8c8c", width: 1, type: "dotted" },
    shared_phone: { color: "#b8860b", width: 1, type: "dotted" }
  };
  var chart = echarts.init(el);
  var encode = echarts.format.encodeHTML;
  var summary = document.getElementById("graph-summary");
  var errorBox = document.getElementById("graph-error");
  var current = null;
  var request = 0;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : m;
    });
  }

  function show(id, visible) {
    document.getElementById(id).classList.toggle("d-none", !visible);
  }

  function item(children) {
    var li = document.createElement("li");
    children.forEach(function (child) {
      li.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return li;
  }

  function span(cls, content) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = content;
    return s;
  }

  function tooltip(params) {
    if (params.dataType === "edge") {
      var e = params.data.edge;
      return encode(e.kind_label) + "：" + encode(e.label);
    }
    var n = params.data.node;
    var lines = ["<strong>" + encode(n.label) + "</strong>", encode(n.kind_label)];
    if (n.uscc) { lines.push(encode(n.uscc)); }
    if (n.status_label) { lines.push(encode(n.status_label)); }
    lines.push(n.center ? encode(text.center) : encode(fill(text.hop, { n: n.hop })));
    n.flags.forEach(function (f) {
      lines.push('<span style="color:#c0392b">⚠ ' + encode(f.label) + (f.detail ? "：" + encode(f.detail) : "") + "</span>");
    });
    return lines.join("<br>");
  }

  function draw(data) {
    var categories = KINDS.map(function (k) {
      return { name: labels.nodes[k], itemStyle: { color: NODE_COLORS[k] } };
    });
    var nodes = data.nodes.map(function (n) {
      var size = n.center ? 50 : (n.kind === "person" ? 18 : 30 - 4 * Math.min(n.hop, 3));
      var node = {
        id: n.id,
        name: n.label,
        category: KINDS.indexOf(n.kind),
        symbolSize: size,
        node: n,
        label: { show: n.center || n.hop <= 1 || data.nodes.length <= 60 }
      };
      if (n.center) { node.symbol = "diamond"; }
      if (n.flags.length) { node.itemStyle = { borderColor: "#c0392b", borderWidth: 4 }; }
      return node;
    });
    var few = data.nodes.length <= 40;
    var links = data.edges.map(function (e) {
      var style = EDGE_STYLES[e.kind] || { color: "#999", width: 1, type: "solid" };
      return {
        source: e.source,
        target: e.target,
        edge: e,
        symbol: e.directed ? ["none", "arrow"] : ["none", "none"],
        symbolSize: e.kind === "guarantee" ? 10 : 6,
        lineStyle: { color: style.color, width: style.width, type: style.type, opacity: 0.9 },
        label: { show: few && (e.kind === "guarantee" || e.kind === "shareholder"), formatter: e.label, fontSize: 10 }
      };
    });
    chart.setOption({
      tooltip: { confine: true, formatter: tooltip },
      legend: [{ data: categories.map(function (c) { return c.name; }), top: 4 }],
      animationDurationUpdate: 600,
      series: [{
        type: "graph",
        layout: "force",
        roam: true,
        draggable: true,
        categories: categories,
        data: nodes,
        links: links,
        autoCurveness: true,
        force: few
          ? { repulsion: 700, gravity: 0.06, edgeLength: [90, 200], layoutAnimation: true }
          : { repulsion: 220, gravity: 0.1, edgeLength: [40, 120], layoutAnimation: true },
        label: { position: "right", fontSize: 11 },
        emphasis: { focus: "adjacency", lineStyle: { width: 4 }, edgeLabel: { show: true, formatter: function (p) { return p.data.edge.label; } } }
      }]
    }, true);
  }

  function listCircles(data) {
    var list = document.getElementById("circle-list");
    list.replaceChildren();
    data.circles.forEach(function (c) {
      var parts = [];
      c.members.concat([c.members[0]]).forEach(function (m, i) {
        if (i) { parts.push(" → "); }
        var name = span(m.in_graph ? "" : "text-secondary", m.name);
        if (!m.in_graph) { name.title = text.outside; }
        parts.push(name);
      });
      if (c.amount_label) {
        parts.push(document.createElement("br"));
        parts.push(span("text-secondary", fill(text.amount, { amount: c.amount_label })));
      }
      var li = item(parts);
      li.dataset.members = String(c.members.length);
      list.appendChild(li);
    });
    document.getElementById("circle-count").textContent = String(data.circles.length);
    show("circle-hidden", !data.access.guarantees);
    show("circle-empty", data.access.guarantees && !data.circles.length);
    show("circle-more", data.circles_truncated);
  }

  function listRisks(data) {
    var list = document.getElementById("risk-list");
    list.replaceChildren();
    var flagged = data.nodes.filter(function (n) { return n.flags.length; });
    flagged.forEach(function (n) {
      var parts = [span("fw-semibold", n.label + (n.center ? "（" + text.center + "）" : ""))];
      n.flags.forEach(function (f) {
        parts.push(document.createElement("br"));
        parts.push(span("badge text-bg-danger me-1", f.label));
        if (f.detail) { parts.push(span("text-secondary", f.detail)); }
      });
      var li = item(parts);
      li.dataset.node = n.id;
      list.appendChild(li);
    });
    document.getElementById("risk-count").textContent = String(flagged.length);
    show("risk-empty", !flagged.length);
  }

  function load(hops) {
    var mine = ++request;
    summary.textContent = text.loading;
    show("graph-error", false);
    chart.showLoading();
    fetch(el.dataset.url + "?hops=" + encodeURIComponent(hops), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (mine !== request) { return; }
      chart.hideLoading();
      if (!result.ok) { throw new Error(result.body.message || text.failed); }
      current = result.body;
      draw(current);
      listCircles(current);
      listRisks(current);
      var line = fill(text.summary, { nodes: current.nodes.length, edges: current.edges.length });
      if (current.truncated) { line += "；" + fill(text.truncated, { max: current.max_nodes }); }
      summary.textContent = line;
      el.dataset.loaded = String(hops);
    }).catch(function (err) {
      if (mine !== request) { return; }
      chart.hideLoading();
      summary.textContent = "";
      errorBox.textContent = err && err.message ? err.message : text.failed;
      show("graph-error", true);
    });
  }

  document.querySelectorAll("#hop-selector input[name=hops]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (!input.checked) { return; }
      var url = new URL(window.location.href);
      url.searchParams.set("hops", input.value);
      window.history.replaceState(null, "", url.toString());
      load(input.value);
    });
  });

  chart.on("dblclick", function (params) {
    // open the graph of a related entity (institutions and government; an enterprise sees its own)
    if (params.dataType !== "node" || el.dataset.navigate !== "1") { return; }
    var n = params.data.node;
    if (n.uscc && !n.center) {
      window.location.href = el.dataset.nodeUrl.replace("__uscc__", encodeURIComponent(n.uscc));
    }
  });
  window.addEventListener("resize", function () { chart.resize(); });

  var checked = document.querySelector("#hop-selector input[name=hops]:checked");
  load(checked ? checked.value : "2");
})();
