/**
 * Exactly-once in a real n8n 2.41.1 (`n8n start`), the cases an engine test cannot show (issue 10). Every workflow
 * polls every minute (n8n's shortest interval; the cron fires at a random second) and has its own emulator tenants.
 *
 * STANDARD MODE (one n8n, three workflows one after the other)
 * 1. Restart before the first alert: publish (Start From = Now) → activation poll (nothing yet) → restart → stop →
 *    alerts are added while n8n is down → start → every alert exactly once, nothing from before the activation.
 * 2. Overlapping polls: the first request of a tick is held 65 s by the emulator, so the next tick (60 s later)
 *    starts while it is still running: the second poll does nothing (no request), the alerts come once.
 * 3. 50 tenants and one invalid Tenants entry ("../"): every alert exactly once with its tenant, the invalid entry
 *    on Tenant Failures in every execution, the valid tenants polled.
 * DURABLE POLL CURSORS (N8N_POLLER_DURABLE_CURSORS_ENABLED with the scheduler flags it needs, a second n8n)
 * 4. The same restart before the first alert (the activation poll's state is committed with one empty execution),
 *    then one more batch delivered by a scheduled tick: every alert exactly once.
 */
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
	waitFor,
	type ApiExecution,
	type EmulatorProcess,
	type EmulatorTenant,
	type N8nInstance,
} from './lib';
import { emulatorNow, emulatorRequests, logMark, triggerItems } from './lib/scenario';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TRIGGER = 'Defender alerts';
/** One cron period (every minute, random second) plus the poll and n8n's bookkeeping. */
const TICK_TIMEOUT_MS = 100_000;
const EVERY_MINUTE = { item: [{ mode: 'everyMinute' }] };

/** n8n 2.41.1's durable poll cursors: the cursor is committed in the transaction that creates the execution. */
const DURABLE_ENV = {
	N8N_SCHEDULER_ENABLED: 'true',
	N8N_SCHEDULER_POLL_TRIGGERS_ENABLED: 'true',
	N8N_USE_WORKFLOW_PUBLICATION_SERVICE: 'true',
	N8N_POLLER_DURABLE_CURSORS_ENABLED: 'true',
};

let emulator: EmulatorProcess;
let customers: EmulatorTenant[];
let tgz: Promise<string>;
const started = Date.now();

beforeAll(async () => {
	tgz = packTarball();
	const dir = tempDir('mde-e2e-guarantees-');
	const seed = join(dir, 'seed.json');
	writeFileSync(seed, JSON.stringify({ scenario: { tenants: 54, alertsPerTenant: 2 } }));
	emulator = await startEmulatorProcess({ noRateLimits: true, seedFile: seed });
	customers = emulator.state.tenants.slice(1); // tenants[0]: the scenario's first customer is kept for nothing
});

afterAll(async () => {
	if (emulator) await emulator.stop();
	console.log(`[e2e guarantees] total ${Math.round((Date.now() - started) / 1000)} s`);
});

const finishedOf = async (n8n: N8nInstance, workflowId: string): Promise<ApiExecution[]> =>
	(await getExecutions(n8n, workflowId, { includeData: true }))
		.filter((e) => e.status !== 'running' && e.status !== 'new')
		.sort((a, b) => Number(a.id) - Number(b.id));
const alertKeys = (e: ApiExecution): string[] => triggerItems(e, TRIGGER, 0).map((item) => `${String(item.tenantId)}:${String(item.id)}`);
const failuresOf = (e: ApiExecution) => triggerItems(e, TRIGGER, 1);
const describeExecutions = (list: ApiExecution[]): string =>
	list.map((e) => `#${e.id} ${e.status} ${e.startedAt}: ${alertKeys(e).length} alerts, ${failuresOf(e).length} failures`).join('\n');
const duplicates = (keys: string[]): string[] => {
	const seen = new Set<string>();
	return keys.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
};

/** Adds `count` alerts to a tenant, created "now" by the emulator clock, one tick apart; returns tenant:id keys. */
async function addAlerts(tenantId: string, count: number, label: string): Promise<string[]> {
	const now = toTicks(await emulatorNow(emulator));
	const alerts = Array.from({ length: count }, (_, k) => ({ alertCreationTime: fromTicks(now + BigInt(k)), title: `e2e ${label}.${k}`, status: 'New' }));
	const result = await emulator.control<{ value: Array<{ id: string }> }>('POST', `/tenants/${tenantId}/alerts`, alerts);
	return result.value.map((a) => `${tenantId}:${a.id}`);
}
const seededKeys = async (tenantId: string): Promise<string[]> =>
	(await emulator.control<{ value: Array<{ id: string }> }>('GET', `/tenants/${tenantId}/alerts`)).value.map((a) => `${tenantId}:${a.id}`);
const apiPolls = async (tenantId: string, sinceSeq: number) =>
	(await emulatorRequests(emulator, { kind: 'api', tenantId, sinceSeq })).filter((r) => r.query?.$orderby === 'alertCreationTime asc');

