import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console: built into web/dist, which Vigil serves at `/` (index.html for the client routes, the
 * hashed files under assets/ cached for long). `npm run dev:web` (vite web) serves it with hot reload
 * and a proxy to a running Vigil at VIGIL_URL (default http://localhost:8080), same-origin as in production.
 */
const target = process.env.VIGIL_URL ?? 'http://localhost:8080';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The Mantine chunk is ~395 kB (docs/performance.md, "One Mantine chunk"): warn past what it and the
    // rest leave room for.
    chunkSizeWarningLimit: 420,
    rolldownOptions: {
      output: {
        // The libraries change less often than the console: their own chunks stay cached across releases.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'router', test: /node_modules[\\/]react-router[\\/]/ },
            { name: 'query', test: /node_modules[\\/](@tanstack|openapi-fetch)[\\/]/ },
            // One chunk of the Mantine the console uses, not a dozen small shared ones: a cold load asked
            // for 24 files, more than a browser fetches at once from one HTTP/1.1 host, so they came in
            // waves (docs/performance.md, "One Mantine chunk").
            { name: 'mantine', test: /node_modules[\\/]@mantine[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: Object.fromEntries(
      ['/v2', '/v1', '/api', '/openapi.json', '/healthz', '/readyz'].map((path) => [
        path,
        { target, changeOrigin: false },
      ]),
    ),
  },
});
