// End-to-end tests of Orbit's server-rendered web UI in headless Chromium.
//
// Starts its own `orbit serve` (ORBIT_BIN, default <repo>/target/debug/orbit) on
// 127.0.0.1:0 with a fresh data directory and a bootstrap token, drives Debian's
// /usr/bin/chromium (CHROMIUM_BIN overrides) through playwright-core, and stops
// the server at the end. Run it through ./run.sh, or `node --test` in this folder.
//
// Each test signs in in its own browser context and makes the data it needs, so a
// single test can run alone (node --test --test-name-pattern=members).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setUp, tearDown, SET_UP_OPTIONS, TEAR_DOWN_OPTIONS, h, api, apiOk, uniqueSlug, newContext, signedIn, h1,
  submit, screenshot, accessibilityReport,
} from './helpers.mjs';

const ADMIN_TOKEN = 'orbit-browser-test-bootstrap-token-0123456789';

const TEST_TIMEOUT = 30_000; // per test

// ---------------------------------------------------------------------------
// Helpers

/** Creates the user "bob" through the API unless he exists. */
async function ensureBob() {
  const found = await api('UserService/GetUser', { user: 'bob' });
  if (found.status === 200) return found.json.user;
  return (await apiOk('UserService/CreateUser', { login: 'bob', displayName: 'Bob Builder' })).user;
}

/** The create-workspace form on the home page. */
async function createWorkspaceViaForm(page, name, slug) {
  await page.goto('/ui');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Slug').fill(slug);
  return submit(page, page.getByRole('button', { name: 'Create workspace' }));
}

async function switcherOptions(page) {
  return page.locator('select#ws-switch option').evaluateAll((opts) => opts.map((o) => ({ value: o.value, text: o.textContent.trim() })));
}

// ---------------------------------------------------------------------------
// Set-up and tear-down

before(async () => {
  await setUp({ token: ADMIN_TOKEN, prefix: 'orbit-browser-' });
}, SET_UP_OPTIONS);

after(async () => {
  await tearDown();
}, TEAR_DOWN_OPTIONS);

// ---------------------------------------------------------------------------
// Scenarios

test('1. /ui asks to sign in; a wrong token is refused, the right one signs in', { timeout: TEST_TIMEOUT }, async () => {
  const context = await newContext();
  try {
    const page = await context.newPage();
    await page.goto('/ui');
    assert.equal(new URL(page.url()).pathname, '/ui/login', 'an anonymous visit to /ui goes to the login page');
    assert.equal(await h1(page), 'Sign in to Orbit');
    assert.equal(await page.getByRole('alert').count(), 0, 'no error before a sign-in attempt');

    await page.getByLabel('API token').fill('orbit_this-token-does-not-exist');
    const refused = await submit(page, page.getByRole('button', { name: 'Sign in' }));
    assert.equal(refused.status(), 401);
    const alert = page.getByRole('alert');
    assert.match(await alert.innerText(), /token is unknown, revoked or expired/);
    assert.equal(await h1(page), 'Sign in to Orbit', 'still on the login page');

    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    assert.equal(new URL(page.url()).pathname, '/ui');
    assert.equal(await h1(page), 'Your workspaces');
    assert.match(await page.locator('header').innerText(), /Signed in as\s+admin/);
  } finally {
    await context.close();
  }
});

