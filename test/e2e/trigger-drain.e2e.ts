/**
 * MEASUREMENT (opt-in: E2E_MEASURE=1; skipped otherwise, it takes ~10 minutes): what one trigger execution costs a
 * real n8n 2.41.1 (`n8n start`, standard mode, SQLite, executions saved) per emitted alert, and how a 12,000-alert
 * burst drains on default settings. The default of Max Alerts per Poll (trigger/settings.ts) is chosen from it.
 *
 * Per size N (Max Alerts per Poll = N): a freshly started n8n, a fresh tenant and workflow (trigger → No Operation),
 * N alerts of the emulator's realistic shape (~2.7 KB JSON each) added at once, then the tick that emits them.
 * Reported: the time from the last page's answer to the execution's start (the node's own work on N alerts and
 * n8n's hand-off), the run (startedAt → stoppedAt), when the API lists it finished, the saved execution data, and
 * the n8n main process's peak RSS above its median over the 3 s before (sampled every 100 ms from /proc).
 *   E2E_MEASURE=1 bash scripts/e2e.sh test/e2e/trigger-drain.e2e.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { INodeParameters } from 'n8n-workflow';
import { join } from 'node:path';
import { fromTicks, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import {
	chain,
	createInstance,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	getExecutions,
	importCredentials,
	importWorkflow,
	installPackage,
	noOpNode,
	packTarball,
	publish,
	sleep,
	start,
	startEmulatorProcess,
	stop,
	tempDir,
	TRIGGER_TYPE,
	unpublish,
	waitFor,
	type ApiExecution,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';
import { emulatorNow, emulatorRequests, logMark, triggerItems } from './lib/scenario';

const TRIGGER = 'Defender alerts';
const SIZES = (process.env.E2E_MEASURE_SIZES ?? '500,2500,5000,10000').split(',').map(Number);
const BURST = 12_000;
const run = process.env.E2E_MEASURE === '1' ? describe : describe.skip;

function rssKb(pid: number): { rss: number; hwm: number } {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
	return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

run('MEASUREMENT: n8n cost per emitted alert and the 12,000-alert drain', () => {
	let emulator: EmulatorProcess;
	let n8n: N8nInstance;
	const results: string[] = [];

	beforeAll(async () => {
		const tgz = packTarball();
		const dir = tempDir('mde-e2e-drain-');
		const seed = join(dir, 'seed.json');
		writeFileSync(seed, JSON.stringify({ scenario: { tenants: 2 * SIZES.length + 2, alertsPerTenant: 0 } }));
		emulator = await startEmulatorProcess({ noRateLimits: true, seedFile: seed });
		n8n = await createInstance({ name: 'trigger-drain' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, emulator.state.tenants.map((t, i) => emulatorCredential(emulator.state, { id: `cred${i}`, name: `cred${i}`, tenantId: t.id })));
	});

	afterAll(async () => {
		console.log(`[measure] results\n${results.join('\n')}`);
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	const finishedHeads = async (workflowId: string): Promise<ApiExecution[]> =>
		(await getExecutions(n8n, workflowId, { includeData: false })).filter((e) => e.status !== 'running' && e.status !== 'new');
	const finished = async (workflowId: string): Promise<ApiExecution[]> =>
		(await getExecutions(n8n, workflowId, { includeData: true })).filter((e) => e.status !== 'running' && e.status !== 'new').sort((a, b) => Number(a.id) - Number(b.id));

	async function addBurst(tenantId: string, count: number, spreadMs: number): Promise<void> {
		const now = toTicks(await emulatorNow(emulator));
		const step = BigInt(Math.max(1, Math.floor((spreadMs * 10_000) / count)));
		for (let i = 0; i < count; i += 2000) {
			const chunk = Array.from({ length: Math.min(2000, count - i) }, (_, k) => ({ alertCreationTime: fromTicks(now + BigInt(i + k) * step), status: 'New' }));
			await emulator.control('POST', `/tenants/${tenantId}/alerts`, chunk);
		}
	}

	async function deployed(index: number, options: INodeParameters): Promise<{ workflowId: string; tenantId: string }> {
		const tenantId = emulator.state.tenants[index].id;
		const trigger = defenderNode(TRIGGER, { event: 'newAlert', pollTimes: { item: [{ mode: 'everyMinute' }] }, options }, { type: TRIGGER_TYPE, credentialId: `cred${index}`, credentialName: `cred${index}` });
		const workflowId = await importWorkflow(n8n, chain(`measure ${index}`, [trigger, noOpNode()]));
		const mark = await logMark(emulator);
		await publish(n8n, workflowId);
		await waitFor(async () => (await emulatorRequests(emulator, { kind: 'api', tenantId, sinceSeq: mark })).length > 0, { timeoutMs: 100_000, what: 'the activation poll' });
		await sleep(1000);
		return { workflowId, tenantId };
	}

	/** Publishes a workflow whose activation poll emits what is already there (Start From = 1 hour back). */
	async function publishBackfill(index: number, maxAlertsPerPoll: number): Promise<string> {
		const trigger = defenderNode(
			TRIGGER,
			{ event: 'newAlert', pollTimes: { item: [{ mode: 'everyHour', minute: 0 }] }, options: { startFrom: 'hoursBack', hoursBack: 1, maxAlertsPerPoll } },
			{ type: TRIGGER_TYPE, credentialId: `cred${index}`, credentialName: `cred${index}` },
		);
		const workflowId = await importWorkflow(n8n, chain(`measure backfill ${index}`, [trigger, noOpNode()]));
		await publish(n8n, workflowId);
		return workflowId;
	}

	test.each(SIZES.map((n, i) => [n, i]))('one execution of %d alerts', async (size, i) => {
		// A fresh n8n for each size, warmed up by one small execution (n8n's first run loads its execution machinery,
		// ~165 MB of RSS whatever the size), so the peak above the baseline is what the N alerts cost.
		if (n8n.server) await stop(n8n);
		await start(n8n);
		const warm = 2 * i;
		const measured = 2 * i + 1;
		await addBurst(emulator.state.tenants[warm].id, 10, 10_000);
		const warmId = await publishBackfill(warm, 10);
		await waitFor(async () => (await finishedHeads(warmId)).length > 0, { timeoutMs: 120_000, intervalMs: 500, what: 'the warm-up execution' });
		await unpublish(n8n, warmId);
		await sleep(2000);
		const pid = n8n.server!.process.pid!;
		const baseline: number[] = [];
		for (let k = 0; k < 15; k++) {
			baseline.push(rssKb(pid).rss);
			await sleep(200);
		}
		const before = baseline.sort((a, b) => a - b)[Math.floor(baseline.length / 2)];
		let peak = before;
		const sampler = setInterval(() => (peak = Math.max(peak, rssKb(pid).rss)), 100);
		const tenantId = emulator.state.tenants[measured].id;
		await addBurst(tenantId, size, 60_000);
		const mark = await logMark(emulator);
		const workflowId = await publishBackfill(measured, size);
		try {
			// Wait without execution data (fetching it would cost n8n memory too), then read it once.
			await waitFor(async () => (await finishedHeads(workflowId)).length > 0, { timeoutMs: 240_000, intervalMs: 250, what: `the execution of ${size} alerts` });
			const seenFinished = Date.now();
			await sleep(3000);
			clearInterval(sampler);
			const e = (await finished(workflowId))[0];
			const items = triggerItems(e, TRIGGER).length;
			const runMs = Date.parse(String(e.stoppedAt)) - Date.parse(e.startedAt);
			const pages = (await emulatorRequests(emulator, { kind: 'api', tenantId, sinceSeq: mark })).filter((r) => r.query?.$orderby === 'alertCreationTime asc');
			const answered = Math.max(...pages.map((r) => Date.parse(r.at) + (r.durationMs ?? 0)));
			const handOffMs = Math.round(Date.parse(e.startedAt) - answered); // poll(): decorate N alerts, build items; n8n starts the run
			const dataBytes = JSON.stringify(e.data ?? {}).length;
			const line = `${size} alerts: last page → run start ${handOffMs} ms (${(handOffMs / items).toFixed(3)} ms/alert), run ${runMs} ms, listed finished ${Math.round(seenFinished - answered)} ms after the last page; ${pages.length} page request(s); saved execution data ${(dataBytes / 1e6).toFixed(1)} MB (${Math.round(dataBytes / items)} B/alert); n8n RSS ${Math.round(before / 1024)} MB → peak ${Math.round(peak / 1024)} MB (+${Math.round((peak - before) / 1024)} MB, ${((peak - before) / items).toFixed(1)} KB/alert)`;
			results.push(line);
			console.log(`[measure] ${line}`);
			expect(items).toBe(size);
		} finally {
			clearInterval(sampler);
			await unpublish(n8n, workflowId);
		}
	}, 360_000);

	test(`a ${BURST.toLocaleString('en')}-alert burst on default settings: polls and requests`, async () => {
		if (!n8n.server) await start(n8n);
		const index = 2 * SIZES.length;
		const { workflowId, tenantId } = await deployed(index, {});
		const mark = await logMark(emulator);
		await addBurst(tenantId, BURST, 120_000);
		const list = await waitFor(
			async () => {
				const l = await finished(workflowId);
				return l.flatMap((e) => triggerItems(e, TRIGGER)).length >= BURST ? l : undefined;
			},
			{ timeoutMs: 9 * 60_000, intervalMs: 2000, what: `the ${BURST} alerts` },
		);
		await sleep(65_000); // one more tick: the idle poll after the drain
		const pages = (await emulatorRequests(emulator, { kind: 'api', tenantId, sinceSeq: mark })).filter((r) => r.query?.$orderby === 'alertCreationTime asc');
		const counts = list.map((e) => triggerItems(e, TRIGGER).length);
		const line = `${BURST} burst, default settings: ${list.length} executions (${counts.join('/')}), ${pages.length} page requests in all (incl. the idle poll after), $top ${pages.map((p) => p.query?.$top).join(',')}`;
		results.push(line);
		console.log(`[measure] ${line}`);
		expect(list.length).toBeLessThanOrEqual(5);
		await unpublish(n8n, workflowId);
	}, 12 * 60_000);
});
