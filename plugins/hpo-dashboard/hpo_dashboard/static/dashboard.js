// hpo dashboard: every page reads the JSON API once a second and redraws what changed.
"use strict";
const POLL_MS = 1000;

function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
  if (typeof v === "object") return Object.entries(v).map(([k, x]) => k + "=" + fmt(x)).join(", ");
  return String(v);
}
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c));
  return e;
}
async function getJSON(url) {
  const r = await fetch(url, {cache: "no-store"});
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}
function status(text) { document.getElementById("status").textContent = text; }
function poll(fn) {
  const tick = async () => {
    try { await fn(); status("live, updated " + new Date().toLocaleTimeString()); }
    catch (e) { status("error: " + e.message); }
    setTimeout(tick, POLL_MS);
  };
  tick();
}
function draw(id, spec) {
  const div = document.getElementById(id);
  if (!div) return;
  if (!spec) { div.closest(".figure").style.display = "none"; return; }
  div.closest(".figure").style.display = "";
  Plotly.react(div, spec.data, spec.layout, {responsive: true, displaylogo: false});
  div.dataset.drawn = String(spec.data.length);
}
function setupList(dl, setup) {
  dl.replaceChildren(...Object.entries(setup).flatMap(([k, v]) =>
    [el("dt", {}, k.replace(/_/g, " ")), el("dd", {}, fmt(v))]));
}

// -- every study ------------------------------------------------------------------------
function indexPage() {
  const picked = new Set();
  const button = document.getElementById("compare");
  button.onclick = () => { location.href = "/compare?studies=" + [...picked].map(encodeURIComponent).join(","); };
  poll(async () => {
    const data = await getJSON("/api/studies");
    document.getElementById("storage").textContent = data.storage;
    const rows = data.studies.map(s => {
      const box = el("input", {type: "checkbox", checked: picked.has(s.name)});
      box.onchange = () => { box.checked ? picked.add(s.name) : picked.delete(s.name); button.disabled = picked.size < 2; };
      return el("tr", {"data-study": s.name}, el("td", {}, box),
        el("td", {}, el("a", {href: "/study/" + encodeURIComponent(s.name)}, s.name)),
        el("td", {}, fmt(s.strategy)), el("td", {}, fmt(s.backend)), el("td", {}, fmt(s.dataset)),
        el("td", {class: "state"}, s.state), el("td", {class: "trials"}, fmt(s.trials)),
        el("td", {}, fmt(s.failed)), el("td", {}, fmt(s.pruned)),
        el("td", {class: "best"}, s.pareto_size !== undefined ? "front of " + s.pareto_size : fmt(s.best)),
        el("td", {}, fmt(s.last_update)));
    });
    document.querySelector("#studies tbody").replaceChildren(...rows);
  });
}

