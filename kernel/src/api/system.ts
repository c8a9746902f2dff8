/**
 * System API: configured registries, the OpenAPI document.
 */
import Type from 'typebox'
import type { ApiRouter } from './api-router.ts'
import type { RegistryHost } from '../http/registry-host.ts'

export const RegistrySummary = Type.Object({
  name: Type.String(),
  type: Type.String(),
  mode: Type.Union([Type.Literal('proxy'), Type.Literal('local'), Type.Literal('hybrid')]),
  url: Type.String({ description: 'Path of the registry mount' }),
  capabilities: Type.Object({ proxy: Type.Boolean(), publish: Type.Boolean(), search: Type.Boolean(), yank: Type.Boolean() }),
}, { $id: 'RegistrySummary' })

export function registerSystemApi(api: ApiRouter, deps: { hosts: () => readonly RegistryHost[] }): void {
  api.add({
    method: 'GET',
    path: '/api/v1/registries',
    summary: 'Configured registries with their type and mode',
    tags: ['registries'],
    access: 'public',
    response: Type.Object({ registries: Type.Array(RegistrySummary) }),
    handler: () => ({
      registries: deps.hosts().map((h) => ({
        name: h.info.name,
        type: h.info.type,
        mode: h.info.mode,
        url: `/proxy/${h.info.name}/`,
        capabilities: { ...h.definition.capabilities },
      })),
    }),
  })
}
