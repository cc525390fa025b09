// The palette's Baton section: the node kinds of the engine (README "The node
// library") as BPMN elements. The server lists the service-task kinds with
// their schemas (GET /node-types); the glyphs here dress the known ones.
export const BATON_NS = 'http://baton.dev/schema/bpmn'

export const NODE_KINDS = [
  { kind: 'remote-command', glyph: 'SSH', color: '#0b7285' },
  { kind: 'local-command', glyph: 'CMD', color: '#1f6feb' },
  { kind: 'sql', glyph: 'SQL', color: '#7048e8' },
  { kind: 'file-distribution', glyph: 'SFTP', color: '#2b8a3e' },
  { kind: 'file-operation', glyph: 'FILE', color: '#5c940d' },
  { kind: 'http', glyph: 'HTTP', color: '#e8590c' },
  { kind: 'report', glyph: 'XLS', color: '#087f5b' },
  { kind: 'mail', glyph: 'MAIL', color: '#c2255c' },
  { kind: 'call-process', glyph: 'CALL', color: '#495057' },
  { kind: 'approval', glyph: 'OK?', color: '#d9480f', bpmn: 'bpmn:UserTask' },
  { kind: 'timer', glyph: 'clock', color: '#364fc7', bpmn: 'bpmn:IntermediateCatchEvent', event: 'bpmn:TimerEventDefinition' },
]

/** The BPMN-native kinds (not node types of the server). */
export const BPMN_KINDS = NODE_KINDS.filter((k) => k.bpmn)

/** Palette kinds from the server's node types: known glyphs, else the type's initials. */
export function kindsOf(types) {
  const rank = (type) => {
    const i = NODE_KINDS.findIndex((k) => k.kind === type)
    return i < 0 ? NODE_KINDS.length : i
  }
  const sorted = [...types].sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type))
  return sorted.map(({ type, schema }) => {
    const known = NODE_KINDS.find((k) => k.kind === type && !k.bpmn)
    return known ? { ...known, title: schema?.title } : { kind: type, title: schema?.title, glyph: type.replace(/[^a-z]/gi, '').slice(0, 4).toUpperCase() || '?', color: '#495057' }
  })
}

/** A small labelled square for the palette entry. */
export function glyphUrl(k) {
  if (k.glyph === 'clock') {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="30" height="30" viewBox="0 0 30 30"><circle cx="15" cy="15" r="12" fill="#fff" stroke="${k.color}" stroke-width="2"/><circle cx="15" cy="15" r="9" fill="none" stroke="${k.color}" stroke-width="1"/><path d="M15 9 V15 L19 17" fill="none" stroke="${k.color}" stroke-width="2" stroke-linecap="round"/></svg>`
    return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`
  }
  const size = k.glyph.length > 3 ? 9 : 11
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="30" height="30" viewBox="0 0 30 30"><rect x="1" y="4" width="28" height="22" rx="4" fill="#fff" stroke="${k.color}" stroke-width="2"/><text x="15" y="19" font-family="Arial, sans-serif" font-weight="700" font-size="${size}" fill="${k.color}" text-anchor="middle">${k.glyph}</text></svg>`
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`
}

/** The Baton kind of a diagram element (`approval`, `timer`, a node type, or null). */
export function kindOf(element) {
  const bo = element?.businessObject
  if (!bo) return null
  if (bo.$type === 'bpmn:ServiceTask') return bo.get('baton:type') || null
  if (bo.$type === 'bpmn:UserTask') return 'approval'
  if (bo.eventDefinitions?.some((d) => d.$type === 'bpmn:TimerEventDefinition')) return 'timer'
  return null
}

export const EMPTY_DIAGRAM = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:baton="${BATON_NS}"
  id="Definitions_1" targetNamespace="http://baton.dev/processes">
  <bpmn:process id="Process_1" name="" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="152" y="182" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`
