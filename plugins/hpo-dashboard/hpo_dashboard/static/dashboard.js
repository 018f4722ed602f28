// hpo dashboard: every page asks the JSON API once a second whether anything changed (its
// etag in If-None-Match: 304 and no body when not) and redraws only what did.
//
// plotly.js (4.6 MB) is the slowest part of a page to start: the browser spends a second or
// more compiling it. The pages load it deferred, after this file, so a page's first request
// is on its way, and its header and table are shown, while plotly.js compiles; the charts
// wait for it (plotlyReady).
"use strict";
const POLL_MS = 1000;
const plotlyReady = new Promise(resolve => {
  const tag = document.getElementById("plotly-js");
  if (window.Plotly || !tag) resolve();
  else tag.addEventListener("load", () => resolve());
});

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
// a poll: sends the etag of what the page shows; null when the server says 304 (unchanged)
async function getChanged(url, etag) {
  const r = await fetch(url, {cache: "no-store", headers: etag ? {"If-None-Match": etag} : {}});
  if (r.status === 304) return null;
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return {etag: r.headers.get("ETag"), body};
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
// the trial a clicked point stands for: its customdata, else "trial N" in its text or
// its trace's name, else the x of the best-so-far chart's "each trial" markers
function trialOf(point) {
  if (Number.isInteger(point.customdata)) return point.customdata;
  for (const s of [point.text, point.hovertext, point.data && point.data.name]) {
    const m = typeof s === "string" && s.match(/\btrial (\d+)\b/);
    if (m) return Number(m[1]);
  }
  if (point.data && point.data.name === "each trial" && Number.isInteger(point.x)) return point.x;
  return null;
}
// the mode bar (Plotly's tool bar, shown on hover at the top right) gets a strip of its
// own above the title, so it never covers it: the title is moved below the strip
const MODEBAR_STRIP = 30;
function clearOfModebar(layout) {
  const out = {...layout};
  const title = typeof out.title === "string" ? {text: out.title} : {...(out.title || {})};
  const margin = {...(out.margin || {})};
  const top = margin.t === undefined ? 80 : margin.t;
  out.margin = {...margin, t: top + MODEBAR_STRIP};
  out.title = {...title, yref: "container", y: 1, yanchor: "top", pad: {t: MODEBAR_STRIP + 4},
               x: 0.01, xanchor: "left"};
  if (out.height) out.height += MODEBAR_STRIP;
  return out;
}
function draw(id, spec, onTrial) {
  if (!window.Plotly) { plotlyReady.then(() => draw(id, spec, onTrial)); return; }
  const div = document.getElementById(id);
  if (!div) return;
  const box = div.closest(".figure") || div;
  if (!spec) { box.style.display = "none"; return; }
  box.style.display = "";
  Plotly.react(div, spec.data, clearOfModebar(spec.layout),
               {responsive: true, displaylogo: false, displayModeBar: "hover"});
  div.dataset.drawn = String(spec.data.length);
  if (onTrial && !div.dataset.clickable) {
    div.dataset.clickable = "1";
    div.on("plotly_click", ev => {
      const n = ev.points && ev.points.length ? trialOf(ev.points[0]) : null;
      if (n !== null) onTrial(n);
    });
  }
}
function setupList(dl, setup) {
  dl.replaceChildren(...Object.entries(setup).flatMap(([k, v]) =>
    [el("dt", {}, k.replace(/_/g, " ")), el("dd", {}, fmt(v))]));
}
function trialHref(study, number) { return "/study/" + encodeURIComponent(study) + "/trial/" + number; }

// -- every study ------------------------------------------------------------------------
function indexPage() {
  const picked = new Set();
  const button = document.getElementById("compare");
  button.onclick = () => { location.href = "/compare?studies=" + [...picked].map(encodeURIComponent).join(","); };
  let etag = null;
  poll(async () => {
    const answer = await getChanged("/api/studies", etag);
    if (!answer) return;  // 304: nothing changed
    etag = answer.etag;
    const data = answer.body;
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
const FIGURES = ["pareto", "hypervolume", "best_so_far", "importances", "slices", "parallel", "contour",
                 "learning_curves", "timeline", "generations", "heatmap"];
function studyPage() {
  const name = decodeURIComponent(location.pathname.slice("/study/".length));
  const api = "/api/studies/" + encodeURIComponent(name);
  document.title = name + " - hpo dashboard";
  document.getElementById("title").textContent = name;
  // the table is sorted, filtered and paged by the server: a page of PAGE rows travels
  const PAGE = 100;
  let data = null, etag = null, figuresTag = null, sortKey = "number", sortDir = 1, offset = 0;
  // the first request asks for the headline chart only (?headline=1: the server does not
  // make the others first); the rest is asked for as soon as it is drawn
  let first = true;
  const filter = document.getElementById("filter"), stateFilter = document.getElementById("state-filter");
  const cx = document.getElementById("contour-x"), cy = document.getElementById("contour-y");
  const open = n => { location.href = trialHref(name, n); };
  filter.oninput = stateFilter.onchange = () => { offset = 0; load(); };
  let pairChosen = false;  // the default pair until one is chosen in the menus
  cx.onchange = cy.onchange = () => { pairChosen = true; load(); };
  document.getElementById("page-prev").onclick = () => { offset = Math.max(0, offset - PAGE); load(); };
  document.getElementById("page-next").onclick = () => { offset += PAGE; load(); };

  function query() {
    const q = new URLSearchParams({nested: "1", limit: String(PAGE), offset: String(offset)});
    if (sortKey !== "number") q.set("sort", sortKey);
    if (sortDir < 0) q.set("desc", "1");
    if (filter.value.trim()) q.set("q", filter.value.trim());
    if (stateFilter.value) q.set("state", stateFilter.value);
    if (pairChosen && cx.value && cy.value && cx.value !== cy.value) { q.set("x", cx.value); q.set("y", cy.value); }
    if (figuresTag) q.set("have", figuresTag);  // figures the page holds are not sent again
    if (first) q.set("headline", "1");
    return q.toString();
  }
  function cell(t, c) { return c === "value" ? t.value : (c in t.params ? t.params[c] : t[c]); }
  function renderTable() {
    const cols = data.columns;
    const head = el("tr", {}, ...cols.map(c => {
      const th = el("th", {"data-key": c}, c === "value" ? data.metric : c.replace(/_/g, " "));
      if (c === sortKey) th.className = sortDir > 0 ? "sorted-asc" : "sorted-desc";
      th.onclick = () => { sortDir = c === sortKey ? -sortDir : 1; sortKey = c; offset = 0; load(); };
      return th;
    }));
    document.querySelector("#trials thead").replaceChildren(head);
    const best = data.study.best_trial;
    const rowClass = t => (data.objectives ? t.pareto : t.number === best) ? "best"
      : t.feasible === false ? "infeasible" : "";
    document.querySelector("#trials tbody").replaceChildren(...data.trials.map(t => {
      const tr = el("tr", {"data-number": String(t.number), class: rowClass(t)},
        ...cols.map(c => el("td", {class: c === "state" ? "state-" + t.state : c === "error" ? "error" : ""},
          c === "number" ? el("a", {href: trialHref(name, t.number)}, String(t.number)) : fmt(cell(t, c)))));
      tr.onclick = ev => { if (!ev.target.closest("a")) open(t.number); };
      return tr;
    }));
    const shownText = data.matched + " of " + data.total + " trials";
    const paged = data.matched > data.trials.length;
    document.getElementById("shown").textContent = paged
      ? shownText + ", rows " + (data.offset + 1) + "-" + (data.offset + data.trials.length) : shownText;
    document.getElementById("page-prev").disabled = data.offset === 0;
    document.getElementById("page-next").disabled = data.offset + data.trials.length >= data.matched;
  }
  function renderHeader() {
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
    const bestLink = document.getElementById("best-link");
    if (bestLink) {
      bestLink.replaceChildren(...(s.best_trial === null || s.best_trial === undefined ? [] :
        [el("a", {href: trialHref(name, s.best_trial)}, "open the best trial (" + s.best_trial + ")")]));
    }
    setupList(document.getElementById("setup"), data.setup);
  }
  // the headline chart (best so far, or the front and its hypervolume) is drawn with the
  // header and the table, in one go; the others follow, one per frame, so a big study's
  // page shows its first chart without waiting for every chart
  const HEADLINE = ["pareto", "hypervolume", "best_so_far"];
  const frame = () => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));
  async function renderFigures(all, headlineOnly) {
    const contour = all.figures.contour;
    if (contour && !cx.options.length) {
      for (const s of [cx, cy]) s.replaceChildren(...contour.choices.map(n => el("option", {value: n}, n)));
      cx.value = contour.pair[0]; cy.value = contour.pair[1];
    }
    for (const kind of FIGURES) {
      if (headlineOnly !== HEADLINE.includes(kind)) continue;
      if (!headlineOnly) await frame();
      const note = document.getElementById("note-" + kind);
      if (note) {
        note.textContent = all.pending.includes(kind) ? "computing..." :
          kind in all.as_of ? "as of " + all.as_of[kind] + " trials (redrawn every few seconds while the study runs)" : "";
      }
      if (all.pending.includes(kind)) continue;  // the last one drawn stays until it comes
      draw("fig-" + kind, all.figures[kind], open);
    }
  }
  // the header, the table and the charts all come from one answer, of one version of
  // the study: every part of the page shows the same moment
  let busy = false, again = false;
  async function load() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const answer = await getChanged(api + "/figures?" + query(), etag);
      if (answer) {
        etag = answer.etag;
        data = answer.body.page;
        renderHeader();
        renderTable();
        if (answer.body.all) {
          await plotlyReady;  // compiled while the answer travelled (the page's first time)
          renderFigures(answer.body.all, true);  // the same moment as the header and table
          figuresTag = answer.body.figures_tag;
          await renderFigures(answer.body.all, false);
          if (first) { first = false; again = true; }  // now the others
        }
      }
    } finally {
      busy = false;
      if (again) { again = false; await load(); }
    }
  }
  poll(load);
}

