// The form designer and file fields end to end, in a real Chromium against a
// real `baton serve` (temporary SQLite store): a form is built by dragging
// widgets from the widget list onto the form at a place, its fields are
// reordered by dragging, it is saved; a process whose approval names it is
// deployed through the API; on the phone (375×812) the task refuses to be
// approved without its required file, a real file is picked (uploaded at
// once, name and size shown), removed, picked again and the task approved;
// the process variable is the uploaded file's reference and its download
// gives the file's bytes back. Then the same form completed in the desktop
// task dialog. Screenshots go to e2e/artifacts/.
//
//   cd web/ui && node --test e2e/forms.test.js   (after cargo build -p baton)
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NEW_PASSWORD, artifacts, artifactsDir, closeBrowsers, launch, ok, signInFirstAdmin, skip, startServer, step } from './harness.js'

const FORM_KEY = 'e2e-evidence'
const PROCESS = 'e2e_evidence'

let srv
let page
let files
let formId

before(async () => {
  if (skip) return
  artifactsDir()
  files = mkdtempSync(join(tmpdir(), 'baton-e2e-files-'))
  srv = await startServer()
  const desktop = await launch({ viewport: { width: 1440, height: 900 }, locale: 'en-US' })
  page = desktop.pages()[0] || (await desktop.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
  await signInFirstAdmin(page, srv)
})

after(async () => {
  await closeBrowsers()
  if (srv) await srv.stop()
  if (files) rmSync(files, { recursive: true, force: true })
})

/** The fields on the designer's canvas, top to bottom, as `id · type`. */
async function canvas() {
  return page.locator('[data-test="form-fields"] [data-test^="field-"] .f-meta').allInnerTexts()
}

/** Drags `source` onto `target` at `y` (a fraction of the target's height; default the middle). */
async function dragTo(source, target, y = 0.5) {
  const box = await page.locator(target).boundingBox()
  assert.ok(box, `${target} is on the page`)
  await page.dragAndDrop(source, target, { targetPosition: { x: Math.min(40, box.width / 2), y: Math.max(2, Math.min(box.height - 2, box.height * y)) } })
}

/** A real file on disk; its path. */
function realFile(name, bytes) {
  const path = join(files, name)
  writeFileSync(path, bytes)
  return path
}

const sha = (b) => createHash('sha256').update(b).digest('hex')

/** The file behind a download route, fetched by the signed-in page: its SHA-256 and size. */
async function downloaded(p, path) {
  return p.evaluate(async (path) => {
    const r = await fetch(`/api/v1${path}`)
    const b = new Uint8Array(await r.arrayBuffer())
    const d = await crypto.subtle.digest('SHA-256', b)
    return { status: r.status, size: b.length, sha: [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, '0')).join('') }
  }, path)
}

