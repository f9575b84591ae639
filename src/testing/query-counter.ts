import type { KyselyPlugin } from 'kysely';

/**
 * A Kysely plugin for tests of what a service asks the database: `count` is the queries sent through
 * it so far, and `holdNext()` makes the next query's answer wait until the function it returns is
 * called (a read still in flight while something else happens).
 */
export function queryCounter(): { plugin: KyselyPlugin; readonly count: number; holdNext(): () => void } {
  let count = 0;
  let holding: Promise<void> | undefined;
  const held = new Map<unknown, Promise<void>>();
  return {
    plugin: {
      transformQuery: (args) => {
        count++;
        if (holding) {
          held.set(args.queryId, holding);
          holding = undefined;
        }
        return args.node;
      },
      transformResult: async (args) => {
        await held.get(args.queryId);
        return args.result;
      },
    },
    get count() {
      return count;
    },
    holdNext() {
      let release = () => {};
      holding = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
  };
}
