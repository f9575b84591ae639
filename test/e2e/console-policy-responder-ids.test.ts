import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type Json, type TestServer, waitFor } from '../../src/testing/harness.js';
import { startConsoleSession, type ConsoleSession } from '../../src/testing/console-session.js';

/**
 * An alert policy whose responders were given by id only (as Terraform's opsgenie_alert_policy sends
 * them: `{type: 'user', id}`), in a real browser against the real server: the list names each responder
 * (the person by username, the team, escalation and schedule by name), the edit form shows the person,
 * and a change elsewhere in the form saves with every responder kept.
 */

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
let teamId: string;
const ids: Record<'user' | 'team' | 'escalation' | 'schedule', string> = {
  user: '',
  team: '',
  escalation: '',
  schedule: '',
};
const PERSON = 'responder.person@example.com';

const made = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

before(async () => {
  session = await startConsoleSession();
  ({ server, page } = session);
  teamId = (await made('POST', '/v2/teams', { name: 'Payments' })).data.id;
  ids.team = (await made('POST', '/v2/teams', { name: 'Databases' })).data.id;
  ids.user = (
    await made('POST', '/v2/users', { username: PERSON, fullName: 'Rita Responder', role: { name: 'User' } })
  ).data.id;
  ids.escalation = (
    await made('POST', '/v2/escalations', {
      name: 'Backstop',
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: PERSON },
        },
      ],
    })
  ).data.id;
  ids.schedule = (
    await made('POST', '/v2/schedules', {
      name: 'Weekday rota',
      timezone: 'UTC',
      rotations: [
        {
          name: 'Weekly',
          startDate: '2026-01-05T09:00:00Z',
          type: 'weekly',
          participants: [{ type: 'user', username: PERSON }],
        },
      ],
    })
  ).data.id;
  await made('POST', `/v2/policies?teamId=${teamId}`, {
    type: 'alert',
    name: 'Page by ids',
    responders: (['user', 'team', 'escalation', 'schedule'] as const).map((type) => ({
      type,
      id: ids[type],
    })),
  });
});

after(async () => {
  await session?.stop();
});

const storedResponders = async (): Promise<Json[]> => {
  const [summary] = (await made('GET', `/v2/policies/alert?teamId=${teamId}`)).data as Json[];
  return (await made('GET', `/v2/policies/${summary.id}?teamId=${teamId}`)).data.responders as Json[];
};

describe('an alert policy whose responders were given by id', () => {
  it('names each responder in the list', async () => {
    await page.goto(`${server.url}/teams/${teamId}/policies`);
    const item = page.getByRole('listitem', { name: 'Page by ids' });
    await item
      .getByText(`responders + ${PERSON}, Databases, Backstop, Weekday rota`, { exact: false })
      .waitFor();
  });

  it('shows the person in the edit form, and saves a rename with every responder kept', async () => {
    const item = page.getByRole('listitem', { name: 'Page by ids' });
    await item.getByRole('button', { name: 'Edit Page by ids' }).click();
    const person = item.getByLabel(/^Person \(email\)/);
    await person.waitFor();
    // Looked up once the form opens: blank, it is required and blocks the save.
    await waitFor(
      `the person field to show ${PERSON}`,
      async () => (await person.inputValue()) === PERSON,
      15_000,
    );
    await item.getByRole('textbox', { name: /^Policy name/ }).fill('Page by ids, renamed');
    await item.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Page by ids, renamed is saved.').waitFor();
    const responders = await storedResponders();
    assert.deepEqual(
      responders.map((r) => [r.type, r.id]),
      [
        ['user', ids.user],
        ['team', ids.team],
        ['escalation', ids.escalation],
        ['schedule', ids.schedule],
      ],
      JSON.stringify(responders),
    );
  });
});
