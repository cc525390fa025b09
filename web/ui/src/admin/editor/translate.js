// bpmn-js's own strings (palette, context pad, replace menu) in the UI's
// language: `bpmn` in locales/*.json maps each English template to its text.
import { i18n } from '../../i18n'

function translate(template, replacements = {}) {
  const table = i18n.global.getLocaleMessage(i18n.global.locale.value).bpmn || {}
  const text = table[template] || template
  return text.replace(/{([^}]+)}/g, (_m, k) => replacements[k] ?? `{${k}}`)
}

export default { translate: ['value', translate] }
