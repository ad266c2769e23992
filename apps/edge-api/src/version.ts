import pkg from '../package.json'

/** The deployed version, from apps/edge-api/package.json. */
export const version: string = pkg.version
