// The collector's trace viewer: plain JavaScript, no dependencies, no build
// step, and nothing fetched but this collector's own API.
//
// Safety: run content (names, inputs, outputs, errors, metadata, feedback)
// only ever reaches the page as text (textContent / text nodes); nothing
// here parses data as markup, and the page's Content-Security-Policy
// forbids inline script. The API key comes from the URL fragment (#key=..., which
// browsers never send to the server) or from the key form, is kept in
// sessionStorage, and is sent as x-api-key.
'use strict';

const KEY_STORAGE = 'langsmith-collector.api-key';
const TRACE_POLL_MS = 1500;
// Slower polling for a trace that has not changed for a minute (a run that
// never ends, e.g. its process died) and for a hidden tab.
const SLOW_POLL_MS = 5000;
const QUIET_MS = 60000;
const LIST_POLL_MS = 4000;
// A trace whose newest run started or ended this recently is still polled
// even when no run is pending: more runs (from other services) may follow.
const LIVE_WINDOW_MS = 30000;
const PAGE_SIZE = 50;

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ DOM helpers

/** Creates an element; strings among `children` become text nodes. */
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k === 'title') e.title = String(v);
      else if (k === 'href') e.setAttribute('href', v);
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') e.setAttribute(k, String(v));
      else e[k] = v;
    }
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function show(node, visible) {
  node.hidden = !visible;
}

// ------------------------------------------------------------------ formatting

/** Milliseconds since the epoch (with microseconds) of an RFC 3339 string; NaN if unknown. */
function parseTime(s) {
  if (typeof s !== 'string') return NaN;
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/.exec(s.trim());
  if (!m) return Date.parse(s);
  let ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (m[7]) ms += Number('0.' + m[7]) * 1000;
  const tz = m[8];
  if (tz && tz !== 'Z' && tz !== 'z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0);
    ms -= sign * minutes * 60000;
  }
  return ms;
}

function fmtDuration(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 0) ms = 0;
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 10) return ms.toFixed(1) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  const m = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  return m + 'm ' + s + 's';
}

function fmtAgo(ms) {
  if (!Number.isFinite(ms)) return '';
  const d = Date.now() - ms;
  if (d < 5000) return 'just now';
  if (d < 60000) return Math.round(d / 1000) + ' s ago';
  if (d < 3600000) return Math.round(d / 60000) + ' min ago';
  if (d < 86400000) return Math.round(d / 3600000) + ' h ago';
  return new Date(ms).toLocaleDateString();
}

function fmtClock(ms) {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' +
    pad(d.getMilliseconds(), 3);
}

/** `01a1fcaf…61f4`: time-ordered ids (UUID v7) share their first digits. */
function shortId(id) {
  if (typeof id !== 'string') return '';
  return id.length > 16 ? id.slice(0, 8) + '…' + id.slice(-4) : id;
}

/** A nice tick step (1, 2 or 5 × 10^n) giving about `count` ticks over `span`. */
function tickStep(span, count) {
  const raw = span / count;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const f of [1, 2, 5, 10]) if (raw <= f * pow) return f * pow;
  return 10 * pow;
}

const RUN_TYPES = new Set(['chain', 'llm', 'tool', 'retriever', 'prompt', 'parser', 'embedding']);

function runTypePill(type) {
  const t = typeof type === 'string' && type ? type : 'run';
  return el('span', { class: 'rt rt-' + (RUN_TYPES.has(t) ? t : 'other'), text: t, title: 'run type: ' + t });
}

function statusBadge(status, errors) {
  if (status === 'pending') return el('span', { class: 'badge badge-pending', text: 'running' });
  if (status === 'error' || errors > 0) {
    return el('span', { class: 'badge badge-error', text: errors > 1 ? errors + ' errors' : 'error' });
  }
  return el('span', { class: 'badge badge-ok', text: 'ok' });
}

// ------------------------------------------------------------------ API

class AuthError extends Error {}

function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || '';
  } catch (_) {
    return '';
  }
}

function setApiKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch (_) {
    // Storage disabled: the key lives as long as the page.
  }
  memoryKey = key || '';
  show($('forget-key'), Boolean(key));
}

let memoryKey = '';

/** Moves `key=` from the URL fragment into sessionStorage and out of the address bar. */
function takeKeyFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has('key')) return;
  const key = params.get('key');
  params.delete('key');
  if (key) setApiKey(key);
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
}

async function api(path) {
  const headers = { accept: 'application/json' };
  const key = apiKey() || memoryKey;
  if (key) headers['x-api-key'] = key;
  const resp = await fetch(path, { headers, cache: 'no-store', credentials: 'omit' });
  if (resp.status === 401) {
    throw new AuthError(key ? 'The collector did not accept this API key.' : '');
  }
  let body = null;
  try {
    body = await resp.json();
  } catch (_) {
    body = null;
  }
  if (!resp.ok) {
    const err = new Error((body && typeof body.detail === 'string' && body.detail) || 'HTTP ' + resp.status);
    err.status = resp.status;
    throw err;
  }
  return body;
}

// ------------------------------------------------------------------ routing

const state = {
  view: '',
  timer: 0,
  list: { cursors: [''], page: 0, text: '', nameDebounce: 0, projects: '' },
  trace: null,
  sessions: new Map(), // session id -> name
};

function stopTimer() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = 0;
}

