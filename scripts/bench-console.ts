/**
 * The console's weight and time to interactive with many alerts in the database, in Debian's Chromium
 * (headless, through playwright-core), against the real server. Each main page is loaded cold (a new
 * browser context: nothing cached), warm (the same context again: the files cached) and warm again (a
 * third time: the compiled code cached too) `--runs` times; "interactive" is
 * when the page's main content is on screen and usable (the alert list's first row, the alert's action
 * bar, the teams list, the schedules), read from the page's own clock since navigation start at the
 * moment that content entered the document (a MutationObserver the page gets before its own scripts);
 * Playwright's waiting only decides when to read it, so its round trips are not counted. The baseline
 * is the same browser loading /healthz (a JSON answer, no script) from the same server, read the same way.
 *
 *   npm run bench:console [-- --alerts 10000 --runs 5]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newPage, signInWithPassword, DESKTOP } from '../src/testing/browser.js';
import { arg, startBenchApp } from './lib/bench-app.js';
import { percentile, reportBench, type BenchRow } from './lib/report.js';

const alertCount = arg('alerts', 10_000);
const runs = arg('runs', 5);
const ADMIN = { email: 'bench@example.com', password: 'a bench password of some length' };

const { app, key, work } = await startBenchApp('console', {
  env: { VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email, VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password },
});
const base = app.url ?? '';
const headers = { authorization: `GenieKey ${key}`, 'content-type': 'application/json' };

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { data: unknown };
}

/** Alerts through the API, 20 at a time, as senders make them. */
async function makeAlerts(n: number): Promise<void> {
  let made = 0;
  const started = Date.now();
  const worker = async () => {
    while (made < n) {
      const i = made++;
      await call('POST', '/v2/alerts', {
        message: `bench alert ${i}: disk usage above 90% on web-${i % 97}`,
        alias: `bench-${i}`,
        priority: (['P1', 'P2', 'P3', 'P4', 'P5'] as const)[i % 5],
        tags: ['bench', `host-${i % 97}`],
        details: { host: `web-${i % 97}`, usage: '93%' },
        source: 'bench',
      });
      if (made % 1000 === 0)
        process.stdout.write(`\r  ${made} alerts (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  process.stdout.write('\n');
}

interface Load {
  ms: number;
  bytes: number;
}

/** When a page's main content is there, found two ways. */
interface Ready {
  /** A function body given `document`, run in the page at each change of the document: true once it is there. */
  inPage: string;
  /** The same content as Playwright's locators find it, checked after the page's moment is read. */
  wait: (page: Page) => Promise<unknown>;
}

/**
 * Makes the pages of `context` note (in `window.__benchReady`) the first moment `ready` held, on their own
 * clock: a MutationObserver set before any of the page's scripts runs, so no polling delay is counted.
 */
async function noteReady(context: BrowserContext, ready: Ready): Promise<void> {
  await context.addInitScript(`
    (() => {
      const holds = (document) => { ${ready.inPage} };
      const observer = new MutationObserver(() => {
        if (window.__benchReady === undefined && holds(document)) {
          window.__benchReady = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
    })();
  `);
}

/** Loads `path` and waits for `ready`; the time since navigation start on the page's clock, and bytes. */
async function load(page: Page, path: string, ready: Ready): Promise<Load> {
  await page.goto(base + path, { waitUntil: 'commit' });
  // Polled cheaply: Playwright's own role queries, run at every frame while the page loads, took the
  // page's main thread from it (a tenth of its CPU in a profile of the alert list).
  const noted = await page
    .waitForFunction(() => (globalThis as { __benchReady?: number }).__benchReady, undefined, {
      polling: 50,
      timeout: 60_000,
    })
    .catch((error: unknown) => {
      throw new Error(`${path}: the page's own check (Ready.inPage) never held`, { cause: error });
    });
  const ms = (await noted.jsonValue()) as number;
  // So that the page's own check cannot drift from what a person sees.
  await ready.wait(page);
  const bytes = (await page.evaluate(
    `performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
       .reduce((sum, e) => sum + (e.transferSize || 0), 0)`,
  )) as number;
  return { ms, bytes };
}

async function measure(browser: Browser, path: string, ready: Ready) {
  const cold: Load[] = [];
  const warm: Load[] = [];
  const compiled: Load[] = [];
  for (let i = 0; i < runs; i++) {
    const { context, page } = await newPage(browser, DESKTOP);
    await signInWithPassword(page, base, ADMIN.email, ADMIN.password, '/sign-in');
    // The sign-in loaded the console's files into this context's cache: a new context for the cold load.
    const fresh = await browser.newContext({ viewport: DESKTOP, storageState: await context.storageState() });
    await noteReady(fresh, ready);
    const coldPage = await fresh.newPage();
    cold.push(await load(coldPage, path, ready));
    warm.push(await load(coldPage, path, ready));
    // Chromium keeps a script's compiled code from its second load on, for the loads after it: the third
    // is what a person who keeps coming back to the console gets.
    compiled.push(await load(coldPage, path, ready));
    await fresh.close();
    await context.close();
  }
  return { cold, warm, compiled };
}

const median = (values: number[]) => percentile(values, 50);

try {
  console.log(`making ${alertCount} alerts through the API ...`);
  await makeAlerts(alertCount);
  await call('POST', '/v2/teams', { name: 'Bench team' });
  await call('POST', '/v2/schedules', {
    name: 'Bench primary',
    timezone: 'UTC',
    ownerTeam: { name: 'Bench team' },
    rotations: [
      {
        name: 'Weekly',
        startDate: '2026-01-05T09:00:00Z',
        type: 'weekly',
        participants: [{ type: 'user', username: ADMIN.email }],
      },
    ],
  });
  const someAlert =
    ((await call('GET', '/v2/alerts?limit=1')).data as { id: string }[])[0]?.id ?? randomUUID();

  const browser = await launchBrowser();
  try {
    const baseline: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { context, page } = await newPage(browser, DESKTOP);
      const healthy: Ready = {
        inPage: `return Boolean(document.body && document.body.textContent.includes('ok'));`,
        wait: (p) => p.getByText('ok').first().waitFor(),
      };
      await noteReady(context, healthy);
      baseline.push((await load(page, '/healthz', healthy)).ms);
      await context.close();
    }
    // Each page's main content, found the same way in the page (the first moment) and by Playwright.
    const linkNamed = (pattern: string) =>
      `return [...document.querySelectorAll('a')].some((a) => /${pattern}/.test(a.textContent));`;
    const pages: [string, string, Ready][] = [
      [
        'the alert list',
        '/alerts',
        {
          inPage: linkNamed('bench alert'),
          wait: (p) =>
            p
              .getByRole('link', { name: /bench alert/ })
              .first()
              .waitFor(),
        },
      ],
      [
        'an alert',
        `/alerts/${someAlert}`,
        {
          inPage: `return document.querySelector('[role="toolbar"][aria-label="Alert actions"]') !== null;`,
          wait: (p) => p.getByRole('toolbar', { name: 'Alert actions' }).waitFor(),
        },
      ],
      [
        'teams',
        '/teams',
        {
          inPage: linkNamed('Bench team'),
          wait: (p) => p.getByRole('link', { name: 'Bench team' }).first().waitFor(),
        },
      ],
      [
        'on-call',
        '/on-call',
        {
          inPage: `return [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].some((h) => h.textContent.includes('Bench primary'));`,
          wait: (p) => p.getByRole('heading', { name: 'Bench primary' }).waitFor(),
        },
      ],
    ];
    const rows: BenchRow[] = [];
    const baselineRow = {
      label: 'the same browser loading /healthz, median',
      value: Math.round(median(baseline)),
      unit: 'ms',
    };
    for (const [name, path, ready] of pages) {
      console.log(`loading ${name} ${runs} times cold and warm ...`);
      const { cold, warm, compiled } = await measure(browser, path, ready);
      rows.push({
        measure: `console: ${name} interactive, cold (nothing cached), median of ${runs}, ${alertCount} alerts`,
        value: Math.round(median(cold.map((l) => l.ms))),
        unit: 'ms',
        baseline: baselineRow,
        target: '≤ 200 ms',
        met: alertCount >= 10_000 ? median(cold.map((l) => l.ms)) <= 200 : undefined,
      });
      rows.push({
        measure: `console: ${name} interactive, warm (files cached), median of ${runs}`,
        value: Math.round(median(warm.map((l) => l.ms))),
        unit: 'ms',
        baseline: baselineRow,
      });
      rows.push({
        measure: `console: ${name} interactive, warm again (files and compiled code cached), median of ${runs}`,
        value: Math.round(median(compiled.map((l) => l.ms))),
        unit: 'ms',
        baseline: baselineRow,
      });
      rows.push({
        measure: `console: ${name} weight, cold (bytes over the wire)`,
        value: Math.round(median(cold.map((l) => l.bytes)) / 1024),
        unit: 'KiB',
      });
    }
    for (const row of rows) console.log(`  ${row.measure}: ${row.value} ${row.unit}`);
    reportBench('console', rows);
  } finally {
    await browser.close();
  }
} finally {
  await app.stop();
  await fs.rm(work, { recursive: true, force: true });
}
