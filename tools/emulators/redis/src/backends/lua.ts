/// <reference path="../types/fengari.d.ts" />
/**
 * Lua scripting for the mock backend: one persistent Lua 5.3 VM (fengari), each script compiled
 * once and kept by SHA1, `redis.call` bound to the mock's synchronous command emulators.
 *
 * ioredis-mock's own EVAL builds a fresh VM and recompiles the script on every call (~15-50 ms
 * here) and converts replies loosely (nil inside arrays became a `null` object, which broke
 * `@upstash/ratelimit`'s token-bucket script). This runner converts values by Redis's rules:
 * Redis→Lua nil is `false`, arrays are tables, errors are `{err=…}`; Lua→Redis numbers truncate
 * to integers, `false` is nil, tables stop at the first nil, `{err=}`/`{ok=}` are error/status
 * replies. Numbers passed to `redis.call` are formatted like Redis's Lua 5.1 ("%.14g").
 */
import { createHash } from 'node:crypto'
import { type LuaState, lauxlib, lua, lualib, to_luastring } from 'fengari'
import { RedisReplyError } from '../commands.js'
import type { Reply } from './types.js'

/** Runs one Redis command synchronously; throws {@link RedisReplyError} for an error reply. */
export type SyncDispatch = (args: string[]) => Reply

/** Instructions a script may run before it counts as stuck (Redis has a busy-script timeout). */
const MAX_INSTRUCTIONS = 50_000_000

const ERR = to_luastring('err')
const OK = to_luastring('ok')

const SETUP = `
redis = {}
redis.pcall = __redis_pcall
redis.call = function(...)
  local reply = __redis_pcall(...)
  if type(reply) == 'table' and reply.err then error(reply, 2) end
  return reply
end
redis.error_reply = function(message) return { err = message } end
redis.status_reply = function(message) return { ok = message } end
redis.sha1hex = __redis_sha1hex
redis.log = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
unpack = table.unpack
`

export class LuaRunner {
  private readonly L: LuaState
  /** SHA1 of the client's script text → registry reference of the compiled function. */
  private readonly compiled = new Map<string, number>()

  constructor(private readonly dispatch: SyncDispatch) {
    const L = lauxlib.luaL_newstate()
    lualib.luaL_openlibs(L)
    lua.lua_pushcfunction(L, (state) => this.call(state))
    lua.lua_setglobal(L, to_luastring('__redis_pcall'))
    lua.lua_pushcfunction(L, (state) => {
      const text = lua.lua_tostring(state, 1) ?? new Uint8Array()
      lua.lua_pushstring(state, to_luastring(createHash('sha1').update(text).digest('hex')))
      return 1
    })
    lua.lua_setglobal(L, to_luastring('__redis_sha1hex'))
    if (lauxlib.luaL_dostring(L, to_luastring(SETUP)) !== lua.LUA_OK) {
      throw new Error(`cannot set up the Lua VM: ${lua.lua_tojsstring(L, -1)}`)
    }
    this.L = L
  }

  has(sha: string): boolean {
    return this.compiled.has(sha)
  }

  flush(): void {
    this.compiled.clear()
  }

  /** Compiles `script` (a shebang line is dropped, keeping line numbers); returns its SHA1. */
  load(script: string): string {
    const sha = createHash('sha1').update(script).digest('hex')
    if (this.compiled.has(sha)) return sha
    const body = script.startsWith('#!') ? script.replace(/^#![^\n]*/, '') : script
    const L = this.L
    const status = lauxlib.luaL_loadbuffer(
      L,
      to_luastring(body),
      null,
      to_luastring('@user_script'),
    )
    if (status !== lua.LUA_OK) {
      const message = lua.lua_tojsstring(L, -1)
      lua.lua_pop(L, 1)
      throw new RedisReplyError(`ERR Error compiling script (new function): ${message}`)
    }
    this.compiled.set(sha, lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX))
    return sha
  }

