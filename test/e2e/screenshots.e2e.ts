/**
 * The editor as users see it, in a real n8n 2.41.1 in headless Chromium, with checks on what each picture shows:
 *   credential-form      the credential form: Cloud options in order, the onboarding notice with a clickable link,
 *                        the client secret's "Value, not its Secret ID" hint
 *   action-node-panel    Alert → Get Many: Filters before Region and Customer Tenant, Options last
 *   trigger-panel        a trigger added from the node creator (version 1.1): Tenants multi-line, Start From's field
 *                        shown with it
 *   trigger-canvas       the trigger's two output labels, not cut off
 *   example-workflow     examples/mssp-high-severity-triage.workflow.json on the canvas
 * n8n tests a saved credential when its form opens, and no test may reach Microsoft: this n8n sends its outbound
 * HTTPS through the emulator's CONNECT proxy, which serves the Commercial cloud's real hostnames itself
 * (login.microsoftonline.com, api.security.microsoft.com; test/emulator/proxy.ts) and connects nowhere else.
 * Every run writes them to artifacts/screenshots/. Only with UPDATE_README_SCREENSHOTS=1 are the README's pictures
 * (docs/images/*.png, committed) replaced too, so they change when someone means to change them.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

import { NODE_DESCRIPTION } from '../../nodes/MicrosoftDefenderForEndpoint/descriptions/common';
import { ONBOARDING_GUIDE_URL } from '../../credentials/MicrosoftDefenderForEndpointApi.credentials';
import {
	addManualTrigger,
	api,
	clearArtifacts,
	closeOverlays,
	createInstance,
	CREDENTIAL_TYPE,
	creatorItem,
	disposeInstance,
	emulatorCredential,
	importCredentials,
	importWorkflow,
	installPackage,
	launchBrowser,
	login,
	ndv,
	NODE_DISPLAY_NAME,
	openNewWorkflow,
	openNodeCreator,
	packTarball,
	readParameterOptions,
	REPO_ROOT,
	screenshot,
	searchNodeCreator,
	signInToEditor,
	start,
	startEmulatorProcess,
	tid,
	TRIGGER_TYPE,
	type BrowserSession,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';
import { getFreePort } from './lib/proc';

const GROUP = 'screenshots';
const README_IMAGES = join(REPO_ROOT, 'docs', 'images');
const UPDATE_README = process.env.UPDATE_README_SCREENSHOTS === '1';
const EXAMPLE = join(REPO_ROOT, 'examples', 'mssp-high-severity-triage.workflow.json');

/** Saves the picture to artifacts/screenshots/ and, only when asked, to docs/images/ (for the README). */
async function picture(page: Page, name: string, readme: boolean): Promise<void> {
	const file = await screenshot(page, GROUP, name);
	if (readme && UPDATE_README) {
		mkdirSync(README_IMAGES, { recursive: true });
		copyFileSync(file, join(README_IMAGES, `${name}.png`));
	}
}

const visible = async (locator: Locator): Promise<void> => await locator.first().waitFor({ state: 'visible', timeout: 15_000 });

/** Where each text first appears in the element's rendered text (-1: not there). */
async function positions(scope: Locator, texts: string[]): Promise<number[]> {
	const text = (await scope.innerText()).replace(/\s+/g, ' ').toLowerCase();
	return texts.map((t) => text.indexOf(t.toLowerCase()));
}

