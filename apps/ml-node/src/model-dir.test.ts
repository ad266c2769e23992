import { describe, expect, it } from 'vitest'
import { ConfigError } from './config.js'
import { isNotWritable, modelDirNotWritable } from './model-dir.js'

describe('modelDirNotWritable', () => {
  it('names the directory, the user and both fixes, on one line', () => {
    const err = modelDirNotWritable('/models', 'could not create /models/classifiers', 'EACCES', {
      uid: 10001,
      gid: 10001,
    })
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message).not.toContain('\n')
    expect(err.message).toMatch(
      /^MODEL_DIR \(\/models\) is not writable by this user \(uid 10001, gid 10001\): could not create \/models\/classifiers\./,
    )
    expect(err.message).toContain('chown -R 10001:10001')
    expect(err.message).toContain('--user')
  })

  it('reads without ids where the platform has none, and says read-only for EROFS', () => {
    expect(modelDirNotWritable('/m', 'could not create /m/x', 'EPERM', {}).message).toContain(
      'is not writable by this user: could not create /m/x',
    )
    expect(modelDirNotWritable('/m', 'could not create /m/x', 'EROFS').message).toContain(
      'read-only file system',
    )
    expect(['EACCES', 'EPERM', 'EROFS', 'ENOENT'].map(isNotWritable)).toEqual([
      true,
      true,
      true,
      false,
    ])
  })
})
