import { describe, expect, it } from 'vitest'
import { call, createKey, errorOf, PASSWORD, signup, uniqueEmail } from '../../test/helpers'

describe('workspaces and members', () => {
  it('lists, creates, reads and renames workspaces; sessions can switch with X-Workspace-Id', async () => {
    const a = await signup('ws', { workspace_name: 'Acme' })
    const created = await call('/v1/workspaces', {
      method: 'POST',
      token: a.token,
      json: { name: 'Side project' },
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: 'Side project', role: 'owner', plan: 'free' })
    const list = await call('/v1/workspaces', { token: a.token })
    expect(list.body.data.map((w: { name: string }) => w.name)).toEqual(['Acme', 'Side project'])
    const one = await call(`/v1/workspaces/${created.body.id}`, { token: a.token })
    expect(one.body).toMatchObject({ id: created.body.id, role: 'owner' })
    const renamed = await call(`/v1/workspaces/${created.body.id}`, {
      method: 'PATCH',
      token: a.token,
      json: { name: 'Renamed' },
    })
    expect(renamed.body.name).toBe('Renamed')
    const me = await call('/v1/me', {
      token: a.token,
      headers: { 'X-Workspace-Id': created.body.id },
    })
    expect(me.body.workspace.id).toBe(created.body.id)
    const bad = await call('/v1/me', { token: a.token, headers: { 'X-Workspace-Id': 'nope' } })
    expect(bad.status).toBe(400)
    expect(errorOf(bad).param).toBe('X-Workspace-Id')
  })

  it('adds existing users, invites new emails (joined at sign-up), changes roles and removes', async () => {
    const owner = await signup('owner')
    const existing = await signup('existing')
    const base = `/v1/workspaces/${owner.workspaceId}/members`
    const added = await call(base, {
      method: 'POST',
      token: owner.token,
      json: { email: existing.email.toUpperCase(), role: 'admin' },
    })
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({ user_id: existing.userId, role: 'admin' })
    const again = await call(base, {
      method: 'POST',
      token: owner.token,
      json: { email: existing.email },
    })
    expect(again.status).toBe(409)
    expect(errorOf(again).code).toBe('already_member')

    const newcomer = uniqueEmail('invited')
    const invited = await call(base, {
      method: 'POST',
      token: owner.token,
      json: { email: newcomer },
    })
    expect(invited.status).toBe(202)
    expect(invited.body).toMatchObject({ email: newcomer, role: 'member' })
    const joined = await call('/v1/auth/signup', {
      method: 'POST',
      json: { email: newcomer, password: PASSWORD },
    })
    const mine = await call('/v1/workspaces', { token: joined.body.session.token })
    expect(mine.body.data.map((w: { id: string }) => w.id)).toContain(owner.workspaceId)

    // The path picks the workspace: the new admin's session reaches it though their default differs.
    const members = await call(base, { token: existing.token })
    expect(members.status).toBe(200)
    const listed = await call(base, { token: owner.token })
    expect(listed.body.data.map((m: { role: string }) => m.role).sort()).toEqual([
      'admin',
      'member',
      'owner',
    ])
    expect(listed.body.invitations).toEqual([])

    // An admin cannot make owners; the owner can.
    const adminToken = (
      await call('/v1/auth/login', {
        method: 'POST',
        json: { email: existing.email, password: PASSWORD, workspace_id: owner.workspaceId },
      })
    ).body.session.token
    const promote = await call(`${base}/${joined.body.user.id}`, {
      method: 'PATCH',
      token: adminToken,
      json: { role: 'owner' },
    })
    expect(promote.status).toBe(403)
    const demoteLast = await call(`${base}/${owner.userId}`, {
      method: 'PATCH',
      token: owner.token,
      json: { role: 'admin' },
    })
    expect(demoteLast.status).toBe(409)
    expect(errorOf(demoteLast).code).toBe('last_owner')
    const leaveLast = await call(`${base}/${owner.userId}`, {
      method: 'DELETE',
      token: owner.token,
    })
    expect(leaveLast.status).toBe(409)
    const changed = await call(`${base}/${joined.body.user.id}`, {
      method: 'PATCH',
      token: adminToken,
      json: { role: 'admin' },
    })
    expect(changed.body.role).toBe('admin')
    const removed = await call(`${base}/${joined.body.user.id}`, {
      method: 'DELETE',
      token: owner.token,
    })
    expect(removed.status).toBe(204)
    const gone = await call(`/v1/workspaces/${owner.workspaceId}`, {
      token: joined.body.session.token,
    })
    expect(gone.status).toBe(404)
    const missing = await call(`${base}/${crypto.randomUUID()}`, {
      method: 'DELETE',
      token: owner.token,
    })
    expect(missing.status).toBe(404)
    expect(errorOf(missing).code).toBe('member_not_found')
    // A member may leave on their own.
    const left = await call(`${base}/${existing.userId}`, { method: 'DELETE', token: adminToken })
    expect(left.status).toBe(204)
  })

  it('revokes pending invitations: only in its own workspace, and the email no longer joins', async () => {
    const [a, b] = await Promise.all([signup('inv-a'), signup('inv-b')])
    const invite = async (owner: typeof a, email: string) => {
      const r = await call(`/v1/workspaces/${owner.workspaceId}/members`, {
        method: 'POST',
        token: owner.token,
        json: { email },
      })
      expect(r.status).toBe(202)
      return r.body.id as string
    }
    const [wrong, kept, theirs] = [uniqueEmail('wrong'), uniqueEmail('kept'), uniqueEmail('theirs')]
    const wrongId = await invite(a, wrong)
    const keptId = await invite(a, kept)
    const theirsId = await invite(b, theirs)
    const invitations = `/v1/workspaces/${a.workspaceId}/invitations`
    const pending = async (owner: typeof a) =>
      (
        await call(`/v1/workspaces/${owner.workspaceId}/members`, { token: owner.token })
      ).body.invitations.map((i: { email: string }) => i.email)

    const revoked = await call(`${invitations}/${wrongId}`, { method: 'DELETE', token: a.token })
    expect(revoked.status).toBe(204)
    expect(revoked.body).toBeNull()
    expect(await pending(a)).toEqual([kept])
    const again = await call(`${invitations}/${wrongId}`, { method: 'DELETE', token: a.token })
    expect(again.status).toBe(404)
    expect(errorOf(again)).toMatchObject({ code: 'invitation_not_found', param: 'invitation_id' })

    // B's invitation through A's workspace: not found, and still pending for B.
    const foreign = await call(`${invitations}/${theirsId}`, { method: 'DELETE', token: a.token })
    expect(foreign.status).toBe(404)
    expect(errorOf(foreign).code).toBe('invitation_not_found')
    expect(await pending(b)).toEqual([theirs])
    const unknown = await call(`${invitations}/${crypto.randomUUID()}`, {
      method: 'DELETE',
      token: a.token,
    })
    expect(unknown.status).toBe(404)

    const bad = await call(`${invitations}/not-a-uuid`, { method: 'DELETE', token: a.token })
    expect(bad.status).toBe(400)
    expect(errorOf(bad)).toMatchObject({ code: 'invalid_parameter', param: 'invitation_id' })

    // An API key with the admin scope may revoke too (its own workspace only).
    const key = await createKey(a.token, ['admin'])
    const byKey = await call(`${invitations}/${keptId}`, { method: 'DELETE', token: key.key })
    expect(byKey.status).toBe(204)
    expect(await pending(a)).toEqual([])

    // The revoked email signs up with a workspace of its own and nothing else.
    const joined = await call('/v1/auth/signup', {
      method: 'POST',
      json: { email: wrong, password: PASSWORD },
    })
    expect(joined.status).toBe(201)
    const theirWorkspaces = await call('/v1/workspaces', { token: joined.body.session.token })
    expect(theirWorkspaces.body.data.map((w: { id: string }) => w.id)).not.toContain(a.workspaceId)
    expect(theirWorkspaces.body.data).toHaveLength(1)
  })

  it.each([
    ['POST', '/v1/workspaces', { name: '' }, 'name'],
    ['POST', 'MEMBERS', { email: 'nope' }, 'email'],
    ['POST', 'MEMBERS', { email: 'a@b.co', role: 'king' }, 'role'],
    ['PATCH', 'SELF', { role: 'boss' }, 'role'],
    ['PATCH', 'WS', { name: 5 }, 'name'],
  ] as const)('%s %s answers 400 naming the field', async (method, path, json, param) => {
    const a = await signup('wsbad')
    const url = {
      '/v1/workspaces': '/v1/workspaces',
      MEMBERS: `/v1/workspaces/${a.workspaceId}/members`,
      SELF: `/v1/workspaces/${a.workspaceId}/members/${a.userId}`,
      WS: `/v1/workspaces/${a.workspaceId}`,
    }[path]
    const r = await call(url, { method, token: a.token, json })
    expect(r.status).toBe(400)
    expect(errorOf(r).param).toBe(param)
  })

  it('says what is wrong with a workspace name', async () => {
    const a = await signup('wsname')
    const blank = await call('/v1/workspaces', {
      method: 'POST',
      token: a.token,
      json: { name: '   ' },
    })
    expect(errorOf(blank).message).toBe("Invalid body parameter 'name': must not be empty")
    const long = await call(`/v1/workspaces/${a.workspaceId}`, {
      method: 'PATCH',
      token: a.token,
      json: { name: 'x'.repeat(201) },
    })
    expect(long.status).toBe(400)
    expect(errorOf(long).message).toBe(
      "Invalid body parameter 'name': must be at most 200 characters",
    )
  })

  it('answers 400 for a malformed workspace id', async () => {
    const a = await signup('wsid')
    const r = await call('/v1/workspaces/not-a-uuid', { token: a.token })
    expect(r.status).toBe(400)
    expect(errorOf(r).param).toBe('workspace_id')
  })
})
