/**
 * Driving the real `mvn` against a test hub: settings.xml, small projects, and a runner with a
 * fresh local repository per call and no route to Maven Central.
 *
 * Build plugins: `mvn` needs its plugins (resources, compiler, jar, install, deploy…) before it
 * builds anything. They come from the machine's local Maven repository (`~/.m2/repository`, part
 * of the machine image; override with BATLEHUB_MAVEN_PLUGIN_REPO) in one of two ways:
 * - `plugins: 'hub'`: the fixture upstream serves that folder too, so every plugin, parent POM and
 *   plugin dependency flows through the hub like any other artifact (the proxy cold/warm test);
 * - `plugins: 'file'`: a `file://` plugin repository excluded from the mirror, so tests about
 *   deploying and hybrid merging do not re-download ~500 plugin files through a fresh hub each time.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'

/** Plugin versions pinned in every test project (keep in sync with ci-setup.sh). */
export const PLUGINS: Readonly<Record<string, string>> = {
  'maven-clean-plugin': '3.3.2',
  'maven-resources-plugin': '3.3.1',
  'maven-compiler-plugin': '3.13.0',
  'maven-surefire-plugin': '3.2.5',
  'maven-jar-plugin': '3.4.1',
  'maven-install-plugin': '3.1.1',
  'maven-deploy-plugin': '3.1.1',
}

export const PLUGIN_REPO = process.env.BATLEHUB_MAVEN_PLUGIN_REPO || join(homedir(), '.m2', 'repository')

/** Fails loudly (this is a test of mvn; skipping would hide a broken machine). */
export async function assertMavenAvailable(): Promise<void> {
  const res = await runCommand('mvn', ['-v', '-B'], { cwd: tmpdir(), timeoutMs: 60_000 })
  if (res.code !== 0) throw new Error(`mvn is not usable (exit ${res.code}): ${res.output.slice(0, 500)} — see plugins/registry-maven/ci-setup.sh`)
  for (const [name, version] of Object.entries(PLUGINS)) {
    const jar = join(PLUGIN_REPO, 'org/apache/maven/plugins', name, version, `${name}-${version}.jar`)
    if (!existsSync(jar)) throw new Error(`build plugin ${name} ${version} is missing from ${PLUGIN_REPO} — see plugins/registry-maven/ci-setup.sh`)
  }
}

export interface CommandResult {
  code: number | null
  output: string
  ms: number
}

export function runCommand(cmd: string, args: string[], o: { cwd: string; timeoutMs: number; env?: Record<string, string> }): Promise<CommandResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, ...(o.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => { output += d })
    child.stderr.on('data', (d) => { output += d })
    const timer = setTimeout(() => {
      output += `\n[killed after ${o.timeoutMs} ms]`
      child.kill('SIGKILL')
    }, o.timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output, ms: Date.now() - started })
    })
  })
}

export interface Workspace {
  readonly dir: string
  /** A fresh, empty local repository folder. */
  freshLocalRepo(): string
  /** Writes settings.xml and returns its path. */
  settings(o: SettingsOptions): string
  /** Writes a project folder and returns it. */
  project(name: string, o: ProjectOptions): string
  mvn(project: string, settings: string, localRepo: string, goals: string[], extra?: string[]): Promise<CommandResult>
  remove(): void
}

export interface SettingsOptions {
  /** Repository URL every request is mirrored to. */
  mirrorUrl: string
  /** Credentials per server id (mirror id is `hub`). */
  servers?: Record<string, string>
  plugins: 'hub' | 'file'
}

export interface ProjectOptions {
  groupId: string
  artifactId: string
  version: string
  dependencies?: Array<{ groupId: string; artifactId: string; version: string }>
  /** `distributionManagement` URL (server id `hub-deploy`). */
  deployUrl?: string
  /** Extra repositories (`<repository>` id → URL), reached through the mirror. */
  repositories?: Record<string, string>
  /** Java sources by path below src/main/java. */
  sources?: Record<string, string>
  /** Resources by path below src/main/resources. */
  resources?: Record<string, string>
}

