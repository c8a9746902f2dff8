/**
 * Test set-up shared by the end-to-end suites: a fixture upstream, a real kernel with the cargo
 * plugin, and a cargo sandbox configured for it.
 */
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import type { RegistryHooks } from '@batlehub/sdk'
import cargo from '../src/index.ts'
import { CargoSandbox } from './cargo.ts'
import { crateUpstream, standardCrates, type CrateUpstream, type CrateUpstreamOptions, type FixtureCrate } from './fixtures.ts'

export interface Hub {
  kernel: TestKernel
  upstream?: CrateUpstream
  cargo: CargoSandbox
  /** `sparse+…/proxy/{name}/registry/` */
  index(name: string): string
  /** The plugin's hooks of one registry instance. */
  hooks(name: string): RegistryHooks
  close(): Promise<void>
}

export interface HubOptions {
  database?: 'sqlite' | 'postgresql'
  /** `[[registries]]` tables; `{upstream}` in `upstreams` is replaced by the fixture's URL. */
  registries: Array<Record<string, unknown>>
  /** Fixture crates served upstream; omit for no upstream. */
  crates?: FixtureCrate[] | 'standard'
  upstreamOptions?: CrateUpstreamOptions
  /** Extra kernel configuration (auth tokens…). */
  config?: Record<string, unknown>
}

export async function startHub(o: HubOptions): Promise<Hub> {
  const upstream = o.crates ? await crateUpstream(o.crates === 'standard' ? standardCrates() : o.crates, { api: true, ...o.upstreamOptions }) : undefined
  const registries = o.registries.map((r) => ({
    ...r,
    ...(Array.isArray(r.upstreams) ? { upstreams: (r.upstreams as string[]).map((u) => u.replace('{upstream}', upstream?.url ?? 'http://127.0.0.1:9')) } : {}),
  }))
  let kernel: TestKernel
  try {
    kernel = await createTestKernel({ plugins: [cargo], database: o.database, config: { registries, ...(o.config ?? {}) } })
  } catch (err) {
    await upstream?.close()
    throw err
  }
  const sandbox = new CargoSandbox()
  return {
    kernel,
    upstream,
    cargo: sandbox,
    index: (name) => `sparse+${kernel.url}/proxy/${name}/registry/`,
    hooks: (name) => (kernel as unknown as { kernel: { hosts: Map<string, { hooks: RegistryHooks }> } }).kernel.hosts.get(name)!.hooks,
    async close() {
      sandbox.close()
      await kernel.close()
      await upstream?.close()
    },
  }
}

/** Cargo's binary publish frame, for tests that send hostile ones. */
export function publishFrame(metadata: unknown, crate: Buffer): Buffer {
  const json = Buffer.from(typeof metadata === 'string' ? metadata : JSON.stringify(metadata))
  const a = Buffer.alloc(4)
  a.writeUInt32LE(json.length)
  const b = Buffer.alloc(4)
  b.writeUInt32LE(crate.length)
  return Buffer.concat([a, json, b, crate])
}

/** Minimal publish metadata as cargo sends it. */
export function publishMetadata(name: string, vers: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, vers, deps: [], features: {}, authors: [], description: `crate ${name}`, documentation: null, homepage: null,
    readme: null, readme_file: null, keywords: [], categories: [], license: 'MIT', license_file: null, repository: null,
    badges: {}, links: null, rust_version: null, ...over,
  }
}
