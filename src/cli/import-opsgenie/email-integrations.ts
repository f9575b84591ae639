import { EMAIL_USERNAME_PATTERN } from '../../integrations/types.js';
import { enc, errorText, isRecord, sameJson, Skip, type ImportContext } from './context.js';
import { importIntegrationActions } from './integration-actions.js';
import type { VigilIntegration } from './integrations.js';
import { RestError } from './rest-client.js';
import type { IntegrationIn } from './shapes.js';

/**
 * An Email integration, made in Vigil with the same emailUsername and then its actions, as an API
 * integration's are. Its address is Vigil's inbound domain, not Opsgenie's: the report gives the new
 * address so that mail can be forwarded there (or its senders changed).
 */

const EMAIL_USERNAME = new RegExp(EMAIL_USERNAME_PATTERN);

function comparable(i: Record<string, unknown>) {
  const team = isRecord(i.ownerTeam) && typeof i.ownerTeam.name === 'string' ? i.ownerTeam.name : '';
  return {
    ownerTeam: team.toLowerCase(),
    enabled: i.enabled !== false,
    suppressNotifications: i.suppressNotifications === true,
    emailUsername: typeof i.emailUsername === 'string' ? i.emailUsername : '',
  };
}

/** Where the integration receives mail in Vigil, as Vigil answered it, or as far as a dry run knows. */
function addressOf(answer: unknown, emailUsername: string): string {
  return isRecord(answer) && typeof answer.emailAddress === 'string'
    ? answer.emailAddress
    : `${emailUsername}@<Vigil's inbound email domain, VIGIL_INBOUND_EMAIL_DOMAIN>`;
}

/**
 * Which Vigil integration receives mail at each emailUsername (lower case), kept up to date as the import
 * makes and moves Email integrations, so that a dry run predicts Vigil's 409 in the order the run meets
 * them (an address one integration moves away from is free for the ones after it). `id` is undefined for
 * one a dry run would make.
 */
export type EmailHolders = Map<string, { id: string | undefined; name: string }>;

/**
 * From Vigil's GET /v2/integrations, which gives an Email integration's emailUsername as its GET by id
 * does: no request per integration. An instance has one organization, so these are all its addresses.
 */
export function emailHoldersOf(existing: Iterable<VigilIntegration>): EmailHolders {
  const holders: EmailHolders = new Map();
  for (const vigil of existing)
    if (vigil.type === 'Email' && typeof vigil.settings.emailUsername === 'string')
      holders.set(vigil.settings.emailUsername.toLowerCase(), { id: vigil.id, name: vigil.name });
  return holders;
}

/** What to do about an address another integration has, in the same words after Vigil's 409 and in a dry run. */
function addressTakenAdvice(emailUsername: string): string {
  return `another Email integration of Vigil already has the emailUsername ${emailUsername}: give that integration another emailUsername (or delete it), or change this one's in Opsgenie, then run the import again`;
}

function forwardNote(ctx: ImportContext, name: string, address: string) {
  ctx.report.note(
    `Email integration ${name} receives mail at ${address} in Vigil: forward the mail sent to its Opsgenie address there, or give its senders the new address.`,
  );
}

export async function importEmailIntegration(
  ctx: ImportContext,
  i: IntegrationIn,
  team: string,
  have: VigilIntegration | undefined,
  holders: EmailHolders,
): Promise<void> {
  if (!i.emailUsername) throw new Skip('the source did not give its emailUsername');
  const emailUsername = i.emailUsername.toLowerCase();
  if (!EMAIL_USERNAME.test(emailUsername))
    throw new Skip(
      `its emailUsername ${i.emailUsername} is not one Vigil takes (1 to 64 letters, digits, ".", "_" and "-", starting and ending with a letter or digit)`,
    );
  const desired = {
    ownerTeam: { name: team },
    enabled: i.enabled !== false,
    suppressNotifications: i.suppressNotifications === true,
    emailUsername,
  };
  const haveUsername = have ? String(have.settings.emailUsername ?? '?') : undefined;
  // Another integration of Vigil may receive mail at that address already (409): the import keeps
  // Opsgenie's emailUsername, so Vigil's "choose another" is for whoever runs it, before running it again.
  // Left out knowingly and with what to do, so a skip (the exit code stays 0), repeated under next steps.
  const addressTaken = (why: string): Skip => {
    ctx.report.note(
      `Email integration ${i.name} ${ctx.dryRun ? 'would be' : 'was'} skipped: ${addressTakenAdvice(emailUsername)}.`,
    );
    const leftAsItWas = have
      ? `; Vigil's ${have.name} is left as it was, receiving mail at ${addressOf(have.settings, haveUsername ?? '?')}`
      : '';
    return new Skip(`${addressTakenAdvice(emailUsername)}${leftAsItWas} (${why})`);
  };
  /** A dry run sends nothing, so it foresees the 409 from the addresses Vigil listed. */
  const foreseeAddressTaken = () => {
    const holder = holders.get(emailUsername);
    if (!ctx.dryRun || !holder || (have && holder.id === have.id)) return;
    throw addressTaken(
      holder.id === undefined
        ? `the import would make ${holder.name} with it first`
        : `Vigil's ${holder.name} receives mail at it`,
    );
  };
  const refusedIsSkip = (error: unknown): never => {
    if (error instanceof RestError && error.status === 409) throw addressTaken(errorText(error));
    if (error instanceof RestError && error.status === 422)
      throw new Skip(`Vigil refused it: ${errorText(error)}`);
    throw error;
  };
  if (have) {
    ctx.integrations.set(i.id, have.id);
    // What Vigil answers for it, with its address; a dry run that would move it does not know the new one.
    let answer: unknown = haveUsername === emailUsername ? have.settings : undefined;
    if (sameJson(comparable(have.settings), comparable(desired))) {
      ctx.report.record('integration', i.name, 'unchanged');
    } else {
      foreseeAddressTaken();
      if (!ctx.dryRun)
        answer = await ctx.target.patch(`/v2/integrations/${enc(have.id)}`, desired).catch(refusedIsSkip);
      if (haveUsername !== undefined && holders.get(haveUsername.toLowerCase())?.id === have.id)
        holders.delete(haveUsername.toLowerCase());
      holders.set(emailUsername, { id: have.id, name: have.name });
      ctx.report.record(
        'integration',
        i.name,
        'updated',
        `receives mail at ${addressOf(answer, emailUsername)}`,
      );
    }
    forwardNote(ctx, i.name, addressOf(answer, emailUsername));
    return importIntegrationActions(ctx, { sourceId: i.id, name: i.name, vigilId: have.id, created: false });
  }
  foreseeAddressTaken();
  let made: unknown;
  if (!ctx.dryRun)
    made = await ctx.target
      .post('/v2/integrations', { type: 'Email', name: i.name, ...desired })
      .catch(refusedIsSkip);
  const id = isRecord(made) && typeof made.id === 'string' ? made.id : undefined;
  const address = addressOf(made, emailUsername);
  holders.set(emailUsername, { id, name: i.name });
  ctx.integrations.set(i.id, id);
  ctx.report.record('integration', i.name, 'created', `receives mail at ${address}`);
  forwardNote(ctx, i.name, address);
  await importIntegrationActions(ctx, { sourceId: i.id, name: i.name, vigilId: id, created: true });
}
