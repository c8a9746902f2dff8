// The Chromium that browser tests drive: $CHROME_PATH, else Debian's /usr/bin/chromium, else the
// one shipped inside the npm package @sparticuz/chromium (no download, no apt: `npm ci && npm test`
// is enough; TOOLCHAIN §7).
import { existsSync } from 'node:fs'

/** Flags every run needs: root has no sandbox (CI), no GPU, no background network. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--no-default-browser-check',
]

export async function chromium() {
  // `||`, not `??`: an empty CHROME_PATH means unset (TOOLCHAIN pitfall 18).
  const debian = process.env.DEBIAN_CHROMIUM || '/usr/bin/chromium'
  const fixed = process.env.CHROME_PATH || (existsSync(debian) ? debian : undefined)
  if (fixed) return { executablePath: fixed, args: [...CHROMIUM_FLAGS] }
  const { default: sparticuz } = await import('@sparticuz/chromium')
  const executablePath = await sparticuz.executablePath()
  // Its Lambda-oriented flags that would hide real browser behaviour (CSP, CORS, mixed content) are dropped.
  const drop = ['--headless', '--single-process', '--disable-web-security', '--allow-running-insecure-content']
  const extra = sparticuz.args.filter((a) => !drop.some((d) => a.startsWith(d)))
  return { executablePath, args: [...new Set([...extra, ...CHROMIUM_FLAGS])] }
}
