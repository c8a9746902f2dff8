/**
 * Writes a RegistryReply to a Koa response: streams stay streams, objects become JSON, and the
 * reply's own headers (Content-Length included) win over Koa's defaults.
 */
import { Readable } from 'node:stream'
import type { Context } from 'koa'
import type { RegistryReply } from '@batlehub/sdk'

export function applyReply(ctx: Context, reply: RegistryReply | void): void {
  if (!reply) {
    ctx.status = 204
    ctx.body = null
    return
  }
  const status = reply.status ?? 200
  const body = reply.body
  ctx.status = status
  if (body === undefined || body === null) {
    // Koa turns a null body into 204 unless the status is one without a body; HEAD replies and
    // 304s keep their status, headers and Content-Length.
    if (ctx.method === 'HEAD' || status === 304 || status === 204) ctx.body = null
    else ctx.body = ''
  } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
    ctx.body = body
  } else if (body instanceof Uint8Array) {
    ctx.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  } else if (body instanceof Readable || typeof (body as any).pipe === 'function') {
    ctx.body = body
  } else {
    const text = JSON.stringify(body)
    ctx.type = 'application/json'
    ctx.body = text
  }
  for (const [k, v] of Object.entries(reply.headers ?? {})) {
    ctx.set(k, Array.isArray(v) ? (v as string[]) : String(v))
  }
  // Setting a body may have rewritten the status (Koa's 204/200 defaults).
  ctx.status = status
}