function schedule(fn, ms) {
  stopTimer();
  state.timer = setTimeout(fn, ms);
}

function showView(name) {
  state.view = name;
  for (const v of ['key', 'list', 'trace']) show($('view-' + v), v === name);
  if (name !== 'trace') setLive(false);
  document.body.dataset.view = name;
}

function route() {
  stopTimer();
  const p = new URLSearchParams(location.hash.slice(1));
  const trace = p.get('trace');
  if (trace) openTrace(trace, p.get('run'));
  else openList(p);
}

function needKey(message) {
  stopTimer();
  showView('key');
  const err = $('key-error');
  err.textContent = message || '';
  show(err, Boolean(message));
  $('key-input').value = '';
  $('key-input').focus();
}

// ------------------------------------------------------------------ trace list

function listFilters() {
  return {
    project: $('f-project').value,
    name: $('f-name').value.trim(),
    error: $('f-error').value,
  };
}

function listHash(f) {
  const p = new URLSearchParams();
  for (const k of ['project', 'name', 'error']) if (f[k]) p.set(k, f[k]);
  return p.toString();
}

function openList(params) {
  showView('list');
  const want = {
    project: params.get('project') || '',
    name: params.get('name') || '',
    error: params.get('error') || '',
  };
  const now = listFilters();
  if (want.project !== now.project || want.name !== now.name || want.error !== now.error) {
    ensureOption($('f-project'), want.project);
    $('f-project').value = want.project;
    $('f-name').value = want.name;
    $('f-error').value = ['true', 'false'].includes(want.error) ? want.error : '';
    resetPaging();
  }
  $('endpoint-hint').textContent = 'LANGSMITH_ENDPOINT=' + location.origin;
  loadProjects();
  loadList();
}

function resetPaging() {
  state.list.cursors = [''];
  state.list.page = 0;
  state.list.text = '';
}

function ensureOption(select, value) {
  if (!value) return;
  for (const o of select.options) if (o.value === value) return;
  select.append(el('option', { value, text: value }));
}

async function loadProjects() {
  try {
    const sessions = await api('/sessions?limit=1000');
    const names = (Array.isArray(sessions) ? sessions : [])
      .map((s) => s && s.name)
      .filter((n) => typeof n === 'string' && n)
      .sort((a, b) => a.localeCompare(b));
    for (const s of Array.isArray(sessions) ? sessions : []) {
      if (s && typeof s.id === 'string' && typeof s.name === 'string') state.sessions.set(s.id, s.name);
    }
    const key = JSON.stringify(names);
    if (key === state.list.projects) return;
    state.list.projects = key;
    const select = $('f-project');
    const current = select.value;
    select.replaceChildren(el('option', { value: '', text: 'All projects' }),
      ...names.map((n) => el('option', { value: n, text: n })));
    ensureOption(select, current);
    select.value = current;
  } catch (_) {
    // The list itself reports errors (including a missing key).
  }
}

function onFiltersChanged() {
  resetPaging();
  const hash = listHash(listFilters());
  state.lastListHash = hash;
  history.replaceState(null, '', location.pathname + location.search + (hash ? '#' + hash : ''));
  loadList();
}

async function loadList() {
  if (state.view !== 'list') return;
  stopTimer();
  const f = listFilters();
  const qs = new URLSearchParams();
  for (const k of ['project', 'name', 'error']) if (f[k]) qs.set(k, f[k]);
  qs.set('limit', String(PAGE_SIZE));
  const cursor = state.list.cursors[state.list.page];
  if (cursor) qs.set('cursor', cursor);
  const requested = qs.toString();
  state.list.requested = requested;
  try {
    const data = await api('/api/traces?' + requested);
    if (state.view !== 'list' || state.list.requested !== requested) return;
    show($('list-error'), false);
    const text = JSON.stringify(data);
    if (text !== state.list.text) {
      state.list.text = text;
      renderList(data);
    } else {
      refreshAges();
    }
  } catch (e) {
    if (e instanceof AuthError) return needKey(e.message);
    if (state.view !== 'list') return;
    $('list-error').textContent = 'Could not load traces: ' + e.message;
    show($('list-error'), true);
  }
  if (state.view === 'list' && $('f-auto').checked && state.list.page === 0) {
    schedule(loadList, LIST_POLL_MS);
  }
}

function renderList(data) {
  const traces = Array.isArray(data && data.traces) ? data.traces : [];
  const tbody = $('traces').tBodies[0];
  tbody.replaceChildren(...traces.map(traceRow));
  const filtered = Object.values(listFilters()).some(Boolean);
  show($('list-empty'), traces.length === 0);
  $('list-empty').querySelector('.empty-title').textContent =
    filtered ? 'No traces match these filters' : 'No traces yet';
  const next = data && data.cursors && data.cursors.next;
  state.list.cursors.length = state.list.page + 1;
  if (typeof next === 'string' && next) state.list.cursors.push(next);
  $('page-newer').disabled = state.list.page === 0;
  $('page-older').disabled = !(typeof next === 'string' && next);
  $('page-info').textContent = 'Page ' + (state.list.page + 1) +
    (traces.length ? ' · ' + traces.length + ' trace' + (traces.length === 1 ? '' : 's') : '');
}

