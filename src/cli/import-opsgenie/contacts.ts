import { eachItem, enc, isRecord, readList, Skip, type ImportContext } from './context.js';
import { parsePhoneNumber } from '../../notify/destinations/phone-number.js';
import { ContactShape, text, type ContactIn } from './shapes.js';
import type { ImportedUser } from './users.js';

/** Each user's contact methods, matched by method and address. */

/** The methods Vigil pages by that Opsgenie's API also has. Opsgenie's "mobile" is its own app. */
const METHODS = new Set(['email', 'sms', 'voice']);

interface VigilContact {
  id: string;
  method: string;
  to: string;
  enabled: boolean;
}

/** An address as Vigil stores it: phone numbers in E.164 (Opsgenie writes 1-5551234567). */
export function addressOf(method: string, to: string): string {
  if (method === 'email') return to.trim();
  const phone = parsePhoneNumber(to);
  return phone.ok ? phone.address : to.trim();
}

const contactKey = (method: string, to: string) => `${method}:${addressOf(method, to).toLowerCase()}`;

async function vigilContacts(ctx: ImportContext, user: ImportedUser): Promise<VigilContact[]> {
  // A user a dry run would create gets the email contact Vigil gives every new user.
  if (!user.existsInVigil) return [{ id: '', method: 'email', to: user.username, enabled: true }];
  const list = await ctx.target.get(`/v2/users/${enc(user.username)}/contacts`);
  if (!Array.isArray(list)) return [];
  return list.flatMap((c: unknown) =>
    isRecord(c) && typeof c.id === 'string' && typeof c.method === 'string' && typeof c.to === 'string'
      ? [
          {
            id: c.id,
            method: c.method,
            to: c.to,
            enabled: !(isRecord(c.status) && c.status.enabled === false),
          },
        ]
      : [],
  );
}

export async function importContacts(ctx: ImportContext, users: ImportedUser[]): Promise<void> {
  for (const user of users) {
    const items = await readList(ctx, 'contact method', `contacts of ${user.username}`, async () => {
      const got = await ctx.source.get(`/v2/users/${enc(user.sourceId)}/contacts`);
      return Array.isArray(got) ? got : [];
    });
    if (!items) continue;
    const existing = new Map((await vigilContacts(ctx, user)).map((c) => [contactKey(c.method, c.to), c]));
    const labelFor = (c: Record<string, unknown>) => `${text(c.method)} ${text(c.to)} of ${user.username}`;
    await eachItem(
      ctx,
      'contact method',
      ContactShape,
      items,
      async (c: ContactIn) => {
        const label = labelFor(c);
        if (!METHODS.has(c.method))
          throw new Skip(
            c.method === 'mobile'
              ? "Opsgenie's mobile-app contact cannot move: the person turns on push notifications in Vigil's console instead"
              : `Vigil has no contact method ${c.method}`,
          );
        const enabled = c.status?.enabled !== false;
        const have = existing.get(contactKey(c.method, c.to));
        if (c.method !== 'email')
          ctx.report.note(
            'SMS and voice numbers must be verified in Vigil before it pages them: each person does so in the console (People → a person → Verify).',
          );
        if (have) {
          if (have.enabled === enabled) return ctx.report.record('contact method', label, 'unchanged');
          if (!ctx.dryRun)
            await ctx.target.post(
              `/v2/users/${enc(user.username)}/contacts/${enc(have.id)}/${enabled ? 'enable' : 'disable'}`,
              {},
            );
          return ctx.report.record('contact method', label, 'updated', enabled ? 'enabled' : 'disabled');
        }
        if (!ctx.dryRun) {
          const made = await ctx.target.post(`/v2/users/${enc(user.username)}/contacts`, {
            method: c.method,
            to: c.to,
          });
          if (!enabled && isRecord(made) && typeof made.id === 'string')
            await ctx.target.post(`/v2/users/${enc(user.username)}/contacts/${enc(made.id)}/disable`, {});
        }
        existing.set(contactKey(c.method, c.to), { id: '', method: c.method, to: c.to, enabled });
        ctx.report.record(
          'contact method',
          label,
          'created',
          enabled ? undefined : 'disabled, as in Opsgenie',
        );
      },
      labelFor,
    );
  }
}
