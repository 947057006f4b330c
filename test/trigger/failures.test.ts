/**
 * Failures in single-tenant mode, through n8n-core's PollContext: a page failing half-way (500 beyond the retries,
 * 429 beyond Max Throttle Wait), a token revoked while a page is in flight, 401/403, bad filters. A poll that read
 * alerts before the failure emits them; one that read nothing fails (n8n records a failed execution and saves no
 * state); the state never moves past an alert that was not emitted.
 */
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { pacer } from '../../nodes/MicrosoftDefenderForEndpoint/transport/pacer';
import { MSSP_ROLES } from '../emulator';
import { createTriggerEnv, type Deployment, expectNoDuplicates, ids, sleepMs, type TriggerEnv } from './env';
import { resetBetweenTests } from '../harness';

let env: TriggerEnv;
let next = 0;

beforeAll(async () => {
	env = await createTriggerEnv({ scenario: { tenants: 12, alertsPerTenant: 0 } });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => resetBetweenTests(env.emu));

/** A fresh tenant of the scenario, a credential for it and a deployment reading it from 2020 on. */
function fresh(options: Record<string, unknown> = {}, filters: Record<string, unknown> = {}): { tenant: string; d: Deployment } {
	const tenant = env.scenario.tenants[next++].id;
	const cred = env.addCredential(`cred-${next}`, { tenantId: tenant });
	const d = env.deploy({ event: 'newAlert', filters, options: { startFrom: 'date', startDate: '2020-01-01T00:00:00Z', maxAlertsPerPoll: 100, pageSize: 100, ...options } }, { cred });
	return { tenant, d };
}

/**
 * `n` alerts one second apart from 2021-01-01T00:00:00; alert 99 (the last of the first page of 100) gets the
 * fraction .5555555, so the second page's query (`ge` that instant) can be told apart: BOUNDARY matches it.
 */
function fixedAlerts(tenant: string, n: number): string[] {
	const alerts = Array.from({ length: n }, (_, i) => ({
		alertCreationTime: new Date(Date.UTC(2021, 0, 1, 0, 0, i)).toISOString().replace('.000Z', i === 99 ? '.5555555Z' : '.0000000Z'),
	}));
	return env.emu.addAlerts(tenant, alerts).map((a) => a.id);
}
const BOUNDARY = /ge(%20|\+| )2021-01-01T00(%3A|:)01(%3A|:)39\.5555555Z/;

describe('a page failing half-way', () => {
	test('500 on the 2nd page beyond the retries: the poll emits what it read; the next polls continue without loss or duplicate', async () => {
		const { tenant, d } = fresh();
		const all = fixedAlerts(tenant, 250);
		env.emu.injectFault({ match: { kind: 'api', path: BOUNDARY }, status: 500, times: 4 });
		const p1 = await d.poll();
		expect(p1.api.map((r) => r.status)).toEqual([200, 500, 500, 500, 500]);
		expect(ids(p1.alerts)).toEqual(all.slice(0, 100));
		expect(p1.failures).toEqual([]);
		const rest = await d.drain(5);
		expect([...ids(p1.alerts), ...ids(rest.alerts)]).toEqual(all);
	});

	test('a poll that fails before reading anything new throws and leaves the state as it was', async () => {
		const { tenant, d } = fresh();
		const all = fixedAlerts(tenant, 120);
		const first = await d.drain(5);
		expect(ids(first.alerts)).toEqual(all);
		const before = JSON.stringify(d.harness.snapshot());
		env.emu.injectFault({ match: { kind: 'api' }, status: 500, times: 4 });
		const error = await d.pollError();
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.httpCode).toBe('500');
		expect(error.message).toMatch(/internal failure \(HTTP 500/);
		expect(JSON.stringify(d.harness.snapshot())).toBe(before);
		expect((await d.poll()).raw).toBeNull();
	});

	test('429 on the 2nd page beyond Max Throttle Wait: emits page 1; Retry-After is honoured; then the rest, exactly once', async () => {
		const { tenant, d } = fresh({ maxThrottleWait: 0 });
		const all = fixedAlerts(tenant, 250);
		env.emu.injectFault({ match: { kind: 'api', path: BOUNDARY }, status: 429, headers: { 'Retry-After': '1' } });
		const p1 = await d.poll();
		expect(p1.api.map((r) => r.status)).toEqual([200, 429]);
		expect(ids(p1.alerts)).toEqual(all.slice(0, 100));
		// Still inside Retry-After: the poll fails without calling the API, saying when to retry.
		const early = await d.pollError();
		expect(early).toBeInstanceOf(NodeApiError);
		expect(early.httpCode).toBe('429');
		expect(early.message).toMatch(/retry after \d+ ms|retry after 1 s/);
		expect(env.emu.count({ kind: 'api', sinceSeq: p1.api[1].seq })).toBe(0);
		await sleepMs(1100);
		const rest = await d.drain(5);
		const got = [...ids(p1.alerts), ...ids(rest.alerts)];
		expectNoDuplicates(got);
		expect(got).toEqual(all);
	});

	test('429 within Max Throttle Wait is waited out inside the poll', async () => {
		const { tenant, d } = fresh();
		const all = fixedAlerts(tenant, 30);
		env.emu.injectFault({ match: { kind: 'api' }, status: 429, headers: { 'Retry-After': '1' } });
		const p = await d.poll();
		expect(p.api.map((r) => r.status)).toEqual([429, 200]);
		expect(p.ms).toBeGreaterThanOrEqual(950);
		expect(ids(p.alerts)).toEqual(all);
	});

	test('429 beyond Max Throttle Wait on the first page: NodeApiError 429 with the retry time; nothing advances', async () => {
		const { tenant, d } = fresh({ maxThrottleWait: 5 });
		const all = fixedAlerts(tenant, 20);
		env.emu.injectFault({ match: { kind: 'api' }, status: 429, headers: { 'Retry-After': '120' } });
		const started = Date.now();
		const error = await d.pollError();
		expect(Date.now() - started).toBeLessThan(3000);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.httpCode).toBe('429');
		expect(error.message).toMatch(/throttling alerts requests for tenant .*; retry after 2 min \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/);
		expect(error.description).toMatch(/Max Throttle Wait/);
		expect(error.retryAfterMs).toBe(120_000);
		// n8n's poll back-off reads Retry-After from the error's headers
		expect((error as unknown as { headers: Record<string, string> }).headers['retry-after']).toBe('120');
		// The stream is where it started (the Start From boundary), nothing seen.
		expect(Object.values(d.state().streams ?? {})).toEqual([{ v: 2, kind: 'created', cursor: '2020-01-01T00:00:00.0000000Z', floor: '2020-01-01T00:00:00.0000000Z', seen: {} }]);
		pacer.reset(); // … two minutes later
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual(all);
	});
});

