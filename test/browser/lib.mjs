// Shared start-up for the headless Chromium scripts the Go tests run
// (internal/browsertest). A script calls run with a function that gets the
// browser and returns a result; run prints it as one JSON document on
// stdout, which the Go test decodes and checks, and closes the browser
// whatever happens. A thrown error exits with status 1 and its stack on
// stderr.
import { chromium } from 'playwright-core';

// Chromium's own connections (updates, sync, Google lookups) are refused on
// a closed network; these flags keep it from trying. Autoplay is allowed so
// that a test can start an <audio> element without a click.
const flags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--autoplay-policy=no-user-gesture-required',
];

// launch starts Debian's Chromium headless. opts.args adds flags (for
// example --ignore-certificate-errors-spki-list=...).
export async function launch(opts = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...flags, ...(opts.args || [])],
    timeout: 60000,
  });
}

// run launches Chromium with opts, awaits fn(browser), prints its result
// as JSON and exits: 0 on success, 1 when fn throws or the script runs
// longer than BROWSER_SCRIPT_TIMEOUT_MS (default 120 s).
export async function run(fn, opts = {}) {
  const limit = Number(process.env.BROWSER_SCRIPT_TIMEOUT_MS || 120000);
  let browser;
  const timer = setTimeout(() => exit(1, `script still running after ${limit} ms`), limit);
  try {
    browser = await launch(opts);
    const result = await fn(browser);
    clearTimeout(timer);
    await browser.close();
    exit(0, JSON.stringify(result === undefined ? null : result));
  } catch (e) {
    clearTimeout(timer);
    if (browser) await browser.close().catch(() => {});
    exit(1, e && e.stack ? e.stack : String(e));
  }
}

function exit(code, text) {
  const out = code === 0 ? process.stdout : process.stderr;
  out.write(text + '\n', () => process.exit(code));
}
