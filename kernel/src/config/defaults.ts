/**
 * The configuration used when there is no config file: a working hub out of the box.
 */
import Value from 'typebox/value'
import { defaultRbac, type PluginCatalog } from './schema.ts'

/**
 * The raw (TOML-shaped, not yet validated) default configuration for the loaded plugins:
 * - server on 127.0.0.1:8080, SQLite and filesystem storage under `./data`;
 * - `[[auth]] type = "token"` with no tokens when a `token` auth plugin is loaded (the kernel then
 *   bootstraps an admin token);
 * - one proxy registry per registry plugin that can proxy and has default upstreams, named after
 *   the plugin id, sorted by id, readable anonymously. Plugins whose schema cannot be satisfied by
 *   defaults alone (a required key without default) are left out.
 *
 * Pass it to `validateConfig` (`loadConfig` does so, with any `PROXY_CACHE__*` overrides on top).
 */
export function defaultConfig(catalog: PluginCatalog): Record<string, unknown> {
  const registries = [...catalog.registry.values()]
    .filter((p) => p.capabilities.proxy && (p.defaultUpstreams ?? []).length > 0)
    .filter((p) => !p.configSchema || Value.Check(p.configSchema, Value.Default(p.configSchema, {})))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((p) => ({ name: p.id, type: p.id, mode: 'proxy', rbac: defaultRbac('proxy') }))
  return {
    server: { host: '127.0.0.1', port: 8080, data_dir: './data' },
    database: { type: 'sqlite' },
    storage: { type: 'filesystem' },
    auth: catalog.auth.has('token') ? [{ type: 'token' }] : [],
    registries,
  }
}
