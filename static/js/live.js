// Live call tables (dashboard/live): calls the provider pushes appear at the top of the
// table when its filters list them, the other tabs count them, and the next list read
// from the provider takes them over (same number within 2 minutes): never shown twice.
// Lines without a webhook refresh the table once per cache TTL while the tab is visible.
// On the inbox (callers, not calls) a pushed call makes the list be asked again instead.
// The stream also sends the line's open count when anyone's change (or a pushed call)
// moves it: every count on the page and the title follow (app.js), without a reload.
// No inline code anywhere: the page's CSP allows only our own files.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const kind = root.dataset.kind;
  const texts = root.querySelector(".live-texts").dataset;
  const ttl = Math.max(5, Number(root.dataset.ttl) || 30) * 1000;
  const RECONCILE_MS = 2 * 60 * 1000;
  const NOTIFY_KEY = "calls-dashboard:notify";
  const pending = new Map(); // event id -> {number, at} of rows shown before the provider lists them
  const seen = new Set();
  const badges = {};
  let lastId = Number(root.dataset.since) || 0;
  let newHere = 0;
  let lastRefresh = Date.now();
  let pollTimer = null;

  const digits = (text) => (text || "").replace(/\D/g, "");
  // Same number whatever its written form: the last 8 digits (national numbers lack the
  // country code, E.164 ones have it).
  const sameNumber = (a, b) => a.length >= 6 && b.length >= 6 && a.slice(-8) === b.slice(-8);
  const params = () => new URLSearchParams(window.location.search);
  const tbody = () => document.querySelector("#results table.calls tbody");

  // Only the newest-first first page can take a row at its top; elsewhere it is counted.
  // The order is the one the table's headers say it has: the Missed tab has no sort, so
  // a sort in its URL changes nothing.
  function insertable() {
    const p = params();
    if ((p.get("page") || "1") !== "1") return false;
    if (["cursor", "before", "scan"].some((k) => p.get(k))) return false;
    const sorted = document.querySelector('#results th[aria-sort]:not([aria-sort="none"])');
    return !sorted || (sorted.classList.contains("col-when") && sorted.getAttribute("aria-sort") === "descending");
  }

  function rowUrl(id) {
    const p = params();
    p.delete("refresh");
    p.set("tab", kind);
    return root.dataset.rowUrl.replace(/\/0\/row\/$/, "/" + id + "/row/") + "?" + p.toString();
  }

  // A row the provider's list already has: same number, within 2 minutes.
  function listed(body, entry) {
    for (const row of body.querySelectorAll("tr:not([data-live-id])")) {
      const cell = row.querySelector(".col-number");
      const time = row.querySelector("time[datetime]");
      if (!cell || !time) continue;
      const at = Date.parse(time.getAttribute("datetime"));
      if (sameNumber(digits(cell.textContent), entry.number) && Math.abs(at - entry.at) <= RECONCILE_MS) {
        return true;
      }
    }
    return false;
  }

  // True when nothing is left to do (shown, listed, or not for these filters); false when
  // the call is for this table but cannot be put in place, and is to be counted instead.
  async function insertRow(id, entry) {
    const body = tbody();
    const here = Boolean(body) && insertable();
    if (here && body.querySelector('tr[data-live-id="' + id + '"]')) return true;
    if (here && listed(body, entry)) {
      pending.delete(id);
      return true;
    }
    // Asked even where no row can go: a call this search or these dates do not list is
    // not announced as new to this table either.
    let response;
    try {
      response = await fetch(rowUrl(id), { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    } catch (error) {
      return false;
    }
    if (response.status === 204) return true; // this search or these dates do not list it
    if (!response.ok || !here) return false;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim(); // our own row template, escaped there
    const row = template.content.querySelector("tr");
    if (!row || body.querySelector('tr[data-live-id="' + id + '"]')) return true;
    row.dataset.liveId = String(id);
    row.classList.add("live-arrived");
    // Newest first among the pushed rows, whichever row's request came back first.
    const older = [...body.querySelectorAll("tr[data-live-id]")].find((r) => Number(r.dataset.liveId) < id);
    body.insertBefore(row, older || body.querySelector("tr:not([data-live-id])"));
    if (window.htmx) window.htmx.process(row);
    setTimeout(() => row.classList.remove("live-arrived"), 4000);
    return true;
  }

  function badge(tab) {
    const link = document.querySelector(".tabs .tab-" + tab);
    if (!link) return;
    badges[tab] = (badges[tab] || 0) + 1;
    let span = link.querySelector(".live-badge");
    if (!span) {
      span = document.createElement("span");
      span.className = "live-badge";
      link.append(" ", span);
    }
    span.textContent = String(badges[tab]);
  }

  function markNewHere() {
    newHere += 1;
    const marker = root.querySelector(".live-new");
    const button = marker.querySelector("button");
    button.textContent = newHere === 1 ? texts.newOne : texts.newMany.replace("%(count)s", String(newHere));
    marker.hidden = false;
  }

  function say(event) {
    const number = event.number || texts.hiddenNumber;
    const template = event.kind === "missed" ? texts.missed : texts.arrived;
    const text = template.replace("%(number)s", number);
    root.querySelector(".live-status").textContent = text;
    if (event.kind === "missed" && document.hidden && notificationsOn()) {
      try {
        new Notification(text, { tag: "call-" + event.id });
      } catch (error) {
        // Some browsers only notify from a service worker: the page still shows the row.
      }
    }
  }

  async function arrived(event) {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    lastId = Math.max(lastId, event.id);
    for (const tab of [event.kind, "all"]) if (tab !== kind) badge(tab);
    if (kind === "all" || kind === event.kind) {
      const entry = { number: digits(event.number), at: Date.parse(event.at) };
      pending.set(event.id, entry);
      if (pending.size > 100) pending.delete(pending.keys().next().value);
      if (!(await insertRow(event.id, entry))) markNewHere();
    }
    say(event);
    if (kind === "inbox") inboxChanged();
  }

  // The inbox lists callers, not calls: any pushed call may add, extend or close one, so
  // the list is asked again as it is shown (the URL holds its filters), once for a burst,
  // keeping what the person ticked and where their focus was.
  let inboxTimer = null;
  let keep = null;
  function inboxChanged() {
    clearTimeout(inboxTimer);
    inboxTimer = setTimeout(() => {
      if (document.querySelector("dialog[open], .htmx-request")) {
        inboxChanged(); // after the dialog closes or the request in flight lands
        return;
      }
      refreshResults();
    }, 800);
  }

  function inboxState() {
    const ticked = [...document.querySelectorAll("#results input[name=selected]:checked")].map(
      (box) => box.closest("tr[data-episode]")?.dataset.episode
    );
    const focused = document.activeElement;
    let focus = null;
    if (focused && focused !== document.body && focused.closest("#results")) {
      const row = focused.closest("tr[data-episode]");
      const cell = focused.closest("td, th");
      focus = {
        id: focused.id,
        episode: row ? row.dataset.episode : null,
        cell: cell ? cell.className : null,
        tag: focused.tagName,
      };
    }
    return { ticked: ticked.filter(Boolean), focus };
  }

  function restoreInbox(state) {
    for (const episode of state.ticked) {
      const box = document.querySelector('#results tr[data-episode="' + CSS.escape(episode) + '"] input[name=selected]');
      if (box) box.checked = true;
    }
    const f = state.focus;
    if (!f) return;
    let target = f.id ? document.getElementById(f.id) : null;
    if (!target && f.episode) {
      const row = document.querySelector('#results tr[data-episode="' + CSS.escape(f.episode) + '"]');
      const cell = row && f.cell ? row.querySelector("." + f.cell.split(" ")[0]) : row;
      target = cell ? cell.querySelector(f.tag) : null;
    }
    if (target) target.focus({ preventScroll: true });
  }

  // After any swap of the results (Refresh, filters, pages, the TTL refresh): the rows the
  // provider now lists replace pushed ones; the others go back on top if they still match.
  document.body.addEventListener("htmx:afterSettle", async (e) => {
    if (!e.detail.target || e.detail.target.id !== "results") return;
    lastRefresh = Date.now();
    if (root.dataset.mode === "poll") poll(); // the next one a TTL from this answer
    if (keep) {
      restoreInbox(keep);
      keep = null;
    }
    if (!insertable()) return;
    const ids = [...pending.keys()].sort((a, b) => a - b);
    for (const id of ids) await insertRow(id, pending.get(id));
  });

  function refreshResults() {
    if (!window.htmx || document.querySelector("dialog[open]")) return;
    lastRefresh = Date.now();
    if (kind === "inbox") keep = inboxState();
    window.htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#results" });
  }

  // "N new calls: show them" where they cannot be put in place (another page, another
  // sort order) opens the first page, newest first, with the same search and dates: the
  // new calls are on top there. Pushed into the history like the pager's own links.
  root.querySelector(".live-show").addEventListener("click", () => {
    newHere = 0;
    root.querySelector(".live-new").hidden = true;
    document.getElementById("results-region")?.focus(); // the button it was on is gone
    if (insertable()) {
      refreshResults();
      return;
    }
    const p = params();
    for (const name of ["page", "sort", "dir", "cursor", "before", "scan", "refresh"]) p.delete(name);
    const url = window.location.pathname + (p.toString() ? "?" + p.toString() : "");
    if (!window.htmx) {
      window.location.assign(url);
      return;
    }
    lastRefresh = Date.now();
    window.htmx.ajax("GET", url, { target: "#results", push: url });
  });

  // No webhook (or no live process behind the URL): the cache's pace, paused while hidden,
  // so any number of open views costs at most one provider call per line per TTL.
  // Due a TTL after the table was last drawn (lastRefresh is set again when an answer is
  // swapped in, after the server read it), never before: the server's copy is still
  // fresh until then, and an earlier refresh would only get the same rows again.
  function poll() {
    clearTimeout(pollTimer);
    if (document.hidden) return; // visibilitychange starts it again
    pollTimer = setTimeout(() => {
      if (Date.now() - lastRefresh >= ttl) refreshResults();
      poll();
    }, Math.max(1000, lastRefresh + ttl - Date.now() + 100));
  }
  function startPolling() {
    root.dataset.mode = "poll";
    poll();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && Date.now() - lastRefresh >= ttl) refreshResults();
      poll();
    });
  }

  function connect() {
    const url = new URL(root.dataset.streamUrl, window.location.href);
    url.searchParams.set("since", String(lastId));
    const source = new EventSource(url.toString(), { withCredentials: true });
    root.dataset.mode = "stream";
    source.addEventListener("open", () => { root.dataset.connected = "true"; });
    source.addEventListener("call", (e) => {
      try {
        arrived(JSON.parse(e.data));
      } catch (error) {
        // A malformed event is skipped; the next list read shows the call anyway.
      }
    });
    // A teammate's change (or callback detection) moved the line's open count: the same
    // event as the answer to one's own change, so app.js puts it in every count and the
    // title. Not a stored event: it has no id, and Last-Event-ID stays the last call's.
    source.addEventListener("counts", (e) => {
      let detail;
      try {
        detail = JSON.parse(e.data);
      } catch (error) {
        return; // the next change or page load shows the count anyway
      }
      // Whether the page showed another count: then someone else changed the list (one's
      // own change brought its count already, with its own answer).
      const shown = document.querySelector(`[data-open-count="${detail.line}"]`);
      const moved = !shown || shown.textContent.trim() !== String(detail.open);
      document.body.dispatchEvent(new CustomEvent("inbox-changed", { detail }));
      // An open inbox lists the callers themselves: asked again as it is shown.
      if (kind === "inbox" && moved) inboxChanged();
    });
    source.addEventListener("unavailable", () => {
      source.close();
      startPolling();
    });
  }

  // Desktop notifications: only after the user asks, never on load.
  function notificationsOn() {
    return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) === "on";
  }
  const notify = root.querySelector(".live-notify");
  if ("Notification" in window && root.dataset.streamUrl) {
    const label = notify.textContent;
    const show = () => {
      if (Notification.permission === "denied") {
        notify.textContent = notify.dataset.blocked;
        notify.disabled = true;
      } else if (notificationsOn()) {
        notify.textContent = notify.dataset.on;
        notify.setAttribute("aria-pressed", "true");
      } else {
        notify.textContent = label;
        notify.setAttribute("aria-pressed", "false");
      }
    };
    notify.hidden = false;
    show();
    notify.addEventListener("click", async () => {
      if (notificationsOn()) {
        localStorage.removeItem(NOTIFY_KEY);
      } else if ((await Notification.requestPermission()) === "granted") {
        localStorage.setItem(NOTIFY_KEY, "on");
      }
      show();
    });
  }

  if (root.dataset.streamUrl && "EventSource" in window) connect();
  else startPolling();
})();
