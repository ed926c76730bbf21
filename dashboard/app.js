// The rayc dashboard: one page, hash routes, plain DOM.  Data comes from the
// job server of the head (Ray's Jobs API, /nodes?view=summary, the state API
// /api/v0/*, /api/rayc/node_metrics).  The token lives in an HttpOnly cookie
// set by POST /api/authenticate; nothing here ever sees it again.
"use strict";

const main = () => document.getElementById("main");
let timer = null;
let socket = null;
const charts = [];
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

function table(headers, rows, id) {
  const t = el("table", id ? { id } : {});
  t.append(el("tr", {}, ...headers.map((h) => el("th", {}, h))));
  for (const r of rows) t.append(el("tr", {}, ...r.map((c) => el("td", {}, c))));
  return t;
}

class HttpError extends Error {
  constructor(status, text) { super(`${status}: ${text}`); this.status = status; }
}

async function get(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (r.status === 401 || r.status === 403) { showLogin(); throw new HttpError(r.status, "not signed in"); }
  if (!r.ok) throw new HttpError(r.status, (await r.text()).trim());
  return r.json();
}

function bytes(n) {
  if (!n) return "0 B";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function fmtRes(obj) {
  return Object.entries(obj || {}).filter(([k]) => !k.startsWith("node:") && !k.includes("_group_"))
    .map(([k, v]) => `${k}: ${Math.round(v * 100) / 100}`).join(", ");
}

function usedRes(total, avail) {
  const out = {};
  for (const [k, v] of Object.entries(total || {})) out[k] = v - ((avail || {})[k] ?? v);
  return out;
}

// ---------------------------------------------------------------- login

function showLogin() {
  document.getElementById("login").hidden = false;
  main().hidden = true;
}

async function login(ev) {
  ev.preventDefault();
  const token = document.getElementById("token").value.trim();
  const r = await fetch("/api/authenticate", {
    method: "POST", credentials: "same-origin", headers: { Authorization: `Bearer ${token}` },
  });
  if (!r.ok) {
    document.getElementById("login-error").textContent = (await r.text()).trim() || `HTTP ${r.status}`;
    return;
  }
  document.getElementById("token").value = "";
  document.getElementById("login").hidden = true;
  main().hidden = false;
  route();
}

// ---------------------------------------------------------------- pages

// The newest state changes the head knows of, newest first: nodes joining
// and dying (GCS node table), jobs starting and ending (the job table) and
// actors changing state (the GCS's actor events).  Each is {time, kind,
// what, state, detail}.
function recentEvents(nodes, jobs, actors) {
  const ev = [];
  for (const n of nodes) {
    const id = `${n.ip} (${n.raylet.nodeId.slice(0, 8)})`;
    if (n.raylet.startTimeMs) ev.push({ time: n.raylet.startTimeMs, kind: "node", what: id, state: "ALIVE", detail: "" });
    if (n.raylet.state === "DEAD")
      ev.push({ time: n.raylet.endTimeMs || 0, kind: "node", what: id, state: "DEAD", detail: n.raylet.stateMessage || "" });
  }
  for (const j of jobs) {
    const id = j.submission_id || j.job_id || "";
    if (j.start_time) ev.push({ time: j.start_time, kind: "job", what: id, state: "STARTED", detail: j.entrypoint || "" });
    if (j.end_time) ev.push({ time: j.end_time, kind: "job", what: id, state: j.status, detail: j.message || "" });
  }
  for (const a of actors) {
    const id = `${a.class_name} ${(a.actor_id || "").slice(0, 8)}`;
    for (const e of a.events || []) {
      if (!["ALIVE", "RESTARTING", "DEAD"].includes(e.state)) continue;
      const cause = e.state === "DEAD" && a.death_cause ? JSON.stringify(a.death_cause) : "";
      ev.push({ time: e.created_ms, kind: "actor", what: id, state: e.state, detail: cause });
    }
  }
  return ev.sort((x, y) => y.time - x.time).slice(0, 20);
}

// The actors of the state API, or [] where the cluster does not serve it.
async function actorsOrNone() {
  try {
    return (((await get("/api/v0/actors?detail=true&limit=100")).data || {}).result || {}).result || [];
  } catch (e) {
    if (e.status === 401 || e.status === 403) throw e;
    return [];
  }
}

async function overview() {
  const [nodes, jobs, actorList] = await Promise.all([get("/nodes?view=summary"), get("/api/jobs/"),
    actorsOrNone()]);
  const list = nodes.data.summary;
  const alive = list.filter((n) => n.raylet.state === "ALIVE");
  const total = {}, used = {};
  for (const n of alive) {
    for (const [k, v] of Object.entries(n.raylet.resourcesTotal)) total[k] = (total[k] || 0) + v;
    for (const [k, v] of Object.entries(usedRes(n.raylet.resourcesTotal, n.raylet.resourcesAvailable)))
      used[k] = (used[k] || 0) + v;
  }
  const byState = {};
  for (const j of jobs) byState[j.status] = (byState[j.status] || 0) + 1;
  const recent = jobs.slice(-10).reverse();
  const events = recentEvents(list, jobs, actorList);
  return [
    el("h2", {}, "Overview"),
    el("div", { class: "cards" },
      el("div", { class: "card", id: "card-nodes" }, el("h3", {}, "Nodes"),
        `${alive.length} alive, ${list.length - alive.length} dead`),
      el("div", { class: "card", id: "card-resources" }, el("h3", {}, "Resources used / total"),
        ...Object.keys(total).filter((k) => !k.startsWith("node:") && !k.includes("_group_"))
          .map((k) => el("div", {}, `${k}: ${Math.round(used[k] * 100) / 100} / ${total[k]}`))),
      el("div", { class: "card", id: "card-jobs" }, el("h3", {}, "Jobs"),
        ...Object.entries(byState).map(([s, c]) => el("div", {}, `${s}: ${c}`)),
        jobs.length ? "" : "none")),
    el("h3", {}, "Recent jobs"),
    table(["Submission id", "Status", "Entrypoint"],
      recent.map((j) => [el("a", { href: `#/jobs/${j.submission_id}` }, j.submission_id || j.job_id),
        j.status, j.entrypoint])),
    el("h3", {}, "Recent events"),
    events.length ? table(["Time", "Kind", "What", "State", "Detail"],
      events.map((e) => [e.time ? new Date(e.time).toLocaleString() : "", e.kind, e.what, e.state, e.detail]),
      "events-table") : el("p", { id: "events-none" }, "No events yet."),
  ];
}

async function jobs() {
  const list = await get("/api/jobs/");
  return [el("h2", {}, "Jobs"),
    table(["Submission id", "Job id", "Status", "Entrypoint", "Start", "End", "Message"],
      list.slice().reverse().map((j) => [
        el("a", { href: `#/jobs/${j.submission_id}` }, j.submission_id || ""), j.job_id || "",
        j.status, j.entrypoint, j.start_time ? new Date(j.start_time).toLocaleString() : "",
        j.end_time ? new Date(j.end_time).toLocaleString() : "", j.message || ""]), "jobs-table")];
}

async function jobDetail(id) {
  const j = await get(`/api/jobs/${encodeURIComponent(id)}`);
  const log = el("pre", { class: "log", id: "job-log" });
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${proto}//${location.host}/api/jobs/${encodeURIComponent(id)}/logs/tail`);
  socket.onmessage = (m) => { log.textContent += m.data; log.scrollTop = log.scrollHeight; };
  socket.onclose = () => { log.dataset.closed = "1"; };
  return [el("h2", {}, `Job ${id}`),
    table(["Field", "Value"], [["Status", j.status], ["Job id", j.job_id || ""],
      ["Entrypoint", j.entrypoint], ["Message", j.message || ""],
      ["Driver node", j.driver_node_id || ""]], "job-fields"),
    el("h3", {}, "Driver log (live)"), log];
}

async function cluster() {
  const list = (await get("/nodes?view=summary")).data.summary;
  return [el("h2", {}, "Cluster"),
    table(["Node id", "State", "Address", "Head", "Resources total", "Resources used", "CPU %",
      "Memory", "Object store", "Workers", "Tasks running / pending"],
    list.map((n) => [n.raylet.nodeId.slice(0, 12), n.raylet.state,
      `${n.ip}:${n.raylet.nodeManagerPort}`, n.raylet.isHeadNode ? "yes" : "",
      fmtRes(n.raylet.resourcesTotal), fmtRes(usedRes(n.raylet.resourcesTotal, n.raylet.resourcesAvailable)),
      n.cpu.toFixed(1), `${bytes(n.mem[3])} / ${bytes(n.mem[0])}`,
      `${bytes(n.raylet.objectStoreUsedMemory)} / ${bytes(n.raylet.objectStoreUsedMemory + n.raylet.objectStoreAvailableMemory)}`,
      n.raylet.numWorkers, `${n.raylet.tasksRunning} / ${n.raylet.tasksPending}`]), "nodes-table")];
}

// Ray's state API: {"result": true, "data": {"result": {"result": [...]}}}.
async function stateList(title, path, columns) {
  const head = el("h2", {}, title);
  let body;
  try {
    body = await get(path);
  } catch (e) {
    if (e.status === 404)
      return [head, el("p", { class: "notice", id: "state-missing" },
        `This cluster does not serve Ray's state API (${path} answered 404).`)];
    throw e;
  }
  const rows = (((body.data || {}).result || {}).result) || [];
  return [head, el("p", {}, `${rows.length} shown`),
    table(columns, rows.map((r) => columns.map((c) => {
      const v = r[c];
      return v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : v;
    })), "state-table")];
}

const actors = () => stateList("Actors", "/api/v0/actors?limit=100",
  ["actor_id", "class_name", "state", "name", "node_id", "pid", "job_id"]);
const tasks = () => stateList("Tasks", "/api/v0/tasks?limit=100",
  ["task_id", "name", "state", "job_id", "node_id", "worker_pid", "error_message"]);
const pgs = () => stateList("Placement groups", "/api/v0/placement_groups?limit=100",
  ["placement_group_id", "name", "state", "strategy", "bundles"]);

async function metrics() {
  const m = (await get("/api/rayc/node_metrics")).data;
  const box = el("div", { class: "charts", id: "charts" });
  const out = [el("h2", {}, "Metrics (last hour)"), box];
  if (typeof Chart === "undefined") {
    out.push(el("p", { class: "notice" }, "Chart.js is not installed (Debian's libjs-chart.js); numbers only."));
  }
  const series = [["CPU %", 1, (v) => v], ["Memory used (GiB)", 2, (v) => v / 2 ** 30],
    ["Object store used (MiB)", 4, (v) => v / 2 ** 20], ["Tasks running", 5, (v) => v],
    ["Tasks pending", 6, (v) => v]];
  for (const [label, idx, f] of series) {
    const c = el("div", { class: "chart-box" }, el("h3", {}, label));
    if (typeof Chart === "undefined") {
      c.append(table(["Node", "Latest"], m.nodes.map((n) => [n.ip,
        n.samples.length ? f(n.samples[n.samples.length - 1][idx]).toFixed(2) : ""])));
      box.append(c);
      continue;
    }
    const canvas = el("canvas", {});
    c.append(el("div", { class: "chart-area" }, canvas));
    box.append(c);
    charts.push(new Chart(canvas, {
      type: "line",
      data: { datasets: m.nodes.map((n, i) => ({ label: n.ip, pointRadius: 0,
        borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length],
        data: n.samples.map((s) => ({ x: s[0], y: f(s[idx]) })) })) },
      options: { animation: false, maintainAspectRatio: false,
        scales: { x: { type: "linear", ticks: { callback: (v) => new Date(v).toLocaleTimeString() } } } },
    }));
  }
  return out;
}

// ---------------------------------------------------------------- router

async function route() {
  if (timer) { clearTimeout(timer); timer = null; }
  if (socket) { socket.close(); socket = null; }
  while (charts.length) charts.pop().destroy();
  const hash = location.hash.replace(/^#\/?/, "") || "overview";
  const [page, arg] = hash.split("/");
  for (const a of document.querySelectorAll("#nav a"))
    a.classList.toggle("active", a.id === `nav-${page}`);
  const pages = { overview, jobs, cluster, actors, tasks, placement_groups: pgs, metrics };
  const render = page === "jobs" && arg ? () => jobDetail(decodeURIComponent(arg)) : pages[page];
  if (!render) { main().replaceChildren(el("p", { class: "error" }, `No page ${page}`)); return; }
  try {
    const nodes = await render();
    main().replaceChildren(...nodes);
    main().dataset.page = page;
    main().dataset.loaded = String(Date.now());
    if (["overview", "cluster", "jobs"].includes(page) && !arg) timer = setTimeout(route, 3000);
  } catch (e) {
    if (e.status === 401 || e.status === 403) return;
    main().replaceChildren(el("p", { class: "error", id: "page-error" }, e.message));
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login-form").addEventListener("submit", login);
  route();
});
