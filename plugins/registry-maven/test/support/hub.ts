/**
 * A test hub with the maven plugin, and requests the way mvn sends them (Basic auth, token as
 * password).
 */
import { createTestKernel, type TestKernel, type TestResponse } from '@batlehub/sdk/testing'
import maven from '../../src/index.ts'

export type Dialect = 'sqlite' | 'postgresql'

export interface HubOptions {
  database: Dialect
  registries: Array<Record<string, unknown>>
}

export function startHub(o: HubOptions): Promise<TestKernel> {
  return createTestKernel({ database: o.database, plugins: [maven], config: { registries: o.registries } })
}

export function basic(token: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`deployer:${token}`).toString('base64')}` }
}

/** A request to `/proxy/{registry}/maven2/{path}` with Basic auth. */
export function repo(hub: TestKernel, registry: string, method: string, path: string, o: { token?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<TestResponse> {
  return hub.request(method, `/proxy/${registry}/maven2/${path.replace(/^\/+/, '')}`, {
    headers: { ...(o.token ? basic(o.token) : {}), ...(o.headers ?? {}) },
    ...(o.body !== undefined ? { body: o.body } : {}),
  })
}
