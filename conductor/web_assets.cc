// The stylesheet and the script as raw string literals.
//
// The script keeps the pages live without reordering rows under the
// reader: it polls the JSON API once a second (not while the tab is
// hidden) and changes text and data- attributes of elements the server
// rendered, found by these ids and attributes:
//
//   every page  <body data-page="overview|jobs|job|players|error"
//               data-task-states="QUEUED DISPATCHED ..."> (their order)
//   overview    /api/v1/overview: #tasks-queued, #tasks-dispatched,
//               #tasks-running, #oldest-queued-age, dd[data-jobs-finished=
//               STATE], #players-connected, #players-busy,
//               #players-offline, #store-warning (hidden), #version,
//               svg#finished-chart (redrawn: data-minutes,
//               data-slot-width, data-bar-width, viewBox), #chart-peak,
//               table#recent-jobs tr[data-job=ID] with td[data-field=
//               state|finished_at] (new jobs go on top; none moves),
//               #recent-jobs-empty
//   job         only while <body data-job-state="PENDING">:
//               /api/v1/jobs/ID/states, #job-state, tbody[data-tasks=RUNS] with
//               td[data-field=state|waiting], span.player[data-task=ID]
//               (its data-state); the page reloads once when the job
//               leaves PENDING
//   players     /api/v1/players (the page's query passed on):
//               table#players tr[data-player=NAME] with [data-field=
//               connected|last_seen|running|slots|version]
//
// A state is shown as <span class="state" data-state="S">S</span>. A POST
// from the script (none yet) must carry the header X-Orchestra: 1.

#include "conductor/web_assets.h"