async function newInstance(name: string, env: Record<string, string>, credentials: Array<{ id: string; tenantId: string }>): Promise<N8nInstance> {
	const n8n = await createInstance({ name, env });
	await installPackage(n8n, await tgz);
	await importCredentials(
		n8n,
		credentials.map((c) => emulatorCredential(emulator.state, { id: c.id, name: c.id, tenantId: c.tenantId })),
	);
	return n8n;
}

async function importTrigger(n8n: N8nInstance, name: string, credentialId: string, parameters: Record<string, unknown>): Promise<string> {
	const trigger = defenderNode(TRIGGER, { event: 'newAlert', pollTimes: EVERY_MINUTE, ...parameters }, { type: TRIGGER_TYPE, credentialId, credentialName: credentialId });
	return await importWorkflow(n8n, chain(name, [trigger, noOpNode()]));
}

async function firstPoll(tenantId: string, sinceSeq: number, what: string): Promise<void> {
	await waitFor(async () => (await apiPolls(tenantId, sinceSeq)).length > 0, { timeoutMs: TICK_TIMEOUT_MS, intervalMs: 500, what });
}

/** Steps 1 and 4: activation → restart → stop → alerts while down → start → the alerts exactly once. */
async function restartBeforeFirstAlert(n8n: N8nInstance, workflowId: string, tenantId: string, mode: string): Promise<{ added: string[]; list: ApiExecution[] }> {
	const seeded = await seededKeys(tenantId);
	const mark = await logMark(emulator);
	await publish(n8n, workflowId);
	await firstPoll(tenantId, mark, `the activation poll (${mode})`);
	await sleep(2000);
	await stop(n8n);
	await start(n8n);
	await sleep(3000);
	await stop(n8n);
	const added = await addAlerts(tenantId, 3, `down-${mode}`);
	await start(n8n);
	const list = await waitFor(
		async () => {
			const l = await finishedOf(n8n, workflowId);
			return l.flatMap(alertKeys).length >= added.length ? l : undefined;
		},
		{ timeoutMs: TICK_TIMEOUT_MS, intervalMs: 1000, what: `the alerts added while n8n was down (${mode})` },
	);
	console.log(`[e2e ${mode}] restart before the first alert, executions:\n${describeExecutions(list)}`);
	const delivered = list.flatMap(alertKeys);
	expect(duplicates(delivered)).toEqual([]);
	expect(delivered.filter((k) => seeded.includes(k))).toEqual([]);
	expect([...delivered].sort()).toEqual([...added].sort());
	return { added, list };
}

