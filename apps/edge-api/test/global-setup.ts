import { startTestStack } from '@synthstack/testing'
import type { TestProject } from 'vitest/node'

/**
 * Node side: starts the emulators (backends from `*_EMULATOR_*` variables, embedded by default),
 * applies migrations, and hands the Worker bindings to the workerd pool via `provide`.
 */
export default async function setup(project: TestProject) {
  const stack = await startTestStack()
  project.provide('stackEnv', stack.env)
  return async () => {
    await stack.close()
  }
}
