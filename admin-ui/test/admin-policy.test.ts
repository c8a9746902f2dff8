import { expect, fixture, html } from '@open-wc/testing'
import '../src/pages/admin-policy.ts'
import '../src/pages/package.ts'
import type { BhAdminAudit, BhAdminFirewall } from '../src/pages/admin-policy.ts'
import type { BhPackagePage } from '../src/pages/package.ts'
import type { WhoAmI } from '../src/api.ts'
import { $, $$, apiAs, text, type, until } from './helpers.ts'

const ADMIN_SESSION: WhoAmI = { user_id: 'admin', role: 'admin', groups: [], provider: 'token', display_name: null, explorable_registries: ['npm'] }

const rows = (el: Element) => $$(el, 'tr[data-block]').map((r) => r.dataset.block)

function fill(form: HTMLFormElement, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    const input = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
    input.value = value
    input.dispatchEvent(new Event('input', { bubbles: true }))
  }
}

describe('firewall page', () => {
  it('lists blocked versions with who and why, blocks and unblocks', async () => {
    const el = await fixture<BhAdminFirewall>(html`<bh-admin-firewall .api=${await apiAs('admin')}></bh-admin-firewall>`)
    await until(() => el.items.length && el.registries.length, 'loaded')
    await el.updateComplete
    expect(rows(el)).to.deep.equal(['npm/lodash@4.17.20'])
    const row = $(el, 'tr[data-block="npm/lodash@4.17.20"]')!
    expect(text(row.querySelector('td[data-label="Reason"]'))).to.equal('CVE-2021-23337 command injection')
    expect(text(row.querySelector('td[data-label="Blocked by"]'))).to.equal('admin')

    const form = $(el, 'form.block') as HTMLFormElement
    fill(form, { registry: 'npm', name: 'react', version: '18.3.1', reason: 'licence review' })
    ;($(el, 'button#block') as HTMLButtonElement).click()
    await until(() => el.items.length === 2, 'blocked')
    await el.updateComplete
    expect(text($(el, '.notice'))).to.equal('Blocked react@18.3.1 on npm.')
    expect(rows(el)[0]).to.equal('npm/react@18.3.1')

    ;($(el, 'tr[data-block="npm/react@18.3.1"] button') as HTMLButtonElement).click()
    await until(() => el.items.length === 1, 'unblocked')
    expect(text($(el, '.notice'))).to.equal('Unblocked react@18.3.1 on npm.')
  })

  it('blocks many versions at once and filters the list', async () => {
    const el = await fixture<BhAdminFirewall>(html`<bh-admin-firewall .api=${await apiAs('admin')}></bh-admin-firewall>`)
    await until(() => el.items.length && el.registries.length, 'loaded')
    await el.updateComplete
    const form = $(el, 'form.bulk') as HTMLFormElement
    fill(form, { registry: 'bulk', lines: 'pkg-01@1.0.0\npkg-02@1.0.0\n', reason: 'typosquats' })
    ;($(el, 'button#bulk-block') as HTMLButtonElement).click()
    await until(() => el.items.length === 3, 'bulk blocked')
    expect(el.status?.text).to.equal('Blocked 2 versions on bulk.')
    const search = $(el, '.filters input') as HTMLInputElement
    type(search, 'pkg-02')
    await until(() => el.items.length === 1, 'filtered')
    expect(el.items[0]!.name).to.equal('pkg-02')
    // Clean up for the other tests.
    const api = await apiAs('admin')
    for (const name of ['pkg-01', 'pkg-02']) await api.send('POST', '/api/v1/admin/packages/unblock', { registry: 'bulk', name, version: '1.0.0' })
  })

  it('refuses lines that are not name@version', async () => {
    const el = await fixture<BhAdminFirewall>(html`<bh-admin-firewall .api=${await apiAs('admin')}></bh-admin-firewall>`)
    await until(() => el.registries.length, 'loaded')
    await el.updateComplete
    fill($(el, 'form.bulk') as HTMLFormElement, { registry: 'npm', lines: 'no-version\n' })
    ;($(el, 'button#bulk-block') as HTMLButtonElement).click()
    await until(() => el.status, 'refused')
    expect(el.status!.ok).to.equal(false)
    expect(el.status!.text).to.contain('no-version')
  })
})

describe('package detail for admins', () => {
  it('blocks a version with a reason and unblocks it from the versions table', async () => {
    const el = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('admin')} .session=${ADMIN_SESSION} registry="npm" package-name="react"></bh-package-page>`)
    await until(() => el.detail, 'loaded')
    await el.updateComplete
    const row = () => $(el, 'tr[data-version="18.3.1"]')!
    ;(row().querySelector('[data-action="block"]') as HTMLButtonElement).click()
    await el.updateComplete
    ;(row().querySelector('input[name="reason"]') as HTMLInputElement).value = 'pending review'
    ;(row().querySelector('[data-action="confirm-block"]') as HTMLButtonElement).click()
    await until(() => el.detail?.versions[0]?.firewall.status === 'blocked', 'blocked')
    await el.updateComplete
    expect(text(row().querySelector('td[data-label="Firewall"] .tip'))).to.contain('pending review')
    ;(row().querySelector('[data-action="unblock"]') as HTMLButtonElement).click()
    await until(() => el.detail?.versions[0]?.firewall.status === 'clear', 'unblocked')
  })

  it('offers no actions to other roles', async () => {
    const el = await fixture<BhPackagePage>(html`<bh-package-page .api=${await apiAs('user')} registry="npm" package-name="react"></bh-package-page>`)
    await until(() => el.detail, 'loaded')
    await el.updateComplete
    expect($(el, '[data-action]')).to.equal(null)
  })
})

describe('audit log page', () => {
  it('shows refusals with their rule and filters by outcome', async () => {
    // Anonymous callers lack releases:read on the hybrid registry: each request is an RBAC refusal.
    for (let i = 0; i < 2; i++) expect((await fetch('/proxy/internal/ping')).status).to.equal(401)
    const el = await fixture<BhAdminAudit>(html`<bh-admin-audit .api=${await apiAs('admin')}></bh-admin-audit>`)
    await until(() => el.entries.length > 0, 'entries')
    await el.updateComplete
    const deny = $$(el, 'tr[data-audit]').find((r) => text(r.querySelector('td[data-label="Outcome"]')) === 'Denied')!
    expect(text(deny.querySelector('td[data-label="Rule"]'))).to.contain('rbac')
    expect(text(deny.querySelector('td[data-label="Registry"]'))).to.equal('internal')
    expect(text(deny.querySelector('td[data-label="User"]'))).to.contain('anonymous')
    const outcome = $(el, 'select#outcome') as HTMLSelectElement
    outcome.value = 'deny'
    outcome.dispatchEvent(new Event('change'))
    await until(() => !el.loading && el.outcome === 'deny', 'filtered')
    expect(el.entries.length).to.be.at.least(2)
    expect(el.entries.every((e) => e.outcome === 'deny')).to.equal(true)
  })
})
