// Runs every uvu test file of the project in one uvu process, then the web UI's browser tests
// (@web/test-runner in headless Chromium), and prints one closing line `N passed, N failed, N skipped`
// for both. Exits non-zero when a test failed or a runner printed no summary.
//
//   node scripts/test.mjs                 all tests
//   node scripts/test.mjs storage rbac    only files whose path matches one of the words
//                                         (admin-ui/test/*.test.ts files count too)
import { spawn } from 'node:child_process'
import { readdirSync, statSync, existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import './guard-node.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const filters = process.argv.slice(2)

// Kernel tests are compiled by tsc (decorators); plugin and cross-cutting tests are erasable
// TypeScript that Node 24 runs directly.
const roots = [
  ['kernel/dist/test', /\.test\.js$/],
  ['test', /\.test\.ts$/],
  ['plugin-template/test', /\.test\.ts$/],
  ...readdirSync(join(root, 'plugins')).map((p) => [`plugins/${p}/test`, /\.test\.ts$/]),
]
const files = []
const walk = (dir, re) => {
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) {
    const full = join(dir, name)
    if (name === 'node_modules' || name === 'fixtures') continue
    if (statSync(full).isDirectory()) walk(full, re)
    else if (re.test(name)) files.push(relative(root, full))
  }
}
for (const [dir, re] of roots) walk(join(root, dir), re)
const matches = (f) => filters.length === 0 || filters.some((w) => f.includes(w))
const selected = files.filter(matches).sort()

// Browser tests of the web UI.
const uiFiles = []
walk(join(root, 'admin-ui/test'), /\.test\.ts$/)
for (const f of files.splice(0)) if (f.startsWith('admin-ui/')) uiFiles.push(f)
const uiSelected = uiFiles.filter(matches).sort()
if (selected.length === 0 && uiSelected.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}

const timeoutMin = Number(process.env.BATLEHUB_TEST_TIMEOUT_MIN || 80)

/** Runs a child, passing its output through; resolves with its exit code and stdout. */
function run(args, label) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FORCE_COLOR: '0' },
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      process.stdout.write(d)
    })
    const timer = setTimeout(() => {
      console.error(`\n${label} did not finish within ${timeoutMin} minutes; stopping them`)
      child.kill('SIGKILL')
    }, timeoutMin * 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? 1, out })
    })
  })
}

let passed = 0
let failed = 0
let skipped = 0
let broken = false

if (selected.length) {
  // One uvu process, the file list as an anchored alternation pattern.
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = `^(${selected.map(escape).join('|')})$`
  const uvu = join(root, 'node_modules/uvu/bin.js')
  const { code, out } = await run(['--enable-source-maps', uvu, '.', pattern, '-c', 'false', '-i', 'dist/test/fixtures'], 'uvu tests')
  const num = (label) => Number((out.match(new RegExp(`${label}:\\s+(\\d+)`)) || [])[1] ?? NaN)
  const total = num('Total')
  const ok = num('Passed')
  if (Number.isNaN(total) || Number.isNaN(ok)) {
    console.log('\nuvu printed no summary')
    broken = true
  } else {
    passed += ok
    failed += total - ok
    skipped += num('Skipped') || 0
    if (code !== 0 && total === ok) broken = true
  }
}

if (uiSelected.length) {
  // wtr closes with "… | N passed, N failed" (and ", N skipped" when some were); TOOLCHAIN §8.
  const wtr = join(root, 'node_modules/@web/test-runner/dist/bin.js')
  const { code, out } = await run([wtr, '--config', 'admin-ui/web-test-runner.config.mjs', ...uiSelected.flatMap((f) => ['--files', f])], 'browser tests')
  // Its progress lines keep colour codes whatever FORCE_COLOR says: strip them before matching.
  const plain = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
  const all = [...plain.matchAll(/(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/g)]
  const last = all.at(-1)
  if (!last) {
    console.log('\nweb-test-runner printed no summary')
    broken = true
  } else {
    passed += Number(last[1])
    failed += Number(last[2])
    skipped += Number(last[3] ?? 0)
    if (code !== 0 && Number(last[2]) === 0) broken = true
  }
}

if (broken) failed = Math.max(failed, 1)
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 ? 1 : 0)
