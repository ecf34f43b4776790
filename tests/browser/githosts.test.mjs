// End-to-end tests of the workspace's "Git hosts" page in headless Chromium: adding a
// connection (a refused base URL shown next to the form, the token never echoed back),
// tokens shown only by their last four characters, a webhook secret shown once with its
// payload URL and then accepted by Orbit's webhook endpoint (a wrong secret refused),
// replacing a token, deleting a connection, and a member without admin rights kept out.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setUp, tearDown, SET_UP_OPTIONS, TEAR_DOWN_OPTIONS, h, api, apiOk, uniqueSlug, signedIn, h1, submit,
  assertAccessible, screenshot,
} from './helpers.mjs';

const ADMIN_TOKEN = 'orbit-browser-test-bootstrap-token-githosts-0123456789';
const TEST_TIMEOUT = 60_000;
const FIRST_TOKEN = 'glpat-FirstGitLabTokenValue-7f3a';
const SECOND_TOKEN = 'glpat-SecondGitLabTokenValue-9c2e';

before(async () => {
  await setUp({ token: ADMIN_TOKEN, prefix: 'orbit-browser-githosts-' });
}, SET_UP_OPTIONS);

after(async () => {
  await tearDown();
}, TEAR_DOWN_OPTIONS);

async function workspace(name) {
  return (await apiOk('WorkspaceService/CreateWorkspace', { slug: uniqueSlug('hosts'), name })).workspace;
}

