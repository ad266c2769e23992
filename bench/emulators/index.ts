// pnpm bench:emulators — Redis REST emulator throughput and Neon emulator latency, each beside its
// direct baseline in the same run. BENCH lines are printed last, after the human-readable tables.
import { benchNeon } from './neon.js'
import { benchRedis } from './redis.js'

const lines = [...(await benchRedis()), ...(await benchNeon())]
console.log('')
for (const line of lines) console.log(line)
