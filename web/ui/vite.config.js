// Vite builds the UI into dist/, which the `baton` binary embeds (web/src/ui.rs).
// `npm run dev` serves it with hot reload and sends /api to a running `baton serve`.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: { '/api': process.env.BATON_URL || 'http://127.0.0.1:8080' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2048,
  },
})
