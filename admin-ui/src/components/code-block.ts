import { LitElement, css, html } from 'lit'
import { customElement, property, state } from 'lit/decorators.js'
import { base, buttons } from '../styles.ts'
import { icons } from '../icons.ts'

/** A titled, copyable block of configuration or shell commands. */
@customElement('bh-code-block')
export class BhCodeBlock extends LitElement {
  static override styles = [base, buttons, css`
    :host { display: block; }
    .block { border: 1px solid #1e293b; border-radius: var(--bh-radius-sm); overflow: hidden; background: #0f172a; }
    .bar { display: flex; align-items: center; justify-content: space-between; gap: 0.5rem; padding: 0.35rem 0.4rem 0.35rem 0.8rem; background: #1e293b; color: #cbd5e1; }
    .title { font-family: var(--bh-mono); font-size: 0.8rem; }
    .lang { font-size: 0.7rem; text-transform: uppercase; letter-spacing: 0.06em; color: #94a3b8; margin-left: 0.5rem; }
    pre { margin: 0; padding: 0.8rem 0.9rem; overflow-x: auto; color: #e2e8f0; font-family: var(--bh-mono); font-size: 0.84rem; line-height: 1.55; }
    .copy { height: 1.75rem; padding: 0 0.55rem; font-size: 0.78rem; background: transparent; color: #cbd5e1; border-color: #334155; }
    .copy:hover:not(:disabled) { background: #334155; color: #fff; border-color: #475569; }
    .copy svg { width: 14px; height: 14px; }
  `]

  @property() accessor heading = ''
  @property() accessor language = ''
  @property() accessor code = ''
  @state() accessor copied = false

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.code)
    } catch {
      // Clipboard API refused (insecure origin, no permission): select the text for a manual copy.
      const pre = this.renderRoot.querySelector('pre')
      if (pre) {
        const range = document.createRange()
        range.selectNodeContents(pre)
        const sel = window.getSelection()
        sel?.removeAllRanges()
        sel?.addRange(range)
      }
    }
    this.copied = true
    setTimeout(() => (this.copied = false), 1500)
  }

  override render(): unknown {
    return html`<div class="block">
      <div class="bar">
        <span><span class="title">${this.heading}</span>${this.language ? html`<span class="lang">${this.language}</span>` : null}</span>
        <button class="btn copy" @click=${this.copy} aria-label="Copy ${this.heading || 'snippet'}">${icons.copy}${this.copied ? 'Copied' : 'Copy'}</button>
      </div>
      <pre><code>${this.code}</code></pre>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'bh-code-block': BhCodeBlock
  }
}