export function createWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'bh-mvn-'))
  let repos = 0
  return {
    dir,
    freshLocalRepo() {
      const repo = join(dir, `m2-${++repos}`)
      mkdirSync(repo)
      return repo
    },
    settings(o) {
      const servers = Object.entries(o.servers ?? {}).map(([id, password]) =>
        `    <server><id>${id}</id><username>token</username><password>${password}</password></server>`)
      const pluginProfile = o.plugins === 'file'
        ? [
          '  <profiles><profile><id>machine-plugins</id>',
          `    <pluginRepositories><pluginRepository><id>machine-plugins</id><url>file://${PLUGIN_REPO}</url><releases><checksumPolicy>ignore</checksumPolicy></releases><snapshots><enabled>false</enabled></snapshots></pluginRepository></pluginRepositories>`,
          '  </profile></profiles>',
          '  <activeProfiles><activeProfile>machine-plugins</activeProfile></activeProfiles>',
        ]
        : []
      const xml = [
        '<settings>',
        `  <localRepository>${join(dir, 'unused-default-repo')}</localRepository>`,
        '  <offline>false</offline>',
        '  <mirrors><mirror>',
        '    <id>hub</id>',
        `    <mirrorOf>${o.plugins === 'file' ? '*,!machine-plugins' : '*'}</mirrorOf>`,
        `    <url>${o.mirrorUrl}</url>`,
        '  </mirror></mirrors>',
        '  <servers>',
        ...servers,
        '  </servers>',
        ...pluginProfile,
        '</settings>',
        '',
      ].join('\n')
      const path = join(dir, `settings-${Math.random().toString(36).slice(2)}.xml`)
      writeFileSync(path, xml)
      return path
    },
    project(name, o) {
      const root = join(dir, name)
      rmSync(root, { recursive: true, force: true })
      mkdirSync(root, { recursive: true })
      const deps = (o.dependencies ?? []).map((d) =>
        `    <dependency><groupId>${d.groupId}</groupId><artifactId>${d.artifactId}</artifactId><version>${d.version}</version></dependency>`)
      const repositories = Object.entries(o.repositories ?? {}).map(([id, url]) =>
        `    <repository><id>${id}</id><url>${url}</url><snapshots><enabled>true</enabled><updatePolicy>always</updatePolicy></snapshots></repository>`)
      const plugins = Object.entries(PLUGINS).map(([a, v]) =>
        `        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>${a}</artifactId><version>${v}</version></plugin>`)
      const pomXml = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<project xmlns="http://maven.apache.org/POM/4.0.0">',
        '  <modelVersion>4.0.0</modelVersion>',
        `  <groupId>${o.groupId}</groupId>`,
        `  <artifactId>${o.artifactId}</artifactId>`,
        `  <version>${o.version}</version>`,
        '  <properties>',
        '    <maven.compiler.release>11</maven.compiler.release>',
        '    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>',
        '  </properties>',
        ...(deps.length ? ['  <dependencies>', ...deps, '  </dependencies>'] : []),
        ...(repositories.length ? ['  <repositories>', ...repositories, '  </repositories>'] : []),
        ...(o.deployUrl ? [
          '  <distributionManagement>',
          `    <repository><id>hub-deploy</id><url>${o.deployUrl}</url></repository>`,
          `    <snapshotRepository><id>hub-deploy</id><url>${o.deployUrl}</url></snapshotRepository>`,
          '  </distributionManagement>',
        ] : []),
        '  <build><pluginManagement><plugins>',
        ...plugins,
        '  </plugins></pluginManagement></build>',
        '</project>',
        '',
      ].join('\n')
      writeFileSync(join(root, 'pom.xml'), pomXml)
      for (const [path, content] of Object.entries(o.sources ?? {})) {
        mkdirSync(join(root, 'src/main/java', path, '..'), { recursive: true })
        writeFileSync(join(root, 'src/main/java', path), content)
      }
      for (const [path, content] of Object.entries(o.resources ?? {})) {
        mkdirSync(join(root, 'src/main/resources', path, '..'), { recursive: true })
        writeFileSync(join(root, 'src/main/resources', path), content)
      }
      return root
    },
    async mvn(project, settings, localRepo, goals, extra = []) {
      const res = await runCommand('mvn', [
        '-B', '-ntp', '-Dstyle.color=never', '-s', settings, `-Dmaven.repo.local=${localRepo}`,
        ...extra, ...goals,
      ], { cwd: project, timeoutMs: 240_000, env: { MAVEN_OPTS: '-Xmx512m -XX:TieredStopAtLevel=1 -Xshare:auto' } })
      // BATLEHUB_MAVEN_TIMINGS=1 prints how long each mvn run took (for measurements).
      if (process.env.BATLEHUB_MAVEN_TIMINGS) console.log(`mvn ${goals.join(' ')} in ${project.slice(project.lastIndexOf('/') + 1)}: exit ${res.code}, ${res.ms} ms`)
      return res
    },
    remove() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
