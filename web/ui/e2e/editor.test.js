// The editor in a real Chromium against a real `baton serve`: node types,
// property titles and descriptions in the UI's language (served by the API
// in the language asked for); the company's language overrides laid over the
// UI's own messages (desktop after sign-in, the mobile page for a user
// without the languages permission, a language the company added); and files
// from Camunda Modeler 7 and Flowable opened through the editor's file
// chooser, drawn, deployed from the editor and run to the end through the API.
// Screenshots go to e2e/artifacts/.
//
//   cd web/ui && node --test e2e/editor.test.js   (after cargo build -p baton)
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import {
  NEW_PASSWORD, artifacts, artifactsDir, centre, closeBrowsers, launch, ok, select, selectedId, setProperty,
  signInFirstAdmin, skip, startServer, step,
} from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const REPO = join(here, '..', '..', '..')
// A Camunda Modeler export from SpiffWorkflow's test models (shared corpus):
// user tasks with camunda:formKey and camunda:formData, a parallel split and join.
const CAMUNDA = join(REPO, '..', 'shared', 'corpus', 'bpmn', 'SpiffWorkflow', 'tests', 'SpiffWorkflow', 'bpmn', 'data', 'Test-Workflows', 'Parallel.camunda.bpmn20.xml')
// Flowable's getting-started process (the engine's vendor fixtures): no
// diagram, flows without ids, flowable:candidateGroups / assignee, an
// exclusive gateway, and two Java-delegate service tasks Baton cannot run.
const FLOWABLE = join(REPO, 'engine', 'model', 'tests', 'fixtures', 'vendor', 'flowable-holiday-request.bpmn20.xml')

let srv
let page