// -- one study --------------------------------------------------------------------------
function studyPage() {
  const name = decodeURIComponent(location.pathname.slice("/study/".length));
  const api = "/api/studies/" + encodeURIComponent(name);
  document.title = name + " - hpo dashboard";
  document.getElementById("title").textContent = name;
  let data = null, version = null, sortKey = "number", sortDir = 1;
  const filter = document.getElementById("filter"), stateFilter = document.getElementById("state-filter");
  const cx = document.getElementById("contour-x"), cy = document.getElementById("contour-y");
  filter.oninput = stateFilter.onchange = () => renderTable();
  cx.onchange = cy.onchange = () => { refresh(); };

  // several objectives: one column each (named), constraints and feasibility when the
  // study has constraints; the front's rows are marked like the best row
  function columns() {
    const scores = data.objectives ? data.objectives : ["value"];
    const cons = data.constraints ? [...data.constraints, "feasible"] : [];
    return ["number", ...data.params, ...scores, ...cons, "state", "detail", "duration_s", "error"];
  }
  function cell(t, c) { return c === "value" ? t.value : (c in t.params ? t.params[c] : t[c]); }
  function renderTable() {
    if (!data) return;
    const cols = columns();
    const head = el("tr", {}, ...cols.map(c => {
      const th = el("th", {"data-key": c}, c === "value" ? data.metric : c.replace(/_/g, " "));
      if (c === sortKey) th.className = sortDir > 0 ? "sorted-asc" : "sorted-desc";
      th.onclick = () => { sortDir = c === sortKey ? -sortDir : 1; sortKey = c; renderTable(); };
      return th;
    }));
    document.querySelector("#trials thead").replaceChildren(head);
    const text = filter.value.trim().toLowerCase(), state = stateFilter.value;
    const rows = data.trials.filter(t => (!state || t.state === state) &&
      (!text || cols.some(c => fmt(cell(t, c)).toLowerCase().includes(text))));
    rows.sort((a, b) => {
      const x = cell(a, sortKey), y = cell(b, sortKey);
      if (x === y) return a.number - b.number;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    const best = data.study.best_trial;
    const rowClass = t => (data.objectives ? t.pareto : t.number === best) ? "best"
      : t.feasible === false ? "infeasible" : "";
    document.querySelector("#trials tbody").replaceChildren(...rows.map(t =>
      el("tr", {"data-number": String(t.number), class: rowClass(t)},
        ...cols.map(c => el("td", {class: c === "state" ? "state-" + t.state : c === "error" ? "error" : ""},
          fmt(cell(t, c)))))));
    document.getElementById("shown").textContent = rows.length + " of " + data.trials.length + " trials";
  }
  // the header, the table and the charts all come from one answer, read from one snapshot
  // of the study: every part of the page shows the same moment
  async function refresh() {
    const q = cx.value && cy.value && cx.value !== cy.value ? "?x=" + encodeURIComponent(cx.value) + "&y=" + encodeURIComponent(cy.value) : "";
    const figs = await getJSON(api + "/figures" + q);
    data = figs.page; version = figs.version;
    const s = data.study;
    const goal = s.objectives ? s.objectives.map((n, i) => s.directions[i] + " " + n).join(", ")
      : `${s.direction} ${s.metric}`;
    const outcome = s.objectives
      ? `Pareto front of ${s.pareto_size} (feasible) trials, hypervolume ${fmt(s.hypervolume)} ` +
        `(reference point ${fmt(s.reference_point)}: the worst feasible value of each objective + 10% of its range)`
      : `best ${fmt(s.best)} (trial ${fmt(s.best_trial)})`;
    const feasible = s.infeasible !== undefined ? `; ${s.feasible} feasible, ${s.infeasible} infeasible` : "";
    document.getElementById("summary").textContent =
      `${s.strategy} on ${fmt(s.backend)}/${fmt(s.dataset)}, ${goal}: ` +
      `${s.trials} finished (${s.failed} failed, ${s.pruned} pruned), ${s.running} running${feasible}; ` +
      `${outcome}; ${s.state}`;
    setupList(document.getElementById("setup"), data.setup);
    renderTable();
    const contour = figs.figures.contour;
    if (contour && !cx.options.length) {
      for (const s of [cx, cy]) s.replaceChildren(...contour.choices.map(n => el("option", {value: n}, n)));
      cx.value = contour.pair[0]; cy.value = contour.pair[1];
    }
    for (const kind of ["pareto", "hypervolume", "best_so_far", "importances", "slices", "parallel", "contour",
                        "learning_curves", "timeline", "generations", "heatmap"]) {
      draw("fig-" + kind, figs.figures[kind]);
    }
  }
  poll(async () => {
    const fresh = await getJSON(api + "/trials");  // cheap: has anything changed?
    if (fresh.version !== version) await refresh();
  });
}

// -- several studies --------------------------------------------------------------------
function comparePage() {
  const names = (new URLSearchParams(location.search).get("studies") || "").split(",").filter(Boolean);
  let last = null;
  poll(async () => {
    const data = await getJSON("/api/compare?studies=" + names.map(encodeURIComponent).join(","));
    const key = JSON.stringify(data.studies.map(s => [s.study, s.trials, s.best_validation, s.hypervolume]));
    if (key === last) return;
    last = key;
    const byHV = data.decided_by === "hypervolume";
    document.getElementById("winner").textContent = data.winner ? "winner: " + data.winner : "no trial completed yet";
    document.getElementById("score-head").textContent = byHV ? "hypervolume" : "best val";
    document.getElementById("decided").textContent = byHV && data.studies.length
      ? "Several objectives: ranked by the hypervolume of each feasible Pareto front, all against one reference point (" +
        fmt(data.studies[0].reference_point) + "): the worst feasible value of each objective over every study, + 10% of its range."
      : "";
    document.querySelector("#compare tbody").replaceChildren(...data.studies.map(s =>
      el("tr", {class: s.study === data.winner ? "winner" : "", "data-study": s.study},
        el("td", {}, el("a", {href: "/study/" + encodeURIComponent(s.study)}, s.study)),
        ...["strategy", "backend", "dataset", "evaluator", "seed"].map(k => el("td", {}, fmt(s.setup[k]))),
        el("td", {class: "score"}, fmt(byHV ? s.hypervolume : s.best_validation)), el("td", {}, fmt(s.test_score)),
        el("td", {}, byHV ? "front of " + fmt(s.pareto_size) : fmt(s.best_config)),
        el("td", {}, fmt(s.trials)), el("td", {}, fmt(s.failed)),
        el("td", {}, s.wall_time_s === null ? "-" : s.wall_time_s.toFixed(1)), el("td", {}, fmt(s.setup.created)))));
    draw("fig-best_so_far", data.best_so_far);
    draw("fig-hypervolume", data.hypervolume);
  });
}

window.addEventListener("DOMContentLoaded", () => {
  ({index: indexPage, study: studyPage, compare: comparePage})[document.body.dataset.page]();
});
