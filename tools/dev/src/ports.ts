import { createServer } from 'node:net'

/** Resolves when nothing listens on host:port; rejects with a message naming the port otherwise. */
export function assertPortFree(
  port: number,
  host: string,
  owner: string,
  envName: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new Error(
            `port ${port} (${owner}) is already in use on ${host}: stop whatever listens there or set ${envName}`,
          ),
        )
      } else {
        reject(error)
      }
    })
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()))
  })
}
