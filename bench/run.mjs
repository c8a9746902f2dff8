// `npm run bench`: the npm registry plugin against Verdaccio and against the fixture upstream
// served directly, on a generated workload (bench/workload.mjs). Loopback only, bounded in time.
//
// Measures: cold and warm `npm install` of 333 packages (warm = proxy cache filled, upstream
// stopped, client cache cleared), proxy CPU time per install, hot requests per second with wrk
// (32 connections) for a tarball, a small packument and a ~250 KB packument, and the proxy's peak
// RSS while streaming a ~300 MB tarball cold and warm.
//
// Environment: BENCH_SECONDS (wrk duration, default 10), BENCH_INSTALLS (warm installs, default 2),
// BENCH_CPU_PROF=1 (write --cpu-prof profiles of the hub to bench/profiles/), BENCH_SKIP_VERDACCIO=1.
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSandbox, npmCliPath } from '../plugins/registry-npm/test/support/clients.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const SECONDS = Number(process.env.BENCH_SECONDS || 10)
const INSTALLS = Number(process.env.BENCH_INSTALLS || 2)
const ABBREV = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'
const node = process.execPath
const work = mkdtempSync(join(tmpdir(), 'bh-bench-'))
const children = []

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`)
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

function start(name, args, options = {}) {
  const child = spawn(node, args, { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  child.output = () => out
  child.label = name
  children.push(child)
  return child
}

async function stop(child) {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(t)
}

async function waitFor(url, child, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${child.label} exited:\n${child.output()}`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status < 500) return
    } catch {}
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${child.label} did not answer ${url}:\n${child.output()}`)
}

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
/** User+system CPU seconds of a process. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}
function peakRssMb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

function ensureWrk() {
  if (spawnSync('wrk', ['--version']).error) {
    log('installing wrk (Debian package)')
    const r = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' })
    if (r.status !== 0) spawnSync('sh', ['-c', 'apt-get update && apt-get install -y wrk'], { stdio: 'inherit' })
  }
}

function wrk(url, headers = {}) {
  const args = ['-t2', '-c32', `-d${SECONDS}s`, '--timeout', '10s']
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`)
  args.push(url)
  const r = spawnSync('wrk', args, { encoding: 'utf8' })
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout)
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)
  if (errors) log(`wrk ${url}: ${errors[1]} non-2xx responses`)
  return rps ? Number(rps[1]) : NaN
}

/** Downloads a URL fully, discarding the bytes; returns the byte count. */
async function drain(url) {
  const res = await fetch(url)
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`)
  let n = 0
  for await (const chunk of res.body) n += chunk.length
  return n
}

async function install(sandbox) {
  sandbox.clearClientState()
  const started = process.hrtime.bigint()
  const r = await sandbox.run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], { timeoutMs: 600_000 })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (r.code !== 0) throw new Error(`npm install failed:\n${r.stderr.slice(-3000)}`)
  const count = existsSync(join(sandbox.project, 'node_modules')) ? spawnSync('sh', ['-c', `ls -d ${sandbox.project}/node_modules/bw-* | wc -l`], { encoding: 'utf8' }).stdout.trim() : '0'
  if (count !== '333') throw new Error(`expected 333 packages installed, got ${count}`)
  return seconds
}

async function measureInstall(sandbox, pid) {
  const cpu0 = pid ? cpuSeconds(pid) : 0
  const seconds = await install(sandbox)
  return { seconds, cpu: pid ? cpuSeconds(pid) - cpu0 : NaN }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]
}

async function startHub(upstream) {
  const port = await freePort()
  const dir = join(work, 'hub')
  mkdirSync(dir, { recursive: true })
  const config = join(dir, 'config.toml')
  writeFileSync(config, [
    '[server]', 'host = "127.0.0.1"', `port = ${port}`, `data_dir = "${dir}"`, '',
    '[database]', 'type = "sqlite"', '',
    '[storage]', 'type = "filesystem"', `path = "${join(dir, 'storage')}"`, '',
    '[logging]', 'level = "error"', 'access_log = false', '',
    '[plugins]', `dirs = ["${join(root, 'plugins/registry-npm')}"]`, '',
    '[[registries]]', 'name = "npm"', 'type = "npm"', 'mode = "proxy"', `upstreams = ["${upstream}"]`, 'max_artifact_bytes = 1073741824', '',
  ].join('\n'))
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench', 'profiles')}`] : []
  const child = start('hub', [...prof, join(root, 'kernel/dist/src/cli.js'), 'serve', '--config', config], { cwd: dir })
  const url = `http://127.0.0.1:${port}/proxy/npm`
  await waitFor(`${url}/-/ping`, child)
  return { child, url }
}

