import { execFileSync } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppUnderTest, startAppUnderTest } from '../test/app-under-test'

// What a third party gets from `npm install @synthstack/sdk`: the tarball `pnpm pack` makes,
// installed beside `hono` (its one dependency) in a project outside this workspace, typechecked
// and run against the real app.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(packageRoot, 'package.json'))
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc')
// The workspace's own install of hono (its `exports` hide package.json from require.resolve).
const honoRoot = realpathSync(join(packageRoot, 'node_modules/hono'))

let project: string
let installed: string
let app: AppUnderTest

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'sdk-consumer-'))
  const packed = join(project, 'packed')
  mkdirSync(packed)
  execFileSync('pnpm', ['pack', '--pack-destination', packed], { cwd: packageRoot, stdio: 'pipe' })
  const tarball = readdirSync(packed).find((f) => f.endsWith('.tgz'))
  if (!tarball) throw new Error('pnpm pack wrote no tarball')
  installed = join(project, 'node_modules/@synthstack/sdk')
  mkdirSync(installed, { recursive: true })
  execFileSync('tar', ['-xzf', join(packed, tarball), '-C', installed, '--strip-components=1'])
  symlinkSync(honoRoot, join(project, 'node_modules/hono'), 'dir')
  app = await startAppUnderTest()
}, 180_000)

afterAll(async () => {
  await app?.close()
  if (project) rmSync(project, { recursive: true, force: true })
})

describe('the published @synthstack/sdk package', () => {
  it('ships built code and self-contained types, depending on nothing but hono', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' })
    expect(Object.keys(manifest.dependencies)).toEqual(['hono'])
    expect(JSON.stringify(manifest.dependencies)).not.toContain('workspace:')
    const files = readdirSync(join(installed, 'dist'))
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.d.ts']))
    expect(readdirSync(installed)).not.toContain('src')
  })

  it('typechecks a consumer strictly, and refuses a wrong path and a wrong field', () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { createClient, type SuccessBody } from '@synthstack/sdk'
const api = createClient({ baseUrl: 'https://api.example.com', token: 'sk_live_x' })
export async function main(): Promise<string> {
  const res = await api.v1.me.$get({ header: {} })
  const body: SuccessBody<typeof res> = await res.json() as never
  const keys = await api.v1['api-keys'].$post({ json: { name: 'ci', scopes: ['embeddings'] } })
  if (keys.status === 201) {
    const created = await keys.json()
    const secret: string = created.key
    void secret
  }
  // @ts-expect-error: no such route
  void api.v1.nope
  // @ts-expect-error: scopes must be known scope names
  await api.v1['api-keys'].$post({ json: { name: 'ci', scopes: [42] } })
  return body.workspace.name
}
`,
    )
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM'],
          types: [],
        },
        files: ['consumer.ts'],
      }),
    )
    writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }))
    const result = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' })
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error)
      }
    })()
    expect(result).toBe('')
  }, 60_000)

  it('runs: signs up and reads the account through the built code', async () => {
    const sdk = (await import(
      pathToFileURL(join(installed, 'dist/index.js')).href
    )) as typeof import('./index')
    const viaApp = app.fetch
    const anon = sdk.createClient({ baseUrl: 'http://edge.test', fetch: viaApp })
    const email = `pkg-${crypto.randomUUID().slice(0, 8)}@example.com`
    const signup = await anon.v1.auth.signup.$post({
      json: { email, password: 'package test 123' },
    })
    expect(signup.status).toBe(201)
    if (signup.status !== 201) return
    const { session } = await signup.json()
    const me = await sdk
      .createClient({ baseUrl: 'http://edge.test', token: session.token, fetch: viaApp })
      .v1.me.$get({ header: {} })
    expect(me.status).toBe(200)
    if (me.status === 200) expect((await me.json()).user.email).toBe(email)
  })
})
