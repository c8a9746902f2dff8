/**
 * End to end with the real `mvn` (see test/support/mvn.ts for how build plugins are provided
 * without Maven Central): proxy cold and warm, `mvn deploy` to a local registry and resolving it
 * from a clean local repository, SNAPSHOT deploys, and hybrid serving both with merged metadata.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createTestKernel, testDialects, type KernelTestHandle } from '@batlehub/kernel/testing'
import maven from '../src/index.ts'
import { parseArtifactMetadata, parseSnapshotMetadata } from '../src/metadata.ts'
import { serveRepositories, standardRepository, type FixtureRepo, type RepositoryServer } from './support/fixture.ts'
import { basic } from './support/hub.ts'
import { PLUGIN_REPO, assertMavenAvailable, createWorkspace, runCommand, type CommandResult, type Workspace } from './support/mvn.ts'

const WRITER = 'mvn-writer-token-0123456789abcdef'
const READER = 'mvn-reader-token-0123456789abcdef'

/** A class that prints classpath resources (proves the JARs mvn got are real archives). */
const PRINT_RESOURCES = `package com.test;
public class PrintResources {
  public static void main(String[] args) throws Exception {
    for (String name : args) {
      java.io.InputStream in = PrintResources.class.getClassLoader().getResourceAsStream(name);
      if (in == null) throw new IllegalStateException("missing resource " + name);
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      for (int n; (n = in.read(buf)) > 0;) out.write(buf, 0, n);
      System.out.print(out.toString("UTF-8"));
    }
  }
}
`

function ok(res: CommandResult, what: string): void {
  if (res.code === 0) return
  const errors = res.output.split('\n').filter((l) => l.startsWith('[ERROR]') && l.length > 8).slice(0, 5).join('\n')
  assert.unreachable(`${what} failed (exit ${res.code}, ${res.ms} ms):\n${errors}\n…\n${res.output.slice(-3000)}`)
}