function traceRow(t) {
  const start = parseTime(t.start_time);
  const href = '#trace=' + encodeURIComponent(String(t.trace_id));
  const open = () => {
    location.hash = 'trace=' + encodeURIComponent(String(t.trace_id));
  };
  const runs = el('td', { class: 'c-num' }, String(t.run_count ?? ''));
  const tr = el('tr', {
    class: 'trace-row' + (t.error ? ' has-error' : '') + (t.status === 'pending' ? ' is-pending' : ''),
    'data-trace-id': t.trace_id,
    tabIndex: 0,
  },
  el('td', { class: 'c-status' }, statusBadge(t.status, t.error_count),
    t.status === 'pending' && t.error ? statusBadge('error', t.error_count) : null),
  el('td', { class: 'c-name' }, el('div', { class: 'name-cell' }, runTypePill(t.run_type),
    el('a', { class: 'trace-link', href, text: t.name || '(unnamed)' }))),
  el('td', { class: 'c-project', text: t.project || '' }),
  runs,
  el('td', { class: 'c-num' + (t.status === 'pending' ? ' running' : ''), text: listDuration(t, start) }),
  el('td', { class: 'c-time', title: fmtClock(start), 'data-ms': String(start), text: fmtAgo(start) }),
  el('td', { class: 'c-id mono', title: t.trace_id, text: shortId(t.trace_id) }));
  tr.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('a')) return;
    open();
  });
  tr.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') open();
  });
  return tr;
}

function listDuration(t, start) {
  if (t.status !== 'pending') return fmtDuration(t.duration_ms);
  const so = Math.max(Number(t.duration_ms) || 0, Date.now() - start);
  return Number.isFinite(so) ? fmtDuration(so) + ' so far' : 'running';
}

function refreshAges() {
  for (const td of $('traces').querySelectorAll('td.c-time')) {
    td.textContent = fmtAgo(Number(td.dataset.ms));
  }
}

// ------------------------------------------------------------------ trace view

function newTraceState(id, runId) {
  return {
    id,
    openedAt: Date.now(),
    changedAt: Date.now(),
    text: '',
    runs: [],
    byId: new Map(),
    roots: [],
    collapsed: new Set(),
    selected: runId || '',
    detailText: '',
    feedback: new Map(),
    live: true,
  };
}

function openTrace(id, runId) {
  showView('trace');
  if (!state.trace || state.trace.id !== id) {
    state.trace = newTraceState(id, runId);
    $('trace-title').textContent = 'Loading trace…';
    $('trace-chips').replaceChildren(el('span', { class: 'chip mono', text: id }));
    $('tree').replaceChildren();
    $('axis').replaceChildren();
    $('detail').replaceChildren();
    show($('trace-error'), false);
  } else if (runId && runId !== state.trace.selected) {
    select(runId, false);
  }
  $('back').setAttribute('href', '#' + (state.lastListHash || ''));
  pollTrace();
}

async function pollTrace() {
  const t = state.trace;
  if (!t || state.view !== 'trace') return;
  stopTimer();
  let live = true;
  try {
    const data = await api('/api/traces/' + encodeURIComponent(t.id));
    if (state.trace !== t || state.view !== 'trace') return;
    show($('trace-error'), false);
    const text = JSON.stringify(data);
    if (text !== t.text) {
      t.text = text;
      t.changedAt = Date.now();
      buildTree(t, Array.isArray(data && data.runs) ? data.runs : []);
      await loadSessionNames(t);
      if (state.trace !== t) return;
      renderTrace(t);
    } else if (t.runs.some((r) => !r.end_time)) {
      renderWaterfall(t); // running bars grow
    }
    live = isLive(t);
    if (live || !t.feedbackFresh) refreshFeedback(t);
  } catch (e) {
    if (e instanceof AuthError) return needKey(e.message);
    if (state.trace !== t || state.view !== 'trace') return;
    const msg = e.status === 404
      ? 'No runs of this trace have arrived (yet). Waiting for them…'
      : 'Could not load the trace: ' + e.message;
    $('trace-error').textContent = msg;
    show($('trace-error'), true);
    if (e.status === 404) {
      live = Date.now() - t.openedAt < LIVE_WINDOW_MS;
      if (!live) $('trace-error').textContent = 'No run of trace ' + t.id + ' was found.';
    }
  }
  t.live = live;
  setLive(live);
  const quiet = document.hidden || Date.now() - t.changedAt > QUIET_MS;
  if (live) schedule(pollTrace, quiet ? SLOW_POLL_MS : TRACE_POLL_MS);
  else if (t.roots.length) renderWaterfall(t); // pending bars stop growing
}

function setLive(live) {
  show($('live'), live && state.view === 'trace');
}

/** Whether to keep polling: a run is pending, or the trace is younger than LIVE_WINDOW_MS. */
function isLive(t) {
  if (t.runs.some((r) => r.status === 'pending' || !r.end_time)) return true;
  let newest = -Infinity;
  for (const r of t.runs) newest = Math.max(newest, r._start, r._end);
  return Number.isFinite(newest) && Date.now() - newest < LIVE_WINDOW_MS;
}

async function loadSessionNames(t) {
  const missing = new Set();
  for (const r of t.runs) if (typeof r.session_id === 'string' && !state.sessions.has(r.session_id)) missing.add(r.session_id);
  for (const id of missing) {
    try {
      const s = await api('/sessions/' + encodeURIComponent(id));
      if (s && typeof s.name === 'string') state.sessions.set(id, s.name);
    } catch (e) {
      if (e instanceof AuthError) throw e;
      state.sessions.set(id, '');
    }
  }
}

