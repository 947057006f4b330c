/**
 * The editor of a real n8n 2.41.1, in headless Chromium: sign in, create a workflow, add "Microsoft Defender for
 * Endpoint" from the node creator, and check its parameter panel (Resource / Operation / Region with their
 * options) and that its SVG icon really renders. Screenshots go to artifacts/editor/.
 */
import {
	addManualTrigger,
	api,
	clearArtifacts,
	closeOverlays,
	createInstance,
	creatorItem,
	disposeInstance,
	imageFacts,
	installPackage,
	launchBrowser,
	login,
	ndv,
	NODE_DISPLAY_NAME,
	NODE_TYPE,
	openNewWorkflow,
	openNodeCreator,
	packTarball,
	PACKAGE_NAME,
	readParameterOptions,
	readParameterValue,
	screenshot,
	searchNodeCreator,
	signInToEditor,
	start,
	tid,
	type BrowserSession,
	type N8nInstance,
} from './lib';

const startsWithEach = (texts: string[], names: string[]): void => {
	for (const name of names) expect(texts.some((t) => t.startsWith(name))).toBe(true);
};

describe('the node in the n8n editor', () => {
	let n8n: N8nInstance;
	let browser: BrowserSession;

	beforeAll(async () => {
		clearArtifacts('editor');
		n8n = await createInstance({ name: 'editor' });
		await installPackage(n8n, await packTarball());
		await start(n8n);
		await login(n8n); // creates the owner account the browser signs in with
		browser = await launchBrowser();
	});

	afterAll(async () => {
		if (browser) {
			if (browser.problems.length) console.log(`[e2e] browser problems:\n${browser.problems.join('\n')}`);
			if (browser.blocked.length) console.log(`[e2e] blocked non-loopback requests:\n${[...new Set(browser.blocked)].join('\n')}`);
			await browser.close();
		}
		if (n8n) await disposeInstance(n8n);
	});

	it('adds the node from the node creator and shows its parameters and icon', async () => {
		const { page } = browser;
		try {
			await signInToEditor(page, n8n);
			await openNewWorkflow(page, n8n);
			await addManualTrigger(page);

			// Node creator: search, pick the node, then one of its actions.
			await openNodeCreator(page);
			await searchNodeCreator(page, 'Defender');
			const entry = creatorItem(page, NODE_DISPLAY_NAME);
			await entry.waitFor({ state: 'visible' });
			const creatorIcons = await imageFacts(entry);
			expect(creatorIcons.some((i) => i.src.includes(PACKAGE_NAME) && i.naturalWidth > 0)).toBe(true);
			await entry.click();
			const action = creatorItem(page, /^Get an alert$/i);
			await action.waitFor({ state: 'visible' });
			await screenshot(page, 'editor', '1-node-creator-actions');
			await action.click();

			// Parameter panel.
			await ndv(page).waitFor({ state: 'visible' });
			for (const name of ['resource', 'operation', 'region']) {
				await expectVisible(ndv(page).locator(tid(`parameter-input-${name}`)));
			}
			expect(await readParameterValue(page, 'resource')).toBe('Alert');
			expect(await readParameterValue(page, 'operation')).toBe('Get');
			expect(await readParameterValue(page, 'region')).toBe('Global');
			startsWithEach(await readParameterOptions(page, 'resource'), ['Alert', 'Tenant']);
			startsWithEach(await readParameterOptions(page, 'operation'), ['Add Comment', 'Get', 'Get Many', 'Update']);
			const regions = await readParameterOptions(page, 'region');
			startsWithEach(regions, ['Global', 'US', 'EU', 'UK', 'AU', 'SWA', 'INA', 'AEA']);
			// The credential slot asks for this package's credential type.
			await expectVisible(ndv(page).locator(tid('node-credentials-slot')));

			// Icon in the panel header: an <img> whose SVG actually loaded.
			const ndvIcons = (await imageFacts(ndv(page))).filter((i) => i.src.includes(`/icons/${PACKAGE_NAME}/`));
			expect(ndvIcons.length).toBeGreaterThan(0);
			expect(ndvIcons.every((i) => i.complete && i.naturalWidth > 0)).toBe(true);
			expect(ndvIcons[0].src).toMatch(/\.svg$/);
			await screenshot(page, 'editor', '2-parameter-panel');

			// Back on the canvas: the node is there with its icon, and the editor saved the workflow.
			await closeOverlays(page);
			const nodeOnCanvas = page.locator(tid('canvas-node')).filter({ hasText: /Get an alert/i });
			await expectVisible(nodeOnCanvas);
			expect((await imageFacts(nodeOnCanvas)).some((i) => i.naturalWidth > 0)).toBe(true);
			await page.keyboard.press('Control+s');
			const workflowId = new URL(page.url()).pathname.split('/')[2];
			expect(workflowId).toMatch(/^\w+$/);
			const saved = await waitForSavedNode(n8n, workflowId);
			expect(saved).toMatchObject({ type: NODE_TYPE, typeVersion: 1.1, parameters: expect.objectContaining({ operation: 'get' }) });
			await screenshot(page, 'editor', '3-canvas');

			// No failed request for the package's assets (icons etc.) and no page error mentioning the package.
			expect(browser.problems.filter((p) => p.includes(PACKAGE_NAME))).toEqual([]);
		} catch (error) {
			await screenshot(page, 'editor', 'failure').catch(() => undefined);
			throw error;
		}
	});
});

async function expectVisible(locator: import('playwright-core').Locator): Promise<void> {
	await locator.first().waitFor({ state: 'visible', timeout: 15_000 });
}

async function waitForSavedNode(n8n: N8nInstance, workflowId: string): Promise<Record<string, unknown> | undefined> {
	const deadline = Date.now() + 20_000;
	for (;;) {
		const wf = await api<{ nodes: Array<Record<string, unknown>> }>(n8n, 'GET', `/workflows/${workflowId}`);
		const node = wf.nodes.find((n) => n.type === NODE_TYPE);
		if (node || Date.now() > deadline) return node;
		await new Promise((r) => setTimeout(r, 500));
	}
}
