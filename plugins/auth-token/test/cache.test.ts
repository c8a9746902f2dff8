import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TtlLru } from '../src/cache.ts'

const Lru = suite('TtlLru')

Lru('returns live entries and forgets expired ones', () => {
  const c = new TtlLru<number>(10)
  c.set('a', 1, 100)
  assert.is(c.get('a', 99), 1)
  assert.is(c.get('a', 100), undefined)
  assert.is(c.size, 0, 'an expired entry is dropped when read')
})

Lru('never holds more than its bound', () => {
  const c = new TtlLru<number>(3)
  for (let i = 0; i < 100; i++) c.set(`k${i}`, i, 1_000)
  assert.is(c.size, 3)
  assert.is(c.get('k99', 0), 99)
  assert.is(c.get('k96', 0), undefined)
})

Lru('evicts the least recently used entry', () => {
  const c = new TtlLru<string>(2)
  c.set('a', 'A', 1_000)
  c.set('b', 'B', 1_000)
  assert.is(c.get('a', 0), 'A') // a is now the newest
  c.set('c', 'C', 1_000)
  assert.is(c.get('b', 0), undefined)
  assert.is(c.get('a', 0), 'A')
  assert.is(c.get('c', 0), 'C')
})

Lru('setting a key again replaces it without growing', () => {
  const c = new TtlLru<number>(2)
  c.set('a', 1, 1_000)
  c.set('a', 2, 1_000)
  assert.is(c.size, 1)
  assert.is(c.get('a', 0), 2)
})

Lru('refuses a useless bound', () => {
  assert.throws(() => new TtlLru(0), /positive integer/)
})

Lru.run()
