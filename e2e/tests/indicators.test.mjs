// The indicators pillar in the browser: an analyst opens under-five mortality
// (kazstat's real series, loaded by the demo), reads the chart, the progress to
// the SDG target with the method explained, the breakdowns and the map; switches
// to Kazakh; builds a pivot table and downloads it as CSV, Excel and SVG.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, submitLogin, withPage } from '../lib/browser.mjs';

const TEST_TIMEOUT = 120_000;

let server;
let browser;

before(async () => {
  server = await startServer({ timeoutMs: 120_000 });
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
  if ((await page.locator('html').getAttribute('lang')) !== 'en') {
    await page.locator('form.langs button[value="en"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
  }
}

test('indicator page: chart, target, progress explained, breakdowns, map, in English and Kazakh', { timeout: TEST_TIMEOUT }, async () => {
  await withPage(browser, server.url, 'indicator-page', async (page) => {
    await signIn(page, 'analyst');
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Indicators' }).click();
    await page.waitForURL((u) => u.pathname === '/indicators');
    await page.locator('#q').fill('mortality');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: 'Under‐five mortality rate' }).click();
    await page.waitForURL((u) => u.pathname === '/indicators/3.2.1');
    assert.match(await page.locator('h1').innerText(), /3\.2\.1/);

    // The time series: an accessible SVG with the kazstat line and the SDG target.
    const chart = page.locator('#chart svg');
    await chart.waitFor();
    assert.equal(await chart.getAttribute('role'), 'img');
    assert.match(await chart.locator('title').first().textContent(), /Under‐five mortality rate/);
    assert.ok((await chart.locator('circle').count()) >= 10, 'a point per year 2010–2019');
    assert.match(await chart.innerHTML(), /SDG: ≤ 25 by 2030/);

    // Progress: status, AARR and the method explained.
    const sdg = page.locator('section.progress', { hasText: 'SDG: ≤ 25 by 2030' });
    assert.equal(await sdg.locator('[data-status]').getAttribute('data-status'), 'achieved');
    assert.match(await sdg.locator('dd.aarr').innerText(), /7\.38 % a year/);
    await sdg.locator('summary').click();
    assert.match(await sdg.locator('ol').innerText(), /least-squares line through ln U/);
    const mdg = page.locator('section.progress', { hasText: 'MDG' });
    assert.match(await mdg.innerText(), /no value for 1990/);

    // The values table matches the chart's latest point.
    assert.equal(await page.locator('#values-table tbody tr').first().locator('td').nth(1).innerText(), '10.69');
    // Breakdowns by sex and by urban/rural, and the map of regions.
    assert.ok((await page.locator('#breakdowns ~ figure.chart svg').count()) >= 2);
    assert.ok((await page.locator('figure.map svg path').count()) >= 17);

    // Choosing Almaty city reloads the series for that region.
    await page.locator('#area').selectOption('750000000');
    await page.waitForURL((u) => u.searchParams.get('area') === '750000000');
    assert.match(await page.locator('#trend').innerText(), /Almaty/);

    // In Kazakh, with kazstat's official name.
    await page.locator('form.langs button[value="kk"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'kk');
    assert.match(await page.locator('h1').innerText(), /Бес жасқа дейінгі|5 жасқа дейінгі/);
    assert.match(await page.locator('body').innerText(), /Мақсатқа жетті/);
    await page.locator('form.langs button[value="en"]').click();
  });
});

test('pivot table: rows by region, exported as CSV, Excel and SVG', { timeout: TEST_TIMEOUT }, async () => {
  await withPage(browser, server.url, 'pivot-export', async (page) => {
    await signIn(page, 'analyst');
    await page.goto('/indicators/pivot');
    await page.locator('#indicator').selectOption('3.2.1');
    await page.locator('#areas').selectOption('regions');
    await page.locator('#series').fill('UNIT_MEASURE=PER_1000_LIVE_BIRTHS');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('series') === 'UNIT_MEASURE=PER_1000_LIVE_BIRTHS');
    const header = await page.locator('#pivot-table thead th').allInnerTexts();
    assert.ok(header.includes('2010') && header.includes('2019'), header.join('|'));
    const almaty = page.locator('#pivot-table tbody tr', { hasText: 'Almaty' }).first();
    await almaty.waitFor();

    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    assert.equal(csv.suggestedFilename(), 'bala-pivot.csv');
    const text = readFileSync(await csv.path(), 'utf8');
    const lines = text.trim().split('\n');
    assert.match(lines[0], /2010.*2019/);
    assert.ok(lines.some((l) => l.includes('Republic of Kazakhstan') && l.includes('19.55')), 'the national 2010 value');
    assert.equal(lines.length - 1, await page.locator('#pivot-table tbody tr').count(), 'the same rows as on screen');

    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('#export-xlsx').click()]);
    assert.equal(xlsx.suggestedFilename(), 'bala-pivot.xlsx');
    assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString(), 'PK');

    const [svg] = await Promise.all([page.waitForEvent('download'), page.locator('#export-svg').click()]);
    assert.equal(svg.suggestedFilename(), 'bala-pivot.svg');
    assert.match(readFileSync(await svg.path(), 'utf8'), /^<svg[\s\S]*<polyline/);
  });
});
