import { createRoute, z } from '@hono/zod-openapi'
import {
  and,
  asc,
  eq,
  sql,
  users,
  workspaceInvitations,
  workspaceMembers,
  workspaces,
} from '@synthstack/db'
import { markStale, memberCacheKey } from '../auth/cache'
import type { Config } from '../config'
import { ApiError } from '../errors'
import { requireAuth, requireRole, requireScope, workspaceNotFound } from '../middleware/auth'
import { createRouter } from '../router'
import { authErrorResponses, authSecurity, ErrorSchema, WorkspaceIdParam } from '../schemas'
import { getDb, getRedis } from '../stores'
import { EmailSchema, WorkspaceSchema } from './auth'

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } })
const Role = z.enum(['owner', 'admin', 'member'])

const WorkspaceName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
const WorkspaceWithRole = WorkspaceSchema.extend({ role: Role }).openapi('WorkspaceMembership')
const MemberSchema = z
  .object({
    user_id: z.string().uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: Role,
    created_at: z.string(),
  })
  .openapi('Member')
const InvitationSchema = z
  .object({ id: z.string().uuid(), email: z.string(), role: Role, created_at: z.string() })
  .openapi('Invitation')
const UserIdParam = WorkspaceIdParam.extend({
  user_id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'user_id', in: 'path' } }),
})
const InvitationIdParam = WorkspaceIdParam.extend({
  invitation_id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'invitation_id', in: 'path' } }),
})
const conflict = { 409: { description: 'Conflict', ...json(ErrorSchema) } }

const listRoute = createRoute({
  method: 'get',
  path: '/v1/workspaces',
  tags: ['Workspaces'],
  summary: "The signed-in user's workspaces",
  security: authSecurity,
  middleware: [requireAuth({ sessionOnly: true })] as const,
  responses: {
    200: { description: 'Workspaces', ...json(z.object({ data: z.array(WorkspaceWithRole) })) },
    ...authErrorResponses,
  },
})

const createWorkspaceRoute = createRoute({
  method: 'post',
  path: '/v1/workspaces',
  tags: ['Workspaces'],
  summary: 'Create a workspace (the caller becomes its owner)',
  security: authSecurity,
  middleware: [requireAuth({ sessionOnly: true })] as const,
  request: {
    body: {
      required: true,
      ...json(z.object({ name: WorkspaceName })),
    },
  },
  responses: { 201: { description: 'Created', ...json(WorkspaceWithRole) }, ...authErrorResponses },
})

const getRoute = createRoute({
  method: 'get',
  path: '/v1/workspaces/{workspace_id}',
  tags: ['Workspaces'],
  summary: 'One workspace (members only)',
  security: authSecurity,
  middleware: [requireAuth()] as const,
  request: { params: WorkspaceIdParam },
  responses: {
    200: { description: 'Workspace', ...json(WorkspaceWithRole) },
    ...authErrorResponses,
  },
})

const renameRoute = createRoute({
  method: 'patch',
  path: '/v1/workspaces/{workspace_id}',
  tags: ['Workspaces'],
  summary: 'Rename a workspace (admin)',
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: {
    params: WorkspaceIdParam,
    body: { required: true, ...json(z.object({ name: WorkspaceName })) },
  },
  responses: { 200: { description: 'Renamed', ...json(WorkspaceWithRole) }, ...authErrorResponses },
})

const membersRoute = createRoute({
  method: 'get',
  path: '/v1/workspaces/{workspace_id}/members',
  tags: ['Workspaces'],
  summary: 'Members and pending invitations',
  security: authSecurity,
  middleware: [requireAuth()] as const,
  request: { params: WorkspaceIdParam },
  responses: {
    200: {
      description: 'Members',
      ...json(z.object({ data: z.array(MemberSchema), invitations: z.array(InvitationSchema) })),
    },
    ...authErrorResponses,
  },
})

