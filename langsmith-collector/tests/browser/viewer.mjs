// Drives headless Chromium (Debian's /usr/bin/chromium through
// playwright-core) against the collector's trace viewer. Started by
// tests/viewer_browser.rs, which ingests the demo trace and passes:
//   VIEWER_URL            the collector's base URL
//   VIEWER_API_KEY        the collector's API key ('' for none)
//   VIEWER_PLAN           a JSON file: trace_id, names, names_after, ...
//   VIEWER_SCREENSHOT     where to save the trace page's screenshot
//   VIEWER_USER_DATA_DIR  a fresh, empty profile directory
//   CHROMIUM              the browser (default /usr/bin/chromium)
// Prints one line per check; exits non-zero on the first failure.
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k, d) => (process.env[k] === undefined ? d : process.env[k]);
const base = env('VIEWER_URL');
const key = env('VIEWER_API_KEY', '');
const plan = JSON.parse(readFileSync(env('VIEWER_PLAN'), 'utf8'));
const screenshot = env('VIEWER_SCREENSHOT');
const userDataDir = env('VIEWER_USER_DATA_DIR');
const executablePath = env('CHROMIUM', '/usr/bin/chromium');
const T = 15000; // per-wait timeout, ms

function check(cond, what, detail) {
  if (!cond) {
    throw new Error('FAILED: ' + what + (detail === undefined ? '' : ' — got ' + JSON.stringify(detail)));
  }
  console.log('ok - ' + what);
}

const dialogs = [];
const consoleErrors = [];
const foreign = [];

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
  colorScheme: 'light',
  timeout: 60000,
});
context.setDefaultTimeout(T);
context.on('request', (r) => {
  const u = r.url();
  if (!u.startsWith(base + '/') && !u.startsWith('data:')) foreign.push(u);
});

