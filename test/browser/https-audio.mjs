// https-audio opens the HTTPS page argv[2], adds an <audio> element playing
// the https:// stream argv[3], and reports how far playback got after a few
// seconds. argv[4] are Chromium's host resolver rules (the cluster's names
// to loopback addresses); argv[5] is the base64 SHA-256 of the public key
// of the server certificate, the only one trusted without a CA.
import { run } from './lib.mjs';

const [pageURL, audioURL, rules, spki] = process.argv.slice(2);

await run(async (browser) => {
  const page = await browser.newPage();
  const response = await page.goto(pageURL);
  const result = await page.evaluate(async (src) => {
    const audio = document.createElement('audio');
    audio.src = src;
    document.body.appendChild(audio);
    let error = null;
    audio.addEventListener('error', () => { error = audio.error ? audio.error.message || String(audio.error.code) : 'error'; });
    try {
      await audio.play();
    } catch (e) {
      error = String(e);
    }
    const start = Date.now();
    while (Date.now() - start < 15000 && audio.currentTime < 3 && !error) {
      await new Promise((r) => setTimeout(r, 200));
    }
    return { currentTime: audio.currentTime, error, readyState: audio.readyState, src: audio.currentSrc };
  }, audioURL);
  return { ...result, pageStatus: response.status(), pageProtocol: new URL(page.url()).protocol };
}, { args: ['--host-resolver-rules=' + rules, '--ignore-certificate-errors-spki-list=' + spki] });
