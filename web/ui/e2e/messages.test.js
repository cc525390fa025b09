// The UI's shipped messages (src/locales): every one compiles as a vue-i18n
// message (a `{` that is not a placeholder throws when the text is shown, a
// `${x}` loses its `{x}`: write them as literals, {'${x}'}), and zh-CN and en
// have the same keys. `bpmn` is the exception: bpmn-js's English strings
// keyed by themselves, translated for zh-CN only (admin/editor/translate.js).
// No browser or server needed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createI18n } from 'vue-i18n'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'locales')
const LOCALES = ['en', 'zh-CN']
const messages = Object.fromEntries(LOCALES.map((l) => [l, JSON.parse(readFileSync(join(dir, `${l}.json`), 'utf8'))]))

function leaves(o, prefix = '') {
  return Object.entries(o).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k
    return v && typeof v === 'object' ? leaves(v, key) : [[key, v]]
  })
}

test('every shipped message compiles and shows no lost placeholder', () => {
  const problems = []
  for (const locale of LOCALES) {
    const { bpmn, ...rest } = messages[locale]
    const i18n = createI18n({ legacy: false, locale, messages: { [locale]: rest }, missingWarn: false, fallbackWarn: false })
    for (const [key, text] of leaves(rest)) {
      if (typeof text !== 'string') {
        problems.push(`${locale} ${key}: not a string`)
        continue
      }
      try {
        const shown = i18n.global.t(key)
        // `${name}` written plainly shows as `$`: the `{name}` became a placeholder.
        if (text.includes('${') && !shown.includes('${')) problems.push(`${locale} ${key}: \${…} read as a placeholder: ${JSON.stringify(text)}`)
      } catch (e) {
        problems.push(`${locale} ${key}: ${e.message.split('\n')[0]}: ${JSON.stringify(text)}`)
      }
    }
  }
  assert.deepEqual(problems, [])
})

test('zh-CN and en have the same keys', () => {
  const keys = (l) => {
    const { bpmn, ...rest } = messages[l]
    return new Set(leaves(rest).map(([k]) => k))
  }
  const [en, zh] = [keys('en'), keys('zh-CN')]
  assert.deepEqual([...en].filter((k) => !zh.has(k)), [], 'in en, not in zh-CN')
  assert.deepEqual([...zh].filter((k) => !en.has(k)), [], 'in zh-CN, not in en')
})
