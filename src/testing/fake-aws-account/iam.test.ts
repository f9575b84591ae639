import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluatePolicy, parsePolicy, type PolicyDocument, type PolicyRequest } from './iam.js';

const VIGIL = { arn: 'arn:aws:iam::444455556666:user/vigil', account: '444455556666' };
const SESSION = {
  arn: 'arn:aws:sts::444455556666:assumed-role/VigilTask/i-0abc',
  account: '444455556666',
  roleArn: 'arn:aws:iam::444455556666:role/ecs/VigilTask',
};

function doc(text: string): PolicyDocument {
  const parsed = parsePolicy(text, 'trust');
  assert.notEqual(typeof parsed, 'string', String(parsed));
  return parsed as PolicyDocument;
}

function assumeBy(caller: PolicyRequest['caller'], externalId?: string): PolicyRequest {
  return { action: 'sts:AssumeRole', caller, context: { 'sts:externalid': externalId } };
}

describe('IAM policy evaluation', () => {
  test('the account root, an account id or the exact ARN name a principal', () => {
    for (const principal of ['444455556666', 'arn:aws:iam::444455556666:root', VIGIL.arn, [VIGIL.arn, '*']]) {
      const policy = doc(
        JSON.stringify({
          Version: '2012-10-17',
          Statement: { Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:Assume*' },
        }),
      );
      assert.equal(evaluatePolicy(policy, assumeBy(VIGIL)), 'allow', JSON.stringify(principal));
    }
    const other = doc(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::444455556666:user/else' },
          Action: 'sts:AssumeRole',
        },
      }),
    );
    assert.equal(evaluatePolicy(other, assumeBy(VIGIL)), 'none');
  });

  test('a session is named by its role, path included', () => {
    const policy = doc(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: SESSION.roleArn }, Action: ['sts:AssumeRole'] }],
      }),
    );
    assert.equal(evaluatePolicy(policy, assumeBy(SESSION)), 'allow');
    assert.equal(evaluatePolicy(policy, assumeBy(VIGIL)), 'none');
  });

  test('conditions: ExternalId must equal one of the values; unknown keys never hold', () => {
    const policy = (condition: unknown) =>
      doc(
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: VIGIL.arn },
              Action: 'sts:AssumeRole',
              Condition: condition,
            },
          ],
        }),
      );
    const pinned = policy({ StringEquals: { 'sts:ExternalId': ['a1', 'b2'] } });
    assert.equal(evaluatePolicy(pinned, assumeBy(VIGIL, 'b2')), 'allow');
    assert.equal(evaluatePolicy(pinned, assumeBy(VIGIL, 'B2')), 'none');
    assert.equal(evaluatePolicy(pinned, assumeBy(VIGIL)), 'none');
    const unknown = policy({ Bool: { 'aws:MultiFactorAuthPresent': true } });
    assert.equal(evaluatePolicy(unknown, assumeBy(VIGIL, 'b2')), 'none');
  });

  test('a matching Deny wins over an Allow', () => {
    const policy = doc(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
          {
            Effect: 'Deny',
            Principal: { AWS: VIGIL.arn },
            Action: '*',
            Condition: { StringNotEquals: { 'sts:ExternalId': 'ok-id' } },
          },
        ],
      }),
    );
    assert.equal(evaluatePolicy(policy, assumeBy(VIGIL, 'ok-id')), 'allow');
    assert.equal(evaluatePolicy(policy, assumeBy(VIGIL, 'other')), 'deny');
    assert.equal(evaluatePolicy(policy, assumeBy(VIGIL)), 'deny');
  });

  test('the grammar refuses what IAM refuses', () => {
    const statement = { Effect: 'Allow', Principal: { AWS: VIGIL.arn }, Action: 'sts:AssumeRole' };
    const cases: [unknown, string, 'trust' | 'identity' | 'resource'][] = [
      [
        { Version: '2012-10-17', Statement: [{ ...statement, Action: 'AssumeRole' }] },
        'prefaced by a vendor',
        'trust',
      ],
      [{ Version: '2012-10-17', Statement: [{ ...statement, Sid: 'not_alnum' }] }, 'alpha-numeric', 'trust'],
      [{ Version: '2012-10-17', Statement: [{ ...statement, Effect: 'allow' }] }, 'Syntax errors', 'trust'],
      [{ Version: '2012-10-18', Statement: [statement] }, 'legacy parsing', 'trust'],
      [{ Version: '2012-10-17', Statement: [statement] }, 'should not specify a principal', 'identity'],
      [
        { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*' }] },
        'must contain resources',
        'identity',
      ],
      [
        { Version: '2012-10-17', Statement: [{ ...statement, Principal: { AWS: 'vigil' } }] },
        'Invalid principal',
        'trust',
      ],
    ];
    for (const [policy, problem, kind] of cases) {
      const result = parsePolicy(JSON.stringify(policy), kind);
      assert.equal(typeof result, 'string', JSON.stringify(policy));
      assert.match(result as string, new RegExp(problem));
    }
  });
});
