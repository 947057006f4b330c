/**
 * No credential secret reaches saved execution data, an error message or a log line, on every error path:
 * validation (fields swapped or misplaced), sign-in, the API, Check Access and the trigger. Each run's complete
 * IRun (what n8n saves with the execution, unencrypted), every error and every log line are searched for the
 * sentinel values.
 */
import { type IDataObject, LoggerProxy } from 'n8n-workflow';

import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { createEnv, rl, type TestEnv } from '../node/env';
import { createTriggerEnv, type TriggerEnv } from '../trigger/env';
import { certs } from './certs';

const SENTINEL = 'Snt8Q~sentinel.secret_value-0123456789ab';
const PASSPHRASE = 'Snt-passphrase~0123456789';
const logged: string[] = [];

function expectNoSecret(label: string, ...values: unknown[]): void {
	const text = JSON.stringify(values, (_k, v: unknown) => (v instanceof Error ? { message: v.message, description: (v as { description?: unknown }).description, stack: v.stack, context: (v as { context?: unknown }).context } : v));
	for (const secret of [SENTINEL, PASSPHRASE, certs.app.privateKey.split('\n')[1]]) {
		const at = text.indexOf(secret);
		expect(at === -1 ? `${label}: clean` : `${label}: found …${text.slice(Math.max(0, at - 120), at + 40)}…`).toBe(`${label}: clean`);
	}
	expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
}

beforeAll(() => {
	const capture = (m: unknown, meta?: unknown) => logged.push(`${String(m)} ${JSON.stringify(meta ?? {})}`);
	LoggerProxy.init({ error: capture, warn: capture, info: capture, debug: capture } as never);
});

