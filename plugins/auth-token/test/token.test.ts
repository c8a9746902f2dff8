import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hashSecret, verifySecret, type AuthHooks, type Credential } from '@batlehub/sdk'
import { tokenAuth } from '../src/index.ts'
import { REFUSED_TTL_MS, setupTokenAuth, VERIFIED_TTL_MS } from '../src/setup.ts'
import { harness } from './harness.ts'

const bearer = (token: string): Credential => ({ scheme: 'bearer', token })
const basic = (username: string, password: string): Credential => ({ scheme: 'basic', token: password, username, password })
const setup = async (table: unknown): Promise<AuthHooks> => tokenAuth.setup(harness(table).ctx)

// Argon2id is slow on purpose: hash once for the whole file.
const HASHED_SECRET = 'bh_hashed_0123456789abcdef'
const HASHED_ADMIN_SECRET = 'bh_admin_fedcba9876543210'
const [HASH, ADMIN_HASH] = await Promise.all([hashSecret(HASHED_SECRET), hashSecret(HASHED_ADMIN_SECRET)])

/** verifySecret wrapped to count Argon2 runs. */
function countingVerify() {
  const calls: string[] = []
  const verify = async (secret: string, phc: string): Promise<boolean> => {
    calls.push(secret)
    return verifySecret(secret, phc)
  }
  return { calls, verify }
}

// ---------------------------------------------------------------------------------------------
const Plain = suite('token auth: plain tokens')

Plain('a configured token is recognised, anything else is not', async () => {
  const hooks = await setup({ tokens: [{ value: 'ci-pipeline-token', role: 'user', user_id: 'ci' }] })
  assert.equal(await hooks.authenticate(bearer('ci-pipeline-token')), {
    subject: 'token:ci', userId: 'ci', role: 'user', groups: [], provider: 'token',
  })
  assert.is(await hooks.authenticate(bearer('ci-pipeline-tokenx')), null)
  assert.is(await hooks.authenticate(bearer('ci-pipeline-toke')), null)
  assert.is(await hooks.authenticate(bearer('CI-PIPELINE-TOKEN')), null)
  assert.is(await hooks.authenticate(bearer('')), null)
})

Plain('every credential scheme carries the token the same way', async () => {
  const hooks = await setup({ tokens: [{ value: 'tok-1', user_id: 'bot' }] })
  for (const scheme of ['bearer', 'raw', 'api-key'] as const) {
    assert.is((await hooks.authenticate({ scheme, token: 'tok-1' }))?.userId, 'bot', scheme)
  }
})

Plain('Basic: the password is the token, the user name is ignored', async () => {
  const hooks = await setup({ tokens: [{ value: 'pypi-secret', user_id: 'uploader' }] })
  assert.is((await hooks.authenticate(basic('__token__', 'pypi-secret')))?.userId, 'uploader')
  assert.is((await hooks.authenticate(basic('some-maven-user', 'pypi-secret')))?.userId, 'uploader')
  assert.is((await hooks.authenticate(basic('', 'pypi-secret')))?.userId, 'uploader')
  assert.is(await hooks.authenticate(basic('pypi-secret', 'wrong')), null, 'the user name is never the token when a password is given')
})

Plain('the matching entry decides the identity, whatever its position', async () => {
  const hooks = await setup({
    tokens: [
      { value: 'first', user_id: 'one' },
      { value: 'second', user_id: 'two', role: 'admin' },
      { value: 'third', user_id: 'three', role: 'anonymous' },
    ],
  })
  assert.is((await hooks.authenticate(bearer('first')))?.userId, 'one')
  assert.is((await hooks.authenticate(bearer('second')))?.role, 'admin')
  assert.is((await hooks.authenticate(bearer('third')))?.role, 'anonymous')
})

Plain('no tokens configured: nothing is recognised', async () => {
  const hooks = await setup({})
  assert.is(await hooks.authenticate(bearer('anything')), null)
  assert.is(hooks.hasAdminCredential?.(), false)
})

