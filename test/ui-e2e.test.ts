/// <reference lib="dom" />
/**
 * The web UI end to end: a real hub (kernel, npm plugin, SQLite, filesystem storage) in front of a
 * fixture npm registry; the real npm installs a dependency tree through it; then headless Chromium
 * signs in with a token, finds the package in the explorer, opens its detail page, and every page
 * is saved as a screenshot under test-results/ui/ (laptop and phone sizes).
 *
 * The page must load nothing from anywhere but the hub, log no error, and hold one copy of Lit that
 * plugin UI modules share (the production import map, not a test server's module resolution).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { createTestKernel, type KernelTestHandle } from '@batlehub/kernel/testing'
import { chromium } from '../admin-ui/chromium.mjs'
import { startFixtureRegistry, standardPackages, type FixtureRegistry } from '../plugins/registry-npm/test/support/fixtures.ts'
import { createSandbox, expectOk, type ClientSandbox } from '../plugins/registry-npm/test/support/clients.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const SHOTS = join(root, 'test-results', 'ui')
const DEMO_PLUGIN = join(root, 'admin-ui', 'test', 'fixtures', 'demo-plugin')
const ADMIN = 'e2e-admin-token-0123456789abcdef'
const USER = 'e2e-user-token-0123456789abcdef'

interface Ctx {
  upstream: FixtureRegistry
  hub: KernelTestHandle
  sandbox: ClientSandbox
  browser: Browser
  page: Page
  /** Every URL the page requested. */
  requests: string[]
  /** Uncaught errors and console errors of the page. */
  errors: string[]
}

const E2E = suite<Ctx>('web UI end to end (npm install, explorer, detail, setup, admin)')

E2E.before(async (t) => {
  // The UI is built by `npm test` (npm run build); build it here when run alone.
  if (!existsSync(join(root, 'admin-ui', 'dist', 'index.html'))) {
    const built = spawnSync(process.execPath, [join(root, 'admin-ui', 'build.mjs')], { stdio: 'inherit' })
    assert.is(built.status, 0, 'admin-ui build')
  }
  mkdirSync(SHOTS, { recursive: true })
  t.upstream = await startFixtureRegistry(standardPackages())
  t.hub = await createTestKernel({
    plugins: [DEMO_PLUGIN],
    config: {
      auth: [{ type: 'token', tokens: [
        { value: ADMIN, role: 'admin', user_id: 'admin' },
        { value: USER, role: 'user', user_id: 'dev' },
      ] }],
      registries: [
        { name: 'npm', type: 'npm', upstreams: [t.upstream.url] },
        { name: 'npm-internal', type: 'npm', mode: 'hybrid', upstreams: [t.upstream.url] },
        { name: 'demo', type: 'demo', upstreams: [t.upstream.url] },
      ],
    },
  })
  t.sandbox = createSandbox(`${t.hub.url}/proxy/npm/`, USER)
  const { executablePath, args } = await chromium()
  t.browser = await puppeteer.launch({ executablePath, args, headless: true })
  t.page = await t.browser.newPage()
  t.requests = []
  t.errors = []
  t.page.on('request', (r) => t.requests.push(r.url()))
  t.page.on('pageerror', (e) => t.errors.push(`pageerror: ${(e as Error).message}`))
  t.page.on('console', (m) => {
    // A refused token on the sign-in form is a 401 the page handles; the browser still logs it.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) t.errors.push(`console: ${m.text()}`)
  })
})

E2E.after(async (t) => {
  await t.browser?.close()
  t.sandbox?.cleanup()
  await t.hub?.close()
  await t.upstream?.close()
})

/** Waits for a selector inside shadow roots (`>>>`) and returns its text. */
async function textOf(page: Page, selector: string): Promise<string> {
  const el = await page.waitForSelector(selector, { timeout: 15_000 })
  return ((await el!.evaluate((n) => n.textContent)) ?? '').replace(/\s+/g, ' ').trim()
}

async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => document.fonts.ready)
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

