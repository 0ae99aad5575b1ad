// 登记走访: show the consent only for “已建档意向”, the reasons only for “拒绝/未遇到”, the
// reason's text only for “其他” (the server checks the same rules; this only saves scrolling).
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  function value(name) {
    var checked = form.querySelector("input[name='" + name + "']:checked");
    return checked ? checked.value : "";
  }
  function show(name, visible) {
    var box = form.querySelector("[data-field='" + name + "']");
    if (box) box.hidden = !visible;
  }
  function update() {
    var result = value("result");
    show("consent", result === "" || result === "intent");
    show("refusal_reason", result === "" || result !== "intent");
    show("refusal_note", value("refusal_reason") === "other" && result !== "intent");
  }
  form.addEventListener("change", update);
  update();
})();
