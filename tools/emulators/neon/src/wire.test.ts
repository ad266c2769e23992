import { describe, expect, it } from 'vitest'
import {
  FrontendFramer,
  lastReadyForQueryStatus,
  passwordOf,
  proxyErrorResponse,
  queryMessage,
  SYNC_MESSAGE,
  startupParameters,
} from './wire'

function startup(): Buffer {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0')
  const out = Buffer.alloc(8 + params.length)
  out.writeInt32BE(out.length, 0)
  out.writeInt32BE(196608, 4)
  params.copy(out, 8)
  return out
}

describe('FrontendFramer', () => {
  it('frames startup, then typed messages split across chunks', () => {
    const framer = new FrontendFramer()
    const ssl = Buffer.alloc(8)
    ssl.writeInt32BE(8, 0)
    ssl.writeInt32BE(80877103, 4)
    const all = Buffer.concat([ssl, startup(), queryMessage('select 1'), SYNC_MESSAGE])
    const seen: string[] = []
    for (let i = 0; i < all.length; i += 3) {
      for (const m of framer.push(all.subarray(i, i + 3))) {
        seen.push(m.kind === 'typed' ? m.type : m.kind)
      }
    }
    expect(seen).toEqual(['ssl-request', 'startup', 'Q', 'S'])
  })

  it('rejects nonsense lengths', () => {
    const framer = new FrontendFramer()
    framer.push(startup())
    expect(() => framer.push(Buffer.from([0x51, 0, 0, 0, 1]))).toThrow('invalid message length')
  })
})

describe('lastReadyForQueryStatus', () => {
  it('finds the last status', () => {
    const z = (s: string) => Buffer.from([0x5a, 0, 0, 0, 5, s.charCodeAt(0)])
    expect(lastReadyForQueryStatus(Buffer.concat([z('I'), queryMessage('x'), z('T')]))).toBe('T')
    expect(lastReadyForQueryStatus(queryMessage('x'))).toBeUndefined()
  })
})

describe('authentication messages', () => {
  it('reads startup parameters and a password message', () => {
    expect(Object.fromEntries(startupParameters(startup()))).toEqual({
      user: 'postgres',
      database: 'postgres',
    })
    const password = Buffer.from('p\0\0\0\x0cs3cr\xc3\xa9t\0', 'latin1')
    expect(passwordOf(password)).toBe('s3crét')
  })

  it("writes Neon's proxy ErrorResponse: severity ERROR, code XX000, the message", () => {
    const bytes = proxyErrorResponse("password authentication failed for user 'x'")
    expect(bytes[0]).toBe(0x45)
    expect(bytes.readInt32BE(1)).toBe(bytes.length - 1)
    expect(bytes.subarray(5).toString('utf8')).toBe(
      "SERROR\0CXX000\0Mpassword authentication failed for user 'x'\0\0",
    )
  })
})