step('a form is built by dragging widgets and reordered by dragging', async () => {
  await page.goto(`${srv.base}/forms/new`)
  await page.locator('[data-test="drop-empty"]').waitFor()
  await page.fill('input[data-test="form-key"]', FORM_KEY)
  await page.fill('input[data-test="form-name"]', 'Change evidence')

  // A text widget dropped on the empty form, a file widget dropped above it,
  // a number widget dropped below the last field.
  await dragTo('[data-test="add-text"]', '[data-test="drop-empty"]')
  assert.deepEqual(await canvas(), ['field1 · Text'])
  await dragTo('[data-test="add-file"]', '[data-test="field-0"]', 0.1)
  assert.deepEqual(await canvas(), ['field2 · File', 'field1 · Text'])
  const last = await page.locator('[data-test="field-1"]').boundingBox()
  const area = await page.locator('[data-test="form-fields"]').boundingBox()
  await page.dragAndDrop('[data-test="add-number"]', '[data-test="form-fields"]', {
    targetPosition: { x: 60, y: last.y + last.height + 12 - area.y },
  })
  assert.deepEqual(await canvas(), ['field2 · File', 'field1 · Text', 'field3 · Number'])

  // Reorder by dragging: the number to the top, then the text to the bottom.
  await dragTo('[data-test="field-2"]', '[data-test="field-0"]', 0.2)
  assert.deepEqual(await canvas(), ['field3 · Number', 'field2 · File', 'field1 · Text'])
  // The marker shows where a drop lands while dragging (mouse down, move, up).
  const from = await page.locator('[data-test="field-0"]').boundingBox()
  const to = await page.locator('[data-test="field-2"]').boundingBox()
  await page.mouse.move(from.x + 40, from.y + from.height / 2)
  await page.mouse.down()
  await page.mouse.move(to.x + 40, to.y + to.height - 4, { steps: 8 })
  // The first moves start the drag; the ones after it are the drag-overs.
  await page.mouse.move(to.x + 42, to.y + to.height - 5, { steps: 3 })
  await page.locator('[data-test="drop-line"]').waitFor()
  assert.equal(await page.locator('[data-test="field-0"].lifted').count(), 1, 'the dragged field is shown lifted')
  await page.screenshot({ path: join(artifacts, 'forms-dragging.png') })
  await page.mouse.up()
  assert.deepEqual(await canvas(), ['field2 · File', 'field1 · Text', 'field3 · Number'])
  // The arrow buttons still move a field (the keyboard's way).
  await page.locator('[data-test="field-2"] [aria-label="Move up"]').click()
  assert.deepEqual(await canvas(), ['field2 · File', 'field3 · Number', 'field1 · Text'])

  // Name the fields; the file is required.
  const name = async (i, id, label) => {
    await page.click(`[data-test="field-${i}"] .f-main`)
    await page.fill('input[data-test="field-id"]', id)
    await page.fill('input[data-test="field-label"]', label)
  }
  await name(0, 'evidence', 'Evidence')
  await page.click('[data-test="field-required"]')
  await name(1, 'count', 'Servers')
  await name(2, 'note', 'Note')
  await page.screenshot({ path: join(artifacts, 'forms-designer.png') })
  await page.click('[data-test="form-save"]')
  await page.waitForURL(/\/forms\/[0-9a-f-]{36}$/)
  formId = page.url().split('/').pop()

  const saved = await ok(page, 'GET', `/forms/${formId}`)
  assert.deepEqual(
    saved.fields.map((f) => [f.id, f.type, f.required]),
    [['evidence', 'file', true], ['count', 'number', false], ['note', 'text', false]],
  )
  // The designer's preview shows the file widget, not sending anything.
  await page.click('[data-test="mode-preview"]')
  await page.locator('[data-test="form-preview"] [data-test="file-choose"]').waitFor()
})