/**
 * Flattens the server's nested tree and nests it again: by `parent_run_id`,
 * else by the last parent in the dotted order; siblings in dotted order.
 * Runs whose parent has not arrived become roots (marked as orphans).
 */
function buildTree(t, nested) {
  const runs = [];
  const walk = (list) => {
    for (const node of list) {
      if (!node || typeof node !== 'object') continue;
      const { children, ...run } = node;
      runs.push(run);
      if (Array.isArray(children)) walk(children);
    }
  };
  walk(nested);
  const byId = new Map();
  for (const r of runs) {
    r._kids = [];
    r._start = parseTime(r.start_time);
    r._end = parseTime(r.end_time);
    r._orphan = false;
    if (typeof r.id === 'string' && !byId.has(r.id)) byId.set(r.id, r);
  }
  const order = (a, b) => {
    const da = String(a.dotted_order || '');
    const db = String(b.dotted_order || '');
    if (da && db && da !== db) return da < db ? -1 : 1;
    return (a._start || 0) - (b._start || 0);
  };
  const roots = [];
  for (const r of byId.values()) {
    let pid = typeof r.parent_run_id === 'string' ? r.parent_run_id : '';
    if (!pid && Array.isArray(r.parent_run_ids) && r.parent_run_ids.length) {
      pid = String(r.parent_run_ids[r.parent_run_ids.length - 1]);
    }
    const parent = pid && pid !== r.id ? byId.get(pid) : undefined;
    if (parent) parent._kids.push(r);
    else {
      r._orphan = Boolean(pid);
      roots.push(r);
    }
  }
  // Break cycles (only lying input has them): whatever no root reaches
  // becomes a root too.
  const seen = new Set();
  const reach = (r) => {
    if (seen.has(r.id)) return;
    seen.add(r.id);
    r._kids.forEach(reach);
  };
  roots.forEach(reach);
  for (const r of byId.values()) {
    if (!seen.has(r.id)) {
      r._orphan = true;
      roots.push(r);
      reach(r);
      for (const p of byId.values()) p._kids = p._kids.filter((k) => k !== r);
    }
  }
  for (const r of byId.values()) r._kids.sort(order);
  roots.sort(order);
  t.runs = [...byId.values()];
  t.byId = byId;
  t.roots = roots;
  assignServices(t);
  if (!t.selected || !byId.has(t.selected)) t.selected = roots.length ? roots[0].id : '';
}

/** The visible rows: depth-first, children of collapsed runs left out. */
function visibleRows(t) {
  const rows = [];
  const seen = new Set();
  const walk = (r, depth, parent) => {
    if (seen.has(r.id)) return;
    seen.add(r.id);
    rows.push({ run: r, depth, parent });
    if (!t.collapsed.has(r.id)) for (const k of r._kids) walk(k, depth + 1, r);
  };
  for (const r of t.roots) walk(r, 0, null);
  return rows;
}

function sdkOf(r) {
  const rt = r && r.extra && r.extra.runtime;
  return rt && typeof rt.sdk === 'string' ? rt.sdk : '';
}

/**
 * Which service a run belongs to: its own `service_name` metadata, else its
 * SDK when that differs from its parent's, else its parent's service. A
 * tree row is tagged where this changes (a distributed trace's hops).
 */
function assignServices(t) {
  const walk = (r, parent) => {
    const md = r.extra && r.extra.metadata;
    const own = md && typeof md.service_name === 'string' ? md.service_name : '';
    const sdk = sdkOf(r);
    if (own) r._service = own;
    else if (!parent || (sdk && sdk !== sdkOf(parent))) r._service = sdk;
    else r._service = parent._service;
    for (const k of r._kids) if (!k._visited) {
      k._visited = true;
      walk(k, r);
    }
  };
  for (const r of t.runs) r._visited = false;
  for (const r of t.roots) {
    r._visited = true;
    walk(r, null);
  }
}

function timeBounds(t) {
  let lo = Infinity;
  let hi = -Infinity;
  const now = Date.now();
  for (const r of t.runs) {
    if (Number.isFinite(r._start)) lo = Math.min(lo, r._start);
    const end = Number.isFinite(r._end) ? r._end : (r.status === 'pending' || !r.end_time ? now : r._start);
    if (Number.isFinite(end)) hi = Math.max(hi, end);
  }
  if (!Number.isFinite(lo)) return { lo: 0, span: 1 };
  return { lo, span: Math.max(hi - lo, 1) };
}

