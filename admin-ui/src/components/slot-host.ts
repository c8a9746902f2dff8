import { LitElement, css } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { consume } from '@lit/context'
import type { UiSlot } from '@batlehub/sdk/ui'
import { pluginUiContext, type PluginUi } from '../plugins.ts'

/**
 * Renders the plugin elements contributed to a named slot, with `props` set on each element.
 *
 * @fires bh-slot-filled - after the contributions loaded; `detail.count` is how many render.
 */
@customElement('bh-slot')
export class BhSlot extends LitElement {
  static override styles = css`
    :host { display: contents; }
  `

  @property() accessor name: UiSlot = 'package.sidebar'
  /** Registry type: registry plugins only contribute to registries of their own type. */
  @property({ attribute: 'registry-type' }) accessor registryType: string | undefined
  @property({ attribute: false }) accessor props: Record<string, unknown> = {}

  @consume({ context: pluginUiContext, subscribe: true })
  @property({ attribute: false })
  accessor plugins: PluginUi | undefined

  @state() accessor tags: string[] = []
  readonly #elements = new Map<string, HTMLElement>()
  #seq = 0

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('name') || changed.has('registryType') || changed.has('plugins')) void this.load()
  }

  private async load(): Promise<void> {
    const seq = ++this.#seq
    const tags = this.plugins ? await this.plugins.elements(this.name, this.registryType) : []
    if (seq !== this.#seq) return
    this.tags = tags
    this.dispatchEvent(new CustomEvent('bh-slot-filled', { detail: { count: tags.length }, bubbles: true, composed: true }))
  }

  override render(): unknown {
    return this.tags.map((tag) => {
      let el = this.#elements.get(tag)
      if (!el) {
        el = document.createElement(tag)
        el.setAttribute('part', 'contribution')
        this.#elements.set(tag, el)
      }
      Object.assign(el, this.props)
      return el
    })
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-slot': BhSlot
  }
}
