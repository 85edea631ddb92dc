// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Forms that change something important ask first (data-confirm="question").
  document.addEventListener("submit", function (e) {
    var q = e.target.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); }
  });
  // Selects marked data-autosubmit submit their form on change.
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]")) { e.target.form.submit(); }
  });
  // Buttons marked data-print print the page.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-print]");
    if (b) { e.preventDefault(); window.print(); }
  });
  // Links/buttons marked data-copy copy the text of the element they name.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-copy]");
    if (!b) { return; }
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (el && navigator.clipboard) { navigator.clipboard.writeText(el.textContent.trim()); b.classList.add("done"); }
  });
})();
