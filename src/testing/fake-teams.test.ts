import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeTeams, type FakeTeams } from './fake-teams.js';

/** The fake Teams workflow accepts an Adaptive Card message with 202 and refuses anything else. */

let fake: FakeTeams;

before(async () => {
  fake = await startFakeTeams();
});

after(async () => {
  await fake?.close();
});

const card = {
  type: 'message',
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'hi' }] },
    },
  ],
};

function post(body: unknown, url = fake.url): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('the fake Teams workflow', () => {
  it('accepts a message with an Adaptive Card with 202 and records it', async () => {
    const answer = await post(card);
    assert.equal(answer.status, 202);
    assert.equal(fake.posts.length, 1);
    assert.equal(fake.posts[0]?.card.version, '1.4');
  });

  it('refuses what is not such a message, and unknown workflows', async () => {
    const wrong = [
      { ...card, type: 'card' },
      { ...card, attachments: [] },
      { ...card, attachments: [{ ...card.attachments[0], contentType: 'application/json' }] },
      {
        ...card,
        attachments: [{ ...card.attachments[0], content: { type: 'HeroCard', version: '1.4', body: [] } }],
      },
      { ...card, attachments: [{ ...card.attachments[0], content: { type: 'AdaptiveCard', body: [] } }] },
    ];
    for (const body of wrong) assert.equal((await post(body)).status, 400, JSON.stringify(body));
    assert.equal((await post(card, fake.url.replace('/workflows/', '/workflows/x'))).status, 404);
    assert.equal(fake.posts.length, 1);
  });

  it('fails the next post as scripted', async () => {
    fake.failNext(429);
    const limited = await post(card);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal((await post(card)).status, 202);
  });
});
