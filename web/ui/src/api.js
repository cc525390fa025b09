// The one client of Baton's REST API (/api/v1): JSON in and out, the session
// cookie (sent by the browser) plus the CSRF token echoed on every change,
// errors as ApiError {status, code, message, field}, and the connection
// state (`net.offline`) that the layouts show as a banner.
import { reactive } from 'vue'

const CSRF_KEY = 'baton.csrf'

/** Whether the server answers; a failed fetch sets `offline` until a probe succeeds. */
export const net = reactive({ offline: false })

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`)
    this.status = status
    this.code = body?.code || 'http'
    this.field = body?.field || null
  }

  /** The form field the server named (`body.password` → `password`). */
  get formField() {
    if (!this.field) return null
    const m = /^(?:body|query|path)\.([^#]+)$/.exec(this.field)
    return m ? m[1] : null
  }
}

let locale = () => 'zh-CN'
let onSignedOut = () => {}

/** Wire the client to the app: the language of server messages, what a lost session does. */
export function configure(opts) {
  if (opts.locale) locale = opts.locale
  if (opts.onSignedOut) onSignedOut = opts.onSignedOut
}

export function csrfToken() {
  return localStorage.getItem(CSRF_KEY) || ''
}

export function setCsrfToken(t) {
  if (t) localStorage.setItem(CSRF_KEY, t)
  else localStorage.removeItem(CSRF_KEY)
}

let probing = null
function probe() {
  if (probing) return
  probing = setInterval(async () => {
    try {
      await fetch('/api/v1/health', { cache: 'no-store' })
      net.offline = false
      clearInterval(probing)
      probing = null
    } catch {
      /* still down */
    }
  }, 3000)
}
window.addEventListener('offline', () => {
  net.offline = true
  probe()
})

function query(params) {
  if (!params) return ''
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v)
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** `method path` with an optional JSON body; resolves to the parsed answer (null for 204). */
export async function request(method, path, { body, params } = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': locale() }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken()
  let res
  try {
    res = await fetch(`/api/v1${path}${query(params)}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    })
  } catch {
    net.offline = true
    probe()
    throw new ApiError(0, { code: 'offline', message: '' })
  }
  net.offline = false
  const text = await res.text()
  let data = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = { code: 'http', message: text.slice(0, 200) }
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data)
    if (err.code === 'unauthenticated' || err.code === 'csrf') onSignedOut(err)
    throw err
  }
  return data
}

const get = (path, params) => request('GET', path, { params })
const post = (path, body) => request('POST', path, { body: body ?? {} })
const put = (path, body) => request('PUT', path, { body: body ?? {} })
const del = (path) => request('DELETE', path)
const e = encodeURIComponent

/** List / get / create / update / delete of one collection (`/scripts`, `/users`, …). */
export function collection(path) {
  return {
    list: (params) => get(path, params),
    get: (id) => get(`${path}/${e(id)}`),
    create: (b) => post(path, b),
    update: (id, b) => put(`${path}/${e(id)}`, b),
    remove: (id) => del(`${path}/${e(id)}`),
  }
}

/** A multipart upload (report templates): FormData in, JSON out. */
export async function upload(method, path, formData) {
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: { Accept: 'application/json', 'Accept-Language': locale(), 'X-CSRF-Token': csrfToken() },
    body: formData,
    credentials: 'same-origin',
  })
  const data = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, data)
  return data
}

/** A multipart form holding one `file`. */
function oneFile(file) {
  const f = new FormData()
  f.append('file', file)
  return f
}

/** The address of a download (a file route); the browser sends the cookie. */
export const downloadUrl = (path) => `/api/v1${path}`

