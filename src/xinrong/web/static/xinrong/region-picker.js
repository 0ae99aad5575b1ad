// Cascading division picker: <div data-region-picker data-input="id-of-hidden-input" data-path='["630000","630100"]'>.
(function () {
  var API = document.currentScript.dataset.api;
  function load(parent) {
    var url = API + (parent ? "?parent=" + encodeURIComponent(parent) : "");
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : []; });
  }
  function setup(box) {
    var input = document.getElementById(box.dataset.input);
    var path = JSON.parse(box.dataset.path || "[]");
    var placeholder = box.dataset.placeholder || "—";
    function addLevel(parent, selected, index) {
      return load(parent).then(function (items) {
        if (!items.length) return;
        var sel = document.createElement("select");
        sel.className = "form-select form-select-sm w-auto";
        sel.setAttribute("aria-label", placeholder);
        sel.dataset.level = index;
        var opt = document.createElement("option");
        opt.value = ""; opt.textContent = placeholder; sel.appendChild(opt);
        items.forEach(function (d) {
          var o = document.createElement("option");
          o.value = d.code; o.textContent = d.name;
          if (d.code === selected) o.selected = true;
          sel.appendChild(o);
        });
        sel.addEventListener("change", function () {
          var selects = box.querySelectorAll("select");
          for (var i = selects.length - 1; i > index; i--) selects[i].remove();
          input.value = sel.value || (index > 0 ? selects[index - 1].value : "");
          if (sel.value) addLevel(sel.value, null, index + 1);
        });
        box.appendChild(sel);
        if (selected && index + 1 < path.length + 1) return addLevel(selected, path[index + 1], index + 1);
      });
    }
    addLevel(null, path[0], 0);
  }
  document.querySelectorAll("[data-region-picker]").forEach(setup);
})();
