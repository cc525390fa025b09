// The admin screens of issue 8 item 6, end to end in a real Chromium against
// a real `baton serve` (temporary SQLite store): a host's ordered backups
// (with the server's complaint about one entry shown on that entry), its
// enrolment token reissued (shown once) and revoked, the failover list (a
// failover and one without a backup, written as the sweep writes them), the
// audit log with its filters and paging, a personal API token created (shown
// once, then used as a Bearer token) and revoked (then refused), a terminal
// account edited with its secret kept, and a catch-up schedule with validity
// dates that survives open-and-save unchanged. One screenshot per screen in
// e2e/artifacts/admin-*.png.
//
//   node --test e2e/admin.test.js   (BATON_BIN, CHROMIUM and CARGO_TARGET_DIR override the paths)
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  artifacts, artifactsDir, call, closeBrowsers, eventually, freePort, launch, ok, signInFirstAdmin, skip, startServer, step,
} from './harness.js'

let srv
let page
const shot = (name) => page.screenshot({ path: join(artifacts, `admin-${name}.png`) })
const row = (text) => page.locator('[data-test="crud-table"] .el-table__row', { hasText: text })
// The row whose name cell is exactly `name` (a host's name shows in other rows' backups too).
const named = (name) => page.locator('[data-test="crud-table"] .el-table__row').filter({ has: page.locator('td', { hasText: new RegExp(`^\\s*${name}\\s*$`) }) })
// Opens a row's enrolment menu and clicks its item `test` (the menu the
// trigger controls: another row's may still be fading out).
async function enrolMenu(hostRow, test) {
  const trigger = hostRow.locator('[data-test="host-token"]:visible')
  await trigger.click()
  const menu = page.locator(`[id="${await trigger.getAttribute('aria-controls')}"]`)
  await menu.locator(`[data-test="${test}"]`).click()
}
// Element Plus dialogs fade in and out; a screenshot waits for that.
const settle = () => page.waitForTimeout(400)
const sql = (query) => execFileSync('sqlite3', [join(srv.dir, 'baton.db'), query], { encoding: 'utf8' }).trim()

// A stand-in for the relay binary the download package carries.
const binDir = mkdtempSync(join(tmpdir(), 'baton-e2e-bin-'))
const FAKE_BIN = join(binDir, 'sub-manager')
writeFileSync(FAKE_BIN, '#!/bin/sh\n# e2e stand-in\n')

