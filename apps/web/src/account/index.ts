import { api } from '../api'
import { browserStorage, rememberedWorkspace } from '../workspaces/remembered'
import { createSession } from './session'

/**
 * The app's one session (who is signed in, which workspace they act in), shared by the router
 * guard, the header and the pages. The chosen workspace survives reloads in localStorage.
 */
export const session = createSession(api, rememberedWorkspace(browserStorage()))
