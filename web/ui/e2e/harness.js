// The shared harness of the end-to-end tests: a real `baton serve` on a
// temporary SQLite store, Chromium with fresh profiles, API calls from a
// signed-in page, diagram helpers, and tests that leave a screenshot of the
// page they failed on. Each e2e file starts its own server.
//
// BATON_BIN, CHROMIUM and CARGO_TARGET_DIR override the paths. Without
// Chromium or the binary the tests are skipped, except under CI=true, where
// that fails.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const artifacts = join(here, 'artifacts')
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const TARGET = process.env.CARGO_TARGET_DIR || join(here, '..', '..', '..', 'target')
export const BATON = process.env.BATON_BIN || join(TARGET, 'debug', 'baton')
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]
/** The password the first admin is given by `signInFirstAdmin`. */
export const NEW_PASSWORD = 'E2e-password-2026'

const missing = [
  !existsSync(CHROMIUM) && `Chromium (${CHROMIUM}; apt-get install chromium)`,
  !existsSync(BATON) && `the baton binary (${BATON}; cargo build -p baton)`,
].filter(Boolean)
if (missing.length && process.env.CI === 'true') {
  throw new Error(`CI=true and missing: ${missing.join(', ')}`)
}
/** The `skip` option of every test: a reason when something is missing. */
export const skip = missing.length ? `missing ${missing.join(', ')}` : false

const userDirs = []
const contexts = []

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/**
 * Starts `baton serve` on a free port and a fresh SQLite store (extra flags
 * appended); resolves once it answers, with the first admin's one-time
 * password. `stop()` ends it and removes its directory.
 */
export async function startServer(extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'baton-e2e-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let log = ''
  const child = spawn(
    BATON,
    ['serve', '--listen', `127.0.0.1:${port}`, '--store', `sqlite://${dir}/baton.db?mode=rwc`,
      '--master-key-file', join(dir, 'baton.key'), '--data-dir', join(dir, 'data'), '--drain-secs', '1', ...extra],
    { env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const server = {
    base,
    dir,
    port,
    firstPassword: null,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise((r) => child.once('exit', r))
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`baton serve exited ${child.exitCode}:\n${log}`)
    const m = /with the password\s+(\S+)/.exec(log)
    if (m) {
      try {
        const r = await fetch(`${base}/api/v1/health`)
        if (r.ok) {
          server.firstPassword = m[1]
          return server
        }
      } catch {
        /* not listening yet */
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`baton serve did not start:\n${log}`)
}

/**
 * Signs the first admin in through the login page and changes the one-time
 * password to NEW_PASSWORD; ends on the editor.
 */
export async function signInFirstAdmin(page, server) {
  await page.goto(`${server.base}/editor`)
  await page.waitForURL(/\/login/)
  await page.fill('input[name="username"]', 'admin')
  await page.fill('input[name="password"]', server.firstPassword)
  await page.click('[data-test="login-submit"]')
  await page.waitForURL(/\/password/)
  await page.fill('input[name="current"]', server.firstPassword)
  await page.fill('input[name="new-password"]', NEW_PASSWORD)
  await page.fill('input[name="repeat-password"]', NEW_PASSWORD)
  await page.click('[data-test="password-submit"]')
  await page.waitForURL(/\/editor/)
  await page.locator('[data-test="menu-monitor"]').waitFor()
}

/** Closes every browser this file opened and removes their profiles. */
export async function closeBrowsers() {
  for (const c of contexts) await c.close().catch(() => {})
  for (const d of userDirs) rmSync(d, { recursive: true, force: true })
}

/** Makes the artifacts directory (screenshots). */
export function artifactsDir() {
  mkdirSync(artifacts, { recursive: true })
  return artifacts
}

/** The centre of a diagram element on the page. */
export async function centre(p, id) {
  const box = await p.locator(`.djs-element[data-element-id="${id}"]`).first().boundingBox()
  assert.ok(box, `element ${id} is drawn`)
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 }
}

/** Clicks an entry of the context pad open beside the element at `near`. */
export async function contextPad(p, action, near) {
  const entry = p.locator(`.djs-context-pad .entry[data-action="${action}"]`)
  for (let i = 0; i < 50; i++) {
    const box = await entry.boundingBox()
    if (box && Math.abs(box.x - near.x) < 150 && Math.abs(box.y - near.y) < 150) {
      await p.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
      return
    }
    await p.waitForTimeout(100)
  }
  throw new Error(`no context pad entry ${action} near ${JSON.stringify(near)}`)
}

/**
 * Selects a diagram element by clicking it; returns its centre. bpmn-js
 * swallows the first click after a drag from the palette (a real browser
 * sends none after a drop), so click until it is selected.
 */
export async function select(p, id) {
  const at = await centre(p, id)
  const selected = p.locator(`.djs-element.selected[data-element-id="${id}"]`)
  for (let i = 0; i < 5 && !(await selected.count()); i++) {
    await p.mouse.click(at.x, at.y)
    await p.waitForTimeout(150)
  }
  assert.equal(await selected.count(), 1, `${id} is selected`)
  return at
}

export async function selectedId(p) {
  return p.locator('.djs-element.selected').first().getAttribute('data-element-id')
}

/** Sets a Baton property through the properties panel (schema field, else by name). */
export async function setProperty(p, name, value) {
  const field = p.locator(`[data-test="properties"] [data-prop="${name}"]`).locator('textarea, input').first()
  if (await p.locator('[data-test="no-schemas"]').count()) {
    if (await field.count()) {
      await field.fill(value)
      await field.press('Tab')
      return
    }
    await p.locator('input[data-test="prop-new-name"]').fill(name)
    await p.locator('input[data-test="prop-new-value"]').fill(value)
    await p.locator('[data-test="prop-add"]').click()
    return
  }
  await field.fill(value)
  await field.press('Tab')
}

/** An API call from the signed-in page (its cookie and CSRF token). */
export async function call(p, method, path, body) {
  return p.evaluate(
    async ({ method, path, body }) => {
      const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': localStorage.getItem('baton.csrf') }
      const r = await fetch(`/api/v1${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
      const text = await r.text()
      return { status: r.status, body: text ? JSON.parse(text) : null }
    },
    { method, path, body },
  )
}

export async function ok(p, method, path, body) {
  const r = await call(p, method, path, body)
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/**
 * Retries `check` (an async function that asserts) until it passes or
 * `ms` have gone by, then throws its last failure: for what the page shows
 * once a request it sent has answered.
 */
export async function eventually(check, ms = 10_000) {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await check()
    } catch (e) {
      if (Date.now() > end) throw e
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** Chromium with a fresh profile (playwright passes it as --user-data-dir). */
export async function launch(options) {
  const profile = mkdtempSync(join(tmpdir(), 'baton-e2e-chromium-'))
  userDirs.push(profile)
  const c = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS, headless: true, ...options })
  contexts.push(c)
  return c
}

/** Every page still open, for the screenshots of a failure. */
export function openPages() {
  return contexts.flatMap((c) => {
    try {
      return c.pages()
    } catch {
      return []
    }
  })
}

/** A test that leaves a screenshot of the page it failed on. */
export function step(name, fn) {
  test(name, { skip }, async () => {
    try {
      await fn()
    } catch (e) {
      const base = `failed-${name.replace(/\W+/g, '-')}`
      let n = 0
      for (const p of openPages()) await p.screenshot({ path: join(artifacts, `${base}${n++ ? `-${n}` : ''}.png`) }).catch(() => {})
      throw e
    }
  })
}

