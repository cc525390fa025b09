// End to end in a real Chromium against a real `baton serve` (temporary
// SQLite store): sign in, change the first admin's password, draw a process
// in the editor from the palette, set a node's command in the properties
// panel, see the engine's diagnostics on the element, deploy, start it, watch
// the node turn green in the monitor, switch the language, and approve a task
// on the mobile page at 375×812. Then the live feed: the monitor lists an
// instance started through the API without a reload; a signed approval link
// opens a task with its form on the phone, approves it once (the desktop
// diagram turns green as it happens) and says so when opened again; the admin
// screens list what the API created. Screenshots go to e2e/artifacts/.
//
//   node --test e2e/        (BATON_BIN, CHROMIUM and CARGO_TARGET_DIR override the paths)
//
// Without Chromium the tests are skipped, except under CI=true, where that fails.
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  NEW_PASSWORD, artifacts, artifactsDir, call, centre, closeBrowsers, contextPad, launch, ok, select, selectedId,
  setProperty, skip, startServer, step,
} from './harness.js'

const KEY = `e2e_cmd_${Date.now()}`

let srv
let base
let admin
let page
let firstPassword
let taskId

before(async () => {
  if (skip) return
  artifactsDir()
  srv = await startServer()
  base = srv.base
  firstPassword = srv.firstPassword
  admin = await launch({ viewport: { width: 1440, height: 900 }, locale: 'en-US' })
  page = admin.pages()[0] || (await admin.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
})

after(async () => {
  await closeBrowsers()
  if (srv) await srv.stop()
})

step('the first admin signs in and must change the password', async () => {
  await page.goto(`${base}/editor`)
  await page.waitForURL(/\/login/)
  await page.fill('input[name="username"]', 'admin')
  await page.fill('input[name="password"]', 'wrong password')
  await page.click('[data-test="login-submit"]')
  await page.locator('[data-test="login-error"]').waitFor()
  assert.match(await page.locator('[data-test="login-error"]').innerText(), /wrong company, username or password/)

  await page.fill('input[name="password"]', firstPassword)
  await page.click('[data-test="login-submit"]')
  await page.waitForURL(/\/password/)
  await page.fill('input[name="current"]', firstPassword)
  // Checked before sending: too short.
  await page.fill('input[name="new-password"]', 'short')
  await page.fill('input[name="repeat-password"]', 'short')
  await page.click('[data-test="password-submit"]')
  await page.getByText('At least 10 characters').first().waitFor()
  await page.fill('input[name="new-password"]', NEW_PASSWORD)
  await page.fill('input[name="repeat-password"]', NEW_PASSWORD)
  await page.click('[data-test="password-submit"]')
  await page.waitForURL(/\/editor/)
  await page.locator('[data-test="menu-monitor"]').waitFor()
})

step('a process is drawn from the palette, checked by the engine and deployed', async () => {
  await page.locator('.djs-palette .entry[data-action="baton-local-command"]').waitFor()
  const start = await centre(page, 'StartEvent_1')

  // Drag a local command from the palette to the right of the start event.
  const entry = await page.locator('.djs-palette .entry[data-action="baton-local-command"]').boundingBox()
  await page.mouse.move(entry.x + entry.width / 2, entry.y + entry.height / 2)
  await page.mouse.down()
  // A few pixels first: the browser starts the drag, bpmn-js takes it over.
  await page.mouse.move(entry.x + entry.width / 2 + 6, entry.y + entry.height / 2 + 6, { steps: 3 })
  await page.mouse.move(start.x + 100, start.y + 20, { steps: 8 })
  await page.mouse.move(start.x + 180, start.y, { steps: 8 })
  await page.mouse.up()
  const task = await selectedId(page)
  assert.ok(task, 'the new node is selected')
  await page.locator('[data-test="properties"] .el-tag', { hasText: 'local-command' }).waitFor()

  // Connect the start event to it (measured again: the canvas may have scrolled).
  const from = await select(page, 'StartEvent_1')
  await contextPad(page, 'connect', from)
  const at = await centre(page, task)
  await page.mouse.move(at.x, at.y, { steps: 5 })
  await page.mouse.click(at.x, at.y)

  // Append an end event to the task.
  await select(page, task)
  await contextPad(page, 'append.end-event', at)
  assert.equal(await page.locator('.djs-element[data-element-id^="Flow_"]').count(), 2)

  // The process key, on the process (click the empty canvas).
  await page.mouse.click(at.x, at.y + 200)
  const key = page.locator('[data-test="properties"] [data-prop="id"] input')
  await key.fill(KEY)
  await key.press('Tab')
  const name = page.locator('[data-test="properties"] [data-prop="name"] input')
  await name.fill('E2E command')
  await name.press('Tab')

  // A broken template: the engine rejects it, naming the element.
  await select(page, task)
  await setProperty(page, 'command', 'echo ${')
  await page.click('[data-test="deploy"]')
  await page.locator(`.djs-overlay-container [data-test="diagnostic-badge"]`).first().waitFor()
  assert.ok(await page.locator(`.djs-element[data-element-id="${task}"].has-error`).count(), 'the task is marked')
  assert.match(await page.locator('[data-test="diagnostics"]').innerText(), new RegExp(task))

  await select(page, task)
  await setProperty(page, 'command', 'echo hello-from-e2e')
  await page.click('[data-test="deploy"]')
  await page.locator('[data-test="deployed-version"]').waitFor()
  assert.match(await page.locator('[data-test="deployed-version"]').innerText(), new RegExp(`${KEY} v1`))
  assert.equal(await page.locator('[data-test="diagnostics"]').count(), 0)
  await page.screenshot({ path: join(artifacts, 'editor.png') })
  taskId = task
})

step('the instance is started and its node turns green in the monitor', async () => {
  await page.click('[data-test="menu-monitor"]')
  await page.waitForURL(/\/monitor$/)
  await page.click('[data-test="start-instance"]')
  const select = page.locator('[data-test="start-process"] input')
  await select.click()
  await select.fill(KEY)
  await page.keyboard.press('Enter')
  await page.click('[data-test="start-submit"]')
  await page.waitForURL(/\/monitor\/.+/)
  const node = page.locator(`.djs-element[data-element-id="${taskId}"].st-done`)
  await node.waitFor({ timeout: 20_000 })
  await page.locator('[data-test="instance-status"]', { hasText: 'Completed' }).waitFor({ timeout: 20_000 })
  assert.ok(await page.locator('.djs-element[data-element-id="StartEvent_1"].st-done').count())

  // The node's outputs.
  const at = await centre(page, taskId)
  await page.mouse.click(at.x, at.y)
  await page.locator('[data-test="node-outputs"]').waitFor()
  assert.match(await page.locator('[data-test="node-outputs"]').innerText(), /hello-from-e2e/)

  // The language switches, the server's messages with it.
  await page.click('[data-test="locale"]')
  await page.getByRole('option', { name: '简体中文' }).click()
  await page.locator('[data-test="menu-monitor"]', { hasText: '流程监控' }).waitFor()
  await page.locator('[data-test="instance-status"]', { hasText: '已完成' }).waitFor()
  await page.screenshot({ path: join(artifacts, 'monitor.png') })
})

step('an approval is approved on the mobile page at 375×812', async () => {
  // A process with an approval for the admin, deployed and started through the API.
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="e2e">
  <process id="e2e_approval" name="E2E approval" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="approve"/>
    <userTask id="approve" name="Approve the change" baton:assignee="admin"/>
    <sequenceFlow id="f2" sourceRef="approve" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>`
  const started = await page.evaluate(async (xml) => {
    const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': localStorage.getItem('baton.csrf') }
    const d = await fetch('/api/v1/processes', { method: 'POST', headers: h, body: JSON.stringify({ xml }) })
    if (!d.ok) return { error: await d.text() }
    const s = await fetch('/api/v1/instances', { method: 'POST', headers: h, body: JSON.stringify({ process: 'e2e_approval' }) })
    return s.json()
  }, xml)
  assert.ok(started.id, JSON.stringify(started))

  const phone = await launch({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  const m = phone.pages()[0] || (await phone.newPage())
  m.on('pageerror', (e) => console.error('mobile page error:', e.message))
  await m.goto(`${base}/m/`)
  await m.waitForURL(/\/m\/login/)
  await m.fill('input[name="username"]', 'admin')
  await m.fill('input[name="password"]', NEW_PASSWORD)
  await m.click('[data-test="m-login-submit"]')
  await m.locator('[data-test="m-task"]', { hasText: 'Approve the change' }).waitFor()
  const width = await m.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 375, `no horizontal scrolling (${width} px)`)
  await m.screenshot({ path: join(artifacts, 'mobile-tasks.png') })

  await m.locator('[data-test="m-task"]', { hasText: 'Approve the change' }).click()
  await m.locator('[data-test="m-approve"]').waitFor()
  await m.fill('[data-test="m-comment"] textarea', '同意变更')
  await m.screenshot({ path: join(artifacts, 'mobile-task.png') })
  await m.click('[data-test="m-approve"]')
  await m.waitForURL(/\/m\/?$/)
  await m.getByText('暂无任务').waitFor()

  const done = await m.evaluate(async (id) => (await fetch(`/api/v1/instances/${id}`)).json(), started.id)
  assert.equal(done.status, 'completed')
  assert.equal(done.variables.approved, true)
  assert.equal(done.variables.comment, '同意变更')
  await phone.close()
})

step('the monitor lists an instance started through the API without a reload', async () => {
  await page.click('[data-test="menu-monitor"]')
  await page.waitForURL(/\/monitor$/)
  await page.locator('[data-test="instances"] .el-table__row').first().waitFor()
  const before = await page.evaluate(() => performance.getEntriesByType('navigation').length + ':' + performance.timeOrigin)
  const started = await ok(page, 'POST', '/instances', { process: KEY })
  await page.locator('[data-test="instances"] .el-table__row', { hasText: started.id }).waitFor({ timeout: 10_000 })
  const after = await page.evaluate(() => performance.getEntriesByType('navigation').length + ':' + performance.timeOrigin)
  assert.equal(after, before, 'the page was not reloaded')
})

let linkUrl
let approvalInstance
step('an approval link opens the task with its form on the phone and works once', async () => {
  // A form, a process whose approval uses it, an instance waiting at it.
  await ok(page, 'POST', '/forms', {
    key: 'e2e_change',
    name: 'Change review',
    fields: [
      { id: 'risk', label: 'Risk', type: 'radio', required: true, options: [{ value: 'low', label: 'Low' }, { value: 'high', label: 'High' }] },
      { id: 'ticket', label: 'Ticket', type: 'text', required: true, pattern: 'CHG-[0-9]+' },
      { id: 'hours', label: 'Hours', type: 'number', min: 1, max: 8 },
    ],
  })
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="e2e">
  <process id="e2e_link" name="E2E link approval" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
    <userTask id="review" name="Review the change" baton:assignee="admin" baton:formKey="e2e_change"/>
    <sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
    <endEvent id="e"/>
  </process>
  <bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">
    <bpmndi:BPMNPlane bpmnElement="e2e_link">
      <bpmndi:BPMNShape bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape bpmnElement="review"><dc:Bounds x="190" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape bpmnElement="e"><dc:Bounds x="350" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="190" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge bpmnElement="f2"><di:waypoint x="290" y="118"/><di:waypoint x="350" y="118"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</definitions>`
  await ok(page, 'POST', '/processes', { xml })
  approvalInstance = (await ok(page, 'POST', '/instances', { process: 'e2e_link', variables: { change: 'Upgrade nginx on web-01' } })).id
  const tasks = await ok(page, 'GET', '/tasks?view=todo&limit=100')
  const task = tasks.items.find((x) => x.instanceId === approvalInstance)
  assert.ok(task, 'the approval task is listed')
  const link = await ok(page, 'POST', `/tasks/${encodeURIComponent(task.id)}/link`, { hours: 2 })
  // The token rides in the fragment: it never reaches a server log or a Referer header.
  assert.equal(link.url, `/m/approve#${link.token}`)
  linkUrl = link.url

  // The desktop follows the instance: its approval node is running (blue).
  await page.goto(`${base}/monitor/${approvalInstance}`)
  await page.locator('.djs-element[data-element-id="review"].st-running').waitFor()
  // Paused and resumed from the monitor (the API agrees each time).
  await page.click('[data-test="pause"]')
  await page.locator('[data-test="instance-paused"]').waitFor()
  assert.equal((await ok(page, 'GET', `/instances/${approvalInstance}`)).paused, true)
  await page.click('[data-test="pause"]')
  await page.locator('[data-test="instance-paused"]').waitFor({ state: 'detached' })
  assert.equal((await ok(page, 'GET', `/instances/${approvalInstance}`)).paused, false)

  // A phone that never signed in opens the link: the task comes with its form.
  const phone = await launch({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  const m = phone.pages()[0] || (await phone.newPage())
  m.on('pageerror', (e) => console.error('mobile page error:', e.message))
  await m.goto(`${base}${linkUrl}`)
  await m.locator('[data-test="m-approve-title"]', { hasText: 'Review the change' }).waitFor()
  assert.match(await m.locator('[data-test="m-task-data"]').innerText(), /Upgrade nginx on web-01/)
  await m.locator('[data-test="m-form"] [data-field="ticket"]').waitFor()
  // Checked before sending: the required radio and the ticket's pattern.
  await m.fill('[data-field="ticket"] input', 'nope')
  await m.locator('[data-field="ticket"] input').blur()
  await m.getByText('Ticket格式不正确').waitFor()
  await m.click('[data-test="m-approve"]')
  await m.getByText('请填写Risk').waitFor()
  const width = await m.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 375, `no horizontal scrolling (${width} px)`)
  await m.screenshot({ path: join(artifacts, 'mobile-approve-errors.png'), fullPage: true })
  await m.locator('[data-field="risk"] .van-radio', { hasText: 'Low' }).click()
  await m.fill('[data-field="ticket"] input', 'CHG-1042')
  await m.fill('[data-test="m-comment"] textarea', '窗口内执行')
  await m.screenshot({ path: join(artifacts, 'mobile-approve.png'), fullPage: true })
  await m.click('[data-test="m-approve"]')
  await m.locator('[data-test="m-link-done"]').waitFor()
  await m.screenshot({ path: join(artifacts, 'mobile-approve-done.png') })
  await phone.close()

  // The desktop diagram turned green without a reload.
  await page.locator('.djs-element[data-element-id="review"].st-done').waitFor({ timeout: 10_000 })
  await page.locator('[data-test="instance-status"]', { hasText: '已完成' }).waitFor()
  const done = await ok(page, 'GET', `/instances/${approvalInstance}`)
  assert.equal(done.variables.risk, 'low')
  assert.equal(done.variables.ticket, 'CHG-1042')
  assert.equal(done.variables.approved, true)

  // The same link again, on a phone that never signed in: already used.
  const other = await launch({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'en-US' })
  const o = other.pages()[0] || (await other.newPage())
  await o.goto(`${base}${linkUrl}`)
  await o.locator('[data-test="m-link-problem"]').waitFor()
  assert.match(await o.locator('[data-test="m-link-problem"]').innerText(), /already used/)
  await o.screenshot({ path: join(artifacts, 'mobile-link-used.png') })
  await o.goto(`${base}/m/approve#nonsense.token`)
  await o.locator('[data-test="m-link-problem"]', { hasText: 'not valid' }).waitFor()
  await other.close()
})

step('the admin screens list what the API created', async () => {
  await ok(page, 'POST', '/holidays', { name: 'E2E holidays', ranges: [{ name: 'Spring', start: '2027-02-01', end: '2027-02-07' }] })
  await ok(page, 'POST', '/schedules', { name: 'E2E nightly', process: KEY, cron: '0 0 2 * * ?', tz: 'Asia/Shanghai', calendar: 'E2E holidays' })
  await ok(page, 'POST', '/hosts', { name: 'e2e-web-01' })
  await ok(page, 'POST', '/groups', { name: 'E2E operators', permissions: { monitor: 'manage', tasks: 'view' } })

  await page.click('[data-test="menu-schedules"]')
  const row = page.locator('[data-test="crud-table"] .el-table__row', { hasText: 'E2E nightly' })
  await row.waitFor()
  assert.match(await row.locator('[data-test="next-fire"]').innerText(), /\d{4}-\d\d-\d\d 02:00:00|\d{4}-\d\d-\d\d \d\d:00:00/)
  await row.locator('[data-test="crud-edit"]').click()
  await page.click('[data-test="preview"]')
  await page.locator('[data-test="schedule-preview"] li').nth(4).waitFor()
  await page.screenshot({ path: join(artifacts, 'schedules.png') })
  await page.keyboard.press('Escape')

  await page.click('[data-test="menu-hosts"]')
  await page.locator('[data-test="crud-table"] .el-table__row', { hasText: 'e2e-web-01' }).locator('[data-test="host-state-not-initialised"]').waitFor()
  await page.screenshot({ path: join(artifacts, 'hosts.png') })

  await page.click('[data-test="menu-users"]')
  await page.getByRole('tab', { name: '用户组' }).click()
  const group = page.locator('[data-test="crud-table"] .el-table__row', { hasText: 'E2E operators' })
  await group.locator('[data-test="crud-edit"]').click()
  await page.locator('[data-test="perm-monitor-manage"].is-checked').waitFor()
  await page.waitForTimeout(400) // the dialog's fade-in
  await page.screenshot({ path: join(artifacts, 'groups.png') })
  await page.keyboard.press('Escape')

  // The form designer, in English, with the form made above.
  await page.evaluate(() => localStorage.setItem('baton.lang', 'en'))
  await page.goto(`${base}/forms`)
  await page.locator('[data-test="crud-table"] a', { hasText: 'e2e_change' }).click()
  await page.locator('[data-test="field-1"]').click()
  const fieldId = page.locator('[data-test="field-props"] input[data-test="field-id"]')
  await fieldId.waitFor()
  assert.equal(await fieldId.inputValue(), 'ticket')
  await page.screenshot({ path: join(artifacts, 'form-designer.png') })
  await page.click('[data-test="mode-preview"]')
  await page.click('[data-test="preview-check"]')
  await page.getByText('Risk is required').waitFor()
  await page.screenshot({ path: join(artifacts, 'form-preview.png') })
})
