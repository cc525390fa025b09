// What the properties panel's pickers and `${}` completion offer: the
// company's objects a property names (`x-ref` in the node schemas: the value
// stored is what the nodes resolve — a name, an account's user name, a
// form's or process's key), and the expressions in scope at an element
// (built-ins, globals, the outputs of the nodes upstream, `x-outputs`).
import { api } from '../../api'
import { readAttr } from './props'

const ALL = { limit: 500 }
const items = (r) => r?.items || (Array.isArray(r) ? r : [])
const named = (r) => items(r).map((x) => ({ value: x.name, label: x.name }))

/** Loaders by `x-ref` kind (plus `user` and `group` for approvals): `[{value, label}]`. */
const LOADERS = {
  terminal: async () => items(await api.terminals.list(ALL)).map((x) => ({ value: x.name, label: x.name, hint: x.hostAddress || x.host_address || '' })),
  account: async ({ terminal }) => {
    const name = String(terminal || '').trim()
    if (!name || name.includes('${')) return []
    const t = items(await api.terminals.list(ALL)).find((x) => x.name === name || x.id === name)
    if (!t) return []
    const full = t.accounts ? t : await api.terminals.get(t.id)
    return (full.accounts || []).map((a) => ({ value: a.username, label: a.username }))
  },
  host: async () => named(await api.hosts.list(ALL)),
  dataSource: async () => items(await api.dataSources.list(ALL)).map((x) => ({ value: x.name, label: x.name, hint: x.kind || x.dialect || '' })),
  script: async () => named(await api.scripts.list(ALL)),
  reportTemplate: async () => named(await api.reportTemplates.list(ALL)),
  form: async () => items(await api.forms.list(ALL)).map((x) => ({ value: x.key, label: x.key, hint: x.name })),
  process: async () => items(await api.processes(ALL)).map((x) => ({ value: x.key, label: x.key, hint: x.name || '' })),
  user: async () => items(await api.users(ALL)).map((x) => ({ value: x.username, label: x.username, hint: x.name })),
  group: async () => named(await api.groups.list(ALL)),
}

export const REF_KINDS = Object.keys(LOADERS)

/** The options of a picker of `kind`; `[]` when the list is not readable (no permission, offline). */
export async function loadRefs(kind, ctx = {}) {
  const load = LOADERS[kind]
  if (!load) return []
  try {
    return await load(ctx)
  } catch {
    return []
  }
}

/** SPEC §5: the built-in variables every instance may carry. */
export const BUILTINS = [
  'LWAMS_INITIATOR_ID',
  'LWAMS_INITIATOR_NAME',
  'LWAMS_INITIATOR_PHONE',
  'LWAMS_INITIATOR_EMAIL',
  'LWAMS_INITIATOR_MOBILE',
  'LWAMS_INIT_DATE',
  'LWAMS_INIT_TIME',
  'LWAMS_PROCESS_DEFINITION_ID',
  'LWAMS_PROCESS_START_WAY',
  'LWAMS_PROCESS_START_QUEUE',
  'LWAMS_PROCESS_START_QUEUE_ID',
  'LWAMS_STATUSMODIFIER_ID',
  'LWAMS_CALL_PROCESS_INSTANCE_ID',
  'LWAMS_CALL_PARAM',
  'LWAMS_CALL_PROCESS_TASK_ID',
]

let globalsCache = null
/** The company's global variables' names (cached for the page's life; `refreshGlobals` drops it). */
export async function globalNames() {
  if (!globalsCache) {
    globalsCache = api.globals
      .list(ALL)
      .then((r) => items(r).map((g) => g.name))
      .catch(() => {
        globalsCache = null
        return []
      })
  }
  return globalsCache
}
export function refreshGlobals() {
  globalsCache = null
}

/** The flow elements upstream of `element` (reached backwards along sequence flows), nearest first. */
export function upstream(element) {
  const seen = new Set([element?.id])
  const out = []
  let frontier = [element]
  while (frontier.length) {
    const next = []
    for (const el of frontier) {
      for (const c of el?.incoming || []) {
        const src = c.source
        if (!src || seen.has(src.id)) continue
        seen.add(src.id)
        out.push(src)
        next.push(src)
      }
    }
    frontier = next
  }
  return out
}

/**
 * Every completion at `element`: `[{value, kind, detail}]`, `value` the
 * expression inside `${…}`. `schemas`: kind → JSON schema (`x-outputs`);
 * `formFields(key)`: the field names of a form (upstream approvals' forms).
 */
export async function completions(element, schemas, { formFields } = {}) {
  const out = []
  const ups = element ? upstream(element) : []
  for (const el of ups) {
    const bo = el.businessObject
    if (el.type === 'bpmn:ServiceTask') {
      const kind = bo.get?.('baton:type')
      for (const o of schemas?.[kind]?.['x-outputs'] || []) out.push({ value: `${bo.id}.${o}`, kind: 'output', detail: bo.name || kind })
    } else if (el.type === 'bpmn:UserTask' && formFields) {
      const key = readAttr(el, 'formKey')
      if (key) for (const f of await formFields(key)) out.push({ value: f, kind: 'form', detail: bo.name || bo.id })
    }
  }
  for (const g of await globalNames()) out.push({ value: g, kind: 'global', detail: '' })
  for (const b of BUILTINS) out.push({ value: b, kind: 'builtin', detail: '' })
  return out
}

/**
 * The `${` being typed at `caret` in `text`: `{start, query}` (start: the
 * index of `$`), or null when the caret is not inside an unclosed `${`.
 */
export function openExpr(text, caret) {
  const before = String(text).slice(0, caret)
  const i = before.lastIndexOf('${')
  if (i < 0) return null
  const query = before.slice(i + 2)
  if (query.includes('}')) return null
  return { start: i, query }
}

/** `text` with the open `${query` at `caret` replaced by `${value}`; the new caret after `}`. */
export function insertExpr(text, caret, value) {
  const open = openExpr(text, caret)
  if (!open) return { text, caret }
  const after = String(text).slice(caret)
  // A `}` already right after the caret (or after the rest of an identifier) closes it.
  const m = /^[\w.]*\}/.exec(after)
  const rest = m ? after.slice(m[0].length) : after
  const head = `${text.slice(0, open.start)}\${${value}}`
  return { text: head + rest, caret: head.length }
}