const addMemberRoute = createRoute({
  method: 'post',
  path: '/v1/workspaces/{workspace_id}/members',
  tags: ['Workspaces'],
  summary: 'Add a member by email, or invite the email when it has no account yet (admin)',
  description:
    'An existing user joins at once (201). Otherwise an invitation is recorded (202) and the ' +
    'person joins when they sign up with that email. Only an owner can grant `owner`.',
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: {
    params: WorkspaceIdParam,
    body: {
      required: true,
      ...json(z.object({ email: EmailSchema, role: Role.default('member') })),
    },
  },
  responses: {
    201: { description: 'Added', ...json(MemberSchema) },
    202: { description: 'Invited', ...json(InvitationSchema) },
    ...conflict,
    ...authErrorResponses,
  },
})

const changeRoleRoute = createRoute({
  method: 'patch',
  path: '/v1/workspaces/{workspace_id}/members/{user_id}',
  tags: ['Workspaces'],
  summary: "Change a member's role (admin; owners only for owner changes)",
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: { params: UserIdParam, body: { required: true, ...json(z.object({ role: Role })) } },
  responses: {
    200: { description: 'Changed', ...json(MemberSchema) },
    ...conflict,
    ...authErrorResponses,
  },
})

const removeMemberRoute = createRoute({
  method: 'delete',
  path: '/v1/workspaces/{workspace_id}/members/{user_id}',
  tags: ['Workspaces'],
  summary: 'Remove a member (admin), or leave (yourself)',
  security: authSecurity,
  middleware: [requireAuth()] as const,
  request: { params: UserIdParam },
  responses: { 204: { description: 'Removed' }, ...conflict, ...authErrorResponses },
})

const revokeInvitationRoute = createRoute({
  method: 'delete',
  path: '/v1/workspaces/{workspace_id}/invitations/{invitation_id}',
  tags: ['Workspaces'],
  summary: 'Revoke a pending invitation (admin)',
  description:
    "The email no longer joins the workspace at sign-up. Another workspace's invitation, or one " +
    'already accepted or revoked, answers 404.',
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: { params: InvitationIdParam },
  responses: { 204: { description: 'Revoked' }, ...authErrorResponses },
})

const iso = (d: Date) => d.toISOString()
type Plan = 'free' | 'pro' | 'enterprise'
type RoleName = z.infer<typeof Role>

/** A workspace as the API shows it to a member: with the caller's role in it. */
const workspaceOut = (
  w: { id: string; name: string; plan: string; createdAt: Date },
  role: RoleName,
) => ({ id: w.id, name: w.name, plan: w.plan as Plan, created_at: iso(w.createdAt), role })
const RANK: Record<RoleName, number> = { member: 1, admin: 2, owner: 3 }

const forbidden = (message: string) =>
  new ApiError(403, { type: 'permission_error', code: 'insufficient_role', message })
const memberNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'member_not_found',
    message: 'No such member in this workspace.',
    param: 'user_id',
  })
const invitationNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'invitation_not_found',
    message: 'No such pending invitation in this workspace.',
    param: 'invitation_id',
  })
const lastOwner = () =>
  new ApiError(409, {
    type: 'conflict_error',
    code: 'last_owner',
    message: 'A workspace needs at least one owner; make someone else owner first.',
  })

