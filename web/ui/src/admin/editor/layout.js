// Files with no diagram, or shapes for only some of their elements, open laid
// out: process files written by hand or by an engine's own tooling (Flowable's
// examples carry no BPMNDiagram) would otherwise not open at all ("no diagram
// to display"). Elements without an id get one and flow nodes get their
// incoming / outgoing from the flows (many such files list neither), then
// bpmn-auto-layout draws the first process. Files whose every flow node has
// a shape are left as they are.
import { layoutProcess } from 'bpmn-auto-layout'

const FLOW_NODE = /^bpmn:(Task|[A-Za-z]+Task|SubProcess|Transaction|CallActivity|[A-Za-z]*Event|[A-Za-z]*Gateway)$/

function flowNodes(container, out = []) {
  for (const e of container.flowElements || []) {
    if (FLOW_NODE.test(e.$type)) out.push(e)
  }
  return out
}

function drawn(definitions) {
  const ids = new Set()
  for (const d of definitions.diagrams || []) {
    for (const el of d.plane?.planeElement || []) if (el.bpmnElement?.id) ids.add(el.bpmnElement.id)
  }
  return ids
}

/** Gives every flow element of `container` (and nested ones) an id and its incoming / outgoing. */
function complete(container, taken, counter) {
  for (const e of container.flowElements || []) {
    if (!e.id) {
      const kind = e.$type.split(':')[1]
      let id
      do id = `${kind}_${++counter.n}`
      while (taken.has(id))
      taken.add(id)
      e.id = id
    }
  }
  for (const f of container.flowElements || []) {
    if (f.$type === 'bpmn:SequenceFlow') {
      const { sourceRef: s, targetRef: t } = f
      if (s && !s.get('outgoing').includes(f)) s.get('outgoing').push(f)
      if (t && !t.get('incoming').includes(f)) t.get('incoming').push(f)
    }
    if (f.flowElements) complete(f, taken, counter)
  }
}

function allIds(container, out) {
  for (const e of container.flowElements || []) {
    if (e.id) out.add(e.id)
    if (e.flowElements) allIds(e, out)
  }
  return out
}

/**
 * `{xml, laidOut}`: the file as given when its processes' flow nodes all have
 * shapes (laidOut 0), else the file laid out anew (laidOut: how many had
 * none). A file that does not parse is given back for the import to report.
 */
export async function withDiagram(moddle, xml) {
  let definitions
  try {
    ;({ rootElement: definitions } = await moddle.fromXML(xml, 'bpmn:Definitions'))
  } catch {
    return { xml, laidOut: 0 }
  }
  const processes = (definitions.rootElements || []).filter((r) => r.$type === 'bpmn:Process')
  const nodes = processes.flatMap((p) => flowNodes(p))
  const shapes = drawn(definitions)
  const missing = nodes.filter((n) => !n.id || !shapes.has(n.id)).length
  if (!nodes.length || !missing) return { xml, laidOut: 0 }
  const taken = new Set()
  for (const p of processes) allIds(p, taken)
  const counter = { n: 0 }
  for (const p of processes) complete(p, taken, counter)
  // The old, partial diagram goes: the layout draws every element.
  definitions.diagrams = []
  const { xml: fixed } = await moddle.toXML(definitions)
  return { xml: await layoutProcess(fixed), laidOut: missing }
}
