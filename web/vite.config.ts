import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npx vite web` serves the console with hot reload and sends the API to a running server.
const api = process.env.PARLEY_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/v1/stream': { target: api, ws: true },
      '/v1': api,
    },
  },
});