before(async () => {
  if (skip) return
  artifactsDir()
  srv = await startServer(['--relay-listen', `127.0.0.1:${await freePort()}`, '--sub-manager-bin', FAKE_BIN])
  // Validity dates are typed in the browser's zone: one that is not UTC.
  const browser = await launch({ viewport: { width: 1440, height: 900 }, locale: 'en-US', timezoneId: 'Asia/Shanghai' })
  page = browser.pages()[0] || (await browser.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
  await signInFirstAdmin(page, srv)
})

after(async () => {
  await closeBrowsers()
  if (srv) await srv.stop()
  rmSync(binDir, { recursive: true, force: true })
})

const hosts = {}

step('a host gets ordered backups; the server names the bad entry', async () => {
  for (const name of ['e2e-h1', 'e2e-h2', 'e2e-h3', 'e2e-h4']) hosts[name] = await ok(page, 'POST', '/hosts', { name })
  await page.click('[data-test="menu-hosts"]')
  const h1 = named('e2e-h1')
  await h1.locator('[data-test="host-state-not-initialised"]').waitFor()
  assert.equal(await h1.locator('[data-test="host-backup"]').count(), 0)

  // Add h2 then h3, move h3 first, save.
  await h1.locator('[data-test="host-backups"]:visible').click()
  const dialog = page.locator('.el-dialog', { hasText: 'Backups of e2e-h1' })
  await dialog.waitFor()
  const pick = async (name) => {
    await dialog.locator('[data-test="backup-pick"]').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: name }).click()
    await dialog.locator('[data-test="backup-add"]').click()
  }
  await pick('e2e-h2')
  await pick('e2e-h3')
  await dialog.locator('[data-test="backup-1"] [data-test="backup-up"]').click()
  assert.match(await dialog.locator('[data-test="backup-0"]').innerText(), /e2e-h3/)
  await settle()
  await shot('host-backups')
  await dialog.locator('[data-test="backups-save"]').click()
  await dialog.waitFor({ state: 'detached' })
  await h1.locator('[data-test="host-backup"]').nth(1).waitFor()
  const chips = await h1.locator('[data-test="host-backup"]').allInnerTexts()
  assert.equal(chips.length, 2)
  assert.match(chips[0], /^\s*e2e-h3\s*$/)
  assert.match(chips[1], /→\s*e2e-h2/)
  const saved = await ok(page, 'GET', `/hosts/${hosts['e2e-h1'].id}`)
  assert.deepEqual(saved.backups.map((b) => b.name), ['e2e-h3', 'e2e-h2'])

  // A host deleted while the dialog is open: the server names that entry.
  await h1.locator('[data-test="host-backups"]:visible').click()
  await dialog.waitFor()
  await pick('e2e-h4')
  await ok(page, 'DELETE', `/hosts/${hosts['e2e-h4'].id}`)
  await dialog.locator('[data-test="backups-save"]').click()
  const bad = dialog.locator('[data-test="backup-2"] [data-test="backup-error"]')
  await bad.waitFor()
  assert.match(await bad.innerText(), /is not a host of this company/)
  assert.equal(await dialog.locator('[data-test="backup-0"] [data-test="backup-error"]').count(), 0)
  await shot('host-backups-error')
  // Removing it clears the complaint; the list is saved without it.
  await dialog.locator('[data-test="backup-2"] [data-test="backup-remove"]').click()
  assert.equal(await dialog.locator('[data-test="backup-error"]').count(), 0)
  await dialog.locator('[data-test="backups-save"]').click()
  await dialog.waitFor({ state: 'detached' })
  assert.deepEqual((await ok(page, 'GET', `/hosts/${hosts['e2e-h1'].id}`)).backups.map((b) => b.name), ['e2e-h3', 'e2e-h2'])
  await settle()
  await shot('hosts')
})

step('the download package, then an enrolment token reissued (shown once) and revoked', async () => {
  // The package: a zip carrying the relay binary and the host's token.
  const h3 = named('e2e-h3')
  const [download] = await Promise.all([page.waitForEvent('download'), enrolMenu(h3, 'host-package')])
  assert.match(download.suggestedFilename(), /\.zip$/)
  const zip = await download.path()
  assert.equal(readFileSync(zip).subarray(0, 2).toString(), 'PK')
  const files = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' })
  assert.match(files, /sub-manager/)
  const unpacked = execFileSync('unzip', ['-p', zip], { encoding: 'utf8' })
  assert.ok(unpacked.includes(hosts['e2e-h3'].token), 'the package carries the host token')
  assert.ok(unpacked.includes('# e2e stand-in'), 'and the binary')
  // No Windows binary on this server: it says so, the page stays.
  await enrolMenu(h3, 'host-package-windows')
  await page.locator('.el-message--error', { hasText: 'no sub-manager binary for windows' }).waitFor()
  assert.match(page.url(), /\/hosts$/)

  const h2 = named('e2e-h2')
  await h2.locator('[data-test="host-token-issued"]').waitFor()
  await enrolMenu(h2, 'host-token-reissue')
  await page.locator('.el-message-box').getByRole('button', { name: 'OK' }).click()
  const shown = page.locator('input[data-test="shown-once"]')
  await shown.waitFor()
  const token = await shown.inputValue()
  assert.ok(token.length >= 20, `a token: ${token}`)
  assert.notEqual(token, hosts['e2e-h2'].token, 'a new token, not the first one')
  await settle()
  await shot('token-once')
  await page.click('[data-test="shown-once-close"]')
  await shown.waitFor({ state: 'detached' })
  // Shown once: nowhere on the page or in the API's answers afterwards.
  assert.ok(!(await page.content()).includes(token))
  const list = await call(page, 'GET', '/hosts')
  assert.ok(!JSON.stringify(list.body).includes(token))
  assert.equal(list.body.items.find((h) => h.name === 'e2e-h2').tokenIssued, true)

  await enrolMenu(h2, 'host-token-revoke')
  await page.locator('.el-message-box').getByRole('button', { name: 'OK' }).click()
  await h2.locator('[data-test="host-token-none"]').waitFor()
  assert.equal((await ok(page, 'GET', `/hosts/${hosts['e2e-h2'].id}`)).tokenIssued, false)
})

