// End to end in a real Chromium against a real `baton serve` (temporary
// SQLite store): a report from upload to download. A report template (the
// committed fixture e2e/fixtures/e2e-report.xlsx, written by
// `cargo run -p baton-reports --example make_e2e_template`) is uploaded on
// the Report templates screen, which lists the placeholders it found; a
// process runs a local command, waits for an approval with a form and fills
// the report; the approval is given on a 375×812 phone through a signed link
// with the form's value; the filled workbook is downloaded from the Report
// data screen and unzipped: its sheet holds the command's output and the form
// value. Screenshots go to e2e/artifacts/.
//
//   cargo build -p baton && node --test e2e/report.test.js
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { artifacts, artifactsDir, closeBrowsers, launch, ok, signInFirstAdmin, skip, startServer, step } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const FIXTURE = join(here, 'fixtures', 'e2e-report.xlsx')
// Two lines of output: the template's list placeholder makes one row each.
const LINES = ['report-line-e2e-7f3a', 'report-line-e2e-91c4']
const TICKET = 'CHG-2048'
const COMMENT = '按计划执行'

let srv
let admin
let page
let templateName
let instanceId

before(async () => {
  if (skip) return
  artifactsDir()
  srv = await startServer()
  admin = await launch({ viewport: { width: 1440, height: 900 }, locale: 'en-US', acceptDownloads: true })
  page = admin.pages()[0] || (await admin.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
  await signInFirstAdmin(page, srv)
})

after(async () => {
  await closeBrowsers()
  if (srv) await srv.stop()
})

step('a report template is uploaded on the Report templates screen', async () => {
  assert.ok(existsSync(FIXTURE), `${FIXTURE} (cargo run -p baton-reports --example make_e2e_template)`)
  await page.click('[data-test="menu-reportTemplates"]')
  await page.waitForURL(/\/report-templates$/)
  await page.locator('[data-test="upload-template"]').waitFor()
  await page.setInputFiles('input[data-test="template-file"]', FIXTURE)
  await page.getByText('Uploaded e2e-report').waitFor()

  const row = page.locator('[data-test="crud-table"] .el-table__row', { hasText: 'e2e-report.xlsx' })
  await row.waitFor()
  // Every placeholder of the fixture, with its cell; `${?comment}` optional.
  const listed = await row.locator('[data-test="template-placeholders"]').innerText()
  for (const p of ['B2 ${LWAMS_INIT_DATE}', 'B3 ${ticket}', 'B4 ${?comment}', "A7 ${say.stdout.trim().split('\\n')}"]) {
    assert.ok(listed.includes(p), `the screen lists ${p}: ${listed}`)
  }
  assert.doesNotMatch(listed, /object Object/)

  const [t] = (await ok(page, 'GET', '/report-templates')).items
  assert.equal(t.fileName, 'e2e-report.xlsx')
  assert.equal(t.placeholders.length, 4)
  templateName = t.name
  assert.equal(templateName, 'e2e-report')
  await page.screenshot({ path: join(artifacts, 'report-templates.png') })

  // Not a workbook: refused, and the screen says why.
  await page.setInputFiles('input[data-test="template-file"]', {
    name: 'notes.xlsx',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from('not a zip'),
  })
  await page.locator('.el-message--error').waitFor()
  assert.equal((await ok(page, 'GET', '/report-templates')).total, 1)
})

step('a process with a command, an approval form and a report runs; approved on the phone by link', async () => {
  await ok(page, 'POST', '/forms', {
    key: 'e2e_report_review',
    name: 'Report review',
    fields: [{ id: 'ticket', label: 'Ticket', type: 'text', required: true, pattern: 'CHG-[0-9]+' }],
  })
  const command = `printf '${LINES.join('\\n')}\\n'`
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="e2e">
  <process id="e2e_report" name="E2E report" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="say"/>
    <serviceTask id="say" name="Collect" baton:type="local-command">
      <extensionElements><baton:property name="command" value="${command}"/></extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="say" targetRef="review"/>
    <userTask id="review" name="Review the report data" baton:assignee="admin" baton:formKey="e2e_report_review"/>
    <sequenceFlow id="f3" sourceRef="review" targetRef="rep"/>
    <serviceTask id="rep" name="Report" baton:type="report">
      <extensionElements>
        <baton:property name="template" value="${templateName}"/>
        <baton:property name="name" value="E2E 报表 \${ticket}"/>
        <baton:property name="comments" value="approved: \${comment}"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f4" sourceRef="rep" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>`
  await ok(page, 'POST', '/processes', { xml })
  instanceId = (await ok(page, 'POST', '/instances', { process: 'e2e_report' })).id

  // The command ran; the approval waits.
  let task
  for (let i = 0; i < 100 && !task; i++) {
    const tasks = await ok(page, 'GET', '/tasks?view=todo&limit=100')
    task = tasks.items.find((x) => x.instanceId === instanceId)
    if (!task) await page.waitForTimeout(200)
  }
  assert.ok(task, 'the approval task is listed')
  const link = await ok(page, 'POST', `/tasks/${encodeURIComponent(task.id)}/link`, { hours: 1 })

  const phone = await launch({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, locale: 'en-US' })
  const m = phone.pages()[0] || (await phone.newPage())
  m.on('pageerror', (e) => console.error('mobile page error:', e.message))
  await m.goto(`${srv.base}${link.url}`)
  await m.locator('[data-test="m-approve-title"]', { hasText: 'Review the report data' }).waitFor()
  await m.locator('[data-test="m-form"] [data-field="ticket"]').waitFor()
  await m.fill('[data-field="ticket"] input', TICKET)
  await m.fill('[data-test="m-comment"] textarea', COMMENT)
  const width = await m.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 375, `no horizontal scrolling (${width} px)`)
  await m.click('[data-test="m-approve"]')
  await m.locator('[data-test="m-link-done"]').waitFor()
  await phone.close()

  let done
  for (let i = 0; i < 100; i++) {
    done = await ok(page, 'GET', `/instances/${instanceId}`)
    if (done.status !== 'running') break
    await page.waitForTimeout(200)
  }
  assert.equal(done.status, 'completed', JSON.stringify(done))
  assert.equal(done.variables.ticket, TICKET)
})

