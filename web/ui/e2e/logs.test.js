// A node's log in the monitor, end to end in a real Chromium against a real
// `baton serve` (temporary SQLite store): a local command prints a line (and
// one on stderr), waits for the test's go-ahead, sleeps 3 s and prints
// another. The monitor's Logs tab shows the first line while the node runs
// (with the running indicator), then the second line arrives without a
// reload, the follow stops when the node ends, and the node's timings are
// shown. Screenshots: e2e/artifacts/logs-running.png, logs-done.png.
//
//   node --test e2e/logs.test.js   (BATON_BIN, CHROMIUM and CARGO_TARGET_DIR override the paths)
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { artifacts, artifactsDir, centre, closeBrowsers, launch, ok, signInFirstAdmin, skip, startServer, step } from './harness.js'

let srv
let page

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

step('a running node shows its log lines as they are written', async () => {
  // The gate lets the test look at the first line before the node goes on
  // (it gives up after 60 s); then 3 s of sleep and the second line.
  const gate = join(srv.dir, 'go')
  const command =
    `echo first-line; echo oops-line 1&gt;&amp;2; i=0; while [ ! -f ${gate} ] &amp;&amp; [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; ` +
    'sleep 3; echo second-line'
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" targetNamespace="e2e">
  <process id="e2e_logs" name="E2E logs" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="work"/>
    <serviceTask id="work" name="Chatty command" baton:type="local-command">
      <extensionElements><baton:property name="command" value="${command}"/></extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="work" targetRef="e"/>
    <endEvent id="e"/>
  </process>
  <bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">
    <bpmndi:BPMNPlane bpmnElement="e2e_logs">
      <bpmndi:BPMNShape bpmnElement="s"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape bpmnElement="work"><dc:Bounds x="190" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape bpmnElement="e"><dc:Bounds x="350" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="190" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge bpmnElement="f2"><di:waypoint x="290" y="118"/><di:waypoint x="350" y="118"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</definitions>`
  await ok(page, 'POST', '/processes', { xml })
  const started = await ok(page, 'POST', '/instances', { process: 'e2e_logs' })

  await page.goto(`${srv.base}/monitor/${started.id}`)
  await page.locator('.djs-element[data-element-id="work"].st-running').waitFor({ timeout: 20_000 })
  const at = await centre(page, 'work')
  await page.mouse.click(at.x, at.y)
  await page.locator('[data-test="node-timing"]').waitFor()
  await page.locator('.el-tabs__item', { hasText: 'Logs' }).click()
  // A page that is never reloaded keeps this mark.
  await page.evaluate(() => (window.__sameLoad = true))

  // Lines of the command's output (the node's own `info` line echoes the command).
  const lines = page.locator('[data-test="log-lines"] .line:not([data-stream="info"])')
  await lines.filter({ hasText: 'first-line' }).waitFor({ timeout: 15_000 })
  await page.locator('[data-test="logs-running"]').waitFor()
  await lines.filter({ hasText: 'oops-line' }).waitFor({ timeout: 5_000 })
  assert.equal(await lines.filter({ hasText: 'oops-line' }).getAttribute('data-stream'), 'stderr')
  assert.equal(await lines.filter({ hasText: 'second-line' }).count(), 0)
  // The node has not finished: the first line was shown while it runs.
  assert.equal((await ok(page, 'GET', `/instances/${started.id}`)).status, 'running')
  assert.equal(await page.locator('[data-test="node-state"]').innerText(), 'Running')
  await page.screenshot({ path: join(artifacts, 'logs-running.png') })

  // Go on: the second line arrives without a reload, after the sleep.
  const released = Date.now()
  writeFileSync(gate, '')
  await lines.filter({ hasText: 'second-line' }).waitFor({ timeout: 20_000 })
  assert.ok(Date.now() - released >= 2_500, 'the second line came after the sleep')
  assert.equal(await page.evaluate(() => window.__sameLoad), true, 'the page was not reloaded')
  // The node ends: the follow stops, the diagram and the timings say so.
  await page.locator('[data-test="logs-running"]').waitFor({ state: 'detached', timeout: 15_000 })
  await page.locator('.djs-element[data-element-id="work"].st-done').waitFor({ timeout: 15_000 })
  await page.locator('[data-test="instance-status"]', { hasText: 'Completed' }).waitFor()
  const texts = await lines.allInnerTexts()
  const order = ['first-line', 'second-line'].map((t) => texts.findIndex((x) => x.includes(t)))
  assert.ok(order[0] >= 0 && order[0] < order[1], JSON.stringify(texts))
  assert.equal(texts.filter((x) => x.includes('second-line')).length, 1, 'no line twice')
  const timing = await page.locator('[data-test="node-timing"]').innerText()
  assert.match(timing, /Start[\s\S]*End[\s\S]*Duration/)
  assert.doesNotMatch(timing, /End\s*—/, 'the end is shown')
  assert.match(await page.locator('[data-test="node-duration"]').innerText(), /^\d+ s$/)
  await page.screenshot({ path: join(artifacts, 'logs-done.png') })
})
