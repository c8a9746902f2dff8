/**
 * What the web UI needs to know about the caller and the installed plugins: who is signed in
 * (to show only the navigation the role may use), and which plugins contribute UI modules.
 */
import Type from 'typebox'
import type { ApiRouter } from './api-router.ts'
import type { RegistryHost } from '../http/registry-host.ts'
import type { PluginUiModule } from '../http/static.ts'

export function registerUiApi(api: ApiRouter, deps: { plugins: () => readonly PluginUiModule[]; hosts: () => readonly RegistryHost[] }): void {
  api.add({
    method: 'GET',
    path: '/api/v1/auth/whoami',
    summary: 'The identity of the credential sent (anonymous without one)',
    tags: ['auth'],
    access: 'public',
    response: Type.Object({
      user_id: Type.String(),
      role: Type.Union([Type.Literal('anonymous'), Type.Literal('user'), Type.Literal('admin')]),
      groups: Type.Array(Type.String()),
      provider: Type.String(),
      display_name: Type.Union([Type.String(), Type.Null()]),
      explorable_registries: Type.Array(Type.String(), { description: 'Registries this identity may browse in the explorer' }),
    }),
    handler: ({ identity, koa }) => {
      koa.set('Cache-Control', 'no-store')
      return {
        user_id: identity.userId,
        role: identity.role,
        groups: [...identity.groups],
        provider: identity.provider,
        display_name: identity.displayName ?? null,
        explorable_registries: deps.hosts().filter((h) => h.rbac.canExplore(identity)).map((h) => h.info.name),
      }
    },
  })

  api.add({
    method: 'GET',
    path: '/api/v1/ui/plugins',
    summary: 'Browser modules of plugin UI contributions, loaded by the web UI for its named slots',
    tags: ['ui'],
    access: 'public',
    response: Type.Object({
      plugins: Type.Array(Type.Object({
        id: Type.String({ description: 'Plugin id; a registry plugin\'s contributions apply to registries of this type' }),
        kind: Type.Union([Type.Literal('registry'), Type.Literal('auth')]),
        module: Type.String({ description: 'URL of the ES module whose default export is a `defineUi(...)` value' }),
      })),
    }),
    handler: () => ({
      plugins: deps.plugins().map((p) => ({ id: p.id, kind: p.kind, module: `/ui/plugins/${p.id}/index.js` })),
    }),
  })
}