E2E('npm installs through the hub; the explorer finds the package and its detail page', async (t) => {
  const { hub, page, sandbox } = t
  sandbox.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { 'fixture-a': '^1.0.0', '@fixture/scoped': '0.1.0' } })
  expectOk(await sandbox.run('npm', ['install', '--no-audit', '--no-fund']), 'npm install through the hub')
  assert.ok(existsSync(join(sandbox.project, 'node_modules', 'fixture-c', 'package.json')), 'transitive dependency installed')
  // Download accounting is batched; write it now rather than waiting for the timer.
  await hub.kernel.proxyCache.flush()

  await page.setViewport({ width: 1366, height: 860 })
  await page.goto(`${hub.url}/sign-in?next=/explore`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> input#token')
  await shot(page, '01-sign-in')
  await page.type('>>> input#token', ADMIN)
  await page.click('>>> button[type="submit"]')
  await page.waitForFunction(() => location.pathname === '/explore')
  assert.is(await page.evaluate(() => sessionStorage.getItem('batlehub.token')), ADMIN)
  assert.match(await textOf(page, '>>> header .who'), /admin/)

  // The catalog lists what npm installed, the sidebar every registry (empty ones with 0).
  await page.waitForSelector('>>> tr[data-package="fixture-a"]', { timeout: 15_000 })
  const sidebar = await page.$$eval('>>> .reg[data-registry]', (els) => els.map((e) => `${(e as HTMLElement).dataset.registry}:${e.querySelector('.n')?.textContent?.trim()}`))
  assert.equal(sidebar, ['npm:4', 'npm-internal:0', 'demo:0'])
  const source = await textOf(page, '>>> tr[data-package="fixture-a"] td[data-label="Source"]')
  assert.is(source, 'Proxied')
  await shot(page, '02-explorer')

  // Search: the table narrows on the server side; upstream hits not yet proxied follow.
  await page.type('>>> input[type="search"]', 'fixture-b')
  await page.waitForFunction(() => location.search.includes('q=fixture-b'))
  await page.waitForSelector('>>> tr[data-package="fixture-b"]')
  await page.waitForFunction(() => {
    const explorer = document.querySelector('bh-app')?.shadowRoot?.querySelector('bh-explorer-page')
    return explorer?.shadowRoot?.querySelectorAll('tr[data-package]').length === 1
  })
  const search = await page.waitForSelector('>>> input[type="search"]')
  await search!.evaluate((el) => {
    ;(el as HTMLInputElement).value = ''
  })
  await search!.type('fixture')
  await page.waitForFunction(() => location.search.includes('q=fixture') && !location.search.includes('q=fixture-b'))
  await page.waitForSelector('>>> tr[data-upstream="fixture-bin"]', { timeout: 15_000 })
  assert.is(await textOf(page, '>>> tr[data-upstream="fixture-bin"] .badge'), 'Not Yet Proxied')
  await shot(page, '03-explorer-search')

  // The detail page of the installed package.
  await page.waitForSelector('>>> tr[data-package="fixture-a"] a')
  await page.click('>>> tr[data-package="fixture-a"] a')
  await page.waitForFunction(() => location.pathname === '/explore/packages/npm/fixture-a')
  await page.waitForSelector('>>> tr[data-version="1.0.1"]', { timeout: 15_000 })
  assert.is(await textOf(page, '>>> tr[data-version="1.0.1"] td[data-label="Downloads"]'), '1')
  assert.is(await textOf(page, '>>> tr[data-version="1.0.1"] td[data-label="Firewall"]'), 'Clear')
  assert.match(await textOf(page, '>>> [data-check="registry"]'), /Registry access/)
  await shot(page, '04-package-detail')

  await page.goto(`${hub.url}/explore/packages/npm/@fixture/scoped`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> tr[data-version="0.1.0"]', { timeout: 15_000 })
  await shot(page, '05-package-detail-scoped')
})