test('2. create workspaces with the form and switch between them with the keyboard', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page } = await signedIn();
  try {
    const first = { name: 'Platform Team', slug: uniqueSlug('platform') };
    const second = { name: 'Data Team', slug: uniqueSlug('data') };

    await createWorkspaceViaForm(page, first.name, first.slug);
    assert.equal(new URL(page.url()).pathname, `/ui/w/${first.slug}`);
    assert.equal(await h1(page), first.name);
    assert.equal(await page.getByRole('status').innerText(), 'Workspace created');
    const facts = page.locator('dl.facts');
    assert.equal(await facts.locator('dt:has-text("Slug") + dd').innerText(), first.slug);
    assert.equal(await facts.locator('dt:has-text("Your role") + dd').innerText(), 'owner');

    let options = await switcherOptions(page);
    assert.deepEqual(
      options.find((o) => o.value === first.slug),
      { value: first.slug, text: `${first.name} (${first.slug})` },
      `the switcher lists the new workspace: ${JSON.stringify(options)}`,
    );
    assert.equal(await page.locator('select#ws-switch').inputValue(), first.slug, 'the switcher shows the current workspace');

    await createWorkspaceViaForm(page, second.name, second.slug);
    assert.equal(new URL(page.url()).pathname, `/ui/w/${second.slug}`);
    assert.equal(await h1(page), second.name);
    options = await switcherOptions(page);
    assert.ok(options.some((o) => o.value === first.slug) && options.some((o) => o.value === second.slug), JSON.stringify(options));

    // Keyboard only: Tab from the top of the page to the switcher...
    await page.goto(`/ui/w/${second.slug}`);
    const active = () => page.evaluate(() => {
      const el = document.activeElement;
      return { tag: el?.tagName ?? '', id: el?.id ?? '', text: (el?.textContent ?? '').trim() };
    });
    let tabs = 0;
    for (; tabs < 10 && (await active()).id !== 'ws-switch'; tabs += 1) await page.keyboard.press('Tab');
    assert.equal((await active()).id, 'ws-switch', `Tab reaches the workspace switcher (pressed ${tabs} times)`);

    // ...choose the other workspace with the arrow keys...
    const select = page.locator('select#ws-switch');
    const target = options.findIndex((o) => o.value === first.slug);
    const current = options.findIndex((o) => o.value === second.slug);
    const key = target < current ? 'ArrowUp' : 'ArrowDown';
    for (let i = 0; i < options.length && (await select.inputValue()) !== first.slug; i += 1) await page.keyboard.press(key);
    assert.equal(await select.inputValue(), first.slug, 'the arrow keys choose the other workspace');

    // ...then Tab to "Go" and press Enter.
    await page.keyboard.press('Tab');
    assert.deepEqual(await active(), { tag: 'BUTTON', id: '', text: 'Go' }, 'Tab after the switcher focuses its Go button');
    await Promise.all([page.waitForURL(`${h.server.url}/ui/w/${first.slug}`), page.keyboard.press('Enter')]);
    assert.equal(await h1(page), first.name);
    assert.equal(await select.inputValue(), first.slug);
  } finally {
    await context.close();
  }
});

test('3. an invalid slug gives a readable error and keeps what was typed', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page } = await signedIn();
  try {
    await page.goto('/ui');
    await page.getByLabel('Name').fill('Keep This Name');
    await page.getByLabel('Slug').fill('Bad Slug');

    // Browsers check the `pattern` attribute first; should this one block the form, the server's
    // check is what a browser without constraint validation (or a script) gets, so submit that way.
    const slug = page.getByLabel('Slug');
    if (!(await slug.evaluate((el) => el.checkValidity()))) {
      assert.notEqual(await slug.evaluate((el) => el.validationMessage), '', 'the browser explains why');
      await page.locator('form[action="/ui/workspaces"]').evaluate((f) => { f.noValidate = true; });
    }
    const response = await submit(page, page.getByRole('button', { name: 'Create workspace' }));
    assert.equal(response.status(), 400);
    const alert = page.getByRole('alert');
    const message = await alert.innerText();
    assert.match(message, /slug/i, `the error names the field: ${message}`);
    assert.match(message, /lowercase letters, digits and dashes/, `the error states the slug rules: ${message}`);
    assert.equal(await page.getByLabel('Name').inputValue(), 'Keep This Name', 'the name is kept');
    assert.equal(await page.getByLabel('Slug').inputValue(), 'Bad Slug', 'the slug is kept for correcting');
    assert.equal(await h1(page), 'Your workspaces');
  } finally {
    await context.close();
  }
});

test('3b. the browser itself refuses "Bad Slug" (the slug input\'s pattern compiles)', {
  timeout: TEST_TIMEOUT,
}, async () => {
  const { context, page } = await signedIn();
  try {
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto('/ui');
    const slug = page.getByLabel('Slug');
    await slug.fill('Bad Slug');
    assert.equal(await slug.evaluate((el) => el.validity.patternMismatch), true, 'the pattern attribute rejects "Bad Slug"');
    assert.deepEqual(consoleErrors.filter((t) => /pattern/i.test(t)), []);
  } finally {
    await context.close();
  }
});

