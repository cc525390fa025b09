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
    { key: 'audit', fn: 'users', path: '/audit', label: 'adminx.auditLog' },
  ] },
]

/** The message key of a menu item's name (`menu.KEY` unless it names its own). */
export const itemLabel = (i) => i.label || `menu.${i.key}`

// Screens outside the menu that still show a name in the header.
const OTHER = [{ key: 'apiTokens', path: '/tokens', label: 'adminx.apiTokens' }]

/** The message key of the name of the screen at `path` (null: none). */
export function screenLabel(path) {
  const top = '/' + (path.split('/')[1] || '')
  const i = [...MENU.flatMap((g) => g.items), ...OTHER].find((x) => x.path === top)
  return i ? itemLabel(i) : null
}

/** The menu key of a path (`/monitor/ID` → monitor). */
export function menuKey(path) {
  const top = '/' + (path.split('/')[1] || '')
  for (const g of MENU) for (const i of g.items) if (i.path === top) return i.key
  return null
}
