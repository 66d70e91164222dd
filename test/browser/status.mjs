// status loads a front-end's status page at a phone's and a desktop's
// width and reports what a person would see: whether anything is wider
// than the screen, whether a title update made through the front-end
// (as a source client makes it) shows up without a reload, whether the
// play button plays, whether the listener graphs have points, and every
// request the page made; and, without JavaScript and in a dark theme,
// whether the page still shows the title and fits. It saves a screenshot
// at each width.
//
// STATUS_SOURCE_AUTH=USER:PASSWORD node status.mjs URL MOUNT TITLE SCREENSHOT_DIR
import { run } from './lib.mjs';

const [url, mount, title, shots] = process.argv.slice(2);

// overflow lists the elements that reach beyond the viewport.
const overflow = () => {
  const w = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) {
      out.push(`${el.tagName.toLowerCase()}.${el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className}: ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: w, wide: out };
};

const log = [];
const sel = `article.mount[data-mount="${mount}"]`;

async function open(browser, width, height, requests, errors) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => log.push(`${r.status()} ${r.url()}`));
  page.on('requestfailed', (r) => log.push(`failed ${r.url()}: ${r.failure() && r.failure().errorText}`));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url, { waitUntil: 'load' });
  return page;
}

// points counts the points of the graphs' polylines.
const points = () => Array.from(document.querySelectorAll('svg.spark polyline'), (p) =>
  (p.getAttribute('points') || '').trim().split(/\s+/).filter(Boolean).length);

await run(async (browser) => {
  const requests = [];
  const errors = [];
  const result = {};

  // A phone.
  let page = await open(browser, 390, 844, requests, errors);
  result.phone = await page.evaluate(overflow);
  await page.evaluate(() => { window.notReloaded = true; });
  const q = new URLSearchParams({ mount, mode: 'updinfo', song: title });
  const auth = 'Basic ' + Buffer.from(process.env.STATUS_SOURCE_AUTH || '').toString('base64');
  const start = Date.now();
  const resp = await fetch(new URL('/admin/metadata?' + q, url), { headers: { Authorization: auth } });
  result.updateStatus = resp.status;
  await page.waitForFunction(([s, t]) => {
    const el = document.querySelector(s + ' .title');
    return el && el.textContent === t;
  }, [sel, title], { timeout: 15000 });
  result.titleMs = Date.now() - start;
  result.notReloaded = await page.evaluate(() => window.notReloaded === true);
  result.titleText = await page.textContent(sel + ' .title');

  // The play button: the <audio> element's own control, at its left end.
  const audio = page.locator(sel + ' audio');
  await audio.scrollIntoViewIfNeeded();
  const box = await audio.boundingBox();
  await page.mouse.click(box.x + 20, box.y + box.height / 2);
  await page.waitForFunction((s) => document.querySelector(s + ' audio').currentTime > 2, sel, { timeout: 30000 })
    .catch(async (e) => {
      const a = await page.evaluate((s) => {
        const a = document.querySelector(s + ' audio');
        return { paused: a.paused, time: a.currentTime, network: a.networkState, ready: a.readyState, error: a.error && a.error.message, src: a.currentSrc };
      }, sel);
      throw new Error(`the player did not play: ${JSON.stringify(a)}, clicked at ${JSON.stringify(box)}: ${e.message}; ${log.join('; ')}`);
    });
  result.audio = await page.evaluate((s) => {
    const a = document.querySelector(s + ' audio');
    return { currentTime: a.currentTime, paused: a.paused, src: a.currentSrc };
  }, sel);

  // The graphs fill as the front-end samples (every second in the test).
  await page.waitForFunction(() => Array.from(document.querySelectorAll('svg.spark polyline'))
    .every((p) => (p.getAttribute('points') || '').trim().split(/\s+/).length >= 3), null, { timeout: 30000 });
  result.graphPoints = await page.evaluate(points);
  // The listener count follows the player.
  await page.waitForFunction((s) => Number(document.querySelector(s + ' .listeners').textContent) >= 1, sel, { timeout: 30000 });
  result.phoneAfter = await page.evaluate(overflow);
  await page.screenshot({ path: `${shots}/status-390.png`, fullPage: true });
  await page.close();

  // A desktop.
  page = await open(browser, 1400, 900, requests, errors);
  result.desktop = await page.evaluate(overflow);
  result.desktopTitle = await page.textContent(sel + ' .title');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('svg.spark polyline'))
    .every((p) => (p.getAttribute('points') || '').trim().split(/\s+/).length >= 3), null, { timeout: 30000 });
  await page.screenshot({ path: `${shots}/status-1400.png`, fullPage: true });
  await page.close();

  // Dark, and without JavaScript: the page is rendered on the server.
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false, colorScheme: 'dark' });
  page = await ctx.newPage();
  await page.goto(url, { waitUntil: 'load' });
  result.noScript = await page.evaluate(overflow);
  result.noScriptTitle = await page.textContent(sel + ' .title');
  result.darkBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await ctx.close();

  result.requests = requests;
  result.errors = errors;
  return result;
});
