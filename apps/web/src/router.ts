import {
  createRouter,
  createWebHashHistory,
  createWebHistory,
  type RouteRecordRaw,
} from 'vue-router'
import { routerMode } from './config'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown in the browser tab: "<title> · SynthStack". */
    title?: string
  }
}

/** Pages are lazy-loaded so the first download stays small. */
export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: { name: 'status' } },
  {
    path: '/status',
    name: 'status',
    component: () => import('./pages/StatusPage.vue'),
    meta: { title: 'System status' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('./pages/NotFoundPage.vue'),
    meta: { title: 'Page not found' },
  },
]

/** Links in the header, in order. Later pages (chat, knowledge, jobs) add themselves here. */
export const navigation: { to: { name: string }; label: string }[] = [
  { to: { name: 'status' }, label: 'Status' },
]

export function createAppRouter() {
  const base = import.meta.env.BASE_URL
  const router = createRouter({
    history: routerMode === 'hash' ? createWebHashHistory(base) : createWebHistory(base),
    routes,
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · SynthStack` : 'SynthStack'
  })
  return router
}
