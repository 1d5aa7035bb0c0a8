import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's chromium (installed by deploy/test-packages.sh), or CHROMIUM_BIN. */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
export const NO_CHROMIUM = "chromium not found: install Debian's `chromium` package (apt-get install chromium), which CI installs too, or set CHROMIUM_BIN";
/** Where the console tests keep their screenshots (gitignored). */
export const ARTIFACTS = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'console');

export interface OpenBrowser {
  browser: Browser;
  /** A 1280×900 page. */
  page: Page;
  /** Every URL the page requested, to show nothing was fetched from elsewhere. */
  requested: string[];
  /** Saves a screenshot of the page under ARTIFACTS and names it in the test output. */
  shot(name: string, fullPage?: boolean): Promise<void>;
}

/** A headless chromium with a throwaway profile, closed and removed at the test's end. */
export async function openBrowser(t: { teardown(fn: () => unknown): void; comment(...args: unknown[]): void }): Promise<OpenBrowser> {
  if (!CHROMIUM) throw new Error(NO_CHROMIUM);
  const profile = mkdtempSync(join(tmpdir(), 'veracity-chromium-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
    protocolTimeout: 60_000,
  });
  t.teardown(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  return {
    browser,
    page,
    requested,
    async shot(name, fullPage = true) {
      await page.screenshot({ path: join(ARTIFACTS, name), fullPage });
      t.comment(`screenshot: ${join(ARTIFACTS, name)}`);
    },
  };
}
