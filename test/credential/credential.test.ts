/**
 * The credential's behaviours, each run through n8n-core's real engine (WorkflowExecute, n8n's HTTP helper,
 * preAuthentication as the n8n CLI runs it) against the HTTPS emulator.
 */
import { LoggerProxy, type INodeExecutionData, type IRun } from 'n8n-workflow';

import { createScenario, type Emulator, type Scenario, startEmulator } from '../emulator';
import { DefenderProbe } from '../harness/probeNode';
import { outputOf, runWorkflow, singleNodeWorkflow, TestCredentialsHelper, testCredential, TestNodeTypes, errorOf } from '../harness';
import { tokenBroker } from '../../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import { pacer } from '../../nodes/MicrosoftDefenderForEndpoint/transport/pacer';
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { pacingKey } from '../../nodes/MicrosoftDefenderForEndpoint/transport/request';

const PROBE = 'n8n-nodes-defender-endpoint.defenderProbe';
const nodeTypes = new TestNodeTypes({ [PROBE]: new DefenderProbe() });

let emu: Emulator;
let scenario: Scenario;

function credentialData(overrides: Record<string, unknown> = {}) {
	return {
		cloud: 'custom',
		authorityHost: emu.url,
		apiBaseUrl: emu.url,
		scope: 'https://api.securitycenter.microsoft.com/.default',
		tenantId: scenario.tenants[0].id,
		clientId: scenario.clientId,
		clientSecret: scenario.clientSecret,
		...overrides,
	};
}

async function runProbe(helper: TestCredentialsHelper, credId: string, items: INodeExecutionData[], extra: Record<string, unknown> = {}): Promise<IRun> {
	const wf = singleNodeWorkflow({
		name: 'Probe',
		type: PROBE,
		parameters: { region: 'global' },
		credentials: { microsoftDefenderForEndpointApi: { id: credId, name: credId } },
		...extra,
	});
	return await runWorkflow({ ...wf, nodeTypes, credentialsHelper: helper, input: items });
}

const items = (n: number, tenant?: string): INodeExecutionData[] => Array.from({ length: n }, () => ({ json: tenant ? { tenant } : {} }));

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false });
	scenario = createScenario(emu, { tenants: 3, alertsPerTenant: 5 });
});

afterAll(async () => {
	await emu.close();
});

beforeEach(() => {
	// These tests are about tokens, not pacing (test/unit/pacer.test.ts and test/node/resilience.test.ts are):
	// shrink the documented 100-per-minute budget's window so 120 quick calls do not wait a minute.
	resetProcessState({ pacerTimeScale: 0.001 });
	emu.resetLog();
	emu.clearFaults();
});

