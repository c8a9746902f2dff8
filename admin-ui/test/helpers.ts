/** Shared set-up of the UI's browser tests. */
import { waitUntil } from '@open-wc/testing'
import { ApiClient } from '../src/api.ts'

export interface HubEnv {
  tokens: { admin: string; user: string; beta: string }
  hubUrl: string
}

let env: Promise<HubEnv> | undefined

/** Tokens of the real hub behind the test server. */
export function hubEnv(): Promise<HubEnv> {
  env ??= fetch('/__hub/env').then((r) => r.json() as Promise<HubEnv>)
  return env
}

/** An API client signed in as `who` (anonymous without). */
export async function apiAs(who?: keyof HubEnv['tokens']): Promise<ApiClient> {
  const e = await hubEnv()
  const token = who ? e.tokens[who] : null
  return new ApiClient({ token: () => token })
}

/** Makes the explorer's database fail (a real outage: its table disappears) or recover. */
export async function outage(on: boolean): Promise<void> {
  await fetch(`/__hub/outage?on=${on ? 1 : 0}`)
}

/** Text of an element's shadow root, whitespace collapsed. */
export function text(el: Element | null | undefined): string {
  return ((el as HTMLElement | null)?.shadowRoot?.textContent ?? (el as HTMLElement | null)?.textContent ?? '').replace(/\s+/g, ' ').trim()
}

export function $(host: Element, selector: string): HTMLElement | null {
  return host.shadowRoot!.querySelector(selector)
}

export function $$(host: Element, selector: string): HTMLElement[] {
  return [...host.shadowRoot!.querySelectorAll<HTMLElement>(selector)]
}

/** Waits until `fn` returns a truthy value and returns it. */
export async function until<T>(fn: () => T, message: string, timeout = 5000): Promise<NonNullable<T>> {
  let value: T | undefined
  await waitUntil(() => {
    value = fn()
    return Boolean(value)
  }, message, { timeout })
  return value as NonNullable<T>
}

/** Types into an input the way a user does (value + input event). */
export function type(input: HTMLInputElement, value: string): void {
  input.value = value
  input.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true }))
}
