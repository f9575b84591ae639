/** The child of send-all.ts: sends the requests of the file it is given, and prints when each went. */
import fs from 'node:fs';

const input = JSON.parse(fs.readFileSync(process.argv[2] ?? '', 'utf8')) as {
  url: string;
  headers: Record<string, string>;
  concurrency: number;
  expectStatus: number;
  requests: { key: string; body: string }[];
};
const sentAt: Record<string, number> = {};
let next = 0;
let answered = 0;
const started = performance.now();
// A long burst shows how far it got (stderr is the parent's).
const progress = setInterval(
  () => process.stderr.write(`\r  sent ${answered}/${input.requests.length}`),
  1000,
);
await Promise.all(
  Array.from({ length: input.concurrency }, async () => {
    while (next < input.requests.length) {
      const request = input.requests[next++];
      if (!request) break;
      sentAt[request.key] = Date.now();
      const response = await fetch(input.url, { method: 'POST', headers: input.headers, body: request.body });
      const text = await response.text();
      if (response.status !== input.expectStatus)
        throw new Error(`${request.key}: answered ${response.status}: ${text.slice(0, 300)}`);
      answered++;
    }
  }),
);
clearInterval(progress);
process.stdout.write(JSON.stringify({ sentAt, seconds: (performance.now() - started) / 1000 }));
