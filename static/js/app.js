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

  // The language and time-zone switchers return to the page as it is now: htmx may have
  // pushed another URL (filters, page, sort) since the server wrote `next` into the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList) return;
    if (!form.classList.contains("lang-switcher") && !form.classList.contains("keeps-url")) return;
    form.elements.next.value = window.location.pathname + window.location.search;
  });

  // The browser's time zone: reported once (and again if it changes), kept in a cookie by
  // the server. While the user has chosen no zone, times follow it: the first page, drawn
  // in the site's default zone, is reloaded once in the browser's.
  (function reportBrowserZone() {
    var body = document.body;
    var url = body.getAttribute("data-browser-zone-url");
    if (!url || !window.fetch || !window.Intl) return;
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return;
    }
    if (!zone || zone === body.getAttribute("data-browser-zone")) return;
    var token = "";
    try {
      token = JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return;
    }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token },
      body: new URLSearchParams({ time_zone: zone }),
    }).then(function (response) {
      if (!response.ok || !body.hasAttribute("data-zone-follows-browser")) return;
      if (body.getAttribute("data-time-zone") === zone) return;
      // Once per zone and tab: a browser that drops the cookie must not reload forever.
      var key = "browser-zone-reloaded";
      try {
        if (window.sessionStorage.getItem(key) === zone) return;
        window.sessionStorage.setItem(key, zone);
      } catch (error) {
        return;
      }
      window.location.reload();
    }, function () {});
  })();
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
  // Table times carry their exact moment only as `datetime` (lean rows): show it on hover,
  // written in the full-timestamp format the server uses (data-full-time-format, Django's
  // date letters), in the zone the page is drawn in.
  function fullTime(value) {
    var format = document.body.getAttribute("data-full-time-format") || "Y-m-d H:i:s";
    var months = (document.body.getAttribute("data-months") || "").split(",");
    var parts = {
      Y: value.slice(0, 4),
      m: value.slice(5, 7),
      n: String(Number(value.slice(5, 7))),
      M: months[Number(value.slice(5, 7)) - 1] || value.slice(5, 7),
      d: value.slice(8, 10),
      j: String(Number(value.slice(8, 10))),
      H: value.slice(11, 13),
      G: String(Number(value.slice(11, 13))),
      i: value.slice(14, 16),
      s: value.slice(17, 19),
    };
    var out = "";
    for (var i = 0; i < format.length; i++) {
      var letter = format.charAt(i);
      if (letter === "\\") {
        out += format.charAt(++i);
      } else {
        out += Object.prototype.hasOwnProperty.call(parts, letter) ? parts[letter] : letter;
      }
    }
    var zone = document.body.getAttribute("data-time-zone");
    return zone ? out + " (" + zone + ")" : out;
  }
  document.addEventListener("mouseover", function (event) {
    var time = event.target.closest && event.target.closest("time[datetime]:not([title])");
    if (!time) return;
    var value = time.getAttribute("datetime");
    if (value.length >= 19) time.title = fullTime(value);
  });

  // Inbox: every answer to a change carries "inbox-changed" (HX-Trigger) with the line's
  // new open count; every count on the page and the title's "(3)" follow it. The live
  // stream (live.js) dispatches the same event for everyone else's changes and for
  // callers that pushed calls open or close.
  document.body.addEventListener("inbox-changed", function (event) {
    var detail = event.detail || {};
    if (detail.line === undefined || typeof detail.open !== "number") return;
    var line = String(detail.line);
    document.querySelectorAll("[data-open-count]").forEach(function (badge) {
      if (badge.getAttribute("data-open-count") !== line) return;
      badge.textContent = String(detail.open);
      badge.hidden = detail.open === 0;
    });
    if (document.querySelector("[data-title-count='" + CSS.escape(line) + "']")) {
      var title = document.title.replace(/^\(\d+\) /, "");
      document.title = (detail.open ? "(" + detail.open + ") " : "") + title;
    }
  });
  // A change saved in the caller dialog: close it and reload the list as it is shown.
  document.body.addEventListener("inbox-saved", function () {
    if (markDialog && markDialog.open) markDialog.close();
    var results = document.getElementById("results");
    if (results && window.htmx && document.getElementById("inbox-bulk")) {
      window.htmx.ajax("GET", window.location.href, { target: "#results", swap: "innerHTML" });
    }
  });
  // Inbox selection: the header box selects the page; Shift+click selects a range.
  var lastTicked = null;
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.matches) return;
    if (box.matches("#select-all")) {
      document.querySelectorAll("#inbox-bulk input[name=selected]").forEach(function (other) {
        other.checked = box.checked;
      });
      return;
    }
    if (!box.matches("#inbox-bulk input[name=selected]")) return;
    var boxes = Array.prototype.slice.call(document.querySelectorAll("#inbox-bulk input[name=selected]"));
    if (event.shiftKey && lastTicked && lastTicked.isConnected) {
      var from = boxes.indexOf(lastTicked);
      var to = boxes.indexOf(box);
      boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (other) {
        other.checked = box.checked;
      });
    }
    lastTicked = box;
  });
  // Keyboard: "x" ticks the focused row's box (as in mail inboxes), wherever focus is in the row.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "x" || event.ctrlKey || event.metaKey || event.altKey) return;
    var row = event.target.closest && event.target.closest("#inbox-bulk tbody tr");
    if (!row || event.target.matches("input[type=text], input[type=search], select, textarea")) return;
    var box = row.querySelector("input[name=selected]");
    if (!box) return;
    event.preventDefault();
    box.checked = !box.checked;
    lastTicked = box;
  });
})();
