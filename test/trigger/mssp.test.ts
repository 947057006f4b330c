/**
 * MSSP multi-tenant trigger through n8n-core's PollContext: 50+ customer tenants polled with one multi-tenant app,
 * exactly once per tenant, per-tenant state (adding/removing tenants), failure isolation on the "Tenant Failures"
 * output, one token per tenant, the request count of an idle poll, wall time with latency, and the time budget.
 */
import type { IDataObject } from 'n8n-workflow';

import { MSSP_ROLES, type ScenarioTenant } from '../emulator';
import { createTriggerEnv, type Deployment, expectNoDuplicates, sleepMs, type TriggerEnv } from './env';
import { resetBetweenTests } from '../harness';

let env: TriggerEnv;
let customers: ScenarioTenant[];
const N = 50;

beforeAll(async () => {
	// Scenario tenant 0 holds the credential; customers 1..55 have 5 historic alerts each.
	env = await createTriggerEnv({ scenario: { tenants: N + 6, alertsPerTenant: 5 } });
	customers = env.scenario.tenants.slice(1);
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => resetBetweenTests(env.emu));

const label = (t: ScenarioTenant) => t.name;
const tenantsParam = (list: ScenarioTenant[]) => list.map((t) => `${t.id}=${label(t)}`).join('\n');
const key = (a: IDataObject) => `${String(a.tenantId)}:${String(a.id)}`;

/** Add `n` alerts to each tenant; returns the expected dedup keys. */
function addEach(list: ScenarioTenant[], n: number): string[] {
	return list.flatMap((t) => env.emu.addAlerts(t.id, n).map((a) => `${t.id}:${a.id}`));
}

function deployTenants(list: ScenarioTenant[], options: IDataObject = {}): Deployment {
	return env.deploy({ event: 'newAlert', tenants: tenantsParam(list), options });
}

test(`${N} tenants: every alert exactly once with its tenant; one token per tenant; an idle poll is ${N} API requests and no token request`, async () => {
	const list = customers.slice(0, N);
	const d = deployTenants(list);
	const prime = await d.poll();
	expect(prime.raw).toBeNull(); // history of every tenant is not delivered
	expect(prime.api).toHaveLength(N + 1); // one request per tenant, and one for the API's clock (its Date header)
	expect(prime.tokens).toHaveLength(N);

	await sleepMs(3);
	const expected = addEach(list, 3);
	const p1 = await d.poll();
	expect(p1.failures).toEqual([]);
	expect(p1.alerts.map(key).sort()).toEqual([...expected].sort());
	expectNoDuplicates(p1.alerts.map((a) => String(a.dedupKey)));
	for (const a of p1.alerts) {
		const t = list.find((x) => x.id === a.tenantId)!;
		expect(a.customerLabel).toBe(label(t));
		expect(a.dedupKey).toBe(key(a));
	}
	expect(Object.keys(d.state().streams!).sort()).toEqual(list.map((t) => `created:${t.id}`).sort());

	const idle: Array<{ api: number; tokens: number; ms: number }> = [];
	for (let i = 0; i < 3; i++) {
		const p = await d.poll();
		expect(p.raw).toBeNull();
		idle.push({ api: p.api.length, tokens: p.tokens.length, ms: Math.round(p.ms) });
	}
	expect(idle.map((x) => [x.api, x.tokens])).toEqual([
		[N, 0],
		[N, 0],
		[N, 0],
	]);
	// one API request per tenant per idle poll, each to its own tenant
	expect(new Set(env.emu.requests({ kind: 'api', sinceSeq: p1.api.at(-1)!.seq }).map((r) => r.tenantId)).size).toBe(N);
	// one token request per tenant across all five polls
	for (const t of list) expect(env.emu.tokenRequests({ tenantId: t.id })).toHaveLength(1);
	console.log(`[mssp] ${N} idle tenants per poll: ${idle.map((x) => `${x.api} API + ${x.tokens} token requests, ${x.ms} ms`).join('; ')}`);
});

test('adding a tenant later does not replay the others (the new one starts now); removing one keeps the others; re-adding resumes it', async () => {
	const list = customers.slice(0, N);
	const d = deployTenants(list);
	await d.poll();
	await sleepMs(3);
	const first = addEach(list, 1);
	expect((await d.poll()).alerts.map(key).sort()).toEqual([...first].sort());

	// add tenant 51 (its 5 historic alerts are not delivered)
	const added = customers[N];
	d.restart({ event: 'newAlert', tenants: tenantsParam([...list, added]) });
	expect((await d.poll()).raw).toBeNull();
	await sleepMs(3);
	const second = addEach([...list, added], 1);
	expect((await d.poll()).alerts.map(key).sort()).toEqual([...second].sort());

	// remove tenant 5: the others neither lose nor repeat anything
	const removed = list[4];
	const remaining = [...list.filter((t) => t !== removed), added];
	d.restart({ event: 'newAlert', tenants: tenantsParam(remaining) });
	const third = addEach(remaining, 1);
	const whileRemoved = addEach([removed], 2);
	const p3 = await d.poll();
	expect(p3.alerts.map(key).sort()).toEqual([...third].sort());
	expect(p3.api.map((r) => r.tenantId)).not.toContain(removed.id);
	expect((await d.poll()).raw).toBeNull();

	// put it back: it resumes from its kept state (no replay of what it delivered, nothing lost meanwhile)
	d.restart({ event: 'newAlert', tenants: tenantsParam([...remaining, removed]) });
	const back = await d.poll();
	expect(back.alerts.map(key).sort()).toEqual([...whileRemoved].sort());
	expect((await d.poll()).raw).toBeNull();
});

test('failure isolation: revoked consent, throttling beyond Max Throttle Wait and a 500 go to Tenant Failures; the others are delivered; the next poll catches up', async () => {
	const list = customers.slice(0, N);
	const [revoked, throttled, broken] = [list[3], list[17], list[42]];
	const d = deployTenants(list, { maxThrottleWait: 1 });
	await d.poll();
	await sleepMs(3);
	const expected = addEach(list, 2);

	env.emu.revokeConsent({ tenantId: revoked.id, clientId: env.scenario.clientId });
	env.emu.revokeTokens({ tenantId: revoked.id });
	env.emu.injectFault({ match: { kind: 'api', tenantId: throttled.id }, status: 429, headers: { 'Retry-After': '2' } });
	env.emu.injectFault({ match: { kind: 'api', tenantId: broken.id }, status: 500, times: 4 });

	const p1 = await d.poll();
	const failedIds = [revoked.id, throttled.id, broken.id];
	const healthy = expected.filter((k) => !failedIds.some((id) => k.startsWith(`${id}:`)));
	expect(p1.alerts.map(key).sort()).toEqual([...healthy].sort());
	expect(p1.raw?.[1]).toHaveLength(3);
	const byTenant = Object.fromEntries(p1.failures.map((f) => [String(f.tenantId), f]));
	expect(byTenant[revoked.id]).toMatchObject({ tenantId: revoked.id, customerLabel: label(revoked), alertsEmitted: 0, retryAfterSeconds: null });
	expect(String(byTenant[revoked.id].error)).toMatch(/is not consented in tenant .* \(AADSTS7000229\)/);
	expect(String(byTenant[revoked.id].description)).toMatch(/administrator of that tenant must open the admin-consent link/);
	expect(byTenant[throttled.id]).toMatchObject({ tenantId: throttled.id, customerLabel: label(throttled), httpCode: 429, retryAfterSeconds: 2 });
	expect(String(byTenant[throttled.id].error)).toMatch(/throttling .*retry after 2 s/);
	expect(byTenant[broken.id]).toMatchObject({ tenantId: broken.id, customerLabel: label(broken), httpCode: 500, retryAfterSeconds: null });
	expect(String(byTenant[broken.id].error)).toMatch(/internal failure \(HTTP 500/);
	for (const f of p1.failures) expect(Object.keys(f).sort()).toEqual(['alertsEmitted', 'customerLabel', 'description', 'error', 'httpCode', 'retryAfterSeconds', 'tenantId']);

	// Faults over: consent granted again, Retry-After passed. The failed tenants' alerts arrive, nothing repeats.
	env.emu.grantConsent(revoked.id, env.scenario.clientId, MSSP_ROLES);
	await sleepMs(2100);
	d.restart(); // (and n8n restarted in between: p1 emitted, so its state was saved)
	const p2 = await d.poll();
	expect(p2.failures).toEqual([]);
	expect(p2.alerts.map(key).sort()).toEqual(expected.filter((k) => !healthy.includes(k)).sort());
	expect((await d.poll()).raw).toBeNull();
});

test('wall time of one idle poll over 50 tenants at 100 ms latency: concurrency 5 vs 10', async () => {
	const list = customers.slice(0, N);
	const times: Record<number, number> = {};
	for (const concurrency of [5, 10]) {
		const d = deployTenants(list, { concurrency });
		await d.poll(); // primes and caches the tokens
		env.emu.setLatency(100);
		const p = await d.poll();
		env.emu.setLatency(0);
		expect(p.raw).toBeNull();
		expect(p.api).toHaveLength(N);
		expect(p.tokens).toHaveLength(0);
		times[concurrency] = Math.round(p.ms);
	}
	// ⌈50 / c⌉ rounds of ≥ 100 ms
	expect(times[5]).toBeGreaterThanOrEqual(1000);
	expect(times[5]).toBeLessThan(6000);
	expect(times[10]).toBeGreaterThanOrEqual(500);
	expect(times[10]).toBeLessThan(times[5]);
	console.log(`[mssp] one poll over ${N} tenants at 100 ms latency: concurrency 5 → ${times[5]} ms, concurrency 10 → ${times[10]} ms`);
});

test('time budget over many tenants: tenants not started in time are skipped and go first next poll; nothing is lost', async () => {
	const list = customers.slice(0, N);
	const d = deployTenants(list);
	await d.poll();
	await sleepMs(3);
	const expected = addEach(list, 1);
	env.emu.setLatency(100);
	const budgetMs = 2500; // ~500 ms of fetching: about 5 rounds of 5 tenants
	const p1 = await d.poll({ budgetMs });
	const p1Tenants = new Set(p1.api.map((r) => r.tenantId));
	expect(p1Tenants.size).toBeGreaterThanOrEqual(5);
	expect(p1Tenants.size).toBeLessThan(N);
	expect(p1.ms).toBeLessThan(budgetMs);
	const p2 = await d.poll({ budgetMs });
	// the second poll starts with the tenants the first one skipped
	const skipped = list.filter((t) => !p1Tenants.has(t.id)).map((t) => t.id);
	expect(p2.api.slice(0, 5).map((r) => r.tenantId).every((id) => skipped.includes(id!))).toBe(true);
	env.emu.setLatency(0);
	const rest = await d.drain(5);
	const got = [...p1.alerts, ...p2.alerts, ...rest.alerts].map(key);
	expectNoDuplicates(got);
	expect(got.sort()).toEqual([...expected].sort());
});
