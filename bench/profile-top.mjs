// Prints where a V8 .cpuprofile spends its time: top functions by self time, and by file.
//   node bench/profile-top.mjs bench/profiles/CPU.….cpuprofile [N]
import { readFileSync } from 'node:fs'

const [file, n = '25'] = process.argv.slice(2)
const prof = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(prof.nodes.map((x) => [x.id, x]))
const self = new Map()
const dt = prof.timeDeltas
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)
const fn = new Map()
const files = new Map()
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame
  const url = (cf.url || '(native)').replace(/^file:\/\/.*?node_modules\//, 'nm/').replace(/^file:\/\/.*?\/wt\/[^/]+\//, '')
  const key = `${cf.functionName || '(anonymous)'}  ${url}:${cf.lineNumber + 1}`
  fn.set(key, (fn.get(key) ?? 0) + us)
  files.set(url, (files.get(url) ?? 0) + us)
}
const show = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n)).map(([k, us]) => `${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`).join('\n')
console.log(`total ${(total / 1e6).toFixed(2)} s sampled\n\n== functions (self)\n${show(fn)}\n\n== files (self)\n${show(files)}`)
