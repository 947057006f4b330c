/**
 * Headless Debian Chromium driven by playwright-core (no Playwright browser download: it cannot work on this
 * network). A new empty profile folder per launch; background networking is switched off because only loopback
 * is reachable.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { N8nInstance } from './n8n';
import { ARTIFACTS_DIR, CHROMIUM_PATH } from './paths';

export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-dev-shm-usage',
	// Only loopback exists here: no name other than the test hosts resolves.
	'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

const isLoopback = (url: string): boolean => {
	try {
		const { protocol, hostname } = new URL(url);
		if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
		return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
	} catch {
		return true;
	}
};

export interface BrowserSession {
	context: BrowserContext;
	page: Page;
	userDataDir: string;
	/** Console errors and failed requests seen so far (for diagnostics). */
	problems: string[];
	/** Requests to anything but loopback, aborted before they left the browser (the editor asks registry.npmjs.org
	 * about community packages, for instance). */
	blocked: string[];
	close(): Promise<void>;
}

export async function launchBrowser(options: { viewport?: { width: number; height: number }; headless?: boolean } = {}): Promise<BrowserSession> {
	if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: run \`bash scripts/chromium-install.sh\``);
	const userDataDir = mkdtempSync(join(tmpdir(), 'mde-chromium-'));
	const context = await chromium.launchPersistentContext(userDataDir, {
		executablePath: CHROMIUM_PATH,
		headless: options.headless ?? true,
		args: CHROMIUM_ARGS,
		viewport: options.viewport ?? { width: 1600, height: 1000 },
		locale: 'en-US',
		timezoneId: 'UTC',
	});
	context.setDefaultTimeout(30_000);
	const blocked: string[] = [];
	await context.route(
		(url) => !isLoopback(url.href),
		async (route) => {
			blocked.push(route.request().url());
			await route.abort('blockedbyclient');
		},
	);
	const page = context.pages()[0] ?? (await context.newPage());
	const problems: string[] = [];
	page.on('console', (msg) => {
		if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
	});
	page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
	page.on('requestfailed', (req) => {
		// net::ERR_ABORTED is a load cancelled by navigation, not a failure.
		if (isLoopback(req.url()) && req.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`requestfailed: ${req.url()} ${req.failure()?.errorText ?? ''}`);
	});
	return {
		context,
		page,
		userDataDir,
		problems,
		blocked,
		async close() {
			await context.close();
			rmSync(userDataDir, { recursive: true, force: true });
		},
	};
}

/** Signs in through the editor's sign-in form as the instance owner (call login()/ensureApiKey() first to create it). */
export async function signInToEditor(page: Page, instance: N8nInstance): Promise<void> {
	await page.goto(`${instance.baseUrl}/signin`, { waitUntil: 'domcontentloaded' });
	const email = page.locator('input[name="emailOrLdapLoginId"], input[type="email"]').first();
	await email.waitFor({ state: 'visible' });
	await email.fill(instance.owner.email);
	await page.locator('input[name="password"], input[type="password"]').first().fill(instance.owner.password);
	await page.locator('[data-test-id="form-submit-button"], button[type="submit"]').first().click();
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 30_000 });
}

/**
 * Empties artifacts/<group> (so a stale failure screenshot never survives a passing run): its files, not its
 * subfolders, which other suites own (artifacts/editor/dev is dev.e2e.ts's).
 */
export function clearArtifacts(group: string): void {
	const dir = join(ARTIFACTS_DIR, group);
	if (!existsSync(dir)) return;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		if (!entry.isDirectory()) rmSync(join(dir, entry.name), { force: true });
	}
}

/** Saves a screenshot to artifacts/<group>/<name>.png and returns the path. */
export async function screenshot(page: Page, group: string, name: string): Promise<string> {
	const dir = join(ARTIFACTS_DIR, group);
	mkdirSync(dir, { recursive: true });
	const file = join(dir, `${name}.png`);
	await page.screenshot({ path: file, fullPage: false });
	return file;
}
