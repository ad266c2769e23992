import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { neonEmulatorConnectionString, neonEmulatorOptionsFromEnv } from '@synthstack/emulator-neon'
import { DEV_CREDENTIALS, qstashEmulatorOptionsFromEnv } from '@synthstack/emulator-qstash'
import { DEFAULT_TOKEN, redisEmulatorOptionsFromEnv } from '@synthstack/emulator-redis'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

export type Phase = 'emulators' | 'migrations' | 'apps'

export interface ServiceSpec {
  name: string
  kind: 'service' | 'task'
  phase: Phase
  packageDir: string
  command: string
  args: string[]
  cwd: string
  env: Record<string, string>
  port: number
  portEnv: string
  readyUrl: string
  publicUrl: string
  readyTimeoutMs: number
}

export interface Stack {
  host: string
  dataDir: string
  apiUrl: string
  webUrl: string
  phases: Phase[]
  services: ServiceSpec[]
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new Error(`${name} must be a port number between 1 and 65535`)
  }
  return value
}

/** Node with tsx, so TypeScript entry points run without a build step. */
function tsxArgs(entry: string): string[] {
  return ['--import', 'tsx', entry]
}

function wranglerBin(packageDir: string): string {
  const require = createRequire(join(packageDir, 'package.json'))
  return join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js')
}

