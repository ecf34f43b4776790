// End-to-end tests of the API catalog UI in headless Chromium: registering an API, its page
// (versions, reference, consumers), a breaking version refused under a minor bump, the
// compare view with breaking changes in red, the embedded Swagger UI, and search.
//
// Same set-up as ui.test.mjs: starts its own `orbit serve` (ORBIT_BIN) on 127.0.0.1:0 with a
// fresh data directory and a bootstrap token, drives /usr/bin/chromium (CHROMIUM_BIN) through
// playwright-core, and stops the server at the end.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const ORBIT_BIN = process.env.ORBIT_BIN || join(REPO, 'target', 'debug', 'orbit');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SCREENSHOTS = join(HERE, 'screenshots');
const ADMIN_TOKEN = 'orbit-browser-test-bootstrap-token-apis-0123456789';
const PETSTORE = readFileSync(join(REPO, 'apispec', 'tests', 'fixtures', 'petstore.yaml'), 'utf8');

const TEST_TIMEOUT = 90_000;
const ACTION_TIMEOUT = 15_000;
const SERVER_START_TIMEOUT = 20_000;
const INDEX_TIMEOUT = 5_000;

let server;
let browser;

function startServer() {
  if (!existsSync(ORBIT_BIN)) {
    throw new Error(`orbit binary not found at ${ORBIT_BIN}: build it (cargo build -p orbit) or set ORBIT_BIN`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'orbit-browser-apis-'));
  const proc = spawn(ORBIT_BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { ...process.env, ORBIT_BOOTSTRAP_TOKEN: ADMIN_TOKEN, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const output = () => `--- orbit stdout ---\n${stdout}\n--- orbit stderr ---\n${stderr.slice(-4000)}`;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`orbit serve printed no URL within ${SERVER_START_TIMEOUT} ms\n${output()}`));
    }, SERVER_START_TIMEOUT);
    proc.on('error', (err) => { clearTimeout(timer); reject(err); });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`orbit serve exited early (code ${code}, signal ${signal})\n${output()}`));
    });
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const m = stdout.match(/Orbit is listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ proc, url: m[1].replace(/\/$/, ''), dataDir, output });
      }
    });
  });
}

async function stopServer(s) {
  if (!s) return;
  const { proc } = s;
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(s.dataDir, { recursive: true, force: true });
}

