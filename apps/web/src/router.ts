import {
  createRouter,
  createWebHashHistory,
  createWebHistory,
  type RouteLocationRaw,
  type RouteRecordRaw,
  type Router,
} from 'vue-router'
import { safeRedirect } from './account/redirect'
import type { Session } from './account/session'
import { routerMode } from './config'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown in the browser tab: "<title> · SynthStack". */
    title?: string
    /** Signed-in users only: others go to the login page and come back after it. */
    requiresAuth?: boolean
    /** Login and sign-up: a signed-in user is sent on to the app. */
    guestOnly?: boolean
  }
}

/** Where the app starts for a signed-in user. */
export const HOME: RouteLocationRaw = { name: 'api-keys' }

/** Pages are lazy-loaded so the first download stays small. */
export const routes: RouteRecordRaw[] = [
  // Signed in: the app; signed out: the public status page (resolved by the guard below).
  { path: '/', name: 'home', component: { render: () => null } },
  {
    path: '/status',
    name: 'status',
    component: () => import('./pages/StatusPage.vue'),
    meta: { title: 'System status' },
  },
  {
    path: '/login',
    name: 'login',
    component: () => import('./pages/LogInPage.vue'),
    meta: { title: 'Log in', guestOnly: true },
  },
  {
    path: '/signup',
    name: 'signup',
    component: () => import('./pages/SignUpPage.vue'),
    meta: { title: 'Sign up', guestOnly: true },
  },
  {
    path: '/api-keys',
    name: 'api-keys',
    component: () => import('./pages/ApiKeysPage.vue'),
    meta: { title: 'API keys', requiresAuth: true },
  },
  {
    path: '/usage',
    name: 'usage',
    component: () => import('./pages/UsagePage.vue'),
    meta: { title: 'Usage', requiresAuth: true },
  },
  {
    path: '/members',
    name: 'members',
    component: () => import('./pages/MembersPage.vue'),
    meta: { title: 'Members', requiresAuth: true },
  },
  {
    path: '/workspaces/new',
    name: 'new-workspace',
    component: () => import('./pages/NewWorkspacePage.vue'),
    meta: { title: 'New workspace', requiresAuth: true },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('./pages/NotFoundPage.vue'),
    meta: { title: 'Page not found' },
  },
]

/** Links in the header, in order: `auth` ones for signed-in users, the others for everyone. */
export const navigation: { to: { name: string }; label: string; auth: boolean }[] = [
  { to: { name: 'api-keys' }, label: 'API keys', auth: true },
  { to: { name: 'usage' }, label: 'Usage', auth: true },
  { to: { name: 'members' }, label: 'Members', auth: true },
  { to: { name: 'status' }, label: 'Status', auth: false },
]

/**
 * The auth guard. Asks the session once (`GET /v1/me`), then: guarded pages without a session
 * → login with `?redirect=<where you were going>`; login/sign-up with a session → the app;
 * `/` → the app or the status page.
 */
export function installAuthGuard(router: Router, session: Session): void {
  router.beforeEach(async (to) => {
    await session.load()
    const signedIn = session.signedIn.value
    if (to.name === 'home') return signedIn ? HOME : { name: 'status' }
    if (to.meta.requiresAuth && !signedIn) {
      return { name: 'login', query: { redirect: to.fullPath } }
    }
    if (to.meta.guestOnly && signedIn) return safeRedirect(to.query.redirect, '/api-keys')
    return true
  })
}

export function createAppRouter(session?: Session) {
  const base = import.meta.env.BASE_URL
  const router = createRouter({
    history: routerMode === 'hash' ? createWebHashHistory(base) : createWebHistory(base),
    routes,
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })
  if (session) installAuthGuard(router, session)
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · SynthStack` : 'SynthStack'
  })
  return router
}
