// Small display helpers shared by the screens.
export function dateTime(ms) {
  if (ms === null || ms === undefined) return '—'
  const d = new Date(ms)
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

export function duration(from, to) {
  if (!from) return '—'
  const ms = (to ?? Date.now()) - from
  if (ms < 1000) return `${ms} ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

export function json(v) {
  return JSON.stringify(v, null, 2)
}

/** The server's error as a message for people (offline has its own text). */
export function errorText(e, t) {
  if (e?.code === 'offline') return t('common.offline')
  return e?.message || String(e)
}
