import type { Router } from 'vue-router'
import type { ApiError } from '../api/client'
import { session } from '.'

/**
 * For a page's call that answered 401 (session expired or logged out elsewhere): forget the
 * session and go to the login page, coming back here after. Returns true when it did.
 */
export function handleSessionEnded(error: ApiError, router: Router): boolean {
  if (error.status !== 401) return false
  session.forget()
  void router.replace({ name: 'login', query: { redirect: router.currentRoute.value.fullPath } })
  return true
}
