// End-to-end tests of the repository pages in headless Chromium: registering a template
// from a git repository (a bare repository made here with the git CLI, read over file://),
// the "create repository" form generated from its parameters with server-side errors next to
// the fields, the dry-run preview of the file tree, creating the repository (the workflow
// run page with its live progress links to it), the repository's page, `git clone` from
// Orbit's own git server with an API token (exactly one commit), search, and a workspace
// policy's violations shown as a list.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  setUp, tearDown, SET_UP_OPTIONS, TEAR_DOWN_OPTIONS, h, apiOk, uniqueSlug, signedIn, h1, submit,
  assertAccessible, screenshot, REPO,
} from './helpers.mjs';

const ADMIN_TOKEN = 'orbit-browser-test-bootstrap-token-repositories-0123456789';
const TEST_TIMEOUT = 120_000;
const RUN_TIMEOUT = 60_000;

let scratch;
let templateUrl;

function git(cwd, ...args) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: scratch },
  });
}

/** A bare repository whose `main` holds examples/templates/rust-service in templates/rust-service. */
function templateRepository() {
  const bare = join(scratch, 'templates.git');
  const work = join(scratch, 'work');
  mkdirSync(join(work, 'templates'), { recursive: true });
  git(scratch, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  git(work, 'init', '--quiet', '--initial-branch=main');
  cpSync(join(REPO, 'examples', 'templates', 'rust-service'), join(work, 'templates', 'rust-service'), { recursive: true });
  git(work, 'add', '.');
  git(work, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '--quiet', '-m', 'The rust-service template');
  git(work, 'push', '--quiet', `file://${bare}`, 'main');
  return `file://${bare}`;
}

async function workspace(name) {
  return (await apiOk('WorkspaceService/CreateWorkspace', { slug: uniqueSlug('repos'), name })).workspace;
}

/** Registers the template through the gallery's form; leaves the page on the create form. */
async function registerTemplate(page, ws) {
  await page.goto(`/ui/w/${ws.slug}/templates`);
  await assertAccessible(page, 'template gallery');
  await page.getByLabel('Git URL').fill(templateUrl);
  await page.getByLabel('Branch').fill('main');
  await page.getByLabel('Folder').fill('templates/rust-service');
  await submit(page, page.getByRole('button', { name: 'Register template' }));
  assert.equal(await h1(page), 'New repository from Rust HTTP service');
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'orbit-browser-repos-git-'));
  templateUrl = templateRepository();
  await setUp({ token: ADMIN_TOKEN, prefix: 'orbit-browser-repos-' });
}, SET_UP_OPTIONS);

