import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsSetupCommand } from '../../web/src/lib/awsSetup.js';

describe("the console's command that sets up an integration's AWS side", () => {
  it("names the integration's own region: setup makes it the integration's write-back region", () => {
    const command = awsSetupCommand({
      id: 'integration-1',
      endpointUrl: 'https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub?apiKey=k',
      region: 'eu-west-1',
    });
    assert.equal(
      command,
      "VIGIL_ENDPOINT_URL='https://vigil.example.com/v1/json/integrations/webhooks/amazonsecurityhub?apiKey=k' vigil aws setup --integration integration-1 --region eu-west-1",
    );
  });

  it('names us-east-1 for an integration with no region yet, and says where the endpoint URL is', () => {
    const command = awsSetupCommand({ id: 'integration-2' });
    assert.match(command, / --region us-east-1$/);
    assert.match(command, /^VIGIL_ENDPOINT_URL='<the endpoint URL above>' /);
    assert.match(awsSetupCommand({ id: 'integration-3', region: '' }), / --region us-east-1$/);
  });
});
