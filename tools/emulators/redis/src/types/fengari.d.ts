// The part of fengari's API (Lua 5.3 in JS) the mock backend's script runner uses.
declare module 'fengari' {
  export type LuaState = { readonly __luaState: unique symbol }
  export type LuaString = Uint8Array
  export type LuaFunction = (L: LuaState) => number

  export const lua: {
    LUA_OK: number
    LUA_REGISTRYINDEX: number
    LUA_TNIL: number
    LUA_TBOOLEAN: number
    LUA_TNUMBER: number
    LUA_TSTRING: number
    LUA_TTABLE: number
    LUA_MASKCOUNT: number
    lua_gettop(L: LuaState): number
    lua_settop(L: LuaState, index: number): void
    lua_pop(L: LuaState, n: number): void
    lua_type(L: LuaState, index: number): number
    lua_toboolean(L: LuaState, index: number): boolean
    lua_tonumber(L: LuaState, index: number): number
    lua_tostring(L: LuaState, index: number): LuaString | null
    lua_tojsstring(L: LuaState, index: number): string
    lua_pushnil(L: LuaState): void
    lua_pushboolean(L: LuaState, value: boolean): void
    lua_pushinteger(L: LuaState, value: number): void
    lua_pushnumber(L: LuaState, value: number): void
    lua_pushstring(L: LuaState, value: LuaString): void
    lua_pushcfunction(L: LuaState, fn: LuaFunction): void
    lua_createtable(L: LuaState, narr: number, nrec: number): void
    lua_rawseti(L: LuaState, index: number, n: number): void
    lua_rawgeti(L: LuaState, index: number, n: number): number
    lua_setfield(L: LuaState, index: number, key: LuaString): void
    lua_getfield(L: LuaState, index: number, key: LuaString): number
    lua_setglobal(L: LuaState, name: LuaString): void
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number
    lua_sethook(
      L: LuaState,
      hook: ((L: LuaState) => void) | null,
      mask: number,
      count: number,
    ): void
    lua_error(L: LuaState): never
  }
  export const lauxlib: {
    luaL_newstate(): LuaState
    luaL_loadbuffer(L: LuaState, code: LuaString, size: number | null, name: LuaString): number
    luaL_ref(L: LuaState, table: number): number
    luaL_dostring(L: LuaState, code: LuaString): number
  }
  export const lualib: { luaL_openlibs(L: LuaState): void }
  export function to_luastring(text: string): LuaString
}
