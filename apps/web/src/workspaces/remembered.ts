/**
 * The workspace the user last chose, kept in `localStorage` so a reload acts in it again. Only a
 * UUID is ever read back (anything else would make every call a 400), and a browser that
 * refuses storage (privacy modes, quota) just forgets: the choice is a convenience.
 */
export type WorkspaceStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>

export interface RememberedWorkspace {
  read(): string | null
  write(workspaceId: string | null): void
}

export const STORAGE_KEY = 'synthstack.workspace'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function rememberedWorkspace(storage: WorkspaceStorage | null): RememberedWorkspace {
  return {
    read() {
      try {
        const value = storage?.getItem(STORAGE_KEY) ?? null
        return value !== null && UUID.test(value) ? value.toLowerCase() : null
      } catch {
        return null
      }
    },
    write(workspaceId) {
      try {
        if (workspaceId) storage?.setItem(STORAGE_KEY, workspaceId)
        else storage?.removeItem(STORAGE_KEY)
      } catch {
        // Storage refused: the choice lasts until the page is reloaded.
      }
    },
  }
}

/** The browser's `localStorage`, or null where reading it throws (storage blocked). */
export function browserStorage(): WorkspaceStorage | null {
  try {
    return globalThis.localStorage ?? null
  } catch {
    return null
  }
}