step('the failover list, empty and then with a failover to a backup and one that found none', async () => {
  // A failover happens when a connected relay's heartbeats stop; no API
  // call makes one (tests/relays/ makes real ones with sub-manager
  // processes). Here: the empty list, then two rows written into the store
  // as the failover sweep writes them (web/src/relay/failover.rs).
  await page.locator('#tab-failovers').click()
  const table = page.locator('[data-test="crud-table"]')
  await table.getByText('Nothing here yet').waitFor()
  for (const h of ['When', 'Lost host', 'Taken over by', 'Jobs moved', 'Reason']) {
    await table.locator('th', { hasText: h }).first().waitFor()
  }
  assert.equal((await ok(page, 'GET', '/failovers')).total, 0)

  const [h1, h2] = [hosts['e2e-h1'].id, hosts['e2e-h2'].id]
  const company = sql(`SELECT company_id FROM hosts WHERE id = '${h1}'`)
  const at = Date.now()
  sql(
    `INSERT INTO failovers (id, company_id, host_id, backup_id, at, jobs, reason) VALUES ` +
      `('e2e-fo-1', '${company}', '${h1}', '${h2}', ${at - 60_000}, 3, 'host \`e2e-h1\` lost (no heartbeat for 30 s): re-run on backup \`e2e-h2\`'), ` +
      `('e2e-fo-2', '${company}', '${h2}', NULL, ${at}, 0, 'host \`e2e-h2\` lost (link closed): no backup available, the jobs wait')`,
  )
  await page.reload()
  await page.locator('#tab-failovers').click()
  const rows = table.locator('.el-table__row')
  await rows.nth(1).waitFor()
  const [newest, older] = await rows.allInnerTexts()
  // Newest first; host names, not ids; the one without a backup says the jobs wait.
  assert.match(newest, /e2e-h2/)
  assert.match(newest, /No backup available: jobs wait/)
  assert.match(newest, /no backup available, the jobs wait/)
  assert.match(older, /e2e-h1\s+e2e-h2\s+3\s/)
  assert.ok(!older.includes(h1), older)
  await settle()
  await shot('failovers')
  sql(`DELETE FROM failovers WHERE id IN ('e2e-fo-1', 'e2e-fo-2')`)
  await page.locator('#tab-hosts').click()
})

let apiToken
step('a personal API token is created, shown once, works, and is refused once revoked', async () => {
  await page.click('[data-test="who"]')
  await page.locator('[data-test="user-menu-tokens"]:visible').click()
  await page.waitForURL(/\/tokens$/)
  await page.getByText('You have no API tokens').waitFor()
  await page.click('[data-test="api-token-new"]')
  // Checked before sending: a name is needed.
  await page.click('[data-test="api-token-create"]')
  await page.getByText('Name is required').waitFor()
  await page.fill('input[data-test="api-token-name"]', 'e2e script')
  await page.click('[data-test="api-token-create"]')
  const shown = page.locator('input[data-test="shown-once"]')
  await shown.waitFor()
  apiToken = await shown.inputValue()
  assert.match(apiToken, /^baton_/)
  await settle()
  await shot('api-token-once')
  await page.click('[data-test="shown-once-close"]')
  await shown.waitFor({ state: 'detached' })
  const tokenRow = page.locator('[data-test="api-tokens"] .el-table__row', { hasText: 'e2e script' })
  await tokenRow.waitFor()
  assert.ok(!(await page.content()).includes(apiToken))

  // The token works as a Bearer token, without the session.
  const me = await fetch(`${srv.base}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${apiToken}` } })
  assert.equal(me.status, 200)
  assert.equal((await me.json()).user.username, 'admin')
  await page.click('[data-test="menu-monitor"]')
  await page.goto(`${srv.base}/tokens`)
  await tokenRow.waitFor()
  assert.doesNotMatch(await tokenRow.innerText(), /Not used yet/)
  await settle()
  await shot('api-tokens')

  await tokenRow.locator('[data-test="api-token-revoke"]').click()
  await page.locator('.el-message-box').getByRole('button', { name: 'OK' }).click()
  await page.getByText('You have no API tokens').waitFor()
  const refused = await fetch(`${srv.base}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${apiToken}` } })
  assert.equal(refused.status, 401)
})

