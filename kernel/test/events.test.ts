import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { KernelEventBus } from '../src/events/bus.ts'
import type { LoggerService } from '@batlehub/sdk'

function recorder(): LoggerService & { errors: Array<Record<string, unknown>> } {
  const errors: Array<Record<string, unknown>> = []
  const log: any = { errors, debug() {}, info() {}, warn() {}, error: (_m: string, f: Record<string, unknown>) => errors.push(f), child: () => log }
  return log
}

const Events = suite('event bus')

Events('a throwing or rejecting listener is logged with its id and never breaks the others', async () => {
  const log = recorder()
  const bus = new KernelEventBus(log)
  const seen: string[] = []
  bus.on('core:cache.cleared', () => {
    throw new Error('sync failure')
  }, { id: 'metrics' })
  bus.on('core:cache.cleared', async () => {
    throw new Error('async failure')
  }, { id: 'webhooks' })
  bus.on('core:cache.cleared', (p) => {
    seen.push(p.registry)
  })
  bus.emit('core:cache.cleared', { registry: 'npm', at: '2026-01-01T00:00:00Z' })
  await new Promise((r) => setTimeout(r, 10))
  assert.equal(seen, ['npm'])
  assert.equal(log.errors.map((e) => e.subscription).sort(), ['metrics', 'webhooks'])
})

Events('unsubscribe stops delivery', () => {
  const bus = new KernelEventBus(recorder())
  let n = 0
  const off = bus.on('core:cache.cleared', () => {
    n++
  })
  bus.emit('core:cache.cleared', { registry: 'a', at: '' })
  off()
  bus.emit('core:cache.cleared', { registry: 'a', at: '' })
  assert.is(n, 1)
})

Events.run()
