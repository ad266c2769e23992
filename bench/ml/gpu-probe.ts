// Loads node-llama-cpp's CUDA backend and prints what it found (used by bench/ml-node-gpu.sh).
import { createRequire } from 'node:module'

const require = createRequire(new URL('../../apps/ml-node/package.json', import.meta.url))
interface Llama {
  gpu: string | false
  getVramState(): Promise<{ total: number }>
  getGpuDeviceNames(): Promise<string[]>
  dispose(): Promise<void>
}
const { getLlama } = (await import(require.resolve('node-llama-cpp'))) as {
  getLlama(o: { gpu: 'cuda'; build: 'never' }): Promise<Llama>
}
const t = performance.now()
const llama = await getLlama({ gpu: 'cuda', build: 'never' })
const vram = await llama.getVramState()
console.log(
  `node-llama-cpp gpu=${llama.gpu} devices=${(await llama.getGpuDeviceNames()).join(', ')} ` +
    `vram_total_gb=${(vram.total / 2 ** 30).toFixed(1)} load_ms=${(performance.now() - t).toFixed(0)}`,
)
console.log(
  `BENCH llama_cuda_init_ms ${(performance.now() - t).toFixed(0)} ms baseline=0 target=report`,
)
await llama.dispose()
