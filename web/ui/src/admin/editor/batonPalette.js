// A bpmn-js module: the palette's Baton section. Each entry creates a BPMN
// element the engine runs as that node (`<serviceTask baton:type="…">`, a user
// task for approvals, a timer catch event); drag it or click then place it.
// The service-task entries are the server's node types (GET /node-types,
// given through `setTypes`); until they come, the built-in list stands.
import { NODE_KINDS, BPMN_KINDS, kindsOf, glyphUrl } from './nodeKinds'
import { t, i18n } from '../../i18n'

function BatonPalette(palette, create, elementFactory, bpmnFactory) {
  this.palette = palette
  this.create = create
  this.elementFactory = elementFactory
  this.bpmnFactory = bpmnFactory
  this.kinds = NODE_KINDS
  palette.registerProvider(this)
}
BatonPalette.$inject = ['palette', 'create', 'elementFactory', 'bpmnFactory']

/** The server's node types ([{type, schema}]) become the palette's service tasks. */
BatonPalette.prototype.setTypes = function (types) {
  this.kinds = [...kindsOf(types), ...BPMN_KINDS]
  this.palette._rebuild()
}

// A server node type's name comes with its schema, in the UI's language;
// the built-in list (before the types come) and approval / timer use ours.
function label(k) {
  if (k.title) return k.title
  return i18n.global.te(`nodes.${k.kind}`) ? t(`nodes.${k.kind}`) : k.kind
}

BatonPalette.prototype.shape = function (k) {
  const name = label(k)
  if (k.event) {
    return this.elementFactory.createShape({ type: k.bpmn, eventDefinitionType: k.event })
  }
  const bo = this.bpmnFactory.create(k.bpmn || 'bpmn:ServiceTask', { name })
  if (!k.bpmn) bo.set('baton:type', k.kind)
  return this.elementFactory.createShape({ type: bo.$type, businessObject: bo })
}

BatonPalette.prototype.getPaletteEntries = function () {
  const entries = {}
  for (const k of this.kinds) {
    const start = (event) => this.create.start(event, this.shape(k))
    entries[`baton-${k.kind}`] = {
      group: 'baton',
      title: label(k),
      imageUrl: glyphUrl(k),
      action: { dragstart: start, click: start },
    }
  }
  return entries
}

export default {
  __init__: ['batonPalette'],
  batonPalette: ['type', BatonPalette],
}
