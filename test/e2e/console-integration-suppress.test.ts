import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { pageAudits } from '../../src/testing/browser.js';
import { type Json, type TestServer } from '../../src/testing/harness.js';
import { startConsoleSession, type ConsoleSession } from '../../src/testing/console-session.js';

/**
 * An integration's "Suppress notifications" switch in the console, in a real browser against the real
 * server: it shows the stored setting, switching it stores suppressNotifications at once (and back), and a
 * reload shows what is stored. A Webhook integration, which creates no alerts, has no such switch.
 * Screenshots: test-artifacts/screenshots/integration-suppress-*.png.
 */

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
let teamId: string;
let apiId: string;
const { audit, audited, problems } = pageAudits('integration-suppress-');

const made = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);
const stored = async (id: string): Promise<boolean> =>
  (await made('GET', `/v2/integrations/${id}`)).data.suppressNotifications;

before(async () => {
  session = await startConsoleSession({ VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' });
  ({ server, page } = session);
  teamId = (await made('POST', '/v2/teams', { name: 'Storage' })).data.id;
  apiId = (
    await made('POST', '/v2/integrations', { type: 'API', name: 'Storage API', ownerTeam: { id: teamId } })
  ).data.id;
});

after(async () => {
  await session?.stop();
});

describe('the Suppress notifications switch of an integration', () => {
  it('stores the setting when switched, and a reload shows it', async () => {
    await page.goto(`${server.url}/integrations/${apiId}`);
    const toggle = page.getByRole('switch', { name: 'Suppress notifications' });
    await toggle.waitFor();
    assert.equal(await toggle.isChecked(), false, 'off, as stored');

    await toggle.click();
    await page.getByText('Its alerts notify nobody from now on.').waitFor();
    assert.equal(await stored(apiId), true);
    await page.getByText('Alerts it creates are made and shown, but nobody is notified of them.').waitFor();
    await audit(page, 'desktop-on');

    await page.reload();
    const again = page.getByRole('switch', { name: 'Suppress notifications' });
    await again.waitFor();
    assert.equal(await again.isChecked(), true, 'on after a reload');

    await again.click();
    await page.getByText('Its alerts notify their responders again.').waitFor();
    assert.equal(await stored(apiId), false);
  });

  it('is not offered for a Webhook integration, which creates no alerts', async () => {
    const webhook = await made('POST', '/v2/integrations', {
      type: 'Webhook',
      name: 'Storage hook',
      ownerTeam: { id: teamId },
      webhookUrl: 'http://127.0.0.1:9/hook',
    });
    await page.goto(`${server.url}/integrations/${webhook.data.id}`);
    await page.getByRole('switch', { name: /The integration is/ }).waitFor();
    assert.equal(await page.getByRole('switch', { name: 'Suppress notifications' }).count(), 0);
  });

  it('found no serious accessibility problem on any view audited', () => {
    assert.deepEqual(audited(), ['desktop-on']);
    assert.deepEqual(problems(), []);
  });
});
