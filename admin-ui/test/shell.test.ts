import { expect, fixture, html } from '@open-wc/testing'
import '../src/app.ts'
import type { BhApp } from '../src/app.ts'
import { TOKEN_KEY } from '../src/api.ts'
import { $, $$, hubEnv, text, type, until } from './helpers.ts'

/** The shell routes by location: each test starts at a path and the runner's URL comes back after. */
const start = location.href
function at(path: string): void {
  history.replaceState(null, '', path)
}

const nav = (app: BhApp) => $$(app, 'nav.main a').map((a) => text(a))

async function adminFetch(method: string, path: string, body?: unknown): Promise<Response> {
  const { tokens } = await hubEnv()
  return fetch(path, { method, headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
}

describe('application shell', () => {
  beforeEach(() => sessionStorage.clear())
  afterEach(() => {
    sessionStorage.clear()
    history.replaceState(null, '', start)
  })

  it('shows anonymous visitors only the pages they may use, and a sign-in button', async () => {
    at('/explore')
    const app = await fixture<BhApp>(html`<bh-app></bh-app>`)
    await until(() => app.session, 'identity')
    await app.updateComplete
    expect(app.session!.role).to.equal('anonymous')
    expect(nav(app)).to.deep.equal(['Explore', 'Setup Guide'])
    expect(text($(app, '.who'))).to.equal('Sign in')
    expect(app.shadowRoot!.querySelector('bh-explorer-page')).to.exist
  })

  it('signs in with a token kept in session storage, then shows the admin navigation', async () => {
    at('/sign-in?next=/setup')
    const app = await fixture<BhApp>(html`<bh-app></bh-app>`)
    await until(() => app.session, 'identity')
    await app.updateComplete
    const page = app.shadowRoot!.querySelector('bh-sign-in-page')!
    await page.updateComplete
    const input = page.shadowRoot!.querySelector('input#token') as HTMLInputElement
    type(input, 'not-a-token')
    await page.updateComplete
    ;(page.shadowRoot!.querySelector('button[type="submit"]') as HTMLButtonElement).click()
    await until(() => page.shadowRoot!.querySelector('.notice.error'), 'refused token')
    expect(text(page.shadowRoot!.querySelector('.notice.error'))).to.contain('not accepted')
    expect(sessionStorage.getItem(TOKEN_KEY)).to.equal(null)

    const { tokens } = await hubEnv()
    type(input, tokens.admin)
    await page.updateComplete
    ;(page.shadowRoot!.querySelector('button[type="submit"]') as HTMLButtonElement).click()
    await until(() => app.session?.role === 'admin', 'signed in')
    await app.updateComplete
    expect(sessionStorage.getItem(TOKEN_KEY)).to.equal(tokens.admin)
    expect(nav(app)).to.deep.equal(['Explore', 'Setup Guide', 'Admin'])
    expect(text($(app, '.who .role'))).to.equal('admin')
    expect(location.pathname).to.equal('/setup')
    expect(app.shadowRoot!.querySelector('bh-setup-page')).to.exist
    ;($(app, '.who button') as HTMLButtonElement).click()
    await until(() => app.session?.role === 'anonymous', 'signed out')
    expect(sessionStorage.getItem(TOKEN_KEY)).to.equal(null)
  })

  it('keeps users out of the admin pages and follows links without reloading', async () => {
    const { tokens } = await hubEnv()
    sessionStorage.setItem(TOKEN_KEY, tokens.user)
    at('/admin')
    const app = await fixture<BhApp>(html`<bh-app></bh-app>`)
    await until(() => app.session?.role === 'user', 'identity')
    await app.updateComplete
    expect(nav(app)).to.deep.equal(['Explore', 'Setup Guide'])
    expect(text($(app, 'main .state'))).to.contain('Administrators only')
    ;($$(app, 'nav.main a').find((a) => text(a) === 'Setup Guide') as HTMLAnchorElement).click()
    await app.updateComplete
    expect(location.pathname).to.equal('/setup')
    expect(app.route.name).to.equal('setup')
    expect($$(app, 'nav.main a[aria-current="page"]').map((a) => text(a))).to.deep.equal(['Setup Guide'])
  })

  it('forgets a token the server refuses and says the session ended', async () => {
    sessionStorage.setItem(TOKEN_KEY, 'revoked-token')
    at('/explore')
    const app = await fixture<BhApp>(html`<bh-app></bh-app>`)
    await until(() => app.session?.role === 'anonymous' && app.notice, 'expired session')
    await app.updateComplete
    expect(sessionStorage.getItem(TOKEN_KEY)).to.equal(null)
    expect(text($(app, 'p.notice'))).to.contain('Your session has ended')
  })

  it('renders the global banner and lets the visitor dismiss it', async () => {
    await adminFetch('PUT', '/api/v1/admin/banner', { message: 'Maintenance tonight at 22:00', level: 'warning' })
    try {
      at('/explore')
      const app = await fixture<BhApp>(html`<bh-app></bh-app>`)
      const banner = app.shadowRoot!.querySelector('bh-banner')!
      await until(() => banner.shadowRoot?.querySelector('.bar'), 'banner shown')
      const bar = banner.shadowRoot!.querySelector('.bar')!
      expect(bar.classList.contains('warning')).to.equal(true)
      expect(text(bar)).to.contain('Maintenance tonight at 22:00')
      ;(banner.shadowRoot!.querySelector('button') as HTMLButtonElement).click()
      await banner.updateComplete
      expect(banner.shadowRoot!.querySelector('.bar')).to.equal(null)
    } finally {
      await adminFetch('DELETE', '/api/v1/admin/banner')
    }
  })

  it('shows a not-found page for unknown paths', async () => {
    at('/no/such/page')
    const app = await fixture<BhApp>(html`<bh-app></bh-app>`)
    await until(() => app.session, 'identity')
    await app.updateComplete
    expect(text($(app, 'main .state'))).to.contain('Page not found')
  })
})