describe('tokens and permissions', () => {
	test('token revoked while the 2nd page is in flight: refreshed once, no failed poll, nothing lost', async () => {
		const { tenant, d } = fresh();
		// 250 alerts at ONE instant: page 3 of the second poll ($skip=100) is where the new alerts are.
		const t = '2021-06-01T12:00:00.7777777Z';
		const all = env.emu.addAlerts(tenant, Array.from({ length: 250 }, () => ({ alertCreationTime: t }))).map((a) => a.id);
		const p1 = await d.poll();
		expect(p1.alerts).toHaveLength(100);
		env.emu.injectFault({ match: { kind: 'api', path: /(\$|%24)skip=100(&|$)/ }, delayMs: 400 });
		const polling = d.poll();
		while (env.emu.faults().length > 0) await sleepMs(5); // the delayed request has arrived…
		env.emu.revokeTokens({ tenantId: tenant }); // …and its token is revoked before it is handled
		const p2 = await polling;
		expect(p2.api.map((r) => r.status)).toEqual([200, 200, 401, 200, 200]);
		expect(p2.tokens).toHaveLength(1);
		expect(p2.alerts).toHaveLength(100);
		const rest = await d.drain(5);
		const got = [...ids(p1.alerts), ...ids(p2.alerts), ...ids(rest.alerts)];
		expectNoDuplicates(got);
		expect(got.sort()).toEqual([...all].sort());
	});

	test('403 (app lost Alert.Read.All): the poll fails with the missing permission; fixed → continues', async () => {
		const { tenant, d } = fresh();
		const first = fixedAlerts(tenant, 5);
		expect(ids((await d.poll()).alerts)).toEqual(first);
		env.emu.setRoles(tenant, env.scenario.clientId, ['Machine.Read.All']);
		env.emu.revokeTokens({ tenantId: tenant });
		const error = await d.pollError();
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.httpCode).toBe('403');
		expect(error.message).toMatch(new RegExp(`lacks the permission for this operation in tenant ${tenant}: it needs Alert\\.Read\\.All or Alert\\.ReadWrite\\.All`));
		expect(error.description).toMatch(/The token carries Machine\.Read\.All/);
		env.emu.setRoles(tenant, env.scenario.clientId, MSSP_ROLES);
		env.emu.revokeTokens({ tenantId: tenant });
		const more = env.emu.addAlerts(tenant, 2).map((a) => a.id);
		expect(ids((await d.poll()).alerts)).toEqual(more);
	});

	test('401 that a fresh token does not cure: the poll fails with a clear message', async () => {
		const { d } = fresh();
		await d.poll(); // token cached
		env.emu.injectFault({ match: { kind: 'api' }, status: 401, times: 2 });
		const error = await d.pollError();
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.httpCode).toBe('401');
		expect(error.message).toMatch(/did not accept the access token/);
	});

	test('wrong client secret: the poll (activation) fails naming the secret', async () => {
		const tenant = env.scenario.tenants[next++].id;
		const cred = env.addCredential('cred-bad-secret', { tenantId: tenant, clientSecret: 'not-the-secret' });
		const d = env.deploy({ event: 'newAlert' }, { cred });
		const error = await d.pollError();
		expect(error.message).toMatch(/rejected the client secret/);
		expect(error.message).not.toContain('not-the-secret');
		// No stream yet: the token (and with it the tenant's GUID, the stream's key) was never issued. Nothing skipped.
		expect(Object.values(d.state().streams ?? {})).toEqual([]);
	});
});

