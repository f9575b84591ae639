import { Command } from 'commander';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { importCommand } from './command.js';
import type { FakeOpsgenie } from './fake-opsgenie.js';

/** Runs `test` against a Vigil of its own; the fake Opsgenie answers with its fixtures again after it. */
export async function inFreshVigil(
  opsgenie: FakeOpsgenie,
  test: (vigil: TestServer) => Promise<void>,
): Promise<void> {
  const vigil = await startTestServer();
  try {
    await test(vigil);
  } finally {
    opsgenie.instead.clear();
    opsgenie.failing.clear();
    await vigil.stop();
  }
}

/**
 * Has the fake Opsgenie answer as an empty account (no users, roles, teams, schedules, escalations,
 * maintenance, integrations, policies or heartbeats) but for `answers`, by path: none of its fixtures.
 */
export function emptyOpsgenie(opsgenie: FakeOpsgenie, answers: Record<string, unknown> = {}): void {
  opsgenie.instead.clear();
  for (const p of [
    '/v2/users',
    '/v2/roles',
    '/v2/teams',
    '/v2/schedules',
    '/v2/escalations',
    '/v1/maintenance',
    '/v2/integrations',
    '/v2/policies/alert',
    '/v2/policies/notification',
  ])
    opsgenie.instead.set(p, { data: [] });
  opsgenie.instead.set('/v2/heartbeats', { data: { heartbeats: [] } });
  for (const [p, answer] of Object.entries(answers)) opsgenie.instead.set(p, answer);
}

/** Runs `vigil import opsgenie …` as the command line does, for tests: what it printed, and its exit code. */
export async function runImport(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; progress: string[]; out: string[]; error?: Error }> {
  const progress: string[] = [];
  const out: string[] = [];
  let code = 0;
  const program = new Command().exitOverride();
  program.addCommand(
    importCommand({
      out: (line) => out.push(line),
      err: (line) => progress.push(line),
      env,
      setExitCode: (c) => (code = c),
      // A 429's wait is honoured, but not slept through in a test.
      sleep: () => Promise.resolve(),
    }),
  );
  try {
    await program.parseAsync(['node', 'vigil', 'import', 'opsgenie', ...args], { from: 'node' });
    return { code, progress, out };
  } catch (error) {
    return { code: 1, progress, out, error: error as Error };
  }
}

const OUTCOME =
  /^(.+?): (?:would be )?(created|updated|deleted|unchanged|skipped|failed)(?:: (.*)| \((.*)\))?$/;

/**
 * What became of each object, from a run's progress lines: `kind name: outcome`, a dry run's "would be
 * created" read as "created", and a skip's reason without its last parenthesis (Vigil's answer, or what a
 * dry run saw instead). A dry run's outcomes are what the run after it should do.
 */
export function outcomesOf(progress: string[]): string[] {
  const [, ...lines] = progress;
  return lines.map((line) => {
    const got = OUTCOME.exec(line);
    if (!got) return `(not an outcome) ${line}`;
    const [, object, outcome, reason] = got;
    return outcome === 'skipped'
      ? `${object}: skipped: ${reason?.replace(/ \([^()]*\)$/, '')}`
      : `${object}: ${outcome}`;
  });
}
