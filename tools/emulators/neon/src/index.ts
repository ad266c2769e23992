export { configureNeonForEmulator } from './client'
export {
  DEFAULT_DATABASE,
  DEFAULT_HOST,
  DEFAULT_PASSWORD,
  DEFAULT_PORT,
  DEFAULT_POSTGRES_URL,
  DEFAULT_USER,
  maskCredentials,
  type NeonEmulatorBackend,
  type NeonEmulatorOptions,
  neonEmulatorOptionsFromEnv,
} from './options'
export {
  type NeonEmulator,
  neonEmulatorConnectionString,
  PGLITE_CONNECTION_STRING,
  startNeonEmulator,
} from './server'
