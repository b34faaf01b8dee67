// Progressive enhancement on top of htmx. Everything here also works without it:
// the links and forms are plain GETs. Loaded as a static file (strict CSP: no inline JS).
(function () {
  "use strict";

  // Shareable URLs: leave empty filters (q=&from=) and values equal to the server's
  // defaults (data-defaults on the form, e.g. per_page=50) out of the pushed URL.
  document.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    if (!data || event.detail.verb !== "get") return;
    var defaults = {};
    var source = event.detail.elt && event.detail.elt.getAttribute("data-defaults");
    if (source) {
      try {
        defaults = JSON.parse(source);
      } catch (error) {
        defaults = {};
      }
    }
    var drop = [];
    data.forEach(function (value, key) {
      if (value === "" || defaults[key] === value) drop.push(key);
    });
    drop.forEach(function (key) {
      data.delete(key);
    });
  });

  // Phones: fold the dates and page size behind their summary, unless a date is in use
  // (the filter that is on must stay visible). Without JavaScript they stay open.
  var moreFilters = document.getElementById("more-filters");
  var filterForm = document.getElementById("filters");
  if (moreFilters && filterForm && window.matchMedia("(max-width: 640px)").matches) {
    if (!filterForm.elements.from.value && !filterForm.elements.to.value) moreFilters.open = false;
  }

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
  // Keep keyboard focus where it was when the results are replaced. htmx restores focus
  // only to elements with an id; a sort header or pager link is found again by its place
  // in the new table, anything else falls back to the results region (never the page top).
  var focusAfterSwap = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    focusAfterSwap = null;
    if (!target || target.id !== "results" || !active || !target.contains(active)) return;
    var header = active.closest("th");
    if (header && header.classList.length) {
      focusAfterSwap = "#results th." + CSS.escape(header.classList[0]) + " a";
    } else if (active.getAttribute("rel")) {
      focusAfterSwap = "#results a[rel='" + CSS.escape(active.getAttribute("rel")) + "']";
    } else {
      focusAfterSwap = "#results-region";
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var selector = focusAfterSwap;
    focusAfterSwap = null;
    if (!selector || (document.activeElement && document.activeElement !== document.body)) return;
    var next = document.querySelector(selector) || document.getElementById("results-region");
    if (next) next.focus();
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
    ["response-error", "server-error"].forEach(function (id) {
      var failed = document.getElementById(id);
      if (failed && event.detail.successful) failed.hidden = true;
    });
  });
  // A 403/404/500 answer to an htmx request swaps nothing: say so instead of doing nothing.
  // A 5xx is the dashboard's fault, not a removed view or changed access: say which.
  document.addEventListener("htmx:responseError", function (event) {
    var region = document.getElementById("results");
    if (region) region.removeAttribute("aria-busy");
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var shown = status >= 500 ? "server-error" : "response-error";
    ["response-error", "server-error"].forEach(function (id) {
      var note = document.getElementById(id);
      if (note) note.hidden = id !== shown;
    });
  });

  // The line switcher keeps the view as it is now (htmx may have pushed another search or
  // dates since the server wrote the links), minus this line's page and cursor positions.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".line-switcher a[href]");
    if (!link) return;
    var params = new URLSearchParams(window.location.search);
    ["page", "cursor", "before", "scan", "refresh"].forEach(function (name) {
      params.delete(name);
    });
    var url = new URL(link.href, window.location.href);
    url.search = params.toString();
    link.href = url.toString();
  });

  // The language applies as soon as it is chosen; its button is for pages without
  // JavaScript. requestSubmit() goes through the submit listener below, like a click.
  var languageForm = document.querySelector("form.lang-switcher");
  if (languageForm) {
    var languageButton = languageForm.querySelector("button[type=submit]");
    if (languageButton) languageButton.hidden = true;
    languageForm.addEventListener("change", function (event) {
      if (event.target.name === "language") languageForm.requestSubmit();
    });
  }

  // The language switcher returns to the page as it is now: htmx may have pushed another
  // URL (filters, page, sort) since the server wrote `next` into the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("lang-switcher")) return;
    form.elements.next.value = window.location.pathname + window.location.search;
  });
  // Follow-up: a row's "Mark…" link opens the page's one dialog instead of the mark
  // screen; a saved mark replaces that row's cell. Rows carry only the link (lean tables).
  var markDialog = document.getElementById("followup-dialog");
  var markCell = null;
  var markLink = null;
  var focusCell = null;
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.mark[href]");
    if (!link || !markDialog || !window.htmx || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    markLink = link;
    markCell = link.closest("td") || link.parentElement;
    var body = markDialog.querySelector(".dialog-body");
    window.htmx.ajax("GET", link.href, { target: body, swap: "innerHTML" }).then(function () {
      if (!markDialog.open) markDialog.showModal();
      var first = body.querySelector("input[type=radio]:checked, input[type=radio]");
      if (first) first.focus();
    });
  });
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("#followup-dialog [data-close-dialog]");
    if (!cancel) return;
    event.preventDefault();
    markDialog.close();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!markDialog || !markDialog.contains(event.detail.elt) || !xhr.getResponseHeader("X-Followup-Cell")) return;
    if (markCell && markCell.isConnected) {
      event.detail.target = markCell; // the form's swap style, innerHTML, applies there
      focusCell = markCell;
    } else {
      event.detail.shouldSwap = false;
    }
    markDialog.close();
  });
  if (markDialog) {
    markDialog.addEventListener("close", function () {
      markDialog.querySelector(".dialog-body").textContent = "";
      if (!focusCell && markLink && markLink.isConnected) markLink.focus();
      markCell = markLink = null;
    });
  }
  // After a save, keyboard focus returns to the row's new link.
  document.addEventListener("htmx:afterSettle", function () {
    var cell = focusCell;
    focusCell = null;
    var again = cell && cell.querySelector("a.mark");
    if (again) again.focus();
  });
  // Table times carry their exact moment only as `datetime` (lean rows): show it on hover.
  document.addEventListener("mouseover", function (event) {
    var time = event.target.closest && event.target.closest("time[datetime]:not([title])");
    if (!time) return;
    var value = time.getAttribute("datetime");
    time.title = value.slice(0, 10) + " " + value.slice(11, 19) + " (UTC" + value.slice(19).replace("Z", "+00:00") + ")";
  });
})();
