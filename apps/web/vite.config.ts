import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// The app is plain static files: `vite build` writes dist/, which any CDN can serve.
// VITE_API_URL (read from the environment or .env files) is baked in at build time.
export default defineConfig({
  plugins: [vue()],
  server: { host: '127.0.0.1', port: 3050, strictPort: true },
  preview: { host: '127.0.0.1', port: 3050, strictPort: true },
})
