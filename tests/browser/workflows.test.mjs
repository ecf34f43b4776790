// End-to-end tests of the workflow UI (the runs list, a run's live page, cancel and retry,
// the header's "N running" indicator) and of knowledge sync with git from a space's page,
// in headless Chromium.
//
// Set up by helpers.mjs, which starts its own `orbit serve` (ORBIT_BIN, default
// <repo>/target/debug/orbit) on 127.0.0.1:0 with a fresh data directory, a bootstrap token
// and ORBIT_ENABLE_DEMO_WORKFLOWS=1 (which registers `orbit.demo.steps`), drives Debian's
// /usr/bin/chromium (CHROMIUM_BIN overrides) through playwright-core, and stops the server
// at the end. The sync test also runs a `git daemon` on 127.0.0.1. Run it through ./run.sh,
// or `node --test workflows.test.mjs` in this folder.
//
// Each test makes its own workspace and starts its runs through the API, so a single test
// can run alone (node --test --test-name-pattern=cancel workflows.test.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  setUp, tearDown, SET_UP_OPTIONS, TEAR_DOWN_OPTIONS, h, api, apiOk, uniqueSlug, signedIn, h1, submit,
  screenshot, assertAccessible,
} from './helpers.mjs';

const ADMIN_TOKEN = 'orbit-browser-test-bootstrap-token-workflows-0123456789';
const DEMO = 'orbit.demo.steps';

const TEST_TIMEOUT = 60_000; // per test
const RUN_TIMEOUT = 20_000; // a run reaching the state a test waits for

const scratch = mkdtempSync(join(tmpdir(), 'orbit-browser-workflows-scratch-'));

// ---------------------------------------------------------------------------
// git daemons

const daemons = new Set(); // git daemons still running
process.on('exit', () => {
  for (const d of daemons) d.kill('SIGKILL');
});

// ---------------------------------------------------------------------------
// Helpers

/** A workspace of which admin is the owner. */
async function workspace(name) {
  return (await apiOk('WorkspaceService/CreateWorkspace', { slug: uniqueSlug('wf'), name })).workspace;
}

/** Starts a run of the demo workflow; returns the run's id. */
async function startDemo(ws, input, id = uniqueSlug('run')) {
  const { workflow } = await apiOk('WorkflowService/StartWorkflow', {
    workspaceId: ws.id, kind: DEMO, input: JSON.stringify(input), id,
  });
  return workflow.id;
}

async function getRun(ws, id) {
  return (await apiOk('WorkflowService/GetWorkflow', { workspaceId: ws.id, id })).workflow;
}

