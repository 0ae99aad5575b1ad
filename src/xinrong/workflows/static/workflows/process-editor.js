// The approval-process editor: the bpmn-js modeler, a small panel for the selected element
// (name; condition on a gateway's branch), and saving the diagram into the page's form.
(function () {
  "use strict";
  var canvas = document.getElementById("bpmn-canvas");
  var input = document.getElementById("id_bpmn_xml");
  if (!canvas || !input || typeof window.BpmnJS !== "function") {
    return;
  }
  var editable = canvas.dataset.editable === "1";
  var modeler = new window.BpmnJS({ container: canvas });
  window.xinrongModeler = modeler; // for the browser test and the console

  var KINDS = {
    "bpmn:StartEvent": "开始事件",
    "bpmn:EndEvent": "结束事件",
    "bpmn:UserTask": "人工审批任务",
    "bpmn:Task": "任务",
    "bpmn:ExclusiveGateway": "排他网关",
    "bpmn:ParallelGateway": "并行网关",
    "bpmn:SequenceFlow": "连线",
    "bpmn:Lane": "泳道",
    "bpmn:Participant": "流程",
  };

  modeler
    .importXML(input.value)
    .then(function () {
      // fit the diagram, leaving room on the left for the tool palette
      var view = modeler.get("canvas");
      view.zoom("fit-viewport", "auto");
      var box = view.viewbox();
      var inner = box.inner;
      var pad = (editable ? 170 : 20) / (box.scale || 1);
      view.viewbox({
        x: inner.x - pad,
        y: inner.y - 20,
        width: inner.width + pad + 20,
        height: inner.height + 40,
      });
      canvas.dataset.ready = "1";
    })
    .catch(function (err) {
      var box = document.getElementById("bpmn-load-error");
      box.classList.remove("d-none");
      box.querySelector("span").textContent = String(err && err.message ? err.message : err);
      canvas.dataset.ready = "error";
    });

  var none = document.getElementById("element-none");
  var fields = document.getElementById("element-fields");
  var nameInput = document.getElementById("element-name");
  var condGroup = document.getElementById("condition-group");
  var condInput = document.getElementById("element-condition");
  var current = null;

  function isBranch(element) {
    var bo = element.businessObject;
    return (
      element.type === "bpmn:SequenceFlow" &&
      bo.sourceRef &&
      (bo.sourceRef.$type === "bpmn:ExclusiveGateway" || bo.sourceRef.$type === "bpmn:InclusiveGateway")
    );
  }

  function show(element) {
    current = element;
    if (!element || element.type === "label") {
      none.classList.remove("d-none");
      fields.classList.add("d-none");
      return;
    }
    var bo = element.businessObject;
    none.classList.add("d-none");
    fields.classList.remove("d-none");
    document.getElementById("element-kind").textContent = KINDS[element.type] || element.type;
    document.getElementById("element-id").textContent = bo.id;
    nameInput.value = bo.name || "";
    if (isBranch(element)) {
      condGroup.classList.remove("d-none");
      condInput.value = bo.conditionExpression ? bo.conditionExpression.body || "" : "";
    } else {
      condGroup.classList.add("d-none");
    }
  }

  modeler.on("selection.changed", function (event) {
    show(event.newSelection.length === 1 ? event.newSelection[0] : null);
  });
  modeler.on("element.changed", function (event) {
    if (current && event.element === current) {
      show(current);
    }
  });

  if (editable) {
    nameInput.addEventListener("change", function () {
      if (current) {
        modeler.get("modeling").updateLabel(current, nameInput.value);
      }
    });
    condInput.addEventListener("change", function () {
      if (!current || !isBranch(current)) {
        return;
      }
      var value = condInput.value.trim();
      var expression = value
        ? modeler.get("moddle").create("bpmn:FormalExpression", { body: value })
        : undefined;
      modeler.get("modeling").updateProperties(current, { conditionExpression: expression });
    });
  }

  var form = document.getElementById("version-form");
  if (form && editable) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // a field being edited commits its value first
      if (document.activeElement === nameInput || document.activeElement === condInput) {
        document.activeElement.dispatchEvent(new Event("change"));
      }
      modeler
        .saveXML({ format: true })
        .then(function (result) {
          input.value = result.xml;
          form.submit();
        })
        .catch(function (err) {
          window.alert("流程图无法保存：" + (err && err.message ? err.message : err));
        });
    });
  }
})();
