// zh-CN and en: every string of the UI is in locales/*.json. The choice is
// kept in localStorage and sent to the server (Accept-Language) so its error
// messages come in the same language.
//
// After sign-in the company's languages (GET /ui-languages: the enabled ones
// with their message overrides, key → text) are laid over these messages:
// an override of `menu.tasks` changes that text; a language the company
// added (fr, ...) is its overrides with English beneath. Signing out puts the
// shipped messages back.
import { reactive } from 'vue'
import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN.json'
import en from './locales/en.json'

const SHIPPED = { 'zh-CN': zhCN, en }
const BUILT_IN = [
  { code: 'zh-CN', label: '简体中文' },
  { code: 'en', label: 'English' },
]

/** The languages the switcher offers: the built-ins, then the company's enabled ones. */
export const LOCALES = reactive(BUILT_IN.map((l) => ({ ...l })))

const KEY = 'baton.lang'

function initial() {
  const saved = localStorage.getItem(KEY)
  if (LOCALES.some((l) => l.code === saved)) return saved
  return navigator.language?.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: 'en',
  messages: { 'zh-CN': zhCN, en },
})

export function setLocale(code) {
  i18n.global.locale.value = code
  localStorage.setItem(KEY, code)
  document.documentElement.lang = code
}

export const t = (...args) => i18n.global.t(...args)

/**
 * An override as a message: `@` and `|` are literal (vue-i18n reads them as
 * linked keys and plurals, which no shipped message uses); `{name}`
 * placeholders stay.
 */
function asMessage(text) {
  return String(text).replace(/[@|]/g, (c) => `{'${c}'}`)
}

/** `base` (not changed) with `messages` (dotted key → text) laid over it; keys naming a group are skipped. */
function overlay(base, messages) {
  const out = structuredClone(base)
  const applied = []
  for (const [key, text] of Object.entries(messages || {})) {
    const path = key.split('.').filter(Boolean)
    if (!path.length || typeof text !== 'string') continue
    let node = out
    let ok = true
    for (const p of path.slice(0, -1)) {
      if (node[p] === undefined) node[p] = {}
      if (typeof node[p] !== 'object' || node[p] === null) {
        ok = false
        break
      }
      node = node[p]
    }
    const last = path[path.length - 1]
    if (!ok || (typeof node[last] === 'object' && node[last] !== null)) continue
    node[last] = asMessage(text)
    applied.push(path.join('.'))
  }
  return { messages: out, applied }
}

/** Sets `code`'s messages; an override that does not compile falls back to the shipped text. */
function install(code, base, overrides) {
  const { messages, applied } = overlay(base, overrides)
  i18n.global.setLocaleMessage(code, messages)
  const broken = []
  for (const key of applied) {
    try {
      i18n.global.t(key, {}, { locale: code })
    } catch {
      broken.push(key)
    }
  }
  if (broken.length) {
    console.warn(`language ${code}: overrides that are not valid messages, ignored: ${broken.join(', ')}`)
    const kept = Object.fromEntries(Object.entries(overrides).filter(([k]) => !broken.includes(k.split('.').filter(Boolean).join('.'))))
    i18n.global.setLocaleMessage(code, overlay(base, kept).messages)
  }
}

/**
 * Applies the company's languages ([{code, name, builtIn, messages}]):
 * overrides merged into the messages, the switcher listing the enabled ones.
 * The saved choice, else the language in use, stays when it is one of them;
 * otherwise the first enabled one is used (the saved choice is kept for later).
 */
export function applyLanguages(list) {
  resetLanguages()
  const offered = []
  for (const l of list || []) {
    if (!l?.code) continue
    install(l.code, SHIPPED[l.code] || {}, l.messages)
    offered.push({ code: l.code, label: l.name || l.code })
  }
  if (!offered.length) return
  LOCALES.splice(0, LOCALES.length, ...offered)
  const current = i18n.global.locale.value
  const want = [localStorage.getItem(KEY), current].find((c) => c && offered.some((l) => l.code === c)) || offered[0].code
  if (want !== current) {
    i18n.global.locale.value = want
    document.documentElement.lang = want
  }
}

/** The shipped messages and languages again (signed out). */
export function resetLanguages() {
  for (const code of i18n.global.availableLocales) {
    if (SHIPPED[code]) i18n.global.setLocaleMessage(code, SHIPPED[code])
    else i18n.global.setLocaleMessage(code, {})
  }
  LOCALES.splice(0, LOCALES.length, ...BUILT_IN.map((l) => ({ ...l })))
  const current = i18n.global.locale.value
  if (!SHIPPED[current]) {
    i18n.global.locale.value = initialBuiltIn()
    document.documentElement.lang = i18n.global.locale.value
  }
}

function initialBuiltIn() {
  return navigator.language?.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}