  /** Runs a loaded script (see {@link load}) with KEYS and ARGV. */
  run(sha: string, keys: string[], argv: string[]): Reply {
    const ref = this.compiled.get(sha)
    if (ref === undefined)
      throw new RedisReplyError('NOSCRIPT No matching script. Please use EVAL.')
    const L = this.L
    const top = lua.lua_gettop(L)
    try {
      setGlobalArray(L, 'KEYS', keys)
      setGlobalArray(L, 'ARGV', argv)
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref)
      lua.lua_sethook(
        L,
        () => {
          lua.lua_pushstring(L, to_luastring('script ran too long (busy script guard)'))
          lua.lua_error(L)
        },
        lua.LUA_MASKCOUNT,
        MAX_INSTRUCTIONS,
      )
      const status = lua.lua_pcall(L, 0, 1, 0)
      lua.lua_sethook(L, null, 0, 0)
      if (status !== lua.LUA_OK) throw scriptFailure(L, sha)
      const reply = toReply(L, -1)
      if (reply instanceof RedisReplyError) throw reply
      return reply
    } finally {
      lua.lua_settop(L, top)
    }
  }

  /** `redis.pcall`: runs a command; an error reply becomes `{err = message}`. */
  private call(L: LuaState): number {
    const count = lua.lua_gettop(L)
    const args: string[] = []
    for (let i = 1; i <= count; i++) {
      const type = lua.lua_type(L, i)
      if (type === lua.LUA_TNUMBER) args.push(formatNumber(lua.lua_tonumber(L, i)))
      else if (type === lua.LUA_TSTRING) args.push(lua.lua_tojsstring(L, i))
      else {
        pushError(L, 'ERR Lua redis lib command arguments must be strings or integers')
        return 1
      }
    }
    if (count === 0) {
      pushError(L, 'ERR Please specify at least one argument for this redis lib call')
      return 1
    }
    try {
      pushReply(L, this.dispatch(args))
    } catch (error) {
      pushError(L, error instanceof Error ? error.message : String(error))
    }
    return 1
  }
}

function setGlobalArray(L: LuaState, name: string, values: string[]): void {
  lua.lua_createtable(L, values.length, 0)
  for (const [i, value] of values.entries()) {
    lua.lua_pushstring(L, to_luastring(value))
    lua.lua_rawseti(L, -2, i + 1)
  }
  lua.lua_setglobal(L, to_luastring(name))
}

function pushError(L: LuaState, message: string): void {
  lua.lua_createtable(L, 0, 1)
  lua.lua_pushstring(L, to_luastring(message))
  lua.lua_setfield(L, -2, ERR)
}

/** Redis reply → Lua value. */
function pushReply(L: LuaState, reply: Reply): void {
  if (reply === null || reply === undefined) lua.lua_pushboolean(L, false)
  else if (typeof reply === 'number') {
    if (Number.isInteger(reply)) lua.lua_pushinteger(L, reply)
    else lua.lua_pushnumber(L, reply)
  } else if (typeof reply === 'string') lua.lua_pushstring(L, to_luastring(reply))
  else if (Buffer.isBuffer(reply)) lua.lua_pushstring(L, new Uint8Array(reply))
  else if (reply instanceof Error) pushError(L, reply.message)
  else {
    lua.lua_createtable(L, reply.length, 0)
    for (const [i, item] of reply.entries()) {
      pushReply(L, item)
      lua.lua_rawseti(L, -2, i + 1)
    }
  }
}

/** Lua value → Redis reply, by Redis's conversion rules. */
function toReply(L: LuaState, index: number): Reply {
  const type = lua.lua_type(L, index)
  if (type === lua.LUA_TNUMBER) return Math.trunc(lua.lua_tonumber(L, index))
  if (type === lua.LUA_TSTRING) return lua.lua_tojsstring(L, index)
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, index) ? 1 : null
  if (type !== lua.LUA_TTABLE) return null
  const at = index < 0 ? lua.lua_gettop(L) + index + 1 : index
  if (lua.lua_getfield(L, at, ERR) === lua.LUA_TSTRING) {
    const message = lua.lua_tojsstring(L, -1)
    lua.lua_pop(L, 1)
    return new RedisReplyError(message)
  }
  lua.lua_pop(L, 1)
  if (lua.lua_getfield(L, at, OK) === lua.LUA_TSTRING) {
    const status = lua.lua_tojsstring(L, -1)
    lua.lua_pop(L, 1)
    return status
  }
  lua.lua_pop(L, 1)
  const items: Reply[] = []
  for (let i = 1; ; i++) {
    if (lua.lua_rawgeti(L, at, i) === lua.LUA_TNIL) {
      lua.lua_pop(L, 1)
      break
    }
    items.push(toReply(L, -1))
    lua.lua_pop(L, 1)
  }
  return items
}

function scriptFailure(L: LuaState, sha: string): RedisReplyError {
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    const reply = toReply(L, -1)
    if (reply instanceof RedisReplyError) return reply
  }
  const message = lua.lua_tojsstring(L, -1)
  return new RedisReplyError(`ERR ${message} script: ${sha}, on @user_script.`)
}

/** Lua 5.1's "%.14g", which Redis uses when a script passes a number to redis.call. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e14) return String(value)
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf'
  const precise = value.toPrecision(14)
  const [mantissa = '', exponent] = precise.split('e')
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa
  if (exponent === undefined) return trimmed
  const sign = exponent.startsWith('-') ? '-' : '+'
  const digits = exponent.replace(/^[+-]/, '').padStart(2, '0')
  return `${trimmed}e${sign}${digits}`
}
