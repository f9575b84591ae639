/**
 * What Vigil names and tags in a customer's AWS account for one integration. The templates and
 * `vigil aws setup` both take their names from here, so a stack deployed by hand and a run of the CLI
 * make the same things, and `vigil aws teardown` finds exactly what setup made.
 */

/** The tag every resource setup makes carries: teardown removes only what carries its integration's id. */
export const INTEGRATION_TAG = 'vigil:integration';
export const MANAGED_BY_TAG = 'vigil:managed-by';
export const MANAGED_BY = 'vigil aws setup';

export interface IntegrationRef {
  id: string;
  name: string;
}

/** The integration id without dashes: its first characters keep names unique per integration. */
function compactId(integrationId: string): string {
  return integrationId.replace(/[^A-Za-z0-9]/g, '');
}

export function shortId(integrationId: string): string {
  return compactId(integrationId).slice(0, 8).toLowerCase();
}

export interface ResourceNames {
  /** Security Hub custom action Id: up to 20 alphanumeric characters, unique per account and region. */
  customActionId: string;
  /** Shown in Security Hub's Actions menu: fewer than 20 characters. */
  customActionName: string;
  customActionDescription: string;
  topic: string;
  rule: string;
  /** The write-back role: its name must start with the prefix Vigil is configured to assume. */
  role: string;
  /** The role EventBridge assumes to call the API destination. */
  invokeRole: string;
  connection: string;
  apiDestination: string;
  /** The EventBridge target's id on the rule. */
  targetId: string;
}

export function resourceNames(integration: IntegrationRef, rolePrefix: string): ResourceNames {
  const short = shortId(integration.id);
  const label = integration.name.replace(/[^\w .-]+/g, ' ').trim() || 'Vigil';
  return {
    customActionId: `Vigil${compactId(integration.id).slice(0, 15)}`,
    customActionName: `Vigil ${label}`.slice(0, 19).trimEnd(),
    // Custom actions take no tags: the id and the marker here are what tell teardown the action is
    // this integration's, made by setup (a template's says neither, and stays with its stack).
    customActionDescription:
      `Send the finding to Vigil (integration ${integration.name}, ${integration.id}, ${MANAGED_BY})`.slice(
        -512,
      ),
    topic: `vigil-securityhub-${short}`,
    rule: `vigil-securityhub-${short}`,
    role: `${rolePrefix}-${short}`.slice(0, 64),
    invokeRole: `VigilEventBridgeInvoke-${short}`,
    connection: `vigil-securityhub-${short}`,
    apiDestination: `vigil-securityhub-${short}`,
    targetId: 'vigil',
  };
}

export function integrationTags(integration: IntegrationRef): Record<string, string> {
  return { [INTEGRATION_TAG]: integration.id, [MANAGED_BY_TAG]: MANAGED_BY };
}

/** The rule's description: the same from the template and from setup, so a second run changes nothing. */
export function ruleDescription(integration: IntegrationRef): string {
  return `Security Hub findings to Vigil (integration ${integration.name})`.slice(0, 512);
}
