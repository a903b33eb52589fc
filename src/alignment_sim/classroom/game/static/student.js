// The student's page: join (or rejoin after a reload), read the situation, vote, send.
// It asks the server "anything new since version V?" and the server answers when
// something changed (or after a while, "unchanged"): cheap for a class of 30.
// Texts the server wrote come twice: plain, and as `html` (escaped by the server, with the
// glossary's terms marked for hover and tap); names students type are only ever plain text.
"use strict";
const TOKEN_KEY = "alignment-sim-seat";
const HOLD_S = 20;          // the server holds an unchanged poll this long at most
const GAP_MS = 1500;        // at least this long between two polls
const RETRY_MS = 3000;      // after an error
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem(TOKEN_KEY) || "";
let version = null;
let shown = { round: -1, world: null };
let selected = { security: null, economy: null };
let deadline = null;
let polling = false;
let over = false;

function message(text) { $("msg").textContent = text || ""; }
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function call(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw { message: "Cannot reach the teacher's computer. Check the Wi-Fi; the page keeps trying.", status: 0 };
  }
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: "The teacher's computer sent an unreadable answer." }; }
  if (!response.ok) throw { message: data.error || "Something went wrong.", status: response.status };
  return data;
}

function esc(text) {
  const span = document.createElement("span");
  span.textContent = String(text);
  return span.innerHTML;
}

async function loadSeats() {
  try {
    const data = await call("/api/seats");
    const select = $("join-state");
    select.innerHTML = '<option value="">Put me where I am needed</option>';
    for (const s of data.states) {
      const option = document.createElement("option");
      option.value = s.state;
      const team = s.players.length ? " (" + s.players.length + " of " + data.team_size + ")" : "";
      option.textContent = s.label + (s.free ? team : " (full)");
      option.disabled = !s.free;
      select.appendChild(option);
    }
    if (data.closed) message("This game has ended.");
  } catch (e) { message(e.message); }
}

function seated(seat) {
  token = seat.token;
  localStorage.setItem(TOKEN_KEY, token);
  $("join").classList.add("hidden");
  $("game").classList.remove("hidden");
  $("state-title").textContent = seat.label + " (" + seat.name + ")";
  version = null;
  if (!polling) pollLoop();
}

async function join() {
  message("");
  try {
    seated(await call("/api/join", { name: $("join-name").value, state: $("join-state").value || null }));
  } catch (e) { message(e.message); loadSeats(); }
}