describe('token requests', () => {
	it('makes one token request per tenant per token lifetime across items, executions, workflows and credentials', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		helper.add('b', credentialData()); // a second n8n credential with the same app and tenant
		for (let run = 0; run < 3; run++) {
			for (const id of ['a', 'b']) {
				const r = await runProbe(helper, id, items(20));
				expect(outputOf(r, 'Probe')).toHaveLength(20);
			}
		}
		expect(emu.tokenRequests({ tenantId: scenario.tenants[0].id }).length).toBe(1);
		expect(emu.count({ kind: 'api' })).toBe(120);
		expect(Object.values(tokenBroker.getStats().tokenRequests)).toEqual([1]);
		// n8n persisted the token in each credential once (first use), not per request
		expect(helper.persisted).toBe(2);
	});

	it('shares one in-flight token request between concurrent first requests', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		emu.setLatency(150);
		try {
			const runs = await Promise.all(Array.from({ length: 6 }, async () => await runProbe(helper, 'a', items(2))));
			for (const r of runs) expect(outputOf(r, 'Probe')).toHaveLength(2);
		} finally {
			emu.setLatency(0);
		}
		expect(emu.tokenRequests({ tenantId: scenario.tenants[0].id }).length).toBe(1);
	});

	it('replaces a token the API rejects exactly once and retries, with no failed item', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		await runProbe(helper, 'a', items(1));
		const stored = (await helper.stored('a')).accessToken;
		emu.revokeTokens({ tenantId: scenario.tenants[0].id });
		emu.resetLog();
		const r = await runProbe(helper, 'a', items(10));
		expect(outputOf(r, 'Probe').map((i) => i.json.error)).toEqual(new Array(10).fill(undefined));
		expect(emu.tokenRequests({ tenantId: scenario.tenants[0].id }).length).toBe(1);
		expect(emu.count({ kind: 'api', status: 401 })).toBe(1);
		expect(emu.count({ kind: 'api', status: 200 })).toBe(10);
		const refreshed = (await helper.stored('a')).accessToken;
		expect(refreshed).toBeTruthy();
		expect(refreshed).not.toBe(stored);
	});

	it('refreshes ahead of expiry without a 401 (msal renews 5 minutes before expiry)', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		emu.setTokenLifetime(304); // msal serves it from its cache for ~4 s only (it renews 300 s before expiry)
		try {
			await runProbe(helper, 'a', items(2));
			await runProbe(helper, 'a', items(2));
			expect(emu.tokenRequests().length).toBe(1);
			await new Promise((r) => setTimeout(r, 6500));
			const r = await runProbe(helper, 'a', items(2));
			expect(outputOf(r, 'Probe')).toHaveLength(2);
		} finally {
			emu.setTokenLifetime(3599);
		}
		expect(emu.tokenRequests().length).toBe(2);
		expect(emu.count({ kind: 'api', status: 401 })).toBe(0);
	});

	it('keys tokens by tenant: a per-item customer tenant gets its own token from the same app', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		const [t0, t1, t2] = scenario.tenants;
		const r = await runProbe(helper, 'a', [...items(3, t1.id), ...items(3, t2.domain), ...items(2)]);
		const out = outputOf(r, 'Probe');
		expect(out.map((i) => i.json.tenantId)).toEqual([t1.id, t1.id, t1.id, t2.domain, t2.domain, t2.domain, t0.id, t0.id]);
		for (const t of [t0, t1, t2]) expect(emu.tokenRequests({ tenantId: t.id }).length).toBe(1);
		// each API call carried a token of the tenant it was meant for
		expect(emu.requests({ kind: 'api' }).map((e) => e.tenantId)).toEqual([t1.id, t1.id, t1.id, t2.id, t2.id, t2.id, t0.id, t0.id]);
	});

	it('treats a tenant\'s verified domain and its GUID as one tenant (one token)', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		const t1 = scenario.tenants[1];
		const r = await runProbe(helper, 'a', [...items(2, t1.domain), ...items(2, t1.id), ...items(1, t1.domain.toUpperCase())]);
		expect(outputOf(r, 'Probe')).toHaveLength(5);
		expect(emu.tokenRequests({ tenantId: t1.id }).length).toBe(1);
		// and one rate-limit budget: all five calls count against the tenant GUID's
		pacer.setTimeScale(1);
		expect(pacer.recent(pacingKey(scenario.clientId, t1.id, 'alerts'), 'alerts')).toBe(5);
	});
});

describe('n8n HTTP stack', () => {
	it('sends token and API requests through n8n\'s proxy settings (real hostnames via the proxy)', async () => {
		const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
		process.env.HTTPS_PROXY = emu.proxyUrl;
		delete process.env.NO_PROXY;
		try {
			const helper = new TestCredentialsHelper();
			helper.add('c', credentialData({ cloud: 'commercial', authorityHost: undefined, apiBaseUrl: undefined, scope: undefined }));
			const r = await runProbe(helper, 'c', items(1), { parameters: { region: 'eu' } });
			expect(outputOf(r, 'Probe')[0].json.alerts).toBe(1);
		} finally {
			if (saved.HTTPS_PROXY === undefined) delete process.env.HTTPS_PROXY;
			else process.env.HTTPS_PROXY = saved.HTTPS_PROXY;
			if (saved.NO_PROXY !== undefined) process.env.NO_PROXY = saved.NO_PROXY;
		}
		const token = emu.tokenRequests()[0];
		expect(token).toMatchObject({ host: 'login.microsoftonline.com', viaProxy: true, path: `/${scenario.tenants[0].id}/oauth2/v2.0/token` });
		expect(emu.requests({ kind: 'api' })[0]).toMatchObject({ host: 'eu.api.security.microsoft.com', viaProxy: true });
		expect(emu.requests({ kind: 'api' })[0].userAgent).toMatch(/^MdePartner-/);
	});

	it('applies the credential\'s allowed-domains restriction to token requests', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('ok', credentialData({ allowedHttpRequestDomains: 'domains', allowedDomains: '127.0.0.1' }));
		helper.add('blocked', credentialData({ allowedHttpRequestDomains: 'domains', allowedDomains: 'api.security.microsoft.com' }));
		expect(outputOf(await runProbe(helper, 'ok', items(1)), 'Probe')).toHaveLength(1);
		tokenBroker.reset();
		emu.resetLog();
		const r = await runProbe(helper, 'blocked', items(1));
		expect(errorOf(r, 'Probe')?.message).toMatch(/Allowed Domains do not include the sign-in host https:\/\/127\.0\.0\.1/);
		expect((errorOf(r, 'Probe') as { description?: string }).description).toMatch(/Add 127\.0\.0\.1 to the credential's Allowed Domains/);
		expect(emu.tokenRequests().length).toBe(0);
	});
});

