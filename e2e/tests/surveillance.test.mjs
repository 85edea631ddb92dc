// Surveillance journey: a district nurse records an AFP case and sees the WHO
// indicators move; an analyst sees the dashboard but not the case records.

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

test('a nurse records an AFP case; the dashboard counts it; an analyst sees aggregates only', { timeout: 120_000 }, async () => {
  const year = new Date().getFullYear();
  const onset = daysAgo(10);
  await withPage(browser, server.url, 'surveillance-afp', async (page) => {
    await page.goto('/login');
    await submitLogin(page, 'nurse.almaly');
    await page.waitForURL((u) => u.pathname === '/');
    await page.goto(`/surveillance?area=751110000&year=${onset.slice(0, 4)}`);
    const before = Number((await page.locator('tr.total td.num').first().innerText()).split('/')[0].trim());

    await page.goto('/surveillance/afp/new');
    await page.fill('#epid', `KAZ-ALA-${onset.slice(0, 4)}-901`);
    await page.selectOption('#sex', 'F');
    await page.fill('#birth_date', daysAgo(3 * 365));
    await page.selectOption('#area_code', '751110000');
    await page.fill('#onset', onset);
    await page.fill('#notified', daysAgo(9));
    await page.fill('#investigated', daysAgo(8));
    await page.fill('#s1_collected', daysAgo(8));
    await page.fill('#s1_lab_arrival', daysAgo(6));
    await page.selectOption('#s1_condition', 'good');
    await page.fill('#s2_collected', daysAgo(7));
    await page.fill('#s2_lab_arrival', daysAgo(6));
    await page.selectOption('#s2_condition', 'good');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\/surveillance\/afp\/\d+$/);
    assert.match(await page.locator('.flash').innerText(), /saved/);
    // Two specimens a day apart within 14 days, in good condition: adequate.
    assert.match(await page.locator('dl.facts').innerText(), /Adequate specimens\s*yes/i);

    await page.goto(`/surveillance?area=751110000&year=${onset.slice(0, 4)}`);
    const after = Number((await page.locator('tr.total td.num').first().innerText()).split('/')[0].trim());
    assert.equal(after, before + 1, 'the new case is counted at once');
  });

  await withPage(browser, server.url, 'surveillance-analyst', async (page) => {
    await page.goto('/login');
    await submitLogin(page, 'analyst');
    await page.waitForURL((u) => u.pathname === '/');
    const dash = await page.goto(`/surveillance?area=750000000&year=${year}`);
    assert.equal(dash.status(), 200);
    assert.ok(await page.locator('table.indicators').isVisible());
    const cases = await page.goto('/surveillance/afp');
    assert.equal(cases.status(), 403);
  });
});