function renderTrace(t) {
  const root = t.roots[0];
  const errors = t.runs.filter((r) => r.status === 'error' || r.error).length;
  const pending = t.runs.some((r) => r.status === 'pending' || !r.end_time);
  const { span } = timeBounds(t);
  const projects = [...new Set(t.runs.map((r) => state.sessions.get(r.session_id)).filter(Boolean))];
  const services = [...new Set(t.runs.map((r) => r._service).filter(Boolean))];
  $('trace-title').replaceChildren(root ? runTypePill(root.run_type) : '', root ? String(root.name || '(unnamed)') : 'Trace');
  document.title = (root && root.name ? root.name + ' · ' : '') + 'langsmith-collector';
  $('trace-chips').replaceChildren(
    statusBadge(pending ? 'pending' : errors ? 'error' : 'success', errors),
    pending && errors ? statusBadge('error', errors) : '',
    el('span', { class: 'chip', text: t.runs.length + ' run' + (t.runs.length === 1 ? '' : 's') }),
    el('span', { class: 'chip', title: 'from the first start to the last end', text: fmtDuration(span) + (pending ? ' so far' : '') }),
    ...projects.map((p) => el('span', { class: 'chip', title: 'project', text: p })),
    services.length > 1 ? el('span', { class: 'chip', title: 'services / SDKs in this trace', text: services.join(' · ') }) : '',
    root && Number.isFinite(root._start) ? el('span', { class: 'chip muted', text: fmtClock(root._start) }) : '',
    el('span', { class: 'chip mono muted', title: 'trace id ' + t.id, text: shortId(t.id) }));
  renderTree(t);
  renderDetail(t, false);
  state.lastTraceRendered = t.id;
}

function renderTree(t) {
  const rows = visibleRows(t);
  const tree = $('tree');
  const frag = document.createDocumentFragment();
  const grid = el('div', { class: 'gridlines', 'aria-hidden': 'true' });
  frag.append(grid);
  for (const { run: r, depth, parent } of rows) {
    const kids = r._kids.length;
    const collapsed = t.collapsed.has(r.id);
    const isError = r.status === 'error' || Boolean(r.error);
    const pending = r.status === 'pending' || !r.end_time;
    const svc = r._service;
    const newService = svc && parent && parent._service !== svc;
    const caret = kids
      ? el('button', {
        type: 'button',
        class: 'caret',
        'aria-label': (collapsed ? 'Expand ' : 'Collapse ') + (r.name || 'run'),
        text: collapsed ? '▸' : '▾',
      })
      : el('span', { class: 'caret caret-leaf', 'aria-hidden': 'true' });
    if (kids) {
      caret.addEventListener('click', (e) => {
        e.stopPropagation();
        toggle(r.id);
      });
    }
    const dur = Number.isFinite(r._end) && Number.isFinite(r._start) ? fmtDuration(r._end - r._start) : pending ? 'running' : '';
    const tokens = totalTokens(r);
    const name = el('div', { class: 'cell-name' },
      caret,
      runTypePill(r.run_type),
      el('span', { class: 'run-name', text: r.name || '(unnamed)', title: r.name || '' }),
      isError ? el('span', { class: 'err-icon', text: '!', title: 'error: ' + String(r.error || '') }) : '',
      r._orphan ? el('span', { class: 'tag-mini', text: 'parent missing', title: 'its parent run has not arrived' }) : '',
      newService ? el('span', { class: 'tag-mini svc', text: svc, title: 'service / SDK' }) : '',
      collapsed ? el('span', { class: 'tag-mini', text: '+' + countDescendants(r) }) : '',
      el('span', { class: 'spacer' }),
      tokens != null ? el('span', { class: 'tokens', text: tokens + ' tok', title: 'total tokens' }) : '',
      el('span', { class: 'dur' + (pending ? ' running' : ''), text: dur }));
    name.style.setProperty('--depth', String(depth));
    const bar = el('div', { class: 'bar rt-bg-' + (RUN_TYPES.has(r.run_type) ? r.run_type : 'other') + (isError ? ' error' : '') + (pending ? ' pending' : '') });
    const row = el('div', {
      class: 'row' + (isError ? ' error' : '') + (pending ? ' pending' : '') + (r.id === t.selected ? ' selected' : ''),
      role: 'treeitem',
      'aria-level': depth + 1,
      'aria-selected': r.id === t.selected ? 'true' : 'false',
      'aria-expanded': kids ? (collapsed ? 'false' : 'true') : undefined,
      'data-run-id': r.id,
      'data-status': isError ? 'error' : pending ? 'pending' : 'success',
    }, name, el('div', { class: 'cell-bar' }, bar));
    row.addEventListener('click', () => select(r.id, true));
    frag.append(row);
  }
  tree.replaceChildren(frag);
  renderWaterfall(t);
}

function countDescendants(r) {
  let n = 0;
  const seen = new Set();
  const walk = (x) => {
    for (const k of x._kids) {
      if (seen.has(k.id)) continue;
      seen.add(k.id);
      n += 1;
      walk(k);
    }
  };
  walk(r);
  return n;
}

/** Positions the bars and draws the time axis (shared by every row). */
function renderWaterfall(t) {
  const { lo, span } = timeBounds(t);
  const now = Date.now();
  for (const row of $('tree').querySelectorAll('.row')) {
    const r = t.byId.get(row.dataset.runId);
    const bar = row.querySelector('.bar');
    if (!r || !bar) continue;
    const start = Number.isFinite(r._start) ? r._start : lo;
    const end = Number.isFinite(r._end) ? r._end : (r.status === 'pending' || !r.end_time ? now : start);
    const left = ((start - lo) / span) * 100;
    const width = Math.max(((end - start) / span) * 100, 0.4);
    bar.style.left = Math.min(Math.max(left, 0), 99.6) + '%';
    bar.style.width = Math.min(width, 100 - Math.min(Math.max(left, 0), 99.6)) + '%';
    bar.title = (r.name || 'run') + ': ' + fmtDuration(end - start) + ', starts at +' + fmtDuration(start - lo);
  }
  const step = tickStep(span, 5);
  const ticks = [];
  const lines = [];
  for (let v = 0; v <= span * 1.0001; v += step) {
    const pct = (v / span) * 100;
    const tick = el('span', { class: 'tick', text: v === 0 ? '0' : fmtDuration(v) });
    tick.style.left = pct + '%';
    if (pct > 92) tick.classList.add('tick-end');
    ticks.push(tick);
    const line = el('span', { class: 'gridline' });
    line.style.left = pct + '%';
    lines.push(line);
  }
  $('axis').replaceChildren(...ticks);
  const grid = $('tree').querySelector('.gridlines');
  if (grid) grid.replaceChildren(...lines);
}

