// The live feed (GET /api/v1/events, Server-Sent Events): one EventSource
// for the whole page, shared by every screen that follows changes. Screens
// register handlers with useLive(); the stream opens with the first and
// closes with the last. After a lost connection or a `lagged` event (the
// server dropped changes for us) every screen reloads its data; while the
// stream is down `live.lost` is set and the banner says so.
import { onBeforeUnmount, onMounted, reactive } from 'vue'

export const live = reactive({ lost: false, open: false })

const handlers = new Set()
let source = null
let retry = null
let wasLost = false

function reloadAll() {
  for (const h of handlers) h.reload?.()
}

function connect() {
  clearTimeout(retry)
  source = new EventSource('/api/v1/events', { withCredentials: true })
  source.addEventListener('open', () => {
    live.open = true
    live.lost = false
    if (wasLost) {
      wasLost = false
      reloadAll()
    }
  })
  source.addEventListener('change', (ev) => {
    let c
    try {
      c = JSON.parse(ev.data)
    } catch {
      return
    }
    for (const h of handlers) h.change?.(c)
  })
  source.addEventListener('lagged', reloadAll)
  source.addEventListener('error', () => {
    live.open = false
    live.lost = true
    wasLost = true
    // A network failure: the browser reconnects by itself. A refused stream
    // (an HTTP error) is closed for good: try again a little later.
    if (source.readyState === EventSource.CLOSED) retry = setTimeout(connect, 5000)
  })
}

function disconnect() {
  clearTimeout(retry)
  source?.close()
  source = null
  wasLost = false
  live.lost = false
  live.open = false
}

/** Follow the feed while the calling component is mounted: `change(c)` per change, `reload()` after a gap. */
export function useLive(h, enabled = true) {
  if (!enabled) return
  onMounted(() => {
    handlers.add(h)
    if (!source) connect()
  })
  onBeforeUnmount(() => {
    handlers.delete(h)
    if (!handlers.size) disconnect()
  })
}

/** `fn` at most once per `ms` (the last call wins): many changes, one reload. */
export function debounce(fn, ms = 250) {
  let t = null
  return (...args) => {
    clearTimeout(t)
    t = setTimeout(() => fn(...args), ms)
  }
}
