/**
 * One sign-in per tenant per token lifetime across processes: n8n stores the token in the credential, and a fresh
 * process (modelled by resetting the process-wide token broker, as every `n8n execute` starts empty) uses it while it
 * is valid instead of signing in again. Through n8n-core's engine and n8n's preAuthentication persistence.
 */
import type { INodeExecutionData, IRun } from 'n8n-workflow';

import { createScenario, type Emulator, type Scenario, startEmulator } from '../emulator';
import { DefenderProbe } from '../harness/probeNode';
import { errorOf, outputOf, runWorkflow, singleNodeWorkflow, TestCredentialsHelper, TestNodeTypes } from '../harness';
import { decodeTokenClaims } from '../../nodes/MicrosoftDefenderForEndpoint/core/jwt';
import { tokenBroker } from '../../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';

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

async function runProbe(helper: TestCredentialsHelper, credId: string, items: INodeExecutionData[] = [{ json: {} }]): Promise<IRun> {
	const wf = singleNodeWorkflow({ name: 'Probe', type: PROBE, parameters: { region: 'global' }, credentials: { microsoftDefenderForEndpointApi: { id: credId, name: credId } } });
	return await runWorkflow({ ...wf, nodeTypes, credentialsHelper: helper, input: items });
}

/** A new n8n process: empty token broker and pacer; the credential (with its stored token) is what the DB holds. */
function newProcess(): void {
	resetProcessState({ pacerTimeScale: 0.001 });
}

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false });
	scenario = createScenario(emu, { tenants: 2, alertsPerTenant: 3 });
});
afterAll(async () => {
	await emu.close();
});
beforeEach(() => {
	newProcess();
	emu.resetLog();
	emu.clearFaults();
});

describe('a stored token is used by a fresh process while it is valid', () => {
	it('20 fresh processes → 1 token request (the first one signs in, n8n stores the token, the others use it)', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		let used = 0;
		for (let p = 0; p < 20; p++) {
			newProcess();
			expect(outputOf(await runProbe(helper, 'a', [{ json: {} }, { json: {} }]), 'Probe')).toHaveLength(2);
			used += tokenBroker.getStats().storedTokensUsed;
		}
		expect(emu.tokenRequests()).toHaveLength(1);
		expect(emu.count({ kind: 'api', status: 200 })).toBe(40);
		expect(used).toBe(19);
		expect(helper.persisted).toBe(1);
	});

	it('an expiring stored token: the process signs in once and n8n stores the new token for the next process', async () => {
		// a valid token with 200 s left: inside the 5-minute margin, so not used
		const expiring = emu.issueToken({ tenantId: scenario.tenants[0].id, clientId: scenario.clientId, lifetimeSeconds: 200 });
		const helper = new TestCredentialsHelper();
		helper.add('a', { ...credentialData(), accessToken: expiring });
		for (let p = 0; p < 3; p++) {
			newProcess();
			outputOf(await runProbe(helper, 'a', [{ json: {} }, { json: {} }]), 'Probe');
		}
		expect(emu.tokenRequests()).toHaveLength(1);
		const now = (await helper.stored('a')).accessToken as string;
		expect(now).not.toBe(expiring);
		expect((decodeTokenClaims(now).exp ?? 0) * 1000).toBeGreaterThan(Date.now() + 3000_000);
		// stored once (n8n called preAuthentication because the transport handed it the credential with an empty token)
		expect(helper.persisted).toBe(1);
		expect(emu.count({ kind: 'api', status: 200 })).toBe(6);
	});

	it('a stored token of another tenant, app or API is not used', async () => {
		const other = emu.issueToken({ tenantId: scenario.tenants[1].id, clientId: scenario.clientId });
		const otherAud = emu.issueToken({ tenantId: scenario.tenants[0].id, clientId: scenario.clientId, resource: 'https://api.security.microsoft.com' });
		const helper = new TestCredentialsHelper();
		helper.add('t', { ...credentialData(), accessToken: other });
		helper.add('a', { ...credentialData(), accessToken: otherAud });
		outputOf(await runProbe(helper, 't'), 'Probe');
		newProcess();
		outputOf(await runProbe(helper, 'a'), 'Probe');
		expect(emu.tokenRequests()).toHaveLength(2);
		expect(emu.requests({ kind: 'api' }).map((e) => e.tenantId)).toEqual([scenario.tenants[0].id, scenario.tenants[0].id]);
		expect(tokenBroker.getStats().storedTokensUsed).toBe(0);
	});

	it('a tenant given by domain: one sign-in per process (the domain → GUID alias is learned per process)', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('d', credentialData({ tenantId: scenario.tenants[0].domain }));
		for (let p = 0; p < 3; p++) {
			newProcess();
			outputOf(await runProbe(helper, 'd', [{ json: {} }, { json: {} }]), 'Probe');
		}
		expect(emu.tokenRequests()).toHaveLength(3);
	});

	it('per-item customer tenants are not stored by n8n: one sign-in per process per customer tenant; the stored token stays the credential\'s', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		const [t0, t1] = scenario.tenants;
		for (let p = 0; p < 3; p++) {
			newProcess();
			outputOf(await runProbe(helper, 'a', [{ json: {} }, { json: { tenant: t1.id } }, { json: { tenant: t1.id } }]), 'Probe');
		}
		expect(emu.tokenRequests({ tenantId: t0.id })).toHaveLength(1);
		expect(emu.tokenRequests({ tenantId: t1.id })).toHaveLength(3);
		expect(decodeTokenClaims((await helper.stored('a')).accessToken as string).tid).toBe(t0.id);
	});

	it('a stored token the API rejects (revoked) is replaced exactly once, and the replacement is stored', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('a', credentialData());
		outputOf(await runProbe(helper, 'a'), 'Probe');
		const first = (await helper.stored('a')).accessToken;
		emu.revokeTokens({ tenantId: scenario.tenants[0].id });
		emu.resetLog();
		newProcess();
		const r = await runProbe(helper, 'a', Array.from({ length: 5 }, () => ({ json: {} })));
		expect(errorOf(r, 'Probe')).toBeUndefined();
		expect(emu.tokenRequests()).toHaveLength(1);
		expect(emu.count({ kind: 'api', status: 401 })).toBe(1);
		expect(emu.count({ kind: 'api', status: 200 })).toBe(5);
		const second = (await helper.stored('a')).accessToken;
		expect(second).not.toBe(first);
		newProcess();
		outputOf(await runProbe(helper, 'a'), 'Probe');
		expect(emu.tokenRequests()).toHaveLength(1);
	});
});
