/**
 * bench:web — the web app's initial JavaScript: the entry chunk plus every chunk it imports
 * statically (what the browser must download before the first page renders), gzipped.
 * Baseline: a minimal app of Vue + vue-router alone, bundled in the same run with the same
 * Vite and the same settings, so the figure shows what the app adds over the framework.
 *
 * `chat_interactive_p50_ms` (DESIGN.md) needs a chat page, which the web app does not have yet:
 * no figure is printed for it until then.
 *
 * Vite and the Vue plugin are loaded from apps/web (the bench has no copy of its own).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'

const ROOT = resolve(import.meta.dirname, '../..')
const WEB = join(ROOT, 'apps/web')
const TARGET_KB = 120

interface ManifestChunk {
  file: string
  isEntry?: boolean
  imports?: string[]
}
type Manifest = Record<string, ManifestChunk>

interface ViteModule {
  build(config: Record<string, unknown>): Promise<unknown>
}

const webRequire = createRequire(join(WEB, 'package.json'))
const packageDir = (name: string) => dirname(webRequire.resolve(`${name}/package.json`))

async function loadVite() {
  const vite = (await import(
    pathToFileURL(join(packageDir('vite'), 'dist/node/index.js')).href
  )) as ViteModule
  const pluginVue = (await import(
    pathToFileURL(join(packageDir('@vitejs/plugin-vue'), 'dist/index.mjs')).href
  )) as { default: () => unknown }
  return { vite, vue: pluginVue.default }
}

/** Entry chunk + its static imports (transitively), gzipped one by one as a CDN serves them. */
async function initialJs(outDir: string): Promise<{ files: string[]; gzipBytes: number }> {
  const manifest = JSON.parse(
    await readFile(join(outDir, '.vite/manifest.json'), 'utf8'),
  ) as Manifest
  const entry = Object.keys(manifest).find((k) => manifest[k]?.isEntry)
  if (!entry) throw new Error('no entry chunk in the Vite manifest')
  const seen = new Set<string>()
  const visit = (key: string) => {
    if (seen.has(key)) return
    seen.add(key)
    for (const next of manifest[key]?.imports ?? []) visit(next)
  }
  visit(entry)
  const files = [...seen].map((k) => manifest[k]?.file ?? k).filter((f) => f.endsWith('.js'))
  let gzipBytes = 0
  for (const file of files) gzipBytes += gzipSync(await readFile(join(outDir, file))).length
  return { files, gzipBytes }
}

const MINIMAL_MAIN = `
import { createApp, h } from 'vue'
import { createRouter, createWebHistory, RouterView } from 'vue-router'
const Home = { render: () => h('p', 'home') }
const router = createRouter({ history: createWebHistory(), routes: [{ path: '/', component: Home }] })
createApp({ render: () => h(RouterView) }).use(router).mount('#app')
`

async function main() {
  const { vite, vue } = await loadVite()
  const saved = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  const work = await mkdtemp(join(tmpdir(), 'bench-web-'))
  const common = { mode: 'production', logLevel: 'warn' }
  try {
    const appOut = join(work, 'app')
    const t0 = performance.now()
    await vite.build({
      ...common,
      configFile: join(WEB, 'vite.config.ts'),
      root: WEB,
      build: { outDir: appOut, emptyOutDir: true, manifest: true },
    })
    const appMs = performance.now() - t0

    const baseRoot = join(work, 'baseline-src')
    const baseOut = join(work, 'baseline')
    await mkdir(baseRoot, { recursive: true })
    await writeFile(
      join(baseRoot, 'index.html'),
      '<!doctype html><div id="app"></div><script type="module" src="/main.js"></script>',
    )
    await writeFile(join(baseRoot, 'main.js'), MINIMAL_MAIN)
    await vite.build({
      ...common,
      configFile: false,
      root: baseRoot,
      plugins: [vue()],
      resolve: { alias: { vue: packageDir('vue'), 'vue-router': packageDir('vue-router') } },
      build: { outDir: baseOut, emptyOutDir: true, manifest: true },
    })

    const app = await initialJs(appOut)
    const base = await initialJs(baseOut)
    const kb = (bytes: number) => (bytes / 1024).toFixed(1)
    console.log('web app initial JavaScript (gzipped, entry + static imports)')
    console.log(`  app        ${kb(app.gzipBytes).padStart(7)} KB  ${app.files.join(', ')}`)
    console.log(`  vue+router ${kb(base.gzipBytes).padStart(7)} KB  (minimal app, same build)`)
    console.log(`  app adds   ${kb(app.gzipBytes - base.gzipBytes).padStart(7)} KB`)
    console.log(`  build      ${(appMs / 1000).toFixed(1).padStart(7)} s`)
    console.log(
      `BENCH initial_js_gzip_kb ${kb(app.gzipBytes)} KB baseline=${kb(base.gzipBytes)} target=<=${TARGET_KB}`,
    )
    if (app.gzipBytes / 1024 > TARGET_KB) process.exitCode = 1
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = saved
    await rm(work, { recursive: true, force: true })
  }
}

await main()
