/** Throttling (429), client-side pacing against scaled documented limits, token expiry and revocation mid-run. */
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { tokenBroker } from '../../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import { DEFAULT_RATE_LIMITS } from '../emulator';
import { createEnv, rl, type TestEnv } from './env';

describe('429 from the API', () => {
	let env: TestEnv;
	beforeEach(async () => {
		env = await createEnv({ scenario: { tenants: 1, alertsPerTenant: 20 } });
	});
	afterEach(async () => {
		await env.close();
	});

	test('is waited out (Retry-After) while under Max Throttle Wait: no failed item', async () => {
		env.emu.setRateLimits({ alerts: [{ limit: 3, windowMs: 1200 }] });
		const ids = env.scenario.tenants[0].alertIds.slice(0, 6);
		const started = Date.now();
		const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}'), simplify: true }, { input: ids.map((id) => ({ id })) });
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.id)).toEqual(ids);
		const statuses = env.api().map((q) => q.status);
		expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
		expect(statuses.filter((s) => s === 200)).toHaveLength(6);
		expect(env.emu.throttleCounts()[0].count).toBeGreaterThanOrEqual(1);
		expect(Date.now() - started).toBeGreaterThanOrEqual(900);
	}, 30_000);

	test('beyond Max Throttle Wait the item fails with when to retry', async () => {
		env.emu.setRateLimits({ alerts: [{ limit: 1, windowMs: 60_000 }] });
		const ids = env.scenario.tenants[0].alertIds.slice(0, 2);
		const started = Date.now();
		const r = await env.run(
			{ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}'), options: { maxThrottleWait: 5 } },
			{ input: ids.map((id) => ({ id })) },
		);
		expect(Date.now() - started).toBeLessThan(5_000);
		expect(r.error?.httpCode).toBe('429');
		expect(r.error?.message).toMatch(/throttling alerts requests for tenant .*; retry after (5\d|60) s \(\d{4}-\d{2}-\d{2}T[\d:.]+Z\)/);
		expect(r.error?.description).toMatch(/Max Throttle Wait/);
		expect(r.error?.context?.itemIndex).toBe(1);
	});

	test('with continueOnFail the throttled item becomes an error item', async () => {
		env.emu.setRateLimits({ alerts: [{ limit: 1, windowMs: 60_000 }] });
		const ids = env.scenario.tenants[0].alertIds.slice(0, 2);
		const r = await env.run(
			{ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}'), options: { maxThrottleWait: 0 } },
			{ input: ids.map((id) => ({ id })), continueOnFail: true },
		);
		expect(r.items[0].json.id).toBe(ids[0]);
		expect(r.items[1].json.error).toMatch(/retry after/);
		expect(r.items[1].json.httpCode).toBe('429');
		expect(r.items[1].pairedItem).toEqual({ item: 1 });
	});
});

describe('documented limits, time-scaled ×0.01 on both sides', () => {
	let env: TestEnv;
	const scale = 0.01;
	beforeAll(async () => {
		const rateLimits = Object.fromEntries(
			Object.entries(DEFAULT_RATE_LIMITS).map(([cls, rules]) => [cls, rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs * scale }))]),
		);
		env = await createEnv({ emulator: { rateLimits }, scenario: { tenants: 1, alertsPerTenant: 300 }, pacerScale: scale });
	});
	afterAll(async () => {
		await env.close();
	});

	test('250 per-item updates are paced under 100/min: every item succeeds', async () => {
		const ids = env.scenario.tenants[0].alertIds.slice(0, 250);
		const started = Date.now();
		const r = await env.run(
			{ resource: 'alert', operation: 'update', alertId: rl('={{ $json.id }}'), updateFields: { status: 'InProgress' }, simplify: true },
			{ input: ids.map((id) => ({ id })) },
		);
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(250);
		expect(r.items.every((i) => i.json.status === 'InProgress')).toBe(true);
		// 100 per 600 ms window: the third hundred cannot start before ~1.2 s
		expect(Date.now() - started).toBeGreaterThanOrEqual(1150);
		const throttled = env.api().filter((q) => q.status === 429).length;
		expect(throttled).toBeLessThanOrEqual(3);
	}, 60_000);

	test('Update Many: the same 250 ids in one batch call', async () => {
		const ids = env.scenario.tenants[0].alertIds.slice(0, 250);
		const since = env.emu.lastSeq();
		const r = await env.run(
			{ resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.id }}', updateFields: { status: 'Resolved' } },
			{ input: ids.map((id) => ({ id })) },
		);
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(250);
		// one batch call and one read-back ("changed since just before"), which finds all 250
		expect(env.api({ sinceSeq: since }).map((q) => q.endpointClass)).toEqual(['batchUpdate', 'alerts']);
		expect(r.items[0].json).toMatchObject({ updated: true, batchCalls: 1, verificationReads: 1, alertsInBatch: 250, itemsInBatch: 250 });
	});
});

