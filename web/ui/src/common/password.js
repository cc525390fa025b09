// The server's password policy, checked before sending (the server checks again):
// 10 characters or more, of at least two kinds.
export function passwordProblem(p) {
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((r) => r.test(p)).length
  return [...p].length < 10 || kinds < 2
}

export function passwordRules(t, form) {
  return {
    current: [{ required: true, message: () => t('password.currentRequired'), trigger: 'blur' }],
    password: [
      {
        validator: (_r, v, cb) => (passwordProblem(v || '') ? cb(new Error(t('password.policy'))) : cb()),
        trigger: 'blur',
      },
    ],
    repeat: [
      {
        validator: (_r, v, cb) => (v !== form.password ? cb(new Error(t('password.mismatch'))) : cb()),
        trigger: 'blur',
      },
    ],
  }
}
