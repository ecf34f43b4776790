// End-to-end tests of the knowledge UI (spaces, pages, the editor, history, search) in
// headless Chromium.
//
// Set up by helpers.mjs, which starts its own `orbit serve` (ORBIT_BIN, default
// <repo>/target/debug/orbit) on 127.0.0.1:0 with a fresh data directory and a bootstrap
// token, drives Debian's /usr/bin/chromium (CHROMIUM_BIN overrides) through playwright-core,
// and stops the server at the end. Run it through ./run.sh, or `node --test` in this folder.
//
// Each test makes its own workspace (through the API where the UI is not the subject), so a
// single test can run alone (node --test --test-name-pattern=conflict knowledge.test.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setUp, tearDown, SET_UP_OPTIONS, TEAR_DOWN_OPTIONS, h, api, apiOk, uniqueSlug, signedIn, h1, submit,
  screenshot, assertAccessible,
} from './helpers.mjs';

const ADMIN_TOKEN = 'orbit-browser-test-bootstrap-token-knowledge-0123456789';

const TEST_TIMEOUT = 60_000; // per test
const INDEX_TIMEOUT = 5_000; // the background indexer makes a change searchable within about a second

// ---------------------------------------------------------------------------
// Helpers

/** A user (created unless it exists) with an API token of its own. */
async function userWithToken(login) {
  const found = await api('UserService/GetUser', { user: login });
  const user = found.status === 200
    ? found.json.user
    : (await apiOk('UserService/CreateUser', { login, displayName: login })).user;
  const { secret } = await apiOk('AuthService/CreateToken', { user: login, name: `knowledge test ${uniqueSlug('t')}` });
  return { user, token: secret };
}

/** A workspace (admin is its owner) with the given extra members: [{login, role}]. */
async function workspace(name, members = []) {
  const ws = (await apiOk('WorkspaceService/CreateWorkspace', { slug: uniqueSlug('kn'), name })).workspace;
  for (const m of members) {
    await apiOk('WorkspaceService/AddMember', { workspaceId: ws.id, user: m.login, role: m.role ?? 'ROLE_MEMBER' });
  }
  return ws;
}

async function space(ws, fields = {}) {
  return (await apiOk('KnowledgeService/CreateSpace', {
    workspaceId: ws.id, slug: uniqueSlug('space'), name: 'Space', ...fields,
  })).space;
}

async function createPage(ws, sp, fields) {
  return (await apiOk('KnowledgeService/CreatePage', { workspaceId: ws.id, spaceId: sp.id, ...fields })).page;
}

async function getPage(ws, id) {
  return (await apiOk('KnowledgeService/GetPage', { workspaceId: ws.id, id })).page;
}