step('the task is completed on the phone with an uploaded file', async () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="e2e">
  <process id="${PROCESS}" name="E2E evidence" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="attach"/>
    <userTask id="attach" name="Attach the evidence" baton:assignee="admin" baton:formKey="${FORM_KEY}"/>
    <sequenceFlow id="f2" sourceRef="attach" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>`
  await ok(page, 'POST', '/processes', { xml })
  const started = await ok(page, 'POST', '/instances', { process: PROCESS })

  const first = Buffer.from('a first try that is removed again\n')
  const content = Buffer.concat([Buffer.from('%PDF-1.4 evidence of change 42\n'), Buffer.alloc(150_000, 0x5a)])
  const wrong = realFile('wrong.txt', first)
  const evidence = realFile('evidence-42.pdf', content)

  const phone = await launch({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'en-US' })
  const m = phone.pages()[0] || (await phone.newPage())
  m.on('pageerror', (e) => console.error('mobile page error:', e.message))
  await m.goto(`${srv.base}/m/`)
  await m.waitForURL(/\/m\/login/)
  await m.fill('input[name="username"]', 'admin')
  await m.fill('input[name="password"]', NEW_PASSWORD)
  await m.click('[data-test="m-login-submit"]')
  await m.locator('[data-test="m-task"]', { hasText: 'Attach the evidence' }).click()
  const field = m.locator('[data-field="evidence"]')
  await field.locator('[data-test="m-file-choose"]').waitFor()

  // Without the required file: refused before sending, the field says why.
  await m.click('[data-test="m-approve"]')
  await field.getByText('Evidence is required').waitFor()

  // Picked: uploaded at once, name and size shown; removable; picked again.
  await field.locator('input[type="file"]').setInputFiles(wrong)
  await field.locator('[data-test="m-file-chosen"]', { hasText: 'wrong.txt' }).waitFor()
  await field.locator('[data-test="m-file-remove"]').click()
  await field.locator('[data-test="m-file-choose"]').waitFor()
  await field.locator('input[type="file"]').setInputFiles(evidence)
  const chosen = field.locator('[data-test="m-file-chosen"]')
  await chosen.waitFor()
  assert.match(await chosen.innerText(), /evidence-42\.pdf[\s\S]*147 KB/)
  const width = await m.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 375, `no horizontal scrolling (${width} px)`)
  await m.fill('[data-field="note"] input', 'see the attached report')
  await m.screenshot({ path: join(artifacts, 'forms-mobile-file.png'), fullPage: true })
  await m.click('[data-test="m-approve"]')
  await m.waitForURL(/\/m\/?$/)

  // The variable is the upload's reference; the download is the file.
  const done = await ok(page, 'GET', `/instances/${started.id}`)
  assert.equal(done.status, 'completed')
  const ref = done.variables.evidence
  assert.deepEqual(Object.keys(ref).sort(), ['id', 'name', 'size'])
  assert.equal(ref.name, 'evidence-42.pdf')
  assert.equal(ref.size, content.length)
  assert.equal(done.variables.note, 'see the attached report')
  const got = await downloaded(page, `/instances/${started.id}/files/${ref.id}`)
  assert.deepEqual(got, { status: 200, size: content.length, sha: sha(content) })
  // Only the file the form kept was kept: the removed one is gone.
  const tasks = await ok(page, 'GET', '/tasks?view=done')
  const task = tasks.items.find((x) => x.instanceId === started.id)
  assert.ok(task, 'the completed task is in the done list')
  assert.deepEqual(task.values.evidence, ref)
  await phone.close()
})

step('the same form is completed in the desktop task dialog', async () => {
  const started = await ok(page, 'POST', '/instances', { process: PROCESS })
  const content = Buffer.from('servers: web-1, web-2\n'.repeat(40))
  await page.goto(`${srv.base}/tasks`)
  await page.locator('[data-test="tasks"] .el-table__row', { hasText: 'Attach the evidence' }).first().click()
  const form = page.locator('[data-test="task-form"]')
  await form.locator('[data-test="file-choose"]').waitFor()
  await form.locator('[data-field="evidence"] input[type="file"]').setInputFiles(realFile('servers.txt', content))
  await form.locator('[data-test="file-chosen"]', { hasText: 'servers.txt' }).waitFor()
  assert.match(await form.locator('[data-test="file-chosen"]').innerText(), /880 B/)
  // The dialog has finished fading in before the picture.
  await page.locator('.el-overlay-dialog').evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)))
  await page.screenshot({ path: join(artifacts, 'forms-task-dialog.png') })
  await page.click('[data-test="complete"]')
  await page.locator('.el-message--success').first().waitFor()
  const done = await ok(page, 'GET', `/instances/${started.id}`)
  assert.equal(done.status, 'completed')
  assert.equal(done.variables.evidence.name, 'servers.txt')
  assert.equal(done.variables.evidence.size, content.length)
  const tasks = await ok(page, 'GET', '/tasks?view=done')
  const task = tasks.items.find((x) => x.instanceId === started.id)
  const got = await downloaded(page, `/tasks/${encodeURIComponent(task.id)}/files/${done.variables.evidence.id}`)
  assert.deepEqual(got, { status: 200, size: content.length, sha: sha(content) })

  // The done task's dialog links the file it was completed with.
  await page.locator('[data-test="task-form"]').waitFor({ state: 'detached' })
  await page.locator('#tab-done').click()
  await page.locator('[data-test="tasks"] .el-table__row', { hasText: 'Attach the evidence' }).first().click()
  const link = page.locator('[data-test="task-file-link"]', { hasText: 'servers.txt' })
  await link.waitFor()
  const href = await link.getAttribute('href')
  assert.deepEqual(await downloaded(page, href.replace(/^\/api\/v1/, '')), got)
})
