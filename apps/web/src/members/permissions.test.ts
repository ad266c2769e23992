import { describe, expect, it } from 'vitest'
import { canManageMembers, grantableRoles, memberActions } from './permissions'

describe('member permissions (as the API enforces them)', () => {
  it('lets owners and admins manage, members only read', () => {
    expect(canManageMembers('owner')).toBe(true)
    expect(canManageMembers('admin')).toBe(true)
    expect(canManageMembers('member')).toBe(false)
    expect(grantableRoles('owner')).toEqual(['owner', 'admin', 'member'])
    expect(grantableRoles('admin')).toEqual(['admin', 'member'])
    expect(grantableRoles('member')).toEqual([])
  })

  it('keeps admins off owners and everyone off the last owner', () => {
    const owner = { role: 'owner' as const, userId: 'o' }
    const admin = { role: 'admin' as const, userId: 'a' }
    const member = { role: 'member' as const, userId: 'm' }
    const theOwner = { user_id: 'o', role: 'owner' as const }
    const someone = { user_id: 'x', role: 'member' as const }
    expect(memberActions(owner, theOwner, 1)).toEqual({
      changeRole: false,
      remove: false,
      roles: [],
    })
    expect(memberActions(owner, theOwner, 2).changeRole).toBe(true)
    expect(memberActions(admin, { user_id: 'o2', role: 'owner' }, 2)).toMatchObject({
      changeRole: false,
      remove: false,
    })
    expect(memberActions(admin, someone, 1)).toEqual({
      changeRole: true,
      remove: true,
      roles: ['admin', 'member'],
    })
    expect(memberActions(member, someone, 1)).toMatchObject({ changeRole: false, remove: false })
    expect(memberActions(member, { user_id: 'm', role: 'member' }, 1)).toMatchObject({
      remove: true,
    })
  })
})
