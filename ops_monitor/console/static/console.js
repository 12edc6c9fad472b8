// Progressive additions to the server-rendered console: every page reads without this script.
// Scans page: completed scans arrive over the /console/live WebSocket and are added on top.
// Logs page: "Live tail" polls /console/logs/tail for records after the newest one shown.
"use strict";

function markFresh(tr) {
  tr.className = "fresh";
  tr.addEventListener("animationend", () => tr.classList.remove("fresh"), { once: true });
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function badge(text, className) {
  const span = document.createElement("span");
  span.className = className + " " + text;
  span.textContent = text;
  return span;
}

function when(iso) {
  return iso ? iso.replace("T", " ").slice(0, 19) : "";
}

function scanRow(scan) {
  const tr = document.createElement("tr");
  tr.dataset.scan = String(scan.id);
  markFresh(tr);
  tr.append(cell(String(scan.id)), cell(scan.scope));
  const status = document.createElement("td");
  status.append(badge(scan.status, "state"));
  tr.append(status, cell(scan.trigger), cell(when(scan.started_at), "time"));
  for (const key of ["logs_processed", "issues_found", "issues_filed", "issues_reopened", "malformed_lines"]) {
    tr.append(cell(String(scan[key]), "num"));
  }
  return tr;
}

function liveScans() {
  const rows = document.getElementById("scan-rows");
  if (!rows) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let socket;
  const connect = () => {
    socket = new WebSocket(scheme + "//" + location.host + "/console/live");
    socket.onopen = () => { document.getElementById("live-status").hidden = false; };
    socket.onclose = () => {
      document.getElementById("live-status").hidden = true;
      setTimeout(connect, 3000);
    };
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type !== "scan_completed") return;
      const old = rows.querySelector('tr[data-scan="' + data.scan.id + '"]');
      if (old) old.remove();
      rows.prepend(scanRow(data.scan));
      const none = document.getElementById("no-scans");
      if (none) none.remove();
    };
  };
  connect();
}

function logRow(record) {
  const tr = document.createElement("tr");
  tr.dataset.log = String(record.id);
  markFresh(tr);
  tr.append(cell(when(record.timestamp), "time"), cell(record.source));
  const level = document.createElement("td");
  const span = document.createElement("span");
  span.className = "level-text " + record.level;
  span.textContent = record.level;
  level.append(span);
  const message = document.createElement("td");
  const line = document.createElement("span");
  line.className = "message-line";
  line.textContent = record.message;
  message.append(line);
  if (record.attributes && Object.keys(record.attributes).length) {
    const attributes = document.createElement("div");
    attributes.className = "attributes small";
    attributes.textContent = JSON.stringify(record.attributes);
    message.append(attributes);
  }
  tr.append(level, message);
  return tr;
}

function liveTail() {
  const form = document.getElementById("log-filters");
  const toggle = document.getElementById("tail-toggle");
  const rows = document.getElementById("log-rows");
  if (!form || !toggle || !rows) return;
  let after = Number(form.dataset.lastId || "0");
  let timer = null;
  const poll = async () => {
    const params = new URLSearchParams({ after: String(after) });
    for (const name of ["q", "source", "level"]) {
      const value = form.elements[name].value;
      if (value) params.set(name, value);
    }
    try {
      const answer = await fetch("/console/logs/tail?" + params, { credentials: "same-origin" });
      if (answer.ok) {
        for (const record of await answer.json()) {
          rows.prepend(logRow(record));
          after = Math.max(after, record.id);
        }
      }
    } finally {
      if (toggle.checked) timer = setTimeout(poll, 1500);
    }
  };
  toggle.addEventListener("change", () => {
    document.getElementById("live-status").hidden = !toggle.checked;
    if (toggle.checked) poll();
    else if (timer) clearTimeout(timer);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  liveScans();
  liveTail();
});
