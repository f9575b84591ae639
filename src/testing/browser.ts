import fs from 'node:fs/promises';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * A real browser for the console's tests: Debian's Chromium (installed by .ci/run), driven by
 * playwright-core. Screenshots go to test-artifacts/screenshots (not committed).
 */

export const CHROMIUM = process.env.VIGIL_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-artifacts', 'screenshots');

/** A phone's viewport (an iPhone 15's CSS pixels), and a laptop's. */
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

export async function chromiumAvailable(): Promise<boolean> {
  return fs
    .access(CHROMIUM)
    .then(() => true)
    .catch(() => false);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Tests run as root in CI, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export async function newPage(
  browser: Browser,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport,
    isMobile: viewport.width < 500,
    hasTouch: viewport.width < 500,
  });
  // What the page's Content-Security-Policy refused, and when the colour scheme was first set (while the
  // page was still 'loading' means by its inline script, before the console's code ran).
  await context.addInitScript(`
    window.__vigilCsp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__vigilCsp.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline')));
    new MutationObserver((records, observer) => {
      if (window.__vigilSchemeSetWhile) return observer.disconnect();
      window.__vigilSchemeSetWhile = document.readyState;
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-mantine-color-scheme'] });
  `);
  const page = await context.newPage();
  return { context, page };
}

/** What the page's Content-Security-Policy refused since it loaded (pages of newPage's context). */
export async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate('window.__vigilCsp ?? []')) as string[];
}

/** The document's readyState when the colour scheme was first set on it (pages of newPage's context). */
export async function colorSchemeSetWhile(page: Page): Promise<string | undefined> {
  return (await page.evaluate('window.__vigilSchemeSetWhile')) as string | undefined;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The serious and critical accessibility violations axe-core finds on the page, described. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await transitionsDone(page);
  const found = await axeProblems(page);
  if (found.length === 0) return found;
  // A toast that began to fade out while axe read it has half its contrast (seen in CI): a problem counts
  // when it is still there once the page is still.
  await transitionsDone(page);
  return axeProblems(page);
}

async function axeProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Waits (at most 2 s) for the page's running transitions and animations that end, not a spinner's loop. */
async function transitionsDone(page: Page): Promise<void> {
  // Run in the page, as text: this project's types describe Node, not the DOM.
  await page.evaluate(`Promise.race([
    Promise.all(document.getAnimations()
      .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
      .map((a) => a.finished.catch(() => undefined))),
    new Promise((resolve) => setTimeout(resolve, 2000)),
  ])`);
}

/** Whether the page scrolls sideways (it must not, on a phone). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  // Run in the page, as text: this project's types describe Node, not the DOM.
  return page.evaluate(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth + 1',
  ) as Promise<boolean>;
}

/** Fails with what to do when the browser is missing (a skipped browser test would prove nothing). */
export async function requireChromium(): Promise<void> {
  if (!(await chromiumAvailable())) {
    throw new Error(
      `Chromium is not at ${CHROMIUM}: install it (apt-get install -y chromium), as .ci/run does, or set VIGIL_TEST_CHROMIUM.`,
    );
  }
}

/** Signs in through the console's own page, as a person does, and waits for the alert list. */
export async function signInWithPassword(
  page: Page,
  baseUrl: string,
  email: string,
  password: string,
  path = '/alerts',
): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.getByRole('textbox', { name: /^Email/ }).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Alerts' }).waitFor();
}

/**
 * Audits pages as a suite goes (axe-core's serious and critical findings, and a screenshot each), so that
 * one page's problem does not hide another's: the suite checks `problems()` once at the end.
 */
export function pageAudits(screenshotPrefix = '') {
  const found: Record<string, string[]> = {};
  return {
    async audit(page: Page, name: string): Promise<void> {
      await page.waitForLoadState('networkidle');
      found[name] = await accessibilityProblems(page);
      await screenshot(page, `${screenshotPrefix}${name}`);
    },
    /** The names of the pages audited so far. */
    audited: (): string[] => Object.keys(found),
    /** Each audited page that had a problem, with its problems. */
    problems: (): [string, string[]][] => Object.entries(found).filter(([, list]) => list.length > 0),
  };
}
