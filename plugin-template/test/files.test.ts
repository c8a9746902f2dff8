import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestKernel, fakeUpstream, type FakeUpstream, type TestKernel } from '@batlehub/sdk/testing'
import files from '../src/index.ts'

const Files = suite<{ kernel: TestKernel; upstream: FakeUpstream }>('files registry')

Files.before.each(async (t) => {
  t.upstream = await fakeUpstream({ 'GET /docs/readme.txt': { body: 'from upstream\n' } })
  t.kernel = await createTestKernel({
    plugins: [files],
    config: { registries: [{ name: 'files', type: 'files', mode: 'hybrid', upstreams: [t.upstream.url] }] },
  })
})
Files.after.each(async (t) => {
  await t.kernel.close()
  await t.upstream.close()
})

Files('a hybrid registry serves uploads first and fetches the rest once', async ({ kernel, upstream }) => {
  const put = await kernel.request('PUT', '/proxy/files/files/local.txt', { token: kernel.adminToken, body: 'local\n' })
  assert.is(put.status, 201)
  assert.is((await kernel.request('GET', '/proxy/files/files/local.txt', { token: kernel.userToken })).text(), 'local\n')
  // Hybrid registries default to no anonymous access.
  assert.is((await kernel.request('GET', '/proxy/files/files/docs/readme.txt')).status, 401)
  assert.is((await kernel.request('GET', '/proxy/files/files/docs/readme.txt', { token: kernel.userToken })).text(), 'from upstream\n')
  assert.is((await kernel.request('GET', '/proxy/files/files/docs/readme.txt', { token: kernel.userToken })).text(), 'from upstream\n')
  assert.equal(upstream.paths, ['/docs/readme.txt'])
})

Files('uploads need releases:write and errors use the plugin format', async ({ kernel }) => {
  const res = await kernel.request('PUT', '/proxy/files/files/x.txt', { token: kernel.userToken, body: 'x' })
  assert.is(res.status, 403)
  assert.match(res.text(), /^files: /)
})

Files.run()
