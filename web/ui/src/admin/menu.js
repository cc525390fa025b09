// The admin menu: the four modules of SPEC.md §2 and their screens, each
// shown to whoever may view its function (GET /api/v1/auth/me permissions).
export const MENU = [
  { group: 'process', items: [
    { key: 'editor', fn: 'editor', path: '/editor' },
    { key: 'monitor', fn: 'monitor', path: '/monitor' },
    { key: 'tasks', fn: 'tasks', path: '/tasks' },
    { key: 'schedules', fn: 'schedules', path: '/schedules' },
  ] },
  { group: 'report', items: [
    { key: 'reportTemplates', fn: 'reportTemplates', path: '/report-templates' },
    { key: 'reportData', fn: 'reportData', path: '/reports' },
  ] },
  { group: 'resource', items: [
    { key: 'scripts', fn: 'scripts', path: '/scripts' },
    { key: 'dataSources', fn: 'dataSources', path: '/data-sources' },
    { key: 'forms', fn: 'forms', path: '/forms' },
    { key: 'globals', fn: 'globals', path: '/globals' },
  ] },
  { group: 'system', items: [
    { key: 'companies', fn: 'companies', path: '/companies' },
    { key: 'users', fn: 'users', path: '/users' },
    { key: 'hosts', fn: 'hosts', path: '/hosts' },
    { key: 'terminals', fn: 'hosts', path: '/terminals' },
    { key: 'holidays', fn: 'holidays', path: '/holidays' },
    { key: 'languages', fn: 'languages', path: '/languages' },
  ] },
]

/** The menu key of a path (`/monitor/ID` → monitor). */
export function menuKey(path) {
  const top = '/' + (path.split('/')[1] || '')
  for (const g of MENU) for (const i of g.items) if (i.path === top) return i.key
  return null
}
