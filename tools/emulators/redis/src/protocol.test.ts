import { describe, expect, it } from 'vitest'
import { RedisReplyError } from './commands.js'
import {
  encodeReply,
  errorResponse,
  parseCommand,
  parsePathCommand,
  RequestError,
} from './protocol.js'

const b64 = (text: string) => Buffer.from(text).toString('base64')

describe('encodeReply', () => {
  it('base64-encodes every string recursively, keeps integers and nil, leaves top-level OK', () => {
    const reply = ['0', [Buffer.from('k1'), 'OK', 7, null, [Buffer.from([0xff, 0x00])]]]
    expect(encodeReply(reply, true)).toEqual([
      b64('0'),
      [b64('k1'), b64('OK'), 7, null, [Buffer.from([0xff, 0x00]).toString('base64')]],
    ])
    expect(encodeReply(Buffer.from('OK'), true)).toBe('OK')
    expect(encodeReply(null, true)).toBeNull()
    expect(encodeReply(42, true)).toBe(42)
  })

  it('answers plain strings without the header', () => {
    expect(encodeReply([Buffer.from('é'), 'x', 1], false)).toEqual(['é', 'x', 1])
  })
})

describe('parsing', () => {
  it('turns JSON values into Redis arguments', () => {
    expect(parseCommand(Buffer.from('["SET","k",1.5,true,null,{"a":1}]'))).toEqual([
      'SET',
      'k',
      '1.5',
      'true',
      '',
      '{"a":1}',
    ])
  })

  it('reads the path form with a body and query options', () => {
    const query = new URLSearchParams('EX=100&NX&_token=secret')
    expect(parsePathCommand('/set/a%2Fb/', query, Buffer.from('{"v":1}'))).toEqual([
      'set',
      'a/b',
      Buffer.from('{"v":1}'),
      'EX',
      '100',
      'NX',
    ])
    expect(() => parsePathCommand('/get/%E0%A4%A', new URLSearchParams(), Buffer.alloc(0))).toThrow(
      RequestError,
    )
  })

  it('maps failures to Upstash status codes', () => {
    expect(errorResponse(new RedisReplyError('WRONGTYPE x'))).toEqual({
      status: 400,
      body: { error: 'WRONGTYPE x' },
    })
    expect(errorResponse(new RequestError(400, 'ERR failed to parse command')).status).toBe(400)
    expect(errorResponse(new Error('Connection is closed.'))).toEqual({
      status: 500,
      body: { error: 'ERR Connection is closed.' },
    })
  })
})
