import { createHash } from 'node:crypto'
import { Redis } from '@upstash/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestEmulator, type TestEmulator } from './testing.js'

let t: TestEmulator

beforeAll(async () => {
  t = await startTestEmulator()
})

afterAll(async () => {
  await t.close()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('data types through @upstash/redis', () => {
  it('strings with TTLs: set {ex}, expire, ttl, pttl, persist, expiry', async () => {
    const p = t.prefix()
    expect(await t.redis.set(`${p}a`, 'one', { ex: 100 })).toBe('OK')
    expect(await t.redis.get(`${p}a`)).toBe('one')
    const ttl = await t.redis.ttl(`${p}a`)
    expect(ttl).toBeGreaterThan(95)
    expect(ttl).toBeLessThanOrEqual(100)
    const pttl = await t.redis.pttl(`${p}a`)
    expect(pttl).toBeGreaterThan(95_000)
    expect(pttl).toBeLessThanOrEqual(100_000)

    await t.redis.set(`${p}b`, 'two')
    expect(await t.redis.ttl(`${p}b`)).toBe(-1)
    expect(await t.redis.ttl(`${p}missing`)).toBe(-2)
    expect(await t.redis.expire(`${p}b`, 50)).toBe(1)
    expect(await t.redis.ttl(`${p}b`)).toBeGreaterThan(45)
    expect(await t.redis.persist(`${p}b`)).toBe(1)
    expect(await t.redis.ttl(`${p}b`)).toBe(-1)

    expect(await t.redis.set(`${p}a`, 'not set', { nx: true })).toBeNull()
    expect(await t.redis.set(`${p}c`, 'short', { px: 60 })).toBe('OK')
    await sleep(150)
    expect(await t.redis.get(`${p}c`)).toBeNull()
    expect(await t.redis.exists(`${p}a`, `${p}b`, `${p}c`)).toBe(2)

    expect(await t.redis.incr(`${p}n`)).toBe(1)
    expect(await t.redis.incrby(`${p}n`, 41)).toBe(42)
    expect(await t.redis.incrbyfloat(`${p}n`, 0.5)).toBe(42.5)
    expect(await t.redis.mget(`${p}a`, `${p}nope`)).toEqual(['one', null])
    expect(await t.redis.del(`${p}a`, `${p}b`)).toBe(2)
  })

  it('hashes, lists, sets and sorted sets', async () => {
    const p = t.prefix()
    expect(await t.redis.hset(`${p}h`, { name: 'ada', visits: 1 })).toBe(2)
    expect(await t.redis.hget(`${p}h`, 'name')).toBe('ada')
    expect(await t.redis.hincrby(`${p}h`, 'visits', 2)).toBe(3)
    expect(await t.redis.hgetall(`${p}h`)).toEqual({ name: 'ada', visits: 3 })
    expect(await t.redis.hmget(`${p}h`, 'name', 'none')).toEqual({ name: 'ada', none: null })
    expect(await t.redis.hdel(`${p}h`, 'visits')).toBe(1)
    expect(await t.redis.hlen(`${p}h`)).toBe(1)
    expect(await t.redis.expire(`${p}h`, 30)).toBe(1)
    expect(await t.redis.ttl(`${p}h`)).toBeGreaterThan(25)

    expect(await t.redis.rpush(`${p}l`, 'a', 'b', 'c')).toBe(3)
    expect(await t.redis.lpush(`${p}l`, 'z')).toBe(4)
    expect(await t.redis.lrange(`${p}l`, 0, -1)).toEqual(['z', 'a', 'b', 'c'])
    expect(await t.redis.lpop(`${p}l`)).toBe('z')
    expect(await t.redis.llen(`${p}l`)).toBe(3)

    expect(await t.redis.sadd(`${p}s`, 'x', 'y', 'x')).toBe(2)
    expect((await t.redis.smembers(`${p}s`)).sort()).toEqual(['x', 'y'])
    expect(await t.redis.sismember(`${p}s`, 'y')).toBe(1)
    expect(await t.redis.srem(`${p}s`, 'x')).toBe(1)
    expect(await t.redis.scard(`${p}s`)).toBe(1)

    expect(
      await t.redis.zadd(`${p}z`, { score: 2.5, member: 'b' }, { score: 1, member: 'a' }),
    ).toBe(2)
    expect(await t.redis.zrange(`${p}z`, 0, -1)).toEqual(['a', 'b'])
    expect(await t.redis.zrange(`${p}z`, 0, -1, { withScores: true })).toEqual(['a', 1, 'b', 2.5])
    expect(await t.redis.zscore(`${p}z`, 'b')).toBe(2.5)
    expect(await t.redis.zincrby(`${p}z`, 2, 'a')).toBe(3)
    expect(await t.redis.zrank(`${p}z`, 'a')).toBe(1)
    expect(await t.redis.zcard(`${p}z`)).toBe(2)
    expect(await t.redis.type(`${p}z`)).toBe('zset')
    expect(await t.redis.pexpire(`${p}z`, 40)).toBe(1)
    await sleep(120)
    expect(await t.redis.exists(`${p}z`)).toBe(0)
  })

  it('keeps binary-ish and unicode values byte for byte', async () => {
    const p = t.prefix()
    const values = [
      'héllo wörld',
      '日本語テキスト',
      'emoji 🎉👩‍💻',
      'nul \u0000 inside',
      'controls \u0001\u001f\u007f\t\r\n',
      'quotes "\' and \\ backslash',
      'OK',
      'x'.repeat(200_000),
    ]
    for (const [i, value] of values.entries()) {
      await t.redis.set(`${p}${i}`, value)
    }
    const back = await Promise.all(values.map((_, i) => t.redis.get<string>(`${p}${i}`)))
    expect(back).toEqual(values)
    expect(await t.redis.strlen(`${p}2`)).toBe(Buffer.byteLength(values[2] as string))

    // The same reply without the base64 encoding header: plain strings.
    const plain = await t.raw('/', JSON.stringify(['GET', `${p}1`]))
    expect(plain).toEqual({ status: 200, json: { result: '日本語テキスト' } })
    const encoded = await t.raw('/', JSON.stringify(['GET', `${p}1`]), {
      headers: { 'Upstash-Encoding': 'base64' },
    })
    expect(encoded.json).toEqual({ result: Buffer.from('日本語テキスト').toString('base64') })
  })

  it('round-trips JSON values through automatic (de)serialization', async () => {
    const p = t.prefix()
    const doc = { id: 7, tags: ['a', 'b'], nested: { ok: true, n: null }, text: 'ünï' }
    await t.redis.set(`${p}doc`, doc)
    expect(await t.redis.get(`${p}doc`)).toEqual(doc)
    await t.redis.set(`${p}num`, 123)
    expect(await t.redis.get(`${p}num`)).toBe(123)
    await t.redis.hset(`${p}h`, { profile: { plan: 'pro' } })
    expect(await t.redis.hget(`${p}h`, 'profile')).toEqual({ plan: 'pro' })
    await t.redis.rpush(`${p}l`, { n: 1 }, { n: 2 })
    expect(await t.redis.lrange(`${p}l`, 0, -1)).toEqual([{ n: 1 }, { n: 2 }])
  })
})

describe('pipelines, transactions, auto-pipelining', () => {
  it('pipeline() keeps per-command errors', async () => {
    const p = t.prefix()
    await t.redis.hset(`${p}h`, { f: 1 })
    const results = await t.redis
      .pipeline()
      .set(`${p}c`, 1)
      .incr(`${p}c`)
      .lpush(`${p}h`, 'x')
      .get(`${p}c`)
      .exec({ keepErrors: true })
    expect(results.map((r) => r.result)).toEqual(['OK', 2, undefined, 2])
    expect(results[2]?.error).toBe(
      'WRONGTYPE Operation against a key holding the wrong kind of value',
    )
    await expect(t.redis.pipeline().get(`${p}c`).lpush(`${p}h`, 'x').exec()).rejects.toThrow(
      /Command 2 \[ lpush \] failed: WRONGTYPE/,
    )
  })

  it('multi() runs every command; a runtime error fails only its own command', async () => {
    const p = t.prefix()
    await t.redis.hset(`${p}h`, { f: 1 })
    expect(await t.redis.multi().set(`${p}a`, 1).incr(`${p}a`).exec()).toEqual(['OK', 2])
    await expect(
      t.redis.multi().set(`${p}b`, 10).lpush(`${p}h`, 'x').incr(`${p}b`).exec(),
    ).rejects.toThrow(/WRONGTYPE/)
    expect(await t.redis.get(`${p}b`)).toBe(11)
  })

  it('multi-exec discards the whole transaction when a command cannot be queued', async () => {
    const p = t.prefix()
    const body = JSON.stringify([
      ['SET', `${p}x`, 'never'],
      ['NOPE', 'arg'],
    ])
    const response = await t.raw('/multi-exec', body)
    expect(response).toEqual({
      status: 400,
      json: { error: 'EXECABORT Transaction discarded because of previous errors.' },
    })
    expect(await t.redis.exists(`${p}x`)).toBe(0)
  })

  it('transactions are atomic under concurrency', async () => {
    const p = t.prefix()
    const runs = await Promise.all(
      Array.from({ length: 40 }, () =>
        t.redis.multi().incr(`${p}k`).get<number>(`${p}k`).incr(`${p}k`).exec(),
      ),
    )
    for (const [first, read, second] of runs) {
      expect(read).toBe(first)
      expect(second).toBe((first as number) + 1)
    }
    expect(await t.redis.get(`${p}k`)).toBe(80)
  })

  it('auto-pipelining serves many concurrent calls correctly', async () => {
    const p = t.prefix()
    const incrs = await Promise.all(Array.from({ length: 500 }, () => t.redis.incr(`${p}n`)))
    expect(incrs.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1))
    await Promise.all(Array.from({ length: 300 }, (_, i) => t.redis.set(`${p}k${i}`, `v${i}`)))
    const values = await Promise.all(
      Array.from({ length: 300 }, (_, i) => t.redis.get<string>(`${p}k${i}`)),
    )
    expect(values).toEqual(Array.from({ length: 300 }, (_, i) => `v${i}`))
  })
})

describe('scripting', () => {
  it('eval, scriptLoad and evalsha, with nested replies and Lua conversion rules', async () => {
    const p = t.prefix()
    const script = 'redis.call("SET", KEYS[1], ARGV[1]) return {1, ARGV[1], {2, "b"}, false, 3.7}'
    expect(await t.redis.eval(script, [`${p}k`], ['value'])).toEqual([
      1,
      'value',
      [2, 'b'],
      null,
      3,
    ])
    expect(await t.redis.get(`${p}k`)).toBe('value')

    const sha = await t.redis.scriptLoad('return {KEYS[1], tonumber(ARGV[1]) * 2}')
    expect(sha).toBe(
      createHash('sha1').update('return {KEYS[1], tonumber(ARGV[1]) * 2}').digest('hex'),
    )
    expect(await t.redis.evalsha(sha, ['key'], [21])).toEqual(['key', 42])
    expect(await t.redis.scriptExists(sha, 'f'.repeat(40))).toEqual([1, 0])

    await expect(t.redis.evalsha('0'.repeat(40), [], [])).rejects.toThrow(
      /NOSCRIPT No matching script/,
    )
  })

  it('createScript falls back from EVALSHA to EVAL', async () => {
    const p = t.prefix()
    const script = t.redis.createScript<number>(
      `return redis.call("INCRBY", KEYS[1], ARGV[1]) -- ${p}`,
    )
    expect(await script.exec([`${p}counter`], ['5'])).toBe(5)
    expect(await script.exec([`${p}counter`], ['5'])).toBe(10)
  })

  it('runs scripts with a #!lua flags=allow-key-locking shebang, by EVAL and by original SHA', async () => {
    const p = t.prefix()
    const script = `#!lua flags=allow-key-locking\n  return redis.call("INCR", KEYS[1]) -- ${p}`
    const sha = createHash('sha1').update(script).digest('hex')
    await expect(t.redis.evalsha(sha, [`${p}n`], [])).rejects.toThrow(/NOSCRIPT/)
    expect(await t.redis.eval(script, [`${p}n`], [])).toBe(1)
    expect(await t.redis.evalsha(sha, [`${p}n`], [])).toBe(2)
    expect(await t.redis.scriptLoad(script)).toBe(sha)
    expect(await t.redis.scriptExists(sha)).toEqual([1])
  })

  it('passes errors raised inside scripts through', async () => {
    const p = t.prefix()
    await t.redis.set(`${p}s`, 'text')
    await expect(
      t.redis.eval('return redis.call("LPUSH", KEYS[1], "x")', [`${p}s`], []),
    ).rejects.toThrow(/WRONGTYPE/)
    await expect(t.redis.eval('return redis.error_reply("MYERR custom")', [], [])).rejects.toThrow(
      /MYERR custom/,
    )
    await expect(t.redis.eval('return {', [], [])).rejects.toThrow(/ERR Error compiling script/)
  })
})

describe('scan', () => {
  it('walks many keys with match and count', async () => {
    const p = t.prefix()
    const wanted = Array.from({ length: 300 }, (_, i) => `${p}user:${i}`)
    await Promise.all(wanted.map((key) => t.redis.set(key, 1)))
    await Promise.all(Array.from({ length: 50 }, (_, i) => t.redis.set(`${p}other:${i}`, 1)))
    const seen = new Set<string>()
    let cursor = '0'
    let calls = 0
    do {
      const [next, keys] = await t.redis.scan(cursor, { match: `${p}user:*`, count: 50 })
      for (const key of keys) seen.add(key)
      cursor = String(next)
      calls += 1
    } while (cursor !== '0' && calls < 10_000)
    expect(cursor).toBe('0')
    expect([...seen].sort()).toEqual([...wanted].sort())
    expect(calls).toBeGreaterThan(1)
  })
})

describe('auth', () => {
  it('answers 401 for a missing or wrong token, like Upstash', async () => {
    const body = JSON.stringify(['PING'])
    expect(await t.raw('/', body, { token: null })).toEqual({
      status: 401,
      json: { error: 'Unauthorized' },
    })
    expect(await t.raw('/', body, { token: 'wrong' })).toEqual({
      status: 401,
      json: { error: 'Unauthorized' },
    })
    expect(await t.raw('/pipeline', JSON.stringify([['PING']]), { token: 'wrong' })).toMatchObject({
      status: 401,
    })
    const wrong = new Redis({ url: t.emulator.url, token: 'not-the-token', retry: false })
    const failure = await wrong.get('x').catch((error: Error) => error)
    expect(String(failure)).toMatch(/Unauthorized/)
    expect(String(failure)).not.toContain(t.emulator.token)
  })

  it('accepts the token as ?_token= and serves /health without one', async () => {
    const ok = await t.raw(`/ping?_token=${encodeURIComponent(t.emulator.token)}`, undefined, {
      token: null,
    })
    expect(ok.status).toBe(200)
    expect(await t.raw('/health', undefined, { token: null })).toEqual({
      status: 200,
      json: { status: 'ok', backend: t.backend },
    })
  })
})

describe('path form', () => {
  it('runs /set/k/v, ?EX= options and a POSTed value', async () => {
    const p = t.prefix()
    const key = encodeURIComponent(`${p}path`)
    expect(await t.raw(`/set/${key}/hello%20there`, undefined)).toEqual({
      status: 200,
      json: { result: 'OK' },
    })
    expect((await t.raw(`/get/${key}`, undefined)).json).toEqual({ result: 'hello there' })
    expect(await t.raw(`/set/${key}?EX=100`, '{"posted":true}', { method: 'POST' })).toEqual({
      status: 200,
      json: { result: 'OK' },
    })
    expect(await t.redis.get(`${p}path`)).toEqual({ posted: true })
    expect(await t.redis.ttl(`${p}path`)).toBeGreaterThan(90)
  })
})

describe('bad input', () => {
  it('answers 400 with {error} and keeps serving, data intact', async () => {
    const p = t.prefix()
    await t.redis.set(`${p}keep`, 'safe')
    const cases: Array<[string, string, string | RegExp]> = [
      ['/', '{"not json', 'ERR failed to parse command'],
      ['/', '{"a":1}', 'ERR failed to parse command'],
      ['/', '[]', 'ERR failed to parse command'],
      ['/', '[1, 2]', 'ERR failed to parse command'],
      ['/', '', 'ERR failed to parse command'],
      ['/pipeline', '["GET", "x"]', 'ERR failed to parse command'],
      ['/multi-exec', '{}', 'ERR failed to parse command'],
      ['/', '["NOPE", "x", 1]', "ERR unknown command 'NOPE', with args beginning with: 'x' '1' "],
      ['/', '["GET"]', "ERR wrong number of arguments for 'get' command"],
      ['/', '["SET", "k"]', "ERR wrong number of arguments for 'set' command"],
      ['/', '["SUBSCRIBE", "chan"]', "ERR Command is not available: 'subscribe'"],
      ['/', '["MULTI"]', "ERR Command is not available: 'multi'"],
      ['/', JSON.stringify(['EVALSHA', 'abc', '0']), /^NOSCRIPT No matching script/],
      ['/', JSON.stringify(['EVAL', 'return 1', 'x']), /^ERR value is not an integer/],
    ]
    for (const [path, body, error] of cases) {
      const response = await t.raw(path, body, { method: 'POST' })
      expect(response.status, `${path} ${body}`).toBe(400)
      const json = response.json as { error: string }
      expect(Object.keys(json)).toEqual(['error'])
      if (typeof error === 'string') expect(json.error).toBe(error)
      else expect(json.error).toMatch(error)
    }
    const pipeline = await t.raw('/pipeline', JSON.stringify([['GET'], ['NOPE'], ['ECHO', 'hi']]))
    expect(pipeline).toEqual({
      status: 200,
      json: [
        { error: "ERR wrong number of arguments for 'get' command" },
        { error: "ERR unknown command 'NOPE', with args beginning with: " },
        { result: 'hi' },
      ],
    })
    expect((await t.raw('/', '[]', { method: 'DELETE' })).status).toBe(405)
    expect(await t.redis.get(`${p}keep`)).toBe('safe')
    expect(await t.redis.ping()).toBe('PONG')
  })
})