/** Polls the search API (bounded) until `predicate(response)` holds; returns the last response. */
async function waitForSearch(ws, query, predicate, token = ADMIN_TOKEN, timeout = INDEX_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await apiOk('SearchService/Search', { workspaceId: ws.id, query }, token);
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      assert.fail(`search for ${JSON.stringify(query)} did not become ready within ${timeout} ms: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const titlesOf = (res) => (res.results ?? []).map((r) => r.title);

/** The page tree of a space view as nested [title, [children…]] pairs. */
async function treeOf(page) {
  return page.locator('#page-tree').evaluate((root) => {
    const walk = (ul) => [...ul.children].map((li) => [
      li.querySelector(':scope > .tree-item > a').textContent.trim(),
      li.querySelector(':scope > ul') ? walk(li.querySelector(':scope > ul')) : [],
    ]);
    return walk(root);
  });
}

const status = (page) => page.locator('main [role="status"]:not([hidden])');

// ---------------------------------------------------------------------------
// Set-up and tear-down

before(async () => {
  await setUp({ token: ADMIN_TOKEN, prefix: 'orbit-browser-knowledge-' });
}, SET_UP_OPTIONS);

after(async () => {
  await tearDown();
}, TEAR_DOWN_OPTIONS);

// ---------------------------------------------------------------------------
// Scenarios

const RICH_BODY = [
  '# Overview',
  '',
  'Orbit keeps **knowledge** next to the code.',
  '',
  '## Setup steps',
  '',
  '| Step | Command |',
  '|------|---------|',
  '| build | `cargo build` |',
  '| run | `orbit serve` |',
  '',
  '```rust',
  'fn main() { println!("hello"); }',
  '```',
  '',
  '<script>window.pwned=1</script>',
  '',
  '### Details',
  '',
  'The end.',
].join('\n');

test('a. spaces and a page tree made in the UI; a page shows breadcrumbs, its contents and safe Markdown', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Knowledge A');
  const { context, page, errors } = await signedIn();
  try {
    // The Spaces tab of the workspace.
    await page.goto(`/ui/w/${ws.slug}`);
    await page.getByRole('navigation', { name: 'Workspace' }).getByRole('link', { name: 'Spaces' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/spaces`);
    assert.equal(await h1(page), 'Knowledge A');
    assert.match(await page.locator('main').innerText(), /no spaces you can see/);
    await assertAccessible(page, 'spaces');

    // Create a space with the form.
    const spaceSlug = uniqueSlug('handbook');
    await page.getByLabel('Name', { exact: true }).fill('Handbook');
    await page.getByLabel('Slug', { exact: true }).fill(spaceSlug);
    await page.getByLabel('Description').fill('How we work');
    assert.equal(await page.getByLabel('Visibility').inputValue(), 'workspace');
    await submit(page, page.getByRole('button', { name: 'Create space' }));
    assert.equal(new URL(page.url()).pathname, `/ui/w/${ws.slug}/spaces/${spaceSlug}`);
    assert.equal(await status(page).innerText(), 'Space created');
    assert.equal(await h1(page), 'Handbook');

    // The list shows it with its slug and visibility.
    await page.goto(`/ui/w/${ws.slug}/spaces`);
    const row = page.locator(`table#spaces tr[data-slug="${spaceSlug}"]`);
    assert.match(await row.innerText(), new RegExp(`Handbook\\s+${spaceSlug}\\s+workspace\\s+How we work`));
    await screenshot(page, 'knowledge-spaces.png');
    await row.getByRole('link', { name: 'Handbook' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/spaces/${spaceSlug}`);

    // A page tree: Getting started › Install guide › Linux, and a second root page.
    const newPage = async (title, parent, body = '') => {
      await page.goto(`/ui/w/${ws.slug}/spaces/${spaceSlug}`);
      await page.getByLabel('Title', { exact: true }).fill(title);
      if (parent) await page.getByLabel('Parent page').selectOption({ label: parent });
      if (body) await page.getByLabel('Content (Markdown, optional)').fill(body);
      await submit(page, page.getByRole('button', { name: 'Create page' }));
      assert.equal(await status(page).innerText(), 'Page created');
      assert.equal(await h1(page), title);
      return new URL(page.url()).pathname;
    };
    const startUrl = await newPage('Getting started', null, RICH_BODY);
    await newPage('Install guide', 'Getting started');
    const linuxUrl = await newPage('Linux', '\u2014 Install guide');
    await newPage('FAQ', null);

    await page.goto(`/ui/w/${ws.slug}/spaces/${spaceSlug}`);
    assert.deepEqual(await treeOf(page), [
      ['Getting started', [['Install guide', [['Linux', []]]]]],
      ['FAQ', []],
    ]);
    await assertAccessible(page, 'space view');
    await screenshot(page, 'knowledge-space.png');

    // Breadcrumbs: the space, then the ancestors.
    await page.goto(linuxUrl);
    const crumbs = await page.getByRole('navigation', { name: 'Breadcrumb' }).locator('li').allInnerTexts();
    assert.deepEqual(crumbs.map((c) => c.trim()), ['Spaces', 'Handbook', 'Getting started', 'Install guide', 'Linux']);

    // The rich page: contents, table, code block class, no script.
    await page.goto(startUrl);
    const toc = page.getByRole('navigation', { name: 'Contents' });
    assert.deepEqual((await toc.getByRole('link').allInnerTexts()).map((t) => t.trim()), ['Overview', 'Setup steps', 'Details']);
    assert.equal(await toc.getByRole('link', { name: 'Setup steps' }).getAttribute('href'), '#setup-steps');
    await toc.getByRole('link', { name: 'Setup steps' }).click();
    assert.equal(new URL(page.url()).hash, '#setup-steps');
    const body = page.locator('#page-body');
    assert.equal(await body.locator('#setup-steps').count(), 1, 'the heading has the anchor the contents link to');
    assert.deepEqual(await body.locator('table th').allInnerTexts(), ['Step', 'Command']);
    assert.equal(await body.locator('table tbody tr').count(), 2);
    assert.equal(await body.locator('pre code.language-rust').count(), 1, 'fenced code keeps its language class');
    assert.match(await body.locator('pre code').innerText(), /println!\("hello"\)/);
    assert.equal(await page.evaluate(() => typeof window.pwned), 'undefined', 'the script in the body did not run');
    assert.equal(await body.locator('script').count(), 0, 'no script element is rendered');
    assert.match(await page.locator('.page-head .meta').innerText(), /Revision 1\b/);
    assert.deepEqual(
      await page.getByRole('navigation', { name: 'Page' }).getByRole('link').allInnerTexts(),
      ['Edit', 'History', 'Add a subpage', 'Move'],
    );
    await assertAccessible(page, 'page view');
    await screenshot(page, 'knowledge-page.png');

    // A page with subpages cannot be deleted: the refusal is shown.
    const refused = await submit(page, page.getByRole('button', { name: 'Delete page' }));
    assert.equal(refused.status(), 400);
    assert.match(await page.getByRole('alert').innerText(), /^[A-Z].*(child|subpage)/i);
    assert.equal(await h1(page), 'Getting started', 'still on the page');

    // Move Linux to the top level, first; then move FAQ up with its button.
    await page.goto(`/ui/w/${ws.slug}/spaces/${spaceSlug}`);
    const linux = page.locator('#page-tree li', { has: page.getByRole('link', { name: 'Linux', exact: true }) }).last();
    await linux.locator('summary', { hasText: 'Move' }).click();
    await page.getByLabel('Parent of Linux').selectOption({ label: '(top level)' });
    await page.getByLabel('Position of Linux').fill('1');
    await submit(page, linux.getByRole('button', { name: 'Move', exact: true }));
    assert.equal(await status(page).innerText(), 'Page moved');
    assert.deepEqual(await treeOf(page), [
      ['Linux', []],
      ['Getting started', [['Install guide', []]]],
      ['FAQ', []],
    ]);
    await submit(page, page.getByRole('button', { name: 'Move FAQ up' }));
    assert.deepEqual((await treeOf(page)).map(([t]) => t), ['Linux', 'FAQ', 'Getting started']);

    // Deleting a leaf works and returns to the space.
    await page.goto(linuxUrl);
    await submit(page, page.getByRole('button', { name: 'Delete page' }));
    assert.equal(new URL(page.url()).pathname, `/ui/w/${ws.slug}/spaces/${spaceSlug}`);
    assert.equal(await status(page).innerText(), 'Page deleted');
    assert.deepEqual((await treeOf(page)).map(([t]) => t), ['FAQ', 'Getting started']);
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await context.close();
  }
});

test('b. the editor previews as you type, keeps a draft across a reload, and saves a new revision', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Knowledge B');
  const sp = await space(ws);
  const created = await createPage(ws, sp, { title: 'Runbook', body: 'Original text.' });
  const { context, page, errors } = await signedIn();
  try {
    const renders = [];
    page.on('request', (r) => { if (r.url().endsWith('.KnowledgeService/RenderMarkdown')) renders.push(r); });
    await page.goto(`/ui/w/${ws.slug}/pages/${created.id}`);
    await page.getByRole('navigation', { name: 'Page' }).getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/pages/${created.id}/edit`);
    assert.equal(await h1(page), 'Edit “Runbook”');
    assert.equal(await page.locator('input[name="base_revision"]').inputValue(), '1');
    assert.equal(await page.locator('#draft-note').isVisible(), false, 'no draft yet');
    const markdown = page.getByLabel('Markdown', { exact: true });
    assert.equal(await markdown.inputValue(), 'Original text.');
    await assertAccessible(page, 'editor');

    // Type: the preview follows (debounced), nothing is saved.
    await markdown.click();
    await page.keyboard.press('End');
    await markdown.pressSequentially('\n\n## Live heading\n\nSome *emphasis* and a | table |', { delay: 5 });
    const preview = page.locator('#preview');
    await preview.locator('h3#live-heading').waitFor();
    assert.equal(await preview.locator('em').innerText(), 'emphasis');
    assert.ok(renders.length >= 1 && renders.length <= 5, `the preview is debounced: ${renders.length} requests for ~50 keystrokes`);
    assert.equal(await preview.locator('h1, h2').count(), 0, 'preview headings are demoted below the page title');
    assert.equal(Number((await getPage(ws, created.id)).revision), 1, 'previewing saves nothing');
    await screenshot(page, 'knowledge-editor.png');

    // Reload before saving: the draft comes back.
    await page.reload();
    const note = page.locator('#draft-note');
    await note.waitFor({ state: 'visible' });
    assert.match(await note.innerText(), /Restored your unsaved draft/);
    assert.match(await markdown.inputValue(), /## Live heading/);
    await preview.locator('h3#live-heading').waitFor();

    // Discard it: the saved text is back, and another reload restores nothing.
    await note.getByRole('button', { name: 'Discard draft' }).click();
    assert.equal(await markdown.inputValue(), 'Original text.');
    assert.equal(await note.isVisible(), false);
    await page.reload();
    await page.waitForLoadState('load');
    assert.equal(await page.locator('#draft-note').isVisible(), false, 'a discarded draft stays discarded');

    // Type again, reload, and save the restored draft.
    await markdown.fill('Original text.\n\n## Saved heading\n\nNew paragraph.');
    await preview.locator('h3#saved-heading').waitFor();
    await page.reload();
    await note.waitFor({ state: 'visible' });
    await page.getByLabel('Title', { exact: true }).fill('Runbook v2');
    const saved = await submit(page, page.getByRole('button', { name: 'Save' }));
    assert.equal(saved.status(), 200);
    assert.equal(new URL(page.url()).pathname, `/ui/w/${ws.slug}/pages/${created.id}`);
    assert.equal(await status(page).innerText(), 'Saved revision 2');
    assert.equal(await h1(page), 'Runbook v2');
    assert.equal(await page.locator('#page-revision').innerText(), '2');
    assert.match(await page.locator('#page-body').innerText(), /Saved heading\s+New paragraph\./);
    const drafts = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('orbit-draft:')));
    assert.deepEqual(drafts, [], 'the draft is cleared after the save');

    // The editor opens clean at the new revision.
    await page.goto(`/ui/w/${ws.slug}/pages/${created.id}/edit`);
    assert.equal(await page.locator('input[name="base_revision"]').inputValue(), '2');
    await page.waitForLoadState('load');
    assert.equal(await page.locator('#draft-note').isVisible(), false);
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await context.close();
  }
});

test('c. conflict: two people edit the same revision; the second sees both texts and can save again', { timeout: TEST_TIMEOUT }, async () => {
  const carol = await userWithToken('carol');
  const ws = await workspace('Knowledge C', [{ login: 'carol' }]);
  const sp = await space(ws);
  const created = await createPage(ws, sp, { title: 'Shared notes', body: 'Line one.' });
  const admin = await signedIn();
  const other = await signedIn(carol.token);
  try {
    const editUrl = `/ui/w/${ws.slug}/pages/${created.id}/edit`;
    await admin.page.goto(editUrl);
    await other.page.goto(editUrl);

    await admin.page.getByLabel('Markdown', { exact: true }).fill('Line one.\nAdmin was here.');
    await submit(admin.page, admin.page.getByRole('button', { name: 'Save' }));
    assert.equal(await status(admin.page).innerText(), 'Saved revision 2');

    const mine = 'Line one.\nCarol was here.';
    await other.page.getByLabel('Markdown', { exact: true }).fill(mine);
    const conflict = await submit(other.page, other.page.getByRole('button', { name: 'Save' }));
    assert.equal(conflict.status(), 409);
    const alert = await other.page.getByRole('alert').innerText();
    assert.match(alert, /^While you were editing revision 1, admin saved revision 2 of this page\./);
    assert.equal(await other.page.getByLabel('Your text (Markdown)').inputValue(), mine, 'her text is kept');
    const theirs = other.page.getByLabel('Saved revision 2 by admin (read-only)');
    assert.equal(await theirs.inputValue(), 'Line one.\nAdmin was here.', 'the saved text is shown beside it');
    assert.equal(await theirs.getAttribute('readonly'), '');
    assert.equal(await other.page.locator('input[name="base_revision"]').inputValue(), '2', 'the next save starts from revision 2');
    const drafts = () => other.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('orbit-draft:')).sort());
    assert.deepEqual(await drafts(), [`orbit-draft:${created.id}:2`], 'her unsaved text is kept as a draft of the merge');
    await assertAccessible(other.page, 'conflict editor');
    await screenshot(other.page, 'knowledge-conflict.png');

    // Merge and save again: it works.
    await other.page.getByLabel('Your text (Markdown)').fill('Line one.\nAdmin was here.\nCarol was here.');
    const ok = await submit(other.page, other.page.getByRole('button', { name: 'Save' }));
    assert.equal(ok.status(), 200);
    assert.equal(await status(other.page).innerText(), 'Saved revision 3');
    assert.deepEqual(await drafts(), [], 'and cleared once saved');
    assert.match(await other.page.locator('#page-body').innerText(), /Admin was here\.\s*Carol was here\./);
    assert.match(await other.page.locator('.page-head .meta').innerText(), /by carol/);
    assert.deepEqual([...admin.errors, ...other.errors], [], 'no script errors');
  } finally {
    await admin.context.close();
    await other.context.close();
  }
});

