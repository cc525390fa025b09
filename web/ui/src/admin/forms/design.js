// The form designer's model: a new field of a widget type, the checks a
// saved form must pass (as web/src/forms.rs `check_fields`), and the field
// as the API takes it (empty settings left out).
import { CHOICES, TEXTS } from '../../common/formFields'

export function newField(type, taken, t) {
  let n = 1
  while (taken.includes(`field${n}`)) n++
  const f = { id: `field${n}`, label: t(`formTypes.${type}`), type, required: false, options: [], default: null, min: null, max: null, pattern: '', maxLength: null }
  if (CHOICES.includes(type)) f.options = [{ value: 'yes', label: t('forms.optionYes') }, { value: 'no', label: t('forms.optionNo') }]
  return f
}

const VAR = /^[\p{L}_][\p{L}\p{N}_]*$/u

/** Problems of the form: [{index (or null for the form), prop, message}]. */
export function designProblems(form, t) {
  const out = []
  if (!form.key.trim() || /\s/.test(form.key)) out.push({ index: null, prop: 'key', message: t('forms.badKey') })
  const seen = new Set()
  form.fields.forEach((f, i) => {
    const at = (prop, message) => out.push({ index: i, prop, message })
    if (!VAR.test(f.id)) at('id', t('forms.badId', { id: f.id }))
    else if (seen.has(f.id)) at('id', t('forms.dupId', { id: f.id }))
    seen.add(f.id)
    if (!f.label.trim()) at('label', t('forms.needLabel'))
    if (CHOICES.includes(f.type)) {
      if (!f.options.length) at('options', t('forms.needOptions'))
      const vals = new Set()
      for (const o of f.options) {
        if (!o.value) at('options', t('forms.optionNeedsValue'))
        else if (vals.has(o.value)) at('options', t('forms.dupOption', { value: o.value }))
        vals.add(o.value)
      }
    }
    if (f.type === 'number' && f.min != null && f.max != null && f.min > f.max) at('max', t('forms.maxBelowMin'))
    if (TEXTS.includes(f.type) && f.pattern) {
      try {
        new RegExp(f.pattern, 'u')
      } catch {
        at('pattern', t('forms.badPattern'))
      }
    }
  })
  return out
}

const present = (v) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && !v.length)

/** A field as the API takes it. */
export function apiField(f) {
  const out = { id: f.id.trim(), label: f.label.trim(), type: f.type, required: !!f.required }
  if (CHOICES.includes(f.type)) out.options = f.options.map((o) => ({ value: o.value, label: o.label || o.value }))
  if (present(f.default)) out.default = f.default
  if (f.type === 'number') {
    if (present(f.min)) out.min = f.min
    if (present(f.max)) out.max = f.max
  }
  if (TEXTS.includes(f.type)) {
    if (present(f.pattern)) out.pattern = f.pattern
    if (present(f.maxLength)) out.maxLength = f.maxLength
  }
  return out
}

/** A stored field, ready to edit. */
export function editField(f) {
  return { options: [], default: null, min: null, max: null, pattern: '', maxLength: null, required: false, ...JSON.parse(JSON.stringify(f)) }
}

/** Where a server fault points (`body.fields[2].options` → {index: 2, prop: 'options'}). */
export function faultPlace(field) {
  const m = /^body\.fields\[(\d+)\](?:\.(\w+))?/.exec(field || '')
  if (m) return { index: Number(m[1]), prop: m[2] || null }
  if (field === 'body.key') return { index: null, prop: 'key' }
  return null
}
