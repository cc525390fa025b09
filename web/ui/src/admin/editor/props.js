// Reading and writing what the engine reads from a diagram element: Baton
// properties (`<baton:property name value/>` in extensionElements), `baton:`
// attributes of user tasks, timer definitions. Every write goes through
// bpmn-js's `modeling`, so it is undoable and marks the diagram changed.
import { IMPLEMENTATIONS, vendorAttr, vendorAttrs } from './vendor'

/** The element's Baton properties as `{name: value}`. */
export function readProps(element) {
  const values = element.businessObject.extensionElements?.values || []
  const out = {}
  for (const v of values) if (v.$type === 'baton:Property' && v.name) out[v.name] = v.value ?? ''
  return out
}

/** Set (or, with an empty value, remove) one Baton property. */
export function writeProp(modeler, element, name, value) {
  const moddle = modeler.get('moddle')
  const bo = element.businessObject
  const old = bo.extensionElements?.values || []
  const values = []
  let placed = false
  for (const v of old) {
    if (v.$type === 'baton:Property' && v.name === name) {
      if (value !== '' && value !== null && value !== undefined) values.push(moddle.create('baton:Property', { name, value: String(value) }))
      placed = true
    } else values.push(v)
  }
  if (!placed && value !== '' && value !== null && value !== undefined) {
    values.push(moddle.create('baton:Property', { name, value: String(value) }))
  }
  let ext
  if (values.length) {
    ext = moddle.create('bpmn:ExtensionElements', { values })
    ext.$parent = bo
    for (const v of values) v.$parent = ext
  }
  modeler.get('modeling').updateProperties(element, { extensionElements: ext })
}

/**
 * A user task's assignee / candidateGroups / formKey: the `baton:` attribute,
 * else the one a Camunda / Flowable / Activiti file carries (the engine reads
 * either).
 */
export function readAttr(element, name) {
  const bo = element.businessObject
  return bo.get(`baton:${name}`) || vendorAttr(bo, name)?.value || ''
}

/** Writes where the value was read from: the file's own attribute when it has one and no `baton:` one. */
export function writeAttr(modeler, element, name, value) {
  const bo = element.businessObject
  const theirs = !bo.get(`baton:${name}`) && vendorAttr(bo, name)
  const key = theirs ? theirs.qname : `baton:${name}`
  modeler.get('modeling').updateProperties(element, { [key]: value || undefined })
}

/** Runs a service task as Baton's node `kind`, dropping the implementation its own engine used (a Java class, an expression). */
export function writeNodeType(modeler, element, kind) {
  const bo = element.businessObject
  const changes = { 'baton:type': kind || undefined }
  if (kind) for (const a of vendorAttrs(bo)) if (IMPLEMENTATIONS.includes(a.name)) changes[a.qname] = undefined
  modeler.get('modeling').updateProperties(element, changes)
}

export const TIMER_KINDS = ['timeDuration', 'timeDate', 'timeCycle']

/** A timer event's kind and expression. */
export function readTimer(element) {
  const def = element.businessObject.eventDefinitions?.find((d) => d.$type === 'bpmn:TimerEventDefinition')
  for (const k of TIMER_KINDS) if (def?.[k]) return { kind: k, value: def[k].body || '' }
  return { kind: 'timeDuration', value: '' }
}

export function writeTimer(modeler, element, kind, value) {
  const moddle = modeler.get('moddle')
  const def = element.businessObject.eventDefinitions?.find((d) => d.$type === 'bpmn:TimerEventDefinition')
  if (!def) return
  const props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined }
  if (value) {
    const expr = moddle.create('bpmn:FormalExpression', { body: value })
    expr.$parent = def
    props[kind] = expr
  }
  modeler.get('modeling').updateModdleProperties(element, def, props)
}

/** An XML id: a letter or `_` first, then letters, digits, `_`, `-`, `.`. */
export function validId(id) {
  return /^[A-Za-z_][\w.-]*$/.test(id)
}

/** Property names shown as a multi-line box. */
const LONG = new Set(['command', 'sql', 'body', 'script', 'content', 'text', 'html', 'param', 'headers', 'attachments'])
export function multiline(name, schema) {
  return schema?.format === 'textarea' || schema?.['x-multiline'] === true || LONG.has(name)
}

/** Client-side checks before deploy: required properties present, known kinds. */
export function checkDiagram(modeler, schemas, t) {
  const problems = []
  for (const el of modeler.get('elementRegistry').getAll()) {
    const bo = el.businessObject
    if (el.type !== 'bpmn:ServiceTask' || el.labelTarget) continue
    const kind = bo.get('baton:type')
    if (!kind || !schemas) continue
    const schema = schemas[kind]
    if (!schema) {
      problems.push({ element: el.id, message: t('editor.unknownKind', { kind }) })
      continue
    }
    const props = readProps(el)
    for (const req of schema.required || []) {
      if (!String(props[req] ?? '').trim()) {
        const title = schema.properties?.[req]?.title || req
        problems.push({ element: el.id, message: t('editor.required', { name: title }) })
      }
    }
  }
  return problems
}

/** The engine's rejection (`line:col [code] \`id\`: message`, one a line) as diagnostics. */
export function parseDiagnostics(message) {
  const out = []
  for (const line of String(message).split('\n')) {
    const m = /(\d+:\d+) \[([^\]]+)\](?: `([^`]+)`)?: (.*)$/.exec(line)
    if (m) out.push({ pos: m[1], code: m[2], element: m[3] || null, message: m[4] })
    else if (line.trim()) out.push({ element: null, message: line.trim() })
  }
  return out
}
