import { randomBytes } from 'node:crypto'
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'

// A fresh PGlite runs initdb in WASM, which takes 5-20 s on a busy 2-core machine; loading a
// tarball of a freshly initialised data directory takes 1-3 s. The first fresh start on a
// machine saves that tarball (keyed by the pinned PGlite and pgvector versions) in the temp
// directory; later fresh starts load it. Existing data directories are opened as they are.

const TEMPLATE_KEY = 'pglite-0.5.14-pgvector-0.0.15-v1'

export function templatePath(): string {
  return join(tmpdir(), 'synthstack-neon-emulator', `${TEMPLATE_KEY}.tar`)
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/** Opens PGlite with pgvector at `dataDir` (undefined = in memory), fast when it is fresh. */
export async function createPglite(dataDir: string | undefined): Promise<PGlite> {
  const options = { extensions: { vector } }
  if (dataDir) {
    await mkdir(dataDir, { recursive: true })
    if (await exists(join(dataDir, 'PG_VERSION'))) return PGlite.create(dataDir, options)
  }
  const path = templatePath()
  let template: Buffer | undefined
  try {
    template = await readFile(path)
  } catch {
    template = undefined
  }
  if (template) {
    try {
      const loadDataDir = new File([template], 'pgdata.tar', { type: 'application/x-tar' })
      return await PGlite.create(dataDir, { ...options, loadDataDir })
    } catch {
      // A damaged template: forget it and start from scratch.
      await rm(path, { force: true })
      if (dataDir) await clearDir(dataDir)
    }
  }
  const db = await PGlite.create(dataDir, options)
  await saveTemplate(db, path).catch(() => {})
  return db
}

async function saveTemplate(db: PGlite, path: string): Promise<void> {
  const dump = await db.dumpDataDir('none')
  await mkdir(join(path, '..'), { recursive: true })
  // Write then rename, so a concurrent reader never sees half a file.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
  await writeFile(temporary, Buffer.from(await dump.arrayBuffer()))
  await rename(temporary, path)
}

async function clearDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
}
