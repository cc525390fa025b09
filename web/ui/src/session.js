// Who is signed in (shared by the admin screens and the mobile page).
import { reactive } from 'vue'
import { api, setCsrfToken, csrfToken, ApiError } from './api'
import { applyLanguages, resetLanguages } from './i18n'

export const session = reactive({
  user: null,
  company: null,
  permissions: {},
  mustChangePassword: false,
  loaded: false,
})

function clear() {
  session.user = null
  session.company = null
  session.permissions = {}
  session.mustChangePassword = false
  resetLanguages()
}

/** The company's languages and message overrides over the UI's own (a failure keeps the shipped text). */
export async function loadLanguages() {
  try {
    applyLanguages(await api.uiLanguages())
  } catch {
    /* an older server, or offline: the shipped messages stand */
  }
}

/** Reads the session behind the cookie; none without a CSRF token (changes would fail). */
export async function loadSession() {
  if (!csrfToken()) {
    clear()
    session.loaded = true
    return session
  }
  try {
    const me = await api.me()
    session.user = me.user
    session.company = me.company
    session.permissions = me.permissions || {}
    session.mustChangePassword = !!me.user.mustChangePassword
    await loadLanguages()
  } catch (e) {
    if (e instanceof ApiError && e.code === 'offline') throw e
    clear()
  }
  session.loaded = true
  return session
}

export async function signIn(form) {
  const r = await api.login(form)
  setCsrfToken(r.csrfToken)
  session.mustChangePassword = r.mustChangePassword
  if (!r.mustChangePassword) await loadSession()
  else session.user = r.user
  return r
}

/** Binds the WeChat account of a bind ticket to these credentials and signs in (as signIn). */
export async function bindWeChat(form) {
  const r = await api.wechatBind(form)
  setCsrfToken(r.csrfToken)
  session.mustChangePassword = r.mustChangePassword
  if (!r.mustChangePassword) await loadSession()
  else session.user = r.user
  return r
}

export async function changePassword(current, password) {
  const r = await api.changePassword({ current, password })
  setCsrfToken(r.csrfToken)
  session.mustChangePassword = false
  await loadSession()
}

export async function signOut() {
  try {
    await api.logout()
  } catch {
    /* the session may be gone already */
  }
  setCsrfToken('')
  clear()
}

/** Forget the session locally (the server said it is gone). */
export function dropSession() {
  setCsrfToken('')
  clear()
}

/** The caller's level on a function: none, view or manage. */
export function can(fn, level = 'view') {
  const l = session.permissions?.[fn] || 'none'
  return level === 'view' ? l === 'view' || l === 'manage' : l === 'manage'
}