// -- one trial --------------------------------------------------------------------------
function trialPage() {
  const m = location.pathname.match(/^\/study\/(.+)\/trial\/(\d+)$/);
  const name = decodeURIComponent(m[1]), number = Number(m[2]);
  const api = "/api/studies/" + encodeURIComponent(name) + "/trials/" + number;
  document.title = "trial " + number + " of " + name + " - hpo dashboard";
  const back = document.getElementById("study-link");
  back.href = "/study/" + encodeURIComponent(name);
  back.textContent = name;
  document.getElementById("title").textContent = "trial " + number;
  const table = (id, obj) => {
    const rows = Object.entries(obj || {});
    const t = document.getElementById(id);
    t.closest("section").style.display = rows.length ? "" : "none";
    t.querySelector("tbody").replaceChildren(...rows.map(([k, v]) =>
      el("tr", {"data-key": k}, el("th", {}, k), el("td", {}, fmt(v)))));
  };
  let etag = null;
  poll(async () => {
    const answer = await getChanged(api, etag);
    if (!answer) return;
    etag = answer.etag;
    const t = answer.body;
    const score = t.objectives ? fmt(t.objectives) : (t.metric + " " + fmt(t.value));
    const state = document.getElementById("state");
    state.textContent = t.state;
    state.className = "state-" + t.state;
    document.getElementById("summary").textContent = [
      t.state === "COMPLETE" ? score : null,
      t.best ? "the best trial" : t.pareto ? "on the Pareto front" : null,
      t.feasible === false ? "infeasible" : null,
      t.duration_s === null ? null : t.duration_s + " s",
      t.attempts > 1 ? t.attempts + " attempts" : null,
    ].filter(Boolean).join("; ");
    document.getElementById("detail").textContent = t.detail || "";
    const err = document.getElementById("error");
    err.textContent = t.error || "";
    const tb = document.getElementById("traceback");
    tb.textContent = t.traceback || "";
    tb.closest("details").style.display = t.traceback ? "" : "none";
    err.closest("section").style.display = t.error ? "" : "none";
    table("params", t.params);
    const inactive = document.getElementById("inactive");
    inactive.textContent = t.inactive.length ? "inactive in this trial: " + t.inactive.join(", ") : "";
    table("values", {...(t.objectives || {}), ...(t.constraints || {}),
                     ...(t.feasible === undefined ? {} : {feasible: t.feasible})});
    table("metrics", t.metrics);
    table("user-attrs", t.user_attrs);
    table("times", {start: t.datetime_start, complete: t.datetime_complete,
                    duration_s: t.duration_s, attempts: t.attempts});
    draw("fig-curve", t.curve);
    const nav = document.getElementById("nav");
    nav.replaceChildren(...[["previous", t.previous], ["next", t.next], ["best", t.best ? null : t.best_trial]]
      .filter(([, n]) => n !== null && n !== undefined)
      .map(([label, n]) => el("a", {href: trialHref(name, n), "data-nav": label}, label + " (" + n + ")")));
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

// loaded with defer: the document is parsed when this runs; plotly.js, deferred after it,
// runs later (see plotlyReady)
function start() {
  ({index: indexPage, study: studyPage, trial: trialPage, compare: comparePage})[document.body.dataset.page]();
}
if (document.readyState === "loading") window.addEventListener("DOMContentLoaded", start); else start();
