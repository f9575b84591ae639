/**
 * The load generator's own process: autocannon cycling through a file of request bodies (one JSON
 * array), printing its result as JSON. Run by scripts/lib/load.ts.
 */
import fs from 'node:fs';
import autocannon from 'autocannon';

const [url, bodiesFile, seconds, connections, headersJson] = process.argv.slice(2);
const bodies = JSON.parse(fs.readFileSync(bodiesFile ?? '', 'utf8')) as string[];
let next = 0;
const instance = autocannon(
  {
    url: url ?? '',
    method: 'POST',
    duration: Number(seconds),
    connections: Number(connections),
    headers: JSON.parse(headersJson ?? '{}') as Record<string, string>,
    requests: [
      {
        setupRequest: (request) => {
          const body = bodies[next % bodies.length] ?? '';
          next++;
          return { ...request, body };
        },
      },
    ],
  },
  (error, result) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify(result));
  },
);
void instance;