function toggle(id) {
  const t = state.trace;
  if (!t) return;
  if (t.collapsed.has(id)) t.collapsed.delete(id);
  else t.collapsed.add(id);
  renderTree(t);
}

function select(id, updateHash) {
  const t = state.trace;
  if (!t || !t.byId.has(id)) return;
  t.selected = id;
  for (const row of $('tree').querySelectorAll('.row')) {
    const on = row.dataset.runId === id;
    row.classList.toggle('selected', on);
    row.setAttribute('aria-selected', on ? 'true' : 'false');
    if (on) row.scrollIntoView({ block: 'nearest' });
  }
  if (updateHash) {
    history.replaceState(null, '', '#trace=' + encodeURIComponent(t.id) + '&run=' + encodeURIComponent(id));
  }
  renderDetail(t, true);
  refreshFeedback(t);
}

function onTreeKey(e) {
  const t = state.trace;
  if (!t) return;
  const rows = visibleRows(t);
  const i = rows.findIndex((x) => x.run.id === t.selected);
  const cur = rows[i];
  if (e.key === 'ArrowDown' && i + 1 < rows.length) select(rows[i + 1].run.id, true);
  else if (e.key === 'ArrowUp' && i > 0) select(rows[i - 1].run.id, true);
  else if (e.key === 'ArrowLeft' && cur) {
    if (cur.run._kids.length && !t.collapsed.has(cur.run.id)) toggle(cur.run.id);
    else if (cur.parent) select(cur.parent.id, true);
  } else if (e.key === 'ArrowRight' && cur && t.collapsed.has(cur.run.id)) toggle(cur.run.id);
  else return;
  e.preventDefault();
}

// ------------------------------------------------------------------ detail pane

function usageOf(r) {
  const md = r.extra && r.extra.metadata;
  const u = (md && md.usage_metadata) || (r.outputs && r.outputs.usage_metadata);
  if (u && typeof u === 'object' && !Array.isArray(u)) return u;
  if (r.total_tokens != null || r.prompt_tokens != null) {
    return { input_tokens: r.prompt_tokens, output_tokens: r.completion_tokens, total_tokens: r.total_tokens };
  }
  return null;
}

function totalTokens(r) {
  const u = usageOf(r);
  if (!u) return null;
  if (typeof u.total_tokens === 'number') return u.total_tokens;
  if (typeof u.input_tokens === 'number' || typeof u.output_tokens === 'number') {
    return (u.input_tokens || 0) + (u.output_tokens || 0);
  }
  return null;
}

