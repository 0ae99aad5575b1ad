// Behaviours every page needs, wired by data- attributes instead of inline handlers, so the
// Content-Security-Policy can forbid inline script (docs/security.md, "Headers").
//   <select data-autosubmit>         submits its form when changed (the language switch)
//   <form data-confirm="question">   asks before submitting (revoking a key, unlocking a login)
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
})();