Plain.run()

// ---------------------------------------------------------------------------------------------
const Identity = suite('token auth: identities')

Identity('role, user_id, groups and name reach the identity', async () => {
  const hooks = await setup({
    tokens: [{ value: 'deploy-key', role: 'admin', user_id: 'deployer', groups: ['ops', 'oidc:release'], name: 'Release pipeline' }],
  })
  assert.equal(await hooks.authenticate(bearer('deploy-key')), {
    subject: 'token:deployer',
    userId: 'deployer',
    role: 'admin',
    groups: ['ops', 'oidc:release'],
    provider: 'token',
    displayName: 'Release pipeline',
  })
})

Identity('defaults: role user, no groups, user_id token-<position>', async () => {
  const hooks = await setup({ tokens: [{ value: 'a', user_id: 'alice' }, { value: 'b' }, { value: 'c' }] })
  assert.equal(await hooks.authenticate(bearer('b')), { subject: 'token:token-1', userId: 'token-1', role: 'user', groups: [], provider: 'token' })
  assert.is((await hooks.authenticate(bearer('c')))?.userId, 'token-2')
})

Identity('identities are frozen and reused', async () => {
  const hooks = await setup({ tokens: [{ value: 'x', groups: ['g'] }] })
  const first = await hooks.authenticate(bearer('x'))
  assert.ok(Object.isFrozen(first))
  assert.ok(Object.isFrozen(first?.groups))
  assert.is(await hooks.authenticate(bearer('x')), first)
})

Identity('two tokens may share a user_id (rotation)', async () => {
  const hooks = await setup({ tokens: [{ value: 'old', user_id: 'ci' }, { value: 'new', user_id: 'ci' }] })
  assert.is((await hooks.authenticate(bearer('old')))?.subject, 'token:ci')
  assert.is((await hooks.authenticate(bearer('new')))?.subject, 'token:ci')
})

Identity('hasAdminCredential is true only with an admin token', async () => {
  assert.is((await setup({ tokens: [{ value: 'u' }, { value: 'n', role: 'anonymous' }] })).hasAdminCredential?.(), false)
  assert.is((await setup({ tokens: [{ value: 'u' }, { value: 'a', role: 'admin' }] })).hasAdminCredential?.(), true)
  assert.is((await setup({ tokens: [{ value: ADMIN_HASH, role: 'admin' }] })).hasAdminCredential?.(), true)
})

Identity.run()

// ---------------------------------------------------------------------------------------------
const Hashed = suite('token auth: Argon2id hashed tokens')

Hashed('a hashed token matches its secret only', async () => {
  const hooks = await setup({ tokens: [{ value: HASH, user_id: 'hashed-ci', groups: ['ci'] }] })
  assert.equal(await hooks.authenticate(bearer(HASHED_SECRET)), {
    subject: 'token:hashed-ci', userId: 'hashed-ci', role: 'user', groups: ['ci'], provider: 'token',
  })
  assert.is(await hooks.authenticate(bearer(`${HASHED_SECRET}x`)), null)
  assert.is(await hooks.authenticate(bearer(HASH)), null, 'the hash itself is not a token')
})

Hashed('Basic __token__ with a hashed token', async () => {
  const hooks = await setup({ tokens: [{ value: HASH, user_id: 'twine' }] })
  assert.is((await hooks.authenticate(basic('__token__', HASHED_SECRET)))?.userId, 'twine')
})

Hashed('plain and hashed tokens side by side', async () => {
  const hooks = await setup({
    tokens: [
      { value: 'plain-user-token', user_id: 'p' },
      { value: HASH, user_id: 'h' },
      { value: ADMIN_HASH, role: 'admin', user_id: 'root' },
    ],
  })
  assert.is((await hooks.authenticate(bearer('plain-user-token')))?.userId, 'p')
  assert.is((await hooks.authenticate(bearer(HASHED_SECRET)))?.userId, 'h')
  assert.is((await hooks.authenticate(bearer(HASHED_ADMIN_SECRET)))?.role, 'admin')
  assert.is(await hooks.authenticate(bearer('nope')), null)
})

