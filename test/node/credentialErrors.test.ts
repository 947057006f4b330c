/**
 * Messages that must be true: a token for another API is reported as such (not as a missing permission), a
 * refused connection to the sign-in host is a network error (httpCode stays for HTTP statuses), and comments are
 * checked against the node's cap before any request.
 */
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { MAX_COMMENT_LENGTH } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/validation';
import { testCredential } from '../harness';
import { createEnv, rl, type TestEnv } from './env';

const FOREIGN = 'https://api.contoso-soc.example';

let env: TestEnv;
beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 1, alertsPerTenant: 5 }, emulator: { otherResources: ['https://management.azure.com', FOREIGN] } });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	resetProcessState({ pacerTimeScale: 0.001 });
	env.emu.resetLog();
	env.emu.setWrongAudienceStatus(403);
});

const get = () => ({ resource: 'alert', operation: 'get', alertId: rl(env.scenario.tenants[0].alertIds[0]) });

describe('a token for another API', () => {
	test('a known other API (Azure Resource Manager): named before any API request, with the scope to choose', async () => {
		const cred = env.addCredential('arm', { scope: 'https://management.azure.com/.default' });
		const r = await env.run(get(), { cred });
		expect(r.error?.message).toMatch(/is for Azure Resource Manager, not for Defender for Endpoint/);
		expect(r.error?.description).toMatch(/Set the credential's Token Scope to the Defender for Endpoint resource, e\.g\. https:\/\/api\.securitycenter\.microsoft\.com\/\.default/);
		expect(`${r.error?.message} ${r.error?.description}`).not.toMatch(/lacks|Alert\.Read\.All/);
		expect(env.api()).toHaveLength(0);
	});

	test.each([403, 401] as const)('an unknown audience the API refuses with %s: the API\'s own words and the token\'s aud, not "lacks Alert.Read.All"', async (status) => {
		env.emu.setWrongAudienceStatus(status);
		const cred = env.addCredential(`foreign-${status}`, { scope: `${FOREIGN}/.default` });
		const r = await env.run(get(), { cred, continueOnFail: true });
		const json = r.items[0].json;
		expect(json.error).toMatch(new RegExp(`Defender refused the token for tenant ${env.tenantId} \\(HTTP ${status}\\): it was issued for another API`));
		expect(json.description).toMatch(new RegExp(`The access token is for "${FOREIGN.replace(/\./g, '\\.')}", not for the Defender for Endpoint API`));
		expect(json.description).toMatch(/Defender answered: ".*audience/);
		expect(`${json.error} ${json.description}`).not.toMatch(/lacks the permission|it needs Alert/);
		expect(json.httpCode).toBe(String(status));
		// a 401 is retried once with a fresh token (n8n's refresh), a 403 is not
		expect(env.api().map((q) => q.status)).toEqual(status === 401 ? [401, 401] : [403]);
	});

	test('Check Access says the token is for another API instead of listing missing Defender permissions', async () => {
		const arm = env.addCredential('ca-arm', { scope: 'https://management.azure.com/.default' });
		const a = (await env.run({ resource: 'tenant', operation: 'checkAccess' }, { cred: arm })).items[0].json;
		expect(a).toMatchObject({ tokenAcquired: true, ready: false, tokenAudience: 'https://management.azure.com' });
		expect(a.nextStep).toMatch(/is for Azure Resource Manager/);
		expect(a.nextStep).not.toMatch(/no WindowsDefenderATP application permissions/);
		const foreign = env.addCredential('ca-foreign', { scope: `${FOREIGN}/.default` });
		const f = (await env.run({ resource: 'tenant', operation: 'checkAccess' }, { cred: foreign })).items[0].json;
		expect(f).toMatchObject({ apiAccess: 'failed', apiHttpCode: '403', tokenAudience: FOREIGN, ready: false });
		expect(f.apiError).toMatch(/issued for another API/);
	});

	test('the credential Test button names the other API before the test request', async () => {
		env.creds.add('test-arm', { cloud: 'custom', authorityHost: env.emu.url, apiBaseUrl: env.emu.url, tenantId: env.tenantId, clientId: env.scenario.clientId, clientSecret: env.scenario.clientSecret, scope: 'https://management.azure.com/.default' });
		const result = await testCredential(env.creds, 'test-arm');
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/is for Azure Resource Manager \(https:\/\/management\.azure\.com\), not for the Defender for Endpoint API/);
		expect(env.api()).toHaveLength(0);
	});
});

describe('a sign-in host that refuses the connection', () => {
	test('httpCode is absent (no HTTP answer); the network cause is in the message and in Check Access\'s networkError', async () => {
		const cred = env.addCredential('down', { authorityHost: 'https://127.0.0.1:1' });
		const r = await env.run(get(), { cred, continueOnFail: true });
		const json = r.items[0].json;
		expect(json.error).toMatch(/Could not reach the sign-in service https:\/\/127\.0\.0\.1:1 \(connection refused\)/);
		expect(json.httpCode).toBeUndefined();
		const thrown = await env.run(get(), { cred });
		expect(thrown.error?.httpCode ?? null).toBeNull();
		const row = (await env.run({ resource: 'tenant', operation: 'checkAccess' }, { cred })).items[0].json;
		expect(row).toMatchObject({ tokenAcquired: false, tokenErrorKind: 'unreachable', networkError: 'connection refused' });
		expect(row.tokenHttpCode).toBeUndefined();
		expect(JSON.stringify(row)).not.toMatch(/"unreachable"[^,]*httpCode|httpCode":"unreachable/);
	});
});

describe(`comments are checked against the ${MAX_COMMENT_LENGTH}-character cap before any request`, () => {
	const long = 'x'.repeat(MAX_COMMENT_LENGTH + 1);
	const id = () => env.scenario.tenants[0].alertIds[1];
	test.each([
		['Add Comment', () => ({ resource: 'alert', operation: 'addComment', alertId: rl(id()), comment: long })],
		['Update', () => ({ resource: 'alert', operation: 'update', alertId: rl(id()), updateFields: { comment: long } })],
		['Update Many', () => ({ resource: 'alert', operation: 'updateMany', alertIds: id(), updateFields: { comment: long, status: 'InProgress' } })],
	])('%s', async (_name, params) => {
		const r = await env.run(params());
		expect(r.error?.message).toMatch(new RegExp(`Comment is ${(MAX_COMMENT_LENGTH + 1).toLocaleString('en-US')} characters long; at most ${MAX_COMMENT_LENGTH.toLocaleString('en-US')} are sent`));
		expect(r.error?.description).toMatch(/documents no limit/);
		expect(env.emu.count({})).toBe(0);
	});

	test('exactly the cap is sent', async () => {
		const r = await env.run({ resource: 'alert', operation: 'addComment', alertId: rl(id()), comment: 'y'.repeat(MAX_COMMENT_LENGTH) });
		expect(r.error).toBeUndefined();
		expect(env.emu.getAlert(env.tenantId, id())!.comments.at(-1)!.comment).toHaveLength(MAX_COMMENT_LENGTH);
	});
});