step('the filled report is downloaded from the Report data screen', async () => {
  await page.click('[data-test="menu-reportData"]')
  await page.waitForURL(/\/reports$/)
  const name = `E2E 报表 ${TICKET}`
  const row = page.locator('[data-test="crud-table"] .el-table__row', { hasText: name })
  await row.waitFor()
  const text = await row.innerText()
  assert.match(text, /e2e_report/)
  assert.ok(text.includes(instanceId), 'the row names the instance')
  assert.ok(text.includes(`approved: ${COMMENT}`), `the row shows the comments: ${text}`)
  // The messages of the uploads have faded (a clean screenshot).
  await page.waitForFunction(() => !document.querySelector('.el-message'), null, { timeout: 15_000 })
  await page.screenshot({ path: join(artifacts, 'report-data.png') })

  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-test="report-download"]').click()])
  assert.equal(download.suggestedFilename(), `${name}.xlsx`)
  const file = join(srv.dir, 'downloaded.xlsx')
  await download.saveAs(file)
  assert.ok(statSync(file).size > 0)

  // An xlsx is a zip; its one sheet holds the filled cells.
  const entries = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n')
  assert.ok(entries.includes('[Content_Types].xml') && entries.includes('xl/workbook.xml'), entries.join(' '))
  const sheet = execFileSync('unzip', ['-p', file, 'xl/worksheets/sheet1.xml'], { encoding: 'utf8' })
  const cells = {}
  for (const c of sheet.matchAll(/<c r="([A-Z]+\d+)"[^>]*?(?:\/>|>(.*?)<\/c>)/g)) cells[c[1]] = (c[2] || '').replace(/<[^>]+>/g, '')
  assert.equal(cells.B3, TICKET)
  assert.equal(cells.B4, COMMENT)
  // The command's output, one row per line; the rows below shifted down.
  assert.equal(cells.A7, LINES[0])
  assert.equal(cells.A8, LINES[1])
  assert.ok('A10' in cells, 'the closing row moved from A9 to A10')
  assert.doesNotMatch(sheet, /\$\{/, 'no placeholder left')
})
