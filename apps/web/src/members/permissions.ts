import type { Role } from '../account/session'

export const ROLES: readonly Role[] = ['owner', 'admin', 'member']
const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 }

export const ROLE_LABEL: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
}

/** Owners and admins manage members; members see the list read-only. */
export const canManageMembers = (actor: Role): boolean => RANK[actor] >= RANK.admin

/** Roles `actor` may give: only an owner grants owner (the API answers 403 otherwise). */
export function grantableRoles(actor: Role): Role[] {
  if (!canManageMembers(actor)) return []
  return actor === 'owner' ? [...ROLES] : ['admin', 'member']
}

export interface MemberLike {
  user_id: string
  role: Role
}

/**
 * What `actor` may do to `target`, as the API enforces it: admins cannot touch owners; nobody
 * demotes or removes the last owner; anyone may leave (remove themselves) unless last owner.
 */
export function memberActions(
  actor: { role: Role; userId: string | null },
  target: MemberLike,
  ownerCount: number,
): { changeRole: boolean; remove: boolean; roles: Role[] } {
  const self = actor.userId === target.user_id
  const lastOwner = target.role === 'owner' && ownerCount <= 1
  const manage = canManageMembers(actor.role)
  const ownerLocked = target.role === 'owner' && actor.role !== 'owner'
  const changeRole = manage && !ownerLocked && !lastOwner
  const remove = !lastOwner && (self || (manage && !ownerLocked))
  return { changeRole, remove, roles: changeRole ? grantableRoles(actor.role) : [] }
}