function optionButtons(dimension, options) {
  const box = $("opt-" + dimension);
  box.innerHTML = "";
  for (const o of options) {
    const option = document.createElement("div");
    option.className = "option";
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.value = o.value;
    button.textContent = o.text;
    button.setAttribute("aria-pressed", String(selected[dimension] === o.value));
    button.addEventListener("click", () => {
      selected[dimension] = button.dataset.value;
      for (const b of box.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
      $("send").disabled = !(selected.security && selected.economy);
    });
    const help = document.createElement("small");
    help.innerHTML = o.help_html;  // outside the button: a term's definition opens on tap
    option.append(button, help);
    box.appendChild(option);
  }
}

function renderTeam(data) {
  const names = data.team.map((m) => esc(m.name + (m.you ? " (you)" : ""))
    + (m.voted ? ' <span class="yes">voted</span>' : "")).join(", ");
  const alone = data.team.length === 1;
  $("team").innerHTML = "<h2>Your team for " + esc(data.label) + "</h2><p>" + names + "</p>"
    + (alone ? "<p>You decide alone (up to " + data.team_size + " can share a state).</p>"
      : "<p>Your team's choice is the majority of your votes, for security and for the economy"
        + " (a tie goes to the earliest vote).</p>")
    + (data.team_choice ? "<p>Your team's choice so far: <b>" + esc(data.team_choice) + "</b></p>" : "");
}

function render(data) {
  $("round").textContent = "Round " + data.round + " of " + data.rounds;
  $("date").textContent = data.date;
  $("paused").classList.toggle("hidden", !data.paused || data.closed);
  $("over").classList.toggle("hidden", !data.closed);
  over = data.closed;
  $("choose").classList.toggle("hidden", data.closed);
  if (data.round !== shown.round) {
    selected = data.answer ? { security: data.answer.security, economy: data.answer.economy }
      : { security: data.now.security, economy: data.now.economy };
  }
  const world = data.round + "|" + data.date + "|" + JSON.stringify(data.poles) + JSON.stringify(data.last_round);
  if (world !== shown.world) {
    const rows = data.poles.map((p) =>
      "<tr><td>" + esc(p.name) + "</td><td>US$ " + p.offer_bn.toFixed(2) + " bn"
      + (p.pledge_bn ? " + US$ " + p.pledge_bn.toFixed(2) + " bn pledged if you stay out of its rivals' unions" : "")
      + "</td><td>"
      + Math.round(p.trade_share * 100) + "%</td><td>" + esc(p.threat) + "</td></tr>").join("");
    const neighbours = data.neighbours.map((n) =>
      "<li" + (n.changed ? ' class="changed"' : "") + ">" + esc(n.label) + ": " + esc(n.choice)
      + (n.changed ? " (changed; before: " + esc(n.before) + ")" : "") + "</li>").join("");
    const html = data.html;
    $("situation").innerHTML =
      "<h2>Your situation</h2><p>" + html.situation + "</p>"
      + '<table class="poles"><thead><tr><th></th>' + html.columns.map((c) => "<th>" + c + "</th>").join("")
      + "</tr></thead><tbody>" + rows + "</tbody></table>"
      + "<p>" + html.staying + "</p>"
      + "<h2>The states with the nearest capitals (last round)</h2><ul>" + neighbours + "</ul>";
    optionButtons("security", data.options.security);
    optionButtons("economy", data.options.economy);
    const last = data.last_round;
    $("last-round").classList.toggle("hidden", !last);
    if (last) {
      const mine = last.your_vote
        ? "<tr><td>You voted</td><td>" + esc(last.your_vote) + "</td></tr>" : "";
      $("last-round").innerHTML = "<h2>What happened in round " + last.round + "</h2><p>"
        + last.html.summary + '</p><table class="poles"><tbody>' + mine
        + "<tr><td>Your team's choice</td><td>" + esc(last.team_choice) + "</td></tr>"
        + "<tr><td>The model's leader</td><td>" + esc(last.model_choice) + "</td></tr></tbody></table>"
        + "<ul>" + last.html.why.map((w) => "<li>" + w + "</li>").join("")
        + "</ul>" + (last.events.length ? "<p>Events: " + last.html.events + "</p>" : "");
    }
    shown = { round: data.round, world };
  }
  renderTeam(data);
  $("send").disabled = data.closed || !(selected.security && selected.economy);
  const answered = $("answered");
  answered.classList.toggle("hidden", !data.answered);
  if (data.answered) {
    answered.textContent = "Answered: " + data.answer.text + ". You can change it until the round closes.";
  }
}

function setClock(secondsLeft) {
  deadline = secondsLeft === null || secondsLeft === undefined ? null : Date.now() + secondsLeft * 1000;
}

async function pollOnce(wait) {
  const since = version === null ? "" : "&since=" + version + "&wait=" + wait;
  const data = await call("/api/state?token=" + encodeURIComponent(token) + since);
  version = data.version;
  setClock(data.seconds_left);
  if (!data.unchanged) render(data);
  if ($("msg").dataset.sticky !== "1") message("");
}

async function pollLoop() {
  polling = true;
  while (token) {
    const started = Date.now();
    try {
      await pollOnce(HOLD_S);
    } catch (e) {
      if (e.status === 404) {
        localStorage.removeItem(TOKEN_KEY);
        token = "";
        $("game").classList.add("hidden");
        $("join").classList.remove("hidden");
        loadSeats();
      }
      message(e.message);
      await sleep(RETRY_MS);
    }
    await sleep(Math.max(0, GAP_MS - (Date.now() - started)));
  }
  polling = false;
}

async function send() {
  $("msg").dataset.sticky = "0";
  try {
    const answer = await call("/api/submit", { token, security: selected.security, economy: selected.economy });
    message("");
    $("answered").classList.remove("hidden");
    $("answered").textContent = "Answered: " + answer.text + ". You can change it until the round closes.";
  } catch (e) {
    $("msg").dataset.sticky = "1";
    message(e.message);
  }
}

function countdown() {
  $("countdown").textContent = over ? "over" : deadline === null ? "paused"
    : Math.max(0, Math.ceil((deadline - Date.now()) / 1000)) + " s";
}

async function loadLesson() {
  try {
    const info = await call("/api/lesson");
    if (!info.for_students_html) return;
    $("lesson-title").textContent = info.title + ": read before you play";
    $("lesson-text").innerHTML = info.for_students_html;  // the lesson author's own text
    $("lesson").classList.remove("hidden");
  } catch (e) { /* the lesson text is a help, not needed to play */ }
}

async function start() {
  loadLesson();
  $("join-btn").addEventListener("click", join);
  $("send").addEventListener("click", send);
  if (token) {
    try { seated(await call("/api/rejoin", { token })); }
    catch (e) { localStorage.removeItem(TOKEN_KEY); token = ""; message(e.message); loadSeats(); }
  } else {
    loadSeats();
  }
  setInterval(countdown, 250);
}
start();
