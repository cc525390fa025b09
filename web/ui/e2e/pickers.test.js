// The editor's properties panel in a real Chromium against a real `baton
// serve`: resource pickers (a terminal and one of *its* accounts, listed from
// the API), `${` completion (built-ins, globals, the outputs of an upstream
// node from its schema's x-outputs), an approval's due date; deployed from
// the editor and the stored BPMN read back through the API.
// Screenshots go to e2e/artifacts/ (pickers-*.png).
//
//   cd web/ui && node --test e2e/pickers.test.js   (after cargo build -p baton)
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { artifacts, artifactsDir, closeBrowsers, eventually, launch, ok, select, signInFirstAdmin, skip, startServer, step } from './harness.js'

let srv
let page

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:baton="http://baton.dev/schema/bpmn"
  id="D" targetNamespace="http://baton.dev/processes">
  <bpmn:process id="pickers_e2e" name="Pickers" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="prev" name="Collect" baton:type="local-command">
      <bpmn:extensionElements><baton:property name="command" value="hostname" /></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:serviceTask id="sh" name="Run remote" baton:type="remote-command" />
    <bpmn:userTask id="approve" name="Approve" baton:assignee="admin" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prev" />
    <bpmn:sequenceFlow id="f2" sourceRef="prev" targetRef="sh" />
    <bpmn:sequenceFlow id="f3" sourceRef="sh" targetRef="approve" />
    <bpmn:sequenceFlow id="f4" sourceRef="approve" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Di"><bpmndi:BPMNPlane id="P" bpmnElement="pickers_e2e">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="100" y="120" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="prev_di" bpmnElement="prev"><dc:Bounds x="190" y="98" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="sh_di" bpmnElement="sh"><dc:Bounds x="340" y="98" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="approve_di" bpmnElement="approve"><dc:Bounds x="490" y="98" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="640" y="120" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="138" /><di:waypoint x="190" y="138" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="290" y="138" /><di:waypoint x="340" y="138" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="440" y="138" /><di:waypoint x="490" y="138" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f4_di" bpmnElement="f4"><di:waypoint x="590" y="138" /><di:waypoint x="640" y="138" /></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