namespace orchestra::conductor {

namespace {

constexpr std::string_view kStylesheet = R"css(/* Orchestra */
:root {
  color-scheme: light dark;
  --fg: #1d2024; --bg: #fff; --muted: #5f6b76; --line: #d8dce0;
  --shade: rgba(127, 127, 127, 0.09);
  --ok: #2e7d32; --fail: #c62828; --wait: #a35c00; --run: #1565c0;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e3e6e8; --bg: #16181a; --muted: #9aa5ae; --line: #343a40;
          --ok: #66bb6a; --fail: #ef5350; --wait: #ffa726; --run: #64b5f6; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg);
       background: var(--bg); }
header { display: flex; flex-wrap: wrap; justify-content: space-between;
         gap: 0.5rem; padding: 0.5rem 1rem; border-bottom: 1px solid var(--line); }
nav a { margin-right: 1rem; }
nav a[aria-current=page] { font-weight: 600; }
a { color: var(--run); }
.user, footer, .more, .age, .cut, .note, .empty, figcaption, dt
  { color: var(--muted); }
main { padding: 0 1rem 2rem; max-width: 84rem; }
footer { padding: 0.5rem 1rem; font-size: 0.85em;
         border-top: 1px solid var(--line); }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.15rem; margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.3rem 0.5rem;
         border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
th, .state, td[data-field=count], td[data-field=exit] { white-space: nowrap; }
td.players, td.error, td.scores, .params td { overflow-wrap: anywhere; }
.params th { width: 12rem; }
[data-connected=false] { color: var(--wait); }
tbody.group { border-top: 2px solid var(--line); }
tr.output td { border-bottom: 0; }
dd { margin: 0; font-variant-numeric: tabular-nums; }
.panels { display: grid; gap: 0 1.5rem;
          grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
.figures div { display: flex; justify-content: space-between;
               border-bottom: 1px dotted var(--line); padding: 0.15rem 0; }
dl.job div { display: grid; grid-template-columns: 10rem 1fr; gap: 0.5rem;
             padding: 0.15rem 0; }
pre { margin: 0.25rem 0 0.5rem; padding: 0.5rem; max-height: 24rem;
      overflow: auto; background: var(--shade); white-space: pre-wrap;
      overflow-wrap: anywhere; }
.stream-name { font-weight: 600; }
.cut, .note { font-size: 0.85em; }
.state { font-weight: 600; }
.player { white-space: nowrap; margin-right: 0.4em; }
[data-state=OK] { color: var(--ok); }
[data-state=FAIL], [data-state=PARTIAL_FAIL], [data-state=TIMEOUT],
[data-state=LOST], [data-state=HOST_ERROR], [data-state=UNK_SCORE]
  { color: var(--fail); }
[data-state=PENDING], [data-state=DISPATCHED], [data-state=RUNNING]
  { color: var(--run); }
[data-state=QUEUED], [data-state=CANCELLED], [data-state=ABORTED],
[data-state=EXPIRED], [data-state=SKIPPED] { color: var(--wait); }
.warning { padding: 0.5rem; border: 1px solid var(--fail); color: var(--fail); }
.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem;
           align-items: flex-end; margin: 1rem 0; }
.pages { margin: 0.75rem 0; display: flex; gap: 1rem; flex-wrap: wrap; }
.cancel { margin: 0.5rem 0; }
.cancel button { color: var(--fail); font-weight: 600; }
.chart { margin: 0; }
.chart svg { display: block; width: 100%; height: 10rem;
             border-bottom: 1px solid var(--line); }
.chart rect { fill: currentColor; }
.chart [data-state=OK] { color: #2e9d43; }
.chart [data-state=FAIL] { color: #d32f2f; }
.chart [data-state=TIMEOUT] { color: #f57c00; }
.chart [data-state=CANCELLED] { color: #8d8d8d; }
.chart [data-state=UNK_SCORE] { color: #8e24aa; }
.chart [data-state=HOST_ERROR] { color: #c2185b; }
.chart [data-state=LOST] { color: #6d4c41; }
.chart [data-state=ABORTED] { color: #546e7a; }
.chart [data-state=EXPIRED] { color: #c0a000; }
.chart [data-state=SKIPPED] { color: #b0bec5; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap;
          gap: 0.25rem 1rem; font-size: 0.85em; }
.legend li::before { content: ""; display: inline-block; width: 0.8em;
                     height: 0.8em; margin-right: 0.3em;
                     background: currentColor; }
@media (max-width: 40rem) {
  header, main { padding-left: 0.5rem; padding-right: 0.5rem; }
  thead { display: none; }
  table, tbody, tr { display: block; }
  tr { border-bottom: 1px solid var(--line); padding: 0.25rem 0; }
  td, th { display: inline-block; border: 0; padding: 0.1rem 0.6rem 0.1rem 0; }
  td.players, td.scores, tr.output td { display: block; }
  td[data-field=count]::before { content: "\00d7 "; }
  td[data-field=exit]:not(:empty)::before { content: "exit "; }
  dl.job div { grid-template-columns: 1fr; gap: 0; }
}
)css";

constexpr std::string_view kScript = R"js(// Orchestra: keeps the pages live.
// The pages work without this script. It polls the JSON API once a second
// and changes cells in place; it never reorders rows under the reader.
(function () {
  'use strict';
  var PERIOD_MS = 1000;
  var MAX_RECENT_ROWS = 100;
  var SVG_NS = 'http://www.w3.org/2000/svg';

  function byId(id) { return document.getElementById(id); }
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function field(root, name) {
    return root.querySelector('[data-field="' + name + '"]');
  }
  function own(map, key) {
    return map && Object.prototype.hasOwnProperty.call(map, key) ?
        map[key] : undefined;
  }
  function setText(el, text) {
    text = String(text);
    if (el && el.textContent !== text) el.textContent = text;
  }

  // Fetches `url` every PERIOD_MS (not while the tab is hidden) and gives
  // the JSON to `apply`. Returns the timer.
  function poll(url, apply) {
    var busy = false;
    function tick() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, {credentials: 'same-origin',
                  headers: {'Accept': 'application/json'}})
          .then(function (r) {
            if (!r.ok) throw new Error('HTTP ' + r.status);
            return r.json();
          })
          .then(function (json) {
            document.body.removeAttribute('data-stale');
            apply(json);
          })
          .catch(function () { document.body.setAttribute('data-stale', ''); })
          .then(function () { busy = false; });
    }
    return setInterval(tick, PERIOD_MS);
  }

  // The same text as the server's FormatAge (conductor/page_frame.cc).
  function formatAge(ms) {
    ms = Math.max(0, Math.floor(ms));
    if (ms < 1000) return ms + ' ms';
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + s % 60 + ' s';
    if (s < 86400) {
      return Math.floor(s / 3600) + ' h ' + Math.floor(s / 60) % 60 + ' min';
    }
    return Math.floor(s / 86400) + ' d ' + Math.floor(s / 3600) % 24 + ' h';
  }

  function taskStates() {
    var text = document.body.getAttribute('data-task-states') || '';
    return text.split(' ').filter(Boolean);
  }

  // Known states in their order, then the others by name.
  function sortStates(names) {
    var order = taskStates();
    function rank(name) {
      var i = order.indexOf(name);
      return i < 0 ? order.length : i;
    }
    return names.slice().sort(function (a, b) {
      return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
    });
  }

  function stateSpan(state, label) {
    var span = document.createElement('span');
    span.className = 'state';
    span.setAttribute('data-state', state);
    span.textContent = label;
    return span;
  }

  function setState(cell, state) {
    var span = cell && cell.querySelector('.state');
    if (!span) return;
    setText(span, state);
    span.setAttribute('data-state', state);
  }

  // Puts <time datetime=T>T</time> in `cell`, or nothing for null.
  function setTime(cell, text) {
    if (!cell) return;
    var time = cell.querySelector('time');
    var shown = time ? time.getAttribute('datetime') : null;
    if (shown === (text || null)) return;
    cell.textContent = '';
    if (!text) return;
    time = document.createElement('time');
    time.setAttribute('datetime', text);
    time.textContent = text;
    cell.appendChild(time);
  }

  // ---- the overview ----

  function total(minute) {
    var sum = 0;
    Object.keys(minute || {}).forEach(function (k) {
      sum += Math.max(0, Number(minute[k]) || 0);
    });
    return sum;
  }

  function bar(x, y, width, height, state, ago, count) {
    var rect = document.createElementNS(SVG_NS, 'rect');
    rect.setAttribute('x', x);
    rect.setAttribute('y', y.toFixed(2));
    rect.setAttribute('width', width);
    rect.setAttribute('height', height.toFixed(2));
    rect.setAttribute('data-state', state);
    var title = document.createElementNS(SVG_NS, 'title');
    title.textContent = ago + ' min ago: ' + state + ' ' + count;
    rect.appendChild(title);
    return rect;
  }

  // Redraws the chart with the geometry of conductor/finish_chart.cc.
  var drawnChart = null;
  function drawChart(minutes) {
    var svg = byId('finished-chart');
    var key = JSON.stringify(minutes);
    if (!svg || !Array.isArray(minutes) || key === drawnChart) return;
    drawnChart = key;
    var slots = Number(svg.getAttribute('data-minutes'));
    var slotWidth = Number(svg.getAttribute('data-slot-width'));
    var barWidth = Number(svg.getAttribute('data-bar-width'));
    var height = svg.viewBox.baseVal.height;
    var shown = minutes.slice(-slots);
    var peak = 1, names = [];
    shown.forEach(function (minute) {
      peak = Math.max(peak, total(minute));
      Object.keys(minute || {}).forEach(function (name) {
        if (names.indexOf(name) < 0) names.push(name);
      });
    });
    var order = sortStates(names);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    shown.forEach(function (minute, i) {
      var slot = slots - shown.length + i, bottom = height;
      order.forEach(function (state) {
        var count = Number(own(minute, state)) || 0;
        if (count <= 0) return;
        var h = height * count / peak;
        bottom -= h;
        svg.appendChild(bar(slot * slotWidth + 1, bottom, barWidth, h, state,
                            slots - 1 - slot, count));
      });
    });
    setText(byId('chart-peak'), peak);
  }

  function recentJobRow(job) {
    var row = document.createElement('tr');
    row.setAttribute('data-job', String(job.id));
    var link = document.createElement('a');
    link.href = '/jobs/' + encodeURIComponent(job.id);
    link.textContent = String(job.id);
    var cells = ['', 'score', 'state', 'created_at', 'finished_at'];
    cells.forEach(function (name) {
      var cell = row.insertCell(-1);
      if (name === 'state' || name === 'finished_at' || name === 'created_at') {
        cell.setAttribute('data-field', name);
      }
    });
    row.cells[0].appendChild(link);
    row.cells[1].textContent = job.score || '';
    row.cells[2].appendChild(stateSpan(job.state, job.state));
    setTime(row.cells[3], job.created_at);
    setTime(row.cells[4], job.finished_at);
    return row;
  }

  // Updates the rows shown; puts jobs newer than all of them on top.
  function updateRecentJobs(jobs) {
    var table = byId('recent-jobs');
    if (!table || !Array.isArray(jobs)) return;
    var body = table.tBodies[0], rows = new Map(), newest = -Infinity;
    each(body.rows, function (row) {
      var id = Number(row.getAttribute('data-job'));
      rows.set(id, row);
      newest = Math.max(newest, id);
    });
    var fresh = [];
    jobs.forEach(function (job) {
      var row = rows.get(Number(job.id));
      if (row) {
        setState(field(row, 'state'), job.state);
        setTime(field(row, 'finished_at'), job.finished_at);
      } else if (Number(job.id) > newest) {
        fresh.push(job);
      }
    });
    fresh.sort(function (a, b) { return a.id - b.id; });
    fresh.forEach(function (job) {
      body.insertBefore(recentJobRow(job), body.firstChild);
    });
    while (body.rows.length > MAX_RECENT_ROWS) body.deleteRow(-1);
    var empty = byId('recent-jobs-empty');
    if (empty) empty.hidden = body.rows.length > 0;
  }

  function updateOverview(o) {
    setText(byId('tasks-queued'), o.queued);
    setText(byId('tasks-dispatched'), o.dispatched);
    setText(byId('tasks-running'), o.running);
    setText(byId('oldest-queued-age'), o.oldest_queued_age_ms == null ?
        '\u2014' : formatAge(o.oldest_queued_age_ms));
    each(document.querySelectorAll('[data-jobs-finished]'), function (dd) {
      var state = dd.getAttribute('data-jobs-finished');
      setText(dd, own(o.jobs_finished_last_hour, state) || 0);
    });
    var players = o.players || {};
    setText(byId('players-connected'), players.connected);
    setText(byId('players-busy'), players.busy);
    setText(byId('players-offline'), players.offline);
    var warning = byId('store-warning');
    if (warning) warning.hidden = o.store_writable !== false;
    setText(byId('version'), o.version);
    drawChart(o.finished_per_minute);
    updateRecentJobs(o.recent_jobs);
  }

  // ---- a job ----

  // "101-200,305" -> [101, ..., 200, 305].
  function parseRuns(text) {
    var ids = [];
    (text || '').split(',').forEach(function (run) {
      var ends = run.split('-').map(Number);
      var last = ends.length > 1 ? ends[1] : ends[0];
      if (!(ends[0] > 0) || !(last >= ends[0])) return;
      for (var id = ends[0]; id <= last; ++id) ids.push(id);
    });
    return ids;
  }

  // Shows "S" when all of a group's tasks are in one state, else
  // "S1 n1, S2 n2, ..." in the order of the states.
  function showCounts(cell, counts) {
    var names = sortStates(Object.keys(counts));
    if (!cell || names.length === 0) return;
    var labels = names.length === 1 ? names : names.map(function (name) {
      return name + ' ' + counts[name];
    });
    var key = labels.join(', ');
    if ((cell.getAttribute('data-shown') || cell.textContent) === key) return;
    cell.setAttribute('data-shown', key);
    cell.textContent = '';
    names.forEach(function (name, i) {
      if (i > 0) cell.appendChild(document.createTextNode(', '));
      cell.appendChild(stateSpan(name, labels[i]));
    });
  }

  function updateGroups(groups, states, waiting) {
    groups.forEach(function (group) {
      var counts = {}, reasons = [];
      group.ids.forEach(function (id) {
        var state = states.get(id), reason = waiting.get(id);
        if (state) counts[state] = (counts[state] || 0) + 1;
        if (reason && reasons.indexOf(reason) < 0) reasons.push(reason);
      });
      showCounts(group.state, counts);
      setText(group.waiting, reasons.join(', '));
    });
  }

  function updateJob(job, groups) {
    var states = new Map(), players = new Map(), waiting = new Map();
    (job.tasks || []).forEach(function (task) {
      var id = Number(task.task);
      states.set(id, String(task.state));
      if (task.player) players.set(id, String(task.player));
      if (task.waiting) waiting.set(id, String(task.waiting));
    });
    setState(byId('job-state'), job.state);
    each(document.querySelectorAll('.player[data-task]'), function (span) {
      var id = Number(span.getAttribute('data-task'));
      var state = states.get(id);
      if (players.has(id)) setText(span, players.get(id));
      if (!state || span.getAttribute('data-state') === state) return;
      span.setAttribute('data-state', state);
      span.title = state;
    });
    updateGroups(groups, states, waiting);
  }

  // Reloads the page once, so the finished job shows grouped as the server
  // renders it; a page that comes back still PENDING is not reloaded again.
  function reloadOnce(id) {
    var key = 'orchestra-reloaded-job-' + id;
    try {
      if (sessionStorage.getItem(key)) return false;
      sessionStorage.setItem(key, '1');
    } catch (e) { /* no storage: reload anyway */ }
    location.reload();
    return true;
  }

  function startJob() {
    var body = document.body, id = body.getAttribute('data-job');
    if (body.getAttribute('data-job-state') !== 'PENDING') {
      try { sessionStorage.removeItem('orchestra-reloaded-job-' + id); }
      catch (e) { /* nothing kept */ }
      return;
    }
    var groups = [];
    each(document.querySelectorAll('tbody[data-tasks]'), function (tbody) {
      groups.push({ids: parseRuns(tbody.getAttribute('data-tasks')),
                   state: field(tbody, 'state'),
                   waiting: field(tbody, 'waiting')});
    });
    var timer = poll('/api/v1/jobs/' + encodeURIComponent(id) + '/states',
                     function (job) {
      if (!job || !job.state) return;
      if (job.state !== 'PENDING' && reloadOnce(id)) {
        clearInterval(timer);
        return;
      }
      updateJob(job, groups);
    });
  }

  // ---- players ----

  function setLastSeen(cell, text) {
    if (!cell) return;
    setTime(cell, text);
    var age = cell.querySelector('.age');
    if (!text) return;
    if (!age) {
      cell.appendChild(document.createTextNode(' '));
      age = document.createElement('span');
      age.className = 'age';
      cell.appendChild(age);
    }
    var ms = Date.now() - Date.parse(text);
    setText(age, isNaN(ms) ? '' : '(' + formatAge(ms) + ' ago)');
  }

  function updatePlayers(reply) {
    var rows = new Map();
    each(document.querySelectorAll('#players tr[data-player]'), function (row) {
      rows.set(row.getAttribute('data-player'), row);
    });
    ((reply && reply.players) || []).forEach(function (p) {
      var row = rows.get(p.name);
      if (!row) return;
      var cell = field(row, 'connected'), connected = p.connected ? 'true' : 'false';
      if (cell && cell.getAttribute('data-connected') !== connected) {
        cell.setAttribute('data-connected', connected);
        cell.textContent = p.connected ? 'yes' : 'no';
      }
      setText(field(row, 'running'), p.running);
      setText(field(row, 'slots'), p.slots);
      setText(field(row, 'version'), p.version || '');
      setLastSeen(field(row, 'last_seen'), p.last_seen);
    });
  }

  function start() {
    var page = document.body.getAttribute('data-page');
    if (page === 'overview') poll('/api/v1/overview', updateOverview);
    if (page === 'job') startJob();
    if (page === 'players') poll('/api/v1/players' + location.search, updatePlayers);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
)js";

constexpr Asset kAssets[] = {
    {"text/css; charset=utf-8", kStylesheet},
    {"text/javascript; charset=utf-8", kScript},
};

constexpr std::string_view kPaths[] = {
    "/static/orchestra.css",
    "/static/orchestra.js",
};

}  // namespace

const Asset* FindAsset(std::string_view path) {
  for (size_t i = 0; i < sizeof(kPaths) / sizeof(kPaths[0]); ++i) {
    if (kPaths[i] == path) return &kAssets[i];
  }
  return nullptr;
}

}  // namespace orchestra::conductor
