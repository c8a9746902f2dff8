/**
 * `@batlehub/sdk/ui`: what a plugin's browser module (the manifest's `batlehub.ui`) uses to
 * contribute Lit elements to the web UI. Browser-safe: no Node.js imports.
 *
 * @remarks
 * The web UI loads each plugin's module, reads its default export (a {@link defineUi} value) and,
 * when it renders a named slot, loads the contributions for that slot and defines their tags
 * itself (a module never calls `customElements.define`). A registry plugin's contributions are
 * shown only for registries of its type.
 *
 * `lit`, `lit/*`, `@lit/context` and this module are resolved by the UI's import map to the shell's
 * own copies: one Lit in the page. Import Lit from `lit` (not `lit-html` or `lit-element`).
 *
 * Elements written in erasable TypeScript declare reactive properties with `static properties`
 * and `declare` fields (a plain class field would shadow Lit's accessor).
 *
 * @example
 * ```ts
 * // plugins/cargo/src/ui/index.ts
 * import { defineUi } from '@batlehub/sdk/ui'
 * export default defineUi({ contributions: [
 *   { slot: 'package.sidebar', tag: 'bh-cargo-install', load: () => import('./install.ts') },
 * ] })
 * ```
 *
 * @packageDocumentation
 */

/**
 * Named attachment points of the web UI (`<page>.<region>`).
 *
 * - `setup.snippet`: inside a registry's card on the Setup Guide (`/setup`); the element receives
 *   {@link SetupSnippetProps}.
 * - `package.sidebar`: beside the versions table of a package detail page; the element receives
 *   {@link PackageSidebarProps}.
 *
 * @public
 * @since 1.0.0
 */
export type UiSlot = 'setup.snippet' | 'package.sidebar'

/** The slots this SDK version knows. @public @since 1.0.0 */
export const UI_SLOTS: readonly UiSlot[] = Object.freeze(['setup.snippet', 'package.sidebar'] as const)

/** A custom element class, as the module of a contribution default-exports it. @public @since 1.0.0 */
export type ElementClass = abstract new (...args: any[]) => object

/**
 * One element a plugin contributes to a slot.
 *
 * @public
 * @since 1.0.0
 */
export interface UiContribution {
  readonly slot: UiSlot
  /** `bh-<pluginId>-<name>`; the host defines it (an already defined tag is reused). */
  readonly tag: string
  /** Loads the element's module lazily; its default export is the element class. */
  load(): Promise<{ default: ElementClass }>
}

/** The default export of a plugin's UI module. @public @since 1.0.0 */
export interface UiModule {
  readonly contributions: readonly UiContribution[]
}

/**
 * Identity helper that types a plugin's UI module.
 *
 * @public
 * @since 1.0.0
 */
export function defineUi(module: UiModule): UiModule {
  return module
}

/** A registry as the UI describes it to contributions. @public @since 1.0.0 */
export interface UiRegistry {
  readonly name: string
  readonly type: string
  readonly mode: 'proxy' | 'local' | 'hybrid'
  /** Absolute URL of the registry mount, with a trailing slash (`https://hub.example.com/proxy/npm/`). */
  readonly url: string
}

/** Properties set on a `setup.snippet` element. @public @since 1.0.0 */
export interface SetupSnippetProps {
  registry: UiRegistry
  /** The hub's base URL (`https://hub.example.com`). */
  serverUrl: string
}

/** Properties set on a `package.sidebar` element. @public @since 1.0.0 */
export interface PackageSidebarProps {
  registry: UiRegistry
  /** The package name as the registry knows it. */
  packageName: string
  /** Versions known to the hub, newest first (the explorer's detail response). */
  versions: ReadonlyArray<{ version: string; source: 'proxied' | 'local'; is_prerelease: boolean; firewall: { status: string } }>
}

/**
 * The web UI's API client, provided through `@lit/context` under {@link API_CONTEXT}. It sends the
 * signed-in user's token.
 *
 * @public
 * @since 1.0.0
 */
export interface UiApi {
  /** GET a JSON document of `/api/v1/…`. Rejects with an error carrying `status` and `code`. */
  get<T = unknown>(path: string): Promise<T>
  /** Send JSON to `/api/v1/…`. */
  send<T = unknown>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>
}

/**
 * Context key of the {@link UiApi}. A string, so that a plugin consuming it with its own copy of
 * `@lit/context` still matches the shell's provider.
 *
 * @example
 * ```ts
 * import { ContextConsumer } from '@lit/context'
 * new ContextConsumer(this, { context: API_CONTEXT, subscribe: false })
 * ```
 * @public
 * @since 1.0.0
 */
export const API_CONTEXT = 'bh.admin-api'

/** Context key of the signed-in identity (`{ user_id, role, groups }`). @public @since 1.0.0 */
export const SESSION_CONTEXT = 'bh.session'
