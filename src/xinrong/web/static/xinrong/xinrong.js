// Behaviours every page needs, wired by data- attributes instead of inline handlers, so the
// Content-Security-Policy can forbid inline script (docs/security.md, "Headers").
//   <select data-autosubmit>         submits its form when changed (the language switch)
//   <form data-confirm="question">   asks before submitting (revoking a key, unlocking a login)
//   tables in .table-responsive or .xr-table-cards: each cell gets its column's header as
//                                    data-label, which the phone layout shows (tables as cards)
//   the sidebar's groups (#mainnav): a group the user folds stays folded on the next page,
//                                    except the group holding the current page
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLElement && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    }
  });
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) {
        return;
      }
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  // Tables as cards on a phone: label each cell with its column's header (xinrong.css draws the
  // label before the value below 576 px). Run on load and on every htmx swap.
  function labelCells(root) {
    var tables = (root || document).querySelectorAll(
      ".table-responsive > table.table, table.xr-table-cards"
    );
    Array.prototype.forEach.call(tables, function (table) {
      var head = table.tHead && table.tHead.rows.length ? table.tHead.rows[0] : null;
      if (!head) {
        return;
      }
      var labels = [];
      Array.prototype.forEach.call(head.cells, function (cell) {
        var text = (cell.textContent || "").replace(/\s+/g, " ").trim();
        for (var i = 0; i < (cell.colSpan || 1); i++) {
          labels.push(text);
        }
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var col = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (!cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", cell.colSpan > 1 ? "" : labels[col] || "");
            }
            col += cell.colSpan || 1;
          });
        });
      });
    });
  }

  // The sidebar remembers which groups the user folded (this browser only).
  var FOLDED = "xinrong.nav.folded";
  function folded() {
    try {
      return JSON.parse(window.localStorage.getItem(FOLDED) || "[]");
    } catch (e) {
      return [];
    }
  }
  function remember(key, isFolded) {
    var keys = folded().filter(function (k) {
      return k !== key;
    });
    if (isFolded) {
      keys.push(key);
    }
    try {
      window.localStorage.setItem(FOLDED, JSON.stringify(keys));
    } catch (e) {
      /* storage refused: the groups simply open again on the next page */
    }
  }
  function restoreGroups() {
    var keys = folded();
    Array.prototype.forEach.call(document.querySelectorAll("#mainnav .xr-nav-group"), function (group) {
      var list = group.querySelector("ul.collapse");
      var toggle = group.querySelector(".xr-nav-group-toggle");
      if (!list || !toggle) {
        return;
      }
      if (keys.indexOf(group.dataset.group) !== -1 && !list.hasAttribute("data-current")) {
        list.classList.remove("show");
        toggle.classList.add("collapsed");
        toggle.setAttribute("aria-expanded", "false");
      }
      list.addEventListener("hidden.bs.collapse", function () {
        remember(group.dataset.group, true);
      });
      list.addEventListener("shown.bs.collapse", function () {
        remember(group.dataset.group, false);
      });
    });
  }

  function ready() {
    labelCells(document);
    restoreGroups();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  document.addEventListener("htmx:afterSettle", function () {
    labelCells(document);
  });
})();
