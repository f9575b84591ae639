import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { isOrgAdmin, type Principal } from '../../accounts/service.js';
import { accountsRepository } from '../../accounts/repository.js';
import { principalOfUser } from '../../accounts/user-principal.js';
import { alertsRepository } from '../../alerts/repository.js';
import { ALERT_MISSING, type AlertAction, type AlertsService, type Outcome } from '../../alerts/service.js';
import type { Config } from '../../config.js';
import type { OutboundFetch } from '../../http/outbound-fetch.js';
import type { Db, Queryable } from '../../db/database.js';
import type { UserRow } from '../../db/schema.js';
import { forbidden, isDomainError, notFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { oneLine, truncate } from '../html.js';
import { SLACK_ACTIONS } from './blocks.js';
import { slackClient, slackErrorCode } from './client.js';
import { slackRepository as repo } from './repository.js';

/**
 * What a person does on a Vigil message in Slack: Acknowledge, Close, Add note. The request comes from
 * Slack, signed (routes.ts checks that); the message it was made on names the alert (slack_messages), and
 * the Slack user is mapped to a Vigil user of that alert's organization, who then acts as themselves, as
 * through a signed link (notify/routes.ts). The message itself is brought up to date by the `slack` kind
 * when the resulting alert event is delivered, the same path as for changes made anywhere else.
 *
 * Slack wants its answer within 3 seconds, so each Slack call made while answering has a short timeout.
 */

/** The Add note modal: its callback id, and its one input. */
export const NOTE_VIEW = {
  callbackId: 'vigil_note',
  blockId: 'vigil_note_block',
  actionId: 'vigil_note_text',
};
const NOTE_MAX = 3000;
const SLACK_CALL_TIMEOUT_MS = 1500;

const Id = Type.String({ minLength: 1, maxLength: 64 });
const SlackUser = Type.Object({ id: Id, team_id: Type.Optional(Id) });
const Team = Type.Union([Type.Object({ id: Id }), Type.Null()]);

const BlockActions = Type.Object({
  type: Type.Literal('block_actions'),
  user: SlackUser,
  team: Type.Optional(Team),
  container: Type.Optional(
    Type.Object({ channel_id: Type.Optional(Id), message_ts: Type.Optional(Type.String({ maxLength: 64 })) }),
  ),
  channel: Type.Optional(Type.Object({ id: Id })),
  message: Type.Optional(Type.Object({ ts: Type.String({ maxLength: 64 }) })),
  trigger_id: Type.Optional(Type.String({ maxLength: 256 })),
  response_url: Type.Optional(Type.String({ maxLength: 2048 })),
  actions: Type.Array(Type.Object({ action_id: Type.String({ maxLength: 255 }) }), { minItems: 1 }),
});

const ViewSubmission = Type.Object({
  type: Type.Literal('view_submission'),
  user: SlackUser,
  team: Type.Optional(Team),
  view: Type.Object({
    callback_id: Type.String({ maxLength: 255 }),
    private_metadata: Type.String({ maxLength: 3000 }),
    state: Type.Object({
      values: Type.Record(
        Type.String(),
        Type.Record(
          Type.String(),
          Type.Object({ value: Type.Optional(Type.Union([Type.String(), Type.Null()])) }),
        ),
      ),
    }),
  }),
});

const NoteMetadata = Type.Object({ channel: Id, ts: Type.String({ minLength: 1, maxLength: 64 }) });

/** What the interactions route answers Slack: 200, with a body for a modal's submission. */
export interface InteractionAnswer {
  status: 200 | 400;
  body?: Record<string, unknown>;
}

function displayName(user: UserRow): string {
  return user.full_name || user.username;
}

/**
 * `action` on the alert, taken by the Slack user's Vigil user as themselves. An action their role may not
 * take, or on an alert they may not see, is an outcome whose status says why: Slack shows it to them.
 */
async function actAs(
  db: Queryable,
  alerts: AlertsService,
  user: UserRow,
  requestId: string,
  alertId: string,
  action: AlertAction,
): Promise<Outcome> {
  try {
    const outcome = await alerts.act(principalOfUser(user), requestId, alertId, 'id', action, {
      user: displayName(user),
      source: 'Slack',
    });
    // The channel shows the alert to everyone in it; Vigil shows a user only their own alerts
    // (alerts/visibility.ts), so "does not exist" would be a puzzle when the alert does.
    if (outcome.status === ALERT_MISSING && (await alertsRepository.byId(db, alertId))) {
      return {
        success: false,
        status: `Your Vigil user ${user.username} may not see this alert: a user sees the alerts of their teams and those they own or were paged for, unless their role grants alerts-access-all. Ask an organization admin to add you to the alert's team or to grant that right.`,
      };
    }
    return outcome;
  } catch (error) {
    if (isDomainError(error, 'forbidden')) return { success: false, status: error.message };
    throw error;
  }
}

/**
 * Where Vigil's Slack app is installed, as auth.test answers for the bot token: its workspace, and the
 * Enterprise Grid organization that workspace is part of, if any.
 */
interface Installation {
  teamId: string | undefined;
  enterpriseId: string | undefined;
}

/** The Slack account behind a click, as users.info answers. */
interface SlackAccount {
  team_id?: string;
  enterprise_user?: { enterprise_id?: string };
  deleted?: boolean;
  is_bot?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  profile?: { email?: string };
}

/** What users.info answers when the account is none Slack will show the bot: an answer, not a failure. */
const NO_SUCH_ACCOUNT = new Set(['user_not_found', 'user_not_visible']);

/** Whether a workspace or Enterprise Grid organization id Slack gave is the installation's. */
function isHome(home: Installation, id: string | undefined): boolean {
  return id !== undefined && id !== '' && (id === home.teamId || id === home.enterpriseId);
}

/**
 * Whether the presser is a person of the installation's own workspace (or of its Enterprise Grid
 * organization, whose admins are the same people): only their email is the installation's to vouch for.
 * In a Slack Connect channel anyone of another organization can press the buttons, and that
 * organization's admins set its members' emails as they like. `team.id` of the payload is no help: there it
 * names the app's workspace whoever pressed, so the presser's workspace is their `user.team_id` (an
 * organization's id, E…, in a Grid) and that of the account users.info answers with; both must be ours.
 */
function ofInstallation(home: Installation, payloadTeam: string | undefined, account: SlackAccount): boolean {
  const ours = (id: string | undefined) => isHome(home, id);
  const accountOurs =
    ours(account.team_id) ||
    (home.enterpriseId !== undefined && account.enterprise_user?.enterprise_id === home.enterpriseId);
  return accountOurs && (payloadTeam === undefined || ours(payloadTeam));
}

export interface SlackServiceDeps {
  db: Db;
  alerts: AlertsService;
  config: Config;
  log: Logger;
  /** fetch for Slack's API and response URLs (HTTPS_PROXY and NO_PROXY honoured). */
  fetch: OutboundFetch;
}

export function createSlackService(deps: SlackServiceDeps) {
  const { db, alerts, config, log, fetch } = deps;
  const client = () => slackClient(config.slack, fetch, { timeoutMs: SLACK_CALL_TIMEOUT_MS });

  const linkAdvice = (slackUserId: string) =>
    `Ask a Vigil admin to link you: ` +
    `PUT ${config.publicUrl}/v2/users/{your Vigil username}/slack with {"slackUserId": "${slackUserId}"}.`;
  const howToLink = (slackUserId: string) =>
    `Vigil does not know who you are: no Vigil user has your Slack email address. ${linkAdvice(slackUserId)}`;
  const notOurWorkspace = (slackUserId: string) =>
    `Vigil does not know who you are: your Slack workspace is not the one connected to this Vigil, so ` +
    `your email address does not say which Vigil user you are. ${linkAdvice(slackUserId)}`;
  const cannotCheckWorkspace =
    'Vigil could not ask Slack which workspace is connected to it, so it cannot tell whether your ' +
    'link to a Vigil user holds for you: try again in a moment.';
  const ownersOnly = () => forbidden("Only an owner can link or unlink an owner's Slack user.");
  const cannotAskSlack =
    'Vigil could not check with Slack who you are just now, so nothing was done: try again in a moment.';

  // Learnt once per process (the bot token does not change while it runs); a failed answer is asked again
  // at the next click.
  let installation: Promise<Installation | undefined> | undefined;
  function installationOf(): Promise<Installation | undefined> {
    installation ??= client()
      .auth.test()
      .then((answer) => {
        const found: Installation = {
          teamId: answer.team_id || undefined,
          enterpriseId: answer.enterprise_id || undefined,
        };
        if (found.teamId || found.enterpriseId) return found;
        log.warn('Slack auth.test named no workspace: Slack users are not matched by email');
        installation = undefined;
        return undefined;
      })
      .catch((error: unknown) => {
        log.warn({ err: error }, 'Slack auth.test failed: Slack users are not matched by email');
        installation = undefined;
        return undefined;
      });
    return installation;
  }

  /**
   * The presser's Slack account; 'none' when Slack answered that there is no such account (or none it
   * shows the bot), 'failed' when Slack could not be asked (an error, no answer in time).
   */
  async function slackAccount(slackUserId: string): Promise<SlackAccount | 'none' | 'failed'> {
    try {
      return (await client().users.info({ user: slackUserId })).user ?? 'none';
    } catch (error) {
      log.warn(
        { err: error, slackUserId },
        'Slack users.info failed: the Slack user is not matched by email',
      );
      return NO_SUCH_ACCOUNT.has(slackErrorCode(error) ?? '') ? 'none' : 'failed';
    }
  }

  /**
   * Whether the presser is of the installation's workspace (or its Enterprise Grid organization), by the
   * payload's `user.team_id`, their own workspace even in a Slack Connect channel, so that a linked
   * user's click needs no users.info call; undefined when Vigil could not learn where it is installed.
   */
  async function presserOfInstallation(presser: {
    id: string;
    team_id?: string;
  }): Promise<boolean | undefined> {
    if (!config.slack.botToken) return undefined;
    const home = await installationOf();
    if (!home) return undefined;
    if (presser.team_id) return isHome(home, presser.team_id);
    const account = await slackAccount(presser.id);
    return typeof account === 'object' && ofInstallation(home, undefined, account);
  }

  /**
   * The Vigil user a Slack user acts as: one linked before (by an admin, or by email for a presser of the
   * installation's workspace), else the user of this organization whose username is the Slack account's
   * email (members of the installation's workspace only; not guests, bots or the deleted; not a Slack
   * user an admin unlinked), who is then linked so later clicks need no lookup. Otherwise what to tell
   * the presser: when Slack could not be asked (auth.test or users.info failed), to try again, not how to
   * be linked.
   */
  async function vigilUserOf(
    orgId: string,
    slackTeamId: string,
    presser: { id: string; team_id?: string },
  ): Promise<{ user: UserRow } | { refusal: string }> {
    const slackUserId = presser.id;
    const unknown = { refusal: howToLink(slackUserId) };
    const linked = await repo.linkedUser(db, orgId, [presser.team_id, slackTeamId], slackUserId);
    if (linked) {
      if (linked.user.blocked) return unknown;
      // An admin links a partner of another organization on purpose. A link the email match made vouches
      // only for the installation's own people, and those made before it checked the workspace may name
      // someone of another organization whose admins set their email to a Vigil user's.
      if (linked.byAdmin) return { user: linked.user };
      const ours = await presserOfInstallation(presser);
      if (ours) return { user: linked.user };
      if (ours === undefined) return { refusal: cannotCheckWorkspace };
      log.info(
        { slackUserId, slackUserTeam: presser.team_id, userId: linked.user.id },
        'a Slack user of another workspace pressed a button: their link, made by email, not used',
      );
      return { refusal: notOurWorkspace(slackUserId) };
    }
    if (!config.slack.botToken) return unknown;
    const [home, u] = await Promise.all([installationOf(), slackAccount(slackUserId)]);
    if (!home || u === 'failed') return { refusal: cannotAskSlack };
    if (u === 'none') return unknown;
    if (!ofInstallation(home, presser.team_id, u)) {
      log.info(
        { slackUserId, slackUserTeam: presser.team_id ?? u.team_id, installation: home },
        'a Slack user of another workspace pressed a button: not matched by email',
      );
      return { refusal: notOurWorkspace(slackUserId) };
    }
    // Guests and bots are not the workspace's people; their email proves less.
    if (u.deleted || u.is_bot || u.is_restricted || u.is_ultra_restricted) return unknown;
    const email = typeof u.profile?.email === 'string' ? u.profile.email : undefined;
    if (!email) return unknown;
    // The user's row is held (FOR KEY SHARE) until the link is made: an admin's unlink of them (FOR
    // UPDATE) in flight is waited for and then seen, rather than this link outliving it.
    return db.transaction().execute(async (tx) => {
      const user = await accountsRepository.findUser(tx, orgId, email, 'key share');
      if (!user || user.blocked) return unknown;
      // One an admin unlinked gets the answer of one nobody matches: not being linked is what was asked.
      if (await repo.emailMatchOff(tx, orgId, slackUserId)) return unknown;
      await repo.link(tx, {
        org_id: orgId,
        slack_team_id: slackTeamId,
        slack_user_id: slackUserId,
        user_id: user.id,
        by_admin: false,
      });
      return { user };
    });
  }

  /**
   * A reply only the clicking user sees, through the interaction's response_url. The URL comes in the
   * request, so it must be Slack's (or the Slack API's host Vigil is set to, a test's fake): Vigil must
   * not be made to POST anywhere else.
   */
  async function ephemeral(responseUrl: string | undefined, text: string): Promise<void> {
    if (!responseUrl) return;
    let url: URL;
    try {
      url = new URL(responseUrl);
    } catch {
      return;
    }
    const slackOwn = url.protocol === 'https:' && url.hostname === 'hooks.slack.com';
    if (!slackOwn && url.origin !== new URL(config.slack.apiUrl).origin) {
      log.warn({ host: url.host }, 'a Slack interaction named a response_url off Slack: not used');
      return;
    }
    try {
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        redirect: 'manual',
        signal: AbortSignal.timeout(SLACK_CALL_TIMEOUT_MS),
      });
      if (!answer.ok) log.warn({ status: answer.status }, 'Slack refused an ephemeral reply');
    } catch (error) {
      log.warn({ err: error }, 'an ephemeral reply to Slack failed');
    }
  }

  // The workspace links are kept under: the app's, which `team` names even when someone of another
  // workspace pressed. It says nothing about who pressed (ofInstallation does).
  function teamOf(payload: { user: { team_id?: string }; team?: { id: string } | null }): string {
    return payload.team?.id ?? payload.user.team_id ?? '';
  }

  async function blockActions(
    payload: Static<typeof BlockActions>,
    requestId: string,
  ): Promise<InteractionAnswer> {
    const channel = payload.container?.channel_id ?? payload.channel?.id;
    const ts = payload.container?.message_ts ?? payload.message?.ts;
    const actionId = payload.actions[0]?.action_id ?? '';
    const known = Object.values(SLACK_ACTIONS) as string[];
    // Buttons of other apps' messages never come here; anything else is not ours to act on.
    if (!known.includes(actionId)) return { status: 200 };
    const message = channel && ts ? await repo.messageAt(db, channel, ts) : undefined;
    if (!message) {
      await ephemeral(
        payload.response_url,
        'This message is no longer linked to a Vigil alert: act on the alert in Vigil.',
      );
      return { status: 200 };
    }
    const slackUserId = payload.user.id;
    const presser = await vigilUserOf(message.org_id, teamOf(payload), payload.user);
    if ('refusal' in presser) {
      await ephemeral(payload.response_url, presser.refusal);
      return { status: 200 };
    }
    const { user } = presser;
    if (actionId === SLACK_ACTIONS.note) {
      if (!payload.trigger_id) return { status: 200 };
      try {
        await client().views.open({
          trigger_id: payload.trigger_id,
          view: {
            type: 'modal',
            callback_id: NOTE_VIEW.callbackId,
            private_metadata: JSON.stringify({ channel: message.channel, ts: message.ts }),
            title: { type: 'plain_text', text: 'Add a note' },
            submit: { type: 'plain_text', text: 'Add note' },
            close: { type: 'plain_text', text: 'Cancel' },
            blocks: [
              {
                type: 'input',
                block_id: NOTE_VIEW.blockId,
                label: { type: 'plain_text', text: truncate(`Note on ${message.title}`, 2000) },
                element: {
                  type: 'plain_text_input',
                  action_id: NOTE_VIEW.actionId,
                  multiline: true,
                  max_length: NOTE_MAX,
                },
              },
            ],
          },
        });
      } catch (error) {
        log.warn({ err: error }, 'Slack views.open failed');
        await ephemeral(
          payload.response_url,
          'Slack could not open the note form: try again, or add the note in Vigil.',
        );
      }
      return { status: 200 };
    }
    const kind = actionId === SLACK_ACTIONS.acknowledge ? 'acknowledge' : 'close';
    const outcome = await actAs(db, alerts, user, requestId, message.alert_id, { kind });
    log.info(
      { alertId: message.alert_id, userId: user.id, slackUserId, action: kind, status: outcome.status },
      'Slack button used',
    );
    if (!outcome.success) await ephemeral(payload.response_url, outcome.status);
    return { status: 200 };
  }

  async function viewSubmission(
    payload: Static<typeof ViewSubmission>,
    requestId: string,
  ): Promise<InteractionAnswer> {
    if (payload.view.callback_id !== NOTE_VIEW.callbackId) return { status: 200 };
    const errors = (text: string) => ({
      status: 200 as const,
      body: { response_action: 'errors', errors: { [NOTE_VIEW.blockId]: text } },
    });
    let meta: unknown;
    try {
      meta = JSON.parse(payload.view.private_metadata);
    } catch {
      meta = undefined;
    }
    if (!Value.Check(NoteMetadata, meta)) return errors('This form is not one Vigil opened.');
    const message = await repo.messageAt(db, meta.channel, meta.ts);
    if (!message) return errors('This message is no longer linked to a Vigil alert.');
    const presser = await vigilUserOf(message.org_id, teamOf(payload), payload.user);
    if ('refusal' in presser) return errors(truncate(presser.refusal, 2000));
    const { user } = presser;
    const note = payload.view.state.values[NOTE_VIEW.blockId]?.[NOTE_VIEW.actionId]?.value?.trim() ?? '';
    if (!note) return errors('Write a note.');
    if (note.length > NOTE_MAX) return errors(`A note is at most ${NOTE_MAX} characters.`);
    const outcome = await actAs(db, alerts, user, requestId, message.alert_id, { kind: 'addNote', note });
    if (!outcome.success) return errors(truncate(oneLine(outcome.status), 2000));
    return { status: 200 };
  }

  /**
   * The Vigil user `identifier` names, if `p` may see (an admin, or the user) or change (an admin; an
   * owner for an owner) their Slack link. Not the user themselves: a link makes someone's clicks in Slack
   * act as the linked user, and so an admin who could link an owner could act as one from Slack.
   */
  async function linkable(
    tx: Queryable,
    p: Principal,
    identifier: string,
    change: boolean,
    lock?: 'share' | 'update',
  ): Promise<UserRow> {
    const user = await accountsRepository.findUser(tx, p.orgId, identifier, lock);
    if (!user) throw notFound(`User [${identifier}] does not exist.`);
    if (!isOrgAdmin(p) && (change || p.userId !== user.id)) {
      throw forbidden('Only organization admins can link Slack users to Vigil users. Ask an admin.');
    }
    if (change && user.role === 'owner' && p.role !== 'owner') throw ownersOnly();
    return user;
  }

  /**
   * Removes the user's links, and keeps the email match from linking those Slack users again (see unlink);
   * how many went.
   */
  async function unlinkAll(tx: Queryable, user: UserRow): Promise<number> {
    const links = await repo.linksOfUser(tx, user.id);
    await repo.turnEmailMatchOff(
      tx,
      user.org_id,
      links.map((l) => l.slack_user_id),
    );
    return repo.unlinkUser(tx, user.id);
  }

  return {
    /** A Slack interaction payload, already verified as coming from Slack. */
    async handleInteraction(payload: unknown, requestId: string): Promise<InteractionAnswer> {
      if (Value.Check(BlockActions, payload)) return blockActions(payload, requestId);
      if (Value.Check(ViewSubmission, payload)) return viewSubmission(payload, requestId);
      const type =
        typeof payload === 'object' && payload !== null ? (payload as { type?: unknown }).type : undefined;
      // Other kinds (view_closed, shortcuts) are not used by Vigil's app; Slack only needs its 200.
      if (typeof type === 'string') return { status: 200 };
      return { status: 400 };
    },

    async links(p: Principal, identifier: string) {
      const user = await linkable(db, p, identifier, false);
      return repo.linksOfUser(db, user.id);
    },

    /**
     * Links a Slack user to a Vigil user, in place of the links the Vigil user had and of those the Slack
     * user had to anyone: a link for a named workspace wins over one without (linkedUser), so an older
     * link, such as one the email match made, would otherwise still act for them.
     */
    async link(p: Principal, identifier: string, slack: { slackUserId: string; slackTeamId?: string }) {
      return db.transaction().execute(async (tx) => {
        // The user's row held (FOR SHARE) until the link is saved: a promotion to owner in flight (which
        // removes the links admins made) is waited for and its role seen, or waits and removes this one.
        const user = await linkable(tx, p, identifier, true, 'share');
        // Taking the Slack user from an owner it is linked to unlinks the owner: theirs to change only.
        const taken = await repo.rolesLinkedTo(tx, user.org_id, slack.slackUserId);
        if (p.role !== 'owner' && taken.includes('owner')) throw ownersOnly();
        // The Slack users this link replaces are unlinked as by an unlink: else one the email match linked
        // would link itself again at its next click, and a PUT could not replace it. The match is turned
        // back on for the one linked here, below.
        await unlinkAll(tx, user);
        await repo.unlinkSlackUser(tx, user.org_id, slack.slackUserId);
        await repo.turnEmailMatchOn(tx, user.org_id, slack.slackUserId);
        await repo.link(tx, {
          org_id: user.org_id,
          slack_team_id: slack.slackTeamId ?? '',
          slack_user_id: slack.slackUserId,
          user_id: user.id,
          by_admin: true,
        });
        return user;
      });
    },

    /**
     * Removes the user's links, and keeps the email match from linking those Slack users again: else an
     * unlinked Slack account's next click would link it again, and an admin could not take a shared or
     * stolen Slack account's power to act as the user away. Only an admin's link (PUT) links them again.
     * The user's row is held (FOR UPDATE) so that an email match to them in flight is either done first,
     * and its link removed here, or waits and sees this.
     */
    async unlink(p: Principal, identifier: string): Promise<number> {
      return db.transaction().execute(async (tx) => {
        const user = await linkable(tx, p, identifier, true, 'update');
        return unlinkAll(tx, user);
      });
    },
  };
}

export type SlackService = ReturnType<typeof createSlackService>;