step('a terminal account is edited; a blank secret keeps the stored one', async () => {
  const term = await ok(page, 'POST', '/terminals', { name: 'e2e-db01', hostAddress: '10.0.0.5' })
  const acc = await ok(page, 'POST', `/terminals/${term.id}/accounts`, { username: 'root', password: 'Root-secret-1' })
  const before = sql(`SELECT secret_enc FROM terminal_accounts WHERE id = '${acc.id}'`)
  assert.ok(before.length > 10, 'the secret is stored encrypted')

  await page.click('[data-test="menu-terminals"]')
  await row('e2e-db01').locator('[data-test="terminal-accounts"]').click()
  const dialog = page.locator('.el-dialog', { hasText: 'Accounts of e2e-db01' })
  const accRow = dialog.locator('[data-test="accounts"] .el-table__row', { hasText: 'root' })
  await accRow.waitFor()
  // A new account needs a secret (checked before sending).
  await dialog.locator('input[data-test="account-username"]').fill('deploy')
  await dialog.locator('[data-test="account-save"]').click()
  await dialog.getByText('Password is required').waitFor()

  await accRow.locator('[data-test="account-edit"]').click()
  await dialog.getByText('Edit account root').waitFor()
  assert.equal(await dialog.locator('input[data-test="account-username"]').inputValue(), 'root')
  assert.equal(await dialog.locator('input[data-test="account-password"]').inputValue(), '')
  await dialog.getByText('leave empty to keep the stored one').waitFor()
  await dialog.locator('input[data-test="account-username"]').fill('ops')
  await dialog.locator('input[data-test="account-comments"]').fill('on-call')
  await settle()
  await shot('terminal-account-edit')
  await dialog.locator('[data-test="account-save"]').click()
  const edited = dialog.locator('[data-test="accounts"] .el-table__row', { hasText: 'ops' })
  await edited.waitFor()
  await edited.locator('[data-test="secret-at-cloud"]').waitFor()
  assert.equal(await dialog.locator('[data-test="accounts"] .el-table__row', { hasText: 'root' }).count(), 0)

  const t = await ok(page, 'GET', `/terminals/${term.id}`)
  assert.equal(t.accounts.length, 1)
  assert.deepEqual(
    { username: t.accounts[0].username, comments: t.accounts[0].comments, auth: t.accounts[0].auth, secretAt: t.accounts[0].secretAt },
    { username: 'ops', comments: 'on-call', auth: 'password', secretAt: 'cloud' },
  )
  assert.equal(sql(`SELECT secret_enc FROM terminal_accounts WHERE id = '${acc.id}'`), before, 'the secret is unchanged')

  // A new password replaces it.
  await edited.locator('[data-test="account-edit"]').click()
  await dialog.locator('input[data-test="account-password"]').fill('New-secret-2')
  await dialog.locator('[data-test="account-save"]').click()
  await dialog.getByText('Add account', { exact: true }).first().waitFor()
  assert.notEqual(sql(`SELECT secret_enc FROM terminal_accounts WHERE id = '${acc.id}'`), before)
  await page.keyboard.press('Escape')
  // The terminal list shows the new username.
  await row('e2e-db01').getByText('ops').waitFor()
})

const BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="e2e">
  <process id="e2e_sched" isExecutable="true">
    <startEvent id="s"><outgoing>f</outgoing></startEvent>
    <sequenceFlow id="f" sourceRef="s" targetRef="e"/>
    <endEvent id="e"><incoming>f</incoming></endEvent>
  </process>
