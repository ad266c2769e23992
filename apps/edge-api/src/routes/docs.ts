import type { OpenAPIHono } from '@hono/zod-openapi'
import { Scalar } from '@scalar/hono-api-reference'
import type { AppEnv } from '../types'
import { version } from '../version'

export const openApiInfo = {
  openapi: '3.1.0',
  info: {
    title: 'SynthStack Edge API',
    version,
    description:
      'OpenAI-compatible AI platform API. Errors use the envelope ' +
      '`{"error": {"type", "code", "message", "param", "request_id"}}`; every response carries ' +
      '`X-Request-Id`.',
  },
} as const

/**
 * `GET /openapi.json` (generated from the zod route definitions) and `GET /docs` (Scalar API
 * reference). The reference page is HTML whose script the *browser* loads from
 * `API_REFERENCE_CDN_URL` (default: jsDelivr); the Worker itself fetches nothing.
 */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key (`sk_live_…`, scoped, for third-party apps) or a session token (`ss_…`, from ' +
      '/v1/auth/login). Sessions may pick a workspace with the `X-Workspace-Id` header.',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'cookieAuth', {
    type: 'apiKey',
    in: 'cookie',
    name: 'ss_session',
    description:
      'The web app session cookie (HttpOnly; Secure; SameSite=Lax). Unsafe methods need an ' +
      'allowed `Origin`.',
  })
  app.doc31('/openapi.json', (c) => ({
    ...openApiInfo,
    servers: [{ url: new URL(c.req.url).origin }],
  }))
  app.get(
    '/docs',
    Scalar<AppEnv>((c) => ({
      url: '/openapi.json',
      pageTitle: 'SynthStack Edge API reference',
      ...(c.get('config').API_REFERENCE_CDN_URL
        ? { cdn: c.get('config').API_REFERENCE_CDN_URL }
        : {}),
    })),
  )
}
