// smoke loads the page at argv[2] at a phone's width and reports its title
// and scroll width: the harness's own test.
import { run } from './lib.mjs';

await run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(process.argv[2]);
  return {
    title: await page.title(),
    scrollWidth: await page.evaluate(() => document.documentElement.scrollWidth),
  };
});
