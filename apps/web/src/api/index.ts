import { apiUrl } from '../config'
import { ApiClient } from './client'

export type { ApiErrorBody, ApiResponse, RequestOptions } from './client'
export { ApiClient, ApiError } from './client'

/** The app's one client for the edge API (base URL from VITE_API_URL). */
export const api = new ApiClient({ baseUrl: apiUrl })
