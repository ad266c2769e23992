import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSql } from '@synthstack/db'
import { startQStashEmulator } from '@synthstack/emulator-qstash'
import {
  freePort,
  startTestStack,
  startWranglerDev,
  type TestStack,
  type WranglerDev,
} from '@synthstack/testing'
import { repoRoot } from './repo-root'

type QStash = Awaited<ReturnType<typeof startQStashEmulator>>

export interface JobsStack {
  api: WranglerDev
  worker: WranglerDev
  stack: TestStack
  qstash: QStash
  qstashUrl: string
  /** Stops the QStash emulator (graceful: in-flight deliveries finish, state persisted)… */
  stopQStash(): Promise<void>
  /** …and starts it again on the same port and data folder. */
  startQStash(): Promise<void>
  sql: ReturnType<typeof createSql>
  /** A new workspace with an API key (scope `jobs`) for `Authorization: Bearer`. */
  newWorkspace(): Promise<{ workspaceId: string; apiKey: string }>
  close(): Promise<void>
}

/**
 * The real path: Neon and Redis emulators (backends from the environment, embedded by default),
 * a QStash emulator with its state on disk (so a restart can be tested) and a time scale, the
 * jobs worker and the edge API each under `wrangler dev`.
 */
export async function startJobsStack(
  options: {
    timeScale?: number
    apiVars?: Record<string, string>
    workerVars?: Record<string, string>
    /** QStash state on disk (default true; the restart test needs it). */
    persistQStash?: boolean
    /** Deliveries QStash runs at once (default 100). */
    qstashMaxConcurrency?: number
    /**
     * Run both Workers with wrangler's devtools inspector (default true, as `wrangler dev` does).
     * False starts them through the same wrangler dev machinery (bundle, proxy worker, workerd)
     * with the inspector off and no file watching: see `startWranglerDev`.
     */
    devtools?: boolean
  } = {},
): Promise<JobsStack> {
  const stack = await startTestStack({ qstashTimeScale: 1 })
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-jobs-qstash-'))
  const port = await freePort()
  const qstashOptions = {
    port,
    ...(options.persistQStash !== false && { dataDir }),
    timeScale: options.timeScale ?? 0.01,
    maxConcurrency: options.qstashMaxConcurrency ?? 100,
  }
  let qstash = await startQStashEmulator(qstashOptions)
  const common = {
    DATABASE_URL: stack.env.DATABASE_URL,
    NEON_EMULATOR_URL: stack.env.NEON_EMULATOR_URL,
    UPSTASH_REDIS_REST_URL: stack.env.UPSTASH_REDIS_REST_URL,
    UPSTASH_REDIS_REST_TOKEN: stack.env.UPSTASH_REDIS_REST_TOKEN,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    JOBS_ENABLE_TEST_JOBS: 'true',
    ENVIRONMENT: 'test',
  }
  const worker = await startWranglerDev({
    packageDir: join(repoRoot, 'workers/jobs'),
    config: join(repoRoot, 'workers/jobs/wrangler.toml'),
    cwd: join(repoRoot, 'workers/jobs'),
    vars: { ...common, JOBS_LOCK_SECONDS: '30', ...options.workerVars },
    readyPath: '/health',
    ...(options.devtools !== undefined && { devtools: options.devtools }),
  })
  const api = await startWranglerDev({
    packageDir: join(repoRoot, 'apps/edge-api'),
    config: join(repoRoot, 'wrangler.toml'),
    cwd: repoRoot,
    vars: {
      ...common,
      JOBS_WORKER_URL: worker.url,
      ML_NODE_URL: '',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE_FREE: '1000000',
      RATE_LIMIT_PER_MINUTE_PRO: '1000000',
      ...options.apiVars,
    },
    readyPath: '/openapi.json',
    ...(options.devtools !== undefined && { devtools: options.devtools }),
  })
  const sql = createSql(stack.env)
  return {
    api,
    worker,
    stack,
    get qstash() {
      return qstash
    },
    qstashUrl: qstash.url,
    async stopQStash() {
      await qstash.close()
    },
    async startQStash() {
      qstash = await startQStashEmulator(qstashOptions)
    },
    sql,
    async newWorkspace() {
      const [workspace] = (await sql.query(
        `insert into workspaces (name, plan) values ($1, 'pro') returning id`,
        [`e2e-${randomBytes(4).toString('hex')}`],
      )) as { id: string }[]
      const workspaceId = workspace?.id as string
      const apiKey = `sk_live_${randomBytes(24).toString('base64url')}`
      const hash = createHash('sha256').update(apiKey).digest('hex')
      await sql.query(
        `insert into api_keys (workspace_id, name, prefix, key_hash, scopes)
         values ($1, 'e2e', $2, $3, $4)`,
        [workspaceId, apiKey.slice(0, 14), hash, ['jobs']],
      )
      return { workspaceId, apiKey }
    },
    async close() {
      await Promise.allSettled([api.close(), worker.close()])
      await qstash.close().catch(() => {})
      await stack.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
