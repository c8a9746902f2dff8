// Runs every uvu test file of the project in one uvu process and prints a closing line
// `N passed, N failed, N skipped`. Exits non-zero when a test failed or no summary was printed.
//
//   node scripts/test.mjs                 all tests
//   node scripts/test.mjs storage rbac    only files whose path matches one of the words
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
const selected = files.filter((f) => filters.length === 0 || filters.some((w) => f.includes(w))).sort()
if (selected.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}

// One uvu process, the file list as an anchored alternation pattern.
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const pattern = `^(${selected.map(escape).join('|')})$`
const uvu = join(root, 'node_modules/uvu/bin.js')
const timeoutMin = Number(process.env.BATLEHUB_TEST_TIMEOUT_MIN || 80)
const child = spawn(process.execPath, ['--enable-source-maps', uvu, '.', pattern, '-c', 'false', '-i', 'dist/test/fixtures'], {
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
  console.error(`\ntests did not finish within ${timeoutMin} minutes; stopping them`)
  child.kill('SIGKILL')
}, timeoutMin * 60_000)
child.on('close', (code) => {
  clearTimeout(timer)
  const num = (label) => Number((out.match(new RegExp(`${label}:\\s+(\\d+)`)) || [])[1] ?? NaN)
  const total = num('Total')
  const passed = num('Passed')
  const skipped = num('Skipped') || 0
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    console.log('\n0 passed, 1 failed (the test runner printed no summary)')
    process.exit(1)
  }
  const failed = total - passed
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`)
  process.exit(failed > 0 || code !== 0 ? 1 : 0)
})