describe('secrets never leak', () => {
	it('keeps a sentinel secret and every token out of errors, logs and output items', async () => {
		const logged: string[] = [];
		const capture = (m: unknown, meta?: unknown) => logged.push(`${String(m)} ${JSON.stringify(meta ?? {})}`);
		LoggerProxy.init({ error: capture, warn: capture, info: capture, debug: capture } as never);
		const sentinel = 'SENTINEL~s3cr3t.value_98765';
		emu.addSecret(scenario.clientId, { value: sentinel });
		const helper = new TestCredentialsHelper();
		helper.add('good', credentialData({ clientSecret: sentinel }));
		helper.add('bad', credentialData({ clientSecret: `${sentinel}-wrong` }));
		const good = await runProbe(helper, 'good', items(2));
		const bad = await runProbe(helper, 'bad', items(2), { continueOnFail: true });
		const badFail = await runProbe(helper, 'bad', items(1));
		const text = JSON.stringify([good, bad, errorOf(badFail, 'Probe'), (errorOf(badFail, 'Probe') as { description?: string })?.description, logged]);
		expect(text).not.toContain(sentinel);
		expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
		expect(outputOf(bad, 'Probe')[0].json.error).toMatch(/AADSTS7000215/);
		expect(outputOf(bad, 'Probe')[0].json.description).toMatch(/secret VALUE/);
	});
});

describe('the msal app cache is bounded', () => {
	it('keeps at most 500 msal apps however many secrets and tenants pass through', async () => {
		const helper = new TestCredentialsHelper();
		const secrets = Array.from({ length: 520 }, (_, i) => `rotated-secret-${i}-xxxxxxxx`);
		for (const s of secrets) emu.addSecret(scenario.clientId, { value: s });
		for (let i = 0; i < secrets.length; i++) {
			helper.add(`c${i}`, credentialData({ clientSecret: secrets[i] }));
		}
		for (let i = 0; i < secrets.length; i += 1) {
			await runProbe(helper, `c${i}`, items(1));
		}
		expect(tokenBroker.getStats().apps).toBe(500);
	}, 120_000);
});

describe('the credential Test button', () => {
	async function test(data: Record<string, unknown>) {
		const helper = new TestCredentialsHelper();
		helper.add('t', credentialData(data));
		return await testCredential(helper, 't');
	}

	it('signs in and reads one alert for a good credential', async () => {
		await expect(test({})).resolves.toEqual({ status: 'OK', message: 'Connection successful!' });
		expect(emu.tokenRequests().length).toBe(1);
		expect(emu.requests({ kind: 'api' })).toHaveLength(1);
		expect(emu.requests({ kind: 'api' })[0].query).toMatchObject({ $top: '1' });
	});

	it('explains a wrong secret, an unknown tenant, a missing consent and a missing role', async () => {
		expect((await test({ clientSecret: 'wrong-secret-value' })).message).toMatch(/AADSTS7000215.*VALUE/s);
		expect((await test({ clientSecret: '3f2a6b1c-9d8e-4f60-814a-2b3c4d5e6f70' })).message).toMatch(/Secret ID|VALUE/);
		expect((await test({ tenantId: 'nosuchtenant.onmicrosoft.com' })).message).toMatch(/Tenant "nosuchtenant.onmicrosoft.com" was not found \(AADSTS90002\).*Cloud/s);
		const t = scenario.tenants[1];
		emu.revokeConsent({ tenantId: t.id, clientId: scenario.clientId });
		expect((await test({ tenantId: t.id })).message).toMatch(/not consented.*AADSTS7000229.*admin-consent link https:\/\/127\.0\.0\.1:\d+\/common\/oauth2\/authorize\?prompt=consent&client_id=[0-9a-f-]{36}&response_type=code&sso_reload=true/s);
		const t2 = scenario.tenants[2];
		emu.setRoles(t2.id, scenario.clientId, ['Machine.Read.All']);
		expect((await test({ tenantId: t2.id })).message).toMatch(/Alert\.Read\.All/);
	});

	it('explains an unreachable sign-in host and rejects malformed IDs before any request', async () => {
		expect((await test({ authorityHost: 'https://127.0.0.1:1' })).message).toMatch(/Could not reach the sign-in service https:\/\/127\.0\.0\.1:1/);
		emu.resetLog();
		expect((await test({ tenantId: 'not a tenant!' })).message).toMatch(/neither a GUID nor a domain/);
		expect((await test({ clientId: 'my-app' })).message).toMatch(/Application \(client\) ID is not a GUID \(the value entered has 6 characters\)/);
		expect((await test({ tenantId: 'common' })).message).toMatch(/not a specific tenant/);
		expect((await test({ authorityHost: 'http://127.0.0.1' })).message).toMatch(/must use https/);
		expect(emu.count({})).toBe(0);
	});
});
