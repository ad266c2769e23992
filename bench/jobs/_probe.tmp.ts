import { jobsClient } from '../../tests/e2e/support/client'
import { startJobsStack } from '../../tests/e2e/support/jobs-stack'
import { signDelivery } from '../../tests/e2e/support/sign'

const s = await startJobsStack({ timeScale: 1, persistQStash: false })
const { apiKey } = await s.newWorkspace()
const client = jobsClient(s.api.url, apiKey)
const t = async (label: string, n: number, f: (i: number) => Promise<unknown>) => {
  const start = performance.now()
  for (let i = 0; i < n; i++) await f(i)
  console.log(label, ((performance.now() - start) / n).toFixed(2), 'ms each')
}
// neon http roundtrip
await t('sql select 1', 50, () => s.sql.query('select 1'))
await t('api enqueue (seq)', 50, () => client.enqueue({ type: 'system.noop', payload: {} }))
const lane = await fetch(`${s.qstash.url}/v2/queues/jobs-normal/pause`, { method: 'POST', headers: { authorization: `Bearer ${s.qstash.token}` } })
console.log('pause', lane.status)
const ids: string[] = []
await t('api enqueue (seq, lane paused)', 50, async () => { const r = await client.enqueue({ type: 'system.noop', payload: {} }); ids.push(r.body.id) })
await t('worker run job direct (seq)', 50, async (i) => {
  const url = `${s.worker.url}/jobs/system.noop?job_id=${ids[i]}`
  const body = '{}'
  const sig = await signDelivery({ url, body, key: s.qstash.currentSigningKey })
  const r = await fetch(url, { method: 'POST', body, headers: { 'upstash-signature': sig, 'upstash-message-id': `m${i}` } })
  if (r.status !== 200) console.log(r.status, await r.text())
  else await r.text()
})
await t('worker bare route (seq)', 50, async (i) => {
  const url = `${s.worker.url}/jobs/system.noop`
  const body = '{}'
  const sig = await signDelivery({ url, body, key: s.qstash.currentSigningKey })
  const r = await fetch(url, { method: 'POST', body, headers: { 'upstash-signature': sig } })
  await r.text()
})
await t('api health', 50, async () => { await (await fetch(`${s.api.url}/health`)).text() })

console.log(s.worker.output().split('\n').filter((l) => l.includes('TIMING')).slice(-10).join('\n'))
await s.close()