describe('action node', () => {
	let env: TestEnv;
	beforeAll(async () => {
		env = await createEnv({ scenario: { tenants: 2, alertsPerTenant: 5 } });
		env.emu.addSecret(env.scenario.clientId, { value: SENTINEL });
		env.emu.addCertificate(env.scenario.clientId, certs.app.certificate);
	});
	afterAll(async () => {
		await env.close();
	});

	const get = (id?: string) => ({ resource: 'alert', operation: 'get', alertId: rl(id ?? env.scenario.tenants[0].alertIds[0]) });

	const validation: Array<[string, () => Record<string, unknown>, RegExp]> = [
		['secret in Application ID, ID in Client Secret (swapped)', () => ({ clientId: SENTINEL, clientSecret: env.scenario.clientId }), /Application \(client\) ID is not a GUID \(the value entered looks like a client secret value/],
		['secret in Tenant ID', () => ({ tenantId: SENTINEL, clientSecret: SENTINEL }), /Tenant ID \(the value entered looks like a client secret value\) is neither a GUID nor a domain/],
		['secret as Token Scope', () => ({ scope: SENTINEL, clientSecret: SENTINEL }), /Token scope is not an application scope/],
		['secret as Authority Host URL', () => ({ authorityHost: SENTINEL, clientSecret: SENTINEL }), /Authority Host URL is not a URL/],
		['passphrase in Client Secret of a certificate credential', () => ({ authentication: 'certificate', ...certs.app, privateKey: certs.encryptedKey, privateKeyPassphrase: PASSPHRASE }), /Passphrase does not decrypt/],
		['key in Certificate, certificate in Private Key', () => ({ authentication: 'certificate', certificate: certs.app.privateKey, privateKey: certs.app.certificate }), /Certificate field holds a private key/],
	];
	test.each(validation)('validation: %s (fails before any request; continueOnFail item and thrown error both clean)', async (name, data, message) => {
		const cred = env.addCredential(`v-${name}`, data() as IDataObject);
		const since = env.emu.lastSeq();
		const failed = await env.run(get(), { cred });
		expect(failed.error?.message).toMatch(message);
		const item = await env.run(get(), { cred, continueOnFail: true });
		expect(item.items[0].json.error).toMatch(message);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
		expectNoSecret(name, failed.run, failed.error, item.run, item.items, logged);
	});

	test('validation: a secret mapped into the Customer Tenant parameter is not repeated', async () => {
		const cred = env.addCredential('v-ct', { clientSecret: SENTINEL });
		const r = await env.run({ ...get(), customerTenant: SENTINEL }, { cred, continueOnFail: true });
		expect(r.items[0].json.error).toMatch(/Customer Tenant \(the value entered looks like a client secret value\)/);
		expectNoSecret('customer tenant', r.run, r.items, logged);
	});

	test('sign-in: wrong secret, expired secret, revoked consent, unreachable host, unregistered certificate', async () => {
		const expired = env.emu.addSecret(env.scenario.clientId, { value: `${SENTINEL}-expired`, expired: true });
		const creds = {
			wrong: env.addCredential('t-wrong', { clientSecret: `${SENTINEL}-wrong` }),
			expired: env.addCredential('t-expired', { clientSecret: expired }),
			consent: env.addCredential('t-consent', { clientSecret: SENTINEL, tenantId: env.scenario.tenants[1].id }),
			down: env.addCredential('t-down', { clientSecret: SENTINEL, authorityHost: 'https://127.0.0.1:1' }),
			cert: env.addCredential('t-cert', { authentication: 'certificate', ...certs.other }),
		};
		env.emu.revokeConsent({ tenantId: env.scenario.tenants[1].id, clientId: env.scenario.clientId });
		try {
			const outcomes = [];
			for (const [name, cred] of Object.entries(creds)) {
				const failed = await env.run(get(), { cred });
				const item = await env.run(get(), { cred, continueOnFail: true });
				expect(failed.error?.message).toEqual(expect.any(String));
				outcomes.push([name, failed.run, failed.error, failed.error?.description, item.run, item.items]);
			}
			expectNoSecret('sign-in', outcomes, logged);
			expect(JSON.stringify(outcomes)).toMatch(/AADSTS7000215/);
			expect(JSON.stringify(outcomes)).toMatch(/AADSTS7000222/);
			expect(JSON.stringify(outcomes)).toMatch(/AADSTS7000229/);
			expect(JSON.stringify(outcomes)).toMatch(/AADSTS700027/);
		} finally {
			env.emu.grantConsent(env.scenario.tenants[1].id, env.scenario.clientId, ['Alert.ReadWrite.All']);
		}
	});

	test('API: 404, 403, 500, and an API error body that echoes the secret', async () => {
		const cred = env.addCredential('api', { clientSecret: SENTINEL });
		const t = env.scenario.tenants[0];
		const runs = [];
		runs.push(await env.run(get('da639000000000000000_1'), { cred, continueOnFail: true }));
		env.emu.setRoles(t.id, env.scenario.clientId, ['Machine.Read.All']);
		env.emu.revokeTokens({ tenantId: t.id });
		try {
			runs.push(await env.run(get(), { cred, continueOnFail: true }));
		} finally {
			env.emu.setRoles(t.id, env.scenario.clientId, ['Alert.ReadWrite.All']);
			env.emu.revokeTokens({ tenantId: t.id });
		}
		const echo = env.emu.injectFault({ match: { kind: 'api' }, status: 400, times: 1, body: { error: { code: 'BadRequest', message: `bad request with client_secret=${SENTINEL} and ${SENTINEL}`, target: 'x' } } });
		const boom = env.emu.injectFault({ match: { kind: 'api' }, status: 500, times: 4 });
		try {
			runs.push(await env.run(get(), { cred, continueOnFail: true }));
			runs.push(await env.run(get(), { cred, continueOnFail: true }));
		} finally {
			env.emu.removeFault(echo);
			env.emu.removeFault(boom);
		}
		expect(runs.map((r) => r.items[0].json.httpCode)).toEqual(['404', '403', '400', '500']);
		expectNoSecret('api', runs.map((r) => [r.run, r.items]), logged);
	});

	test('Check Access: rows for good, invalid, secret-like and unconsented entries', async () => {
		// a fresh token cache: the API test above changed roles (tokens carry the roles of their issuance)
		resetProcessState({ pacerTimeScale: 0.001 });
		const cred = env.addCredential('ca', { clientSecret: SENTINEL });
		env.emu.revokeConsent({ tenantId: env.scenario.tenants[1].id, clientId: env.scenario.clientId });
		try {
			const r = await env.run({ resource: 'tenant', operation: 'checkAccess', tenants: `${env.scenario.tenants[0].id}\n${SENTINEL}\nnot_a_tenant!\n${env.scenario.tenants[1].id}` }, { cred });
			expect(r.error).toBeUndefined();
			expect(r.items.map((i) => i.json.ready)).toEqual([true, false, false, false]);
			expectNoSecret('check access', r.run, r.items, logged);
			const swapped = env.addCredential('ca-swapped', { clientId: SENTINEL, clientSecret: env.scenario.clientId });
			const s = await env.run({ resource: 'tenant', operation: 'checkAccess', tenants: env.scenario.tenants[0].id }, { cred: swapped });
			expect(s.items[0].json).toMatchObject({ ready: false, credentialError: true });
			expect(s.items[0].json.error).toMatch(/Application \(client\) ID is not a GUID/);
			expectNoSecret('check access (swapped credential)', s.run, s.items, logged);
		} finally {
			env.emu.grantConsent(env.scenario.tenants[1].id, env.scenario.clientId, ['Alert.ReadWrite.All']);
		}
	});
});

describe('trigger (engine harness in test/trigger)', () => {
	let env: TriggerEnv;
	beforeAll(async () => {
		env = await createTriggerEnv({ scenario: { tenants: 1, alertsPerTenant: 3 } });
		env.emu.addSecret(env.scenario.clientId, { value: SENTINEL });
	});
	afterAll(async () => {
		await env.close();
	});

	test.each([
		['fields swapped', () => ({ clientId: SENTINEL, clientSecret: env.scenario.clientId })],
		['secret in Tenant ID', () => ({ tenantId: SENTINEL, clientSecret: SENTINEL })],
		['wrong secret', () => ({ clientSecret: `${SENTINEL}-wrong` })],
	])('%s: the poll error and "Fetch test event" are clean', async (name, data) => {
		const cred = env.addCredential(`trig-${name}`, data());
		const d = env.deploy({ event: 'newAlert' }, { cred });
		const error = await d.pollError();
		const manual = await d.manual();
		expect(error.message).toEqual(expect.any(String));
		expectNoSecret(`trigger ${name}`, error, error.description, manual.run, manual.error, d.harness.snapshot(), logged);
	});

	test('a good sentinel secret: polls and Tenant Failures output are clean', async () => {
		const cred = env.addCredential('trig-good', { clientSecret: SENTINEL });
		const d = env.deploy({ event: 'newAlert', options: { startFrom: 'date', startDate: '2020-01-01T00:00:00Z' } }, { cred });
		const outcome = await d.poll();
		expect(outcome.alerts.length).toBeGreaterThan(0);
		expectNoSecret('trigger good', outcome.raw, d.harness.snapshot(), logged);
	});
});
