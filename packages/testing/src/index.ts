export { createFreshDatabase, type FreshDatabase, freshDatabaseName } from './fresh-database'
export {
  startTestStack,
  type TestStack,
  type TestStackEnv,
  type TestStackOptions,
} from './stack'
export { freePort, startWranglerDev, type WranglerDev } from './wrangler-dev'