process.on('exit', () => {
  if (server && server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGKILL');
});

async function api(method, body, token = ADMIN_TOKEN) {
  const res = await fetch(`${server.url}/orbit.v1.${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body ?? {}),
    signal: AbortSignal.timeout(ACTION_TIMEOUT),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

let counter = 0;
function uniqueSlug(prefix) {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

async function signedIn() {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1200, height: 900 } });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  // The page must never reach beyond this server (no CDN): record every other request.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(server.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) foreign.push(r.url()); });
  await page.goto('/ui/login');
  await page.getByLabel('API token').fill(token());
  await Promise.all([page.waitForURL(`${server.url}/ui`), page.getByRole('button', { name: 'Sign in' }).click()]);
  return { context, page, errors, foreign };
}
function token() { return ADMIN_TOKEN; }

async function submit(page, button) {
  const [response] = await Promise.all([page.waitForNavigation(), button.click()]);
  return response;
}

async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

before(async () => {
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM_BIN,
    timeout: SERVER_START_TIMEOUT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, { timeout: 60_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
}, { timeout: 15_000 });

test('an API is registered, versioned, compared, documented and found', { timeout: TEST_TIMEOUT }, async () => {
  const slug = uniqueSlug('apis');
  const { workspace: ws } = await api('WorkspaceService/CreateWorkspace', { slug, name: 'API team' });
  const { context, page, errors, foreign } = await signedIn();

  // Register through the form.
  await page.goto(`/ui/w/${slug}/apis`);
  await page.getByLabel('Name', { exact: true }).fill('Pet Store');
  await page.getByLabel('Owner').last().fill('team-shop');
  await page.getByLabel('Tags').last().fill('animals, public');
  await submit(page, page.getByRole('button', { name: 'Register API' }));
  assert.equal(new URL(page.url()).pathname, `/ui/w/${slug}/apis/pet-store`);
  assert.equal((await page.locator('h1').innerText()).trim(), 'Pet Store');
  await page.getByText('No version is published yet.').waitFor();

  // Publish 1.0.0 through the form.
  await page.getByLabel('Version', { exact: true }).fill('1.0.0');
  await page.getByLabel('Release notes').fill('First release');
  await page.getByLabel('Content', { exact: true }).fill(PETSTORE);
  await submit(page, page.getByRole('button', { name: 'Publish' }));
  await page.locator('#notice').getByText('Version 1.0.0 published.').waitFor();
  await page.locator('#reference').getByText('listPets').first().waitFor();

  // A consumer through the form.
  await page.getByLabel('Repository').fill('github.com/acme/web');
  await submit(page, page.getByRole('button', { name: 'Add consumer' }));
  await page.locator('#consumers').getByText('github.com/acme/web').waitFor();

  // A breaking change under a minor bump is refused, listing the change; under a major bump it is accepted.
  const breaking = PETSTORE.replace('  /pets/{petId}:\n    get:', '  /pets/{petId}:\n    delete:');
  await page.getByLabel('Version', { exact: true }).fill('1.1.0');
  await page.getByLabel('Content', { exact: true }).fill(breaking);
  const refused = await submit(page, page.getByRole('button', { name: 'Publish' }));
  assert.equal(refused.status(), 400); // failed_precondition
  const error = await page.locator('#form-error').innerText();
  assert.match(error, /Version 1\.1\.0 has \d+ breaking changes? against 1\.0\.0; publish it as 2\.0\.0/);
  assert.match(error, /GET \/pets\/\{petId\}: operation removed/);
  await page.getByLabel('Version', { exact: true }).fill('2.0.0');
  await submit(page, page.getByRole('button', { name: 'Publish' }));
  await page.locator('#notice').getByText('Version 2.0.0 published.').waitFor();
  const versions = await page.locator('#versions tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.version));
  assert.deepEqual(versions, ['2.0.0', '1.0.0']);

  // The compare view: breaking changes in red, and the consumer they hit.
  await submit(page, page.locator('#compare-link'));
  const row = page.locator('#changes tr.breaking').filter({ hasText: 'operation removed' });
  await row.waitFor();
  const color = await row.locator('td').first().evaluate((td) => getComputedStyle(td).color);
  assert.equal(color, 'rgb(140, 29, 22)');
  await page.locator('#affected').getByText('github.com/acme/web').waitFor();
  await screenshot(page, 'apis-compare.png');

  // The embedded Swagger UI renders the document, without any request beyond this server.
  await page.goto(`/ui/w/${slug}/apis/pet-store/v/2.0.0/docs`);
  await page.locator('#swagger-ui .opblock-summary-path').filter({ hasText: '/pets' }).first().waitFor();
  await page.locator('#swagger-ui').getByText('Swagger Petstore').first().waitFor();
  await screenshot(page, 'apis-docs.png');

  // Search finds the API by an operation id.
  const deadline = Date.now() + INDEX_TIMEOUT;
  for (;;) {
    await page.goto(`/ui/w/${slug}/apis?q=createPets`);
    if (await page.locator('#api-hits a').count() > 0) break;
    assert.ok(Date.now() < deadline, 'the API was not searchable in time');
    await new Promise((r) => setTimeout(r, 200));
  }
  await submit(page, page.locator('#api-hits a').first());
  assert.equal(new URL(page.url()).pathname, `/ui/w/${slug}/apis/pet-store`);

  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  assert.ok(ws.id);
  await context.close();
});
