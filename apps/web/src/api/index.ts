import { apiUrl } from '../config'
import { createApi } from './client'

export type { Api, ApiErrorBody, CallOptions } from './client'
export { ApiError, createApi, readAnswer, toApiError, unwrap, withSignal } from './client'

/** The app's one client for the edge API (base URL from VITE_API_URL), on the typed SDK. */
export const api = createApi(apiUrl)