`

before(async () => {
  if (skip) return
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

const field = (p, prop) => p.locator(`[data-test="properties"] [data-prop="${prop}"]`)

/** Opens the picker of `prop` and clicks the option `value` (listed from the API). */
async function pick(p, prop, kind, value, shot) {
  const input = field(p, prop).locator('input').first()
  await input.click()
  await input.fill('')
  const option = p.locator(`.ref-pop-${kind} .ref-item[data-value="${value}"]`)
  await option.waitFor({ timeout: 10_000 })
  if (shot) await p.screenshot({ path: join(artifacts, shot) })
  await option.click()
  await eventually(async () => assert.equal(await input.inputValue(), value))
}

step('pickers, ${} completion and the due date end in the deployed BPMN', async () => {
  // What the pickers list: a terminal with an account (and another terminal's
  // account that must not be offered), a data source, a form, a global.
  const term = await ok(page, 'POST', '/terminals', { name: 'pk-term', hostAddress: '127.0.0.1', port: 22 })
  await ok(page, 'POST', `/terminals/${term.id}/accounts`, { username: 'deploy', password: 'pw-1' })
  const other = await ok(page, 'POST', '/terminals', { name: 'pk-other', hostAddress: '127.0.0.2', port: 22 })
  await ok(page, 'POST', `/terminals/${other.id}/accounts`, { username: 'stranger', password: 'pw-2' })
  await ok(page, 'POST', '/data-sources', { name: 'pk-db', url: 'postgres://127.0.0.1:5432/postgres' })
  await ok(page, 'POST', '/forms', { key: 'pk_form', name: 'Pickers form', fields: [{ id: 'reason', label: 'Reason', type: 'text' }] })
  await ok(page, 'PUT', '/globals/pk_site', { value: 'eu-1' })

  await page.goto(`${srv.base}/editor`)
  await page.locator('.djs-palette .entry[data-action="baton-local-command"]').waitFor()
  const file = join(mkdtempSync(join(tmpdir(), 'baton-pickers-')), 'pickers.bpmn')
  writeFileSync(file, XML)
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('[data-test="open-file"]')])
  await chooser.setFiles(file)
  await page.locator('.djs-element.djs-shape[data-element-id="sh"]').waitFor()

  // The terminal picker lists the company's terminals; the account picker the chosen one's accounts only.
  await select(page, 'sh')
  await pick(page, 'terminal', 'terminal', 'pk-term', 'pickers-terminal.png')
  const acct = field(page, 'terminalAccount').locator('input').first()
  await acct.click()
  await page.locator('.ref-pop-account .ref-item[data-value="deploy"]').waitFor()
  assert.equal(await page.locator('.ref-pop-account .ref-item[data-value="stranger"]').count(), 0, 'another terminal\'s account is not offered')
  await page.locator('.ref-pop-account .ref-item[data-value="deploy"]').click()
  await eventually(async () => assert.equal(await acct.inputValue(), 'deploy'))

  // `${` in the command offers built-ins, globals and the upstream node's outputs.
  const cmd = field(page, 'command').locator('textarea')
  await cmd.click()
  await cmd.pressSequentially('echo ${')
  const list = page.locator('[data-test="expr-completions"]')
  await list.waitFor()
  const values = await list.locator('li').evaluateAll((els) => els.map((e) => e.dataset.value))
  for (const v of ['LWAMS_INIT_DATE', 'LWAMS_INITIATOR_NAME', 'pk_site', 'prev.stdout', 'prev.exitCode']) {
    assert.ok(values.includes(v), `${v} offered in ${values.join(', ')}`)
  }
  assert.ok(!values.some((v) => v.startsWith('sh.') || v.startsWith('approve.')), 'only upstream nodes are offered')
  await page.screenshot({ path: join(artifacts, 'pickers-completion.png') })
  // Narrowed by typing; ↓/Enter choose from the keyboard and close the `}`.
  await cmd.pressSequentially('prev.')
  assert.equal(await list.locator('li').first().getAttribute('data-value'), 'prev.name')
  await cmd.pressSequentially('std')
  await cmd.press('ArrowDown')
  assert.equal(await list.locator('li[aria-selected="true"]').getAttribute('data-value'), 'prev.stderr')
  await cmd.press('ArrowUp')
  await cmd.press('Enter')
  assert.equal(await list.count(), 0, 'the list closes')
  assert.equal(await cmd.inputValue(), 'echo ${prev.stdout}')
  await cmd.pressSequentially(' ${pk_')
  await list.waitFor()
  await cmd.press('Enter')
  assert.equal(await cmd.inputValue(), 'echo ${prev.stdout} ${pk_site}')
  await cmd.press('Tab')

  // The approval: a form from the forms picker, a due date.
  await select(page, 'approve')
  await pick(page, 'formKey', 'form', 'pk_form')
  const due = field(page, 'dueDate').locator('input')
  await due.fill('P2D')
  await due.press('Tab')

  await page.click('[data-test="deploy"]')
  await page.locator('[data-test="deployed-version"]', { hasText: 'pickers_e2e v1' }).waitFor()
  const { xml } = await ok(page, 'GET', '/processes/pickers_e2e/versions/1')
  const sh = /<bpmn:serviceTask id="sh"[\s\S]*?<\/bpmn:serviceTask>/.exec(xml)?.[0] || ''
  assert.match(sh, /<baton:property name="terminal" value="pk-term"\s*\/>/)
  assert.match(sh, /<baton:property name="terminalAccount" value="deploy"\s*\/>/)
  assert.match(sh, /<baton:property name="command" value="echo \$\{prev\.stdout\} \$\{pk_site\}"\s*\/>/)
  const approve = /<bpmn:userTask id="approve"[^>]*>/.exec(xml)?.[0] || ''
  assert.match(approve, /baton:formKey="pk_form"/)
  assert.match(approve, /baton:dueDate="P2D"/)
  assert.match(approve, /baton:assignee="admin"/)
})
