// Serves the benchmark workload on 127.0.0.1 in its own process (so its CPU is its own); prints
// {"url": …} on stdout once listening, and stops on SIGTERM.
import { startFixtureRegistry } from '../plugins/registry-npm/test/support/fixtures.ts'
import { workload } from './workload.mjs'

const registry = await startFixtureRegistry(await workload({ huge: process.env.BENCH_HUGE !== '0' }), { log: false })
process.stdout.write(`${JSON.stringify({ url: registry.url })}\n`)
process.on('SIGTERM', () => registry.close().then(() => process.exit(0)))