describe('the editor as users see it (screenshots)', () => {
	let n8n: N8nInstance;
	let browser: BrowserSession;
	let emulator: EmulatorProcess;

	beforeAll(async () => {
		clearArtifacts(GROUP);
		emulator = await startEmulatorProcess({ noRateLimits: true, proxyPort: await getFreePort() });
		n8n = await createInstance({
			name: 'screenshots',
			env: { HTTPS_PROXY: emulator.state.proxyUrl, HTTP_PROXY: emulator.state.proxyUrl, NODE_USE_ENV_PROXY: '1', NO_PROXY: '127.0.0.1,localhost' },
		});
		await installPackage(n8n, await packTarball());
		// The example's credential, so its nodes show a selected credential; against the emulator, because n8n tests it
		// when the form opens (nothing else runs here).
		const credential = emulatorCredential(emulator.state, { id: 'mdeMsspCredential', name: 'Defender (MSSP app)', tenantId: emulator.state.tenants[0].domain });
		// the Commercial cloud as a user has it (its real hosts, reached through the emulator's proxy)
		for (const key of ['authorityHost', 'apiBaseUrl']) delete (credential.data as Record<string, unknown>)[key];
		Object.assign(credential.data, { cloud: 'commercial', alertsApi: 'defender', authentication: 'clientSecret' });
		expect(credential.type).toBe(CREDENTIAL_TYPE);
		await importCredentials(n8n, [credential]);
		await start(n8n);
		await login(n8n);
		browser = await launchBrowser({ viewport: { width: 1440, height: 1250 } });
		await signInToEditor(browser.page, n8n);
	});

	afterAll(async () => {
		if (browser) {
			if (browser.problems.length) console.log(`[e2e] browser problems:\n${browser.problems.join('\n')}`);
			await browser.close();
		}
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	const guarded = (name: string, body: (page: Page) => Promise<void>) =>
		it(name, async () => {
			const { page } = browser;
			try {
				await body(page);
			} catch (error) {
				await screenshot(page, GROUP, `failure-${name.replace(/\W+/g, '-').slice(0, 40)}`).catch(() => undefined);
				throw error;
			}
		});

	guarded('credential form: clouds in order, a short notice with a working link, the secret hint', async (page) => {
		await page.setViewportSize({ width: 1440, height: 1500 }); // the whole form in one picture
		await page.goto(`${n8n.baseUrl}/home/credentials/mdeMsspCredential`, { waitUntil: 'domcontentloaded' });
		const modal = page.locator('[data-test-id="editCredential-modal"], .el-dialog:has([data-test-id="credential-connection-parameter"])').first();
		await visible(modal);
		await visible(modal.locator(tid('parameter-input-cloud')));

		// The notice: rendered markup (a real anchor, no tags shown as text), short.
		const notice = modal.locator('.n8n-notice, [class*="notice"]').filter({ hasText: 'customer onboarding' }).first();
		await visible(notice);
		const link = notice.locator(`a[href="${ONBOARDING_GUIDE_URL}"]`);
		await visible(link);
		expect(await link.getAttribute('target')).toBe('_blank');
		const noticeText = await notice.innerText();
		expect(noticeText).not.toMatch(/<\/?[a-z]+>/);
		expect(noticeText.length).toBeLessThan(300);

		// The client secret says which of its two values to paste, without hovering.
		const hint = modal.getByText('not its Secret ID');
		await hint.first().scrollIntoViewIfNeeded();
		await visible(hint);
		// Labels as the README lists them.
		const labels = await positions(modal, ['Cloud', 'Alerts API', 'Tenant ID', 'Client ID', 'Authentication', 'Client Secret']);
		expect(labels.every((p) => p >= 0)).toBe(true);
		expect([...labels].sort((a, b) => a - b)).toEqual(labels);
		// The README picture starts at the top of the form (Cloud, Alerts API, the notice): the modal scrolls inside.
		await modal.getByText('Cloud', { exact: true }).first().evaluate((e) => e.scrollIntoView({ block: 'start' }));
		await page.waitForTimeout(200);
		await picture(page, 'credential-form', true);

		// Cloud options in the order Commercial, GCC, GCC High, DoD, Custom.
		await modal.locator(tid('parameter-input-cloud')).click();
		const options = page.locator('[role="option"]:visible, .el-select-dropdown__item:visible');
		await options.first().waitFor({ state: 'visible' });
		const clouds = (await options.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
		const order = ['Commercial', 'US Government GCC', 'US Government GCC High', 'US Government DoD', 'Custom'].map((n) =>
			clouds.findIndex((c) => c.startsWith(n) && (n !== 'US Government GCC' || !c.startsWith('US Government GCC High'))),
		);
		expect(order).toEqual([0, 1, 2, 3, 4]);
		await picture(page, 'credential-form-clouds', false);
		await page.keyboard.press('Escape');
		await page.keyboard.press('Escape');
		await page.setViewportSize({ width: 1440, height: 1250 });
	});

	guarded('action node: its own description in the node creator; Alert → Get Many with Filters first and Options last', async (page) => {
		await openNewWorkflow(page, n8n);
		await addManualTrigger(page);
		await openNodeCreator(page);
		await searchNodeCreator(page, 'Defender');
		const entry = creatorItem(page, NODE_DISPLAY_NAME);
		await visible(entry);
		// n8n shows one entry for the node and its trigger, with the trigger's description: it starts with the node's.
		expect((await entry.innerText()).replace(/\s+/g, ' ')).toContain(NODE_DESCRIPTION.slice(0, 60));
		await picture(page, 'node-creator', false);
		await entry.click();
		const action = creatorItem(page, /^Get many alerts$/i);
		await visible(action);
		await action.click();
		const panel = ndv(page);
		await visible(panel);
		await visible(panel.locator(tid('parameter-input-region')));
		const [filters, region, tenant, returnAll, sort, simplify] = await positions(panel, ['Filters', 'Region', 'Customer Tenant', 'Return All', 'Sort', 'Simplify']);
		const options = (await panel.innerText()).replace(/\s+/g, ' ').toLowerCase().lastIndexOf('options');
		expect(filters).toBeGreaterThan(0);
		expect(filters).toBeLessThan(region);
		expect(region).toBeLessThan(tenant);
		expect(tenant).toBeLessThan(returnAll);
		expect(sort).toBeLessThan(options);
		expect(simplify).toBeLessThan(options);
		await picture(page, 'action-node-panel', true);
		await closeOverlays(page);
	});

	guarded('trigger: a new node is version 1.1, Tenants is multi-line, Start From shows its field with it', async (page) => {
		await openNewWorkflow(page, n8n);
		await openNodeCreator(page);
		await searchNodeCreator(page, 'Defender');
		await creatorItem(page, NODE_DISPLAY_NAME).click();
		await creatorItem(page, /^On new alert$/i).click();
		const panel = ndv(page);
		await visible(panel);

		const tenants = panel.locator(`${tid('parameter-input-tenants')} textarea`);
		await visible(tenants);
		await tenants.fill('11111111-2222-3333-4444-555555555555=Contoso\nfabrikam.onmicrosoft.com=Fabrikam\nnorthwind.onmicrosoft.com=Northwind');
		const rows = await tenants.evaluate((el) => (el as unknown as { clientHeight: number }).clientHeight);
		expect(rows).toBeGreaterThan(50); // several lines tall, not a single-line input

		const startOptions = await readParameterOptions(page, 'startFrom');
		expect(['Now', 'Hours Back', 'Date'].map((n) => startOptions.findIndex((o) => o.startsWith(n)))).toEqual([0, 1, 2]);
		await panel.locator(tid('parameter-input-startFrom')).click();
		await page.locator('[role="option"]:visible, .el-select-dropdown__item:visible').filter({ hasText: /^\s*Hours Back/ }).first().click();
		await visible(panel.locator(tid('parameter-input-hoursBack')));
		await picture(page, 'trigger-panel', true);

		// The saved node is version 1.1 with the top-level fields.
		await closeOverlays(page);
		await page.keyboard.press('Control+s');
		const workflowId = new URL(page.url()).pathname.split('/')[2];
		const node = await waitForNode(n8n, workflowId, TRIGGER_TYPE);
		expect(node).toMatchObject({ typeVersion: 1.1, parameters: expect.objectContaining({ startFrom: 'hoursBack' }) });

		// Both output labels on the canvas, whole (text that fits its box).
		for (const label of ['Alerts', 'Failures']) {
			const el = page.locator(`${tid('canvas-node')} *`).filter({ hasText: new RegExp(`^${label}$`) }).last();
			await visible(el);
			const box = await el.evaluate((e) => {
				const x = e as unknown as { scrollWidth: number; clientWidth: number };
				return { scroll: x.scrollWidth, client: x.clientWidth };
			});
			expect(box.scroll).toBeLessThanOrEqual(box.client);
		}
		await picture(page, 'trigger-canvas', false);
	});

	guarded('the example workflow on the canvas', async (page) => {
		const workflow = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Parameters<typeof importWorkflow>[1];
		const id = await importWorkflow(n8n, { ...workflow, id: undefined });
		await page.goto(`${n8n.baseUrl}/workflow/${id}`, { waitUntil: 'domcontentloaded' });
		await visible(page.locator(tid('canvas-node')));
		const count = await page.locator(tid('canvas-node')).count();
		expect(count).toBe(workflow.nodes.length);
		await page.keyboard.press('1'); // zoom to fit
		await page.waitForTimeout(800);
		await picture(page, 'example-workflow', true);
	});
});

async function waitForNode(n8n: N8nInstance, workflowId: string, type: string): Promise<Record<string, unknown> | undefined> {
	const deadline = Date.now() + 20_000;
	for (;;) {
		const wf = await api<{ nodes: Array<Record<string, unknown>> }>(n8n, 'GET', `/workflows/${workflowId}`);
		const node = wf.nodes.find((n) => n.type === type);
		if (node || Date.now() > deadline) return node;
		await new Promise((r) => setTimeout(r, 500));
	}
}