function isEmpty(v) {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** A chat message list: objects with a role (or type) and content. */
function isMessages(v) {
  return Array.isArray(v) && v.length > 0 && v.every((m) => m && typeof m === 'object' && !Array.isArray(m) &&
    (typeof m.role === 'string' || typeof m.type === 'string') && 'content' in m);
}

/** Structured, escaped rendering of any JSON value. */
function jsonView(v, depth = 0) {
  if (v === null || v === undefined) return el('span', { class: 'j-null', text: 'null' });
  if (typeof v === 'string') return el('span', { class: 'j-str', text: v });
  if (typeof v === 'number' || typeof v === 'bigint') return el('span', { class: 'j-num', text: String(v) });
  if (typeof v === 'boolean') return el('span', { class: 'j-bool', text: String(v) });
  if (depth > 16) return el('span', { class: 'j-str', text: JSON.stringify(v) });
  if (isMessages(v)) {
    return el('div', { class: 'msgs' }, ...v.map((m) => el('div', { class: 'msg' },
      el('div', { class: 'msg-role', text: String(m.role || m.type) }),
      el('div', { class: 'msg-content' }, jsonView(m.content, depth + 1)),
      ...Object.keys(m).filter((k) => !['role', 'type', 'content'].includes(k))
        .map((k) => el('div', { class: 'j-row' }, el('span', { class: 'j-key', text: k }), el('div', { class: 'j-val' }, jsonView(m[k], depth + 1)))))));
  }
  if (Array.isArray(v)) {
    if (!v.length) return el('span', { class: 'j-null', text: '[]' });
    return el('div', { class: 'j-arr' }, ...v.map((x, i) => el('div', { class: 'j-row' },
      el('span', { class: 'j-key j-idx', text: String(i) }), el('div', { class: 'j-val' }, jsonView(x, depth + 1)))));
  }
  const keys = Object.keys(v);
  if (!keys.length) return el('span', { class: 'j-null', text: '{}' });
  return el('div', { class: 'j-obj' }, ...keys.map((k) => el('div', { class: 'j-row' },
    el('span', { class: 'j-key', text: k }), el('div', { class: 'j-val' }, jsonView(v[k], depth + 1)))));
}

/** A detail section; `value` gets a structured view with a raw-JSON toggle. */
function section(title, id, body, value) {
  const head = el('div', { class: 'sec-head' }, el('h3', { text: title }));
  const sec = el('section', { class: 'sec', 'data-section': id }, head);
  if (value !== undefined) {
    const pretty = el('div', { class: 'sec-body json' }, jsonView(value));
    const raw = el('pre', { class: 'sec-body raw', text: JSON.stringify(value, null, 2) });
    raw.hidden = true;
    const btn = el('button', { type: 'button', class: 'btn btn-small btn-quiet', text: 'JSON' });
    btn.addEventListener('click', () => {
      raw.hidden = !raw.hidden;
      pretty.hidden = !raw.hidden;
      btn.textContent = raw.hidden ? 'JSON' : 'View';
    });
    head.append(btn);
    sec.append(pretty, raw);
  } else {
    sec.append(el('div', { class: 'sec-body' }, body));
  }
  return sec;
}

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// A run's attachments: each a link to its bytes (the collector's download
// URL, same origin), raster images also shown.
function attachmentsView(info) {
  const list = el('ul', { class: 'attachments' });
  for (const [key, a] of Object.entries(info)) {
    const name = key.replace(/^attachment\./, '');
    const url = a && typeof a.presigned_url === 'string' && a.presigned_url.startsWith('/') ? a.presigned_url : null;
    const mime = a && a.mime_type ? String(a.mime_type) : 'no type';
    const size = a && typeof a.size === 'number' ? `, ${fmtSize(a.size)}` : '';
    const label = `${name} (${mime}${size})`;
    const item = el('li', { 'data-attachment': name },
      url ? el('a', { href: url, target: '_blank', rel: 'noopener', text: label }) : el('span', { text: label }));
    if (url && /^image\/(png|jpeg|gif|webp|avif|bmp)\b/i.test(mime)) {
      item.append(el('img', { src: url, alt: name, class: 'att-img', loading: 'lazy' }));
    }
    list.append(item);
  }
  return list;
}

function kv(label, value, cls) {
  return [el('dt', { text: label }), el('dd', { class: cls || '' }, value)];
}

function renderDetail(t, force) {
  const r = t.byId.get(t.selected);
  const pane = $('detail');
  if (!r) {
    pane.replaceChildren(el('p', { class: 'muted pad', text: 'Select a run.' }));
    t.detailText = '';
    return;
  }
  const { _kids, _start, _end, _orphan, _service, _visited, ...plain } = r;
  const text = JSON.stringify(plain);
  if (!force && text === t.detailText) return;
  const keepScroll = !force ? pane.scrollTop : 0;
  t.detailText = text;
  const isError = r.status === 'error' || Boolean(r.error);
  const pending = r.status === 'pending' || !r.end_time;
  const md = r.extra && typeof r.extra.metadata === 'object' && r.extra.metadata ? { ...r.extra.metadata } : null;
  if (md) delete md.usage_metadata;
  const runtime = r.extra && r.extra.runtime;
  const parent = typeof r.parent_run_id === 'string' ? t.byId.get(r.parent_run_id) : undefined;
  const parentLink = parent
    ? el('button', { type: 'button', class: 'link', text: parent.name || shortId(parent.id), title: parent.id })
    : el('span', { class: 'muted', text: r.parent_run_id ? shortId(r.parent_run_id) + ' (not received)' : '—' });
  if (parent) parentLink.addEventListener('click', () => select(parent.id, true));
  const dur = Number.isFinite(_end) && Number.isFinite(_start) ? fmtDuration(_end - _start) : pending ? 'running…' : '';
  const nodes = [
    el('div', { class: 'detail-head' },
      runTypePill(r.run_type),
      el('h2', { class: 'detail-name', text: r.name || '(unnamed)' }),
      statusBadge(pending ? 'pending' : isError ? 'error' : 'success', isError ? 1 : 0)),
    el('dl', { class: 'facts' },
      ...kv('Run', r.id, 'mono'),
      ...kv('Parent', parentLink),
      ...kv('Start', fmtClock(_start) || String(r.start_time || '')),
      ...kv('Duration', dur),
      ...kv('Project', state.sessions.get(r.session_id) || shortId(r.session_id)),
      ...(r._service ? kv('Service', r._service) : []),
      ...(runtime && runtime.sdk ? kv('SDK', String(runtime.sdk) + (runtime.sdk_version ? ' ' + runtime.sdk_version : '')) : [])),
  ];
  if (isError) nodes.push(section('Error', 'error', el('pre', { class: 'error-text', text: String(r.error) })));
  nodes.push(section('Inputs', 'inputs', null, isEmpty(r.inputs) ? {} : r.inputs));
  if (!isEmpty(r.outputs)) nodes.push(section('Outputs', 'outputs', null, r.outputs));
  else nodes.push(section('Outputs', 'outputs', el('p', { class: 'muted', text: pending ? 'Not yet: the run is still going.' : 'None.' })));
  const usage = usageOf(r);
  if (usage) nodes.push(section('Token usage', 'usage', usageTable(usage)));
  const fb = el('div', { class: 'feedback', 'data-run-id': r.id });
  fillFeedback(fb, t.feedback.get(r.id));
  nodes.push(section('Feedback', 'feedback', fb));
  if (Array.isArray(r.tags) && r.tags.length) {
    nodes.push(section('Tags', 'tags', el('div', { class: 'chips' }, ...r.tags.map((x) => el('span', { class: 'chip', text: String(x) })))));
  }
  if (md && Object.keys(md).length) nodes.push(section('Metadata', 'metadata', null, md));
  if (runtime && typeof runtime === 'object') nodes.push(section('Runtime', 'runtime', null, runtime));
  if (Array.isArray(r.events) && r.events.length) nodes.push(section('Events', 'events', null, r.events));
  const att = r.attachments_info && typeof r.attachments_info === 'object' ? Object.keys(r.attachments_info) : [];
  if (att.length) nodes.push(section('Attachments', 'attachments', attachmentsView(r.attachments_info)));
  pane.replaceChildren(...nodes);
  pane.scrollTop = keepScroll;
}

function usageTable(u) {
  const rows = [];
  const add = (label, v) => {
    if (typeof v === 'number' || typeof v === 'string') rows.push(el('tr', null, el('th', { text: label }), el('td', { class: 'c-num', text: String(v) })));
  };
  add('input', u.input_tokens);
  add('output', u.output_tokens);
  add('total', u.total_tokens ?? ((u.input_tokens || 0) + (u.output_tokens || 0)));
  for (const group of ['input_token_details', 'output_token_details']) {
    const d = u[group];
    if (d && typeof d === 'object') {
      for (const [k, v] of Object.entries(d)) add(group.split('_')[0] + ' · ' + k, v);
    }
  }
  for (const [k, v] of Object.entries(u)) {
    if (!['input_tokens', 'output_tokens', 'total_tokens', 'input_token_details', 'output_token_details'].includes(k)) add(k, v);
  }
  return el('table', { class: 'usage' }, el('tbody', null, ...rows));
}

function fillFeedback(box, list) {
  if (list === undefined) {
    box.replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
    return;
  }
  if (!list.length) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No feedback.' }));
    return;
  }
  box.replaceChildren(el('table', { class: 'fb' },
    el('thead', null, el('tr', null, el('th', { text: 'Key' }), el('th', { text: 'Score' }), el('th', { text: 'Value' }), el('th', { text: 'Comment' }))),
    el('tbody', null, ...list.map((f) => el('tr', null,
      el('td', { class: 'mono', text: String(f.key ?? '') }),
      el('td', { class: 'c-num', text: f.score == null ? '' : String(f.score) }),
      el('td', { text: f.value == null ? '' : typeof f.value === 'string' ? f.value : JSON.stringify(f.value) }),
      el('td', { text: f.comment == null ? '' : String(f.comment) }))))));
}

