// The platform issue's journey through the web UI: sign in, register a child,
// find it by another spelling, switch the language, sign out; plus the error
// paths around it (wrong password, duplicate warning, area scope).
//
// Each test works in its own browser context (own cookies) and registers its
// own children, so the tests do not depend on each other's data. The server
// (with a fresh demo database) is shared by the tests of this file.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { daysAgo, launchBrowser, submitLogin, withPage } from '../lib/browser.mjs';

const ALMALY = '751110000';
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

function esc(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The path of `page.url()`, with the query. */
function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

const htmlLang = (page) => page.locator('html').getAttribute('lang');

/** Signs in from the login page and waits for the home page. */
async function signIn(page, username) {
  await page.goto('/login');
  await submitLogin(page, username);
  await page.waitForURL((u) => u.pathname === '/');
  // The account may remember another language from an earlier test: these
  // helpers work in English, so switch to it with the header button if needed.
  if ((await htmlLang(page)) !== 'en') {
    await page.locator('form.langs button[value="en"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
  }
}

/** Fills the "Register a person" form (English UI) and saves it. */
async function registerPerson(page, { family, given, birth, sex }) {
  await page.goto('/people/new');
  assert.equal(await page.locator('h1').innerText(), 'Register a person');
  await page.locator('#family_name').fill(family);
  await page.locator('#given_name').fill(given);
  await page.locator('#birth_date').fill(birth);
  await page.locator('#sex').selectOption(sex);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
}

test('journey: sign in, register a child, find it by its Latin spelling, switch to Kazakh, sign out', { timeout: TEST_TIMEOUT }, async () => {
  await withPage(browser, server.url, 'journey', async (page) => {
    // An English browser is sent to the login page, in English.
    await page.goto('/');
    assert.equal(pathOf(page), '/login?next=%2F');
    assert.equal(await htmlLang(page), 'en');
    assert.equal(await page.locator('h1').innerText(), 'Sign in to Bala');
    await page.getByLabel('Username').fill('nurse.almaly');
    await page.getByLabel('Password').fill('demo-Bala-2026');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/');
    assert.match(await page.locator('h1').innerText(), /^Welcome, Гүлнар Жұмабаева/);

    // Register a child with a Kazakh name and no IIN; the district is preselected.
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.getByRole('link', { name: 'People', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/people');
    assert.equal(await page.locator('h1').innerText(), 'People register');
    await page.getByRole('link', { name: 'Register a person' }).click();
    await page.waitForURL((u) => u.pathname === '/people/new');
    assert.equal(await page.locator('#area_code').inputValue(), ALMALY, 'the only district of the user is preselected');
    assert.match(await page.locator('#area_code option:checked').innerText(), /Almaly District/);
    assert.equal(await page.locator('#iin').inputValue(), '');
    const birth = daysAgo(95);
    await page.locator('#family_name').fill('Сейітқали');
    await page.locator('#given_name').fill('Нұрлан');
    await page.locator('#birth_date').fill(birth);
    await page.locator('#sex').selectOption('M');
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    // The child's page.
    await page.waitForURL(/\/people\/\d+$/);
    const childPath = new URL(page.url()).pathname;
    assert.equal(await page.locator('h1').innerText(), 'Сейітқали Нұрлан');
    assert.equal(await page.getByRole('status').first().innerText(), 'The person was registered.');
    const facts = await page.locator('dl.facts').innerText();
    assert.match(facts, /no IIN/);
    assert.match(facts, /Male/);
    assert.match(facts, /Almaly District/);

    // Find the child in the register by a Latin spelling.
    await nav.getByRole('link', { name: 'People', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/people');
    await page.locator('#q').fill('Nurlan Seitkali');
    await page.getByRole('search').getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/people' && u.searchParams.get('q') === 'Nurlan Seitkali');
    const row = page.locator(`table a[href="${childPath}"]`);
    assert.equal(await row.count(), 1, `the search lists ${childPath}`);
    assert.equal(await row.innerText(), 'Сейітқали Нұрлан');
    assert.match(await page.locator('p.muted[role="status"]').innerText(), /^\d+ (person|people) found$/);

    // Switch the interface to Kazakh with the header button.
    const kk = page.getByRole('form', { name: 'Language' }).getByRole('button', { name: 'KK Қазақша' });
    await kk.click();
    await page.waitForFunction(() => document.documentElement.lang === 'kk');
    const checkKazakh = async (when) => {
      assert.equal(await htmlLang(page), 'kk', `<html lang> ${when}`);
      const kkNav = page.getByRole('navigation', { name: 'Негізгі мәзір' });
      assert.equal(await kkNav.getByRole('link', { name: 'Тіркелім', exact: true }).count(), 1, `Kazakh navigation ${when}`);
      assert.equal(await page.locator('h1').innerText(), 'Халық тіркелімі', `Kazakh heading ${when}`);
      assert.equal(await page.locator('form.langs button[value="kk"]').getAttribute('aria-pressed'), 'true');
      // Still the same search, still finding the child.
      assert.equal(await page.locator('#q').inputValue(), 'Nurlan Seitkali', `search kept ${when}`);
      assert.equal(await page.locator(`table a[href="${childPath}"]`).count(), 1, `child listed ${when}`);
    };
    await checkKazakh('after switching');
    await page.reload();
    await checkKazakh('after reloading');

    // Sign out: back at the login page (still in Kazakh), and the register is closed.
    await page.getByRole('button', { name: 'Шығу', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    assert.equal(await htmlLang(page), 'kk');
    assert.equal(await page.locator('h1').innerText(), 'Bala жүйесіне кіру');
    assert.equal(await page.getByRole('navigation', { name: 'Негізгі мәзір' }).count(), 0);
    await page.goto('/people');
    assert.equal(pathOf(page), '/login?next=%2Fpeople');
    await page.goto(childPath);
    assert.equal(pathOf(page), `/login?next=${encodeURIComponent(childPath)}`);
  });
});

test('a wrong password shows the generic error, the same as an unknown user', { timeout: TEST_TIMEOUT }, async () => {
  await withPage(browser, server.url, 'wrong-password', async (page) => {
    await page.goto('/login');
    await submitLogin(page, 'nurse.almaly', 'not-the-password');
    await page.locator('[role="alert"]').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    const wrongPassword = await page.getByRole('alert').innerText();
    assert.equal(wrongPassword, 'The username or password is not correct.');
    assert.equal(await page.locator('#username').inputValue(), 'nurse.almaly', 'the username is kept');
    assert.equal(await page.locator('#password').inputValue(), '', 'the password is not sent back');

    await submitLogin(page, 'nobody.here', 'not-the-password');
    await page.waitForFunction(() => document.querySelector('#username')?.value === 'nobody.here');
    assert.equal(await page.getByRole('alert').innerText(), wrongPassword, 'no hint whether the user exists');

    // Still signed out.
    await page.goto('/people');
    assert.equal(pathOf(page), '/login?next=%2Fpeople');
  });
});

test('registering the same child again in Latin letters shows the duplicate warning', { timeout: TEST_TIMEOUT }, async () => {
  await withPage(browser, server.url, 'duplicate', async (page) => {
    await signIn(page, 'nurse.almaly');
    const birth = daysAgo(160);
    await registerPerson(page, { family: 'Жақсылықова', given: 'Аружан', birth, sex: 'F' });
    await page.waitForURL(/\/people\/\d+$/);
    const firstPath = new URL(page.url()).pathname;
    assert.equal(await page.locator('h1').innerText(), 'Жақсылықова Аружан');

    // The same child, same birth date and district, in passport Latin.
    await registerPerson(page, { family: 'Zhaksylykova', given: 'Aruzhan', birth, sex: 'F' });
    const warning = page.locator('#duplicates');
    await warning.waitFor();
    assert.equal(new URL(page.url()).pathname, '/people', 'nothing was saved: the form is shown again');
    assert.equal(await warning.getAttribute('role'), 'alert');
    assert.equal(await warning.locator('h2').innerText(), 'This person may already be registered');
    const link = warning.locator(`a[href="${firstPath}"]`);
    assert.equal(await link.count(), 1, 'the warning links to the first record');
    assert.equal(await link.innerText(), 'Жақсылықова Аружан');
    assert.equal(await page.locator('#family_name').inputValue(), 'Zhaksylykova', 'the form keeps what was typed');
    assert.equal(await page.locator('#birth_date').inputValue(), birth);

    // Confirming that it really is another child saves it.
    await page.getByLabel('I checked: this is a different person').check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/people\/\d+$/);
    assert.notEqual(new URL(page.url()).pathname, firstPath);
    assert.equal(await page.locator('h1').innerText(), 'Zhaksylykova Aruzhan');
  });
});

test('a health worker of another district gets "Not found" for the child', { timeout: TEST_TIMEOUT }, async () => {
  let childPath;
  await withPage(browser, server.url, 'scope-register', async (page) => {
    await signIn(page, 'nurse.almaly');
    await registerPerson(page, { family: 'Әбдірахманова', given: 'Томирис', birth: daysAgo(230), sex: 'F' });
    await page.waitForURL(/\/people\/\d+$/);
    childPath = new URL(page.url()).pathname;
  });

  await withPage(browser, server.url, 'scope-other-district', async (page) => {
    await signIn(page, 'nurse.shieli');
    for (const path of [childPath, `${childPath}/edit`, `${childPath}/history`]) {
      const response = await page.goto(path);
      assert.equal(response.status(), 404, `${path} for nurse.shieli`);
      assert.equal(await page.locator('h1').innerText(), 'Not found', `${path} heading`);
      const body = await page.locator('body').innerText();
      assert.doesNotMatch(body, /Әбдірахманова|Томирис/, `${path} shows nothing of the child`);
    }
    // Nor does the register list the child.
    await page.goto(`/people?q=${encodeURIComponent('Әбдірахманова')}`);
    assert.equal(await page.locator(`table a[href="${childPath}"]`).count(), 0);
  });
});
