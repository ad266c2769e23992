export { configureNeonForEmulator } from './client'
export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_POSTGRES_URL,
  maskCredentials,
  type NeonEmulatorBackend,
  type NeonEmulatorOptions,
  neonEmulatorOptionsFromEnv,
} from './options'
export { type NeonEmulator, PGLITE_CONNECTION_STRING, startNeonEmulator } from './server'
