import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import * as sdk from '@batlehub/sdk'

const Surface = suite('sdk surface')

Surface('SDK_VERSION matches the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../sdk/package.json', import.meta.url), 'utf8'))
  assert.is(sdk.SDK_VERSION, pkg.version)
})

Surface('errors map to status by code and hide 5xx messages', () => {
  assert.equal(sdk.toErrorInfo(new sdk.NotFoundError('no such package: x')), {
    status: 404, code: 'BH_NOT_FOUND', message: 'no such package: x', details: {},
  })
  const hidden = sdk.toErrorInfo(new sdk.UpstreamError('connect ECONNREFUSED 10.0.0.1:443'))
  assert.is(hidden.status, 502)
  assert.not.match(hidden.message, /10\.0\.0\.1/)
  assert.is(sdk.toErrorInfo(new Error('boom')).status, 500)
  assert.is(sdk.toErrorInfo(new Error('boom')).message, 'internal server error')
  // A plain object from another SDK copy is mapped by its code, not its class.
  assert.is(sdk.toErrorInfo({ code: 'BH_CONFLICT', status: 409, message: 'version exists' }).status, 409)
  assert.is(sdk.toErrorInfo(new sdk.NotImplementedError('publishing is off')).message, 'publishing is off')
})

Surface('argon2id hashes verify and reject', async () => {
  const phc = await sdk.hashSecret('s3cret')
  assert.ok(sdk.isArgon2idHash(phc), phc)
  assert.ok(await sdk.verifySecret('s3cret', phc))
  assert.not.ok(await sdk.verifySecret('s3cret!', phc))
  assert.not.ok(await sdk.verifySecret('s3cret', '$argon2id$v=19$m=1,t=1,p=1$AAAA$BBBB'))
  assert.ok(sdk.safeEqual('abc', 'abc'))
  assert.not.ok(sdk.safeEqual('abc', 'abd'))
})

Surface.run()
