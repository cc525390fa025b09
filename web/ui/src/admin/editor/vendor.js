// Files from Camunda Modeler 7, Flowable and Activiti keep their own
// attributes and extension elements: bpmn-js holds them as written (they are
// not in its model) and exports them unchanged, with their namespace
// declarations. The engine reads the same ones (engine/model/src/compile/ext.rs):
// `type` (the node kind), user tasks' `assignee` / `candidateGroups` /
// `formKey`, and every extension element with a `name` as a property. These
// helpers let the properties panel show and edit them.

export const VENDORS = {
  'http://camunda.org/schema/1.0/bpmn': 'Camunda',
  'http://flowable.org/bpmn': 'Flowable',
  'http://activiti.org/bpmn': 'Activiti',
  'http://camunda.org/schema/zeebe/1.0': 'Zeebe',
}

/** The attributes that say how a service task runs in those engines (Java, expressions, external workers). */
export const IMPLEMENTATIONS = ['class', 'delegateExpression', 'expression', 'type', 'topic']

function definitionsOf(bo) {
  let d = bo
  while (d?.$parent) d = d.$parent
  return d
}

/** prefix → vendor namespace URI, from the document's (and the element's) declarations. */
function prefixes(bo) {
  const out = {}
  for (const holder of [definitionsOf(bo), bo]) {
    for (const [k, v] of Object.entries(holder?.$attrs || {})) {
      if (k.startsWith('xmlns:') && VENDORS[v]) out[k.slice(6)] = v
    }
  }
  return out
}

/** The element's vendor attributes: [{vendor, qname, name, value}] in document order. */
export function vendorAttrs(bo) {
  if (!bo?.$attrs) return []
  const ns = prefixes(bo)
  const out = []
  for (const [qname, value] of Object.entries(bo.$attrs)) {
    const i = qname.indexOf(':')
    if (i < 0 || qname.startsWith('xmlns')) continue
    const uri = ns[qname.slice(0, i)]
    if (uri) out.push({ vendor: VENDORS[uri], qname, name: qname.slice(i + 1), value: String(value ?? '') })
  }
  return out
}

/** One vendor attribute by local name (`assignee`), or null. */
export function vendorAttr(bo, name) {
  return vendorAttrs(bo).find((a) => a.name === name) || null
}

function text(el) {
  return String(el?.$body ?? '').trim()
}

/**
 * A generic extension element's value as the engine reads it: a `value`,
 * `stringValue` or `expression` attribute, a `string` / `expression` child,
 * a `map` / `list` child (shown as JSON), or its own text.
 */
function valueOf(el) {
  for (const a of ['value', 'stringValue', 'expression']) if (el[a] !== undefined) return String(el[a])
  for (const c of el.$children || []) {
    const local = c.$type.split(':').pop()
    if (local === 'string' || local === 'expression') return text(c)
    if (local === 'map') return JSON.stringify(Object.fromEntries((c.$children || []).map((e) => [e.key, text(e)])))
    if (local === 'list') return JSON.stringify((c.$children || []).map(text))
  }
  return text(el)
}

/** Named vendor extension elements (flowable:field, camunda:inputParameter, camunda:property, …): [{vendor, tag, name, value}]. */
export function vendorProps(bo) {
  const out = []
  const walk = (el) => {
    const uri = el?.$descriptor?.ns?.uri
    if (!el?.$descriptor?.isGeneric || !VENDORS[uri]) return
    if (el.name !== undefined) {
      out.push({ vendor: VENDORS[uri], tag: el.$type, name: String(el.name), value: valueOf(el) })
      return
    }
    for (const c of el.$children || []) walk(c)
  }
  for (const v of bo?.extensionElements?.values || []) walk(v)
  return out
}

/**
 * How a service task without a Baton node type runs in its own engine
 * (`flowable:class="…"`), or null: Baton cannot run Java classes or bean
 * expressions, the panel offers a node type instead.
 */
export function implementationOf(bo) {
  if (bo?.$type !== 'bpmn:ServiceTask' || bo.get('baton:type')) return null
  const a = vendorAttrs(bo).find((x) => IMPLEMENTATIONS.includes(x.name))
  return a ? `${a.qname}="${a.value}"` : null
}