Hashed.run()

// ---------------------------------------------------------------------------------------------
const Refused = suite('token auth: configuration refused at setup')

const setupFails = async (table: unknown, pattern: RegExp): Promise<void> => {
  try {
    await setup(table)
  } catch (err) {
    assert.match((err as Error).message, pattern)
    return
  }
  assert.unreachable(`setup accepted ${JSON.stringify(table)}`)
}

Refused('a $argon2 value that is not an Argon2id PHC string', async () => {
  await setupFails({ tokens: [{ value: 'fine' }, { value: '$argon2id$garbage' }] }, /tokens\[1\]\.value.*not a valid Argon2id PHC string/)
  await setupFails({ tokens: [{ value: `${HASH}=` }] }, /tokens\[0\]\.value/)
  await setupFails({ tokens: [{ value: '$argon2' }] }, /tokens\[0\]\.value/)
})

Refused('Argon2i and Argon2d hashes', async () => {
  const argon2i = HASH.replace('$argon2id$', '$argon2i$')
  await setupFails({ tokens: [{ value: argon2i }] }, /tokens\[0\]\.value.*only Argon2id/)
})

Refused('PHC parameters a verification would refuse', async () => {
  await setupFails({ tokens: [{ value: HASH.replace('m=19456', 'm=4194304') }] }, /tokens\[0\]\.value.*memory cost/)
  await setupFails({ tokens: [{ value: HASH.replace('t=2', 't=99') }] }, /tokens\[0\]\.value.*time cost/)
  await setupFails({ tokens: [{ value: HASH.replace('p=1', 'p=0') }] }, /tokens\[0\]\.value.*parallelism/)
  const shortHash = HASH.replace(/\$[^$]+$/, `$${Buffer.alloc(8).toString('base64').replace(/=+$/, '')}`)
  await setupFails({ tokens: [{ value: shortHash }] }, /tokens\[0\]\.value.*hash length/)
})

Refused('duplicate plain tokens, naming both', async () => {
  await setupFails({ tokens: [{ value: 'a' }, { value: 'b' }, { value: 'a', role: 'admin' }] }, /tokens\[2\]\.value duplicates tokens\[0\]\.value/)
})

Refused('the same hash twice', async () => {
  await setupFails({ tokens: [{ value: HASH }, { value: HASH }] }, /tokens\[1\]\.value duplicates tokens\[0\]\.value/)
})

Refused('error messages never contain the token', async () => {
  try {
    await setup({ tokens: [{ value: 'super-secret-value' }, { value: 'super-secret-value' }] })
    assert.unreachable()
  } catch (err) {
    assert.not.match((err as Error).message, /super-secret-value/)
  }
})

Refused.run()

// ---------------------------------------------------------------------------------------------
const Cache = suite('token auth: verification cache')

