// The child-welfare journey through the web UI: a nurse screens a child at a
// home visit → the rules raise an alert for the district's social worker → the
// alert becomes a case → the child is referred to health services with the
// family's consent → the supervisor closes the case. Each actor works in a
// fresh browser context (own cookies), as three people on three phones would.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { daysAgo, launchBrowser, submitLogin, withPage } from '../lib/browser.mjs';

const TEST_TIMEOUT = 180_000;
const PHONE = { width: 390, height: 844 };

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
  await page.setViewportSize(PHONE);
  await page.goto('/login');
  await submitLogin(page, username);
  await page.waitForURL((u) => u.pathname === '/');
  if ((await page.locator('html').getAttribute('lang')) !== 'en') {
    await page.locator('form.langs button[value="en"]').click();
    await page.waitForFunction(() => document.documentElement.lang === 'en');
  }
}

/** Answers every question shown: "No", the first option, the smallest number; then `yes`. */
async function answerScreening(page, yes) {
  await page.$$eval('.question', (questions) => {
    for (const q of questions) {
      const no = q.querySelector('input[type=radio][value=no]');
      const radios = q.querySelectorAll('input[type=radio]');
      const number = q.querySelector('input[type=number]');
      if (no) no.checked = true;
      else if (radios.length) radios[0].checked = true;
      else if (number) number.value = number.min;
    }
  });
  for (const code of yes) {
    await page.locator(`input[name="q.${code}"][value=yes]`).check();
  }
}