after(async () => {
  await tearDown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, TEAR_DOWN_OPTIONS);

test('a template is registered, previewed, and creates a repository one can open, clone and find', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Payments');
  const { context, page, errors } = await signedIn();
  try {
    await registerTemplate(page, ws);
    await assertAccessible(page, 'create form');
    // The form follows the parameters: types, bounds, defaults, help.
    assert.equal(await page.locator('#param-port').getAttribute('type'), 'number');
    assert.equal(await page.locator('#param-port').getAttribute('min'), '1024');
    assert.equal(await page.locator('#param-port').inputValue(), '8080');
    assert.equal(await page.locator('#param-name').getAttribute('pattern'), '[a-z][a-z0-9\\-]*');
    assert.equal(await page.locator('#param-name').getAttribute('maxlength'), '40');
    assert.equal(await page.locator('#param-kubernetes').isChecked(), true);
    assert.equal(await page.locator('#param-environment').inputValue(), 'development');
    assert.equal(await page.locator('#param-topics').inputValue(), 'rust\nservice');
    await assert.doesNotReject(page.getByText('The port the service listens on.').waitFor());

    // A bad value is refused by the server, next to its field (Preview skips the browser's checks).
    await page.locator('#repo-name').fill('billing-api');
    await page.locator('#repo-owner').fill('payments');
    await page.locator('#param-name').fill('Billing API');
    await page.locator('#param-owner').fill('payments');
    const bad = await submit(page, page.getByRole('button', { name: 'Preview' }));
    assert.equal(bad.status(), 400);
    assert.match(await page.locator('#param-name-error').innerText(), /match/);
    assert.equal(await page.locator('#param-name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#repo-name').inputValue(), 'billing-api', 'the values typed are kept');

    // The dry run shows the tree; a file's contents open in place.
    await page.locator('#param-name').fill('billing-api');
    await page.locator('#param-port').fill('9090');
    const ok = await submit(page, page.getByRole('button', { name: 'Preview' }));
    assert.equal(ok.status(), 200);
    const tree = page.locator('#preview-tree');
    for (const path of ['Cargo.toml', 'README.md', 'src/main.rs', 'k8s/deployment.yaml', 'assets/logo.png']) {
      await assert.doesNotReject(tree.locator(`details[data-path="${path}"]`).waitFor(), `${path} is in the preview`);
    }
    const cargo = tree.locator('details[data-path="Cargo.toml"]');
    await cargo.locator('summary').click();
    assert.match(await cargo.locator('pre').innerText(), /name = "billing-api"/);
    await screenshot(page, 'repositories-preview.png');
    assert.equal(await page.locator('#param-port').inputValue(), '9090');

    // Create: the workflow run page, whose result links to the new repository.
    await Promise.all([
      page.waitForURL(new RegExp(`/ui/w/${ws.slug}/workflows/`)),
      page.getByRole('button', { name: 'Create repository' }).click(),
    ]);
    const link = page.locator('#run-repository-link');
    await link.waitFor({ state: 'visible', timeout: RUN_TIMEOUT });
    await submit(page, link);
    assert.equal(await h1(page), 'billing-api');
    await assertAccessible(page, 'repository page');
    assert.equal(await page.locator('#commits li').count(), 1, 'exactly one commit');
    assert.match(await page.locator('#branches').innerText(), /main/);
    assert.match(await page.locator('#readme').innerText(), /Owner: payments/);
    const cloneUrl = await page.locator('#clone-url').inputValue();
    assert.equal(cloneUrl, `${h.server.url}/git/${ws.slug}/billing-api.git`);

    // git clone from Orbit's git server with an API token.
    const withToken = cloneUrl.replace('http://', `http://x-access-token:${ADMIN_TOKEN}@`);
    const dest = join(scratch, 'clone');
    git(scratch, '-c', 'credential.helper=', 'clone', '--quiet', withToken, dest);
    assert.equal(git(dest, 'rev-list', '--count', 'HEAD').trim(), '1');
    assert.match(git(dest, 'show', 'HEAD:src/main.rs'), /9090/);

    // The list (filtered) and search find it.
    await page.goto(`/ui/w/${ws.slug}/repositories?owner=payments&lifecycle=experimental`);
    await assertAccessible(page, 'repository list');
    await assert.doesNotReject(page.locator('#repos tr[data-name="billing-api"]').waitFor());
    await page.goto(`/ui/w/${ws.slug}/repositories?owner=nobody`);
    await assert.doesNotReject(page.locator('#repos-empty').waitFor());
    let found = false;
    for (let i = 0; i < 20 && !found; i += 1) {
      await page.goto(`/ui/w/${ws.slug}/repositories?q=billing`);
      found = (await page.locator('#repo-hits a', { hasText: 'billing-api' }).count()) === 1;
      if (!found) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(found, 'search finds the new repository');
    await submit(page, page.locator('#repo-hits a', { hasText: 'billing-api' }));
    assert.equal(await h1(page), 'billing-api');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a workspace policy\'s violations are listed on the form', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Strict');
  await apiOk('TemplateService/SetRepositoryPolicy', {
    workspaceId: ws.id,
    policy: { namePattern: 'svc-[a-z]+', requireOwner: true, allowedVisibilities: ['internal', 'private'] },
  });
  const { context, page, errors } = await signedIn();
  try {
    // A folder without a template is refused with a message; what was typed stays.
    await page.goto(`/ui/w/${ws.slug}/templates`);
    await page.getByLabel('Git URL').fill(templateUrl);
    await page.getByLabel('Folder').fill('templates/missing');
    const refused = await submit(page, page.getByRole('button', { name: 'Register template' }));
    assert.equal(refused.status(), 400);
    assert.ok((await page.locator('#form-error').innerText()).length > 0);
    assert.equal(await page.getByLabel('Folder').inputValue(), 'templates/missing');
    assert.equal(await page.locator('#templates-empty').count(), 1);

    await registerTemplate(page, ws);
    await page.locator('#repo-name').fill('billing');
    await page.locator('#repo-visibility').selectOption('public');
    await page.locator('#param-name').fill('billing');
    await page.locator('#param-owner').fill('payments');
    const resp = await submit(page, page.getByRole('button', { name: 'Create repository' }));
    assert.equal(resp.status(), 400);
    const items = await page.locator('#policy-violations li').allInnerTexts();
    assert.equal(items.length, 3, `three rules broken: ${items.join(' | ')}`);
    assert.match(items.join('\n'), /svc-\[a-z\]\+/);
    assert.match(items.join('\n'), /owner is required/);
    assert.match(items.join('\n'), /public/);
    await screenshot(page, 'repositories-policy.png');
    // Nothing was created.
    await page.goto(`/ui/w/${ws.slug}/repositories`);
    await assert.doesNotReject(page.locator('#repos-empty').waitFor());
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the repository list filters and pages through the catalog', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Catalog');
  for (let i = 0; i < 52; i += 1) {
    const n = String(i).padStart(2, '0');
    await apiOk('RepositoryService/RegisterRepository', {
      workspaceId: ws.id,
      name: `svc-${n}`,
      owner: i % 2 === 0 ? 'even' : 'odd',
      language: i === 7 ? 'Go' : 'Rust',
      visibility: i === 9 ? 'public' : 'internal',
    });
  }
  const { context, page, errors } = await signedIn();
  try {
    await page.goto(`/ui/w/${ws.slug}/repositories`);
    await assertAccessible(page, 'repository list');
    assert.equal(await page.locator('nav.tabs a[aria-current="page"]').innerText(), 'Repositories');
    assert.equal(await page.locator('#repos tbody tr').count(), 50);
    await submit(page, page.getByRole('link', { name: 'More repositories' }));
    assert.deepEqual(await page.locator('#repos tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name)), ['svc-50', 'svc-51']);

    await page.goto(`/ui/w/${ws.slug}/repositories`);
    await page.getByLabel('Language').fill('Go');
    await submit(page, page.getByRole('button', { name: 'Find' }));
    assert.deepEqual(await page.locator('#repos tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name)), ['svc-07']);
    await page.getByLabel('Language').fill('');
    await page.getByLabel('Visibility').selectOption('public');
    await submit(page, page.getByRole('button', { name: 'Find' }));
    assert.deepEqual(await page.locator('#repos tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name)), ['svc-09']);
    await page.getByLabel('Visibility').selectOption('');
    await page.getByLabel('Owner').fill('odd');
    await submit(page, page.getByRole('button', { name: 'Find' }));
    assert.equal(await page.locator('#repos tbody tr').count(), 26);
    assert.equal(await page.getByRole('link', { name: 'More repositories' }).count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
