import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { validateKey, validatePrefix } from '../src/storage/keys.ts'
import { parseExpectedDigest } from '../src/storage/digests.ts'
import { parseRange, noneMatch } from '../src/storage/conditional.ts'
import { Lru } from '../src/storage/lru.ts'

function inputError(fn: () => unknown, label: string): void {
  try {
    fn()
    assert.unreachable(`accepted ${label}`)
  } catch (err) {
    assert.is((err as { code?: string }).code, 'BH_INPUT', label)
  }
}

const Keys = suite('storage keys')

Keys('accepts relative paths of safe segments', () => {
  for (const key of ['a', 'blob/' + 'f'.repeat(64), 'npm/@scope/pkg/-/pkg-1.0.0.tgz', 'pypi/files/a_b-1.0+local~x=y,z.whl', '.hidden/x', 'a/..b/c..', 'x'.repeat(1024)]) {
    assert.is(validateKey(key), key)
  }
})

Keys('refuses traversal, absolute paths, empty segments, backslashes, NUL, other characters, overlong keys', () => {
  const bad: Record<string, string> = {
    '../x': 'parent', 'a/../../x': 'nested parent', '..': 'bare parent', '.': 'dot', 'a/./b': 'dot segment',
    '/etc/passwd': 'absolute', 'a//b': 'empty segment', 'a/': 'trailing slash', '': 'empty',
    'a\\b': 'backslash', '..\\x': 'windows parent', 'a\0b': 'NUL', 'a b': 'space', 'a%2e%2e': 'percent', 'ü': 'non-ASCII',
    'a?b': 'question mark', 'a:b': 'colon', ['x'.repeat(1025)]: 'overlong',
  }
  for (const [key, label] of Object.entries(bad)) inputError(() => validateKey(key), label)
  inputError(() => validateKey(undefined as unknown as string), 'undefined')
  try {
    validateKey('../secret')
  } catch (err) {
    assert.match((err as Error).message, /"\.\.\/secret"/) // the message names the key
  }
})

Keys('prefixes may end with a slash or inside a segment, but not climb', () => {
  for (const prefix of ['', 'a', 'a/', 'a/b', 'blob/ab', 'a/..b']) assert.is(validatePrefix(prefix), prefix)
  for (const prefix of ['../', 'a/../', '/a', 'a//', './x', 'a\0', 'a b']) inputError(() => validatePrefix(prefix), prefix)
})

Keys.run()

const Digests = suite('expected digests')

Digests('hex, SRI and base64 decode to the same bytes', () => {
  const data = 'hello'
  for (const alg of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
    const raw = createHash(alg).update(data).digest()
    assert.ok(parseExpectedDigest(alg, raw.toString('hex')).equals(raw), `${alg} hex`)
    assert.ok(parseExpectedDigest(alg, raw.toString('hex').toUpperCase()).equals(raw), `${alg} HEX`)
    assert.ok(parseExpectedDigest(alg, `${alg}-${raw.toString('base64')}`).equals(raw), `${alg} SRI`)
    assert.ok(parseExpectedDigest(alg, raw.toString('base64')).equals(raw), `${alg} base64`)
    assert.ok(parseExpectedDigest(alg, raw.toString('base64url')).equals(raw), `${alg} base64url`)
  }
  const sha512 = createHash('sha512').update(data).digest()
  const sha1 = createHash('sha1').update(data).digest()
  const sri = `sha1-${sha1.toString('base64')} sha512-${sha512.toString('base64')}?opt`
  assert.ok(parseExpectedDigest('sha512', sri).equals(sha512))
  assert.ok(parseExpectedDigest('sha1', sri).equals(sha1))
})

Digests('malformed or mismatched forms are input errors', () => {
  inputError(() => parseExpectedDigest('sha256', ''), 'empty')
  inputError(() => parseExpectedDigest('sha256', 'abc'), 'short hex')
  inputError(() => parseExpectedDigest('sha256', 'z'.repeat(64)), 'not hex')
  inputError(() => parseExpectedDigest('sha256', `sha512-${createHash('sha512').update('x').digest('base64')}`), 'other algorithm')
  inputError(() => parseExpectedDigest('sha1', createHash('sha256').update('x').digest('hex')), 'wrong length')
})

Digests.run()

const Ranges = suite('range and conditional headers')

Ranges('single byte ranges', () => {
  assert.equal(parseRange('bytes=0-4', 10), { kind: 'partial', start: 0, end: 4 })
  assert.equal(parseRange('bytes=5-', 10), { kind: 'partial', start: 5, end: 9 })
  assert.equal(parseRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 })
  assert.equal(parseRange('bytes=-30', 10), { kind: 'partial', start: 0, end: 9 })
  assert.equal(parseRange('bytes=8-99', 10), { kind: 'partial', start: 8, end: 9 })
  assert.equal(parseRange('Bytes = 1 - 2', 10), { kind: 'partial', start: 1, end: 2 })
})

Ranges('unsatisfiable and ignored ranges', () => {
  assert.equal(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' })
  assert.equal(parseRange('bytes=999-1000', 10), { kind: 'unsatisfiable' })
  assert.equal(parseRange('bytes=-0', 10), { kind: 'unsatisfiable' })
  assert.equal(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' })
  assert.equal(parseRange('bytes=99999999999999999999-', 10), { kind: 'unsatisfiable' })
  for (const header of [undefined, '', 'bytes=0-1,3-4', 'bytes=4-2', 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes=0-1;x']) {
    assert.equal(parseRange(header, 10), { kind: 'full' }, String(header))
  }
})

Ranges('If-None-Match uses weak comparison', () => {
  assert.ok(noneMatch('"abc"', '"abc"'))
  assert.ok(noneMatch('W/"abc"', '"abc"'))
  assert.ok(noneMatch('"x", "abc"', '"abc"'))
  assert.ok(noneMatch('*', '"abc"'))
  assert.not.ok(noneMatch('"abcd"', '"abc"'))
})

Ranges.run()

const Cache = suite('lru')

Cache('evicts the least recently used entry and expires entries', () => {
  let now = 0
  const lru = new Lru<string, number>(2, 100, () => now)
  lru.set('a', 1)
  lru.set('b', 2)
  assert.is(lru.get('a'), 1)
  lru.set('c', 3)
  assert.is(lru.get('b'), undefined)
  assert.is(lru.get('a'), 1)
  now = 150
  assert.is(lru.get('a'), undefined)
  assert.is(lru.size, 1)
  const off = new Lru<string, number>(0, 100)
  off.set('a', 1)
  assert.is(off.get('a'), undefined)
})

Cache.run()