E2E('the setup guide, blocking a version, the firewall, the audit log, the dashboard and the banner', async ({ hub, page }) => {
  await page.setViewport({ width: 1366, height: 860 })
  await page.goto(`${hub.url}/setup`, { waitUntil: 'networkidle0' })
  const npmrc = await textOf(page, '>>> section[data-registry="npm"] bh-code-block >>> pre')
  assert.match(npmrc, new RegExp(`registry=${hub.url.replace(/[.]/g, '\\.')}/proxy/npm/`))
  // A plugin's setup.snippet element, loaded from /ui/plugins/demo/ through the import map.
  assert.is(await textOf(page, '>>> section[data-registry="demo"] bh-slot >>> bh-demo-setup-note >>> p.note'), `The demo client reads demo from ${hub.url}.`)
  await shot(page, '06-setup-guide')

  // An admin blocks an installed version from its detail page; hovering the badge explains it.
  await page.goto(`${hub.url}/explore/packages/npm/fixture-c`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> tr[data-version="1.1.0"] [data-action="block"]', { timeout: 15_000 })
  await page.click('>>> tr[data-version="1.1.0"] [data-action="block"]')
  await page.type('>>> tr[data-version="1.1.0"] input[name="reason"]', 'CVE-2026-0001: remote code execution in the post-install script')
  await page.click('>>> tr[data-version="1.1.0"] [data-action="confirm-block"]')
  await page.waitForSelector('>>> tr[data-version="1.1.0"] .badge.blocked', { timeout: 15_000 })
  await page.hover('>>> tr[data-version="1.1.0"] .badge.blocked')
  assert.match(await textOf(page, '>>> tr[data-version="1.1.0"] .tip'), /CVE-2026-0001/)
  await shot(page, '07-package-detail-blocked')
  // The hub now refuses that version to npm, in npm's own error format.
  const refused = await fetch(`${hub.url}/proxy/npm/fixture-c/-/fixture-c-1.1.0.tgz`, { headers: { authorization: `Bearer ${USER}` } })
  assert.is(refused.status, 403)

  await page.goto(`${hub.url}/admin/firewall`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> tr[data-block="npm/fixture-c@1.1.0"]', { timeout: 15_000 })
  await shot(page, '08-admin-firewall')
  await page.goto(`${hub.url}/admin/audit-log`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> tr[data-audit]', { timeout: 15_000 })
  await shot(page, '09-admin-audit-log')

  await page.goto(`${hub.url}/admin`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> [data-tile="hit-rate"]', { timeout: 15_000 })
  assert.match(await textOf(page, '>>> tr[data-registry="npm"] td[data-label="Misses"]'), /^[1-9]/)
  await shot(page, '10-admin-dashboard')

  await page.goto(`${hub.url}/admin/banner`, { waitUntil: 'networkidle0' })
  await page.type('>>> textarea#msg', 'Maintenance on Saturday 10:00 UTC: downloads may be slower.')
  await page.click('>>> input[value="warning"]')
  await page.click('>>> button#set')
  await page.waitForSelector('>>> bh-banner >>> .bar.warning', { timeout: 15_000 })
  await shot(page, '11-admin-banner')

  await page.goto(`${hub.url}/admin/explore-cache`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> button#flush-all')
  await shot(page, '12-admin-explore-cache')
})

E2E('a phone-sized screen', async ({ hub, page }) => {
  await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true })
  await page.goto(`${hub.url}/explore`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> tr[data-package="fixture-a"]', { timeout: 15_000 })
  // Nothing wider than the screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll')
  await shot(page, '13-phone-explorer')
  await page.click('>>> button.menu-btn')
  await page.waitForSelector('>>> nav.main.open')
  await shot(page, '14-phone-menu')
  await page.goto(`${hub.url}/explore/packages/npm/fixture-c`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> tr[data-version="1.1.0"]', { timeout: 15_000 })
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll')
  await shot(page, '15-phone-package-detail')
  await page.goto(`${hub.url}/setup`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> section[data-registry="npm"]')
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll')
  await shot(page, '16-phone-setup')
})

E2E('one Lit, nothing but the hub on the network, no errors', async ({ hub, page, requests, errors }) => {
  await page.setViewport({ width: 1366, height: 860 })
  await page.goto(`${hub.url}/setup`, { waitUntil: 'networkidle0' })
  await page.waitForSelector('>>> bh-demo-setup-note')
  const same = await page.evaluate(async () => {
    // What a plugin gets for `import 'lit'` (the import map) is the class the shell's elements use.
    const lit = await import('lit' as string)
    const shellBase = Object.getPrototypeOf(customElements.get('bh-app')!)
    const pluginBase = Object.getPrototypeOf(customElements.get('bh-demo-setup-note')!)
    return shellBase === lit.LitElement && pluginBase === lit.LitElement
  })
  assert.ok(same, 'the shell and the plugin element extend the same LitElement')
  const foreign = requests.filter((u) => !u.startsWith(`${hub.url}/`) && !u.startsWith('data:'))
  assert.equal(foreign, [], 'no request leaves the hub')
  assert.equal(errors, [])
})

E2E.run()