/** Checksum trouble with files served by the hub would show up as warnings; there must be none. */
function noChecksumWarnings(res: CommandResult): void {
  const lines = res.output.split('\n').filter((l) => /checksum/i.test(l) && /WARN|ERROR/.test(l) && !/machine-plugins|file:\/\//.test(l))
  assert.equal(lines, [], 'checksum warnings for files served by the hub')
}

function classpath(localRepo: string, jars: string[]): string {
  return jars.map((j) => join(localRepo, j)).join(':')
}

for (const dialect of testDialects()) {
  const Mvn = suite<{ hub: KernelTestHandle; fixture: FixtureRepo; upstream: RepositoryServer; ws: Workspace }>(`maven with real mvn (${dialect})`)

  Mvn.before(async () => {
    await assertMavenAvailable()
  })
  Mvn.before.each(async (t) => {
    t.fixture = standardRepository()
    t.ws = createWorkspace()
  })
  Mvn.after.each(async (t) => {
    await t.hub?.close()
    await t.upstream?.close()
    t.fixture.remove()
    t.ws.remove()
  })

  const start = async (t: { hub: KernelTestHandle; fixture: FixtureRepo; upstream: RepositoryServer }, registries: Array<Record<string, unknown>>, roots: string[]) => {
    t.upstream = await serveRepositories(roots)
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [maven],
      config: {
        auth: [{ type: 'token', tokens: [
          { value: WRITER, role: 'user', user_id: 'ci', groups: ['deployers'] },
          { value: READER, role: 'user', user_id: 'dev' },
        ] }],
        registries: registries.map((r) => ({ upstreams: [t.upstream.url], ...r })),
      },
    })
  }

  Mvn('proxy: a cold build resolves everything through the hub, a warm one with the upstream down', async (t) => {
    // Everything mvn needs — build plugins included — comes through the hub from the fixture upstream.
    await start(t, [{ name: 'central', type: 'maven', mode: 'proxy' }], [t.fixture.dir, PLUGIN_REPO])
    const mirror = `${t.hub.url}/proxy/central/maven2`
    const settings = t.ws.settings({ mirrorUrl: mirror, plugins: 'hub' })
    const project = t.ws.project('consumer', {
      groupId: 'com.test', artifactId: 'consumer', version: '1.0',
      dependencies: [{ groupId: 'com.example', artifactId: 'lib-a', version: '1.0.0' }],
      sources: { 'com/test/PrintResources.java': PRINT_RESOURCES },
    })
    const cold = t.ws.freshLocalRepo()
    const first = await t.ws.mvn(project, settings, cold, ['compile'], ['-C'])
    ok(first, 'cold mvn compile')
    noChecksumWarnings(first)
    for (const [a, v] of [['lib-a', '1.0.0'], ['lib-b', '1.0.0']] as const) {
      const rel = t.fixture.path('com.example', a, v, 'jar')
      assert.equal(readFileSync(join(cold, rel)), t.fixture.files.get(rel), `${rel} differs`)
    }
    const run = await runCommand('java', ['-cp', `${join(project, 'target/classes')}:${classpath(cold, [t.fixture.path('com.example', 'lib-a', '1.0.0', 'jar'), t.fixture.path('com.example', 'lib-b', '1.0.0', 'jar')])}`,
      'com.test.PrintResources', 'com/example/lib_a/info.properties', 'com/example/lib_b/info.properties'], { cwd: project, timeoutMs: 60_000 })
    ok(run, 'java')
    assert.match(run.output, /artifactId=lib-a\nversion=1\.0\.0\n/)
    assert.match(run.output, /artifactId=lib-b\nversion=1\.0\.0\n/)
    const fetched = t.upstream.paths.filter((p) => p.startsWith('/com/example/'))
    assert.ok(fetched.includes('/com/example/lib-b/1.0.0/lib-b-1.0.0.jar'))
    assert.is(new Set(fetched).size, fetched.length, `the hub asked the upstream twice for a file: ${fetched.join(', ')}`)
    const upstreamCalls = t.upstream.paths.length

    // Warm: the upstream is gone and the metadata TTL has run out; a fresh local repository.
    t.upstream.failWith(503)
    t.hub.clock.advance(24 * 3600_000)
    const warm = t.ws.freshLocalRepo()
    const second = await t.ws.mvn(project, settings, warm, ['compile'], ['-C'])
    ok(second, 'warm mvn compile')
    noChecksumWarnings(second)
    assert.equal(readFileSync(join(warm, t.fixture.path('com.example', 'lib-a', '1.0.0', 'jar'))), t.fixture.files.get(t.fixture.path('com.example', 'lib-a', '1.0.0', 'jar')))
    // Artifacts came from the hub's cache: the upstream (answering 503) saw at most metadata revalidations.
    const warmCalls = t.upstream.paths.slice(upstreamCalls)
    assert.equal(warmCalls.filter((p) => /\.(jar|pom)$/.test(p)), [], `artifacts were requested from the upstream during the warm build`)
  })

  Mvn('local: mvn deploy, resolve from a clean repository, a release re-deploy is refused with 409', async (t) => {
    await start(t, [{ name: 'internal', type: 'maven', mode: 'local', rbac: { user: ['releases:read'], deployers: ['releases:write'] } }], [t.fixture.dir])
    const url = `${t.hub.url}/proxy/internal/maven2`
    const settings = t.ws.settings({ mirrorUrl: url, plugins: 'file', servers: { hub: READER, 'hub-deploy': WRITER } })
    const greeter = t.ws.project('greeter', {
      groupId: 'com.acme', artifactId: 'greeter', version: '1.0.0', deployUrl: url,
      sources: { 'com/acme/Greeter.java': 'package com.acme;\npublic class Greeter { public static String greet() { return "hello from greeter 1.0.0"; } }\n' },
    })
    const deployed = await t.ws.mvn(greeter, settings, t.ws.freshLocalRepo(), ['deploy'], ['-DskipTests'])
    ok(deployed, 'mvn deploy')
    noChecksumWarnings(deployed)
    const meta = parseArtifactMetadata((await t.hub.request('GET', '/proxy/internal/maven2/com/acme/greeter/maven-metadata.xml', { headers: basic(READER) })).body)
    assert.equal([meta.versions, meta.release], [['1.0.0'], '1.0.0'])

    const consumer = t.ws.project('app', {
      groupId: 'com.test', artifactId: 'app', version: '1.0',
      dependencies: [{ groupId: 'com.acme', artifactId: 'greeter', version: '1.0.0' }],
      sources: { 'com/test/App.java': 'package com.test;\npublic class App { public static void main(String[] a) { System.out.println(com.acme.Greeter.greet()); } }\n' },
    })
    const clean = t.ws.freshLocalRepo()
    const built = await t.ws.mvn(consumer, settings, clean, ['compile'])
    ok(built, 'consumer mvn compile')
    noChecksumWarnings(built)
    const run = await runCommand('java', ['-cp', `${join(consumer, 'target/classes')}:${classpath(clean, ['com/acme/greeter/1.0.0/greeter-1.0.0.jar'])}`, 'com.test.App'], { cwd: consumer, timeoutMs: 60_000 })
    ok(run, 'java')
    assert.match(run.output, /hello from greeter 1\.0\.0/)

    const again = await t.ws.mvn(greeter, settings, t.ws.freshLocalRepo(), ['deploy'], ['-DskipTests'])
    assert.is.not(again.code, 0, 'a release re-deploy must fail')
    assert.match(again.output, /409 release com\.acme:greeter:1\.0\.0 already exists; releases are immutable/)
  })

  Mvn('local: a SNAPSHOT deployed twice gets two timestamped builds; consumers get the newest', async (t) => {
    await start(t, [{ name: 'internal', type: 'maven', mode: 'local', rbac: { user: ['releases:read'], deployers: ['releases:write'] } }], [t.fixture.dir])
    const url = `${t.hub.url}/proxy/internal/maven2`
    const settings = t.ws.settings({ mirrorUrl: url, plugins: 'file', servers: { hub: READER, 'hub-deploy': WRITER } })
    for (const n of [1, 2]) {
      const greeter = t.ws.project('greeter-snap', {
        groupId: 'com.acme', artifactId: 'greeter', version: '1.1-SNAPSHOT', deployUrl: url,
        sources: { 'com/acme/Greeter.java': `package com.acme;\npublic class Greeter { public static String greet() { return "snapshot build ${n}"; } }\n` },
      })
      ok(await t.ws.mvn(greeter, settings, t.ws.freshLocalRepo(), ['deploy'], ['-DskipTests']), `SNAPSHOT deploy ${n}`)
    }
    const snapRes = await t.hub.request('GET', '/proxy/internal/maven2/com/acme/greeter/1.1-SNAPSHOT/maven-metadata.xml', { headers: basic(READER) })
    const snap = parseSnapshotMetadata(snapRes.body)
    assert.is(snap.snapshot?.buildNumber, 2)
    const jarValue = snap.snapshotVersions.find((s) => s.extension === 'jar' && !s.classifier)!.value
    assert.match(jarValue, /^1\.1-\d{8}\.\d{6}-2$/)
    const consumer = t.ws.project('app-snap', {
      groupId: 'com.test', artifactId: 'app', version: '1.0',
      dependencies: [{ groupId: 'com.acme', artifactId: 'greeter', version: '1.1-SNAPSHOT' }],
      // Central (the super POM's repository) has snapshots disabled: declare one that allows them.
      repositories: { snapshots: url },
      sources: { 'com/test/App.java': 'package com.test;\npublic class App { public static void main(String[] a) { System.out.println(com.acme.Greeter.greet()); } }\n' },
    })
    const clean = t.ws.freshLocalRepo()
    ok(await t.ws.mvn(consumer, settings, clean, ['compile']), 'consumer of the SNAPSHOT')
    const files = readdirSync(join(clean, 'com/acme/greeter/1.1-SNAPSHOT'))
    assert.ok(files.includes(`greeter-${jarValue}.jar`), files.join(', '))
    const run = await runCommand('java', ['-cp', `${join(consumer, 'target/classes')}:${join(clean, 'com/acme/greeter/1.1-SNAPSHOT', `greeter-${jarValue}.jar`)}`, 'com.test.App'], { cwd: consumer, timeoutMs: 60_000 })
    ok(run, 'java')
    assert.match(run.output, /snapshot build 2/)
  })

  Mvn('hybrid: a local artifact and upstream ones in one build, a version range resolved through merged metadata', async (t) => {
    await start(t, [{ name: 'maven', type: 'maven', mode: 'hybrid', hybrid_merge_upstream: true, rbac: { user: ['releases:read'], deployers: ['releases:write'] } }], [t.fixture.dir])
    const url = `${t.hub.url}/proxy/maven/maven2`
    const settings = t.ws.settings({ mirrorUrl: url, plugins: 'file', servers: { hub: READER, 'hub-deploy': WRITER } })
    // A local lib-a 3.0.0 that itself depends on the upstream's lib-b 1.1.0 (resolved through the hub while building it).
    const libA = t.ws.project('lib-a', {
      groupId: 'com.example', artifactId: 'lib-a', version: '3.0.0', deployUrl: url,
      dependencies: [{ groupId: 'com.example', artifactId: 'lib-b', version: '1.1.0' }],
      resources: { 'com/example/lib_a/info.properties': 'artifactId=lib-a\nversion=3.0.0\norigin=local\n' },
    })
    ok(await t.ws.mvn(libA, settings, t.ws.freshLocalRepo(), ['deploy'], ['-DskipTests']), 'hybrid mvn deploy')
    const merged = parseArtifactMetadata((await t.hub.request('GET', '/proxy/maven/maven2/com/example/lib-a/maven-metadata.xml', { headers: basic(READER) })).body)
    assert.equal(merged.versions, ['1.0.0', '2.0.0-beta-1', '3.0.0'])
    assert.equal([merged.latest, merged.release], ['3.0.0', '3.0.0'])

    const consumer = t.ws.project('app-hybrid', {
      groupId: 'com.test', artifactId: 'app', version: '1.0',
      dependencies: [{ groupId: 'com.example', artifactId: 'lib-a', version: '[1.0.0,4.0.0)' }],
      sources: { 'com/test/PrintResources.java': PRINT_RESOURCES },
    })
    const clean = t.ws.freshLocalRepo()
    const built = await t.ws.mvn(consumer, settings, clean, ['compile'])
    ok(built, 'hybrid consumer')
    noChecksumWarnings(built)
    assert.ok(existsSync(join(clean, 'com/example/lib-a/3.0.0/lib-a-3.0.0.jar')), 'the range resolved to the local 3.0.0')
    const libB = t.fixture.path('com.example', 'lib-b', '1.1.0', 'jar')
    assert.equal(readFileSync(join(clean, libB)), t.fixture.files.get(libB))
    const run = await runCommand('java', ['-cp', `${join(consumer, 'target/classes')}:${classpath(clean, ['com/example/lib-a/3.0.0/lib-a-3.0.0.jar', libB])}`,
      'com.test.PrintResources', 'com/example/lib_a/info.properties', 'com/example/lib_b/info.properties'], { cwd: consumer, timeoutMs: 60_000 })
    ok(run, 'java')
    assert.match(run.output, /origin=local/)
    assert.match(run.output, /artifactId=lib-b\nversion=1\.1\.0/)
  })

  Mvn.run()
}
