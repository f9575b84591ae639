/**
 * The command that sets up an integration's AWS side. It names the integration's own region where it
 * has one: setup saves the first region it sets up as the integration's, which write-back then uses.
 */
export function awsSetupCommand(integration: { id: string; endpointUrl?: string; region?: string }): string {
  const endpoint = integration.endpointUrl ?? '<the endpoint URL above>';
  const region = integration.region || 'us-east-1';
  return `VIGIL_ENDPOINT_URL='${endpoint}' vigil aws setup --integration ${integration.id} --region ${region}`;
}