export const api = {
  login: (b) => post('/auth/login', b),
  logout: () => post('/auth/logout'),
  me: () => get('/auth/me'),
  changePassword: (b) => post('/auth/password', b),
  /** WeChat: bind the account of a bind ticket to these credentials and sign in (as login). */
  wechatBind: (b) => post('/wechat/bind', b),
  myWeChat: () => get('/auth/wechat'),
  unbindMyWeChat: () => del('/auth/wechat'),
  unbindUserWeChat: (id) => del(`/users/${e(id)}/wechat`),
  /** The server route a browser opened from WeChat goes to (it redirects to WeChat). */
  wechatEntryUrl: (appid, companyCode) =>
    `/api/v1/wechat/entry?appid=${e(appid)}&companyCode=${e(companyCode)}`,

  nodeTypes: () => get('/node-types'),
  processes: (params) => get('/processes', params),
  processVersion: (key, version) =>
    get(`/processes/${encodeURIComponent(key)}/versions/${version}`),
  deploy: (xml) => post('/processes', { xml }),

  instances: (params) => get('/instances', params),
  instance: (id) => get(`/instances/${encodeURIComponent(id)}`),
  startInstance: (process, variables) => post('/instances', { process, variables }),
  terminate: (id) => post(`/instances/${encodeURIComponent(id)}/terminate`),
  pause: (id) => post(`/instances/${encodeURIComponent(id)}/pause`),
  resume: (id) => post(`/instances/${encodeURIComponent(id)}/resume`),
  retry: (id, elementId, variables) =>
    post(`/instances/${encodeURIComponent(id)}/retry`, { elementId, variables }),
  skip: (id, elementId, variables) =>
    post(`/instances/${encodeURIComponent(id)}/skip`, { elementId, variables }),
  nodeLogs: (id, element, params) => get(`/instances/${e(id)}/nodes/${e(element)}/logs`, params),
  /** The address of a node's log stream (Server-Sent Events, for an EventSource). */
  nodeLogStream: (id, element, after) => `/api/v1/instances/${e(id)}/nodes/${e(element)}/logs/stream?after=${after}`,

  tasks: (params) => get('/tasks', params),
  task: (id) => get(`/tasks/${encodeURIComponent(id)}`),
  claim: (id) => post(`/tasks/${encodeURIComponent(id)}/claim`),
  delegate: (id, userId) => post(`/tasks/${encodeURIComponent(id)}/delegate`, { userId }),
  complete: (id, values) => post(`/tasks/${encodeURIComponent(id)}/complete`, { values }),
  /** Ask a colleague (id or username) to help with a task; resolves to the task. */
  addHelper: (id, user) => post(`/tasks/${encodeURIComponent(id)}/helpers`, { user }),
  removeHelper: (id, user) => del(`/tasks/${encodeURIComponent(id)}/helpers/${encodeURIComponent(user)}`),
  /** A date-time, date or ISO 8601 duration from now; null: no due date. */
  setTaskDue: (id, due) => put(`/tasks/${encodeURIComponent(id)}/due`, { due }),
  users: (params) => get('/users', params),
  issueLink: (id, hours) => post(`/tasks/${e(id)}/link`, { hours }),
  approval: (token) => get(`/approvals/${e(token)}`),
  completeApproval: (token, values) => post(`/approvals/${e(token)}/complete`, { values }),
  /** A file for a task's `file` field; resolves to {id, name, size, …} (send `{id}` on completion). */
  uploadTaskFile: (id, file) => upload('POST', `/tasks/${e(id)}/files`, oneFile(file)),
  removeTaskFile: (id, fileId) => del(`/tasks/${e(id)}/files/${e(fileId)}`),
  taskFileUrl: (id, fileId) => downloadUrl(`/tasks/${e(id)}/files/${e(fileId)}`),
  instanceFileUrl: (id, fileId) => downloadUrl(`/instances/${e(id)}/files/${e(fileId)}`),
  uploadApprovalFile: (token, file) => upload('POST', `/approvals/${e(token)}/files`, oneFile(file)),

  forms: collection('/forms'),
  /** The form a task's `formKey` names (null: none stored under that key). */
  async formByKey(key) {
    const r = await get('/forms', { q: key, limit: 500 })
    return r.items.find((f) => f.key === key) || null
  },
  schedules: collection('/schedules'),
  previewSchedule: (b) => post('/schedules/preview', b),
  holidays: collection('/holidays'),
  hosts: collection('/hosts'),
  hostGroups: collection('/host-groups'),
  reissueHostToken: (id) => post(`/hosts/${e(id)}/token`),
  revokeHostToken: (id) => del(`/hosts/${e(id)}/token`),
  setHostBackups: (id, backups) => put(`/hosts/${e(id)}/backups`, { backups }),
  failovers: (params) => get('/failovers', params),
  audit: (params) => get('/audit', params),
  apiTokens: {
    list: () => get('/auth/tokens'),
    create: (b) => post('/auth/tokens', b),
    remove: (id) => del(`/auth/tokens/${e(id)}`),
  },
  terminals: collection('/terminals'),
  addAccount: (tid, b) => post(`/terminals/${e(tid)}/accounts`, b),
  updateAccount: (tid, aid, b) => put(`/terminals/${e(tid)}/accounts/${e(aid)}`, b),
  removeAccount: (tid, aid) => del(`/terminals/${e(tid)}/accounts/${e(aid)}`),
  usersCrud: collection('/users'),
  groups: collection('/groups'),
  scripts: collection('/scripts'),
  dataSources: collection('/data-sources'),
  testDataSource: (id) => post(`/data-sources/${e(id)}/test`),
  globals: {
    list: (params) => get('/globals', params),
    put: (name, b) => put(`/globals/${e(name)}`, b),
    remove: (name) => del(`/globals/${e(name)}`),
  },
  reportTemplates: collection('/report-templates'),
  reports: (params) => get('/reports', params),
  companies: collection('/companies'),
  languages: collection('/languages'),
  /** The company's enabled languages with their message overrides (any signed-in user). */
  uiLanguages: () => get('/ui-languages'),
}
