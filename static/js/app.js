// Progressive enhancement on top of htmx. Everything here also works without it:
// the links and forms are plain GETs. Loaded as a static file (strict CSP: no inline JS).
(function () {
  "use strict";

  // Shareable URLs: leave empty filters (q=&from=) out of the request and the pushed URL.
  document.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    if (!data || event.detail.verb !== "get") return;
    var empty = [];
    data.forEach(function (value, key) {
      if (value === "") empty.push(key);
    });
    empty.forEach(function (key) {
      data.delete(key);
    });
  });

  // Quick ranges fill the date inputs and submit the filter form (one request, one URL).
  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-set-from]");
    if (!chip) return;
    var form = document.getElementById("filters");
    if (!form || !window.htmx) return;
    event.preventDefault();
    form.elements.from.value = chip.dataset.setFrom;
    form.elements.to.value = chip.dataset.setTo;
    form.requestSubmit();
  });

  // Mark the results busy while htmx loads them, for assistive technology.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var region = document.getElementById("results");
    if (region && event.detail.target === region) region.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterSettle", function () {
    var region = document.getElementById("results");
    if (region) region.removeAttribute("aria-busy");
  });
  // An htmx request that failed at the network level gets a visible message, not silence.
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("results");
    if (region) region.removeAttribute("aria-busy");
    var note = document.getElementById("network-error");
    if (note) note.hidden = false;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var note = document.getElementById("network-error");
    if (note && event.detail.successful) note.hidden = true;
  });
})();
