// An instance's node colours from its history, as the LWAMS monitor shows
// them: green done, blue running, pink failed or terminated, yellow retried
// or skipped (once done again), black (no marker) not reached.
export function nodeStates(history) {
  const st = {}
  for (const h of [...history].sort((a, b) => a.seq - b.seq)) {
    const s = (st[h.elementId] ||= { state: 'none', touched: false, events: [] })
    s.events.push(h)
    switch (h.event) {
      case 'started':
        s.state = 'running'
        break
      case 'completed':
      case 'passed':
        s.state = 'done'
        break
      case 'failed':
        s.state = 'failed'
        break
      case 'terminated':
        s.state = 'terminated'
        break
      case 'retried':
        s.touched = true
        s.state = 'running'
        break
      case 'skipped':
        s.touched = true
        s.state = 'done'
        break
    }
  }
  return st
}

/** The marker class for a node state. */
export function marker(s) {
  if (s.state === 'done') return s.touched ? 'st-yellow' : 'st-done'
  if (s.state === 'running') return 'st-running'
  if (s.state === 'failed' || s.state === 'terminated') return 'st-failed'
  return null
}

export const STATUS_TYPES = { running: 'primary', completed: 'success', failed: 'danger', terminated: 'danger' }
export const STATUSES = ['running', 'completed', 'failed', 'terminated']
export const START_WAYS = ['manual', 'schedule', 'api', 'call', 'signal', 'message', 'timer']
