import type { IncomingMessage, ServerResponse } from 'node:http'
import pg from 'pg'
import { jsonToPgText, pgTextToJson } from './text-to-json'

// Neon's SQL-over-HTTP endpoint (the one `neon()` from @neondatabase/serverless calls), run
// with node-postgres against the emulator's backend. Shapes follow Neon's proxy:
// request `{query, params, arrayMode?}` or `{queries: [...]}`, answer `{fields, rows, command,
// rowCount, rowAsArray}` or `{results: [...]}`, errors HTTP 400 `{message, code, detail, ...}`.

export const MAX_REQUEST_BYTES = 10 * 1024 * 1024
const DISCARD_LIMIT_BYTES = 8 * MAX_REQUEST_BYTES

export const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'OPTIONS, POST',
  'Access-Control-Allow-Headers':
    'Authorization, Content-Type, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, Neon-Batch-Read-Only, Neon-Batch-Isolation-Level, Neon-Batch-Deferrable',
  'Access-Control-Max-Age': '86400',
}

const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const

const ISOLATION_LEVELS: Record<string, string> = {
  Serializable: 'SERIALIZABLE',
  RepeatableRead: 'REPEATABLE READ',
  ReadCommitted: 'READ COMMITTED',
  ReadUncommitted: 'READ UNCOMMITTED',
}

/** Every value stays the text Postgres sent: the driver parses by dataTypeID. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value }

/** An error answered to the client with Neon's body shape. */
export class SqlHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Partial<Record<(typeof ERROR_FIELDS)[number], string>> = {},
  ) {
    super(message)
  }
}

export interface Credentials {
  user: string
  password: string | undefined
  database: string
}

/**
 * Where the endpoint sends queries for given credentials from `Neon-Connection-String`. It may
 * throw a SqlHttpError to refuse them, as Neon's proxy does before reaching Postgres.
 */
export type TargetResolver = (credentials: Credentials) => pg.PoolConfig

interface QueryData {
  query: string
  params: (string | null)[]
  arrayMode: boolean | undefined
}

interface Options {
  rawOutput: boolean
  arrayMode: boolean
  isolationLevel: string | undefined
  readOnly: boolean
  deferrable: boolean
}

export class SqlOverHttp {
  readonly #pools = new Map<string, pg.Pool>()
  readonly #maxPools = 32