Cache('a verified token is not verified again within the TTL', async () => {
  const h = harness({ tokens: [{ value: HASH, user_id: 'h' }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  assert.is((await hooks.authenticate(bearer(HASHED_SECRET)))?.userId, 'h')
  assert.is((await hooks.authenticate(bearer(HASHED_SECRET)))?.userId, 'h')
  assert.is(calls.length, 1)
  h.advance(VERIFIED_TTL_MS + 1)
  assert.is((await hooks.authenticate(bearer(HASHED_SECRET)))?.userId, 'h')
  assert.is(calls.length, 2, 'verified again once the entry expired')
})

Cache('a cached success never lets a similar token in', async () => {
  const h = harness({ tokens: [{ value: HASH, user_id: 'h' }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  assert.ok(await hooks.authenticate(bearer(HASHED_SECRET)))
  for (const wrong of [HASHED_SECRET.slice(0, -1), `${HASHED_SECRET}0`, HASHED_SECRET.slice(0, 8), HASHED_SECRET.toUpperCase()]) {
    assert.is(await hooks.authenticate(bearer(wrong)), null, wrong)
  }
  assert.is(calls.length, 5, 'each different token is verified on its own')
})

Cache('a refused token is refused from the cache, then checked again after a short while', async () => {
  const h = harness({ tokens: [{ value: HASH }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  for (let i = 0; i < 5; i++) assert.is(await hooks.authenticate(bearer('hammered-bad-token')), null)
  assert.is(calls.length, 1)
  h.advance(REFUSED_TTL_MS + 1)
  assert.is(await hooks.authenticate(bearer('hammered-bad-token')), null)
  assert.is(calls.length, 2)
})

Cache('a refused token does not shadow the right one', async () => {
  const h = harness({ tokens: [{ value: HASH, user_id: 'h' }] })
  const hooks = setupTokenAuth(h.ctx)
  assert.is(await hooks.authenticate(bearer(`${HASHED_SECRET}-typo`)), null)
  assert.is((await hooks.authenticate(bearer(HASHED_SECRET)))?.userId, 'h')
})

Cache('concurrent requests with one token share one verification', async () => {
  const h = harness({ tokens: [{ value: HASH, user_id: 'h' }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  const results = await Promise.all(Array.from({ length: 8 }, () => hooks.authenticate(bearer(HASHED_SECRET))))
  assert.ok(results.every((r) => r?.userId === 'h'))
  assert.is(calls.length, 1)
})

Cache('each hashed entry is tried until one matches', async () => {
  const h = harness({ tokens: [{ value: HASH, user_id: 'h' }, { value: ADMIN_HASH, role: 'admin', user_id: 'root' }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  assert.is((await hooks.authenticate(bearer(HASHED_ADMIN_SECRET)))?.userId, 'root')
  assert.is(calls.length, 2)
  assert.is((await hooks.authenticate(bearer(HASHED_SECRET)))?.userId, 'h')
  assert.is(calls.length, 3)
})

Cache('plain tokens never run Argon2', async () => {
  const h = harness({ tokens: [{ value: 'plain-one' }, { value: 'plain-two' }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  assert.ok(await hooks.authenticate(bearer('plain-two')))
  assert.is(await hooks.authenticate(bearer('plain-three')), null)
  assert.is(calls.length, 0)
})

Cache('a plain match skips the hashed entries', async () => {
  const h = harness({ tokens: [{ value: HASH }, { value: 'plain-one', user_id: 'p' }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  assert.is((await hooks.authenticate(bearer('plain-one')))?.userId, 'p')
  assert.is(calls.length, 0)
})

Cache('dispose empties the caches', async () => {
  const h = harness({ tokens: [{ value: HASH }] })
  const { calls, verify } = countingVerify()
  const hooks = setupTokenAuth(h.ctx, { verify })
  await hooks.authenticate(bearer(HASHED_SECRET))
  await hooks.dispose?.()
  await hooks.authenticate(bearer(HASHED_SECRET))
  assert.is(calls.length, 2)
})

Cache.run()

// ---------------------------------------------------------------------------------------------
const Secrets = suite('token auth: secrets stay secret')

Secrets('nothing logged contains a token or a hash', async () => {
  const h = harness({ tokens: [{ value: 'plain-secret-1' }, { value: HASH }] })
  const hooks = await tokenAuth.setup(h.ctx)
  await hooks.authenticate(bearer('plain-secret-1'))
  await hooks.authenticate(bearer('wrong-secret-2'))
  await hooks.authenticate(bearer(HASHED_SECRET))
  const logged = JSON.stringify(h.logs)
  for (const secret of ['plain-secret-1', 'wrong-secret-2', HASHED_SECRET, HASH]) {
    assert.not.ok(logged.includes(secret), `log mentions ${secret}`)
  }
})

Secrets('the value key is marked secret in the schema', () => {
  const items = (tokenAuth.config?.properties.tokens as unknown as { items: { properties: { value: { secret?: boolean } } } }).items
  assert.is(items.properties.value.secret, true)
})

Secrets.run()
