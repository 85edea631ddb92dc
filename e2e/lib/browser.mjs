// Headless Debian Chromium through playwright-core (which never downloads a
// browser), plus small helpers shared by the test files.

import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(E2E_DIR, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/** The password of every demo account (crates/bala-cli/src/demo.rs). */
export const DEMO_PASSWORD = 'demo-Bala-2026';

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with 'apt-get install -y chromium'`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

function slug(s) {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100);
}

/**
 * Runs `fn(page, context)` in a fresh browser context (its own cookies) with the
 * given locale. On failure, saves a screenshot and the page's HTML into
 * e2e/test-results/ and rethrows.
 */
export async function withPage(browser, baseURL, name, fn, { locale = 'en-US' } = {}) {
  const context = await browser.newContext({ baseURL, locale });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  try {
    await fn(page, context);
  } catch (err) {
    try {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const base = join(RESULTS_DIR, `${slug(name)}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5_000 });
      writeFileSync(`${base}.html`, `<!-- ${page.url()} -->\n${await page.content()}`);
      err.message += `\n(screenshot: ${base}.png, page at ${page.url()})`;
    } catch (shotErr) {
      err.message += `\n(no screenshot: ${shotErr.message})`;
    }
    throw err;
  } finally {
    await context.close();
  }
}

/** An ISO date `days` days before today (UTC, as the server counts). */
export function daysAgo(days) {
  const d = new Date(Date.now() - days * 24 * 3600 * 1000);
  return d.toISOString().slice(0, 10);
}

/** Fills the login form and submits it; does not check the outcome. */
export async function submitLogin(page, username, password = DEMO_PASSWORD) {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('form[action="/login"] button[type="submit"]').click();
}