describe('tokens', () => {
	let env: TestEnv;
	beforeEach(async () => {
		env = await createEnv({ scenario: { tenants: 1, alertsPerTenant: 20 } });
	});
	afterEach(async () => {
		await env.close();
	});

	test('one token for many items and runs', async () => {
		const ids = env.scenario.tenants[0].alertIds.slice(0, 10);
		for (let k = 0; k < 3; k++) {
			const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}') }, { input: ids.map((id) => ({ id })) });
			expect(r.error).toBeUndefined();
		}
		expect(env.emu.tokensIssued({ tenantId: env.tenantId })).toBe(1);
		expect(Object.values(tokenBroker.getStats().tokenRequests)).toEqual([1]);
	});

	test('revoked mid-run: the 401 gets one fresh token and the request is repeated; no failed item', async () => {
		env.emu.setLatency(15);
		const ids = env.scenario.tenants[0].alertIds.slice(0, 8);
		let revoked = false;
		const watcher = setInterval(() => {
			if (!revoked && env.api().filter((q) => q.status === 200).length >= 3) {
				revoked = true;
				env.emu.revokeTokens({ tenantId: env.tenantId });
			}
		}, 1);
		try {
			const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}') }, { input: ids.map((id) => ({ id })) });
			expect(revoked).toBe(true);
			expect(r.error).toBeUndefined();
			expect(r.items.map((i) => i.json.id)).toEqual(ids);
			expect(env.api().filter((q) => q.status === 401)).toHaveLength(1);
			expect(env.emu.tokensIssued({ tenantId: env.tenantId })).toBe(2);
		} finally {
			clearInterval(watcher);
		}
	});

	test('expired by the identity provider\'s clock mid-run (clock jump): no failed item', async () => {
		const ids = env.scenario.tenants[0].alertIds.slice(0, 6);
		const first = await env.run({ resource: 'alert', operation: 'get', alertId: rl(ids[0]) });
		expect(first.error).toBeUndefined();
		env.emu.advanceClock(2 * 3600 * 1000);
		const r = await env.run({ resource: 'alert', operation: 'getAll', limit: 3 }, { input: [{}, {}] });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(6);
		expect(env.emu.tokensIssued({ tenantId: env.tenantId })).toBe(2);
	});

	test('short token lifetime: tokens are renewed as needed, items never fail', async () => {
		env.emu.setTokenLifetime(1);
		const ids = env.scenario.tenants[0].alertIds.slice(0, 4);
		for (let k = 0; k < 2; k++) {
			const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}') }, { input: ids.map((id) => ({ id })) });
			expect(r.error).toBeUndefined();
			expect(r.items).toHaveLength(4);
			await new Promise((resolve) => setTimeout(resolve, 1100));
		}
		expect(env.api().every((q) => q.status === 200)).toBe(true);
	});

	test('no token or secret in output or errors', async () => {
		env.emu.setRoles(env.tenantId, env.scenario.clientId, []);
		tokenBroker.reset();
		const r = await env.run({ resource: 'alert', operation: 'getAll', limit: 1 });
		expect(r.error?.httpCode).toBe('403');
		const text = JSON.stringify({ message: r.error?.message, description: r.error?.description, ctx: r.error?.context });
		expect(text).toMatch(/Alert\.Read\.All/);
		expect(text).not.toContain(env.scenario.clientSecret);
		expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
	});
});

afterAll(() => {
	resetProcessState();
});
