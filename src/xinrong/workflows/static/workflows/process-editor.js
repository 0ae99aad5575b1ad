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
  var modeler = new window.BpmnJS({
    container: canvas,
    additionalModules: window.xinrongBpmnTranslate ? [window.xinrongBpmnTranslate] : [],
  });
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
    "bpmn:InclusiveGateway": "包容网关",
    "bpmn:IntermediateThrowEvent": "中间事件",
    "bpmn:IntermediateCatchEvent": "中间事件",
    "bpmn:TextAnnotation": "注释",
  };

  // Fit the whole diagram into the canvas, centred in the room the tool palette leaves free, so the
  // palette covers neither the start event nor the lane titles. The palette is a column on the left
  // (wide screens) or a strip along the top (phones, see process-editor.css); it is measured.
  function fit() {
    var view = modeler.get("canvas");
    view.resized();
    var width = canvas.clientWidth;
    var height = canvas.clientHeight;
    var inner = view.viewbox().inner;
    if (!inner || !inner.width || !inner.height || !width || !height) {
      return;
    }
    var left = 16;
    var top = 16;
    var margin = 16;
    var palette = canvas.querySelector(".djs-palette");
    if (palette && palette.offsetWidth) {
      var outer = canvas.getBoundingClientRect();
      var box = palette.getBoundingClientRect();
      if (box.width > width / 2) {
        top = box.bottom - outer.top + 8;
      } else {
        left = box.right - outer.left + 12;
      }
    }
    var roomWidth = width - left - margin;
    var roomHeight = height - top - margin;
    var scale = Math.min(roomWidth / inner.width, roomHeight / inner.height, 1);
    var offsetX = left + (roomWidth - inner.width * scale) / 2;
    var offsetY = top + (roomHeight - inner.height * scale) / 2;
    view.viewbox({
      x: inner.x - offsetX / scale,
      y: inner.y - offsetY / scale,
      width: width / scale,
      height: height / scale,
    });
  }

  modeler
    .importXML(input.value)
    .then(function () {
      fit();
      canvas.dataset.ready = "1";
    })
    .catch(function (err) {
      var box = document.getElementById("bpmn-load-error");
      box.classList.remove("d-none");
      box.querySelector("span").textContent = String(err && err.message ? err.message : err);
      canvas.dataset.ready = "error";
    });

  // refit when the canvas gets wider or narrower (not when a phone's address bar shows or hides,
  // which only changes the height and would throw away the user's own zoom)
  var fittedWidth = canvas.clientWidth;
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      if (canvas.dataset.ready === "1" && canvas.clientWidth !== fittedWidth) {
        fittedWidth = canvas.clientWidth;
        fit();
      }
    }, 150);
  });

  var none = document.getElementById("element-none");
  var fields = document.getElementById("element-fields");
  var nameInput = document.getElementById("element-name");
  var condGroup = document.getElementById("condition-group");
  var condInput = document.getElementById("element-condition");
  var current = null;

  // the main text shows an element's name; an unnamed one gets a Chinese hint, never its id
  function unnamed(element) {
    if (element.type === "bpmn:SequenceFlow") {
      return "未命名的连线";
    }
    if (element.type === "bpmn:Lane") {
      return "未命名的泳道（请在下方“名称”中填写）";
    }
    return "未命名（请在下方“名称”中填写）";
  }

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
    document.getElementById("element-kind").textContent = KINDS[element.type] || "流程元素";
    document.getElementById("element-title").textContent = bo.name || unnamed(element);
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

  // a problem of the check locates its element: selected and scrolled into view
  document.querySelectorAll("button.xr-locate").forEach(function (button) {
    button.addEventListener("click", function () {
      var element = modeler.get("elementRegistry").get(button.dataset.element);
      if (!element) {
        return;
      }
      modeler.get("selection").select(element);
      modeler.get("canvas").scrollToElement(element);
      canvas.scrollIntoView({ behavior: "smooth", block: "center" });
    });
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
