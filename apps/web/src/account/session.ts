import type { Client, SuccessBody } from '@synthstack/sdk'
import { computed, readonly, shallowRef } from 'vue'
import { type Api, ApiError, toApiError, unwrap } from '../api/client'
import type { RememberedWorkspace } from '../workspaces/remembered'

/** `GET /v1/me`: the signed-in user, their workspace, role and scopes. */
export type Me = SuccessBody<Awaited<ReturnType<Client['v1']['me']['$get']>>>
export type Role = Me['role']

export interface SignUpInput {
  email: string
  password: string
  name?: string
  workspace_name?: string
}

export interface LogInInput {
  email: string
  password: string
}

/**
 * Who is signed in, and the workspace they act in. The session itself is the API's HttpOnly
 * `ss_session` cookie, which this code never sees: it only asks `GET /v1/me` (401 = signed out).
 * Login and sign-up answers carry a bearer token too; the web app ignores it on purpose
 * (docs/auth.md).
 *
 * The workspace: the session's default one, or the one chosen with `switchWorkspace`, sent on
 * every call as `X-Workspace-Id` (`api.useWorkspace`) and kept in `remembered` across reloads.
 */
export function createSession(api: Api, remembered?: RememberedWorkspace) {
  const me = shallowRef<Me | null>(null)
  /** Set when the last check could not tell (API unreachable, 5xx): not the same as signed out. */
  const error = shallowRef<ApiError | null>(null)
  const checked = shallowRef(false)
  let pending: Promise<Me | null> | null = null
  const chosen = remembered?.read()
  if (chosen) api.useWorkspace(chosen)

  /** Back to the session's default workspace, here and after reloads. */
  function forgetWorkspace(): void {
    api.useWorkspace(null)
    remembered?.write(null)
  }

  async function fetchMe(): Promise<Me | null> {
    try {
      const body = await unwrap(api.sdk.v1.me.$get({ header: {} }))
      me.value = body
      error.value = null
      return body
    } catch (e) {
      const err = toApiError(e, api.url('/v1/me'))
      // The chosen workspace is gone (removed from it meanwhile, or another user's choice):
      // fall back to the session's default one instead of signing out.
      if (err.status === 404 && api.workspaceId !== null) {
        forgetWorkspace()
        return fetchMe()
      }
      me.value = null
      // 401: no session or an expired one; 404: its workspace is gone. Both mean "sign in".
      error.value = err.status === 401 || err.status === 404 ? null : err
      return null
    } finally {
      checked.value = true
    }
  }

  /** Asks the API once (later calls reuse the answer) unless `force`. */
  function load(force = false): Promise<Me | null> {
    if (!force && checked.value) return Promise.resolve(me.value)
    pending ??= fetchMe().finally(() => {
      pending = null
    })
    return pending
  }

  /** Confirms the cookie works by asking /v1/me right after. */
  async function afterSignIn(): Promise<Me> {
    const current = await fetchMe()
    if (!current) {
      throw (
        error.value ??
        new ApiError({
          status: 401,
          type: 'authentication_error',
          code: 'cookie_not_kept',
          message:
            'Signed in, but the browser did not keep the session cookie. Allow cookies for this site and try again.',
          url: api.url('/v1/me'),
        })
      )
    }
    return current
  }

  async function logIn(input: LogInInput): Promise<Me> {
    await unwrap(api.sdk.v1.auth.login.$post({ json: input }))
    return afterSignIn()
  }

  async function signUp(input: SignUpInput): Promise<Me> {
    // A new account starts in its new workspace, whatever was chosen in this browser before.
    forgetWorkspace()
    await unwrap(api.sdk.v1.auth.signup.$post({ json: input }))
    return afterSignIn()
  }

  /** Ends the session on the API; signed out locally even when the API says it already was. */
  async function logOut(): Promise<void> {
    try {
      await unwrap(api.sdk.v1.auth.logout.$post())
    } catch (e) {
      const err = toApiError(e)
      if (err.status !== 401) throw err
    }
    forgetWorkspace()
    me.value = null
    error.value = null
    checked.value = true
  }

  /**
   * Makes every later call act in `workspaceId` and remembers it, once `GET /v1/me` confirms the
   * user belongs there; otherwise throws (404: not a member) and keeps the current workspace.
   */
  async function switchWorkspace(workspaceId: string): Promise<Me> {
    const previous = api.workspaceId
    api.useWorkspace(workspaceId)
    try {
      const body = await unwrap(api.sdk.v1.me.$get({ header: {} }))
      me.value = body
      error.value = null
      checked.value = true
      remembered?.write(body.workspace.id)
      return body
    } catch (e) {
      api.useWorkspace(previous)
      throw toApiError(e, api.url('/v1/me'))
    }
  }

  /** For pages whose calls answer 401 (the session ended meanwhile). */
  function forget(): void {
    me.value = null
    checked.value = true
  }

  return {
    me: readonly(me),
    error: readonly(error),
    checked: readonly(checked),
    signedIn: computed(() => me.value !== null),
    load,
    logIn,
    signUp,
    logOut,
    switchWorkspace,
    forget,
  }
}

export type Session = ReturnType<typeof createSession>
