import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * A refusal tells the operator that every action `vigil aws` calls is in docs/securityhub.md#permissions
 * (aws-errors.ts): so every AWS SDK command the setup, check and teardown code sends, and the role it
 * assumes into each --account-role, must be in that list. Vigil's own lookup of its identity
 * (vigil-principal.ts) runs with Vigil's credentials, not the operator's, and is documented apart.
 */

/** The AWS SDK package of a client, and the IAM action prefix of its service. */
const SERVICE_OF: Record<string, string> = {
  eventbridge: 'events',
  iam: 'iam',
  securityhub: 'securityhub',
  sns: 'sns',
  sts: 'sts',
};
const NOT_THE_OPERATORS = new Set(['vigil-principal.ts']);

/** This directory's sources (the build links each .ts beside its JavaScript). */
async function sourceDir(): Promise<string> {
  return path.dirname(await fs.realpath(fileURLToPath(new URL('./teardown.ts', import.meta.url))));
}

/** The IAM actions the operator's identity is asked to allow by the code: SDK commands it imports. */
async function actionsCalled(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of await fs.readdir(dir)) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts') || NOT_THE_OPERATORS.has(file)) continue;
    const text = await fs.readFile(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([\w-]+)'/g)) {
      const service = SERVICE_OF[m[2] ?? ''];
      assert.ok(service, `${file} imports @aws-sdk/client-${m[2]}: say its IAM prefix here`);
      for (const name of (m[1] ?? '').split(',').map((n) => n.trim()))
        if (/^\w+Command$/.test(name)) found.set(`${service}:${name.slice(0, -'Command'.length)}`, file);
    }
    // The credentials of a member account come from assuming the --account-role.
    if (/\bfromTemporaryCredentials\(/.test(text)) found.set('sts:AssumeRole', file);
  }
  return found;
}

/** docs/securityhub.md's list: `sns:CreateTopic`, `GetTopicAttributes` … (a prefix holds until the next). */
function documented(markdown: string): Set<string> {
  const start = markdown.indexOf('### Permissions');
  assert.notEqual(start, -1, 'docs/securityhub.md has a Permissions section');
  const rest = markdown.slice(start + 1);
  const section = rest.slice(0, rest.search(/\n#{2,3} /));
  const listed = new Set<string>();
  let prefix = '';
  for (const [, token] of section.matchAll(/`([\w:-]+)`/g)) {
    if (!token) continue;
    if (token.includes(':')) {
      prefix = token.split(':')[0] ?? '';
      listed.add(token);
    } else if (prefix) listed.add(`${prefix}:${token}`);
  }
  return listed;
}

describe('the permissions docs/securityhub.md lists', () => {
  it('name every AWS action vigil aws setup, check and teardown call', async () => {
    const dir = await sourceDir();
    const called = await actionsCalled(dir);
    assert.ok(called.has('iam:CreateRole') && called.has('sns:Subscribe'), 'the commands were found');
    const listed = documented(await fs.readFile(path.join(dir, '../../../../docs/securityhub.md'), 'utf8'));
    const missing = [...called]
      .filter(([action]) => !listed.has(action))
      .map(([a, file]) => `${a} (${file})`);
    assert.deepEqual(missing, [], 'add these to docs/securityhub.md#permissions');
  });
});
