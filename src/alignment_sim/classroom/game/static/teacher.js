// The teacher's dashboard: the clock, the seats, the map, events and levers.
// Fields ending in _html are the server's own texts, escaped and glossed there; names stay plain.
"use strict";
const $ = (id) => document.getElementById(id);
const KEY = new URLSearchParams(location.search).get("key") || "";
const HOLD_S = 20;     // the server holds an unchanged poll this long at most
const GAP_MS = 1500;   // at least this long between two polls
let version = null;
let shownMap = null;
let deadline = null;
let over = false;
let kinds = [];
let levers = [];
let filled = false;
let lessonShown = false;

function message(text) { $("msg").textContent = text || ""; }
function esc(text) { const s = document.createElement("span"); s.textContent = String(text); return s.innerHTML; }

async function call(path, body) {
  const url = path + (path.includes("?") ? "&" : "?") + "key=" + encodeURIComponent(KEY);
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  let response;
  try { response = await fetch(url, options); }
  catch (e) { throw new Error("The game server does not answer."); }
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: "An unreadable answer." }; }
  if (!response.ok) throw new Error(data.error || "Something went wrong.");
  return data;
}

function fillForms(view) {
  kinds = view.event_kinds;
  levers = view.levers;
  $("event-kind").innerHTML = kinds.map((k) => '<option value="' + esc(k.kind) + '">'
    + esc(k.name) + "</option>").join("");
  $("lever-name").innerHTML = levers.map((l) => '<option value="' + esc(l.name) + '">'
    + esc(l.label) + "</option>").join("");
  eventChanged();
  leverChanged();
  filled = true;
}

function eventChanged() {
  const kind = kinds.find((k) => k.kind === $("event-kind").value);
  if (!kind) return;
  const target = $("event-target");
  if (kind.targets === "states") {
    target.disabled = false;
    target.innerHTML = stateOptions;
  } else {
    target.disabled = true;
    target.innerHTML = '<option value="">the whole region</option>';
  }
  $("event-help").innerHTML = kind.description_html;  // escaped and glossed by the server
}

function leverChanged() {
  const lever = levers.find((l) => l.name === $("lever-name").value);
  if (!lever) return;
  $("lever-value").value = lever.value;
  $("lever-value").min = lever.low; $("lever-value").max = lever.high; $("lever-value").step = lever.step;
  $("lever-help").innerHTML = lever.help_html + esc(" (" + lever.low + " to " + lever.high + "; now " + lever.value + ")");
}

let stateOptions = "";

function render(view) {
  if (!filled) {
    stateOptions = view.states.map((s) => '<option value="' + esc(s.state) + '">' + esc(s.label) + "</option>").join("");
    fillForms(view);
  }
  levers = view.levers;
  $("lesson").textContent = view.lesson;
  $("round").textContent = "Round " + view.round + " of " + view.rounds;
  $("date").textContent = view.date + " (quarter " + view.tick + " of " + view.ticks + ")";
  $("answered-count").textContent = view.answered + " of " + view.players + " players answered";
  over = view.closed;
  $("paused").classList.toggle("hidden", !view.paused || view.closed);
  $("over").classList.toggle("hidden", !view.closed);
  $("join-url").textContent = view.join_url;
  for (const id of ["pause", "advance", "drop", "lever-apply"]) $(id).disabled = view.closed;
  $("resume").disabled = view.closed || !view.paused;
  $("pause").disabled = view.closed || view.paused;
  $("end").disabled = view.closed;
  $("seats").querySelector("tbody").innerHTML = view.seats.map((s) =>
    '<tr data-state="' + esc(s.state) + '"><td>' + esc(s.label) + "</td><td>"
    + (s.players.length ? esc(s.players.join(", "))
      : '<span class="model">' + (s.offered ? "nobody yet (the model plays)" : "the model") + "</span>")
    + "</td><td>" + (s.players.length ? '<span class="' + (s.voted ? "yes" : "no") + '">' + s.voted
      + " of " + s.players.length + "</span>" : "")
    + "</td><td>" + esc(s.chosen || "") + "</td><td>" + s.now_html + "</td><td>"
    + esc(s.last || "") + "</td></tr>").join("");
  $("events-log").innerHTML = view.events.map((e) => "<li>" + e.text_html + "</li>").join("");
  renderSuggested(view);
  if (!lessonShown) renderLesson(view);
  if (view.map_version !== shownMap) {
    $("map").src = "/map.svg?large=1&v=" + view.map_version + "-" + view.tick;
    shownMap = view.map_version;
  }
}