describe('standard mode', () => {
	let n8n: N8nInstance;
	let t0: number;

	beforeAll(async () => {
		n8n = await newInstance('trigger-guarantees-standard', {}, [
			{ id: 'credRestart', tenantId: customers[0].id },
			{ id: 'credOverlap', tenantId: customers[1].id },
			{ id: 'credMssp', tenantId: emulator.state.homeTenantId ?? customers[2].id },
		]);
		await start(n8n);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
	});

	it('restart before the first alert: every alert added while n8n was down, exactly once', async () => {
		t0 = Date.now();
		const workflowId = await importTrigger(n8n, 'e2e: restart before the first alert', 'credRestart', { options: { startFrom: 'now' } });
		const { list } = await restartBeforeFirstAlert(n8n, workflowId, customers[0].id, 'standard');
		// n8n saved the activation poll's state itself: no empty execution was needed
		expect(list.filter((e) => alertKeys(e).length === 0 && failuresOf(e).length === 0)).toEqual([]);
		console.log(`[e2e standard] restart scenario ${Math.round((Date.now() - t0) / 1000)} s`);
	});

	it('overlapping polls (a tick longer than the interval): the next poll does nothing, every alert once', async () => {
		t0 = Date.now();
		const tenant = customers[1].id;
		const workflowId = await importTrigger(n8n, 'e2e: overlapping polls', 'credOverlap', { options: { startFrom: 'now' } });
		const mark = await logMark(emulator);
		await publish(n8n, workflowId);
		await firstPoll(tenant, mark, 'the activation poll');
		await sleep(1500);
		// The next page request of this tenant takes 65 s: longer than the 60 s until the following tick.
		await emulator.control('POST', '/faults', { match: { kind: 'api', tenantId: tenant, pathRegex: 'orderby=alertCreationTime(%20|\\+| )asc' }, delayMs: 65_000, times: 1 });
		const added = await addAlerts(tenant, 3, 'overlap');
		const markTicks = await logMark(emulator);
		const list = await waitFor(
			async () => {
				const l = await finishedOf(n8n, workflowId);
				return l.length > 0 ? l : undefined;
			},
			{ timeoutMs: 150_000, intervalMs: 1000, what: 'the execution of the slow tick' },
		);
		await sleep(5000); // the overlapping tick (at +60 s) has run by now; a duplicate would have been emitted already
		const all = await finishedOf(n8n, workflowId);
		const polls = await apiPolls(tenant, markTicks);
		console.log(`[e2e standard] overlap: executions:\n${describeExecutions(all)}\n  page requests after the slow one began: ${polls.length}`);
		expect(duplicates(all.flatMap(alertKeys))).toEqual([]);
		expect(all.flatMap(alertKeys).sort()).toEqual([...added].sort());
		expect(list.length).toBeGreaterThan(0);
		// the slow tick's own request, and none from the tick that found it running (the tick after is 55 s away)
		expect(polls.map((p) => Math.round((p.durationMs ?? 0) / 1000))).toEqual([65]);
		console.log(`[e2e standard] overlap scenario ${Math.round((Date.now() - t0) / 1000)} s`);
	});

	it('50 tenants and an invalid entry: every alert exactly once with its tenant; the entry on Tenant Failures in every execution', async () => {
		t0 = Date.now();
		const list50 = customers.slice(2, 52);
		expect(list50).toHaveLength(50);
		const tenants = [...list50.map((t) => `${t.id}=${t.name}`), '../=Broken'].join('\n');
		const workflowId = await importTrigger(n8n, 'e2e: 50 tenants', 'credMssp', { tenants, options: { startFrom: 'now' } });
		const seeded = (await Promise.all(list50.map(async (t) => await seededKeys(t.id)))).flat();
		const mark = await logMark(emulator);
		await publish(n8n, workflowId);
		const activation = await waitFor(
			async () => {
				const l = await finishedOf(n8n, workflowId);
				return l.length > 0 ? l : undefined;
			},
			{ timeoutMs: TICK_TIMEOUT_MS, intervalMs: 1000, what: 'the activation execution (Tenant Failures only)' },
		);
		expect(alertKeys(activation[0])).toEqual([]);
		const polled = new Set((await emulatorRequests(emulator, { kind: 'api', sinceSeq: mark })).map((r) => r.tenantId));
		expect(list50.every((t) => polled.has(t.id))).toBe(true);
		const added = (await Promise.all(list50.map(async (t) => await addAlerts(t.id, 2, `mssp-${t.name}`)))).flat();
		const list = await waitFor(
			async () => {
				const l = await finishedOf(n8n, workflowId);
				return l.flatMap(alertKeys).length >= added.length ? l : undefined;
			},
			{ timeoutMs: TICK_TIMEOUT_MS + 30_000, intervalMs: 1000, what: 'the 100 alerts of the 50 tenants' },
		);
		console.log(`[e2e standard] 50 tenants: executions:\n${describeExecutions(list)}`);
		const delivered = list.flatMap(alertKeys);
		expect(duplicates(delivered)).toEqual([]);
		expect(delivered.filter((k) => seeded.includes(k))).toEqual([]);
		expect([...delivered].sort()).toEqual([...added].sort());
		for (const e of list) {
			expect(failuresOf(e)).toEqual([expect.objectContaining({ tenantId: null, customerLabel: 'Broken', error: expect.stringMatching(/Tenants entry 51 "\.\.\/" is neither a GUID nor a domain/) })]);
		}
		const labels = new Map(list50.map((t) => [t.id, t.name]));
		for (const item of list.flatMap((e) => triggerItems(e, TRIGGER, 0))) expect(item.customerLabel).toBe(labels.get(String(item.tenantId)));
		console.log(`[e2e standard] 50-tenant scenario ${Math.round((Date.now() - t0) / 1000)} s`);
	});
});

describe('durable poll cursors', () => {
	let n8n: N8nInstance;

	beforeAll(async () => {
		n8n = await newInstance('trigger-guarantees-durable', DURABLE_ENV, [{ id: 'credDurable', tenantId: customers[52].id }]);
		await start(n8n);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
	});

	it('restart before the first alert, then a scheduled tick: every alert exactly once', async () => {
		const t0 = Date.now();
		const tenant = customers[52].id;
		const workflowId = await importTrigger(n8n, 'e2e: durable cursors', 'credDurable', { options: { startFrom: 'now' } });
		const { added, list } = await restartBeforeFirstAlert(n8n, workflowId, tenant, 'durable');
		// the activation poll's boundary was committed with one empty execution (n8n commits a durable cursor only
		// with an execution, or after a scheduled tick)
		expect(list.filter((e) => alertKeys(e).length === 0)).toHaveLength(1);
		const more = await addAlerts(tenant, 2, 'durable-tick');
		const all = await waitFor(
			async () => {
				const l = await finishedOf(n8n, workflowId);
				return l.flatMap(alertKeys).length >= added.length + more.length ? l : undefined;
			},
			{ timeoutMs: TICK_TIMEOUT_MS, intervalMs: 1000, what: 'the tick after the restart' },
		);
		const delivered = all.flatMap(alertKeys);
		expect(duplicates(delivered)).toEqual([]);
		expect([...delivered].sort()).toEqual([...added, ...more].sort());
		console.log(`[e2e durable] scenario ${Math.round((Date.now() - t0) / 1000)} s; executions:\n${describeExecutions(all)}`);
	});
});
