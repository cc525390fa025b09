// Admin screens under /, the mobile H5 page under /m/. Screens load on demand
// (the editor brings bpmn-js, the mobile page Vant).
import { createRouter, createWebHistory } from 'vue-router'
import { session, loadSession, can } from './session'
import { api } from './api'
import { MENU } from './admin/menu'

const routes = [
  { path: '/login', component: () => import('./admin/Login.vue'), meta: { public: true } },
  { path: '/password', component: () => import('./admin/ChangePassword.vue'), meta: { password: true } },
  {
    path: '/',
    component: () => import('./admin/Layout.vue'),
    children: [
      { path: '', redirect: '/tasks' },
      { path: 'editor', component: () => import('./admin/editor/EditorView.vue'), meta: { fn: 'editor' } },
      { path: 'monitor', component: () => import('./admin/monitor/InstanceList.vue'), meta: { fn: 'monitor' } },
      { path: 'monitor/:id', component: () => import('./admin/monitor/InstanceDetail.vue'), meta: { fn: 'monitor' } },
      { path: 'tasks', component: () => import('./admin/tasks/TaskList.vue'), meta: { fn: 'tasks' } },
      { path: 'schedules', component: () => import('./admin/schedules/Schedules.vue'), meta: { fn: 'schedules' } },
      { path: 'report-templates', component: () => import('./admin/reports/ReportTemplates.vue'), meta: { fn: 'reportTemplates' } },
      { path: 'reports', component: () => import('./admin/reports/ReportData.vue'), meta: { fn: 'reportData' } },
      { path: 'scripts', component: () => import('./admin/resources/Scripts.vue'), meta: { fn: 'scripts' } },
      { path: 'data-sources', component: () => import('./admin/resources/DataSources.vue'), meta: { fn: 'dataSources' } },
      { path: 'forms', component: () => import('./admin/forms/FormList.vue'), meta: { fn: 'forms' } },
      { path: 'forms/:id', component: () => import('./admin/forms/FormDesigner.vue'), meta: { fn: 'forms' } },
      { path: 'globals', component: () => import('./admin/resources/Globals.vue'), meta: { fn: 'globals' } },
      { path: 'companies', component: () => import('./admin/system/Companies.vue'), meta: { fn: 'companies' } },
      { path: 'users', component: () => import('./admin/system/Users.vue'), meta: { fn: 'users' } },
      { path: 'hosts', component: () => import('./admin/system/Hosts.vue'), meta: { fn: 'hosts' } },
      { path: 'terminals', component: () => import('./admin/system/Terminals.vue'), meta: { fn: 'hosts' } },
      { path: 'holidays', component: () => import('./admin/system/Holidays.vue'), meta: { fn: 'holidays' } },
      { path: 'languages', component: () => import('./admin/system/Languages.vue'), meta: { fn: 'languages' } },
      { path: 'audit', component: () => import('./admin/system/AuditLog.vue'), meta: { fn: 'users' } },
      // The signed-in user's own API tokens (the user menu): no permission needed.
      { path: 'tokens', component: () => import('./admin/ApiTokens.vue') },
    ],
  },
  {
    path: '/m',
    component: () => import('./mobile/MobileShell.vue'),
    meta: { mobile: true },
    children: [
      { path: '', component: () => import('./mobile/MobileTasks.vue'), meta: { mobile: true } },
      { path: 'login', component: () => import('./mobile/MobileLogin.vue'), meta: { mobile: true, public: true } },
      // Where a sign-in through WeChat lands (the CSRF token in the fragment).
      { path: 'wechat', component: () => import('./mobile/MobileWechat.vue'), meta: { mobile: true, public: true } },
      { path: 'password', component: () => import('./mobile/MobilePassword.vue'), meta: { mobile: true, password: true } },
      { path: 'task/:id', component: () => import('./mobile/MobileTask.vue'), meta: { mobile: true } },
      { path: 'approve/:token', component: () => import('./mobile/MobileApprove.vue'), meta: { mobile: true, public: true } },
      // The same with the token after '#': the server answers a path whose last part holds a '.' as a missing file.
      { path: 'approve', component: () => import('./mobile/MobileApprove.vue'), meta: { mobile: true, public: true } },
    ],
  },
  { path: '/:rest(.*)*', component: () => import('./admin/NotFound.vue'), meta: { public: true } },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (!session.loaded) {
    try {
      await loadSession()
    } catch {
      /* offline: the banner shows it; let the screen try */
    }
  }
  // The mobile entry of the company's WeChat official account menu
  // (/?appid=…&companyCode=…): signed in to that company, the to-do list;
  // otherwise the server's WeChat sign-in (it redirects to WeChat).
  const { appid, companyCode } = to.query
  const atRoot = to.path === '/' || to.redirectedFrom?.path === '/'
  if (atRoot && typeof appid === 'string' && typeof companyCode === 'string' && appid && companyCode) {
    if (session.user && session.company?.code === companyCode) return '/m'
    window.location.assign(api.wechatEntryUrl(appid, companyCode))
    return false
  }
  const mobile = to.matched.some((r) => r.meta.mobile)
  const login = mobile ? '/m/login' : '/login'
  const password = mobile ? '/m/password' : '/password'
  if (to.meta.public) return true
  if (!session.user) return { path: login, query: to.fullPath !== '/' && to.fullPath !== '/m' ? { next: to.fullPath } : {} }
  if (session.mustChangePassword && !to.meta.password) return { path: password, query: { next: to.fullPath } }
  // A screen the caller may not view: the first one it may.
  if (to.meta.fn && !can(to.meta.fn)) {
    const first = MENU.flatMap((g) => g.items).find((i) => can(i.fn))
    return first && first.path !== to.path ? first.path : true
  }
  return true
})