before(async () => {
  if (skip) return
  for (const f of [CAMUNDA, FLOWABLE]) assert.ok(existsSync(f), `${f} exists`)
  artifactsDir()
  srv = await startServer()
  const browser = await launch({ viewport: { width: 1440, height: 900 }, locale: 'en-US' })
  page = browser.pages()[0] || (await browser.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
  await signInFirstAdmin(page, srv)
})

after(async () => {
  await closeBrowsers()
  if (srv) await srv.stop()
})

async function chooseLocale(p, label) {
  await p.click('[data-test="locale"]')
  await p.getByRole('option', { name: label, exact: true }).click()
}

/** Opens `file` through the editor's "Open file" button and the browser's file chooser. */
async function openFile(p, file) {
  const [chooser] = await Promise.all([p.waitForEvent('filechooser'), p.click('[data-test="open-file"]')])
  await chooser.setFiles(file)
}

/** Drags a palette entry onto the canvas at `to`; the new element's id. */
async function dragFromPalette(p, action, to) {
  const entry = await p.locator(`.djs-palette .entry[data-action="${action}"]`).boundingBox()
  await p.mouse.move(entry.x + entry.width / 2, entry.y + entry.height / 2)
  await p.mouse.down()
  await p.mouse.move(entry.x + entry.width / 2 + 6, entry.y + entry.height / 2 + 6, { steps: 3 })
  await p.mouse.move(to.x - 40, to.y + 10, { steps: 8 })
  await p.mouse.move(to.x, to.y, { steps: 8 })
  await p.mouse.up()
  const id = await selectedId(p)
  assert.ok(id, 'the new element is selected')
  return id
}

const field = (p, prop) => p.locator(`[data-test="properties"] [data-prop="${prop}"]`)
const labelOf = async (p, prop) => (await field(p, prop).locator('.el-form-item__label').innerText()).replace(/\s+/g, ' ').trim()

/** Polls `fn` until it returns something truthy (20 s). */
async function until(fn, what) {
  const deadline = Date.now() + 20_000
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** The open tasks of `instance` (as the admin sees them). */
async function openTasks(instance) {
  const r = await ok(page, 'GET', '/tasks?view=all&limit=500')
  return r.items.filter((x) => x.instanceId === instance && x.state === 'open')
}

async function complete(instance, element, values = {}) {
  const task = await until(async () => (await openTasks(instance)).find((x) => x.elementId === element), `task ${element}`)
  await ok(page, 'POST', `/tasks/${encodeURIComponent(task.id)}/complete`, { values })
}

async function finished(instance) {
  return until(async () => {
    const d = await ok(page, 'GET', `/instances/${encodeURIComponent(instance)}`)
    if (d.status === 'failed' || d.incidents?.length) throw new Error(`instance ${instance}: ${JSON.stringify(d.incidents)}`)
    return d.status === 'completed' && d
  }, `instance ${instance} to complete`)
}

step('node types, property titles and descriptions follow the UI language', async () => {
  await page.goto(`${srv.base}/editor`)
  await page.locator('.djs-palette .entry[data-action="baton-remote-command"]').waitFor()
  await chooseLocale(page, '简体中文')
  // The palette's entries are the server's node types, named in Chinese.
  await page.locator('.djs-palette .entry[data-action="baton-remote-command"][aria-label="远程命令"]').waitFor()
  assert.equal(await page.locator('.djs-palette .entry[data-action="baton-sql"]').getAttribute('aria-label'), 'SQL')
  assert.equal(await page.locator('.djs-palette .entry[data-action="baton-mail"]').getAttribute('aria-label'), '发送邮件')

  const start = await centre(page, 'StartEvent_1')
  const task = await dragFromPalette(page, 'baton-remote-command', { x: start.x + 200, y: start.y })
  await page.locator('[data-test="properties"] .type', { hasText: '远程命令' }).waitFor()
  assert.equal(await labelOf(page, 'command'), '命令')
  assert.equal(await labelOf(page, 'terminal'), '终端机')
  assert.equal(await labelOf(page, 'timeout'), '超时（秒）')
  // In the schema's order: the required terminal first, the common properties last.
  const order = await page.locator('[data-test="properties"] .el-form-item[data-prop]').evaluateAll((els) => els.map((e) => e.dataset.prop))
  assert.deepEqual(order.slice(0, 6), ['id', 'name', 'terminal', 'terminalAccount', 'connectionType', 'command'])
  assert.deepEqual(order.slice(-4), ['timeout', 'resultVariable', 'inCloud', 'host'])
  const help = await field(page, 'command').locator('[data-test="prop-help"]').innerText()
  assert.match(help, /登录 shell/)
  // `…` in a description is shown as code, not as backquotes.
  assert.equal(await field(page, 'command').locator('[data-test="prop-help"] code').first().innerText(), '${}')
  assert.ok(!help.includes('`'), help)
  await setProperty(page, 'command', 'uptime')
  await page.screenshot({ path: join(artifacts, 'editor-zh-properties.png') })

  // Back to English without a reload: the schemas come again in English.
  await chooseLocale(page, 'English')
  await page.locator('[data-test="properties"] .type', { hasText: 'Remote command' }).waitFor()
  await until(async () => (await labelOf(page, 'command')) === 'Command', 'the English title')
  assert.match(await field(page, 'command').locator('[data-test="prop-help"]').innerText(), /login shell/)
  assert.equal(await field(page, 'command').locator('textarea, input').first().inputValue(), 'uptime')
  assert.equal(await selectedId(page), task)
})

step('the company’s language overrides change the UI’s own text', async () => {
  await ok(page, 'PUT', '/languages/en', {
    messages: {
      'menu.monitor': 'Watchtower',
      'editor.deploy': 'Ship it',
      // Not a valid message: ignored, the shipped text stays.
      'editor.openFile': 'Open {file',
      // A group, not a message: ignored.
      menu: 'flat',
      'mobile.tasks': 'My queue @ ops | all',
    },
  })
  await ok(page, 'PUT', '/languages/zh-CN', { messages: { 'menu.monitor': '监控台' } })
  await ok(page, 'POST', '/languages', { code: 'fr', name: 'Français', messages: { 'menu.monitor': 'Surveillance' } })

  await page.reload()
  await page.locator('[data-test="menu-monitor"]', { hasText: 'Watchtower' }).waitFor()
  assert.equal((await page.locator('[data-test="deploy"]').innerText()).trim(), 'Ship it')
  assert.equal((await page.locator('[data-test="open-file"]').innerText()).trim(), 'Open file')
  // The other menu entries are untouched.
  assert.match(await page.locator('[data-test="menu-editor"]').innerText(), /\S/)

  await chooseLocale(page, '简体中文')
  await page.locator('[data-test="menu-monitor"]', { hasText: '监控台' }).waitFor()
  assert.equal((await page.locator('[data-test="deploy"]').innerText()).trim(), '部署')

  // The language the company added is offered: its overrides over the
  // company's English (overrides included), then the shipped English.
  await chooseLocale(page, 'Français')
  await page.locator('[data-test="menu-monitor"]', { hasText: 'Surveillance' }).waitFor()
  assert.equal((await page.locator('[data-test="deploy"]').innerText()).trim(), 'Ship it')
  assert.equal((await page.locator('[data-test="export"]').innerText()).trim(), 'Save as .bpmn')
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fr')
  await page.reload()
  await page.locator('[data-test="menu-monitor"]', { hasText: 'Surveillance' }).waitFor()

  // Disabled: no longer offered, and the page falls back to an enabled one.
  await ok(page, 'PUT', '/languages/fr', { enabled: false, messages: { 'menu.monitor': 'Surveillance' } })
  await page.reload()
  await page.locator('[data-test="menu-monitor"]', { hasText: /Watchtower|监控台/ }).waitFor()
  await page.click('[data-test="locale"]')
  assert.equal(await page.getByRole('option', { name: 'Français' }).count(), 0)
  await page.getByRole('option', { name: 'English', exact: true }).click()
  await page.locator('[data-test="menu-monitor"]', { hasText: 'Watchtower' }).waitFor()

  // A user without the languages permission, on the mobile page, gets them too.
  const user = await ok(page, 'POST', '/users', { username: 'clerk', name: 'Clerk', password: 'First-password-1' })
  await ok(page, 'POST', '/groups', { name: 'E2E clerks', permissions: { tasks: 'manage' }, members: [user.id] })
  const phone = await launch({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'en-US' })
  const m = phone.pages()[0] || (await phone.newPage())
  m.on('pageerror', (e) => console.error('mobile page error:', e.message))
  await m.goto(`${srv.base}/m/`)
  await m.waitForURL(/\/m\/login/)
  await m.fill('input[name="username"]', 'clerk')
  await m.fill('input[name="password"]', 'First-password-1')
  await m.click('[data-test="m-login-submit"]')
  await m.waitForURL(/\/m\/password/)
  const pw = m.locator('input[type="password"]')
  await pw.nth(0).fill('First-password-1')
  await pw.nth(1).fill(NEW_PASSWORD)
  await pw.nth(2).fill(NEW_PASSWORD)
  await m.click('button[type="submit"]')
  await m.waitForURL(/\/m\/?$/)
  await m.locator('.van-nav-bar__title', { hasText: 'My queue @ ops | all' }).waitFor()
  await m.screenshot({ path: join(artifacts, 'mobile-overrides.png') })
  await phone.close()
})

step('a Camunda Modeler file opens in the editor, deploys from it and runs to the end', async () => {
  await page.goto(`${srv.base}/editor`)
  await page.locator('.djs-palette .entry[data-action="baton-local-command"]').waitFor()
  await openFile(page, CAMUNDA)
  for (const id of ['StartEvent_1', 'Task_0rpy9wa', 'ExclusiveGateway_1wcqtl6', 'Task_0ubymyg', 'Task_1gd4zvp', 'Task_0anfkt0', 'ExclusiveGateway_0e4eseh', 'Task_1liod5x', 'EndEvent_03j72ek']) {
    await page.locator(`.djs-element.djs-shape[data-element-id="${id}"]`).waitFor()
  }
  assert.equal(await page.locator('.djs-element.djs-connection').count(), 10)
  await page.mouse.click(20 + (await page.locator('[data-test="canvas"]').boundingBox()).x, 700)
  assert.equal(await field(page, 'id').locator('input').inputValue(), 'Process_1hb021r')

  // The panel reads Camunda's attributes: the form key is camunda:formKey.
  await select(page, 'Task_0rpy9wa')
  assert.equal(await field(page, 'formKey').locator('input').inputValue(), 'form_first')
  // Edited where it was read: camunda:formKey changes, no baton:formKey appears.
  await field(page, 'formKey').locator('input').fill('form_start')
  await field(page, 'formKey').locator('input').press('Tab')
  await page.screenshot({ path: join(artifacts, 'editor-camunda.png') })

  await page.click('[data-test="deploy"]')
  await page.locator('[data-test="deployed-version"]', { hasText: 'Process_1hb021r v1' }).waitFor()
  const { xml } = await ok(page, 'GET', '/processes/Process_1hb021r/versions/1')
  assert.match(xml, /xmlns:camunda="http:\/\/camunda\.org\/schema\/1\.0\/bpmn"/)
  assert.match(xml, /camunda:formKey="form_start"/)
  assert.match(xml, /<camunda:formField id="FormField_07flg8u" type="string"/)
  assert.ok(!xml.includes('baton:formKey'), 'no second form key')

  const started = await ok(page, 'POST', '/instances', { process: 'Process_1hb021r' })
  await complete(started.id, 'Task_0rpy9wa')
  // The parallel split: three tasks at once, then the join lets the last one through.
  const three = await until(async () => {
    const open = await openTasks(started.id)
    return open.length === 3 && open
  }, 'the three parallel tasks')
  assert.deepEqual(three.map((x) => x.elementId).sort(), ['Task_0anfkt0', 'Task_0ubymyg', 'Task_1gd4zvp'])
  assert.equal(three.find((x) => x.elementId === 'Task_0ubymyg').formKey, 'form_a')
  for (const t of three) await complete(started.id, t.elementId)
  await complete(started.id, 'Task_1liod5x')
  const done = await finished(started.id)
  const passed = done.history.map((h) => h.elementId)
  assert.ok(passed.includes('EndEvent_03j72ek'), JSON.stringify(passed))
})

step('a Flowable file without a diagram opens laid out, its Java tasks become Baton nodes, and it runs', async () => {
  await openFile(page, FLOWABLE)
  const ids = ['startEvent', 'approveTask', 'decision', 'externalSystemCall', 'holidayApprovedTask', 'sendRejectionMail', 'approveEnd', 'rejectEnd']
  for (const id of ids) await page.locator(`.djs-element.djs-shape[data-element-id="${id}"]`).waitFor()
  assert.equal(await page.locator('.djs-element.djs-connection').count(), 7)
  await page.locator('.el-message', { hasText: 'laid out automatically' }).waitFor()
  // Laid out left to right, not stacked on one spot.
  const a = await centre(page, 'startEvent')
  const b = await centre(page, 'holidayApprovedTask')
  assert.ok(b.x - a.x > 300, `laid out (${a.x} → ${b.x})`)

  // The engine refuses the Java delegates, naming them on the diagram.
  await page.click('[data-test="deploy"]')
  await page.locator('[data-test="diagnostics"]').waitFor()
  for (const id of ['externalSystemCall', 'sendRejectionMail']) {
    await page.locator(`.djs-element[data-element-id="${id}"].has-error`).waitFor()
  }

  // The panel shows what Flowable wrote and offers Baton's node types instead.
  for (const [id, cmd] of [['externalSystemCall', 'echo booked ${employee}'], ['sendRejectionMail', 'echo rejected ${employee}']]) {
    await select(page, id)
    const flowable = page.locator('[data-test="properties"] [data-test="vendor-attr"]', { hasText: 'flowable:class' })
    await flowable.waitFor()
    assert.match(await page.locator('[data-test="properties"]').innerText(), /From Flowable/)
    await page.click('[data-test="properties"] [data-test="node-type"]')
    await page.getByRole('option', { name: 'Local command', exact: true }).click()
    await page.locator('[data-test="properties"] .el-tag', { hasText: 'local-command' }).waitFor()
    assert.equal(await flowable.count(), 0, 'the Java class is replaced')
    // The engine's complaint about it no longer holds.
    assert.equal(await page.locator(`.djs-element[data-element-id="${id}"].has-error`).count(), 0)
    await setProperty(page, 'command', cmd)
  }
  await select(page, 'approveTask')
  assert.equal(await field(page, 'candidateGroups').locator('input').inputValue(), 'managers')
  await select(page, 'holidayApprovedTask')
  assert.equal(await field(page, 'assignee').locator('input').inputValue(), '${employee}')
  await page.screenshot({ path: join(artifacts, 'editor-flowable.png') })

  // The version deployed last is another file's.
  assert.equal(await page.locator('[data-test="deployed-version"]').count(), 0)
  await page.click('[data-test="deploy"]')
  await page.locator('[data-test="deployed-version"]', { hasText: 'holidayRequest v1' }).waitFor()
  assert.equal(await page.locator('[data-test="diagnostics"]').count(), 0)
  const { xml } = await ok(page, 'GET', '/processes/holidayRequest/versions/1')
  assert.match(xml, /xmlns:flowable="http:\/\/flowable\.org\/bpmn"/)
  assert.match(xml, /flowable:candidateGroups="managers"/)
  assert.match(xml, /flowable:assignee="\$\{employee\}"/)
  assert.ok(!xml.includes('flowable:class'), 'the Java classes are gone')
  assert.match(xml, /BPMNShape/)

  // Approved: the booking node runs, the employee's task comes, then the end.
  const yes = await ok(page, 'POST', '/instances', { process: 'holidayRequest', variables: { employee: 'admin', nrOfHolidays: 3 } })
  await complete(yes.id, 'approveTask', { approved: true })
  await complete(yes.id, 'holidayApprovedTask')
  const done = await finished(yes.id)
  assert.match(JSON.stringify(done.outputs.externalSystemCall), /booked admin/)
  assert.equal(done.outputs.sendRejectionMail, undefined)
  // Rejected: the other branch.
  const no = await ok(page, 'POST', '/instances', { process: 'holidayRequest', variables: { employee: 'admin' } })
  await complete(no.id, 'approveTask', { approved: false })
  const rejected = await finished(no.id)
  assert.match(JSON.stringify(rejected.outputs.sendRejectionMail), /rejected admin/)
})
