export * from './definitions'
export * from './events'
export * from './lanes'
export * from './webhook-secrets'
