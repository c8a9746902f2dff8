/**
 * Configuration loading and spec generation for CLI commands that do not start the server.
 */
import { loadRawConfig, validateLoadedConfig } from './config/load.ts'
import type { HubConfig } from './config/schema.ts'
import { catalogOf, loadPlugins, type PluginReport } from './kernel.ts'
import { ApiRouter } from './api/api-router.ts'
import { registerSystemApi } from './api/system.ts'
import { registerExploreApi } from './api/explore.ts'
import { registerBannerApi } from './api/banner.ts'
import { registerSetupGuideApi } from './api/setup-guide.ts'
import { registerDashboardApi } from './api/dashboard.ts'
import { registerUiApi } from './api/ui.ts'
import { KERNEL_VERSION } from './version.ts'

/** Loads and validates the configuration exactly as `serve` does, without opening anything. */
export async function loadConfigForCli(configPath?: string): Promise<{ config: HubConfig; source: string; plugins: PluginReport }> {
  const cwd = process.cwd()
  const raw = await loadRawConfig({ path: configPath, env: process.env, cwd })
  const rawPlugins = (raw.raw as any)?.plugins
  const dirs: string[] = Array.isArray(rawPlugins?.dirs) ? rawPlugins.dirs.filter((d: unknown) => typeof d === 'string') : []
  const plugins = await loadPlugins({ dirs, cwd: (raw as any).baseDir ?? cwd, discover: true, extra: [] })
  const { config } = validateLoadedConfig({ ...raw, baseDir: (raw as any).baseDir ?? cwd }, catalogOf(plugins.loaded))
  return { config, source: raw.source, plugins }
}

/** The OpenAPI document, built from the route declarations alone. */
export function buildSpecOnly(): Record<string, unknown> {
  const api = new ApiRouter()
  registerSystemApi(api, { hosts: () => [] })
  // Handlers never run here: only the route declarations matter.
  const unused = (): never => {
    throw new Error('not available in dump-spec')
  }
  registerExploreApi(api, { hosts: () => [], catalog: unused as never, cache: unused as never, log: unused as never, betaEnabled: () => false, upstreamSearchTimeoutMs: 0 })
  registerBannerApi(api, { banner: unused })
  registerSetupGuideApi(api, { hosts: () => [], log: unused as never })
  registerDashboardApi(api, { hosts: () => [], db: unused, traffic: unused })
  registerUiApi(api, { plugins: () => [], hosts: () => [] })
  return api.openapi({ title: 'BatleHub API', version: KERNEL_VERSION })
}
