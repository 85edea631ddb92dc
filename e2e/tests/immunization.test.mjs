// Immunization journey: a district nurse registers a baby, opens the
// vaccination card, is told which fields are missing, records today's dose,
// sees it judged valid and counted in the district's coverage at once, and
// prints the due list; an analyst sees coverage but no card.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { daysAgo, launchBrowser, submitLogin, withPage } from '../lib/browser.mjs';

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

/** DTP1 cell of the district row in the coverage table: "x% (n)" or "n". */
async function dtp1Count(page, year) {
  await page.goto(`/immunization/coverage?area=751110000&year=${year}&basis=cohort`);
  const headers = await page.locator('#coverage-table thead th').allInnerTexts();
  const col = headers.indexOf('DTP1');
  assert.ok(col > 0, `DTP1 column in ${headers}`);
  const cell = await page.locator('#coverage-table tbody tr.total').locator('th, td').nth(col).innerText();
  const m = cell.match(/\((\d[\d\s\u00a0,]*)\)/) || cell.match(/^(\d+)/);
  return Number((m ? m[1] : '0').replace(/[\s\u00a0,]/g, ''));
}

test('a nurse records a dose on the card and coverage counts it at once', { timeout: 180_000 }, async () => {
  const birth = daysAgo(70);
  const year = birth.slice(0, 4);
  await withPage(browser, server.url, 'immunization-nurse', async (page) => {
    await page.goto('/login');
    await submitLogin(page, 'nurse.almaly');
    await page.waitForURL((u) => u.pathname === '/');
    const before = await dtp1Count(page, year);

    await page.goto('/people/new');
    await page.locator('#family_name').fill('Тұрсынов');
    await page.locator('#given_name').fill('Әлихан');
    await page.locator('#birth_date').fill(birth);
    await page.locator('#sex').selectOption('M');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/people\/\d+$/);
    await page.getByRole('link', { name: 'Vaccination card' }).click();
    await page.waitForURL(/\/immunization\/children\/\d+$/);
    // At ten weeks the first hexavalent dose is due.
    assert.match(await page.locator('#series').innerText(), /due/);

    // Saving without lot, expiry, site and route names each of them.
    await page.locator('#product').selectOption('HEXA');
    await page.getByRole('button', { name: 'Save dose' }).click();
    await page.waitForSelector('#lot-error');
    for (const id of ['#lot_expiry-error', '#site-error', '#route-error']) {
      assert.ok(await page.locator(id).isVisible(), `${id} shown`);
    }
    await page.locator('#lot').fill('HX-2026-17');
    await page.locator('#lot_expiry').fill(daysAgo(-300));
    await page.locator('#site').selectOption('left-thigh');
    await page.locator('#route').selectOption('IM');
    await page.getByRole('button', { name: 'Save dose' }).click();
    await page.waitForURL(/\/immunization\/children\/\d+$/);
    assert.match(await page.locator('.flash').innerText(), /recorded/);
    const doses = await page.locator('#doses').innerText();
    assert.match(doses, /HX-2026-17/);
    assert.match(doses, /DTP1: valid/);

    assert.equal(await dtp1Count(page, year), before + 1, 'the dose counts in coverage at once');

    const list = await page.goto('/immunization/lists?area=751110000&kind=due');
    assert.equal(list.status(), 200);
    assert.ok(await page.locator('#due-list').isVisible());
    const csv = await page.request.get('/immunization/lists?area=751110000&kind=due&format=csv');
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /person_id,name,iin/);
  });

  await withPage(browser, server.url, 'immunization-analyst', async (page) => {
    await page.goto('/login');
    await submitLogin(page, 'analyst');
    await page.waitForURL((u) => u.pathname === '/');
    const dash = await page.goto(`/immunization?area=000000000&year=${year}`);
    assert.equal(dash.status(), 200);
    assert.ok(await page.locator('figure.chart svg').isVisible(), 'the regional map is drawn');
    const card = await page.goto('/immunization/lists');
    assert.equal(card.status(), 403);
  });
});
