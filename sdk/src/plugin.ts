/**
 * Plugin definitions and the contexts the kernel hands to them.
 *
 * @packageDocumentation
 */
import type { Static, TObject } from 'typebox'
import type { ErrorInfo } from './errors.ts'
import type { EventBus, CoreEvents } from './events.ts'
import type { RouteRegistrar } from './http.ts'
import type { Credential, Identity, Permission, Role } from './identity.ts'
import type { ArchiveService, BlobStorageService, Clock, HttpService, LoggerService, PolicyService, RecordService } from './services.ts'
import type { ArtifactRequest, LocalStoreService, ProxyCacheService } from './engines.ts'

/** Plugin kinds the loader knows. @public @since 1.0.0 */
export type PluginKind = 'registry' | 'auth'

/** Registry modes (seed "Registry modes"). @public @since 1.0.0 */
export type RegistryMode = 'proxy' | 'local' | 'hybrid'

/** Versions handed to every plugin. @public @since 1.0.0 */
export interface PluginMeta {
  readonly pluginId: string
  readonly sdkVersion: string
  readonly kernelVersion: string
}

/**
 * The kernel-level settings of one registry instance, as validated from its `[[registries]]` table.
 *
 * @public
 * @since 1.0.0
 */
export interface RegistryInfo {
  readonly name: string
  readonly type: string
  readonly mode: RegistryMode
  readonly upstreams: readonly string[]
  /** Name of the storage backend this registry uses. */
  readonly storage: string
  /** `search_url`: undefined = plugin default, '' = upstream search disabled. */
  readonly searchUrl?: string
  /** Per-role and per-group permissions after defaults. */
  readonly rbac: Readonly<Record<string, readonly Permission[]>>
  /**
   * Hybrid mode only: whether upstream versions of a package that also exists locally are merged in
   * (`hybrid_merge_upstream`). Default false: a local name is never shadowed by the upstream, the
   * dependency-confusion guard.
   */
  readonly hybridMergeUpstream: boolean
}

/**
 * What a registry plugin says it supports. The kernel and UI read these; they never probe for methods.
 * A route needing an absent capability is answered 501 by the kernel.
 *
 * @public
 * @since 1.0.0
 */
export interface RegistryCapabilities {
  /** Can proxy an upstream (`mode = "proxy"`). */
  readonly proxy: boolean
  /** Can host packages (`mode = "local"` / `"hybrid"`). */
  readonly publish: boolean
  /** Can search its upstream. */
  readonly search: boolean
  /** Supports yank/unyank. */
  readonly yank: boolean
}

/**
 * The context of one registry instance.
 *
 * @public
 * @since 1.0.0
 */
export interface RegistryContext<C = Record<string, unknown>> {
  readonly meta: PluginMeta
  readonly registry: RegistryInfo
  /** The plugin's own keys of the `[[registries]]` table, validated and defaulted with its schema, frozen. */
  readonly config: Readonly<C>
  readonly log: LoggerService
  readonly clock: Clock
  readonly http: HttpService
  readonly storage: BlobStorageService
  readonly records: RecordService
  readonly policy: PolicyService
  readonly events: EventBus<CoreEvents>
  readonly routes: RouteRegistrar
  /** The proxy/cache engine (metadata and artifacts). */
  readonly cache: ProxyCacheService
  /** The local package store (modes `local` and `hybrid`). */
  readonly packages: LocalStoreService
  /** Safe zip/tar reading and temporary files. */
  readonly archives: ArchiveService
}

/** A version as listed for warming, the explorer and the policy engine. @public @since 1.0.0 */
export interface VersionSummary {
  readonly version: string
  /** ISO-8601 publish time, when the protocol carries it (the release-age gate needs it). */
  readonly publishedAt?: string
  readonly prerelease?: boolean
  readonly yanked?: boolean
}

/** One upstream search hit. @public @since 1.0.0 */
export interface UpstreamSearchHit {
  readonly name: string
  readonly latestVersion?: string
  readonly description?: string
}

/** A ready-to-paste client configuration block for the setup guide. @public @since 1.0.0 */
export interface SetupSnippet {
  /** What the block is for (`.npmrc`, `pip.conf`). */
  readonly title: string
  /** Syntax of the block (`ini`, `toml`, `xml`, `shell`). */
  readonly language: string
  readonly content: string
  /** `proxy` (install through the hub) or `publish`. */
  readonly purpose: 'install' | 'publish'
}

/**
 * Hooks a registry plugin returns from `setup`. Plain functions closing over what `setup` made; all
 * optional. The kernel and UI read them for features that span registries.
 *
 * @public
 * @since 1.0.0
 */
