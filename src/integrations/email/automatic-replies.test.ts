import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { whyAutomaticReply } from './automatic-replies.js';

/** The reason for a message of these header lines, read by the same parser as the intake's. */
async function reasonFor(
  headerLines: string[],
  mailFrom = 'monitor@example.org',
): Promise<string | undefined> {
  const raw = [...headerLines, 'From: someone@example.org', 'Subject: x', '', 'body', ''].join('\r\n');
  const parsed = await simpleParser(Buffer.from(raw));
  return whyAutomaticReply(parsed.headers, mailFrom);
}

describe('mail that answers mail', () => {
  it('is a bounce, an automatic reply or a page of Vigil come back', async () => {
    assert.match((await reasonFor([], '')) ?? '', /a bounce/);
    assert.match(
      (await reasonFor(['Content-Type: multipart/report; report-type=delivery-status; boundary="b"'])) ?? '',
      /a bounce/,
    );
    assert.match((await reasonFor(['Auto-Submitted: auto-replied (vacation)'])) ?? '', /automatic reply/);
    assert.match((await reasonFor(['Auto-Submitted: auto-notified'])) ?? '', /automatic reply/);
    // A repeated header is a list to the parser: any of its values counts.
    assert.match(
      (await reasonFor(['Auto-Submitted: no', 'Auto-Submitted: auto-replied'])) ?? '',
      /automatic reply/,
    );
    assert.match((await reasonFor(['X-Autoreply: yes'])) ?? '', /automatic reply/);
    assert.match((await reasonFor(['Precedence: auto_reply'])) ?? '', /automatic reply/);
    assert.match((await reasonFor(['X-Vigil-Alert-Id: 5b1c'])) ?? '', /Vigil's own pages/);
  });

  it('is not mail a machine sends on its own, nor mail that only asks others not to reply', async () => {
    for (const headers of [
      [],
      ['Auto-Submitted: auto-generated'],
      ['Auto-Submitted: no'],
      ['Precedence: bulk'],
      ['X-Auto-Response-Suppress: All'],
      ['Content-Type: multipart/mixed; boundary="b"'],
    ])
      assert.equal(await reasonFor(headers), undefined, headers.join(', '));
  });
});