/** Posts a GitLab push delivery to `path` with `token` as its X-Gitlab-Token. */
async function gitlabPush(path, token) {
  const body = JSON.stringify({
    object_kind: 'push',
    ref: 'refs/heads/main',
    after: '0123456789abcdef0123456789abcdef01234567',
    project: { path_with_namespace: 'acme/not-in-the-catalog', default_branch: 'main' },
    commits: [],
  });
  const res = await fetch(`${h.server.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-event-uuid': uniqueSlug('delivery'),
      'x-gitlab-token': token,
    },
    body,
  });
  return { status: res.status, json: await res.json() };
}

test('an admin adds a connection, gets its webhook secret once, replaces its token and deletes it', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Platform');
  const { context, page, errors } = await signedIn();
  try {
    await page.goto(`/ui/w/${ws.slug}`);
    await submit(page, page.getByRole('navigation', { name: 'Workspace' }).getByRole('link', { name: 'Git hosts' }));
    assert.equal(await h1(page), 'Platform');
    assert.equal(await page.locator('nav.tabs a[aria-current="page"]').innerText(), 'Git hosts');
    assert.ok(await page.locator('#connections-empty').isVisible(), 'an empty workspace says it has no connection');
    await assertAccessible(page, 'git hosts page');

    // A base URL Orbit refuses: the error is shown, the fields are kept, the token is not.
    await page.getByLabel('Name').fill('gitlab-acme');
    await page.getByLabel('Provider').selectOption('gitlab');
    await page.getByLabel('API base URL').fill('ftp://gitlab.internal');
    await page.getByLabel('Organisation or group').fill('acme/platform');
    await page.getByLabel('Access token').fill(FIRST_TOKEN);
    const refused = await submit(page, page.getByRole('button', { name: 'Add connection' }));
    assert.equal(refused.status(), 400);
    assert.match(await page.locator('#form-error').innerText(), /base_url|base URL/i);
    assert.equal(await page.getByLabel('Name').inputValue(), 'gitlab-acme');
    assert.equal(await page.getByLabel('Provider').inputValue(), 'gitlab');
    assert.equal(await page.getByLabel('Access token').inputValue(), '', 'a token is never sent back to the page');
    assert.ok(!(await page.content()).includes(FIRST_TOKEN));

    // Fixed: listed with the token's last four characters only.
    await page.getByLabel('API base URL').fill('http://127.0.0.1:9');
    await page.getByLabel('Access token').fill(FIRST_TOKEN);
    await submit(page, page.getByRole('button', { name: 'Add connection' }));
    assert.equal(await page.locator('p.notice').innerText(), 'Connection gitlab-acme added');
    const row = page.locator('#connections tr[data-name="gitlab-acme"]');
    assert.equal((await row.locator('td.token').innerText()).trim(), 'set, ends in 7f3a');
    assert.match(await row.locator('td.webhook').innerText(), /no secret/);
    assert.ok(!(await page.content()).includes(FIRST_TOKEN), 'the token is never shown');

    // The webhook secret: shown once, with the payload URL on this server.
    await submit(page, page.getByRole('button', { name: 'Create the webhook secret of gitlab-acme' }));
    const url = await page.getByLabel('Payload URL').inputValue();
    const secret = await page.getByLabel('Secret token').inputValue();
    assert.match(url, new RegExp(`^${h.server.url}/webhooks/gitlab/[^/]+$`));
    assert.match(secret, /^whsec_[0-9a-f]{48}$/);
    await screenshot(page, 'githosts-webhook-secret.png');
    await assertAccessible(page, 'webhook secret');

    // GitLab's deliveries with that secret are verified; another secret is refused.
    const path = new URL(url).pathname;
    const accepted = await gitlabPush(path, secret);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.json));
    assert.match(accepted.json.message, /not in the catalog/);
    const wrong = await gitlabPush(path, `${secret}x`);
    assert.equal(wrong.status, 401);

    // Reloaded: the secret is set and no longer on the page.
    await page.goto(`/ui/w/${ws.slug}/git-hosts`);
    assert.match(await row.locator('td.webhook').innerText(), /secret set/);
    assert.ok(!(await page.content()).includes(secret), 'the webhook secret is shown only once');
    assert.equal(await page.getByLabel('Payload URL').count(), 0);

    // Replacing the token.
    await page.getByLabel('New token for gitlab-acme').fill(SECOND_TOKEN);
    await submit(page, page.getByRole('button', { name: 'Replace token' }));
    assert.equal(await page.locator('p.notice').innerText(), 'Token of gitlab-acme replaced');
    assert.equal((await row.locator('td.token').innerText()).trim(), 'set, ends in 9c2e');

    // Deleting: gone from the list, and its webhook with it.
    await submit(page, page.getByRole('button', { name: 'Delete gitlab-acme' }));
    assert.equal(await page.locator('p.notice').innerText(), 'Connection deleted');
    assert.ok(await page.locator('#connections-empty').isVisible());
    assert.equal((await gitlabPush(path, secret)).status, 404);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a member who is not an admin has no Git hosts tab and is told why at its address', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Shared');
  const login = uniqueSlug('dev').replace(/-/g, '');
  await apiOk('UserService/CreateUser', { login, displayName: 'Dev' });
  const { secret } = await apiOk('AuthService/CreateToken', { user: login, name: 'githosts test' });
  await apiOk('WorkspaceService/AddMember', { workspaceId: ws.id, user: login, role: 'ROLE_MEMBER' });
  // The API says the same as the page.
  const listed = await api('GitHostService/ListGitHostConnections', { workspaceId: ws.id }, secret);
  assert.equal(listed.status, 403);
  assert.equal(listed.json.code, 'permission_denied');

  const { context, page } = await signedIn(secret);
  try {
    await page.goto(`/ui/w/${ws.slug}`);
    assert.equal(await page.getByRole('navigation', { name: 'Workspace' }).getByRole('link', { name: 'Git hosts' }).count(), 0);
    const resp = await page.goto(`/ui/w/${ws.slug}/git-hosts`);
    assert.equal(resp.status(), 403);
    assert.match(await page.locator('#form-error').innerText(), /owners and admins/);
    assert.equal(await page.getByRole('button', { name: 'Add connection' }).count(), 0);
  } finally {
    await context.close();
  }
});
