// zh-CN and en: every string of the UI is in locales/*.json. The choice is
// kept in localStorage and sent to the server (Accept-Language) so its error
// messages come in the same language.
import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN.json'
import en from './locales/en.json'

export const LOCALES = [
  { code: 'zh-CN', label: '简体中文' },
  { code: 'en', label: 'English' },
]

function initial() {
  const saved = localStorage.getItem('baton.lang')
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
  localStorage.setItem('baton.lang', code)
  document.documentElement.lang = code
}

export const t = (...args) => i18n.global.t(...args)
