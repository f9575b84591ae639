import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createVigilPrincipal, trustablePrincipal } from './vigil-principal.js';

describe("Vigil's AWS principal", () => {
  it('trusts the role, not one of its sessions', () => {
    assert.equal(
      trustablePrincipal('arn:aws:sts::123456789012:assumed-role/vigil-task/ecs-session-1'),
      'arn:aws:iam::123456789012:role/vigil-task',
    );
    assert.equal(
      trustablePrincipal('arn:aws-us-gov:sts::123456789012:assumed-role/vigil/i-0abc'),
      'arn:aws-us-gov:iam::123456789012:role/vigil',
    );
    assert.equal(
      trustablePrincipal('arn:aws:iam::123456789012:user/vigil'),
      'arn:aws:iam::123456789012:user/vigil',
    );
  });

  it('prefers what is configured and asks nothing', async () => {
    const principal = createVigilPrincipal({ configured: 'arn:aws:iam::123456789012:role/vigil' });
    assert.deepEqual(await principal.get(), {
      arn: 'arn:aws:iam::123456789012:role/vigil',
      source: 'configured',
    });
  });
});
