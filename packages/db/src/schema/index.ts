export * from './workspaces'
