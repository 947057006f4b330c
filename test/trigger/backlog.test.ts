/**
 * Backlogs and budgets through n8n-core's PollContext: 20,000 alerts drained with Max Alerts per Poll 5,000 (in
 * order, no duplicates or losses, restarts between polls, a token revoked while draining, bounded seen memory),
 * and the poll time budget (stops early, the rest drains next poll, never stalls on the late-arrival window).
 */
import { createTriggerEnv, expectNoDuplicates, ids, type PollOutcome, sleepMs, type TriggerEnv } from './env';
import { resetBetweenTests } from '../harness';

let env: TriggerEnv;

beforeAll(async () => {
	env = await createTriggerEnv({ scenario: { tenants: 3, alertsPerTenant: 0 } });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => resetBetweenTests(env.emu));

const BACKLOG = 20_000;

test(`a backlog of ${BACKLOG.toLocaleString('en')} alerts drains in order over 4 polls of 5,000, with restarts and a revoked token`, async () => {
	const tenant = env.scenario.tenants[0].id;
	// Spread over the last 48 h (one alert every 8.64 s), ascending, as the API would hold them.
	const end = Date.now() - 60_000;
	const step = (48 * 3_600_000) / BACKLOG;
	const added = env.emu.addAlerts(
		tenant,
		Array.from({ length: BACKLOG }, (_, i) => ({ alertCreationTime: new Date(end - (BACKLOG - 1 - i) * step).toISOString() })),
	);
	const d = env.deploy({ event: 'newAlert', options: { startFrom: 'hoursBack', hoursBack: 49, maxAlertsPerPoll: 5000 } }, { cred: env.addCredential('cred-backlog', { tenantId: tenant }) });

	const polls: PollOutcome[] = [];
	const emitted: string[] = [];
	for (let i = 0; i < 10; i++) {
		if (i === 2) env.emu.revokeTokens({ tenantId: tenant }); // the cached token dies while the backlog drains
		const p = await d.poll();
		polls.push(p);
		emitted.push(...ids(p.alerts));
		d.restart(); // every poll is followed by an n8n restart (state = what n8n saved)
		if (p.raw === null) break;
	}

	expect(polls.map((p) => p.alerts.length)).toEqual([5000, 5000, 5000, 5000, 0]);
	expectNoDuplicates(emitted);
	expect(emitted).toEqual(added.map((a) => a.id)); // every alert, oldest first
	const apiRequests = polls.map((p) => p.api.length);
	const tokenRequests = polls.map((p) => p.tokens.length);
	// One page per poll (the automatic page holds the window plus 5,000 and a look at the next), and the API's clock
	// once before the first; the revoked token costs one 401 and one token request, and no failed poll.
	expect(apiRequests).toEqual([2, 1, 2, 1, 1]);
	expect(tokenRequests).toEqual([1, 0, 1, 0, 0]);
	expect(polls[2].api.map((r) => r.status)).toEqual([401, 200]);
	const total = apiRequests.reduce((a, b) => a + b, 0);
	expect(total).toBe(7);

	// Seen memory covers only the late-arrival window (15 min ≈ 105 alerts at one per 8.64 s), not 20,000.
	const state = d.state();
	const stream = state.streams![`created:${tenant}`];
	const seen = Object.keys(stream.seen).length;
	expect(seen).toBeGreaterThanOrEqual(100);
	expect(seen).toBeLessThanOrEqual(106);
	expect(stream.cursor).toBe(added[BACKLOG - 1].alertCreationTime);
	const bytes = JSON.stringify(state).length;
	expect(bytes).toBeLessThan(12_000);
	console.log(`[backlog] ${BACKLOG} alerts: ${polls.length} polls (${polls.length - 1} emitting), API requests per poll ${apiRequests.join('/')} = ${total}, token requests ${tokenRequests.join('/')}, seen entries ${seen}, static data ${bytes} B, poll ms ${polls.map((p) => Math.round(p.ms)).join('/')}`);
}, 60_000);

test('time budget: a poll stops at its budget (latency 100 ms) and the rest is delivered by the next poll', async () => {
	// Updated Alert, only status changes: 600 versions that change nothing watched, then one status change.
	// (No late-arrival window here, so that the second poll does not first re-read what the first one read; the
	// next test covers the window.)
	const tenant = env.scenario.tenants[1].id;
	const d = env.deploy(
		{ event: 'updatedAlert', watchFields: ['status'], options: { maxAlertsPerPoll: 100, pageSize: 100, overlapMinutes: 0 } },
		{ cred: env.addCredential('cred-budget', { tenantId: tenant }) },
	);
	expect((await d.poll()).raw).toBeNull(); // primes (and caches the token)
	env.emu.addAlerts(tenant, 600);
	const [changed] = env.emu.addAlerts(tenant, [{ status: 'InProgress' }]);
	env.emu.setLatency(100);

	const budgetMs = 2500; // stop fetching after ~500 ms (a fifth, at least 2 s, is left for n8n)
	const p1 = await d.poll({ budgetMs });
	expect(p1.raw).toBeNull();
	expect(p1.ms).toBeLessThan(budgetMs);
	expect(p1.api.length).toBeGreaterThanOrEqual(2);
	expect(p1.api.length).toBeLessThan(7); // 7 pages would be needed to reach the status change
	const p2 = await d.poll({ budgetMs });
	expect(ids(p2.alerts)).toEqual([changed.id]);
	// created while watching, first seen changed: compared with the creation values, which are not presented as observed
	expect(p2.alerts[0]).toMatchObject({ event: 'updatedAlert', changedFields: ['status'], previous: {}, previousKnown: false });
	expect(p1.api.length + p2.api.length).toBeGreaterThanOrEqual(7);
	expect((await d.poll({ budgetMs })).raw).toBeNull();
}, 30_000);

test('time budget smaller than re-reading the late-arrival window: polls still make progress (no stall)', async () => {
	// 300 alerts inside the 15-minute window, 100 per poll: each poll first re-reads the pages it already
	// delivered. With a budget that allows one page, stopping there would deliver nothing, keep the state and
	// re-read the same pages next time, for ever; the trigger reads on to the first new alert first.
	const tenant = env.scenario.tenants[2].id;
	const d = env.deploy({ event: 'newAlert', options: { maxAlertsPerPoll: 100, pageSize: 100 } }, { cred: env.addCredential('cred-stall', { tenantId: tenant }) });
	expect((await d.poll()).raw).toBeNull();
	await sleepMs(3);
	const added = env.emu.addAlerts(tenant, 300);
	env.emu.setLatency(50);
	const { alerts, polls } = await d.drain(10, { budgetMs: 1500 });
	expect(ids(alerts)).toEqual(added.map((a) => a.id));
	expect(polls.map((p) => p.alerts.length)).toEqual([100, 99, 99, 2, 0]);
	expect(polls.every((p) => p.ms < 1500)).toBe(true);
}, 30_000);
