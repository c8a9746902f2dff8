/** Contexts the shell provides; string keys so a plugin's own @lit/context copy still matches. */
import { createContext } from '@lit/context'
import { API_CONTEXT, SESSION_CONTEXT, type UiApi } from '@batlehub/sdk/ui'
import type { WhoAmI } from './api.ts'

export const apiContext = createContext<UiApi | undefined>(API_CONTEXT)
export const sessionContext = createContext<WhoAmI | undefined>(SESSION_CONTEXT)