export const workspaceRoutes = createRouter()
  .openapi(listRoute, async (c) => {
    const rows = await getDb(c.get('config'))
      .select({ workspace: workspaces, role: workspaceMembers.role })
      .from(workspaceMembers)
      .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
      .where(eq(workspaceMembers.userId, c.get('auth').userId ?? ''))
      .orderBy(asc(workspaceMembers.createdAt))
    return c.json(
      {
        data: rows.map(({ workspace, role }) => workspaceOut(workspace, role)),
      },
      200,
    )
  })
  .openapi(createWorkspaceRoute, async (c) => {
    const { name } = c.req.valid('json')
    const userId = c.get('auth').userId ?? ''
    const db = getDb(c.get('config'))
    const id = crypto.randomUUID()
    const [[w]] = await db.batch([
      db.insert(workspaces).values({ id, name }).returning(),
      db.insert(workspaceMembers).values({ workspaceId: id, userId, role: 'owner' }),
    ])
    if (!w) throw new Error('workspace insert returned no row')
    return c.json(workspaceOut(w, 'owner'), 201)
  })
  .openapi(getRoute, async (c) => {
    const auth = c.get('auth')
    const [w] = await getDb(c.get('config'))
      .select()
      .from(workspaces)
      .where(eq(workspaces.id, auth.workspaceId))
    if (!w) throw workspaceNotFound()
    return c.json(workspaceOut(w, auth.role), 200)
  })
  .openapi(renameRoute, async (c) => {
    const auth = c.get('auth')
    const [w] = await getDb(c.get('config'))
      .update(workspaces)
      .set({ name: c.req.valid('json').name })
      .where(eq(workspaces.id, auth.workspaceId))
      .returning()
    if (!w) throw workspaceNotFound()
    return c.json(workspaceOut(w, auth.role), 200)
  })
  .openapi(membersRoute, async (c) => {
    const { workspaceId } = c.get('auth')
    const db = getDb(c.get('config'))
    const [members, invitations] = await Promise.all([
      db
        .select({
          user_id: users.id,
          email: users.email,
          name: users.name,
          role: workspaceMembers.role,
          createdAt: workspaceMembers.createdAt,
        })
        .from(workspaceMembers)
        .innerJoin(users, eq(users.id, workspaceMembers.userId))
        .where(eq(workspaceMembers.workspaceId, workspaceId))
        .orderBy(asc(workspaceMembers.createdAt)),
      db
        .select()
        .from(workspaceInvitations)
        .where(eq(workspaceInvitations.workspaceId, workspaceId))
        .orderBy(asc(workspaceInvitations.createdAt)),
    ])
    return c.json(
      {
        data: members.map(({ createdAt, ...m }) => ({ ...m, created_at: iso(createdAt) })),
        invitations: invitations.map((i) => ({
          id: i.id,
          email: i.email,
          role: i.role,
          created_at: iso(i.createdAt),
        })),
      },
      200,
    )
  })
  .openapi(addMemberRoute, async (c) => {
    const auth = c.get('auth')
    const { email, role } = c.req.valid('json')
    if (role === 'owner' && auth.role !== 'owner')
      throw forbidden('Only an owner can add an owner.')
    const db = getDb(c.get('config'))
    const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1)
    if (!user) {
      const [invitation] = await db
        .insert(workspaceInvitations)
        .values({ workspaceId: auth.workspaceId, email, role, invitedBy: auth.userId })
        .onConflictDoUpdate({
          target: [workspaceInvitations.workspaceId, workspaceInvitations.email],
          set: { role },
        })
        .returning()
      if (!invitation) throw new Error('invitation insert returned no row')
      return c.json(
        { id: invitation.id, email, role: invitation.role, created_at: iso(invitation.createdAt) },
        202,
      )
    }
    const [member] = await db
      .insert(workspaceMembers)
      .values({ workspaceId: auth.workspaceId, userId: user.id, role })
      .onConflictDoNothing()
      .returning()
    if (!member) {
      throw new ApiError(409, {
        type: 'conflict_error',
        code: 'already_member',
        message: 'This user is already a member of the workspace.',
        param: 'email',
      })
    }
    return c.json(
      {
        user_id: user.id,
        email: user.email,
        name: user.name,
        role: member.role,
        created_at: iso(member.createdAt),
      },
      201,
    )
  })
  .openapi(changeRoleRoute, async (c) => {
    const auth = c.get('auth')
    const { user_id } = c.req.valid('param')
    const { role } = c.req.valid('json')
    const db = getDb(c.get('config'))
    const target = await memberOf(db, auth.workspaceId, user_id)
    if (!target) throw memberNotFound()
    if ((role === 'owner' || target.role === 'owner') && auth.role !== 'owner') {
      throw forbidden('Only an owner can grant or take away the owner role.')
    }
    if (
      target.role === 'owner' &&
      role !== 'owner' &&
      (await ownerCount(db, auth.workspaceId)) <= 1
    ) {
      throw lastOwner()
    }
    const [updated] = await db
      .update(workspaceMembers)
      .set({ role })
      .where(
        and(
          eq(workspaceMembers.workspaceId, auth.workspaceId),
          eq(workspaceMembers.userId, user_id),
        ),
      )
      .returning()
    if (!updated) throw memberNotFound()
    await forgetMember(c.get('config'), auth.workspaceId, user_id)
    return c.json(
      {
        user_id,
        email: target.email,
        name: target.name,
        role: updated.role,
        created_at: iso(updated.createdAt),
      },
      200,
    )
  })
  .openapi(removeMemberRoute, async (c) => {
    const auth = c.get('auth')
    const { user_id } = c.req.valid('param')
    const self = auth.userId === user_id
    if (!self) {
      if (!auth.scopes.includes('admin')) {
        throw new ApiError(403, {
          type: 'permission_error',
          code: 'missing_scope',
          message: 'This API key lacks the "admin" scope.',
        })
      }
      if (RANK[auth.role] < RANK.admin)
        throw forbidden('This needs the admin role in the workspace.')
    }
    const db = getDb(c.get('config'))
    const target = await memberOf(db, auth.workspaceId, user_id)
    if (!target) throw memberNotFound()
    if (target.role === 'owner' && !self && auth.role !== 'owner') {
      throw forbidden('Only an owner can remove an owner.')
    }
    if (target.role === 'owner' && (await ownerCount(db, auth.workspaceId)) <= 1) throw lastOwner()
    await db
      .delete(workspaceMembers)
      .where(
        and(
          eq(workspaceMembers.workspaceId, auth.workspaceId),
          eq(workspaceMembers.userId, user_id),
        ),
      )
    await forgetMember(c.get('config'), auth.workspaceId, user_id)
    return c.body(null, 204)
  })
  .openapi(revokeInvitationRoute, async (c) => {
    const { workspaceId } = c.get('auth')
    const { invitation_id } = c.req.valid('param')
    // Filtered by the caller's workspace too: another workspace's invitation is "not found".
    const [revoked] = await getDb(c.get('config'))
      .delete(workspaceInvitations)
      .where(
        and(
          eq(workspaceInvitations.id, invitation_id),
          eq(workspaceInvitations.workspaceId, workspaceId),
        ),
      )
      .returning({ id: workspaceInvitations.id })
    if (!revoked) throw invitationNotFound()
    return c.body(null, 204)
  })

/**
 * After a membership change in the database: the cached membership (src/auth/cache.ts) becomes a
 * tombstone, so the member's next request, in any isolate, reads Postgres. If Redis cannot be
 * told, the change still stands in Postgres; the old entry lives at most CACHE_SECONDS.
 */
async function forgetMember(config: Config, workspaceId: string, userId: string) {
  try {
    await markStale(getRedis(config), memberCacheKey(workspaceId, userId))
  } catch (error) {
    console.warn(
      `membership change: auth cache not updated: ${error instanceof Error ? error.name : 'error'}`,
    )
  }
}

async function memberOf(db: ReturnType<typeof getDb>, workspaceId: string, userId: string) {
  const [row] = await db
    .select({ role: workspaceMembers.role, email: users.email, name: users.name })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)))
  return row
}

async function ownerCount(db: ReturnType<typeof getDb>, workspaceId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.role, 'owner')))
  return Number(row?.n ?? 0)
}
