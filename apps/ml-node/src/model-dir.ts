import { ConfigError } from './config.js'

export interface ProcessUser {
  uid?: number | undefined
  gid?: number | undefined
}

const currentUser = (): ProcessUser => ({ uid: process.getuid?.(), gid: process.getgid?.() })

/** Errors that mean "this process may not write here", as opposed to a broken path. */
export const isNotWritable = (code: string | undefined) =>
  code === 'EACCES' || code === 'EPERM' || code === 'EROFS'

/**
 * The one start-up line for a MODEL_DIR this process cannot write to: who the process runs as and
 * the two ways out. The image runs as uid 10001, and a host folder bind-mounted as MODEL_DIR
 * usually belongs to root.
 */
export function modelDirNotWritable(
  dir: string,
  failed: string,
  code: string | undefined,
  user: ProcessUser = currentUser(),
) {
  if (code === 'EROFS') {
    return new ConfigError(
      `MODEL_DIR (${dir}) is on a read-only file system (${failed}): mount it read-write; trained classifiers are saved in MODEL_DIR/classifiers`,
    )
  }
  const ids =
    user.uid === undefined
      ? ''
      : `uid ${user.uid}${user.gid === undefined ? '' : `, gid ${user.gid}`}`
  const owner =
    user.uid === undefined ? '<user>' : `${user.uid}${user.gid === undefined ? '' : `:${user.gid}`}`
  return new ConfigError(
    `MODEL_DIR (${dir}) is not writable by this user${ids ? ` (${ids})` : ''}: ${failed}. Fix: give the folder to this user (on the host: chown -R ${owner} <the folder mounted as MODEL_DIR>), or run the process as the folder's owner (docker run --user <owner uid>:<owner gid>)`,
  )
}
