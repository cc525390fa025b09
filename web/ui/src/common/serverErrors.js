// The server's answer to a form: a field error goes next to its field
// (`<el-form-item :error="errors.fields.password">`), anything else above the form.
import { reactive } from 'vue'
import { ApiError } from '../api'
import { errorText } from './format'

export function useServerErrors(t) {
  const errors = reactive({ fields: {}, general: '' })
  return {
    errors,
    clear() {
      errors.fields = {}
      errors.general = ''
    },
    /** Show `e` on the form; `known` lists the form's fields (others go to `general`). */
    apply(e, known = []) {
      const f = e instanceof ApiError ? e.formField : null
      if (f && known.includes(f)) errors.fields = { [f]: e.message }
      else errors.general = errorText(e, t)
    },
  }
}
