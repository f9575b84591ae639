import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { pageAudits } from '../../src/testing/browser.js';
import { waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import { startConsoleSession, type ConsoleSession } from '../../src/testing/console-session.js';

/**
 * An Email integration's actions in the console, in a real browser against the real server and its SMTP
 * listener: only the create and ignore lists are shown; a create action added through the form with "Attach
 * the email's files to the alert" is stored with appendAttachments (the lists not shown are kept), a mail
 * sent to the integration then puts its file on the alert, and a reload shows the box ticked. An API
 * integration's create action edited through the form keeps every field the form does not show.
 * Screenshots: test-artifacts/screenshots/email-actions-*.png.
 */

const DOMAIN = 'alerts.example.com';
const ATTACH_LABEL = /^Attach the email’s files to the alert/;

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
let teamId: string;
let emailIntegration: { id: string; username: string };
const { audit, audited, problems } = pageAudits('email-actions-');

const made = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

const actionsOf = async (integrationId: string): Promise<Json> =>
  (await made('GET', `/v2/integrations/${integrationId}/actions`)).data;

async function sendMail(subject: string, file: { filename: string; content: string }): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.app.smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await transport.sendMail({
      from: 'backups@example.org',
      to: `${emailIntegration.username}@${DOMAIN}`,
      subject,
      text: 'See the log attached.',
      attachments: [file],
    });
  } finally {
    transport.close();
  }
}

before(async () => {
  session = await startConsoleSession({
    VIGIL_INBOUND_SMTP_PORT: '0',
    VIGIL_INBOUND_SMTP_HOST: '127.0.0.1',
    VIGIL_INBOUND_EMAIL_DOMAIN: DOMAIN,
  });
  ({ server, page } = session);
  assert.ok(server.app.smtpPort, 'the SMTP listener runs');
  teamId = (await made('POST', '/v2/teams', { name: 'Storage' })).data.id;
  const email = await made('POST', '/v2/integrations', {
    type: 'Email',
    name: 'Storage mail',
    ownerTeam: { id: teamId },
    emailUsername: 'storage-alerts',
    enabled: true,
  });
  emailIntegration = { id: email.data.id, username: 'storage-alerts' };
});

after(async () => {
  await session?.stop();
});

