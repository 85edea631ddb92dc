// Error pages as a signed-in person meets them.
//
// The last two tests guard fixed bugs: error pages keep the signed-in header
// (and a working language switch), and CSRF failures render the translated page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, submitLogin, withPage } from '../lib/browser.mjs';

const TEST_TIMEOUT = 120_000;

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(page, username) {
  await page.goto('/login');
  await submitLogin(page, username);
  await page.waitForURL((u) => u.pathname === '/');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
}

test('an unknown address shows the "Not found" page in the visitor\'s language', { timeout: TEST_TIMEOUT }, async () => {
  await withPage(browser, server.url, 'unknown-address', async (page) => {
    await signIn(page, 'nurse.almaly');
    const response = await page.goto('/no-such-page');
    assert.equal(response.status(), 404);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await page.locator('h1').innerText(), 'Not found');
    await page.getByRole('link', { name: 'Back to the home page' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    assert.match(await page.locator('h1').innerText(), /^Welcome, /);
  });
});

test(
  'a "Not found" page keeps the signed-in header, and its language buttons work',
  {
    timeout: TEST_TIMEOUT,
  },
  async () => {
    await withPage(browser, server.url, 'error-page-header', async (page) => {
      await signIn(page, 'nurse.almaly');
      await page.goto('/people/999999');
      assert.equal(await page.locator('h1').innerText(), 'Not found');
      assert.equal(await page.getByRole('navigation', { name: 'Main navigation' }).count(), 1, 'navigation shown');
      assert.equal(await page.getByRole('button', { name: 'Sign out', exact: true }).count(), 1, '"Sign out" shown');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/lang')),
        page.locator('form.langs button[value="kk"]').click(),
      ]);
      assert.ok(response.status() < 400, `switching the language answers ${response.status()}`);
      await page.waitForFunction(() => document.documentElement.lang === 'kk');
    });
  },
);

test(
  'a form sent with an expired CSRF token explains what happened',
  {
    timeout: TEST_TIMEOUT,
  },
  async () => {
    await withPage(browser, server.url, 'csrf-expired', async (page, context) => {
      // Another account than the test above, which saved Kazakh as nurse.almaly's language.
      await signIn(page, 'social.almaly');
      await page.goto('/people/new');
      // Meanwhile, in another tab: sign out and in again (this renews the CSRF cookie).
      const other = await context.newPage();
      await other.goto('/');
      await other.getByRole('button', { name: 'Sign out', exact: true }).click();
      await other.waitForURL((u) => u.pathname === '/login');
      await submitLogin(other, 'nurse.almaly');
      await other.waitForURL((u) => u.pathname === '/');
      // Back in the first tab, the form's token is now stale.
      await page.locator('#family_name').fill('Сейітқали');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/people'),
        page.getByRole('button', { name: 'Save', exact: true }).click(),
      ]);
      assert.equal(response.status(), 403);
      assert.match(response.headers()['content-type'] ?? '', /^text\/html/, 'an HTML error page');
      await page.waitForLoadState();
      assert.equal(
        await page.locator('h1').innerText(),
        'The form has expired. Go back, reload the page and try again.',
      );
    });
  },
);
