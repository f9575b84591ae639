import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createVigilPrincipal, sessionRole } from './vigil-principal.js';

describe("Vigil's AWS principal", () => {
  it('trusts the role, not one of its sessions (whose ARN leaves the path out)', () => {
    assert.deepEqual(sessionRole('arn:aws:sts::123456789012:assumed-role/vigil-task/ecs-session-1'), {
      partition: 'aws',
      account: '123456789012',
      name: 'vigil-task',
    });
    assert.deepEqual(sessionRole('arn:aws-us-gov:sts::123456789012:assumed-role/vigil/i-0abc'), {
      partition: 'aws-us-gov',
      account: '123456789012',
      name: 'vigil',
    });
    assert.equal(sessionRole('arn:aws:iam::123456789012:user/vigil'), undefined);
    assert.equal(sessionRole('arn:aws:iam::123456789012:role/service-role/vigil'), undefined);
  });

  it('prefers what is configured and asks nothing', async () => {
    const principal = createVigilPrincipal({ configured: 'arn:aws:iam::123456789012:role/vigil' });
    assert.deepEqual(await principal.get(), {
      arn: 'arn:aws:iam::123456789012:role/vigil',
      source: 'configured',
    });
  });
});