async function startVerdaccio(upstream) {
  const port = await freePort()
  const dir = join(work, 'verdaccio')
  mkdirSync(dir, { recursive: true })
  const config = join(dir, 'config.yaml')
  writeFileSync(config, [
    `storage: ${join(dir, 'storage')}`,
    'uplinks:',
    '  fixture:',
    `    url: ${upstream}/`,
    '    maxage: 30m',
    '    timeout: 120s',
    'packages:',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: fixture',
    'server:',
    '  keepAliveTimeout: 65',
    'web:',
    '  enable: false',
    'max_body_size: 2000mb',
    'log: { type: stdout, format: pretty, level: fatal }',
    '',
  ].join('\n'))
  const bin = join(root, 'node_modules/verdaccio/bin/verdaccio')
  const child = start('verdaccio', [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { cwd: dir })
  const url = `http://127.0.0.1:${port}`
  await waitFor(`${url}/-/ping`, child)
  return { child, url }
}

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'
}

async function main() {
  ensureWrk()
  log(`work dir ${work}`)
  const results = { hub: {}, verdaccio: {}, direct: {} }

  // 1. The fixture upstream, served directly.
  const fixture = start('fixture', [join(root, 'bench/fixture-server.mjs')])
  await new Promise((resolve, reject) => {
    const check = () => (fixture.output().includes('"url"') ? resolve() : fixture.exitCode !== null ? reject(new Error(fixture.output())) : setTimeout(check, 100))
    check()
  })
  const upstream = JSON.parse(fixture.output().split('\n').find((l) => l.startsWith('{'))).url
  log(`fixture upstream ${upstream}`)
  const targets = { direct: { url: upstream, pid: fixture.pid } }

  const direct = createSandbox(`${upstream}/`)
  direct.writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { 'bw-000': '^1.0.0' } })
  log('direct: install')
  const directRuns = []
  for (let i = 0; i < INSTALLS; i++) directRuns.push(await measureInstall(direct, fixture.pid))
  results.direct.coldInstall = median(directRuns.map((r) => r.seconds))
  results.direct.warmInstall = results.direct.coldInstall
  results.direct.cpuPerInstall = median(directRuns.map((r) => r.cpu))

  // 2. The proxies, empty.
  const hub = await startHub(upstream)
  targets.hub = { url: hub.url, pid: hub.child.pid }
  const skipVerdaccio = Boolean(process.env.BENCH_SKIP_VERDACCIO)
  let verdaccio
  if (!skipVerdaccio) {
    verdaccio = await startVerdaccio(upstream)
    targets.verdaccio = { url: verdaccio.url, pid: verdaccio.child.pid }
  }
  const sandboxes = {}
  for (const name of Object.keys(targets)) {
    if (name === 'direct') continue
    sandboxes[name] = createSandbox(`${targets[name].url}/`)
    sandboxes[name].writeProject({ name: 'consumer', version: '1.0.0', private: true, dependencies: { 'bw-000': '^1.0.0' } })
    log(`${name}: cold install`)
    const cold = await measureInstall(sandboxes[name], targets[name].pid)
    results[name].coldInstall = cold.seconds
    results[name].cpuCold = cold.cpu
    // Prime what wrk will ask for.
    for (const [path, accept] of [['/bw-small', ABBREV], ['/bw-large', ABBREV], ['/bw-small', 'application/json'], ['/bw-large', 'application/json']]) {
      await (await fetch(`${targets[name].url}${path}`, { headers: { accept } })).arrayBuffer()
    }
    await drain(`${targets[name].url}/bw-small/-/bw-small-1.0.0.tgz`)
    await (await fetch(`${targets[name].url}/bw-huge`, { headers: { accept: ABBREV } })).arrayBuffer()
    log(`${name}: 300 MB tarball, cold`)
    resetPeak(targets[name].pid)
    const rss0 = rssMb(targets[name].pid)
    await drain(`${targets[name].url}/bw-huge/-/bw-huge-1.0.0.tgz`)
    results[name].rssBefore = rss0
    results[name].peakRssCold = peakRssMb(targets[name].pid)
  }

  // Direct hot throughput, while the fixture is up.
  log('direct: wrk')
  results.direct.tarballRps = wrk(`${upstream}/bw-small/-/bw-small-1.0.0.tgz`)
  results.direct.smallRps = wrk(`${upstream}/bw-small`, { accept: ABBREV })
  results.direct.largeRps = wrk(`${upstream}/bw-large`, { accept: ABBREV })

  // 3. Upstream stopped: warm installs, warm streaming, hot throughput.
  await stop(fixture)
  for (const name of Object.keys(sandboxes)) {
    log(`${name}: warm installs (upstream stopped)`)
    const runs = []
    for (let i = 0; i < INSTALLS; i++) runs.push(await measureInstall(sandboxes[name], targets[name].pid))
    results[name].warmInstall = median(runs.map((r) => r.seconds))
    results[name].cpuPerInstall = median(runs.map((r) => r.cpu))
    log(`${name}: 300 MB tarball, warm`)
    resetPeak(targets[name].pid)
    await drain(`${targets[name].url}/bw-huge/-/bw-huge-1.0.0.tgz`)
    results[name].peakRssWarm = peakRssMb(targets[name].pid)
    log(`${name}: wrk`)
    results[name].tarballRps = wrk(`${targets[name].url}/bw-small/-/bw-small-1.0.0.tgz`)
    results[name].smallRps = wrk(`${targets[name].url}/bw-small`, { accept: ABBREV })
    results[name].largeRps = wrk(`${targets[name].url}/bw-large`, { accept: ABBREV })
    results[name].largeFullRps = wrk(`${targets[name].url}/bw-large`, { accept: 'application/json' })
  }

  for (const c of [...children].reverse()) await stop(c)
  for (const s of Object.values(sandboxes)) s.cleanup()
  direct.cleanup()
  rmSync(work, { recursive: true, force: true })

  // 4. The table.
  const h = results.hub
  const v = results.verdaccio
  const d = results.direct
  const ratio = (a, b, digits = 1) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fmt(a / b, digits)}×` : 'n/a')
  const rows = [
    ['Cold install, 333 packages (s)', fmt(h.coldInstall, 2), fmt(v.coldInstall, 2), fmt(d.coldInstall, 2), ratio(v.coldInstall, h.coldInstall), ''],
    ['Warm install, upstream stopped (s)', fmt(h.warmInstall, 2), fmt(v.warmInstall, 2), fmt(d.warmInstall, 2), ratio(v.warmInstall, h.warmInstall), `hub/direct ${ratio(h.warmInstall, d.warmInstall, 2)} (target ≤ 1.10×)`],
    ['Proxy CPU per cold install (s)', fmt(h.cpuCold, 2), fmt(v.cpuCold, 2), '', ratio(v.cpuCold, h.cpuCold), ''],
    ['Proxy CPU per warm install (s)', fmt(h.cpuPerInstall, 2), fmt(v.cpuPerInstall, 2), fmt(d.cpuPerInstall, 2), ratio(v.cpuPerInstall, h.cpuPerInstall), 'target ≥ 5×'],
    ['Hot tarball (req/s)', fmt(h.tarballRps), fmt(v.tarballRps), fmt(d.tarballRps), ratio(h.tarballRps, v.tarballRps), 'target ≥ 5× (aim 10×)'],
    ['Hot small packument (req/s)', fmt(h.smallRps), fmt(v.smallRps), fmt(d.smallRps), ratio(h.smallRps, v.smallRps), 'target ≥ 5× (aim 10×)'],
    ['Hot ~250 KB packument, abbreviated (req/s)', fmt(h.largeRps), fmt(v.largeRps), fmt(d.largeRps), ratio(h.largeRps, v.largeRps), 'target ≥ 20×'],
    ['Hot ~300 KB packument, full (req/s)', fmt(h.largeFullRps), fmt(v.largeFullRps), '', ratio(h.largeFullRps, v.largeFullRps), ''],
    ['Peak RSS streaming 300 MB, cold (MB)', fmt(h.peakRssCold), fmt(v.peakRssCold), '', ratio(v.peakRssCold, h.peakRssCold), 'target < 150 MB'],
    ['Peak RSS streaming 300 MB, warm (MB)', fmt(h.peakRssWarm), fmt(v.peakRssWarm), '', ratio(v.peakRssWarm, h.peakRssWarm), 'target < 150 MB'],
  ]
  const table = [
    '| Measure | BatleHub | Verdaccio 6.10.4 | Direct (fixture) | Hub vs Verdaccio | Note |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
  process.stdout.write(`\n${table}\n\n`)
  process.stdout.write(`wrk: 2 threads, 32 connections, ${SECONDS} s per measure; installs: npm ${spawnSync(node, [npmCliPath(), '--version'], { encoding: 'utf8' }).stdout.trim()} on Node ${process.versions.node}; warm = median of ${INSTALLS}\n`)
  writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify({ at: new Date().toISOString(), node: process.versions.node, seconds: SECONDS, results }, null, 2) + '\n')
}

main().catch(async (err) => {
  process.stderr.write(`${err.stack ?? err}\n`)
  for (const c of [...children].reverse()) await stop(c).catch(() => {})
  rmSync(work, { recursive: true, force: true })
  process.exit(1)
})
