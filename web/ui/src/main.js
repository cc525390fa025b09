import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import { configure } from './api'
import { dropSession } from './session'
import './style.css'

configure({
  locale: () => i18n.global.locale.value,
  onSignedOut: () => {
    dropSession()
    const route = router.currentRoute.value
    if (route.meta.public) return
    const mobile = route.matched.some((r) => r.meta.mobile)
    router.push({ path: mobile ? '/m/login' : '/login', query: { next: route.fullPath, expired: '1' } })
  },
})

document.documentElement.lang = i18n.global.locale.value
createApp(App).use(i18n).use(router).use(ElementPlus).mount('#app')
