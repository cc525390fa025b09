// Form templates on the client: the widget types (web/src/forms.rs), a
// field's starting value, and the same checks the server makes on submitted
// values (required, type, options, min/max, pattern, maxLength), so a form
// is checked before it is sent.
export const FIELD_TYPES = ['text', 'textarea', 'number', 'radio', 'checkbox', 'select', 'switch', 'date', 'file', 'longtext']
export const CHOICES = ['radio', 'checkbox', 'select']
export const TEXTS = ['text', 'textarea', 'longtext']

/** The value a field starts with: the task's variable, else its default, else empty. */
export function startValue(f, variables) {
  const v = variables?.[f.id] ?? f.default
  if (v !== undefined && v !== null) return JSON.parse(JSON.stringify(v))
  if (f.type === 'checkbox') return []
  if (f.type === 'switch') return false
  if (f.type === 'number') return null
  return ''
}

const empty = (v) => v === null || v === undefined || (typeof v === 'string' && !v.trim()) || (Array.isArray(v) && !v.length)

/** What is wrong with `v` for field `f` (a message), or ''. */
export function fieldProblem(f, v, t) {
  const name = f.label || f.id
  if (empty(v)) return f.required ? t('formCheck.required', { name }) : ''
  if (TEXTS.includes(f.type)) {
    if (f.maxLength != null && [...String(v)].length > f.maxLength) return t('formCheck.maxLength', { name, n: f.maxLength })
    if (f.pattern) {
      let re
      try {
        re = new RegExp(`^(?:${f.pattern})$`, 'u')
      } catch {
        return ''
      }
      if (!re.test(v)) return t('formCheck.pattern', { name })
    }
  }
  if (f.type === 'number') {
    const n = Number(v)
    if (typeof v !== 'number' || Number.isNaN(n)) return t('formCheck.number', { name })
    if (f.min != null && n < f.min) return t('formCheck.min', { name, n: f.min })
    if (f.max != null && n > f.max) return t('formCheck.max', { name, n: f.max })
  }
  if ((f.type === 'radio' || f.type === 'select') && !(f.options || []).some((o) => o.value === v)) return t('formCheck.option', { name })
  return ''
}

/** The values to send: every field's value, empty optional ones left out. */
export function formValues(fields, model) {
  const out = {}
  for (const f of fields) if (!empty(model[f.id])) out[f.id] = model[f.id]
  return out
}

/** The form field a server error names (`body.values.FIELD` → FIELD), else null. */
export function valuesField(e) {
  const m = /^body\.values\.(.+)$/.exec(e?.field || '')
  return m ? m[1] : null
}
