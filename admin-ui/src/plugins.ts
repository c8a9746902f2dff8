/**
 * Plugin UI contributions (STYLE §9): each plugin's browser module is imported once; its
 * contributions are loaded lazily when a page renders their slot, and the shell defines their tags.
 */
import { createContext } from '@lit/context'
import type { UiModule, UiSlot } from '@batlehub/sdk/ui'
import type { ApiClient, PluginModule } from './api.ts'

interface Loaded {
  plugin: PluginModule
  ui: UiModule | null
}

export type ModuleImporter = (url: string) => Promise<{ default?: unknown }>

const nativeImport: ModuleImporter = (url) => import(/* @vite-ignore */ url)

export class PluginUi {
  #modules?: Promise<Loaded[]>
  readonly #defined = new Map<string, Promise<boolean>>()

  constructor(private readonly api: Pick<ApiClient, 'get'>, private readonly importer: ModuleImporter = nativeImport) {}

  /** Every plugin module, imported once. A module that fails to load is skipped (and logged). */
  modules(): Promise<Loaded[]> {
    this.#modules ??= this.load()
    return this.#modules
  }

  private async load(): Promise<Loaded[]> {
    let list: PluginModule[] = []
    try {
      list = (await this.api.get<{ plugins: PluginModule[] }>('/api/v1/ui/plugins')).plugins ?? []
    } catch (err) {
      console.warn('batlehub: cannot list plugin UI modules', err)
      return []
    }
    return Promise.all(list.map(async (plugin) => {
      try {
        const mod = await this.importer(plugin.module)
        const ui = mod?.default as UiModule | undefined
        if (!ui || !Array.isArray(ui.contributions)) throw new Error('the module has no defineUi(...) default export')
        return { plugin, ui }
      } catch (err) {
        console.warn(`batlehub: UI module of plugin ${plugin.id} failed to load`, err)
        return { plugin, ui: null }
      }
    }))
  }

  /**
   * Tags of the elements contributed to `slot`, defined and ready to create. With `registryType`,
   * registry plugins contribute only to registries of their own type.
   */
  async elements(slot: UiSlot, registryType?: string): Promise<string[]> {
    const tags: string[] = []
    for (const { plugin, ui } of await this.modules()) {
      if (!ui) continue
      if (registryType !== undefined && plugin.kind === 'registry' && plugin.id !== registryType) continue
      for (const c of ui.contributions) {
        if (c?.slot !== slot) continue
        // bh-<pluginId>-<name>: a plugin cannot take over the shell's tags or another plugin's.
        if (typeof c.tag !== 'string' || !c.tag.startsWith(`bh-${plugin.id}-`) || !/^[a-z][a-z0-9-]*-[a-z0-9-]+$/.test(c.tag)) {
          console.warn(`batlehub: plugin ${plugin.id} contributes an invalid tag ${String(c.tag)}`)
          continue
        }
        let ready = this.#defined.get(c.tag)
        if (!ready) {
          ready = (async () => {
            if (customElements.get(c.tag)) return true
            const mod = await c.load()
            if (typeof mod?.default !== 'function') throw new Error('the element module has no default export')
            // The host defines the tag (lit#3794): skip a tag another module already defined.
            if (!customElements.get(c.tag)) customElements.define(c.tag, mod.default as unknown as CustomElementConstructor)
            return true
          })().catch((err) => {
            console.warn(`batlehub: contribution ${c.tag} of plugin ${plugin.id} failed to load`, err)
            return false
          })
          this.#defined.set(c.tag, ready)
        }
        if (await ready) tags.push(c.tag)
      }
    }
    return tags
  }
}

/** Context of the {@link PluginUi} registry, for slot hosts anywhere under the shell. */
export const pluginUiContext = createContext<PluginUi | undefined>('bh.plugin-ui')
