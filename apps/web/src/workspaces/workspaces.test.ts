import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApi } from '../api/client'
import { sendJson, startServer, type TestServer } from '../test-support/http-server'
import { createWorkspace, listWorkspaces, nameProblem } from './workspaces'

// A node:http stand-in for the workspace routes, recording what the SDK sent.
const OWN = {
  id: '5b0b8a8e-8f4b-4a57-9a53-1f6f0d3c9a11',
  name: "Ada's workspace",
  plan: 'free',
  created_at: '2026-05-01T00:00:00.000Z',
  role: 'owner',
}
const TEAM = { ...OWN, id: '0d6f2a4e-1c3b-4f5a-9e8d-7c6b5a4f3e2d', name: 'Team', role: 'member' }
let server: TestServer
let requests: { method: string; url: string; workspace: unknown; body: string }[] = []

beforeAll(async () => {
  server = await startServer((req, res, body) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      workspace: req.headers['x-workspace-id'],
      body,
    })
    switch (`${req.method} ${req.url}`) {
      case 'GET /v1/workspaces':
        return sendJson(res, 200, { data: [OWN, TEAM] })
      case 'POST /v1/workspaces': {
        const { name } = JSON.parse(body) as { name: string }
        if (name.length > 200) {
          return sendJson(res, 400, {
            error: {
              type: 'invalid_request_error',
              code: 'invalid_parameter',
              message: "Invalid body parameter 'name': must be at most 200 characters",
              param: 'name',
              request_id: 'req_1',
            },
          })
        }
        return sendJson(res, 201, {
          ...OWN,
          id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
          name,
          role: 'owner',
        })
      }
      default:
        return sendJson(res, 404, { error: { message: 'nope' } })
    }
  })
})
afterAll(() => server.close())
beforeEach(() => {
  requests = []
})

describe('workspaces', () => {
  it('lists the workspaces with roles, acting in the chosen workspace', async () => {
    const api = createApi(server.url)
    expect((await listWorkspaces(api)).map((w) => [w.name, w.role])).toEqual([
      ["Ada's workspace", 'owner'],
      ['Team', 'member'],
    ])
    api.useWorkspace(TEAM.id)
    await listWorkspaces(api)
    api.useWorkspace(null)
    await listWorkspaces(api)
    expect(requests.map((r) => r.workspace)).toEqual([undefined, TEAM.id, undefined])
  })

  it('creates a workspace with the trimmed name; the API’s refusal names the field', async () => {
    const api = createApi(server.url)
    const created = await createWorkspace(api, '  Side project  ')
    expect(created).toMatchObject({ name: 'Side project', role: 'owner' })
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ name: 'Side project' })
    await expect(createWorkspace(api, 'x'.repeat(201))).rejects.toMatchObject({
      status: 400,
      param: 'name',
      message: "Invalid body parameter 'name': must be at most 200 characters",
    })
  })

  it('refuses a blank name before asking the API', () => {
    expect(nameProblem('')).toBe('Enter a name for the workspace.')
    expect(nameProblem(' \t ')).toBe('Enter a name for the workspace.')
    expect(nameProblem('Acme')).toBeNull()
  })
})
