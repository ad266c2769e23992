/** Errors that become QStash's error body: `{"error": "<message>"}` with an HTTP status. */
export class QStashError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 412 | 413 | 500,
    message: string,
  ) {
    super(message)
    this.name = 'QStashError'
  }
}

export const badRequest = (message: string) => new QStashError(400, message)
export const notFound = (message: string) => new QStashError(404, message)