  constructor(private readonly resolveTarget: TargetResolver) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const extraHeaders: Record<string, string> = {}
    try {
      const credentials = parseConnectionString(header(req, 'neon-connection-string'))
      const options = parseOptions(req)
      const body = await readBody(req)
      const payload = parsePayload(body)
      let output: unknown
      if (Array.isArray(payload)) {
        if (options.readOnly) extraHeaders['Neon-Batch-Read-Only'] = 'true'
        if (options.deferrable) extraHeaders['Neon-Batch-Deferrable'] = 'true'
        const level = header(req, 'neon-batch-isolation-level')
        if (level) extraHeaders['Neon-Batch-Isolation-Level'] = level
        output = await this.#runBatch(credentials, payload, options)
      } else {
        output = await this.#runSingle(credentials, payload, options)
      }
      send(res, 200, output, extraHeaders)
    } catch (err) {
      const error = toHttpError(err)
      const body: Record<string, unknown> = { message: error.message, code: '' }
      // Like Neon: `code` and `severity` are '' for errors that did not come from Postgres.
      for (const key of ERROR_FIELDS) {
        body[key] = error.fields[key] ?? (key === 'code' || key === 'severity' ? '' : null)
      }
      // The rest of an oversized body is never read: the connection cannot be reused.
      send(res, error.status, body, error.status === 413 ? { Connection: 'close' } : {})
    }
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((pool) => pool.end().catch(() => {})))
  }

  async #runSingle(credentials: Credentials, query: QueryData, options: Options) {
    const client = await this.#connect(credentials)
    let broken: Error | undefined
    try {
      return await runQuery(client, query, options)
    } catch (err) {
      if (!(err instanceof pg.DatabaseError)) broken = err as Error
      throw err
    } finally {
      client.release(broken ?? leftInTransaction(client))
    }
  }

  async #runBatch(credentials: Credentials, queries: QueryData[], options: Options) {
    const client = await this.#connect(credentials)
    let broken: Error | undefined
    try {
      let begin = 'BEGIN'
      if (options.isolationLevel) begin += ` ISOLATION LEVEL ${options.isolationLevel}`
      if (options.readOnly) begin += ' READ ONLY'
      if (options.deferrable) begin += ' DEFERRABLE'
      await client.query(begin)
      try {
        const results = []
        for (const query of queries) results.push(await runQuery(client, query, options))
        await client.query('COMMIT')
        return { results }
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError
        })
        throw err
      }
    } catch (err) {
      if (!(err instanceof pg.DatabaseError)) broken ??= err as Error
      throw err
    } finally {
      client.release(broken ?? leftInTransaction(client))
    }
  }

  async #connect(credentials: Credentials): Promise<pg.PoolClient> {
    const key = JSON.stringify([credentials.user, credentials.password, credentials.database])
    let pool = this.#pools.get(key)
    if (!pool) {
      pool = new pg.Pool({
        ...this.resolveTarget(credentials),
        max: 10,
        idleTimeoutMillis: 5_000,
        allowExitOnIdle: true,
      })
      // An idle connection the server ended (e.g. its database was dropped) must not crash us.
      pool.on('error', () => {})
      this.#pools.set(key, pool)
      if (this.#pools.size > this.#maxPools) {
        const [oldestKey, oldest] = this.#pools.entries().next().value as [string, pg.Pool]
        this.#pools.delete(oldestKey)
        void oldest.end().catch(() => {})
      }
    }
    try {
      return await pool.connect()
    } catch (err) {
      // Neon answers a refused compute connection (e.g. an unknown database) with 500 and
      // the Postgres error's fields; `neon()` then throws "Server error (HTTP status 500)".
      if (err instanceof pg.DatabaseError)
        throw new SqlHttpError(500, err.message, dbErrorFields(err))
      throw new SqlHttpError(
        500,
        `could not connect to the database behind the emulator: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      )
    }
  }
}

async function runQuery(client: pg.PoolClient, data: QueryData, options: Options) {
  const arrayMode = data.arrayMode ?? options.arrayMode
  const result = await client.query({
    text: data.query,
    values: data.params,
    rowMode: 'array',
    types: TEXT_TYPES,
    queryMode: 'extended',
  } as pg.QueryArrayConfig)
  const fields = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: 'text',
  }))
  const convert = (value: unknown, i: number) =>
    value === null || options.rawOutput
      ? value
      : pgTextToJson(value as string, fields[i]?.dataTypeID ?? 25)
  const rows = result.rows.map((row) =>
    arrayMode
      ? row.map(convert)
      : Object.fromEntries(row.map((value, i) => [fields[i]?.name, convert(value, i)])),
  )
  return {
    rowAsArray: arrayMode,
    fields,
    rows,
    command: result.command ?? '',
    rowCount: result.rowCount ?? null,
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

export function parseConnectionString(value: string | undefined): Credentials {
  if (value === undefined || value === '') {
    throw new SqlHttpError(400, 'invalid header: neon-connection-string')
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new SqlHttpError(400, 'invalid connection string: not a valid URL')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new SqlHttpError(400, 'incorrect scheme')
  }
  if (!url.hostname) throw new SqlHttpError(400, 'missing hostname')
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (!database) throw new SqlHttpError(400, 'missing database name')
  if (!url.username) throw new SqlHttpError(400, 'missing username')
  return {
    user: decodeURIComponent(url.username),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
  }
}

function parseOptions(req: IncomingMessage): Options {
  const level = header(req, 'neon-batch-isolation-level')
  let isolationLevel: string | undefined
  if (level !== undefined) {
    isolationLevel = ISOLATION_LEVELS[level]
    if (!isolationLevel) throw new SqlHttpError(400, 'invalid isolation level')
  }
  return {
    rawOutput: header(req, 'neon-raw-text-output') === 'true',
    arrayMode: header(req, 'neon-array-mode') === 'true',
    isolationLevel,
    readOnly: header(req, 'neon-batch-read-only') === 'true',
    deferrable: header(req, 'neon-batch-deferrable') === 'true',
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    // Past the limit the rest is read and dropped, so the client gets its 413 instead of a
    // reset; far past it the request is cut off.
    if (size > DISCARD_LIMIT_BYTES) req.destroy()
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer)
  }
  if (size > MAX_REQUEST_BYTES) {
    throw new SqlHttpError(413, `request is too large (max is ${MAX_REQUEST_BYTES} bytes)`)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function badBody(reason: string): SqlHttpError {
  return new SqlHttpError(400, `could not parse the HTTP request body: ${reason}`)
}

/** A single query, or the array of a batch's queries. */
export function parsePayload(body: string): QueryData | QueryData[] {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (err) {
    throw badBody((err as Error).message)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw badBody('expected a JSON object with "query" or "queries"')
  }
  const object = json as Record<string, unknown>
  if ('queries' in object && !('query' in object)) {
    if (!Array.isArray(object.queries)) throw badBody('"queries" must be an array')
    return object.queries.map((item, i) => parseQuery(item, `queries[${i}].`))
  }
  return parseQuery(object, '')
}

function parseQuery(value: unknown, where: string): QueryData {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badBody(`${where || 'body'} must be an object with a "query" string`)
  }
  const { query, params, arrayMode } = value as Record<string, unknown>
  if (typeof query !== 'string') throw badBody(`"${where}query" must be a string`)
  if (params !== undefined && params !== null && !Array.isArray(params)) {
    throw badBody(`"${where}params" must be an array`)
  }
  if (arrayMode !== undefined && arrayMode !== null && typeof arrayMode !== 'boolean') {
    throw badBody(`"${where}arrayMode" must be a boolean`)
  }
  return {
    query,
    params: ((params as unknown[] | null | undefined) ?? []).map(jsonToPgText),
    arrayMode: (arrayMode as boolean | null | undefined) ?? undefined,
  }
}

/**
 * Every HTTP request is its own unit, as on Neon: a connection that a request left inside a
 * transaction (a lone `BEGIN`) is closed instead of pooled, so the server rolls it back and the
 * next request neither joins it nor waits behind it.
 */
function leftInTransaction(client: pg.PoolClient): Error | undefined {
  const status = client.getTransactionStatus()
  return status === 'I' || status === null
    ? undefined
    : new Error(`left in transaction (${status})`)
}

function dbErrorFields(err: pg.DatabaseError): SqlHttpError['fields'] {
  const fields: Record<string, string> = {}
  for (const key of ERROR_FIELDS) {
    const value = (err as unknown as Record<string, unknown>)[key]
    if (value !== undefined && value !== null) fields[key] = String(value)
  }
  return fields
}

function toHttpError(err: unknown): SqlHttpError {
  if (err instanceof SqlHttpError) return err
  if (err instanceof pg.DatabaseError) return new SqlHttpError(400, err.message, dbErrorFields(err))
  // Protocol or connection failures below the SQL layer. Never echo the connection string.
  const message = err instanceof Error ? err.message : String(err)
  return new SqlHttpError(
    500,
    `internal error: ${message.replace(/postgres(ql)?:\/\/\S+/g, '***')}`,
  )
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...CORS_HEADERS,
    ...extraHeaders,
  })
  res.end(text)
}