function watch(page) {
  page.on('dialog', (d) => {
    dialogs.push(d.type() + ': ' + d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    // The 401s of the key test are expected; everything else (CSP
    // violations included) is a failure.
    if (key && /status of 401/.test(text)) return;
    consoleErrors.push(text);
  });
  return page;
}

async function rowNames(page) {
  return page.$$eval('#tree .row .run-name', (ns) => ns.map((n) => n.textContent));
}

function rowOf(page, name) {
  return page.locator('#tree .row', { has: page.locator('.run-name', { hasText: new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') + '$') }) });
}

async function barBoxes(page) {
  return page.$$eval('#tree .row', (rows) => rows.map((r) => {
    const b = r.querySelector('.cell-bar .bar');
    if (!b) return null;
    const box = b.getBoundingClientRect();
    return { left: box.left, width: box.width };
  }));
}

async function listNames(page) {
  return page.$$eval('#traces tbody tr .trace-link', (ns) => ns.map((n) => n.textContent));
}

async function waitListNames(page, want, what) {
  await page.waitForFunction((w) => {
    const got = [...document.querySelectorAll('#traces tbody tr .trace-link')].map((n) => n.textContent);
    return JSON.stringify(got) === JSON.stringify(w);
  }, want, { timeout: T }).catch(() => {});
  const got = await listNames(page);
  check(JSON.stringify(got) === JSON.stringify(want), what, got);
}

async function postLateBatch() {
  const headers = { 'content-type': 'application/json' };
  if (key) headers['x-api-key'] = key;
  const r = await fetch(base + '/runs/batch', { method: 'POST', headers, body: JSON.stringify(plan.late_batch) });
  check(r.status === 202, 'the late runs were accepted', r.status);
}

/** The API-key flow: prompt, a wrong key, the right key; then /#key=. */
async function keyFlow() {
  const page = watch(await context.newPage());
  await page.goto(base + '/');
  await page.locator('#view-key').waitFor({ state: 'visible' });
  check(true, 'without a key the page asks for one');
  const status = await page.evaluate(async () => (await fetch('/api/traces')).status);
  check(status === 401, 'an API call without the key gets 401', status);
  const withKey = await page.evaluate(async (k) => (await fetch('/api/traces', { headers: { 'x-api-key': k } })).status, key);
  check(withKey === 200, 'an API call with the key gets 200', withKey);
  await page.fill('#key-input', 'not-the-key');
  await page.click('#key-form button[type=submit]');
  await page.locator('#key-error').waitFor({ state: 'visible' });
  check(/did not accept/.test(await page.textContent('#key-error')), 'a wrong key is refused');
  if (screenshot) {
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-prompt.png') });
  }
  await page.fill('#key-input', key);
  await page.click('#key-form button[type=submit]');
  await page.locator(`#traces tbody tr[data-trace-id="${plan.trace_id}"]`).waitFor();
  check(true, 'with the key typed in, the list loads');
  const stored = await page.evaluate(() => sessionStorage.getItem('langsmith-collector.api-key'));
  check(stored === key, 'the key is kept in sessionStorage', stored);
  await page.close();
}

async function listChecks(page) {
  const rowSel = `#traces tbody tr[data-trace-id="${plan.trace_id}"]`;
  await page.locator(rowSel).waitFor();
  if (key) {
    check(!page.url().includes('key='), 'the key is taken out of the address bar', page.url());
  }
  const all = [plan.root_name, ...plan.other_traces.map((t) => t[0])];
  await waitListNames(page, all, 'the list shows every trace, newest first');
  const row = page.locator(rowSel);
  check(await row.locator('.badge-error').count() === 1, 'the demo trace has an error badge');
  check((await row.locator('td.c-project').textContent()) === plan.project, 'the demo trace shows its project');
  const runs = (await row.locator('td.c-num').first().textContent()).trim();
  check(runs === String(plan.names.length), 'the demo trace shows its run count', runs);
  check(await row.locator('.badge-pending').count() === 1, 'the demo trace is marked running');

  await page.selectOption('#f-error', 'true');
  await waitListNames(page, [plan.root_name], 'the error filter keeps only traces with errors');
  await page.selectOption('#f-error', '');
  await page.selectOption('#f-project', 'evals');
  await waitListNames(page, ['nightly_eval'], 'the project filter');
  await page.selectOption('#f-project', '');
  await page.fill('#f-name', 'summar');
  await waitListNames(page, ['summarize_ticket'], 'the name filter');
  await page.fill('#f-name', '');
  await waitListNames(page, all, 'clearing the filters shows every trace again');
}

async function traceChecks(page) {
  await page.click(`#traces tbody tr[data-trace-id="${plan.trace_id}"] .trace-link`);
  await page.waitForFunction((n) => document.querySelectorAll('#tree .row').length === n, plan.names.length);
  let names = await rowNames(page);
  check(JSON.stringify(names) === JSON.stringify(plan.names), 'the tree shows the runs in order', names);
  const errRows = await page.$$eval('#tree .row.error .run-name', (ns) => ns.map((n) => n.textContent));
  check(JSON.stringify(errRows) === JSON.stringify([plan.error_run]), 'the error run (only) is marked', errRows);
  check(await rowOf(page, plan.error_run).locator('.err-icon').count() === 1, 'the error run has an error icon');
  let bars = await barBoxes(page);
  check(bars.length === plan.names.length && bars.every((b) => b && b.width > 0), 'the waterfall has a bar per run', bars);
  check(await page.locator('#tree .bar.pending').count() === 2, 'running runs have running bars');
  const types = await page.$$eval('#tree .row .rt', (ns) => ns.map((n) => n.textContent));
  check(types.includes('llm') && types.includes('tool') && types.includes('retriever'), 'run types are labelled', types);
  check(await page.locator('#live').isVisible(), 'a trace still arriving is shown as live');

  // Live update: the rest of the trace arrives while the page is open.
  await postLateBatch();
  await page.waitForFunction((n) => document.querySelectorAll('#tree .row').length === n, plan.names_after.length, { timeout: 10000 })
    .catch(() => {});
  names = await rowNames(page);
  check(JSON.stringify(names) === JSON.stringify(plan.names_after), 'runs arriving later show up without a reload', names);
  await page.waitForFunction(() => document.querySelector('#tree .row')?.dataset.status === 'success', null, { timeout: 10000 }).catch(() => {});
  const rootStatus = await page.$eval('#tree .row', (r) => r.dataset.status);
  check(rootStatus === 'success', 'the root run turns from running to done', rootStatus);
  bars = await barBoxes(page);
  check(bars.length === plan.names_after.length && bars.every((b) => b && b.width > 0), 'still a bar per run', bars);
  const at = (n) => bars[names.indexOf(n)];
  check(at('chat_model').left > at('retrieve_docs').left + 20, 'bars sit on a shared time axis (chat_model starts after retrieve_docs)', bars);
  check(at('format_answer').left > at('chat_model').left + at('chat_model').width, 'format_answer starts after chat_model ends', bars);
  check(Math.abs(at(plan.names[0]).width - Math.max(...bars.map((b) => b.width))) < 1, 'the root bar spans the trace', bars);
  check(await page.locator('#axis .tick').count() >= 3, 'the time axis has ticks');

  // Inputs of a clicked run.
  await rowOf(page, plan.inputs_run).click();
  await page.waitForFunction((n) => document.querySelector('#detail .detail-name')?.textContent === n, plan.inputs_run);
  const inputs = await page.textContent('#detail [data-section=inputs]');
  check(inputs.includes(plan.inputs_text), 'clicking a run shows its inputs', inputs);
  check(page.url().includes('run='), 'the selected run is in the URL');
  // Its attachment: a link to the bytes, and the picture itself, loaded
  // through the URL the run carries (with an API key too: its token).
  const att = page.locator(`#detail [data-attachment="${plan.attachment}"]`);
  check(await att.count() === 1, 'the run lists its attachment');
  check((await att.locator('a').textContent()).includes('image/png'), 'the attachment link names its type');
  await page.waitForFunction((n) => {
    const img = document.querySelector(`#detail [data-attachment="${n}"] img`);
    return img && img.complete && img.naturalWidth > 0;
  }, plan.attachment, { timeout: 15000 });
  check(true, 'the attached picture is shown');

  // Markup in run content stays text.
  await rowOf(page, plan.script_run).click();
  await page.waitForFunction((n) => document.querySelector('#detail .detail-name')?.textContent === n, plan.script_run);
  const chat = await page.textContent('#detail [data-section=inputs]');
  check(chat.includes('<script>alert(1)</script>'), 'a <script> in the inputs shows as text', chat);
  check(await page.locator('#detail script').count() === 0, 'no script element came from run content');
  check(await page.evaluate(() => document.scripts.length) === 1, 'the page has only its own script');
  const meta = await page.textContent('#detail [data-section=metadata]');
  check(meta.includes('<img src=x onerror=alert(2)>') && await page.locator('#detail img').count() === 0, 'an <img> in the metadata shows as text');
  const usage = await page.textContent('#detail [data-section=usage]');
  check(usage.includes('59') && usage.includes('42') && usage.includes('17'), 'token usage is shown', usage);
  await page.waitForFunction(() => /correctness/.test(document.querySelector('#detail .feedback')?.textContent || ''));
  const fb = await page.textContent('#detail .feedback');
  check(fb.includes('correctness') && fb.includes('grounded in the docs <script>'), 'feedback is shown (as text)', fb);
  const tags = await page.textContent('#detail [data-section=tags]');
  check(tags.includes('gpt-4o-mini'), 'tags are shown', tags);

  // Collapse and expand a subtree.
  const before = (await rowNames(page)).length;
  await rowOf(page, plan.collapse_run).locator('button.caret').click();
  await page.waitForFunction((n) => document.querySelectorAll('#tree .row').length < n, before);
  const collapsed = await rowNames(page);
  check(!collapsed.includes(plan.script_run), 'collapsing a run hides its children', collapsed);
  await rowOf(page, plan.collapse_run).locator('button.caret').click();
  await page.waitForFunction((n) => document.querySelectorAll('#tree .row').length === n, before);
  check(true, 'expanding shows them again');

  // Keyboard: down moves the selection.
  await rowOf(page, plan.script_run).click();
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction((n) => document.querySelector('#detail .detail-name')?.textContent !== n, plan.script_run);
  await rowOf(page, plan.script_run).click();
  await page.waitForFunction((n) => document.querySelector('#detail .detail-name')?.textContent === n, plan.script_run);
}

let failed = false;
try {
  if (key) await keyFlow();
  const page = watch(await context.newPage());
  await page.goto(base + '/' + (key ? '#key=' + encodeURIComponent(key) : ''));
  await listChecks(page);
  if (screenshot) {
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-list.png') });
  }
  await traceChecks(page);
  // Let the bars settle (hover effects off) before the picture.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(300);
  if (screenshot) {
    await page.screenshot({ path: screenshot });
    console.log('screenshot: ' + screenshot);
  }
  check(dialogs.length === 0, 'no dialog fired', dialogs);
  check(consoleErrors.length === 0, 'no console errors (no CSP violations)', consoleErrors);
  check(foreign.length === 0, 'nothing was fetched from anywhere but the collector', foreign);
} catch (e) {
  failed = true;
  console.error(e && e.stack ? e.stack : String(e));
  if (dialogs.length) console.error('dialogs: ' + JSON.stringify(dialogs));
  if (consoleErrors.length) console.error('console errors: ' + JSON.stringify(consoleErrors));
  try {
    const pages = context.pages();
    if (screenshot && pages.length) {
      await pages[pages.length - 1].screenshot({ path: screenshot.replace(/\.png$/, '-failure.png') });
      console.error('failure screenshot: ' + screenshot.replace(/\.png$/, '-failure.png'));
    }
  } catch (_) {
    // best effort
  }
} finally {
  await context.close().catch(() => {});
}
process.exit(failed ? 1 : 0);