test('4. members: add bob, make him a viewer, the last owner stays, remove bob', { timeout: TEST_TIMEOUT }, async () => {
  await ensureBob();

  const { context, page } = await signedIn();
  try {
    const ws = { name: 'Members Test', slug: uniqueSlug('members') };
    await createWorkspaceViaForm(page, ws.name, ws.slug);
    await page.getByRole('navigation', { name: 'Workspace' }).getByRole('link', { name: 'Members' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/members`);
    assert.equal(await h1(page), ws.name);

    const rows = page.locator('table#members tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.login)), ['admin']);

    // Add bob with the form (role "member" is preselected).
    await page.getByLabel('User (login or id)').fill('bob');
    assert.equal(await page.locator('select#role').inputValue(), 'member');
    await submit(page, page.getByRole('button', { name: 'Add member' }));
    assert.equal(await page.getByRole('status').innerText(), 'Member added');
    const bobRow = page.locator('table#members tr[data-login="bob"]');
    assert.equal(await bobRow.count(), 1, 'bob is listed');
    assert.match(await bobRow.innerText(), /Bob Builder/);
    const bobRole = page.getByLabel('Role of bob');
    assert.equal(await bobRole.inputValue(), 'member');

    // Make him a viewer.
    await bobRole.selectOption('viewer');
    await submit(page, bobRow.getByRole('button', { name: 'Change role' }));
    assert.equal(await page.getByRole('status').innerText(), 'Role changed');
    assert.equal(await page.getByLabel('Role of bob').inputValue(), 'viewer');
    await screenshot(page, 'members.png');

    // The only owner cannot be demoted.
    await page.getByLabel('Role of admin').selectOption('member');
    const refused = await submit(page, page.locator('tr[data-login="admin"]').getByRole('button', { name: 'Change role' }));
    assert.equal(refused.status(), 400);
    assert.match(await page.getByRole('alert').innerText(), /last owner of a workspace cannot be removed or demoted/);
    assert.equal(await page.getByLabel('Role of admin').inputValue(), 'owner', 'the table still shows admin as owner');
    await screenshot(page, 'members-last-owner-error.png');

    // Remove bob.
    await submit(page, page.getByRole('button', { name: 'Remove bob' }));
    assert.equal(await page.getByRole('status').innerText(), 'Member removed');
    assert.equal(await page.locator('table#members tr[data-login="bob"]').count(), 0, 'bob is gone');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.login)), ['admin']);
  } finally {
    await context.close();
  }
});

test('5. bob sees only his own workspaces; nothing leaks across workspaces', { timeout: TEST_TIMEOUT }, async () => {
  const bob = await ensureBob();
  const shared = (await apiOk('WorkspaceService/CreateWorkspace', { slug: uniqueSlug('shared'), name: 'Shared Space' })).workspace;
  const secret = (await apiOk('WorkspaceService/CreateWorkspace', { slug: uniqueSlug('secret'), name: 'Top Secret Plans' })).workspace;
  await apiOk('WorkspaceService/AddMember', { workspaceId: shared.id, user: bob.login, role: 'ROLE_MEMBER' });
  const { secret: bobToken } = await apiOk('AuthService/CreateToken', { user: bob.login, name: 'browser test' });

  const { context, page } = await signedIn(bobToken);
  try {
    assert.match(await page.locator('header').innerText(), new RegExp(`Signed in as\\s+${bob.login}`));
    const options = await switcherOptions(page);
    assert.ok(options.some((o) => o.value === shared.slug), `the shared workspace is listed: ${JSON.stringify(options)}`);
    assert.ok(!options.some((o) => o.value === secret.slug), `the other workspace is not listed: ${JSON.stringify(options)}`);
    const home = await page.content();
    assert.ok(!home.includes('Top Secret Plans') && !home.includes(secret.slug), 'the home page never mentions it');

    // Visiting it directly, or its members page, is "not found" — the same as for a slug that does not exist.
    const missing = await page.goto(`/ui/w/${uniqueSlug('no-such')}`);
    assert.equal(missing.status(), 404);
    const notFoundHeading = (await h1(page)).replace(new URL(page.url()).pathname.split('/')[3], '<slug>');
    for (const path of [`/ui/w/${secret.slug}`, `/ui/w/${secret.slug}/members`]) {
      const res = await page.goto(path);
      assert.equal(res.status(), 404, `${path} is not found for a non-member`);
      assert.equal((await h1(page)).replace(secret.slug, '<slug>'), notFoundHeading, `${path} looks like any unknown workspace`);
      assert.doesNotMatch(await page.content(), /Top Secret Plans/, `${path} does not leak the name`);
    }
    assert.match(notFoundHeading, /not found/i);

    // Switching to it by URL parameter ends on the same not-found page.
    const switched = await page.goto(`/ui/switch?slug=${secret.slug}`);
    assert.equal(switched.status(), 404);
  } finally {
    await context.close();
  }
});

test('6. API tokens: the secret is shown once, works, and stops working when revoked', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page } = await signedIn();
  try {
    const name = `ci-${Date.now().toString(36)}`;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
    await page.waitForURL(`${h.server.url}/ui/tokens`);
    assert.equal(await h1(page), 'API tokens');
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Expires after').selectOption('7');
    await submit(page, page.getByRole('button', { name: 'Create token' }));

    const shown = page.getByRole('status');
    assert.match(await shown.innerText(), /shown only once/);
    const secret = await page.getByLabel('Token', { exact: true }).inputValue();
    assert.match(secret, /^orbit_\S{16,}$/, `the secret looks like a token: ${secret}`);

    const row = page.locator('table#tokens tbody tr', { hasText: name });
    assert.equal(await row.count(), 1, 'the new token is listed');
    const rowText = await row.innerText();
    assert.ok(!rowText.includes(secret), 'the table does not show the secret');

    const who = await apiOk('AuthService/WhoAmI', {}, secret);
    assert.equal(who.user.login, 'admin');

    // Shown once: a reload lists the token but no longer shows its secret.
    await page.goto('/ui/tokens');
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
    assert.equal(await page.locator('input#secret').count(), 0);

    await submit(page, page.getByRole('button', { name: `Revoke ${name}` }));
    assert.equal(await page.getByRole('status').innerText(), 'Token revoked');
    assert.equal(await page.locator('table#tokens tbody tr', { hasText: name }).count(), 0, 'the revoked token is no longer listed');

    const after = await api('AuthService/WhoAmI', {}, secret);
    assert.equal(after.status, 401, `a revoked token is refused: ${after.text}`);
  } finally {
    await context.close();
  }
});

test('7. signing out returns to the login page and ends the session', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page } = await signedIn();
  try {
    await submit(page, page.getByRole('button', { name: 'Sign out' }));
    assert.equal(new URL(page.url()).pathname, '/ui/login');
    assert.equal(await h1(page), 'Sign in to Orbit');
    const cookies = await context.cookies();
    assert.ok(!cookies.some((c) => c.name === 'orbit_session' && c.value !== ''), `no session cookie is left: ${JSON.stringify(cookies)}`);

    await page.goto('/ui');
    assert.equal(new URL(page.url()).pathname, '/ui/login', '/ui asks to sign in again');
    await page.goto('/ui/tokens');
    assert.equal(new URL(page.url()).pathname, '/ui/login', 'so does every other signed-in page');
  } finally {
    await context.close();
  }
});

test('8. every form control has a label, and each page has exactly one h1', { timeout: TEST_TIMEOUT }, async () => {
  const { context, page } = await signedIn();
  try {
    const ws = (await apiOk('WorkspaceService/CreateWorkspace', { slug: uniqueSlug('a11y'), name: 'Accessible' })).workspace;
    const problems = [];
    for (const path of ['/ui', `/ui/w/${ws.slug}`, `/ui/w/${ws.slug}/members`, '/ui/tokens']) {
      await page.goto(path);
      const { unlabelled, h1s } = await accessibilityReport(page);
      if (unlabelled.length) problems.push(`${path}: controls without a <label>: ${unlabelled.join(' | ')}`);
      if (h1s !== 1) problems.push(`${path}: ${h1s} <h1> elements`);
    }
    const anon = await newContext();
    try {
      const login = await anon.newPage();
      await login.goto('/ui/login');
      const { unlabelled, h1s } = await accessibilityReport(login);
      if (unlabelled.length) problems.push(`/ui/login: controls without a <label>: ${unlabelled.join(' | ')}`);
      if (h1s !== 1) problems.push(`/ui/login: ${h1s} <h1> elements`);
    } finally {
      await anon.close();
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
