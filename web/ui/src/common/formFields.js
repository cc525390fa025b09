// Form templates on the client: the widget types (web/src/forms.rs), a
// field's starting value, and the same checks the server makes on submitted
// values (required, type, options, min/max, pattern, maxLength), so a form
// is checked before it is sent.
export const FIELD_TYPES = ['text', 'textarea', 'number', 'radio', 'checkbox', 'select', 'switch', 'date', 'file', 'longtext']
export const CHOICES = ['radio', 'checkbox', 'select']
export const TEXTS = ['text', 'textarea', 'longtext']
/** The largest file a `file` field takes (web/src/routes/task_files.rs MAX_FILE_BYTES). */
export const MAX_FILE_BYTES = 20 * 1024 * 1024

/** A size in bytes for people: 512 B, 1.5 KB, 20 MB. */
export function sizeText(n) {
  if (n == null || Number.isNaN(Number(n))) return ''
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`
}

/** The value a field starts with: the task's variable, else its default, else
 * empty. A `file` field starts empty: its value must be a file uploaded for
 * this very task. */
export function startValue(f, variables) {
  if (f.type === 'file') return null
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
