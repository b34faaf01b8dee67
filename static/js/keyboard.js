// Keyboard use of the call tables (issue #16): one Tab stop per row, shortcuts, and their
// help. Loaded as a static file (strict CSP). Without JavaScript every link stays tabbable.
(function () {
  "use strict";

  var ROWS = "table.calls tbody tr";

  // In document order, so the arrows move left and right as the row reads. The inbox's
  // selection box is one of them: Space or "x" (static/js/app.js) ticks it.
  function rowControls(row) {
    return Array.prototype.slice.call(
      row.querySelectorAll("a[href], button:not([disabled]), input[type=checkbox]:not([disabled])")
    );
  }

  // The row's one Tab stop: its first link (the caller, or the mark link of a hidden
  // number), else its first control.
  function rowStop(row) {
    var controls = rowControls(row);
    return row.querySelector("a[href]") || controls[0] || null;
  }

  // One Tab stop per row; the others stay one arrow key away. A row without a control can
  // still take focus from j/k.
  function oneStopPerRow() {
    document.querySelectorAll(ROWS).forEach(function (row) {
      var stop = rowStop(row);
      rowControls(row).forEach(function (control) {
        if (control === stop) control.removeAttribute("tabindex");
        else control.setAttribute("tabindex", "-1");
      });
      if (!stop) row.setAttribute("tabindex", "-1");
    });
  }
  oneStopPerRow();
  // Again whenever rows arrive: an htmx swap, a live row (static/js/live.js), a saved mark.
  var queued = false;
  new MutationObserver(function (changes) {
    if (queued) return;
    var rowsAdded = changes.some(function (change) {
      return Array.prototype.some.call(change.addedNodes, function (node) {
        return node.nodeType === 1 && (node.matches("tr, td") || node.querySelector("tr, a"));
      });
    });
    if (!rowsAdded) return;
    queued = true;
    Promise.resolve().then(function () {
      queued = false;
      oneStopPerRow();
    });
  }).observe(document.body, { childList: true, subtree: true });

  function focusRow(row) {
    if (!row) return;
    var target = rowStop(row) || row;
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  }

  function isTyping(target) {
    return Boolean(
      target &&
        target.closest &&
        // A ticked box takes no text: the arrows and j/k still work from the inbox's.
        target.closest(
          "input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]"
        )
    );
  }

  var help = document.getElementById("shortcuts-help");
  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  }
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-open-shortcuts]");
    if (opener) {
      event.preventDefault();
      toggleHelp();
      return;
    }
    var closer = event.target.closest && event.target.closest("#shortcuts-help [data-close-dialog]");
    if (closer) {
      event.preventDefault();
      help.close();
    }
  });
  // Where a keyboard is likely (a fine pointer), say that shortcuts exist.
  var hint = document.getElementById("shortcuts-hint");
  if (hint && window.matchMedia("(hover: hover)").matches) hint.hidden = false;

  function pagerLink(rels) {
    for (var i = 0; i < rels.length; i++) {
      var link = document.querySelector("#results a[rel='" + rels[i] + "']");
      if (link) return link;
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    // Never while typing, with a modifier (the browser's and the screen reader's own
    // shortcuts), or behind another open dialog.
    if (event.defaultPrevented || event.isComposing) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    var openDialog = document.querySelector("dialog[open]");
    if (openDialog && openDialog !== help) return;

    var key = event.key;
    if (key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if (openDialog) return; // only ? (and Escape, the dialog's own) work in the help

    var row = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(ROWS)
      : null;
    if ((key === "ArrowRight" || key === "ArrowLeft") && row) {
      var controls = rowControls(row);
      var at = controls.indexOf(document.activeElement);
      var next = controls[at + (key === "ArrowRight" ? 1 : -1)];
      if (at !== -1 && next) {
        event.preventDefault();
        next.focus();
      }
      return;
    }
    if (event.shiftKey) return;
    if (key === "/") {
      var search = document.getElementById("id_q");
      if (!search) return;
      event.preventDefault();
      search.focus();
      search.select();
    } else if (key === "j" || key === "k") {
      var rows = Array.prototype.slice.call(document.querySelectorAll(ROWS));
      if (!rows.length) return;
      event.preventDefault();
      var index = rows.indexOf(row);
      if (index === -1) focusRow(key === "j" ? rows[0] : rows[rows.length - 1]);
      else focusRow(rows[index + (key === "j" ? 1 : -1)]);
    } else if (key === "n" || key === "p") {
      var link = pagerLink(key === "n" ? ["next"] : ["prev", "first"]);
      if (!link) return;
      event.preventDefault();
      link.click();
    }
  });
})();
