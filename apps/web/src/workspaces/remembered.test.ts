import { describe, expect, it } from 'vitest'
import { rememberedWorkspace, STORAGE_KEY, type WorkspaceStorage } from './remembered'

const ID = '5B0B8A8E-8F4B-4A57-9A53-1F6F0D3C9A11'

function memoryStorage(): WorkspaceStorage & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  }
}

const refusing: WorkspaceStorage = {
  getItem: () => {
    throw new Error('SecurityError')
  },
  setItem: () => {
    throw new Error('QuotaExceededError')
  },
  removeItem: () => {
    throw new Error('SecurityError')
  },
}

describe('rememberedWorkspace', () => {
  it('writes, reads back (lower case) and forgets the choice', () => {
    const storage = memoryStorage()
    const remembered = rememberedWorkspace(storage)
    expect(remembered.read()).toBeNull()
    remembered.write(ID)
    expect(storage.data.get(STORAGE_KEY)).toBe(ID)
    expect(remembered.read()).toBe(ID.toLowerCase())
    remembered.write(null)
    expect(storage.data.has(STORAGE_KEY)).toBe(false)
    expect(remembered.read()).toBeNull()
  })

  it('never reads back a value that is not a UUID', () => {
    const storage = memoryStorage()
    for (const junk of ['', 'nope', `${ID}x`, ' 5b0b8a8e-8f4b-4a57-9a53-1f6f0d3c9a11']) {
      storage.data.set(STORAGE_KEY, junk)
      expect(rememberedWorkspace(storage).read()).toBeNull()
    }
  })

  it('forgets quietly where storage is refused or missing', () => {
    for (const storage of [refusing, null]) {
      const remembered = rememberedWorkspace(storage)
      expect(() => remembered.write(ID)).not.toThrow()
      expect(remembered.read()).toBeNull()
      expect(() => remembered.write(null)).not.toThrow()
    }
  })
})
