/** Boots a test kernel with a pypi registry in front of the fixture PyPI, and small HTTP helpers. */
import type { RegistryHooks } from '@batlehub/sdk'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import pypi from '../../src/index.ts'
import { pypiFixture, type PypiFixture } from './upstream.ts'
import type { BuiltDist } from './dists.ts'

export interface Hub {
  kernel: TestKernel
  fixture: PypiFixture | null
  /** `http://127.0.0.1:port/proxy/{name}` */
  base: string
  hooks(): RegistryHooks
  close(): Promise<void>
}

export interface HubOptions {
  mode: 'proxy' | 'local' | 'hybrid'
  database?: 'sqlite' | 'postgresql'
  name?: string
  /** Extra keys of the registry table. */
  registry?: Record<string, unknown>
  /** No fixture upstream (local mode). */
  noUpstream?: boolean
}

export async function startHub(o: HubOptions): Promise<Hub> {
  const fixture = o.noUpstream ? null : await pypiFixture()
  const name = o.name ?? 'pypi'
  let kernel: TestKernel
  try {
    kernel = await createTestKernel({
      plugins: [pypi],
      ...(o.database ? { database: o.database } : {}),
      config: {
        registries: [{
          name, type: 'pypi', mode: o.mode,
          ...(fixture ? { upstreams: [fixture.index.url] } : {}),
          ...(o.registry ?? {}),
        }],
      },
    })
  } catch (err) {
    await fixture?.close()
    throw err
  }
  return {
    kernel,
    fixture,
    base: `${kernel.url}/proxy/${name}`,
    hooks() {
      const k = (kernel as unknown as { kernel: { hosts: Map<string, { hooks: RegistryHooks }> } }).kernel
      return k.hosts.get(name)!.hooks
    },
    async close() {
      await kernel.close()
      await fixture?.close()
    },
  }
}

/** A twine-shaped multipart upload of one distribution. */
export function uploadForm(dist: Pick<BuiltDist, 'filename' | 'body' | 'sha256' | 'md5'>, fields: Record<string, string | string[] | undefined> = {}): FormData {
  const form = new FormData()
  const defaults: Record<string, string | string[] | undefined> = {
    ':action': 'file_upload',
    protocol_version: '1',
    metadata_version: '2.1',
    filetype: dist.filename.endsWith('.whl') ? 'bdist_wheel' : 'sdist',
    pyversion: dist.filename.endsWith('.whl') ? 'py3' : 'source',
    sha256_digest: dist.sha256,
    md5_digest: dist.md5,
    summary: 'A test package',
  }
  for (const [k, v] of Object.entries({ ...defaults, ...fields })) {
    if (v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) form.append(k, one)
  }
  form.append('content', new Blob([new Uint8Array(dist.body)]), dist.filename)
  return form
}

/** POSTs a form to `/legacy/` with Basic `__token__` credentials, as twine does. */
export async function upload(hub: Hub, form: FormData, token = hub.kernel.adminToken): Promise<{ status: number; reason: string; text: string }> {
  const res = await fetch(`${hub.base}/legacy/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}` },
    body: form,
  })
  return { status: res.status, reason: res.statusText, text: await res.text() }
}

/** A GET with an optional Accept header and token. */
export async function get(hub: Hub, path: string, o: { accept?: string; token?: string; method?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {}
  if (o.accept) headers.accept = o.accept
  if (o.token) headers.authorization = `Bearer ${o.token}`
  return fetch(`${hub.base}${path}`, { method: o.method ?? 'GET', headers, redirect: 'manual' })
}
