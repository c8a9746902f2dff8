/**
 * A test hub with the maven plugin, and requests the way mvn sends them (Basic auth, token as
 * password).
 */
import { request as httpRequest } from 'node:http'
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

/**
 * A request whose path is sent exactly as given (fetch and URL resolve `..` before sending, which
 * would hide what a hostile client can send).
 */
export function rawRequest(baseUrl: string, method: string, path: string, o: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<{ status: number; statusText: string; body: string }> {
  const { hostname, port } = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers: { ...(o.headers ?? {}), ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(o.body)
  })
}
