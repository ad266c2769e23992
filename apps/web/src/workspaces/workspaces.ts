/**
 * The signed-in user's workspaces (`GET /v1/workspaces`, each with the user's role) and creating
 * one (`POST /v1/workspaces`: the user becomes its owner).
 */
import type { Client, SuccessBody } from '@synthstack/sdk'
import { type Api, unwrap } from '../api/client'

export type Workspace = SuccessBody<
  Awaited<ReturnType<Client['v1']['workspaces']['$get']>>
>['data'][number]

/** The API's limit on a workspace name (after trimming). */
export const NAME_MAX = 200

export async function listWorkspaces(api: Api, signal?: AbortSignal): Promise<Workspace[]> {
  const body = await unwrap(api.sdk.v1.workspaces.$get({}, signal ? { init: { signal } } : {}))
  return body.data
}

export function createWorkspace(api: Api, name: string): Promise<Workspace> {
  return unwrap(api.sdk.v1.workspaces.$post({ json: { name: name.trim() } }))
}

/**
 * A message for a name the API would refuse for sure (blank), so no request is spent on it;
 * the API checks the rest (length) and its message goes beside the field the same way.
 */
export function nameProblem(name: string): string | null {
  return name.trim() === '' ? 'Enter a name for the workspace.' : null
}
