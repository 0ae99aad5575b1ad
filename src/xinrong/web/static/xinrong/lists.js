// Lists (xinrong.common.listing): name every cell of a .xr-cards table after its column, so that
// on a phone (lists.css) each row reads as a card of "label value" lines.
(function () {
  function label(table) {
    if (!table.tHead || !table.tHead.rows.length) return;
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.trim(); });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        Array.prototype.forEach.call(row.cells, function (cell, i) {
          if (cell.colSpan === 1 && heads[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i]);
        });
      });
    });
  }
  function all() { document.querySelectorAll("table.xr-cards").forEach(label); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all); else all();
  document.addEventListener("htmx:afterSettle", all);
})();
