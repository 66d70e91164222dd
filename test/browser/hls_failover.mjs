// hls_failover plays the HLS page at argv[2] (an <audio> element fed by
// hls.js from a front-end of another origin), waits until it has played a
// few seconds, asks the page's server to kill the front-end that serves
// it (GET /kill?host=...), and follows playback for argv[3] seconds more.
// It reports the longest time currentTime did not move after the kill, and
// where fragments came from before and after.
import { run } from './lib.mjs';

const url = process.argv[2];
const followMs = Number(process.argv[3] || 25) * 1000;

await run(async (browser) => {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.player && window.player.audio.currentTime > 3, null,
    { timeout: 60000, polling: 100 });
  const host = await page.evaluate(() => new URL(window.player.frags.at(-1).url).host);
  const killedAt = await page.evaluate(async (host) => {
    const resp = await fetch('/kill?host=' + encodeURIComponent(host));
    if (!resp.ok) throw new Error('kill: ' + resp.status);
    return performance.now();
  }, host);
  await page.waitForTimeout(followMs);
  return page.evaluate(({ host, killedAt }) => {
    const p = window.player;
    let maxStall = 0, last = null;
    for (const [t, ct] of p.samples) {
      if (t < killedAt) { last = [t, ct]; continue; }
      if (last && ct > last[1]) {
        maxStall = Math.max(maxStall, t - last[0]);
        last = [t, ct];
      }
    }
    const end = p.samples.at(-1);
    if (last) maxStall = Math.max(maxStall, end[0] - last[0]);
    const after = p.frags.filter((f) => f.t > killedAt).map((f) => new URL(f.url).host);
    return {
      host,
      playedBeforeKill: p.samples.filter(([t]) => t <= killedAt).at(-1)[1],
      playedAfterKill: end[1] - p.samples.filter(([t]) => t <= killedAt).at(-1)[1],
      maxStallMs: Math.round(maxStall),
      hostsAfter: [...new Set(after)],
      errors: p.errors,
    };
  }, { host, killedAt });
});
