import { createClient } from '@synthstack/sdk'

const c = createClient({ baseUrl: 'http://x' })
export async function probe() {
  const r = await c.v1['api-keys'].$get({ query: {} })
  if (r.status === 200) {
    const b = await r.json()
    return b.data[0]?.prefix
  }
  const h = await c.health.$get()
  return h.status
}
