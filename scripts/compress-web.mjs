#!/usr/bin/env node
/**
 * Writes a Brotli (.br) and a gzip (.gz) copy next to each text file of the built console (web/dist),
 * which Vigil serves instead of the original to browsers that accept them (@fastify/static's
 * preCompressed): compressed once at build time at the highest levels, never per request. Run after
 * `vite build web` (npm run build:web and npm start do). Plain JavaScript, so it needs nothing compiled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const TEXT = /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/;
// Below this, the headers outweigh what compression saves.
const MIN_BYTES = 1024;

export function compressWeb(dist) {
  let before = 0;
  let after = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (TEXT.test(entry.name)) {
        const data = fs.readFileSync(full);
        if (data.length < MIN_BYTES) continue;
        const br = zlib.brotliCompressSync(data, {
          params: {
            [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
            [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        });
        fs.writeFileSync(`${full}.br`, br);
        fs.writeFileSync(`${full}.gz`, zlib.gzipSync(data, { level: 9 }));
        before += data.length;
        after += br.length;
      }
    }
  };
  walk(dist);
  return { before, after };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');
  const { before, after } = compressWeb(dist);
  process.stderr.write(
    `compressed the console: ${Math.round(before / 1024)} KiB of text, ${Math.round(after / 1024)} KiB with Brotli\n`,
  );
}