test('d. history: restoring an old revision makes a new one; compare shows what changed, escaped', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Knowledge D');
  const sp = await space(ws);
  const p = await createPage(ws, sp, { title: 'Policy', body: 'First text.\nShared line.\n' });
  await apiOk('KnowledgeService/UpdatePage', {
    workspaceId: ws.id, id: p.id, baseRevision: 1, body: 'Second text with <em>tags</em> & ampersands.\nShared line.\n',
  });
  await apiOk('KnowledgeService/UpdatePage', { workspaceId: ws.id, id: p.id, baseRevision: 2, body: 'Third text.\nShared line.\n' });

  const { context, page, errors } = await signedIn();
  try {
    await page.goto(`/ui/w/${ws.slug}/pages/${p.id}`);
    await page.getByRole('navigation', { name: 'Page' }).getByRole('link', { name: 'History' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/pages/${p.id}/history`);
    assert.equal(await h1(page), 'History of “Policy”');
    const rows = page.locator('table#revisions tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.revision)), ['3', '2', '1']);
    const first = page.locator('tr[data-revision="1"]');
    assert.match(await first.innerText(), /1\s+admin\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+created\s+25 characters/);
    assert.equal(await page.locator('tr[data-revision="3"]').getByRole('button', { name: /Restore/ }).count(), 0, 'the current revision has no Restore');
    await assertAccessible(page, 'history');
    await screenshot(page, 'knowledge-history.png');

    // View an old revision.
    await first.getByRole('link', { name: 'View revision 1' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/pages/${p.id}/history/1`);
    assert.match(await page.locator('.revision-body').innerText(), /First text\./);

    // Compare 1 → 2: removed and added lines, HTML shown as text.
    await page.goto(`/ui/w/${ws.slug}/pages/${p.id}/history`);
    await page.getByRole('link', { name: 'Compare revision 2 with previous' }).click();
    await page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/pages/${p.id}/history/1/2`);
    const diff = page.locator('.diff');
    assert.match(await diff.locator('del').innerText(), /First text\./);
    assert.match(await diff.locator('ins').innerText(), /Second text with <em>tags<\/em> & ampersands\./);
    assert.equal(await diff.locator('em').count(), 0, 'the diff escapes HTML');
    assert.match(await diff.locator('.same').first().innerText(), /Shared line\./);
    assert.match(await page.locator('#diff-summary').innerText(), /1 line added, 1 line removed/);
    await assertAccessible(page, 'compare');
    await screenshot(page, 'knowledge-compare.png');

    // Restore revision 1: it becomes revision 4.
    await page.goto(`/ui/w/${ws.slug}/pages/${p.id}/history`);
    await submit(page, page.getByRole('button', { name: 'Restore revision 1' }));
    assert.equal(new URL(page.url()).pathname, `/ui/w/${ws.slug}/pages/${p.id}`);
    assert.equal(await status(page).innerText(), 'Restored revision 1 as revision 4');
    assert.equal(await page.locator('#page-revision').innerText(), '4');
    assert.match(await page.locator('#page-body').innerText(), /First text\.\s+Shared line\./);
    await page.goto(`/ui/w/${ws.slug}/pages/${p.id}/history`);
    assert.match(await page.locator('tr[data-revision="4"]').innerText(), /restored revision 1/);

    // A restore from a stale history page is refused with the reason.
    await apiOk('KnowledgeService/UpdatePage', { workspaceId: ws.id, id: p.id, baseRevision: 4, body: 'Fifth.' });
    const stale = await submit(page, page.getByRole('button', { name: 'Restore revision 2' }));
    assert.equal(stale.status(), 409);
    assert.match(await page.getByRole('alert').innerText(), /^Someone else saved this in the meantime; the current revision is 5/);

    // The compare form goes to the same view.
    await page.getByLabel('Older revision').fill('3');
    await page.getByLabel('Newer revision').fill('5');
    await submit(page, page.getByRole('button', { name: 'Compare', exact: true }));
    assert.equal(new URL(page.url()).pathname, `/ui/w/${ws.slug}/pages/${p.id}/history/3/5`);
    assert.match(await page.locator('.diff ins').innerText(), /Fifth\./);
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await context.close();
  }
});

test('e. search: suggestions as you type, keyboard choice, typos, results pages', { timeout: TEST_TIMEOUT }, async () => {
  const ws = await workspace('Knowledge E');
  const sp = await space(ws, { name: 'Platform' });
  const target = await createPage(ws, sp, { title: 'Kubernetes deployment handbook', body: 'Ship services with helm charts.' });
  await createPage(ws, sp, { title: 'Kubernetes cost notes', body: 'Budget.' });
  for (let i = 1; i <= 25; i += 1) {
    await createPage(ws, sp, { title: `Zebrafish note ${i}`, body: `Observation ${i} about zebrafish.` });
  }
  await waitForSearch(ws, 'zebrafish', (r) => Number(r.total) >= 25);
  await waitForSearch(ws, 'kubernetes', (r) => titlesOf(r).includes('Kubernetes deployment handbook'));

  const { context, page, errors } = await signedIn();
  try {
    const searches = [];
    page.on('request', (r) => { if (r.url().endsWith('.SearchService/Search')) searches.push(r.postDataJSON()); });
    await page.goto(`/ui/w/${ws.slug}`);
    const box = page.getByRole('combobox', { name: 'Search' });
    assert.equal(await box.getAttribute('aria-expanded'), 'false');

    // Type: one request after the typing pauses, results in the listbox.
    await box.pressSequentially('kubernetes depl', { delay: 20 });
    const listbox = page.getByRole('listbox');
    await listbox.waitFor({ state: 'visible' });
    await listbox.getByRole('option', { name: /Kubernetes deployment handbook/ }).waitFor();
    assert.equal(await box.getAttribute('aria-expanded'), 'true');
    assert.ok(searches.length >= 1 && searches.length <= 3, `typing is debounced: ${searches.length} requests for 15 keystrokes`);
    assert.equal(searches.at(-1).workspaceId, ws.id);
    assert.deepEqual(await listbox.getByRole('option').first().locator('.s-title mark').allInnerTexts(), ['Kubernetes', 'depl'], 'the words typed are highlighted');
    await screenshot(page, 'knowledge-search-dropdown.png');

    // The keyboard: down selects the first option, Escape closes, Enter opens the choice.
    await page.keyboard.press('ArrowDown');
    const firstOption = listbox.getByRole('option').first();
    assert.equal(await firstOption.getAttribute('aria-selected'), 'true');
    assert.equal(await box.getAttribute('aria-activedescendant'), await firstOption.getAttribute('id'));
    await page.keyboard.press('Escape');
    assert.equal(await listbox.isVisible(), false);
    assert.equal(await box.getAttribute('aria-expanded'), 'false');
    assert.equal(await box.inputValue(), 'kubernetes depl', 'Escape keeps what was typed');
    await page.keyboard.press('ArrowDown');
    await listbox.waitFor({ state: 'visible' });
    assert.match(await listbox.getByRole('option', { selected: true }).innerText(), /Kubernetes deployment handbook/);
    await Promise.all([page.waitForURL(`${h.server.url}/ui/w/${ws.slug}/pages/${target.id}`), page.keyboard.press('Enter')]);
    assert.equal(await h1(page), 'Kubernetes deployment handbook');

    // Enter without choosing: the full results page (also what happens without JavaScript).
    await box.fill('helm');
    await Promise.all([page.waitForURL(/\/search\?q=helm$/), box.press('Enter')]);
    assert.equal(await h1(page), 'Search Knowledge E');
    assert.equal(await page.getByLabel('Search for').inputValue(), 'helm');
    const results = page.locator('ol#results > li');
    assert.equal(await results.count(), 1);
    assert.equal(await results.getByRole('link').innerText(), 'Kubernetes deployment handbook');
    assert.match(await results.locator('.snippet').innerHTML(), /<mark>helm<\/mark>/i);
    assert.match(await results.locator('.result-meta').innerText(), /page\s+in Platform/);
    await assertAccessible(page, 'search results');
    await screenshot(page, 'knowledge-search-results.png');

    // A typo still finds the page.
    await page.goto(`/ui/w/${ws.slug}/search?q=kubrenetes`);
    assert.ok((await page.locator('ol#results a').allInnerTexts()).includes('Kubernetes deployment handbook'), 'a transposed typo finds the page');

    // More than a page of results: 20, then the other 5.
    await page.goto(`/ui/w/${ws.slug}/search?q=zebrafish`);
    assert.equal(await results.count(), 20);
    assert.match(await page.locator('#result-count').innerText(), /Results 1–20 of 25/);
    await submit(page, page.getByRole('link', { name: 'Next results' }));
    assert.equal(await results.count(), 5);
    assert.match(await page.locator('#result-count').innerText(), /Results 21–25 of 25/);
    assert.equal(await page.getByRole('link', { name: 'Next results' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'First results' }).count(), 1);
    const seen = await results.locator('a').allInnerTexts();
    await page.getByRole('link', { name: 'First results' }).click();
    await page.waitForURL(/\/search\?q=zebrafish$/);
    const firstPage = await results.locator('a').allInnerTexts();
    assert.equal(new Set([...seen, ...firstPage]).size, 25, 'the two pages together list all 25 pages once');
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await context.close();
  }
});

test('f. a restricted space is invisible to a non-member until they are added', { timeout: TEST_TIMEOUT }, async () => {
  const dave = await userWithToken('dave');
  const ws = await workspace('Knowledge F', [{ login: 'dave' }]);
  const open = await space(ws, { name: 'Open space', slug: uniqueSlug('open') });
  await createPage(ws, open, { title: 'Public zeppelin overview', body: 'Everyone may read about the zeppelin.' });
  const secret = await space(ws, { name: 'Secret space', slug: uniqueSlug('secret'), visibility: 'SPACE_VISIBILITY_RESTRICTED' });
  const hidden = await createPage(ws, secret, { title: 'Zeppelin launch plans', body: 'The zeppelin launches at dawn.' });
  // Indexed for the admin: so what dave does not see is hidden, not merely not indexed yet.
  await waitForSearch(ws, 'zeppelin', (r) => titlesOf(r).includes('Zeppelin launch plans') && titlesOf(r).includes('Public zeppelin overview'));

  const { context, page, errors } = await signedIn(dave.token);
  try {
    await page.goto(`/ui/w/${ws.slug}/spaces`);
    const slugs = await page.locator('table#spaces tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.slug));
    assert.deepEqual(slugs, [open.slug], 'only the open space is listed');
    assert.doesNotMatch(await page.content(), /Secret space/);

    for (const path of [`/ui/w/${ws.slug}/pages/${hidden.id}`, `/ui/w/${ws.slug}/spaces/${secret.slug}`, `/ui/w/${ws.slug}/pages/${hidden.id}/history`]) {
      const res = await page.goto(path);
      assert.equal(res.status(), 404, `${path} is not found for a non-member`);
      assert.doesNotMatch(await page.content(), /Zeppelin launch plans/);
    }

    await page.goto(`/ui/w/${ws.slug}/search?q=zeppelin`);
    assert.deepEqual(await page.locator('ol#results a').allInnerTexts(), ['Public zeppelin overview']);
    await page.goto(`/ui/w/${ws.slug}`);
    await page.getByRole('combobox', { name: 'Search' }).pressSequentially('zeppelin', { delay: 10 });
    await page.getByRole('listbox').getByRole('option', { name: /Public zeppelin overview/ }).waitFor();
    assert.equal(await page.getByRole('option', { name: /launch plans/i }).count(), 0, 'not in the suggestions either');

    // Added as a member of the space, dave sees it everywhere.
    await apiOk('KnowledgeService/UpdateSpace', { workspaceId: ws.id, id: secret.id, members: { userIds: ['dave'] } });
    await page.goto(`/ui/w/${ws.slug}/spaces`);
    const after = await page.locator('table#spaces tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.slug));
    assert.deepEqual(after.sort(), [open.slug, secret.slug].sort());
    assert.match(await page.locator(`tr[data-slug="${secret.slug}"]`).innerText(), /restricted/);
    const res = await page.goto(`/ui/w/${ws.slug}/pages/${hidden.id}`);
    assert.equal(res.status(), 200);
    assert.equal(await h1(page), 'Zeppelin launch plans');
    const found = await waitForSearch(ws, 'zeppelin', (r) => titlesOf(r).includes('Zeppelin launch plans'), dave.token);
    assert.equal(titlesOf(found).length, 2);
    await page.goto(`/ui/w/${ws.slug}/search?q=zeppelin`);
    assert.deepEqual((await page.locator('ol#results a').allInnerTexts()).sort(), ['Public zeppelin overview', 'Zeppelin launch plans']);
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await context.close();
  }
});

test('f2. space settings: rename, restrict to listed members (others lose it), refused deletion without the slug, then deleted', { timeout: TEST_TIMEOUT }, async () => {
  const frank = await userWithToken('frank');
  const gina = await userWithToken('gina');
  const ws = await workspace('Knowledge F2', [{ login: 'frank' }, { login: 'gina' }]);
  const sp = await space(ws, { name: 'Runbooks', slug: uniqueSlug('runbooks') });
  await createPage(ws, sp, { title: 'Restart the ledger', body: 'Steps.' });

  const admin = await signedIn();
  const frankSession = await signedIn(frank.token);
  try {
    const { page, errors } = admin;
    await page.goto(`/ui/w/${ws.slug}/spaces/${sp.slug}`);
    await Promise.all([page.waitForURL(/\/settings$/), page.getByRole('link', { name: 'Space settings' }).click()]);
    assert.equal(await h1(page), 'Settings of Runbooks');
    await assertAccessible(page, 'space settings');

    // Rename and restrict to gina: frank, a workspace member not listed, loses the space.
    await page.getByLabel('Name', { exact: true }).fill('Ledger runbooks');
    await page.getByLabel('Visibility').selectOption('restricted');
    await page.getByLabel('Members of a restricted space').fill('gina');
    await submit(page, page.getByRole('button', { name: 'Save settings' }));
    assert.match(await page.locator('main [role="status"]').innerText(), /Settings saved/);
    assert.equal(await h1(page), 'Settings of Ledger runbooks');
    assert.equal(await page.getByLabel('Members of a restricted space').inputValue(), 'gina');
    const got = await apiOk('KnowledgeService/GetSpace', { workspaceId: ws.id, id: sp.id });
    assert.equal(got.space.name, 'Ledger runbooks');
    assert.equal(got.space.visibility, 'SPACE_VISIBILITY_RESTRICTED');
    const hidden = await frankSession.page.goto(`/ui/w/${ws.slug}/spaces/${sp.slug}`);
    assert.equal(hidden.status(), 404, 'frank no longer sees the space');
    const list = await api('KnowledgeService/ListSpaces', { workspaceId: ws.id }, frank.token);
    assert.deepEqual((list.json.spaces ?? []).map((s) => s.slug), []);

    // An unknown login is refused with a message naming it; nothing changes.
    await page.getByLabel('Members of a restricted space').fill('gina\nnobody-here');
    const refused = await submit(page, page.getByRole('button', { name: 'Save settings' }));
    assert.equal(refused.status(), 404);
    assert.match(await page.locator('main [role="alert"]').innerText(), /nobody-here/);
    assert.equal(await page.getByLabel('Members of a restricted space').inputValue(), 'gina\nnobody-here', 'the form keeps what was typed');

    // Deleting needs the slug typed.
    await page.goto(`/ui/w/${ws.slug}/spaces/${sp.slug}/settings`);
    await page.getByLabel(/to confirm/).fill('not-the-slug');
    const wrong = await submit(page, page.getByRole('button', { name: 'Delete space' }));
    assert.equal(wrong.status(), 400);
    assert.match(await page.locator('main [role="alert"]').innerText(), /slug/i);
    assert.equal((await api('KnowledgeService/GetSpace', { workspaceId: ws.id, id: sp.id })).status, 200, 'still there');
    await page.getByLabel(/to confirm/).fill(sp.slug);
    await submit(page, page.getByRole('button', { name: 'Delete space' }));
    assert.equal(new URL(page.url()).pathname, `/ui/w/${ws.slug}/spaces`);
    assert.match(await page.locator('main [role="status"]').innerText(), /Space deleted/);
    assert.equal((await api('KnowledgeService/GetSpace', { workspaceId: ws.id, id: sp.id })).status, 404);
    assert.deepEqual(errors, [], 'no script errors');
  } finally {
    await admin.context.close();
    await frankSession.context.close();
  }
});

test('g. GET on a form address goes back to its page; viewers get no editing controls', { timeout: TEST_TIMEOUT }, async () => {
  const erin = await userWithToken('erin');
  const ws = await workspace('Knowledge G', [{ login: 'erin', role: 'ROLE_VIEWER' }]);
  const sp = await space(ws, { slug: uniqueSlug('docs') });
  const p = await createPage(ws, sp, { title: 'Read me', body: 'Text.' });
  const { context, page } = await signedIn(erin.token);
  try {
    for (const [path, back] of [
      [`/ui/w/${ws.slug}/pages/${p.id}/delete`, `/ui/w/${ws.slug}/pages/${p.id}`],
      [`/ui/w/${ws.slug}/pages/${p.id}/history/1/restore`, `/ui/w/${ws.slug}/pages/${p.id}/history`],
      [`/ui/w/${ws.slug}/spaces/${sp.slug}/pages`, `/ui/w/${ws.slug}/spaces/${sp.slug}`],
    ]) {
      await page.goto(path);
      assert.equal(new URL(page.url()).pathname, back, `GET ${path} goes back to ${back}`);
    }
    await page.goto(`/ui/w/${ws.slug}/pages/${p.id}`);
    assert.deepEqual(await page.getByRole('navigation', { name: 'Page' }).getByRole('link').allInnerTexts(), ['History']);
    assert.equal(await page.getByRole('button', { name: 'Delete page' }).count(), 0);
    await page.goto(`/ui/w/${ws.slug}/spaces/${sp.slug}`);
    assert.equal(await page.getByRole('button', { name: 'Create page' }).count(), 0);
    assert.equal(await page.locator('details.move').count(), 0);
    const edit = await page.goto(`/ui/w/${ws.slug}/pages/${p.id}/edit`);
    assert.equal(edit.status(), 403);
    // Other spaces' pages and unknown pages look alike: not found.
    const missing = await page.goto(`/ui/w/${ws.slug}/pages/01234567-89ab-7def-8123-456789abcdef`);
    assert.equal(missing.status(), 404);
  } finally {
    await context.close();
  }
});
