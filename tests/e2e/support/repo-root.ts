import { resolve } from 'node:path'

/** The repository root, for paths to the apps and their wrangler.toml files. */
export const repoRoot = resolve(import.meta.dirname, '../../..')