async function refreshFeedback(t) {
  const id = t.selected;
  if (!id) return;
  try {
    const list = await api('/feedback?run=' + encodeURIComponent(id) + '&limit=1000');
    if (state.trace !== t) return;
    t.feedback.set(id, Array.isArray(list) ? list : []);
    t.feedbackFresh = !t.live;
    const box = $('detail').querySelector('.feedback');
    if (box && box.dataset.runId === id) fillFeedback(box, t.feedback.get(id));
  } catch (e) {
    if (e instanceof AuthError) needKey(e.message);
  }
}

// ------------------------------------------------------------------ start

function init() {
  takeKeyFromFragment();
  memoryKey = apiKey();
  show($('forget-key'), Boolean(memoryKey));
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    if (!key) return;
    setApiKey(key);
    route();
  });
  $('forget-key').addEventListener('click', () => {
    setApiKey('');
    route();
  });
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  $('f-project').addEventListener('change', onFiltersChanged);
  $('f-error').addEventListener('change', onFiltersChanged);
  $('f-name').addEventListener('input', () => {
    clearTimeout(state.list.nameDebounce);
    state.list.nameDebounce = setTimeout(onFiltersChanged, 250);
  });
  $('f-auto').addEventListener('change', () => loadList());
  $('page-newer').addEventListener('click', () => {
    if (state.list.page > 0) {
      state.list.page -= 1;
      state.list.text = '';
      loadList();
    }
  });
  $('page-older').addEventListener('click', () => {
    if (state.list.cursors[state.list.page + 1]) {
      state.list.page += 1;
      state.list.text = '';
      loadList();
    }
  });
  $('tree').addEventListener('keydown', onTreeKey);
  $('expand-all').addEventListener('click', () => {
    if (!state.trace) return;
    state.trace.collapsed.clear();
    renderTree(state.trace);
  });
  $('collapse-all').addEventListener('click', () => {
    const t = state.trace;
    if (!t) return;
    for (const r of t.runs) if (r._kids.length && !t.roots.includes(r)) t.collapsed.add(r.id);
    renderTree(t);
  });
  window.addEventListener('hashchange', () => {
    takeKeyFromFragment();
    const p = new URLSearchParams(location.hash.slice(1));
    if (!p.get('trace')) state.lastListHash = listHash({ project: p.get('project'), name: p.get('name'), error: p.get('error') });
    route();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.view === 'list') loadList();
  });
  const p = new URLSearchParams(location.hash.slice(1));
  if (!p.get('trace')) state.lastListHash = location.hash.slice(1);
  route();
}

document.addEventListener('DOMContentLoaded', init);
