// Signing in from WeChat on the mobile page (issue 7 item 4), end to end in a
// real Chromium against a real `baton serve`: the company's WeChat settings
// are saved, a phone opens the official account's entry URL
// `/?appid=…&companyCode=…`, is sent through WeChat's authorisation back to
// the sign-in page, binds its WeChat account by signing in once (and changes
// the password it was given), sees "WeChat: Bound" on its to-do list; a
// second phone session is signed in by WeChat alone; the users screen shows
// the binding and an administrator unbinds it, after which WeChat no longer
// signs in. The app secret appears in no page and no server log line.
//
// WeChat's servers cannot be reached from the test machine: a local stand-in
// (node:http, below) speaks WeChat's documented web-authorisation protocol
// (`/connect/oauth2/authorize` redirects to `redirect_uri?code&state`;
// `/sns/oauth2/access_token` checks appid and secret and answers
// `{access_token, expires_in, refresh_token, openid, scope}` or
// `{"errcode":40029,"errmsg":"invalid code"}`), and the server is started
// with `--wechat-open-base` / `--wechat-api-base` pointing at it. The real
// WeChat client and servers were not exercised.
//
//   node --test e2e/wechat.test.js   (BATON_BIN, CHROMIUM and CARGO_TARGET_DIR override the paths)
import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { artifacts, artifactsDir, closeBrowsers, launch, ok, signInFirstAdmin, skip, startServer, step } from './harness.js'

const APPID = 'wxE2Etest0001'
const SECRET = 'S3cretWX-e2e-appsecret-0001'
const PASSWORD = 'Alice-first-123'
const NEW_PASSWORD = 'Alice-second-456'

/** WeChat as documented, for one appid; `visitor` is whoever uses WeChat now. */
const wechat = { visitor: 'o-alice-e2e', codes: new Map(), tokenCalls: 0, base: '', forgetCodes: false }
const standIn = createServer((req, res) => {
  const u = new URL(req.url, 'http://x')
  const q = (k) => u.searchParams.get(k) || ''
  const json = (v) => {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(v))
  }
  if (u.pathname === '/connect/oauth2/authorize') {
    const state = q('state')
    if (q('appid') !== APPID || q('response_type') !== 'code' || q('scope') !== 'snsapi_base' || !/^[A-Za-z0-9]{1,128}$/.test(state)) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('参数错误')
      return
    }
    const code = `code${Math.random().toString(36).slice(2)}`
    // forgetCodes: a code that its own token endpoint will not take.
    if (!wechat.forgetCodes) wechat.codes.set(code, { openid: wechat.visitor, used: false })
    const back = new URL(q('redirect_uri'))
    back.searchParams.set('code', code)
    back.searchParams.set('state', state)
    res.writeHead(302, { Location: back.toString() })
    res.end()
    return
  }
  if (u.pathname === '/sns/oauth2/access_token') {
    wechat.tokenCalls++
    if (q('appid') !== APPID) return json({ errcode: 40013, errmsg: 'invalid appid' })
    if (q('secret') !== SECRET) return json({ errcode: 40125, errmsg: 'invalid appsecret' })
    if (q('grant_type') !== 'authorization_code') return json({ errcode: 40002, errmsg: 'invalid grant_type' })
    const c = wechat.codes.get(q('code'))
    if (!c) return json({ errcode: 40029, errmsg: 'invalid code' })
    if (c.used) return json({ errcode: 40163, errmsg: 'code been used' })
    c.used = true
    return json({ access_token: 'ACCESS', expires_in: 7200, refresh_token: 'REFRESH', openid: c.openid, scope: 'snsapi_base' })
  }
  res.writeHead(404)
  res.end()
})

let srv
let admin
const phoneSize = { viewport: { width: 375, height: 812 }, locale: 'en-US', userAgent: 'Mozilla/5.0 (iPhone) MicroMessenger/8.0' }

/** A phone that has never been here (no cookies, no stored token). */
async function freshPhone() {
  const ctx = await launch(phoneSize)
  const p = ctx.pages()[0] || (await ctx.newPage())
  p.on('pageerror', (e) => console.error('phone page error:', e.message))
  return p
}
const entry = () => `${srv.base}/?appid=${APPID}&companyCode=default`

before(async () => {
  if (skip) return
  artifactsDir()
  await new Promise((r) => standIn.listen(0, '127.0.0.1', r))
  wechat.base = `http://127.0.0.1:${standIn.address().port}`
  // No --public-url: WeChat is told to send the browser back to the address it used.
  srv = await startServer(['--wechat-open-base', wechat.base, '--wechat-api-base', wechat.base])
  const ctx = await launch({ viewport: { width: 1440, height: 900 }, locale: 'en-US' })
  admin = ctx.pages()[0] || (await ctx.newPage())
  admin.on('pageerror', (e) => console.error('page error:', e.message))
  await signInFirstAdmin(admin, srv)
  await ok(admin, 'PUT', '/companies/default', { code: 'default', name: 'Default', wechatAppid: APPID, wechatAppsecret: SECRET })
  await ok(admin, 'POST', '/users', { username: 'alice', name: 'Alice', password: PASSWORD })
})

after(async () => {
  await closeBrowsers()
  if (srv) await srv.stop()
  standIn.close()
})

