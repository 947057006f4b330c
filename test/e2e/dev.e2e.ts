/**
 * `npm run dev` as a newcomer uses it, in a copy of this checkout (so the test can save a source change without
 * touching the checkout other people work in): the command prints the editor URL, the login and the alerts
 * command; Chromium logs in with the printed login, opens the example workflow and runs it; the printed
 * `npm run dev:alerts -- 5` adds alerts and the published trigger workflow delivers exactly those; a saved change
 * to the trigger node shows up in the running n8n without a restart; Ctrl-C stops every process it started.
 * Also: without setup, `npm run dev` says so in one line. Screenshots go to artifacts/editor/dev/.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { DevState } from '../../dev/config';
import {
	clearArtifacts,
	commandLine,
	copyCheckout,
	descendants,
	getFreePort,
	isAlive,
	killGroup,
	launchBrowser,
	runProcess,
	screenshot,
	spawnBackground,
	tid,
	TRIGGER_TYPE,
	waitFor,
	type BrowserSession,
} from './lib';

const ARTIFACTS = 'editor/dev';
const TRIGGER_NODE = 'New Defender alerts';
const EXAMPLE = 'MSSP: triage new high-severity Defender alerts';
const RESPOND_EXAMPLE = 'MSSP: isolate the device and block the file of new high-severity alerts';
const TRIGGER_WORKFLOW = 'Dev: every new Defender alert (trigger)';

describe('npm run dev: the nodes in a real editor, in one command', () => {
	let checkout: string;
	let dev: ChildProcess;
	let output = '';
	let state: DevState;
	let browser: BrowserSession | undefined;
	let port: number;
	const env = (): NodeJS.ProcessEnv => ({ ...process.env, DEV_PORT: String(port), NO_COLOR: '1' });

	const api = async <T>(path: string): Promise<T> => {
		const response = await fetch(`${state.editorUrl}/api/v1${path}`, { headers: { 'X-N8N-API-KEY': state.apiKey, accept: 'application/json' } });
		if (!response.ok) throw new Error(`GET /api/v1${path} -> HTTP ${response.status}`);
		return (await response.json()) as T;
	};
	const executions = async (workflowId: string): Promise<Array<{ id: string; status: string; mode: string; data?: { resultData: { runData: Record<string, Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }>> } }>> } } }>> =>
		(await api<{ data: Array<never> }>(`/executions?workflowId=${workflowId}&includeData=true`)).data;

	beforeAll(async () => {
		clearArtifacts(ARTIFACTS);
		// Outside the repository (a copy cannot go into a folder of what it copies).
		checkout = copyCheckout(mkdtempSync(join(tmpdir(), 'mde-dev-checkout-')), { linkNodeModules: true, linkNode24: true });
		port = await getFreePort();
	});

	afterAll(async () => {
		if (browser) await browser.close();
		if (dev && dev.exitCode === null) killGroup(dev, 'SIGKILL');
		if (process.env.E2E_KEEP !== '1' && checkout) rmSync(checkout, { recursive: true, force: true });
	});

	it('without setup, prints a one-line hint instead of a stack trace', async () => {
		const result = await runProcess('npm', ['run', 'dev'], { cwd: checkout, env: { ...env(), N8N_E2E_CACHE: join(checkout, 'no-n8n-here') }, timeoutMs: 60_000 });
		expect(result.code).toBe(1);
		// The script's own output is one line (npm may add its "Lifecycle script failed" lines on other versions).
		const ours = result.stderr.split('\n').filter((line) => line.startsWith('dev:'));
		expect(ours).toEqual([expect.stringMatching(/^dev: n8n 2\.41\.1 is not installed in .*; run `npm run setup` once .*then `npm run dev`\.$/)]);
		expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at |Error:/);
	});

	it('starts n8n, the emulator and the compiler, and prints the URL, the login, the alerts command and how to stop', async () => {
		const started = Date.now();
		dev = spawnBackground('npm', ['run', 'dev'], { cwd: checkout, env: env() });
		dev.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
		dev.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
		await waitFor(() => /Stop +Ctrl-C/.test(output), {
			timeoutMs: 240_000,
			intervalMs: 500,
			what: 'the npm run dev banner',
			describe: () => output.slice(-3000),
		});
		console.log(`[e2e] npm run dev ready in ${Date.now() - started} ms:\n${output}`);
		state = JSON.parse(readFileSync(join(checkout, '.cache', 'n8n-dev', 'dev-state.json'), 'utf8')) as DevState;
		expect(output).toContain(`Editor      http://localhost:${port}`);
		expect(output).toContain('Log in      dev@example.com  /  Dev-Passw0rd!');
		expect(output).toContain('npm run dev:alerts -- 5');
		expect(output).toMatch(/curl --cacert \S+ca\.pem .*\/_emulator\/tenants\/[\w-]+\/alerts/);
		expect(state.editorUrl).toBe(`http://localhost:${port}`);
		expect(state.workflows.map((w) => w.name).sort()).toEqual([TRIGGER_WORKFLOW, EXAMPLE, RESPOND_EXAMPLE].sort());
		const health = await fetch(`${state.editorUrl}/healthz/readiness`);
		expect(health.status).toBe(200);
	});

	it('opens the editor with the printed login, shows the example workflow and runs it against the emulator', async () => {
		browser = await launchBrowser();
		const { page } = browser;
		try {
			const email = /Log in +(\S+) +\/ +(\S+)/.exec(output)!;
			await page.goto(`${state.editorUrl}/signin`, { waitUntil: 'domcontentloaded' });
			await page.locator('input[name="emailOrLdapLoginId"], input[type="email"]').first().fill(email[1]);
			await page.locator('input[name="password"], input[type="password"]').first().fill(email[2]);
			await page.locator('[data-test-id="form-submit-button"], button[type="submit"]').first().click();
			await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 30_000 });

			// The workflow list shows the imported workflows; open the triage example from it.
			await page.goto(`${state.editorUrl}/home/workflows`, { waitUntil: 'domcontentloaded' });
			const card = page.getByText(EXAMPLE, { exact: true }).first();
			await card.waitFor({ state: 'visible' });
			await expectVisible(page.getByText(TRIGGER_WORKFLOW, { exact: true }).first());
			await screenshot(page, ARTIFACTS, '1-workflows');
			await card.click();
			await page.waitForURL(/\/workflow\/\w+/);
			const nodes = page.locator(tid('canvas-node'));
			await expectVisible(nodes.filter({ hasText: 'New high-severity alerts' }));
			expect(await nodes.count()).toBe(7);
			await screenshot(page, ARTIFACTS, '2-example-workflow');

			// Run it the way a newcomer does: the Execute workflow button.
			const example = state.workflows.find((w) => w.name === EXAMPLE)!;
			// (The canvas pane can sit over the button while the canvas settles: the click goes to the button itself.)
			const executeButton = page.locator('[data-test-id^="execute-workflow-button"]').first();
			await executeButton.waitFor({ state: 'visible' });
			await executeButton.dispatchEvent('click');
			const run = await waitFor(
				async () => {
					const list = await executions(example.id);
					return list.find((e) => e.status !== 'running' && e.status !== 'new');
				},
				{ timeoutMs: 90_000, intervalMs: 1000, what: 'the manual run of the example workflow' },
			);
			expect(run.status).toBe('success');
			const tickets = run.data?.resultData.runData.Ticket?.[0]?.data?.main?.[0] ?? [];
			expect(tickets.length).toBeGreaterThan(0);
			await page.waitForTimeout(1500);
			await screenshot(page, ARTIFACTS, '3-example-workflow-executed');
		} catch (error) {
			await screenshot(page, ARTIFACTS, 'failure').catch(() => undefined);
			throw error;
		}
	});

	it('the printed `npm run dev:alerts -- 5` adds alerts and the published trigger workflow delivers exactly those', async () => {
		const trigger = state.workflows.find((w) => w.name === TRIGGER_WORKFLOW)!;
		expect(trigger.active).toBe(true);
		const wf = await api<{ active: boolean; nodes: Array<{ type: string }> }>(`/workflows/${trigger.id}`);
		expect(wf.active).toBe(true);
		expect(wf.nodes.map((n) => n.type)).toContain(TRIGGER_TYPE);
		const before = new Set((await executions(trigger.id)).map((e) => e.id));

		const result = await runProcess('npm', ['run', '--silent', 'dev:alerts', '--', '5'], { cwd: checkout, env: env(), timeoutMs: 60_000 });
		expect(result.code).toBe(0);
		const added = [...result.stdout.matchAll(/^ {2}(da\S+) /gm)].map((m) => m[1]);
		expect(added).toHaveLength(5);
		expect(result.stdout).toContain(`Added 5 alert(s) to Contoso`);

		const delivered = await waitFor(
			async () => {
				const fresh = (await executions(trigger.id)).filter((e) => !before.has(e.id) && e.status === 'success');
				const ids = fresh.flatMap((e) => (e.data?.resultData.runData[TRIGGER_NODE]?.[0]?.data?.main?.[0] ?? []).map((i) => String(i.json.id)));
				return added.every((id) => ids.includes(id)) ? ids : undefined;
			},
			{ timeoutMs: 150_000, intervalMs: 2000, what: 'an execution of the trigger workflow with the 5 added alerts' },
		);
		// Each added alert exactly once.
		expect(added.map((id) => delivered.filter((d) => d === id).length)).toEqual([1, 1, 1, 1, 1]);

		const { page } = browser!;
		await page.goto(`${state.editorUrl}/workflow/${trigger.id}/executions`, { waitUntil: 'domcontentloaded' });
		await expectVisible(page.getByText(/Succeeded/).first());
		// n8n 2.41 opens a "Production Checklist" popover over the list on a published workflow's first visit.
		const checklist = page.getByText('Production Checklist', { exact: true });
		if (await checklist.isVisible()) {
			await page.keyboard.press('Escape');
			if (await checklist.isVisible()) await checklist.locator('xpath=ancestor::*[.//button][1]').locator('button').first().click();
		}
		await page.waitForTimeout(2000);
		await screenshot(page, ARTIFACTS, '4-trigger-executions');
	});

	it('a saved change to the trigger node is visible in the running n8n without a restart', async () => {
		const file = join(checkout, 'nodes', 'MicrosoftDefenderForEndpoint', 'MicrosoftDefenderForEndpointTrigger.node.ts');
		const source = readFileSync(file, 'utf8');
		const original = "displayName: 'Microsoft Defender for Endpoint Trigger'";
		expect(source).toContain(original);
		const n8nPid = state.pids.n8n;
		const mark = output.length;
		const saved = Date.now();
		writeFileSync(file, source.replace(original, "displayName: 'Microsoft Defender for Endpoint Trigger (edited)'"));

		// Node types as the editor loads them (owner session).
		const browserId = randomUUID();
		const loginResponse = await fetch(`${state.editorUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'browser-id': browserId },
			body: JSON.stringify({ emailOrLdapLoginId: state.owner.email, password: state.owner.password }),
		});
		const cookie = loginResponse.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('n8n-auth='))!;
		const displayName = async (): Promise<string | undefined> => {
			const response = await fetch(`${state.editorUrl}/types/nodes.json`, { headers: { cookie, 'browser-id': browserId } });
			const types = (await response.json()) as Array<{ name: string; displayName: string }>;
			return types.find((t) => t.name === TRIGGER_TYPE)?.displayName;
		};
		await waitFor(async () => (await displayName()) === 'Microsoft Defender for Endpoint Trigger (edited)', {
			timeoutMs: 90_000,
			intervalMs: 1000,
			what: 'the edited display name in /types/nodes.json',
			describe: () => output.slice(mark),
		});
		const visibleAfterMs = Date.now() - saved;
		console.log(`[e2e] saved change visible in n8n after ${visibleAfterMs} ms:\n${output.slice(mark)}`);
		expect(output.slice(mark)).toMatch(/recompiled in/);
		expect(output.slice(mark)).toMatch(/Hot reload triggered for n8n-nodes-defender-endpoint/);
		// The same n8n process: no restart.
		expect(isAlive(n8nPid!)).toBe(true);
		expect(JSON.parse(readFileSync(join(checkout, '.cache', 'n8n-dev', 'dev-state.json'), 'utf8')).pids.n8n).toBe(n8nPid);
	});

	it('Ctrl-C stops n8n, its task runner, the emulator and the compiler, and leaves no process behind', async () => {
		const tree = descendants(dev.pid!);
		const described = tree.map((pid) => `${pid} ${commandLine(pid).slice(0, 120)}`);
		console.log(`[e2e] processes under npm run dev:\n${described.join('\n')}`);
		for (const pid of [state.pids.n8n, state.pids.emulator, state.pids.compiler]) expect(tree).toContain(pid);
		// The terminal sends SIGINT to the whole foreground process group (npm, sh, bash → node dev/run.ts).
		const stopped = Date.now();
		process.kill(-dev.pid!, 'SIGINT');
		// npm itself ends on the SIGINT (exit by signal, as in a terminal); what it ran must end too.
		await waitFor(() => tree.every((pid) => !isAlive(pid)) && (dev.exitCode !== null || dev.signalCode !== null), {
			timeoutMs: 45_000,
			intervalMs: 250,
			what: 'every process of npm run dev to end',
			describe: () => tree.filter(isAlive).map((pid) => `${pid} ${commandLine(pid)}`).join('\n'),
		});
		console.log(`[e2e] everything stopped ${Date.now() - stopped} ms after Ctrl-C (npm: ${dev.exitCode ?? dev.signalCode})`);
		await waitFor(() => /\[dev\] stopped\./.test(output), { timeoutMs: 10_000, intervalMs: 200, what: 'the "[dev] stopped." line', describe: () => output.slice(-1000) });
		// Nothing listens any more, and the state file is gone (dev:alerts says so in one line).
		await expect(fetch(`${state.editorUrl}/healthz`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
		const alerts = await runProcess('npm', ['run', '--silent', 'dev:alerts', '--', '1'], { cwd: checkout, env: env(), timeoutMs: 60_000 });
		expect(alerts.code).toBe(1);
		expect(alerts.stderr.trim()).toMatch(/^dev:alerts: npm run dev is not running .*start it first: npm run dev$/);
	});
});

async function expectVisible(locator: import('playwright-core').Locator): Promise<void> {
	await locator.first().waitFor({ state: 'visible', timeout: 20_000 });
}
