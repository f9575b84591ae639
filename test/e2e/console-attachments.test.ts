import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  accessibilityProblems,
  DESKTOP,
  launchBrowser,
  newPage,
  requireChromium,
  screenshot,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { ATTACHMENT_LINK_PATH } from '../../src/alerts/attachments/links.js';
import { startTestServer, type Json, type TestServer } from '../../src/testing/harness.js';
import { freePort } from '../../src/testing/network.js';

/**
 * The alert page's attachments in a real browser (Debian's Chromium) against the real server: a file
 * chosen with the Attach button is uploaded as a form and listed, its download (through the signed link)
 * saves the very bytes (also when the link names another origin and a proxy's path) or, refused, says
 * why on the page, the alert's log says who added it, and deleting it (asked twice) empties the list.
 * Screenshot: test-artifacts/screenshots/alert-attachments.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

let server: TestServer;
let browser: Browser;

before(async () => {
  await requireChromium();
  const port = await freePort();
  server = await startTestServer({
    env: {
      PORT: String(port),
      VIGIL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('attachments on the alert page', () => {
  it('are attached, downloaded byte for byte and deleted', async () => {
    const alias = `console-attach-${randomUUID()}`;
    await server.callOk('POST', '/v2/alerts', { message: 'Backup failed on db-1', alias });
    const id = (await server.callOk('GET', `/v2/alerts/${alias}?identifierType=alias`)).data.id as string;
    const bytes = randomBytes(5000);

    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.goto(`${server.url}/alerts/${id}`);
      await page.getByRole('heading', { name: 'Attachments' }).waitFor();
      await page.getByText('No attachments.').waitFor();

      const chooser = page.waitForEvent('filechooser');
      await page.getByRole('button', { name: 'Attach a file' }).click();
      await (await chooser).setFiles({ name: 'backup.log', mimeType: 'text/plain', buffer: bytes });
      const downloadButton = page.getByRole('button', { name: 'Download backup.log' });
      await downloadButton.waitFor();
      const listed = await server.callOk('GET', `/v2/alerts/${id}/attachments`);
      assert.deepEqual(
        listed.data.map((a: Json) => a.name),
        ['backup.log'],
      );
      await page.getByText(/^Attachment backup\.log \(5000 bytes\) added by /).waitFor();

      // Refused (Vigil busy reading other files): said on the page, which stays the alert's.
      const alertPage = page.url();
      const busy = 'Vigil is reading as many attachments as it reads at once: try again shortly.';
      await page.route(`**${ATTACHMENT_LINK_PATH}**`, (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({ message: busy }),
        }),
      );
      await downloadButton.click();
      await page.getByText(busy).waitFor();
      assert.equal(page.url(), alertPage);
      await page.unroute(`**${ATTACHMENT_LINK_PATH}**`);

      // The link as Vigil behind a proxy names it (another origin, a path the proxy takes off): the
      // console asks its own Vigil for it.
      const metadata = `**/v2/alerts/${id}/attachments/*`;
      await page.route(metadata, async (route) => {
        const response = await route.fetch();
        const json = await response.json();
        const link = new URL(json.data.url);
        json.data.url = `https://vigil.example.com/behind-a-proxy${link.pathname}${link.search}`;
        await route.fulfill({ response, json });
      });
      const download = page.waitForEvent('download');
      await downloadButton.click();
      const saved = await (await download).path();
      assert.ok((await fs.readFile(saved)).equals(bytes), 'the downloaded file is the uploaded one');
      assert.equal((await download).suggestedFilename(), 'backup.log');
      await page.unroute(metadata);

      assert.deepEqual(await accessibilityProblems(page), []);
      await screenshot(page, 'alert-attachments');

      await page.getByRole('button', { name: 'Delete backup.log' }).click();
      await page
        .getByRole('group', { name: 'Delete backup.log?' })
        .getByRole('button', { name: 'Delete' })
        .click();
      await page.getByText('No attachments.').waitFor();
      assert.deepEqual((await server.callOk('GET', `/v2/alerts/${id}/attachments`)).data, []);
      await page.getByText(/^Attachment backup\.log removed by /).waitFor();
    } finally {
      await context.close();
    }
  });
});