describe('an Email integration’s actions in the console', () => {
  it('shows only the create and ignore lists, and says what an email is', async () => {
    await page.goto(`${server.url}/integrations/${emailIntegration.id}`);
    const section = page.getByRole('region', { name: 'Actions' });
    await section.getByRole('listitem', { name: 'Create Alert' }).waitFor();
    assert.deepEqual(await section.getByRole('heading', { level: 3 }).allTextContents(), [
      'Create',
      'Ignore',
    ]);
    await section
      .getByText('An email is a create request: its subject is the message, its sender the source')
      .waitFor();
    await section
      .getByText('Close, acknowledge and add-note actions do not apply to email.', { exact: false })
      .waitFor();
  });

  it('adds a create action that attaches the email’s files, and the next mail’s file is on its alert', async () => {
    const section = page.getByRole('region', { name: 'Actions' });
    await section.getByRole('button', { name: 'Add create action' }).click();
    const form = section.getByRole('form', { name: 'New create action' });
    await form.getByRole('textbox', { name: /^Action name/ }).fill('Attach files');
    const attach = form.getByRole('checkbox', { name: ATTACH_LABEL });
    assert.equal(await attach.isChecked(), false, 'off by default, as Opsgenie’s appendAttachments is');
    await attach.check();
    await audit(page, 'desktop-new-create-action');
    await form.getByRole('button', { name: 'Save action' }).click();
    await page.getByText('Attach files is added.').waitFor();
    // Added last, behind the default match-all action; first is where it decides.
    await section.getByRole('button', { name: 'Move Attach files up' }).click();
    await page.getByText('Attach files is now 1.').waitFor();

    const actions = await actionsOf(emailIntegration.id);
    assert.deepEqual(
      actions.create.map((a: Json) => [a.name, a.appendAttachments === true]),
      [
        ['Attach files', true],
        ['Create Alert', false],
      ],
    );
    assert.equal(actions.create[0].message, '{{message}}', 'the form’s default passes the subject through');
    assert.deepEqual(
      [actions.close, actions.acknowledge, actions.addNote].map((list: Json[]) => list.map((a) => a.name)),
      [['Close Alert'], ['Acknowledge Alert'], ['Add Note to Alert']],
      'the lists the page does not show are saved as they were',
    );

    await sendMail('Nightly backup failed', { filename: 'backup.log', content: 'disk full at 03:00' });
    const alertId = await waitFor('the mail’s alert', async () => {
      const logged = (await made('GET', `/v2/integrations/${emailIntegration.id}/payloads?limit=10`))
        .data as Json[];
      return logged[0]?.verdict === 'created' ? (logged[0].alertIds[0] as string) : false;
    });
    assert.equal((await made('GET', `/v2/alerts/${alertId}`)).data.message, 'Nightly backup failed');
    const files = (await made('GET', `/v2/alerts/${alertId}/attachments`)).data as Json[];
    assert.deepEqual(
      files.map((f) => f.name),
      ['backup.log'],
    );
  });

  it('shows the stored choice again after a reload', async () => {
    await page.reload();
    const item = page
      .getByRole('region', { name: 'Actions' })
      .getByRole('listitem', { name: 'Attach files' });
    await item.getByText('The email’s attached files go on the alert.').waitFor();
    assert.equal(
      await page.getByRole('listitem', { name: 'Create Alert' }).getByText('attached files').count(),
      0,
      'only the action that attaches says so',
    );
    await item.getByRole('button', { name: 'Edit Attach files' }).click();
    const form = item.getByRole('form', { name: 'Edit the action Attach files' });
    assert.equal(await form.getByRole('checkbox', { name: ATTACH_LABEL }).isChecked(), true);
    await audit(page, 'desktop-edit-create-action');
    await form.getByRole('checkbox', { name: ATTACH_LABEL }).uncheck();
    await form.getByRole('button', { name: 'Save action' }).click();
    await page.getByText('Attach files is saved.').waitFor();
    assert.equal((await actionsOf(emailIntegration.id)).create[0].appendAttachments, false);
  });

  it('keeps an API integration’s create action whole when its form saves, and shows it no attach box', async () => {
    const api = await made('POST', '/v2/integrations', {
      type: 'API',
      name: 'Storage API',
      ownerTeam: { id: teamId },
    });
    const apiId = api.data.id as string;
    await made('PUT', `/v2/integrations/${apiId}/actions`, {
      create: [
        {
          name: 'Shaped',
          alias: 'storage-{{alias}}',
          message: '{{message}}',
          entity: 'db-1',
          source: 'backups',
          priority: 'P2',
          tags: ['storage'],
          extraProperties: { runbook: 'https://runbooks.example.com/backups' },
          alertActions: ['Restart backup'],
          appendAttachments: true,
          ignoreTagsFromPayload: true,
          ignoreExtraPropertiesFromPayload: true,
          filter: {
            conditionMatchType: 'match-any-condition',
            conditions: [{ field: 'message', operation: 'contains', expectedValue: 'backup' }],
          },
        },
      ],
      close: [{ name: 'Close backups', note: 'closed by {{user}}' }],
    });
    const stored = await actionsOf(apiId);

    await page.goto(`${server.url}/integrations/${apiId}`);
    const item = page.getByRole('region', { name: 'Actions' }).getByRole('listitem', { name: 'Shaped' });
    await item.getByRole('button', { name: 'Edit Shaped' }).click();
    const form = item.getByRole('form', { name: 'Edit the action Shaped' });
    assert.equal(await form.getByRole('checkbox', { name: ATTACH_LABEL }).count(), 0);
    assert.ok(await page.getByRole('heading', { name: 'Close', level: 3 }).isVisible(), 'all five lists');
    await form.getByRole('textbox', { name: /^Message/ }).fill('[storage] {{message}}');
    await form.getByRole('button', { name: 'Save action' }).click();
    await page.getByText('Shaped is saved.').waitFor();

    const saved = await actionsOf(apiId);
    assert.deepEqual(saved, {
      ...stored,
      create: [{ ...stored.create[0], message: '[storage] {{message}}' }],
    });
  });

  it('found no serious accessibility problem on any view audited', () => {
    assert.deepEqual(audited(), ['desktop-new-create-action', 'desktop-edit-create-action']);
    assert.deepEqual(problems(), []);
  });
});
