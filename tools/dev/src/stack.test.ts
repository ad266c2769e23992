import { describe, expect, it } from 'vitest'
import { loadStack } from './stack.js'

const argAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1]
const vars = (args: string[]) =>
  Object.fromEntries(
    args.flatMap((arg, i) => {
      if (args[i - 1] !== '--var') return []
      const at = arg.indexOf(':')
      return [[arg.slice(0, at), arg.slice(at + 1)]]
    }),
  )

describe('loadStack', () => {
  it('uses the documented default ports', () => {
    const stack = loadStack({})
    const ports = Object.fromEntries(stack.services.map((s) => [s.name, s.port]))
    expect(ports).toMatchObject({
      neon: 4444,
      redis: 8079,
      qstash: 8080,
      'edge-api': 3003,
      jobs: 3004,
      'ml-node': 8001,
      web: 3050,
    })
    expect(stack.apiUrl).toBe('http://127.0.0.1:3003')
  })

  it('keeps every URL the workers get in step with overridden ports', () => {
    const stack = loadStack({
      NEON_EMULATOR_PORT: '5444',
      QSTASH_EMULATOR_PORT: '9080',
      ML_NODE_PORT: '9001',
    })
    const api = stack.services.find((s) => s.name === 'edge-api')
    expect(api).toBeDefined()
    const bindings = vars(api?.args ?? [])
    expect(bindings.NEON_EMULATOR_URL).toBe('http://127.0.0.1:5444')
    expect(bindings.QSTASH_URL).toBe('http://127.0.0.1:9080')
    expect(bindings.ML_NODE_URL).toBe('http://127.0.0.1:9001')
    expect(argAfter(api?.args ?? [], '--port')).toBe('3003')
    const migrate = stack.services.find((s) => s.name === 'migrate')
    expect(migrate?.env.NEON_EMULATOR_URL).toBe('http://127.0.0.1:5444')
  })

  it('points the workers at the real PostgreSQL URL when the Neon emulator uses one', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/test'
    const stack = loadStack({ NEON_EMULATOR_BACKEND: 'postgres', NEON_EMULATOR_POSTGRES_URL: url })
    const jobs = stack.services.find((s) => s.name === 'jobs')
    expect(vars(jobs?.args ?? []).DATABASE_URL).toBe(url)
  })

  it('rejects a bad port, naming the variable', () => {
    expect(() => loadStack({ EDGE_API_PORT: 'http' })).toThrow(
      'EDGE_API_PORT must be a port number between 1 and 65535',
    )
    expect(() => loadStack({ WEB_PORT: '70000' })).toThrow('WEB_PORT')
  })
})