</definitions>`

step('a catch-up schedule with validity dates survives open-and-save', async () => {
  await ok(page, 'POST', '/processes', { xml: BPMN })
  const made = await ok(page, 'POST', '/schedules', {
    name: 'e2e catch-up', process: 'e2e_sched', cron: '0 30 9 ? * MON-FRI', tz: 'Asia/Shanghai',
    validFrom: '2030-01-01T00:00:00Z', validUntil: '2031-06-30T16:00:00Z', misfire: 'catch-up:5400', overlap: 'skip',
    variables: { region: 'east' },
  })
  assert.deepEqual(made.spec.misfire, { catch_up: { window: 5400 } })

  await page.click('[data-test="menu-schedules"]')
  const r = row('e2e catch-up')
  await r.waitFor()
  assert.match(await r.locator('[data-test="misfire"]').innerText(), /Catch up \(1 h 30 min\)/)
  await r.locator('[data-test="crud-edit"]').click()
  const dialog = page.locator('.el-dialog', { hasText: 'Edit: Schedule' })
  await dialog.waitFor()
  const field = (key) => dialog.locator(`[data-field="${key}"]`)
  assert.match(await field('misfire').locator('.el-select').innerText(), /Catch up missed fires/)
  assert.equal(await field('catchUpWindow').locator('input').inputValue(), '5400')
  // Shown in the browser's zone (Asia/Shanghai, UTC+8).
  assert.equal(await field('validFrom').locator('input').inputValue(), '2030-01-01 08:00:00')
  assert.equal(await field('validUntil').locator('input').inputValue(), '2031-07-01 00:00:00')
  await field('validUntil').scrollIntoViewIfNeeded()
  await settle()
  await shot('schedule-edit')
  await dialog.locator('[data-test="dialog-save"]').click()
  await dialog.waitFor({ state: 'detached' })
  const after = await ok(page, 'GET', `/schedules/${made.id}`)
  for (const k of ['name', 'process', 'version', 'variables', 'spec', 'overlap', 'enabled']) {
    assert.deepEqual(after[k], made[k], `${k} unchanged by open-and-save`)
  }

  // A new one through the form: catch-up with a window, validity typed in.
  await page.click('[data-test="crud-new"]')
  const create = page.locator('.el-dialog', { hasText: 'New: Schedule' })
  await create.waitFor()
  const cf = (key) => create.locator(`[data-field="${key}"]`)
  await cf('name').locator('input').fill('e2e typed')
  await cf('process').locator('.el-select').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'e2e_sched' }).click()
  await cf('cron').locator('input').fill('0 0 3 * * ?')
  await cf('tz').locator('input').fill('Asia/Shanghai')
  await cf('misfire').locator('.el-select').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'Catch up missed fires' }).click()
  await cf('catchUpWindow').locator('input').fill('7200')
  const typeDate = async (key, text) => {
    const input = cf(key).locator('input')
    await input.click()
    await input.fill(text)
    await input.press('Enter')
    // Away from the picker (Escape would close the dialog).
    await create.locator('.el-dialog__title').click()
  }
  // Until before from: checked before sending.
  await typeDate('validFrom', '2030-03-01 08:00:00')
  await typeDate('validUntil', '2030-02-01 08:00:00')
  await create.locator('[data-test="dialog-save"]').click()
  await cf('validUntil').getByText('Must be after the start of validity').waitFor()
  await typeDate('validUntil', '2030-12-31 20:00:00')
  // A cron the server refuses: its message shows on the cron field.
  await cf('cron').locator('input').fill('0 0 25 * * ?')
  await create.locator('[data-test="dialog-save"]').click()
  await cf('cron').locator('.el-form-item__error').waitFor()
  await cf('cron').scrollIntoViewIfNeeded()
  await settle()
  await shot('schedule-new-error')
  await cf('cron').locator('input').fill('0 0 3 * * ?')
  await create.locator('[data-test="dialog-save"]').click()
  await create.waitFor({ state: 'detached' })
  const typed = (await ok(page, 'GET', '/schedules?q=e2e%20typed')).items[0]
  assert.deepEqual(typed.spec.misfire, { catch_up: { window: 7200 } })
  assert.equal(typed.spec.valid_from, '2030-03-01T00:00:00Z')
  assert.equal(typed.spec.valid_until, '2030-12-31T12:00:00Z')
  await row('e2e typed').locator('[data-test="misfire"]', { hasText: 'Catch up (2 h)' }).waitFor()
  await settle()
  await shot('schedules')
})

step('the audit log shows these actions, filtered and paged', async () => {
  // Enough lines for two pages of 20.
  for (let i = 0; i < 22; i++) await ok(page, 'PUT', `/globals/e2e_g${i}`, { value: i })
  await page.click('[data-test="menu-audit"]')
  const table = page.locator('[data-test="audit-table"]')
  await table.locator('.el-table__row').first().waitFor()
  // Newest first: the last global set.
  assert.match(await table.locator('.el-table__row').first().innerText(), /e2e_g21/)
  await settle()
  await shot('audit')

  const choose = async (test, text) => {
    await page.locator(`[data-test="${test}"]`).click()
    await page.locator('.el-select-dropdown__item:visible').getByText(text, { exact: true }).click()
    await page.waitForTimeout(300)
  }
  // Kind: host, action: reissue → the token reissued above, by admin.
  await choose('audit-kind', 'Host')
  await choose('audit-action', 'Reissue token')
  // The table shows the answer to the last filter once it has come.
  await eventually(async () => {
    const lines = await table.locator('.el-table__row').allInnerTexts()
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0], /admin/)
    assert.match(lines[0], /Reissue token/)
    assert.ok(lines[0].includes(hosts['e2e-h2'].id), lines[0])
  })
  await choose('audit-action', 'Revoke token')
  await table.locator('.el-table__row', { hasText: hosts['e2e-h2'].id }).waitFor()
  // Backups: an update of h1 whose detail names them.
  await choose('audit-action', 'Update')
  await page.fill('input[data-test="audit-q"]', 'backups')
  await page.press('input[data-test="audit-q"]', 'Enter')
  await table.locator('.el-table__row', { hasText: hosts['e2e-h1'].id }).first().waitFor()
  // The API token and the terminal account show up too.
  await page.reload()
  await choose('audit-kind', 'API token')
  await eventually(async () =>
    assert.deepEqual((await table.locator('[data-test="audit-row-action"]').allInnerTexts()).sort(), ['Create', 'Delete']),
  )
  await page.reload()
  await choose('audit-kind', 'Terminal account')
  await table.locator('.el-table__row', { hasText: 'ops@e2e-db01' }).first().waitFor()

  // Paging: 20 a page, the next page goes on where it stopped.
  await page.reload()
  await table.locator('.el-table__row').first().waitFor()
  await page.locator('.pager .el-select').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '20 per page' }).click()
  await page.locator('[data-test="audit-range-shown"]', { hasText: 'Rows 1–20' }).waitFor()
  const first = await eventually(async () => {
    const lines = await table.locator('.el-table__row').allInnerTexts()
    assert.equal(lines.length, 20)
    return lines
  })
  await page.click('[data-test="audit-next"]')
  await page.locator('[data-test="audit-range-shown"]', { hasText: /Rows 21–/ }).waitFor()
  const all = await ok(page, 'GET', '/audit?limit=500')
  await eventually(async () => {
    const second = await table.locator('.el-table__row').allInnerTexts()
    assert.equal(second.length, Math.min(20, all.length - 20))
    assert.ok(!second.some((l) => first.includes(l)), 'the pages do not overlap')
  })
  await page.click('[data-test="audit-prev"]')
  await page.locator('[data-test="audit-range-shown"]', { hasText: 'Rows 1–20' }).waitFor()

  // A bad window: the server's message.
  const bad = await call(page, 'GET', '/audit?from=10&to=5')
  assert.equal(bad.status, 400)
  assert.equal(bad.body.field, 'query.to')
})

step('the new screens in Chinese', async () => {
  await page.evaluate(() => localStorage.setItem('baton.lang', 'zh-CN'))
  await page.goto(`${srv.base}/audit`)
  await page.locator('[data-test="menu-audit"]', { hasText: '审计日志' }).waitFor()
  await page.locator('[data-test="audit-table"] .el-table__row').first().waitFor()
  await page.locator('[data-test="audit-table"] th', { hasText: '操作' }).first().waitFor()
  await settle()
  await shot('audit-zh')
  await page.goto(`${srv.base}/hosts`)
  await named('e2e-h1').locator('[data-test="host-backup"]').first().waitFor()
  await settle()
  await shot('hosts-zh')
  await page.evaluate(() => localStorage.setItem('baton.lang', 'en'))
})
