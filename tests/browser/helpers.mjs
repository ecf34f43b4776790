// What every browser test file shares: an `orbit serve` of its own (ORBIT_BIN, default
// <repo>/target/debug/orbit) on 127.0.0.1:0 with a fresh data directory and a bootstrap token,
// headless Chromium (Debian's /usr/bin/chromium, CHROMIUM_BIN overrides) through
// playwright-core, Connect JSON calls, signing in, and page checks.
//
// `node --test` runs each test file in a process of its own, so the server and browser below
// are per file. A test file calls `setUp` in `before` and `tearDown` in `after`:
//
//   const h = await setUp({ token: 'orbit-browser-test-…', env: { … }, prefix: 'orbit-browser-x-' });
//   … h.server.url, h.browser …

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');
export const ORBIT_BIN = process.env.ORBIT_BIN || join(REPO, 'target', 'debug', 'orbit');
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SCREENSHOTS = join(HERE, 'screenshots');
export const ACTION_TIMEOUT = 10_000; // per browser action / expectation
export const SERVER_START_TIMEOUT = 20_000;
/** Options for `before`: starting the server and the browser. */
export const SET_UP_OPTIONS = { timeout: 2 * SERVER_START_TIMEOUT };
/** Options for `after`. */
export const TEAR_DOWN_OPTIONS = { timeout: 15_000 };

/** The running server ({ proc, url, dataDir, output() }), browser and admin token of this file. */
export const h = { server: null, browser: null, token: null };

function startServer(token, env, prefix) {
  if (!existsSync(ORBIT_BIN)) {
    throw new Error(`orbit binary not found at ${ORBIT_BIN}: build it (cargo build -p orbit) or set ORBIT_BIN`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const proc = spawn(ORBIT_BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { ...process.env, ORBIT_BOOTSTRAP_TOKEN: token, NO_COLOR: '1', ...env },
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

// Should the runner die without running `after`, do not leave a server behind.
process.on('exit', () => {
  const proc = h.server?.proc;
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
});

/** Starts this file's server (with `token` as the bootstrap admin token and extra `env`) and browser. */
export async function setUp({ token, env = {}, prefix = 'orbit-browser-' }) {
  h.token = token;
  h.server = await startServer(token, env, prefix);
  h.browser = await chromium.launch({
    executablePath: CHROMIUM_BIN,
    timeout: SERVER_START_TIMEOUT,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return h;
}

export async function tearDown() {
  await h.browser?.close().catch(() => {});
  await stopServer(h.server);
}

// ---------------------------------------------------------------------------
// The API

/** Calls a Connect JSON method, e.g. api('UserService/CreateUser', {login: 'bob'}). */
export async function api(method, body, token = h.token) {
  const res = await fetch(`${h.server.url}/orbit.v1.${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
    signal: AbortSignal.timeout(ACTION_TIMEOUT),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

/** As `api`, asserting a 200 answer; returns its JSON. */
export async function apiOk(method, body, token) {
  const r = await api(method, body, token);
  assert.equal(r.status, 200, `${method} answered ${r.status}: ${r.text}`);
  return r.json;
}

let counter = 0;
/** A slug unique within this run. */
export function uniqueSlug(prefix) {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

// ---------------------------------------------------------------------------
// The browser

export async function newContext(options = {}) {
  const context = await h.browser.newContext({ baseURL: h.server.url, viewport: { width: 1200, height: 800 }, ...options });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
  return context;
}

/**
 * A fresh browser context, signed in with `token` through the login form. `errors` collects
 * the page's script errors (expected 4xx answers, which Chromium logs as failed loads, are not).
 */
export async function signedIn(token = h.token, options = {}) {
  const context = await newContext(options);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  await page.goto('/ui/login');
  await page.getByLabel('API token').fill(token);
  await Promise.all([page.waitForURL(`${h.server.url}/ui`), page.getByRole('button', { name: 'Sign in' }).click()]);
  return { context, page, errors };
}

export async function h1(page) {
  return (await page.locator('h1').innerText()).trim();
}

/** Submits a form by clicking `button` and returns the response of the resulting navigation. */
export async function submit(page, button) {
  const [response] = await Promise.all([page.waitForNavigation(), button.click()]);
  return response;
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

/** Form controls without a label (or aria-label), and the number of <h1>s, on the current page. */
export async function accessibilityReport(page) {
  return page.evaluate(() => {
    const unlabelled = [];
    for (const el of document.querySelectorAll('input, select, textarea, progress')) {
      if (el.type === 'hidden') continue;
      const labels = [...(el.labels ?? [])].filter((l) => l.textContent.trim() !== '');
      if (labels.length === 0 && !el.getAttribute('aria-label')) unlabelled.push(el.outerHTML.slice(0, 120));
    }
    return { unlabelled, h1s: document.querySelectorAll('h1').length };
  });
}

export async function assertAccessible(page, where) {
  const { unlabelled, h1s } = await accessibilityReport(page);
  assert.deepEqual(unlabelled, [], `${where}: every control has a label`);
  assert.equal(h1s, 1, `${where}: exactly one h1`);
}