test('journey: screening → alert → case → referral → closure', { timeout: TEST_TIMEOUT }, async () => {
  // Names take letters only: a per-run suffix spelled with letters keeps runs apart.
  const family = `Сейітова-${[...String(Date.now() % 100000)].map((d) => 'абвгдежзик'[d]).join('')}`;
  let childPath;
  let casePath;

  // 1. The nurse registers the child and screens her on a phone.
  await withPage(browser, server.url, 'welfare-nurse', async (page) => {
    await signIn(page, 'nurse.almaly');
    await page.goto('/people/new');
    await page.locator('#family_name').fill(family);
    await page.locator('#given_name').fill('Аружан');
    await page.locator('#birth_date').fill(daysAgo(420));
    await page.locator('#sex').selectOption('F');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/people\/\d+$/);
    childPath = new URL(page.url()).pathname;

    await page.getByRole('link', { name: 'Screen a child' }).click();
    await page.waitForURL((u) => u.pathname === '/welfare/screenings/new');
    assert.equal(await page.locator('h1').innerText(), 'Screen a child');
    // Sending it unanswered names every question to answer.
    await page.getByRole('button', { name: 'Score and save' }).click();
    await page.waitForSelector('#q-afraid_to_go_home-error');
    assert.equal(await page.getByRole('alert').first().innerText(), 'Please correct the fields marked below.');
    await answerScreening(page, ['afraid_to_go_home']);
    await page.getByRole('button', { name: 'Score and save' }).click();
    await page.waitForURL(/\/welfare\/screenings\/\d+$/);
    assert.equal(await page.locator('#risk-level').innerText(), 'immediate danger');
    assert.match(await page.locator('.explanation').innerText(), /Red flag: the answer to “Is the child afraid to go home/);
    assert.match(await page.locator('#referral-status').innerText(), /Referred to the district's social services/);
    // The page fits a phone: nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the result page scrolls sideways by ${overflow}px on a phone`);
  });

  // 2. The social worker finds the alert, reads why it fired, and opens a case.
  await withPage(browser, server.url, 'welfare-social', async (page) => {
    await signIn(page, 'social.almaly');
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Child welfare' }).click();
    await page.getByRole('link', { name: /My alerts/ }).click();
    await page.waitForURL((u) => u.pathname === '/welfare/alerts');
    // Two rules fire: the screening's immediate danger without a case, and the
    // cross-pillar rule (a 14-month-old with no vaccination in a household at risk,
    // read from the immunization register of a district that records doses).
    const items = page.locator('article.alert-item', { hasText: family });
    assert.equal(await items.count(), 2, 'two alerts for the child');
    assert.ok(await items.filter({ hasText: 'Unvaccinated or long-overdue child in a household at risk' }).count() === 1,
      'the immunization rule fired');
    const item = items.filter({ hasText: 'Immediate danger without an open case' });
    assert.equal(await item.count(), 1);
    await item.getByRole('link').click();
    await page.waitForURL(/\/welfare\/alerts\/\d+$/);
    assert.match(await page.locator('#alert-explanation').innerText(), /found immediate danger, but no case is open/);

    await page.getByLabel('Physical abuse').check();
    await page.locator('#risk').selectOption('immediate_danger');
    await page.locator('#summary').fill('Девочка боится идти домой; соседи слышат крики по ночам.');
    await page.getByRole('button', { name: 'Open a case' }).click();
    await page.waitForURL(/\/welfare\/cases\/\d+$/);
    casePath = new URL(page.url()).pathname;
    assert.equal(await page.getByRole('status').first().innerText(), 'The case was opened.');
    assert.match(await page.locator('#response-status').innerText(), /^due by /);
    assert.equal(await page.locator('#case-summary').innerText(), 'Девочка боится идти домой; соседи слышат крики по ночам.');
    const caseOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(caseOverflow <= 1, `the case page scrolls sideways by ${caseOverflow}px on a phone`);

    // First response within the 24 hours, then the assessment starts.
    await page.locator('#response-note').fill('Визит в тот же вечер; ребёнок у бабушки.');
    await page.getByRole('button', { name: 'Record the first response' }).click();
    await page.waitForURL((u) => u.pathname === casePath);
    assert.equal(await page.locator('#response-status').innerText(), 'made on time');
    await page.locator('#to').selectOption('assessment');
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.waitForURL((u) => u.pathname === casePath);
    assert.equal(await page.locator('#case-state').innerText(), 'assessment');

    // A referral to health is refused until the mother's consent is recorded.
    await page.locator('#referrals summary').click();
    await page.locator('#to_agency').selectOption('health');
    await page.locator('#ref-service').selectOption('medical');
    await page.getByRole('button', { name: 'Refer to an agency' }).click();
    await page.waitForSelector('#to_agency-error');
    assert.match(await page.locator('#to_agency-error').innerText(), /consent/);
    await page.locator('#consent summary').click();
    await page.locator('#given_by').fill('Сейітова Гүлнар');
    await page.locator('#relation').selectOption('mother');
    await page.locator('#consent').getByLabel('Health').check();
    await page.getByRole('button', { name: 'Record consent' }).click();
    await page.waitForURL((u) => u.pathname === casePath);
    await page.locator('#referrals summary').click();
    await page.locator('#to_agency').selectOption('health');
    await page.locator('#ref-service').selectOption('medical');
    await page.locator('#ref-note').fill('Осмотр педиатра.');
    await page.getByRole('button', { name: 'Refer to an agency' }).click();
    await page.waitForURL((u) => u.pathname === casePath);
    const referral = page.locator('#referrals table tbody tr').first();
    assert.match(await referral.innerText(), /Health/);
    assert.match(await referral.innerText(), /sent/);
    // The polyclinic accepts.
    await referral.locator('select[name=action]').selectOption('accept');
    await referral.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL((u) => u.pathname === casePath);
    assert.match(await page.locator('#referrals table tbody tr').first().innerText(), /accepted/);

    // Closing is the supervisor's decision.
    assert.equal(await page.locator('#to option[value=closed]').count(), 0, 'a worker is not offered closure');
    const timeline = await page.locator('#timeline').innerText();
    for (const entry of ['Case registered', 'First response', 'Stage changed', 'Consent recorded', 'Referral sent', 'Referral answered']) {
      assert.match(timeline, new RegExp(entry), `the timeline shows "${entry}"`);
    }
  });

  // 3. The supervisor closes the case with a reason.
  await withPage(browser, server.url, 'welfare-supervisor', async (page) => {
    await signIn(page, 'supervisor.almaty');
    await page.goto(casePath);
    await page.locator('#to').selectOption('closed');
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.waitForSelector('#closure_reason-error');
    assert.match(await page.locator('#closure_reason-error').innerText(), /reason/);
    await page.locator('#to').selectOption('closed');
    await page.locator('#closure_reason').selectOption('no_protection_concern');
    await page.locator('#stage-note').fill('Ребёнок в безопасности, угрозы не подтвердились.');
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await page.waitForURL((u) => u.pathname === casePath);
    assert.equal(await page.locator('#case-state').innerText(), 'closed (no protection concern found)');
    assert.match(await page.locator('#timeline').innerText(), /Case closed/);
  });

  // 4. The nurse, who screened the child, cannot open the case.
  await withPage(browser, server.url, 'welfare-nurse-denied', async (page) => {
    await signIn(page, 'nurse.almaly');
    const response = await page.goto(casePath);
    assert.equal(response.status(), 403);
    await page.goto(childPath);
    assert.equal(await page.getByRole('link', { name: 'Open a case' }).count(), 0);
  });
});

test('a sensitive case offers no sharing; the supervisor sees caseloads and escalations', { timeout: TEST_TIMEOUT }, async () => {
  await withPage(browser, server.url, 'welfare-sensitive', async (page) => {
    await signIn(page, 'social.almaly');
    await page.goto('/welfare/cases');
    const sensitive = page.locator('#case-list tr', { hasText: 'sensitive' });
    assert.ok((await sensitive.count()) >= 1, 'the demo has a sensitive case');
    const href = await sensitive.first().locator('a').first().getAttribute('href');
    await page.goto(href);
    assert.equal(await page.locator('#sensitive-badge').innerText(), 'sensitive');
    assert.equal(await page.locator('#sharing').count(), 0, 'a sensitive case offers no sharing');
  });
  await withPage(browser, server.url, 'welfare-supervision', async (page) => {
    await signIn(page, 'supervisor.almaty');
    await page.goto('/welfare/supervision');
    assert.match(await page.locator('#caseload').innerText(), /Айгүл Қасымова/);
    assert.ok((await page.locator('#escalations tbody tr').count()) >= 1, 'the demo immediate-danger case is escalated');
  });
});
