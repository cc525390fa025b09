// The form of a task: the detail's own `form` when the server sends it, else
// the stored form its `formKey` names (GET /forms, which needs forms view).
// Null: no form (or none the caller may read): the generic values then.
import { api } from '../../api'
import { can } from '../../session'

export async function loadTaskForm(task) {
  if (task.form?.fields) return task.form.fields
  if (!task.formKey || !can('forms')) return null
  try {
    return (await api.formByKey(task.formKey))?.fields || null
  } catch {
    return null
  }
}