describe('bad parameters fail before any request', () => {
	test.each([
		[{ severity: ['Critical'] }, /Severity "Critical" is not a valid value/],
		[{ status: ['Open'] }, /Status "Open" is not a valid value/],
		[{ category: "Malware' or severity eq 'Low" }, /Category "Malware' or severity eq 'Low" is not a valid value/],
		[{ detectionSource: ['EDR)'] }, /Detection Source "EDR\)" is not a valid value/],
	])('filters %j', async (filters, message) => {
		const { d } = fresh({}, filters);
		const error = await d.pollError();
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toMatch(message);
		expect(env.emu.count({ kind: 'api' })).toBe(0);
		next--; // the tenant was not used
	});

	test.each([
		['common', /Tenants entry 1 "common" is not a specific tenant/, 0],
		['<a valid tenant>, not a tenant', /Tenants entry 2 "not a tenant" is neither a GUID nor a domain/, 1],
	])('Tenants %j: the bad entry is a Tenant Failures item (no request for it), the poll does not fail', async (tenants, message, valid) => {
		const d = env.deploy({ event: 'newAlert', tenants: tenants.replace('<a valid tenant>', env.tenantId), options: { startFrom: 'date', startDate: '2100-01-01T00:00:00Z' } });
		const p = await d.poll();
		expect(p.failures).toHaveLength(1);
		expect(p.failures[0]).toMatchObject({ tenantId: null, error: expect.stringMatching(message), description: expect.stringMatching(/GUID|verified domain/) });
		// only the valid entry's tenant is asked (the token, then one page)
		expect(new Set(env.emu.requests({ kind: 'api' }).map((r) => r.tenantId)).size).toBe(valid);
	});

	test('an invalid Start Date', async () => {
		const { d } = fresh({ startDate: 'yesterday' });
		const error = await d.pollError();
		expect(error.message).toMatch(/Start Date "yesterday" is not a date/);
		expect(env.emu.count({ kind: 'api' })).toBe(0);
	});
});
