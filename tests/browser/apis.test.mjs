// End-to-end tests of the API catalog UI in headless Chromium: registering an API, its page
// (versions, reference, consumers), a breaking version refused under a minor bump, the
// compare view with breaking changes in red, the embedded Swagger UI, and search.
//
// Set up by helpers.mjs: its own `orbit serve` on 127.0.0.1:0 with a fresh data directory and a
// bootstrap token, headless Chromium through playwright-core, stopped at the end.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  setUp, tearDown, SET_UP_OPTIONS, TEAR_DOWN_OPTIONS, REPO, h, apiOk, uniqueSlug, signedIn, h1, submit, screenshot,
} from './helpers.mjs';

const ADMIN_TOKEN = 'orbit-browser-test-bootstrap-token-apis-0123456789';
const PETSTORE = readFileSync(join(REPO, 'apispec', 'tests', 'fixtures', 'petstore.yaml'), 'utf8');

const TEST_TIMEOUT = 90_000;
const INDEX_TIMEOUT = 5_000;

/** Signed in as the admin; `foreign` records every request that leaves this server (no CDN). */
async function signedInWatchingRequests() {
  const session = await signedIn(ADMIN_TOKEN, { viewport: { width: 1200, height: 900 } });
  const foreign = [];
  session.page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(h.server.url) && !url.startsWith('data:') && !url.startsWith('blob:')) foreign.push(url);
  });
  return { ...session, foreign };
}

before(async () => {
  await setUp({ token: ADMIN_TOKEN, prefix: 'orbit-browser-apis-' });
}, SET_UP_OPTIONS);

after(async () => {
  await tearDown();
}, TEAR_DOWN_OPTIONS);

test('an API is registered, versioned, compared, documented and found', { timeout: TEST_TIMEOUT }, async () => {
  const slug = uniqueSlug('apis');
  const { workspace: ws } = await apiOk('WorkspaceService/CreateWorkspace', { slug, name: 'API team' });
  const { context, page, errors, foreign } = await signedInWatchingRequests();

  // Register through the form.
  await page.goto(`/ui/w/${slug}/apis`);
  await page.getByLabel('Name', { exact: true }).fill('Pet Store');
  await page.getByLabel('Owner').last().fill('team-shop');
  await page.getByLabel('Tags').last().fill('animals, public');
  await submit(page, page.getByRole('button', { name: 'Register API' }));
  assert.equal(new URL(page.url()).pathname, `/ui/w/${slug}/apis/pet-store`);
  assert.equal(await h1(page), 'Pet Store');
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