export interface RegistryHooks {
  /** Canonical form of a package name (PEP 503 for PyPI, lower-case for crates). Default: identity. */
  normalizeName?(name: string): string
  /**
   * Every known version of a package (local and upstream in hybrid mode), newest first, with publish
   * times where the protocol has them; null when the package does not exist.
   */
  listVersions?(name: string, options: { signal?: AbortSignal }): Promise<VersionSummary[] | null>
  /** The artifacts that make up one version, for cache warming. */
  artifactsFor?(name: string, version: string, options: { signal?: AbortSignal }): Promise<ArtifactRequest[]>
  /** Upstream search (explorer "Not Yet Proxied"); the kernel passes `search_url` resolution to the plugin. */
  searchUpstream?(query: string, options: { limit: number; signal?: AbortSignal }): Promise<UpstreamSearchHit[]>
  /** Client configuration for the setup guide, filled with this registry's URL. */
  setupSnippets?(options: { baseUrl: string; registryName: string; mode: RegistryMode }): SetupSnippet[]
  /** Releases what `setup` opened. */
  dispose?(): void | Promise<void>
}

/**
 * An error as a registry plugin renders it for its clients.
 *
 * @public
 * @since 1.0.0
 */
export interface FormattedError {
  contentType: string
  body: string
  /** HTTP reason phrase of the status line, instead of the standard one. */
  reason?: string
}

/**
 * A registry plugin: one registry protocol.
 *
 * @public
 * @since 1.0.0
 */
export interface RegistryPluginDefinition<S extends TObject = TObject> {
  /** Kebab-case id: the `type` operators write in config.toml. Must equal the manifest id. */
  readonly id: string
  /**
   * TypeBox schema of the plugin's own keys in a `[[registries]]` table (snake_case, like the kernel
   * keys beside them). Give every property a default or make it optional; use
   * `additionalProperties: false`.
   */
  readonly config?: S
  readonly capabilities: RegistryCapabilities
  /** Upstreams used when the operator gives none. */
  readonly defaultUpstreams?: readonly string[]
  /** Runs once per registry instance, time-boxed (10 s). Register routes here. */
  setup(ctx: RegistryContext<Static<S>>): RegistryHooks | Promise<RegistryHooks>
  /**
   * Renders the protocol's error body. Default: `{ "error": message }` as JSON.
   *
   * @remarks
   * `reason` replaces the HTTP reason phrase of the status line. Some clients show only
   * the status line (`mvn` prints `status: 409 <reason>` and never the body), so the reason is where
   * the message reaches the user. The kernel keeps printable ASCII and at most 200 characters of it;
   * HTTP/2 has no reason phrase and ignores it.
   */
  formatError?(err: ErrorInfo): FormattedError
}

/**
 * The context of one auth provider (one `[[auth]]` table).
 *
 * @public
 * @since 1.0.0
 */
export interface AuthContext<C = Record<string, unknown>> {
  readonly meta: PluginMeta
  /** The provider's keys of the `[[auth]]` table (all but `type`), validated, frozen. */
  readonly config: Readonly<C>
  readonly log: LoggerService
  readonly clock: Clock
  readonly events: EventBus<CoreEvents>
}

/** What an auth provider can do. @public @since 1.0.0 */
export interface AuthCapabilities {
  /** Checks tokens (Bearer, raw, api-key, Basic password). */
  readonly tokens: boolean
  /** Checks username + password. */
  readonly password: boolean
}

/**
 * Hooks an auth provider returns from `setup`.
 *
 * @public
 * @since 1.0.0
 */
export interface AuthHooks {
  /**
   * Returns the identity for a credential this provider recognises, null when it is not this
   * provider's (the next provider is asked), or throws `AuthenticationError` to stop the chain.
   * The kernel prefixes nothing: return `subject` already prefixed with the provider id.
   */
  authenticate(credential: Credential): Promise<Identity | null>
  /** Whether this provider has at least one admin credential configured (secure-by-default bootstrap). */
  hasAdminCredential?(): boolean
  dispose?(): void | Promise<void>
}

/**
 * An auth provider plugin.
 *
 * @public
 * @since 1.0.0
 */
export interface AuthPluginDefinition<S extends TObject = TObject> {
  readonly id: string
  readonly config?: S
  readonly capabilities: AuthCapabilities
  setup(ctx: AuthContext<Static<S>>): AuthHooks | Promise<AuthHooks>
}

/**
 * Identity helper that gives a registry plugin definition its types.
 *
 * @example
 * ```ts
 * export const pypiRegistry = defineRegistryPlugin({ id: 'pypi', capabilities: { … }, setup(ctx) { … } })
 * ```
 * @public
 * @since 1.0.0
 */
export function defineRegistryPlugin<S extends TObject>(definition: RegistryPluginDefinition<S>): RegistryPluginDefinition<S> {
  return definition
}

/**
 * Identity helper that gives an auth plugin definition its types.
 *
 * @public
 * @since 1.0.0
 */
export function defineAuthPlugin<S extends TObject>(definition: AuthPluginDefinition<S>): AuthPluginDefinition<S> {
  return definition
}

/**
 * The `batlehub` manifest in a plugin's package.json.
 *
 * @public
 * @since 1.0.0
 */
export interface PluginManifest {
  readonly kind: PluginKind
  readonly id: string
  /** semver range of `@batlehub/sdk` the plugin was written for. */
  readonly sdk: string
  /** Module to import, relative to the package root. */
  readonly entry: string
  /** Browser module of Lit UI contributions. */
  readonly ui?: string
}

/** Role names in RBAC tables. @public @since 1.0.0 */
export type RbacRole = Role