// The lesson's suggested events: each in its round with a one-click "Drop it".
function renderSuggested(view) {
  $("suggested-card").classList.toggle("hidden", !view.suggested.length);
  $("suggested").innerHTML = view.suggested.map((s) =>
    '<li class="' + esc(s.status) + '" data-suggested="' + s.id + '">' + s.text_html
    + (s.droppable ? '<br><button type="button" class="primary" data-drop="' + s.id + '">Drop it</button>' : "")
    + "</li>").join("");
}

function renderLesson(view) {
  const info = view.lesson_info;
  const names = view.seats.filter((s) => s.offered).map((s) => s.label);
  $("lesson-card").classList.remove("hidden");
  $("lesson-title").textContent = info.title;
  $("lesson-setup").textContent = (info.summary ? info.summary + " " : "")
    + "Students play " + (view.all_states ? "every state" : names.join(", ")) + "; rounds of "
    + view.ticks_per_round + " quarters, " + view.round_seconds + " s to answer.";
  $("lesson-text").innerHTML = info.for_students_html;  // the lesson author's own text
  $("lesson-text-box").classList.toggle("hidden", !info.for_students_html);
  lessonShown = true;
}

function setClock(secondsLeft) {
  deadline = secondsLeft === null || secondsLeft === undefined ? null : Date.now() + secondsLeft * 1000;
}

async function poll(wait) {
  const since = version === null || !wait ? "" : "?since=" + version + "&wait=" + wait;
  const view = await call("/api/teacher" + since);
  version = view.version;
  setClock(view.seconds_left);
  if (!view.unchanged) render(view);
}

async function pollLoop() {
  for (;;) {
    const started = Date.now();
    try { await poll(HOLD_S); }
    catch (e) { message(e.message); await sleep(3000); }
    await sleep(Math.max(0, GAP_MS - (Date.now() - started)));
  }
}
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function act(path, body) {
  try { await call(path, body || {}); message(""); await poll(0); }
  catch (e) { message(e.message); }
}

function countdown() {
  $("countdown").textContent = over ? "over" : deadline === null ? "paused"
    : Math.max(0, Math.ceil((deadline - Date.now()) / 1000)) + " s";
}

function start() {
  $("qr").src = "/qr.svg";
  for (const id of ["debrief-link", "debrief-link2", "debrief-link3"]) $(id).href = "/debrief?key=" + encodeURIComponent(KEY);
  for (const id of ["export-link", "export-link2"]) $(id).href = "/export.zip?key=" + encodeURIComponent(KEY);
  $("pause").addEventListener("click", () => act("/api/teacher/pause"));
  $("resume").addEventListener("click", () => act("/api/teacher/resume"));
  $("advance").addEventListener("click", () => act("/api/teacher/advance"));
  $("end").addEventListener("click", () => { if (confirm("End the game for everyone?")) act("/api/teacher/end"); });
  $("event-kind").addEventListener("change", eventChanged);
  $("lever-name").addEventListener("change", leverChanged);
  $("drop").addEventListener("click", () => {
    const target = $("event-target");
    act("/api/teacher/event", { kind: $("event-kind").value, targets: target.disabled ? [] : [target.value] });
  });
  $("suggested").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-drop]");
    if (button) { button.disabled = true; act("/api/teacher/suggested", { id: Number(button.dataset.drop) }); }
  });
  $("lever-apply").addEventListener("click", () => {
    const values = {};
    values[$("lever-name").value] = Number($("lever-value").value);
    act("/api/teacher/levers", { values });
  });
  pollLoop();
  setInterval(countdown, 250);
}
start();