/** Polls the API (bounded) until the run's status is one of `statuses`; returns the run. */
async function waitForRun(ws, id, statuses, timeout = RUN_TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const run = await getRun(ws, id);
    if (statuses.includes(run.status)) return run;
    if (Date.now() > deadline) assert.fail(`run ${id} is ${run.status}, not ${statuses.join(' or ')}, after ${timeout} ms: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const notice = (page) => page.locator('main [role="status"]');
const alert = (page) => page.locator('main [role="alert"]');
const runStatus = (page) => page.locator('#run-status');
const indicator = (page) => page.locator('header #activity');
const runUrl = (ws, id) => `/ui/w/${ws.slug}/workflows/${id}`;

/** Waits (bounded) until the run page's status badge reads `label`. */
async function waitForStatus(page, label, timeout = RUN_TIMEOUT) {
  await page.waitForFunction(
    (want) => document.getElementById('run-status')?.textContent.trim() === want,
    label,
    { timeout, polling: 50 },
  );
}

/** The messages of the run page's event log, in order. */
async function eventMessages(page) {
  return page.locator('#run-events li .event-message').allInnerTexts();
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

function git(cwd, args) {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, timeout: 30_000 });
}

/** A `git daemon` on 127.0.0.1 serving a bare repository `docs.git` that accepts pushes. */
async function gitDaemon() {
  const root = mkdtempSync(join(scratch, 'git-'));
  git(root, ['init', '--quiet', '--bare', '--initial-branch=main', 'docs.git']);
  const port = await freePort();
  const proc = spawn('git', [
    'daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', '--listen=127.0.0.1',
    `--port=${port}`, `--base-path=${root}`, root,
  ], { stdio: 'ignore' });
  daemons.add(proc);
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    daemons.delete(proc);
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise((r) => {
      const sock = tcpConnect(port, '127.0.0.1', () => { sock.destroy(); r(true); });
      sock.on('error', () => r(false));
    });
    if (up) break;
    if (Date.now() > deadline) { await stop(); assert.fail('git daemon did not listen within 10 s'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, root, remote: `git://127.0.0.1:${port}/docs.git`, stop };
}

// ---------------------------------------------------------------------------
// Set-up and tear-down

before(async () => {
  await setUp({ token: ADMIN_TOKEN, env: { ORBIT_ENABLE_DEMO_WORKFLOWS: '1' }, prefix: 'orbit-browser-workflows-' });
}, SET_UP_OPTIONS);

after(async () => {
  await tearDown();
  for (const d of daemons) d.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
}, TEAR_DOWN_OPTIONS);

// ---------------------------------------------------------------------------
// Scenarios

test('a. a run\'s page follows its progress live to the end; the header shows "1 running" meanwhile', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Workflows A');
  const { context, page, errors } = await signedIn();
  try {
    const id = await startDemo(ws, { steps: 4, sleep_ms: 600 });
    const loads = [];
    page.on('load', () => loads.push(page.url()));
    await page.goto(runUrl(ws, id));
    assert.equal(await h1(page), `Demo steps ${id}`);
    assert.match(await runStatus(page).innerText(), /^(Pending|Running)$/);
    const firstEvents = (await eventMessages(page)).length;
    assert.equal(await page.locator('#run-events').getAttribute('aria-live'), 'polite');
    await assertAccessible(page, 'run page');

    // The header's indicator, on this page and on the workspace's others.
    assert.ok(await indicator(page).isVisible(), 'the indicator shows while the run runs');
    const said = await indicator(page).evaluate((a) => a.textContent.replace(/\s+/g, ' ').trim());
    assert.equal(said, 'Workflows: 1 running', 'visible "1 running", named for screen readers');
    assert.equal(await indicator(page).getAttribute('href'), `/ui/w/${ws.slug}/workflows?status=running`);

    // Progress advances in place (no reload): every text the progress shows is recorded.
    await page.evaluate(() => {
      window.stillTheSamePage = true;
      window.progressSeen = [document.getElementById('run-steps').textContent];
      new MutationObserver(() => window.progressSeen.push(document.getElementById('run-steps').textContent))
        .observe(document.getElementById('run-steps'), { childList: true, characterData: true, subtree: true });
    });
    await page.waitForFunction(() => /^[123] of 4 steps$/.test(document.getElementById('run-steps').textContent), null, { timeout: RUN_TIMEOUT, polling: 50 });
    await screenshot(page, 'workflow-run-progress.png');
    await waitForStatus(page, 'Succeeded');
    assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'the page was not reloaded');
    assert.equal(loads.length, 1, `one page load only: ${loads.join(', ')}`);
    const seen = await page.evaluate(() => window.progressSeen);
    assert.equal(seen.at(-1), '4 of 4 steps');
    assert.ok(seen.some((t) => /^[123] of 4 steps$/.test(t)), `the progress went through the steps: ${JSON.stringify(seen)}`);
    assert.ok(new Set(seen).size >= 3, `the progress advanced in several updates: ${JSON.stringify(seen)}`);
    const bar = await page.locator('#run-progress').evaluate((p) => ({ value: p.value, max: p.max }));
    assert.deepEqual(bar, { value: 4, max: 4 });

    // The event log grew, in order, and the result is shown; the buttons fit the state.
    const events = await eventMessages(page);
    assert.ok(events.length > firstEvents, `the event log grew: ${firstEvents} → ${events.length}`);
    for (const step of [1, 2, 3, 4]) {
      assert.equal(events.filter((e) => e === `step ${step} (orbit.demo.step) done`).length, 1, `step ${step} done once: ${events}`);
    }
    assert.ok(events.indexOf('step 1 (orbit.demo.step) done') < events.indexOf('step 4 (orbit.demo.step) done'));
    assert.equal(events.at(-1), 'succeeded');
    assert.ok(await page.locator('#run-result-section').isVisible());
    assert.deepEqual(JSON.parse(await page.locator('#run-result').innerText()), {
      steps: 4, outputs: ['step 1 done', 'step 2 done', 'step 3 done', 'step 4 done'],
    });
    assert.equal(await page.locator('#run-error-section').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Retry' }).isVisible(), false);

    // The indicator goes away once nothing runs, without a reload; other pages agree.
    await indicator(page).waitFor({ state: 'hidden', timeout: 5_000 });
    await page.goto(`/ui/w/${ws.slug}`);
    assert.equal(await indicator(page).isVisible(), false);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('b. a long run is cancelled from its page; without JavaScript the page refreshes itself and Cancel works', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Workflows B');
  const id = await startDemo(ws, { steps: 20, sleep_ms: 500 });
  await waitForRun(ws, id, ['WORKFLOW_STATUS_RUNNING']);
  const { context, page, errors } = await signedIn();
  try {
    await page.goto(runUrl(ws, id));
    assert.equal(await runStatus(page).innerText(), 'Running');
    assert.equal(await page.getByRole('button', { name: 'Retry' }).isVisible(), false);
    const cancelled = await submit(page, page.getByRole('button', { name: 'Cancel' }));
    assert.equal(cancelled.status(), 200);
    assert.equal(new URL(page.url()).pathname, runUrl(ws, id));
    assert.equal(await notice(page).innerText(), 'Cancellation requested');
    const t0 = Date.now();
    await waitForStatus(page, 'Cancelled', 5_000);
    assert.ok(Date.now() - t0 < 5_000);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).isVisible(), false, 'no Cancel once cancelled');
    assert.ok(await page.getByRole('button', { name: 'Retry' }).isVisible(), 'a cancelled run may be retried');
    const run = await getRun(ws, id);
    assert.equal(run.status, 'WORKFLOW_STATUS_CANCELLED');
    assert.ok((run.stepsDone ?? 0) < 20, 'it stopped before the end');
    assert.ok((await eventMessages(page)).includes('cancellation requested'));
    await indicator(page).waitFor({ state: 'hidden', timeout: 5_000 });

    // Cancelling again is refused with the service's reason, as an alert on the run's page.
    const again = await page.request.post(`${runUrl(ws, id)}/cancel`, { headers: { origin: h.server.url } });
    assert.equal(again.status(), 400);
    assert.match(await again.text(), /role="alert">Cannot cancel: /);
    // A GET on the form's address goes back to the run.
    await page.goto(`${runUrl(ws, id)}/cancel`);
    assert.equal(new URL(page.url()).pathname, runUrl(ws, id));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }

  // Without JavaScript: the same page reloads itself every few seconds while the run runs,
  // the header's indicator links to the running runs, and the Cancel form works.
  const other = await startDemo(ws, { steps: 40, sleep_ms: 500 });
  await waitForRun(ws, other, ['WORKFLOW_STATUS_RUNNING']);
  const plain = await signedIn(ADMIN_TOKEN, { javaScriptEnabled: false });
  try {
    const loads = [];
    plain.page.on('load', () => loads.push(Date.now()));
    await plain.page.goto(runUrl(ws, other));
    assert.equal(await runStatus(plain.page).innerText(), 'Running');
    await plain.page.waitForEvent('load', { timeout: 6_000 });
    assert.ok(loads.length >= 2, 'the page reloaded itself');
    await plain.page.locator('header #activity').click();
    await plain.page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/workflows?status=running`);
    assert.deepEqual(await plain.page.locator('#runs tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.runId)), [other]);
    await plain.page.goto(runUrl(ws, other));
    await submit(plain.page, plain.page.getByRole('button', { name: 'Cancel' }));
    assert.equal(await notice(plain.page).innerText(), 'Cancellation requested');
    await waitForRun(ws, other, ['WORKFLOW_STATUS_CANCELLED'], 5_000);
    await plain.page.goto(runUrl(ws, other));
    assert.equal(await runStatus(plain.page).innerText(), 'Cancelled');
    assert.equal(await plain.page.locator('head meta[http-equiv="refresh"]').count(), 0, 'a finished run does not refresh');
  } finally {
    await plain.context.close();
  }
});

test('c. a failed run shows its error; Retry after the cause is fixed succeeds without repeating step 1', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Workflows C');
  const effects = mkdtempSync(join(scratch, 'effects-'));
  const unblock = join(scratch, `${uniqueSlug('unblock')}.flag`);
  const id = await startDemo(ws, { steps: 3, sleep_ms: 200, fail_at: 2, unless_file: unblock, effects_dir: effects });
  const { context, page, errors } = await signedIn();
  try {
    await page.goto(runUrl(ws, id));
    await waitForStatus(page, 'Failed');
    assert.ok(await page.locator('#run-error-section').isVisible(), 'the error is shown');
    assert.match(await page.locator('#run-error').innerText(), /step 2 is set to fail/);
    assert.equal(await page.locator('#run-result-section').isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).isVisible(), false);
    assert.ok(await page.getByRole('button', { name: 'Retry' }).isVisible());
    assert.equal(await page.locator('#run-steps').innerText(), '1 of 3 steps');
    await screenshot(page, 'workflow-run-failed.png');

    // Fix the cause, then retry from the page.
    writeFileSync(unblock, 'ok\n');
    const retried = await submit(page, page.getByRole('button', { name: 'Retry' }));
    assert.equal(retried.status(), 200);
    assert.equal(await notice(page).innerText(), 'Retrying: attempt 2');
    await waitForStatus(page, 'Succeeded');
    assert.equal(await page.locator('#run-attempt').innerText(), '2');
    assert.equal(await page.locator('#run-error-section').isVisible(), false, 'the old error is gone');
    assert.equal(await page.locator('#run-steps').innerText(), '3 of 3 steps');

    // Step 1 ran once: once in the event log, once in the side effects the steps record.
    const events = await eventMessages(page);
    assert.equal(events.filter((e) => e === 'step 1 (orbit.demo.step) done').length, 1, `step 1 done once: ${events}`);
    assert.ok(events.includes('retrying (attempt 2)'), `${events}`);
    const lines = readFileSync(join(effects, `${id}.log`), 'utf8').trim().split('\n').map((l) => l.split(' ').slice(1, 2)[0]);
    assert.deepEqual(lines, ['1', '2', '3'], 'each step recorded its effect once');
    const run = await getRun(ws, id);
    assert.equal(JSON.parse(run.result).outputs.length, 3);

    // Retrying a run that succeeded is refused, with the reason as an alert.
    const refused = await page.request.post(`${runUrl(ws, id)}/retry`, { headers: { origin: h.server.url } });
    assert.equal(refused.status(), 400);
    assert.match(await refused.text(), /role="alert">Cannot retry: only failed or cancelled runs can be retried/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('d. the runs list: newest first, filters by status and kind, pages', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Workflows D');
  const failing = await startDemo(ws, { steps: 2, fail_at: 1 }, uniqueSlug('failing'));
  await waitForRun(ws, failing, ['WORKFLOW_STATUS_FAILED']);
  const quick = [];
  for (let i = 0; i < 25; i += 1) quick.push(await startDemo(ws, { steps: 2 }, `quick-${String(i).padStart(2, '0')}-${uniqueSlug('r')}`));
  for (const id of quick) await waitForRun(ws, id, ['WORKFLOW_STATUS_SUCCEEDED']);
  const cancelled = await startDemo(ws, { steps: 20, sleep_ms: 500 }, uniqueSlug('cancelled'));
  await waitForRun(ws, cancelled, ['WORKFLOW_STATUS_RUNNING']);
  await apiOk('WorkflowService/CancelWorkflow', { workspaceId: ws.id, id: cancelled });
  await waitForRun(ws, cancelled, ['WORKFLOW_STATUS_CANCELLED']);
  const long = await startDemo(ws, { steps: 30, sleep_ms: 400 }, uniqueSlug('long'));
  await waitForRun(ws, long, ['WORKFLOW_STATUS_RUNNING']);

  const { context, page, errors } = await signedIn();
  try {
    // The Workflows tab.
    await page.goto(`/ui/w/${ws.slug}`);
    await page.getByRole('navigation', { name: 'Workspace' }).getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/workflows`);
    assert.equal(await h1(page), 'Workflows D');
    await assertAccessible(page, 'runs list');
    const ids = () => page.locator('#runs tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.runId));
    const first = await ids();
    assert.equal(first.length, 25, 'a page holds 25 runs');
    assert.deepEqual(first.slice(0, 2), [long, cancelled], 'newest first');
    const row = page.locator(`#runs tr[data-run-id="${long}"]`);
    assert.match(await row.innerText(), /^Demo steps\s+long-\S+\s+Running\s+\d+ \/ 30\s+admin\s+\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d/);
    assert.equal(await row.locator('progress').getAttribute('max'), '30');
    assert.match(await page.locator(`#runs tr[data-run-id="${cancelled}"]`).innerText(), /Cancelled/);
    await page.waitForFunction((id) => /^[1-9]\d* \/ 30$/.test(document.querySelector(`tr[data-run-id="${id}"] [data-field="steps"]`).textContent), long, { timeout: RUN_TIMEOUT });
    await screenshot(page, 'workflows-list.png');

    // The next page through the cursor: the rest, nothing twice.
    await submit(page, page.getByRole('link', { name: 'Older runs' }));
    const second = await ids();
    assert.equal(second.length, 3);
    assert.equal(new Set([...first, ...second]).size, 28);
    assert.equal(second.at(-1), failing, 'the oldest run comes last');
    await submit(page, page.getByRole('link', { name: 'Newest runs' }));
    assert.deepEqual(await ids(), first);

    // Filter by status with the form: only failed runs.
    await page.getByLabel('Status').selectOption({ label: 'Failed' });
    await submit(page, page.getByRole('button', { name: 'Filter' }));
    assert.equal(new URL(page.url()).searchParams.get('status'), 'failed');
    assert.deepEqual(await ids(), [failing]);
    assert.deepEqual(await page.locator('#runs [data-field="status"]').allInnerTexts(), ['Failed']);
    assert.equal(await page.getByLabel('Status').inputValue(), 'failed', 'the filter stays chosen');
    await page.getByRole('link', { name: `Demo steps ${failing}` }).click();
    await page.waitForURL(`${h.server.url}${runUrl(ws, failing)}`);
    assert.equal(await runStatus(page).innerText(), 'Failed');

    // By kind: no knowledge syncs here.
    await page.goto(`/ui/w/${ws.slug}/workflows?kind=orbit.knowledge.sync`);
    assert.equal(await page.locator('#runs').count(), 0);
    assert.equal(await page.locator('#no-runs').innerText(), 'No runs match these filters.');
    await page.getByRole('link', { name: 'Clear filters' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/workflows`);

    // A status the list does not know: an alert, not a crash.
    const bad = await page.goto(`/ui/w/${ws.slug}/workflows?status=sleeping`);
    assert.equal(bad.status(), 400);
    assert.match(await alert(page).innerText(), /^Status must be pending, running, succeeded, failed or cancelled/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await api('WorkflowService/CancelWorkflow', { workspaceId: ws.id, id: long });
  }
});

test('e. sync a space to git from its page: the run succeeds and the repository has the pages', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Workflows E');
  const sp = (await apiOk('KnowledgeService/CreateSpace', { workspaceId: ws.id, slug: uniqueSlug('handbook'), name: 'Handbook' })).space;
  for (const [title, body] of [['Getting Started', 'Welcome aboard.'], ['FAQ', 'Questions and answers.']]) {
    await apiOk('KnowledgeService/CreatePage', { workspaceId: ws.id, spaceId: sp.id, title, body });
  }
  const daemon = await gitDaemon();
  const { context, page, errors } = await signedIn();
  try {
    const spaceUrl = `/ui/w/${ws.slug}/spaces/${sp.slug}`;
    await page.goto(spaceUrl);
    const form = page.locator('form.sync-form');
    assert.ok(await page.getByRole('heading', { name: 'Sync with git' }).isVisible());
    assert.ok(await page.getByLabel('Export').isChecked(), 'export is the default');
    assert.equal(await page.getByLabel('Branch').inputValue(), 'main');
    assert.equal(await page.getByLabel('Folder').inputValue(), 'docs');
    await assertAccessible(page, 'space page with the sync form');

    // A remote with a password is refused before anything runs, and the password is not shown again.
    await page.getByLabel('Import').check();
    await page.getByLabel('Remote URL').fill('https://u:secret@git.example.com/r.git');
    await page.getByLabel('Branch').fill('release');
    await page.getByLabel('Folder').fill('handbook');
    const refused = await submit(page, form.getByRole('button', { name: 'Start sync' }));
    assert.equal(refused.status(), 400);
    assert.equal(new URL(page.url()).pathname, `${spaceUrl}/sync`);
    assert.match(await alert(page).innerText(), /^Remote must not contain a password/);
    assert.ok(!(await page.content()).includes('secret'), 'the password is not echoed');
    assert.equal(await page.getByLabel('Remote URL').inputValue(), 'https://u@git.example.com/r.git');
    assert.ok(await page.getByLabel('Import').isChecked(), 'the direction is kept');
    assert.equal(await page.getByLabel('Branch').inputValue(), 'release');
    assert.equal(await page.getByLabel('Folder').inputValue(), 'handbook');
    assert.equal(await h1(page), 'Handbook');
    await screenshot(page, 'knowledge-sync-refused.png');

    // An unsupported scheme: refused too, with the reason.
    await page.getByLabel('Remote URL').fill('ftp://git.example.com/r.git');
    await submit(page, form.getByRole('button', { name: 'Start sync' }));
    assert.match(await alert(page).innerText(), /^Remote scheme 'ftp' is not supported/);

    // A GET on the form's address goes back to the space.
    await page.goto(`${spaceUrl}/sync`);
    assert.equal(new URL(page.url()).pathname, spaceUrl);

    // Export to the git daemon: the run's page opens and follows it to the end.
    await page.getByLabel('Export').check();
    await page.getByLabel('Remote URL').fill(daemon.remote);
    await form.scrollIntoViewIfNeeded();
    await screenshot(page, 'knowledge-sync-form.png');
    await submit(page, form.getByRole('button', { name: 'Start sync' }));
    assert.match(new URL(page.url()).pathname, new RegExp(`^/ui/w/${ws.slug}/workflows/[^/]+$`));
    assert.equal(await notice(page).innerText(), 'Sync started');
    assert.equal(await h1(page).then((t) => t.startsWith('Knowledge sync')), true);
    await waitForStatus(page, 'Succeeded', 30_000);
    assert.ok(await page.locator('#run-result-section').isVisible());
    assert.match(await page.locator('#run-input').innerText(), new RegExp(`"remote": "${daemon.remote.replace(/[.]/g, '\\.')}"`));
    assert.ok(await page.getByRole('link', { name: 'Back to the space Handbook' }).isVisible());

    // The repository has one Markdown file per page.
    const clone = mkdtempSync(join(scratch, 'clone-'));
    git(clone, ['clone', '--quiet', daemon.remote, 'repo']);
    const files = readdirSync(join(clone, 'repo', 'docs')).filter((f) => f.endsWith('.md')).sort();
    assert.deepEqual(files, ['faq.md', 'getting-started.md']);
    assert.match(readFileSync(join(clone, 'repo', 'docs', 'getting-started.md'), 'utf8'), /Welcome aboard\./);

    // The space page lists the sync.
    await page.getByRole('link', { name: 'Back to the space Handbook' }).click();
    await page.waitForURL(`${h.server.url}${spaceUrl}`);
    const recent = page.getByRole('list', { name: 'Recent syncs' });
    assert.match(await recent.innerText(), new RegExp(`Succeeded\\s+Export to ${daemon.remote.replace(/[.]/g, '\\.')}`));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await daemon.stop();
  }
});