export function loadStack(env: NodeJS.ProcessEnv): Stack {
  const host = env.DEV_HOST || '127.0.0.1'
  const dataDir = resolve(repoRoot, env.DEV_DATA_DIR || '.data')
  const ports = {
    neon: port(env, 'NEON_EMULATOR_PORT', 4444),
    redis: port(env, 'REDIS_EMULATOR_PORT', 8079),
    qstash: port(env, 'QSTASH_EMULATOR_PORT', 8080),
    api: port(env, 'EDGE_API_PORT', 3003),
    jobs: port(env, 'JOBS_WORKER_PORT', 3004),
    ml: port(env, 'ML_NODE_PORT', 8001),
    web: port(env, 'WEB_PORT', 3050),
  }
  const url = (p: number) => `http://${host}:${p}`
  // The emulators read the same variables; taking their loaders keeps both sides in step.
  const neonOptions = neonEmulatorOptionsFromEnv(env)
  const databaseUrl = neonEmulatorConnectionString(neonOptions)
  const redisToken = redisEmulatorOptionsFromEnv(env).token ?? DEFAULT_TOKEN
  const qstashOptions = qstashEmulatorOptionsFromEnv(env)
  const mlToken = env.ML_NODE_API_KEY || 'synthstack-ml-dev-token'

  // Every URL a worker needs is derived from the ports above, so overriding one port keeps the
  // whole stack consistent. Values here are local emulator defaults, never real credentials.
  const workerVars: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    NEON_EMULATOR_URL: url(ports.neon),
    UPSTASH_REDIS_REST_URL: url(ports.redis),
    UPSTASH_REDIS_REST_TOKEN: redisToken,
    QSTASH_URL: url(ports.qstash),
    QSTASH_TOKEN: qstashOptions.token ?? DEV_CREDENTIALS.token,
    QSTASH_CURRENT_SIGNING_KEY:
      qstashOptions.currentSigningKey ?? DEV_CREDENTIALS.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstashOptions.nextSigningKey ?? DEV_CREDENTIALS.nextSigningKey,
    JOBS_WORKER_URL: url(ports.jobs),
    ML_NODE_URL: url(ports.ml),
    ML_NODE_API_KEY: mlToken,
    CORS_ORIGINS: `http://localhost:${ports.web},${url(ports.web)}`,
  }
  const wranglerVarArgs = Object.entries(workerVars).flatMap(([key, value]) => [
    '--var',
    `${key}:${value}`,
  ])

  const emulator = (
    name: 'neon' | 'redis' | 'qstash',
    portEnv: string,
    extraEnv: Record<string, string>,
  ): ServiceSpec => {
    const packageDir = join(repoRoot, 'tools/emulators', name)
    return {
      name,
      kind: 'service',
      phase: 'emulators',
      packageDir,
      command: process.execPath,
      args: tsxArgs(join(packageDir, 'src/cli.ts')),
      cwd: repoRoot,
      env: { [portEnv]: String(ports[name]), ...extraEnv },
      port: ports[name],
      portEnv,
      readyUrl: `${url(ports[name])}/health`,
      publicUrl: url(ports[name]),
      readyTimeoutMs: 60_000,
    }
  }

  const edgeApiDir = join(repoRoot, 'apps/edge-api')
  const jobsDir = join(repoRoot, 'workers/jobs')
  const mlDir = join(repoRoot, 'apps/ml-node')
  const webDir = join(repoRoot, 'apps/web')
  const dbDir = join(repoRoot, 'packages/db')
  const wranglerEnv = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }

  const services: ServiceSpec[] = [
    emulator('neon', 'NEON_EMULATOR_PORT', {
      NEON_EMULATOR_DATA_DIR: env.NEON_EMULATOR_DATA_DIR || join(dataDir, 'neon'),
    }),
    emulator('redis', 'REDIS_EMULATOR_PORT', {}),
    emulator('qstash', 'QSTASH_EMULATOR_PORT', {
      QSTASH_EMULATOR_DATA_DIR: env.QSTASH_EMULATOR_DATA_DIR || join(dataDir, 'qstash'),
    }),
    {
      name: 'migrate',
      kind: 'task',
      phase: 'migrations',
      packageDir: dbDir,
      command: process.execPath,
      args: tsxArgs(join(dbDir, 'src/migrate.ts')),
      cwd: dbDir,
      env: { DATABASE_URL: databaseUrl, NEON_EMULATOR_URL: url(ports.neon) },
      port: 0,
      portEnv: '',
      readyUrl: '',
      publicUrl: '',
      readyTimeoutMs: 0,
    },
    {
      name: 'edge-api',
      kind: 'service',
      phase: 'apps',
      packageDir: edgeApiDir,
      command: process.execPath,
      args: [
        wranglerBin(edgeApiDir),
        'dev',
        '--config',
        join(repoRoot, 'wrangler.toml'),
        '--ip',
        host,
        '--port',
        String(ports.api),
        '--inspector-port',
        '0',
        ...wranglerVarArgs,
      ],
      cwd: repoRoot,
      env: wranglerEnv,
      port: ports.api,
      portEnv: 'EDGE_API_PORT',
      readyUrl: `${url(ports.api)}/openapi.json`,
      publicUrl: url(ports.api),
      readyTimeoutMs: 90_000,
    },
    {
      name: 'jobs',
      kind: 'service',
      phase: 'apps',
      packageDir: jobsDir,
      command: process.execPath,
      args: [
        wranglerBin(jobsDir),
        'dev',
        '--config',
        join(jobsDir, 'wrangler.toml'),
        '--ip',
        host,
        '--port',
        String(ports.jobs),
        '--inspector-port',
        '0',
        ...wranglerVarArgs,
      ],
      cwd: jobsDir,
      env: wranglerEnv,
      port: ports.jobs,
      portEnv: 'JOBS_WORKER_PORT',
      readyUrl: `${url(ports.jobs)}/health`,
      publicUrl: url(ports.jobs),
      readyTimeoutMs: 90_000,
    },
    {
      name: 'ml-node',
      kind: 'service',
      phase: 'apps',
      packageDir: mlDir,
      command: process.execPath,
      args: tsxArgs(join(mlDir, 'src/cli.ts')),
      cwd: mlDir,
      env: { PORT: String(ports.ml), HOST: host, ML_NODE_API_KEYS: mlToken },
      port: ports.ml,
      portEnv: 'ML_NODE_PORT',
      readyUrl: `${url(ports.ml)}/healthz`,
      publicUrl: url(ports.ml),
      readyTimeoutMs: 120_000,
    },
    {
      name: 'web',
      kind: 'service',
      phase: 'apps',
      packageDir: webDir,
      command: process.execPath,
      args: [
        join(webDir, 'node_modules/vite/bin/vite.js'),
        '--host',
        host,
        '--port',
        String(ports.web),
        '--strictPort',
      ],
      cwd: webDir,
      env: { VITE_API_URL: url(ports.api) },
      port: ports.web,
      portEnv: 'WEB_PORT',
      readyUrl: url(ports.web),
      publicUrl: url(ports.web),
      readyTimeoutMs: 60_000,
    },
  ]

  return {
    host,
    dataDir,
    apiUrl: url(ports.api),
    webUrl: url(ports.web),
    phases: ['emulators', 'migrations', 'apps'],
    services,
  }
}
