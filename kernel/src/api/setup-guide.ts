/**
 * Setup Guide API (seed user-guide "Setup Guide UI"): ready-to-paste client configuration for every
 * configured registry, filled with the hub's address. Each snippet comes from the registry's plugin
 * (`setupSnippets` hook); the kernel only supplies the URLs.
 */
import Type from 'typebox'
import type { Context } from 'koa'
import type { LoggerService, SetupSnippet } from '@batlehub/sdk'
import type { ApiRouter } from './api-router.ts'
import type { RegistryHost } from '../http/registry-host.ts'

export const SetupSnippetSchema = Type.Object({
  title: Type.String(),
  language: Type.String(),
  content: Type.String(),
  purpose: Type.Union([Type.Literal('install'), Type.Literal('publish')]),
}, { $id: 'SetupSnippet' })

/** The hub's external base URL: `server.public_url`, else the request's own origin. */
export function serverUrl(ctx: Context, publicUrl?: string): string {
  return (publicUrl ?? `${ctx.protocol}://${ctx.host}`).replace(/\/+$/, '')
}

export function registerSetupGuideApi(api: ApiRouter, deps: { hosts: () => readonly RegistryHost[]; publicUrl?: string; log: LoggerService }): void {
  api.add({
    method: 'GET',
    path: '/api/v1/setup',
    summary: 'Client configuration snippets for every configured registry, filled with this server\'s address',
    tags: ['setup'],
    access: 'public',
    response: Type.Object({
      server_url: Type.String(),
      registries: Type.Array(Type.Object({
        name: Type.String(),
        type: Type.String(),
        mode: Type.Union([Type.Literal('proxy'), Type.Literal('local'), Type.Literal('hybrid')]),
        url: Type.String({ description: 'Absolute URL of the registry mount' }),
        accessible: Type.Boolean({ description: 'The caller may read from this registry with the credential it sent' }),
        snippets: Type.Array(SetupSnippetSchema),
      })),
    }),
    handler: ({ koa, identity }) => {
      const base = serverUrl(koa, deps.publicUrl)
      return {
        server_url: base,
        registries: deps.hosts().map((h) => {
          const url = `${base}/proxy/${h.info.name}`
          let snippets: SetupSnippet[] = []
          try {
            const out = h.hooks.setupSnippets?.({ baseUrl: url, registryName: h.info.name, mode: h.info.mode }) ?? []
            snippets = (Array.isArray(out) ? out : []).filter((s) =>
              s && typeof s.title === 'string' && typeof s.content === 'string' && typeof s.language === 'string' &&
              (s.purpose === 'install' || s.purpose === 'publish'))
          } catch (err) {
            // One broken plugin must not take the whole guide down.
            deps.log.error('setupSnippets hook failed', { registry: h.info.name, plugin: h.info.type, err: (err as Error)?.message ?? String(err) })
          }
          return {
            name: h.info.name,
            type: h.info.type,
            mode: h.info.mode,
            url: `${url}/`,
            accessible: h.rbac.can(identity, 'releases:read'),
            snippets: snippets.map((s) => ({ title: s.title, language: s.language, content: s.content, purpose: s.purpose })),
          }
        }),
      }
    },
  })
}
