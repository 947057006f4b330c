/**
 * The trigger in a PUBLISHED workflow under `n8n start` (a real n8n 2.41.1), polling the emulator every minute
 * (the shortest interval n8n allows; the cron fires at a random second). Alerts are added to the emulator while
 * it runs, with explicit creation times (emulator now, several sharing one timestamp):
 *   publish → activation poll (nothing yet) → alerts A → tick: execution with exactly A
 *   → idle tick: exactly one API request, no execution
 *   → alerts B → RESTART n8n → activation poll: exactly B → alerts C → tick: exactly C.
 * Every alert is delivered exactly once across all executions; nothing older than the activation ever is.
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
	restart,
	sleep,
	start,
	startEmulatorProcess,
	TRIGGER_TYPE,
	waitFor,
	type ApiExecution,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';
import { describeEntry, emulatorNow, emulatorRequests, logMark, triggerItems } from './lib/scenario';

const TRIGGER = 'New Defender alerts';
/** One cron period plus the poll itself and n8n's execution bookkeeping. */
const TICK_TIMEOUT_MS = 100_000;

describe('the trigger, published, under n8n start, across a restart', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let tenantId: string;
	let workflowId: string;
	const added: Record<'A' | 'B' | 'C', string[]> = { A: [], B: [], C: [] };
	let seededIds: string[] = [];

	const pollsSince = async (mark: number) => await emulatorRequests(emulator, { kind: 'api', tenantId, sinceSeq: mark });
	const apiCount = async (): Promise<number> => (await emulator.control<{ count: number }>('GET', `/count?kind=api&tenantId=${tenantId}`)).count;
	const finished = async (): Promise<ApiExecution[]> =>
		(await getExecutions(n8n, workflowId, { includeData: true }))
			.filter((e) => e.status !== 'running' && e.status !== 'new')
			.sort((a, b) => Number(a.id) - Number(b.id));
	const idsOf = (e: ApiExecution): string[] => triggerItems(e, TRIGGER).map((item) => String(item.id));
	const describeExecutions = (list: ApiExecution[]): string =>
		list.map((e) => `#${e.id} ${e.status} ${e.startedAt}: ${idsOf(e).join(', ') || '(no items)'}`).join('\n');
	/** Waits for more than `count` finished executions; returns all of them, oldest first. */
	const executionsBeyond = async (count: number, what: string): Promise<ApiExecution[]> =>
		await waitFor(
			async () => {
				const list = await finished();
				return list.length > count ? list : undefined;
			},
			{ timeoutMs: TICK_TIMEOUT_MS, intervalMs: 1000, what, describe: () => `executions so far: ${count}` },
		);
	/** Adds alerts to the tenant, created "now" by the emulator clock: `groups[i]` alerts share the i-th timestamp (1 tick apart). */
	const addAlerts = async (batch: 'A' | 'B' | 'C', groups: number[]): Promise<void> => {
		const now = toTicks(await emulatorNow(emulator));
		const alerts = groups.flatMap((size, g) =>
			Array.from({ length: size }, (_, k) => ({ alertCreationTime: fromTicks(now + BigInt(g)), title: `e2e trigger ${batch}${g}.${k}`, status: 'New' })),
		);
		const result = await emulator.control<{ value: Array<{ id: string }> }>('POST', `/tenants/${tenantId}/alerts`, alerts);
		added[batch].push(...result.value.map((a) => a.id));
		console.log(`[e2e] added ${batch}: ${added[batch].length} alerts at ${fromTicks(now)} (+${groups.length - 1} ticks)`);
	};

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({ noRateLimits: true });
		tenantId = emulator.state.tenants[0].id;
		seededIds = (await emulator.control<{ value: Array<{ id: string }> }>('GET', `/tenants/${tenantId}/alerts`)).value.map((a) => a.id);
		n8n = await createInstance({ name: 'trigger' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [emulatorCredential(emulator.state)]);
		const trigger = defenderNode(
			TRIGGER,
			{
				event: 'newAlert',
				pollTimes: { item: [{ mode: 'everyMinute' }] },
				options: { startFrom: 'now', maxAlertsPerPoll: 200 },
			},
			{ type: TRIGGER_TYPE },
		);
		workflowId = await importWorkflow(n8n, chain('e2e: trigger across a restart', [trigger, noOpNode()]));
		await start(n8n);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('activation polls once at once and starts no execution (Start From = now: nothing older is delivered)', async () => {
		const mark = await logMark(emulator);
		await publish(n8n, workflowId);
		await waitFor(async () => (await pollsSince(mark)).length > 0, { timeoutMs: 30_000, what: 'the activation poll' });
		await sleep(3000);
		const requests = await pollsSince(mark);
		// The activation poll learns the API's clock once (the newest alert, to read the Date header: Start From = Now
		// follows Defender's clock, not the host's), then reads from there.
		expect(requests[0].query?.$orderby).toBe('alertCreationTime desc');
		const polls = requests.slice(1).map(describeEntry);
		// The minute cron's random second can add one scheduled tick right after it. Either way every poll is the same
		// idle request (the cursor stays at "now") and nothing is delivered.
		expect(polls.length === 1 || (polls.length === 2 && polls[0] === polls[1])).toBe(true);
		for (const p of polls) expect(p).toMatch(/^api GET \/api\/alerts\?.*\$filter=.*alertCreationTime ge .*→ 200/);
		expect(await finished()).toEqual([]);
	});

	it('delivers alerts added while it runs (two sharing a timestamp) in the next tick, exactly once', async () => {
		await addAlerts('A', [2, 1]);
		const list = await executionsBeyond(0, 'the first tick after alerts A');
		expect(list).toHaveLength(1);
		expect(list[0].status).toBe('success');
		expect(idsOf(list[0]).sort()).toEqual([...added.A].sort());
		const items = triggerItems(list[0], TRIGGER);
		for (const item of items) expect(item).toMatchObject({ event: 'newAlert', tenantId, dedupKey: `${tenantId}:${String(item.id)}` });
		// The whole workflow ran: the No Operation node got the same items.
		expect(list[0].data?.resultData.runData['No Operation']?.[0]?.data?.main?.[0]).toHaveLength(added.A.length);
	});

	it('an idle tick makes exactly one API request and starts no execution', async () => {
		const before = await apiCount();
		const mark = await logMark(emulator);
		await waitFor(async () => (await pollsSince(mark)).length > 0, { timeoutMs: TICK_TIMEOUT_MS, intervalMs: 500, what: 'the next (idle) tick' });
		// Let the poll finish whatever else it would do (paging, retries) before counting.
		await sleep(5000);
		const polls = await pollsSince(mark);
		expect(polls.map(describeEntry)).toEqual([expect.stringMatching(/^api GET \/api\/alerts\?.*alertCreationTime ge .*→ 200/)]);
		expect(await apiCount()).toBe(before + 1);
		const list = await finished();
		expect(list.map((e) => `#${e.id}`)).toHaveLength(1);
	});

	it('after a restart, delivers the alerts added before it (not yet polled) and never the earlier ones again', async () => {
		await addAlerts('B', [2]);
		const server = await restart(n8n);
		console.log(`[e2e] n8n restarted in ${server.startupMs} ms`);
		const list = await executionsBeyond(1, 'the first poll after the restart');
		const later = list.slice(1);
		expect(later.map((e) => e.status)).toEqual(later.map(() => 'success'));
		expect(later.flatMap(idsOf).sort()).toEqual([...added.B].sort());
	});

	it('after the restart, the next tick delivers exactly the new alerts', async () => {
		const known = (await finished()).length;
		await addAlerts('C', [2, 1]);
		const list = await executionsBeyond(known, 'a tick after alerts C');
		const fresh = list.slice(known);
		expect(fresh.map((e) => e.status)).toEqual(fresh.map(() => 'success'));
		expect(fresh.flatMap(idsOf).sort()).toEqual([...added.C].sort());
	});

	it('across all executions: every added alert exactly once, nothing else (no seeded alert, no duplicate)', async () => {
		const list = await finished();
		const delivered = list.flatMap(idsOf);
		const expected = [...added.A, ...added.B, ...added.C];
		expect(expected).toHaveLength(8);
		const counts = new Map<string, number>();
		for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
		expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
		expect([...delivered].sort()).toEqual([...expected].sort());
		expect(delivered.filter((id) => seededIds.includes(id))).toEqual([]);
		console.log(`[e2e] executions:\n${describeExecutions(list)}`);
	});
});
