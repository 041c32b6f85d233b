/*
 * The pages' small behaviours, read from data attributes: the Content-Security-Policy allows
 * no inline script and no on*= attributes, so templates say what they want and this file does it.
 *
 *   <select data-autosubmit>              changing it submits its form (term and language switchers)
 *   <form data-confirm="Question?">       asks before submitting
 *   <input type=checkbox data-check-all="selector">   ticks or unticks every box the selector names
 *   <button data-print>                   prints the page
 *   <div class="progress-bar" data-progress="40">     a bar 40% wide (no style= attribute either)
 *
 * Listeners sit on the document, so content swapped in by htmx behaves the same.
 */
(function () {
  "use strict";

  function closest(element, selector) {
    return element && element.closest ? element.closest(selector) : null;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (closest(target, "[data-autosubmit]") && target.form) {
      if (target.form.requestSubmit) { target.form.requestSubmit(); } else { target.form.submit(); }
    }
    var all = closest(target, "[data-check-all]");
    if (all) {
      document.querySelectorAll(all.getAttribute("data-check-all")).forEach(function (box) {
        box.checked = all.checked;
      });
    }
  });

  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  document.addEventListener("click", function (event) {
    if (closest(event.target, "[data-print]")) { window.print(); }
  });

  function widen(root) {
    var bars = Array.prototype.slice.call(root.querySelectorAll ? root.querySelectorAll("[data-progress]") : []);
    if (root.matches && root.matches("[data-progress]")) { bars.push(root); }
    bars.forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.getAttribute("data-progress")) || 0));
      bar.style.width = percent + "%";
    });
  }
  widen(document);
  document.addEventListener("htmx:load", function (event) { widen(event.target); });
})();
