import { describe, expect, it } from 'vitest'
import { configureNeonForEmulator, type NeonConfigTarget } from './neon-local'

const blank = (): NeonConfigTarget => ({
  wsProxy: (host) => `${host}/v2`,
  useSecureWebSocket: true,
  pipelineConnect: 'password',
  fetchEndpoint: 'https://example.neon.tech/sql',
  webSocketConstructor: undefined,
})

describe('configureNeonForEmulator', () => {
  it('points WebSocket and HTTP traffic at the emulator without TLS or pipelining', () => {
    const config = blank()
    configureNeonForEmulator(config, 'http://127.0.0.1:4444')
    expect(config.useSecureWebSocket).toBe(false)
    expect(config.pipelineConnect).toBe(false)
    expect(config.fetchEndpoint).toBe('http://127.0.0.1:4444/sql')
    const proxy = config.wsProxy as (host: string, port: number) => string
    expect(proxy('db.internal', 5432)).toBe('127.0.0.1:4444/v2?address=db.internal:5432')
    expect(config.webSocketConstructor).toBeUndefined()
  })

  it('keeps a path prefix and uses wss for an https emulator', () => {
    const config = blank()
    const ctor = class {}
    configureNeonForEmulator(config, 'https://dev.example/neon/', { webSocketConstructor: ctor })
    expect(config.useSecureWebSocket).toBe(true)
    expect(config.fetchEndpoint).toBe('https://dev.example/neon/sql')
    expect((config.wsProxy as (h: string, p: number) => string)('h', 1)).toBe(
      'dev.example/neon/v2?address=h:1',
    )
    expect(config.webSocketConstructor).toBe(ctor)
  })

  it('rejects a non-HTTP or malformed URL without echoing it', () => {
    expect(() => configureNeonForEmulator(blank(), 'postgres://u:secretpw@h/db')).toThrow(
      /must use http/,
    )
    try {
      configureNeonForEmulator(blank(), 'not a url secretpw')
      expect.unreachable()
    } catch (error) {
      expect(String(error)).toMatch(/not a valid URL/)
      expect(String(error)).not.toContain('secretpw')
    }
  })
})
