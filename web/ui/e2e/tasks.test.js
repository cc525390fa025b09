// User tasks' due dates and helpers end to end, in a real Chromium against a
// real `baton serve`: two reviews held by the admin, one past its due date;
// the task list shows both due dates, marks the overdue one and can show it
// alone; the admin assigns a colleague as helper in the task dialog's user
// picker; the helper signs in on the phone, finds the task (with its due
// date, marked overdue) among their to-dos and approves it.
//
//   node --test e2e/tasks.test.js   (after `cargo build -p baton`)
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { artifacts, artifactsDir, closeBrowsers, launch, ok, signInFirstAdmin, skip, startServer, step } from './harness.js'

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="e2e">
  <process id="e2e_review" name="E2E review" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
    <userTask id="review" name="Review the change" baton:assignee="admin" baton:dueDate="\${due}"/>
    <sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>`
const HELEN_FIRST = 'Helen-first-2026'
const HELEN_PASSWORD = 'Helen-pass-2026'

let srv
let page
let late
let soon

before(async () => {
  if (skip) return
  artifactsDir()
  srv = await startServer()
  const admin = await launch({ viewport: { width: 1440, height: 900 }, locale: 'en-US' })
  page = admin.pages()[0] || (await admin.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
})

after(async () => {
  await closeBrowsers()
  if (srv) await srv.stop()
})

/** The task the engine created for `instance`. */
async function taskOf(instance) {
  for (let i = 0; i < 100; i++) {
    const page1 = await ok(page, 'GET', '/tasks?view=all')
    const t = page1.items.find((x) => x.instanceId === instance)
    if (t) return t
    await page.waitForTimeout(100)
  }
  throw new Error(`no task for ${instance}`)
}

step('the admin deploys a review with a due date and adds a colleague', async () => {
  await signInFirstAdmin(page, srv)
  await ok(page, 'POST', '/processes', { xml: XML })
  const helen = await ok(page, 'POST', '/users', { username: 'helen', name: 'Helen Help', password: HELEN_FIRST })
  await ok(page, 'POST', '/groups', { name: 'reviewers', permissions: { tasks: 'manage' }, members: [helen.id] })
  const a = await ok(page, 'POST', '/instances', { process: 'e2e_review', variables: { due: '2020-01-01T00:00:00Z' } })
  const b = await ok(page, 'POST', '/instances', { process: 'e2e_review', variables: { due: 'P2D' } })
  late = await taskOf(a.id)
  soon = await taskOf(b.id)
  assert.equal(late.due, '2020-01-01T00:00:00Z')
  assert.equal(late.overdue, true)
  assert.equal(soon.overdue, false)
})

step('the task list shows due dates, marks the overdue one and shows it alone', async () => {
  await page.goto(`${srv.base}/tasks`)
  const rows = page.locator('[data-test="tasks"] .el-table__body tr')
  await page.locator('[data-test="task-due"]').nth(1).waitFor()
  assert.equal(await rows.count(), 2)
  assert.equal(await page.locator('[data-test="task-overdue"]').count(), 1)
  assert.equal(await page.locator('[data-test="task-due"].overdue').count(), 1)
  const overdueRow = rows.filter({ has: page.locator('[data-test="task-overdue"]') })
  assert.match(await overdueRow.locator('[data-test="task-due"]').innerText(), /^2020-01-01 /)
  await page.screenshot({ path: join(artifacts, 'tasks-due.png') })

  await page.locator('[data-test="overdue-only"]').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-test="tasks"] .el-table__body tr').length === 1)
  assert.equal(await page.locator('[data-test="task-overdue"]').count(), 1)
  await page.locator('[data-test="overdue-only"]').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-test="tasks"] .el-table__body tr').length === 2)
})

step('the admin assigns a helper in the task dialog', async () => {
  const rows = page.locator('[data-test="tasks"] .el-table__body tr')
  await rows.filter({ has: page.locator('[data-test="task-overdue"]') }).locator('td').first().click()
  const dialog = page.locator('.el-dialog:has([data-test="assign-helper"])')
  await dialog.waitFor()
  assert.equal(await dialog.locator('[data-test="task-due"].overdue').count(), 1)
  await dialog.locator('[data-test="assign-helper"]').click()

  const picker = page.locator('.el-dialog:has([data-test="helper-submit"])')
  await picker.waitFor()
  // Nothing chosen: the field says so.
  await picker.locator('[data-test="helper-submit"]').click()
  await picker.getByText('Choose a user').waitFor()
  await picker.locator('[data-test="helper-select"]').click()
  await page.keyboard.type('helen')
  await page.locator('.el-select-dropdown__item:visible', { hasText: '(helen)' }).click()
  await picker.locator('[data-test="helper-submit"]').click()
  await picker.locator('[data-test="helper-row"]', { hasText: 'Helen Help' }).waitFor()
  assert.equal(await picker.getByText('Choose a user').count(), 0, 'the emptied picker is not an error')
  await page.screenshot({ path: join(artifacts, 'tasks-helper.png') })
  await picker.getByRole('button', { name: 'Close' }).last().click()
  await picker.waitFor({ state: 'hidden' })
  assert.equal(await dialog.locator('[data-test="task-helpers"]').innerText(), 'Helen Help')

  const t = await ok(page, 'GET', `/tasks/${encodeURIComponent(late.id)}`)
  assert.deepEqual(t.helpers.map((h) => h.username), ['helen'])
  assert.equal(t.assignee !== null, true)
  // The list follows: the helper beside the overdue task, none beside the other.
  await dialog.getByRole('button', { name: 'Close' }).last().click()
  await page.locator('[data-test="task-helpers"]', { hasText: 'Helen Help' }).waitFor()
  assert.equal(await page.locator('[data-test="task-helpers"]', { hasText: 'Helen Help' }).count(), 1)
})

step('the helper finds the task on the phone with its due date and approves it', async () => {
  const phone = await launch({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  const m = phone.pages()[0] || (await phone.newPage())
  m.on('pageerror', (e) => console.error('mobile page error:', e.message))
  await m.goto(`${srv.base}/m/login`)
  // Sign in and set a password of her own (the first one must be changed).
  const signed = await m.evaluate(
    async ({ first, next }) => {
      const j = { 'Content-Type': 'application/json' }
      const l = await fetch('/api/v1/auth/login', { method: 'POST', headers: j, body: JSON.stringify({ username: 'helen', password: first }) })
      if (!l.ok) return { error: await l.text() }
      const csrf = (await l.json()).csrfToken
      const p = await fetch('/api/v1/auth/password', {
        method: 'POST',
        headers: { ...j, 'X-CSRF-Token': csrf },
        body: JSON.stringify({ current: first, password: next }),
      })
      if (!p.ok) return { error: await p.text() }
      localStorage.setItem('baton.csrf', (await p.json()).csrfToken)
      return { ok: true }
    },
    { first: HELEN_FIRST, next: HELEN_PASSWORD },
  )
  assert.ok(signed.ok, JSON.stringify(signed))
  await m.goto(`${srv.base}/m/`)
  const item = m.locator('[data-test="m-task"]', { hasText: 'Review the change' })
  await item.waitFor()
  assert.equal(await item.count(), 1, 'only the task she helps with')
  // The list says when it is due, and that it is overdue.
  assert.match(await item.innerText(), /2020-01-01/)
  assert.match(await item.locator('[data-test="m-task-overdue"]').innerText(), /已逾期/)
  await item.click()
  const due = m.locator('[data-test="m-task-due"]')
  await due.waitFor()
  assert.match(await due.innerText(), /2020-01-01/)
  assert.match(await due.innerText(), /已逾期/)
  assert.equal(await m.locator('[data-test="m-task-due"] .m-overdue').count(), 1)
  assert.match(await m.locator('[data-test="m-task-helpers"]').innerText(), /Helen Help/)
  assert.equal(await m.locator('[data-test="m-delegate"]').count(), 0, 'a helper does not delegate')
  await m.screenshot({ path: join(artifacts, 'mobile-task-due.png') })
  await m.fill('[data-test="m-comment"] textarea', '已协助处理')
  await m.click('[data-test="m-approve"]')
  await m.waitForURL(/\/m\/?$/)

  const t = await ok(page, 'GET', `/tasks/${encodeURIComponent(late.id)}`)
  assert.equal(t.state, 'completed')
  const helen = t.helpers[0]
  assert.equal(t.completedBy, helen.id)
  assert.equal(t.overdue, false, 'a completed task is not overdue')
  const other = await ok(page, 'GET', `/tasks/${encodeURIComponent(soon.id)}`)
  assert.equal(other.state, 'open')
})

step('the admin changes the other task\'s due date in the dialog, then removes it', async () => {
  await page.goto(`${srv.base}/tasks`)
  const row = page.locator('[data-test="tasks"] .el-table__body tr', { hasText: 'Review the change' })
  await row.first().waitFor()
  assert.equal(await row.count(), 1, 'only the open task is left to do')
  await row.locator('td').first().click()
  const dialog = page.locator('.el-dialog:has([data-test="task-due"])')
  await dialog.waitFor()
  await dialog.locator('[data-test="task-due-change"]').click()
  const input = dialog.locator('[data-test="task-due-edit"] input')
  await input.click()
  await input.fill('2031-05-06 07:08:09')
  await input.press('Enter')
  await page.screenshot({ path: join(artifacts, 'tasks-due-edit.png') })
  await dialog.locator('[data-test="task-due-save"]').click()
  await dialog.locator('[data-test="task-due"]', { hasText: '2031-05-06 07:08' }).waitFor()
  // The browser's local time, sent as UTC.
  const expected = await page.evaluate(() => new Date('2031-05-06T07:08:09').toISOString().replace('.000Z', 'Z'))
  assert.equal((await ok(page, 'GET', `/tasks/${encodeURIComponent(soon.id)}`)).due, expected)

  await dialog.locator('[data-test="task-due-change"]').click()
  await dialog.locator('[data-test="task-due-clear"]').click()
  await dialog.locator('[data-test="task-due"]', { hasText: 'No due date' }).waitFor()
  assert.equal((await ok(page, 'GET', `/tasks/${encodeURIComponent(soon.id)}`)).due, null)
  // The audit log names both changes.
  const audit = await ok(page, 'GET', `/audit?action=set-due&limit=10`)
  assert.deepEqual(audit.map((a) => a.detail), ['none', expected])
})
