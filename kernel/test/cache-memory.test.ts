import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { createTestKernel, fakeUpstream } from '../src/testing/index.ts'
import { cacheTestPlugin, newState } from './cache-plugin.ts'

const MiB = 1024 * 1024
const SIZE = Number(process.env.BH_MEM_TEST_MIB || 200) * MiB

// A test of streaming, not of speed: one database dialect is enough (the database sees one row).
const Memory = suite('cache memory')

Memory('a 200 MB cold artifact streams through the engine with bounded memory', async () => {
  const block = randomBytes(MiB)
  const expected = createHash('sha256')
  for (let i = 0; i < SIZE / MiB; i++) expected.update(block)
  const digest = expected.digest('hex')
  const upstream = await fakeUpstream({
    'GET /files/huge-1.tgz': async (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) })
      for (let i = 0; i < SIZE / MiB; i++) {
        if (!res.write(block)) await new Promise((r) => res.once('drain', r))
        if (res.destroyed) return
      }
      res.end()
    },
  })
  const state = newState()
  state.expect.set('huge-1.tgz', { sha256: digest })
  const hub = await createTestKernel({
    discover: false,
    plugins: [cacheTestPlugin(state)],
    config: { auth: [], server: { max_body_bytes: SIZE + MiB }, registries: [{ name: 'ct', type: 'cachetest', upstreams: [upstream.url] }] },
  })
  try {
    const baseline = process.memoryUsage().rss
    let peak = baseline
    let detail = process.memoryUsage()
    const sampler = setInterval(() => {
      const m = process.memoryUsage()
      if (m.rss > peak) {
        peak = m.rss
        detail = m
      }
    }, 20)
    const received = await new Promise<{ bytes: number; sha256: string; complete: boolean }>((resolve, reject) => {
      const hash = createHash('sha256')
      let bytes = 0
      httpRequest(`${hub.url}/proxy/ct/files/huge/1/huge-1.tgz`, (res) => {
        assert.is(res.headers['content-length'], String(SIZE))
        res.on('data', (c: Buffer) => {
          bytes += c.length
          hash.update(c)
        })
        res.on('end', () => resolve({ bytes, sha256: hash.digest('hex'), complete: res.complete }))
        res.on('error', reject)
      }).on('error', reject).end()
    })
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    const growth = (peak - baseline) / MiB
    if (process.env.BH_MEM_TEST_DEBUG) console.log(Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, Math.round(v / MiB)])))
    console.log(`    ${SIZE / MiB} MiB cold: RSS ${Math.round(baseline / MiB)} MiB → peak ${Math.round(peak / MiB)} MiB (+${growth.toFixed(1)} MiB)`)
    assert.ok(received.complete)
    assert.is(received.bytes, SIZE)
    assert.is(received.sha256, digest)
    assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MiB`)
    // Stored once, nothing left in the spool.
    assert.equal((await hub.request('GET', '/proxy/ct/has/huge/huge-1.tgz')).json(), { cached: true })
    assert.equal(readdirSync(join(hub.dataDir, 'spool')), [])
  } finally {
    await hub.close()
    await upstream.close()
  }
})

Memory.run()