step('first visit from WeChat: sign in once to bind, then the to-do list', async () => {
  const phone = await freshPhone()
  await phone.goto(entry())
  await phone.waitForURL(/\/m\/login\?company=default/)
  await phone.locator('[data-test="m-wechat-bind"]').waitFor()
  assert.match(await phone.locator('[data-test="m-wechat-bind"]').innerText(), /bind your WeChat account/)
  assert.ok(!phone.url().includes('#wechat='), `the ticket left the address bar: ${phone.url()}`)
  assert.equal(wechat.tokenCalls, 1)
  await phone.screenshot({ path: join(artifacts, 'wechat-bind.png') })

  // A wrong password binds nothing.
  await phone.fill('input[name="username"]', 'alice')
  await phone.fill('input[name="password"]', 'not-her-password')
  await phone.click('[data-test="m-login-submit"]')
  await phone.locator('[data-test="m-login-error"]').waitFor()
  const users = await ok(admin, 'GET', '/users')
  assert.equal(users.items.find((u) => u.username === 'alice').wechatBound, false)

  await phone.fill('input[name="password"]', PASSWORD)
  await phone.click('[data-test="m-login-submit"]')
  // The administrator set her password: she changes it first.
  await phone.waitForURL(/\/m\/password/)
  const fields = phone.locator('input[type="password"]')
  await fields.nth(0).fill(PASSWORD)
  await fields.nth(1).fill(NEW_PASSWORD)
  await fields.nth(2).fill(NEW_PASSWORD)
  await phone.locator('button[type="submit"]').click()
  await phone.waitForURL((u) => u.pathname === '/m')
  await phone.locator('[data-test="m-wechat-state"]').waitFor()
  assert.match(await phone.locator('[data-test="m-wechat-state"]').innerText(), /WeChat: Bound/)
  await phone.screenshot({ path: join(artifacts, 'wechat-bound.png') })
})

step('next visit from WeChat signs in without a password', async () => {
  const phone = await freshPhone()
  await phone.goto(entry())
  await phone.waitForURL((u) => u.pathname === '/m')
  await phone.locator('[data-test="m-wechat-state"]').waitFor()
  assert.match(await phone.locator('.m-who').innerText(), /Alice/)
  assert.ok(!phone.url().includes('csrf'), `the token left the address bar: ${phone.url()}`)
  // Signed in for real: a change (it needs the CSRF token) goes through.
  const r = await phone.evaluate(async () => {
    const res = await fetch('/api/v1/auth/tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': localStorage.getItem('baton.csrf') },
      body: JSON.stringify({ name: 'from-wechat' }),
    })
    return res.status
  })
  assert.equal(r, 201)
  // Opened again while signed in: straight to the to-do list.
  await phone.goto(entry())
  await phone.waitForURL((u) => u.pathname === '/m')
})

step('the users screen shows the binding and an administrator unbinds it', async () => {
  await admin.goto(`${srv.base}/users`)
  const row = admin.locator('[data-test="crud-table"] .el-table__row', { hasText: 'alice' })
  await row.locator('[data-test="user-wechat"]', { hasText: 'Bound' }).waitFor()
  await admin.waitForTimeout(400) // the tags fade in
  await admin.screenshot({ path: join(artifacts, 'wechat-users.png') })
  await row.locator('[data-test="user-wechat-unbind"]').click()
  await admin.locator('.el-message-box').getByRole('button', { name: 'OK' }).click()
  await row.locator('[data-test="user-wechat"]', { hasText: 'Not bound' }).waitFor()
  assert.equal(await row.locator('[data-test="user-wechat-unbind"]').count(), 0)

  // WeChat no longer signs her in: the sign-in page offers to bind again.
  const phone = await freshPhone()
  await phone.goto(entry())
  await phone.waitForURL(/\/m\/login/)
  await phone.locator('[data-test="m-wechat-bind"]').waitFor()

  const audit = await ok(admin, 'GET', '/audit')
  const actions = (Array.isArray(audit) ? audit : audit.items).map((a) => a.action)
  assert.ok(actions.includes('wechat-bind') && actions.includes('wechat-unbind'), actions.join(' '))
  assert.ok(!srv.log().includes(SECRET), 'the app secret is in the server log')
})

step('a refused WeChat sign-in says why on the phone, in its language', async () => {
  // A menu link with another appid than the company set up.
  const phone = await freshPhone()
  await phone.goto(`${srv.base}/?appid=wxSomeoneElse&companyCode=default`)
  await phone.waitForURL((u) => u.pathname === '/m/wechat')
  await phone.locator('[data-test="m-wechat-failed"]').waitFor()
  assert.match(await phone.locator('[data-test="m-wechat-reason"]').innerText(), /the appid is not the one company `default` has set up/)
  assert.equal(new URL(phone.url()).hash, '', 'the reason left the address bar')
  await phone.screenshot({ path: join(artifacts, 'wechat-refused.png') })

  // WeChat sends back a code it will not take: in Chinese on a Chinese phone.
  const zh = await launch({ ...phoneSize, locale: 'zh-CN' })
  const p = zh.pages()[0] || (await zh.newPage())
  wechat.forgetCodes = true
  try {
    await p.goto(entry())
    await p.waitForURL((u) => u.pathname === '/m/wechat')
    await p.locator('[data-test="m-wechat-reason"]').waitFor()
    assert.match(await p.locator('[data-test="m-wechat-reason"]').innerText(), /微信未接受登录码（errcode 40029：invalid code）/)
  } finally {
    wechat.forgetCodes = false
  }
  // A program asking for JSON still gets the error as JSON.
  const r = await phone.evaluate(async () => {
    const res = await fetch('/api/v1/wechat/entry?appid=wxSomeoneElse&companyCode=default', { redirect: 'manual' })
    return { status: res.status, body: await res.json() }
  })
  assert.equal(r.status, 400)
  assert.equal(r.body.field, 'query.appid')
})
