import { api } from '../api'
import { createSession } from './session'

/** The app's one session (who is signed in), shared by the router guard and the pages. */
export const session = createSession(api)
