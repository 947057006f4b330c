/**
 * Certificate sign-in through n8n-core's real engine against the emulator, which verifies the client assertion
 * (signature, aud, exp, x5t#S256) against the certificates registered on the app.
 */
import type { ICredentialDataDecryptedObject, INodeExecutionData, IRun } from 'n8n-workflow';

import { createScenario, type Emulator, type Scenario, startEmulator } from '../emulator';
import { decodeJwt } from '../emulator/jwt';
import { DefenderProbe } from '../harness/probeNode';
import { errorOf, outputOf, runWorkflow, singleNodeWorkflow, TestCredentialsHelper, testCredential, TestNodeTypes } from '../harness';
import { parseCertificate } from '../../nodes/MicrosoftDefenderForEndpoint/core/certificate';
import { tokenBroker } from '../../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { certs } from './certs';

const PROBE = 'n8n-nodes-defender-endpoint.defenderProbe';
const nodeTypes = new TestNodeTypes({ [PROBE]: new DefenderProbe() });

let emu: Emulator;
let scenario: Scenario;
let assertions: string[] = [];

function certCredential(overrides: Record<string, unknown> = {}) {
	return {
		cloud: 'custom',
		authorityHost: emu.url,
		apiBaseUrl: emu.url,
		scope: 'https://api.securitycenter.microsoft.com/.default',
		tenantId: scenario.tenants[0].id,
		clientId: scenario.clientId,
		authentication: 'certificate',
		...certs.app,
		...overrides,
	};
}

async function runProbe(helper: TestCredentialsHelper, credId: string, items: INodeExecutionData[] = [{ json: {} }], extra: Record<string, unknown> = {}): Promise<IRun> {
	const wf = singleNodeWorkflow({
		name: 'Probe',
		type: PROBE,
		parameters: { region: 'global' },
		credentials: { microsoftDefenderForEndpointApi: { id: credId, name: credId } },
		...extra,
	});
	return await runWorkflow({ ...wf, nodeTypes, credentialsHelper: helper, input: items });
}

async function run(data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
	const helper = new TestCredentialsHelper();
	helper.add('c', data as ICredentialDataDecryptedObject);
	const r = await runProbe(helper, 'c', [{ json: {} }], extra);
	return { r, helper, error: errorOf(r, 'Probe') as (Error & { description?: string; httpCode?: string }) | undefined };
}

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false });
	// the scenario's app knows the "app" certificate (and a secret); "other" is not registered
	scenario = createScenario(emu, { tenants: 2, alertsPerTenant: 3, certificates: [certs.app.certificate] });
});

afterAll(async () => {
	await emu.close();
});

beforeEach(() => {
	resetProcessState({ pacerTimeScale: 0.001 });
	emu.resetLog();
	emu.clearFaults();
	assertions = [];
});

/** Record the client assertions msal sends (the emulator's token handler, wrapped for one test). */
function spyAssertions(): () => void {
	const entra = (emu as unknown as { entra: { token: (...a: unknown[]) => unknown } }).entra;
	const original = entra.token;
	entra.token = function (this: unknown, req: unknown, ...rest: unknown[]) {
		const body = new URLSearchParams((req as { body: Buffer }).body.toString('utf8'));
		const assertion = body.get('client_assertion');
		if (assertion) assertions.push(assertion);
		if (body.get('client_secret') !== null) assertions.push('client_secret sent');
		return original.call(entra, req, ...rest);
	};
	return () => {
		entra.token = original;
	};
}

describe('certificate sign-in', () => {
	it('signs in with a client assertion (PS256, x5t#S256 from the certificate, x5c, aud = token endpoint) and reads alerts', async () => {
		const restore = spyAssertions();
		let result;
		try {
			result = await run(certCredential());
		} finally {
			restore();
		}
		const { r, error } = result;
		expect(error).toBeUndefined();
		expect(outputOf(r, 'Probe')[0].json.alerts).toBe(1);
		expect(emu.tokenRequests().map((e) => e.status)).toEqual([200]);
		expect(assertions).toHaveLength(1);
		const { header, payload } = decodeJwt(assertions[0])!;
		const thumb = parseCertificate(certs.app).thumbprintSha256;
		expect(header).toMatchObject({ alg: 'PS256', 'x5t#S256': Buffer.from(thumb, 'hex').toString('base64url') });
		expect(Array.isArray(header.x5c) && header.x5c.length).toBe(1);
		expect(payload).toMatchObject({ iss: scenario.clientId, sub: scenario.clientId, aud: `${emu.url}/${scenario.tenants[0].id}/oauth2/v2.0/token` });
	});

	it('accepts an encrypted key with its passphrase and a PKCS#1 key; one token per tenant per lifetime as with a secret', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('enc', certCredential({ privateKey: certs.encryptedKey, privateKeyPassphrase: certs.passphrase }));
		helper.add('pkcs1', certCredential({ privateKey: certs.pkcs1Key }));
		for (let k = 0; k < 3; k++) {
			expect(outputOf(await runProbe(helper, 'enc', [{ json: {} }, { json: {} }]), 'Probe')).toHaveLength(2);
			expect(outputOf(await runProbe(helper, 'pkcs1'), 'Probe')).toHaveLength(1);
		}
		// the same key material (decrypted or not) is one broker key: one token for both credentials
		expect(emu.tokenRequests()).toHaveLength(1);
		expect(emu.count({ kind: 'api' })).toBe(9);
	});

	it('keys the broker by the key material: another certificate of the same app never reuses the first one\'s token', async () => {
		emu.addCertificate(scenario.clientId, certs.other.certificate);
		try {
			const helper = new TestCredentialsHelper();
			helper.add('a', certCredential());
			helper.add('b', certCredential(certs.other));
			helper.add('s', certCredential({ authentication: 'clientSecret', clientSecret: scenario.clientSecret }));
			for (const id of ['a', 'b', 's', 'a', 'b', 's']) outputOf(await runProbe(helper, id), 'Probe');
			expect(emu.tokenRequests()).toHaveLength(3);
			expect(tokenBroker.getStats().apps).toBe(3);
		} finally {
			emu.removeCertificate(scenario.clientId, parseCertificate(certs.other).thumbprintSha256);
		}
	});

	it('a certificate not uploaded to the app registration: AADSTS700027, named with its thumbprints and what to upload', async () => {
		const { error } = await run(certCredential(certs.other));
		const parsed = parseCertificate(certs.other);
		expect(error?.message).toMatch(new RegExp(`does not know this certificate for app ${scenario.clientId} \\(SHA-256 thumbprint ${parsed.thumbprintSha256}\\) \\(AADSTS700027\\)`));
		expect(error?.description).toMatch(/Upload the certificate's public part .* Certificates & secrets → Certificates/);
		expect(error?.description).toContain(parsed.thumbprintSha1);
		expect(emu.tokenRequests().map((e) => e.aadsts)).toEqual([700027]);
		expect(emu.count({ kind: 'api' })).toBe(0);
	});

	it.each([
		['expired', () => certCredential(certs.expired), /expired on 2021-01-01T00:00:00Z \(valid from 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z\)/],
		['not yet valid', () => certCredential(certs.future), /not valid yet: valid from 2099-01-01T00:00:00Z/],
		['key of another certificate', () => certCredential({ privateKey: certs.other.privateKey }), /private key does not belong to the certificate/],
		['encrypted key without passphrase', () => certCredential({ privateKey: certs.encryptedKey }), /encrypted and Private Key Passphrase is empty/],
		['wrong passphrase', () => certCredential({ privateKey: certs.encryptedKey, privateKeyPassphrase: 'Wr0ng~passphrase-value' }), /Passphrase does not decrypt the private key/],
	])('%s: a clear message before any request', async (_name, data, message) => {
		const { error } = await run(data());
		expect(error?.message).toMatch(message);
		expect(JSON.stringify({ m: error?.message, d: error?.description })).not.toMatch(/BEGIN|Wr0ng~passphrase-value/);
		expect(emu.count({})).toBe(0);
	});

	it('a certificate registered but expired in Entra (the key is valid locally): AADSTS700027 "expired"', async () => {
		// The emulator's clock moves past the certificate's end; n8n's does not.
		const app = parseCertificate(certs.app);
		emu.setClock(() => new Date(app.notAfter.getTime() + 86_400_000));
		try {
			const { error } = await run(certCredential());
			expect(error?.message).toMatch(/uploaded to app .* has expired in Microsoft Entra \(AADSTS700027\)/);
		} finally {
			emu.setClock(undefined);
		}
	});

	it('subject-name/issuer: an unregistered certificate whose subject the app trusts signs in through x5c', async () => {
		emu.trustCertificateSubject(scenario.clientId, 'n8n-defender-other-test');
		const { r, error } = await run(certCredential(certs.other));
		expect(error).toBeUndefined();
		expect(outputOf(r, 'Probe')).toHaveLength(1);
	});

	it('the credential Test button: OK for the registered certificate, AADSTS700027 for another', async () => {
		const helper = new TestCredentialsHelper();
		helper.add('ok', certCredential());
		helper.add('bad', certCredential({ ...certs.app, certificate: certs.app.certificate, privateKey: certs.app.privateKey, tenantId: scenario.tenants[1].id }));
		await expect(testCredential(helper, 'ok')).resolves.toEqual({ status: 'OK', message: 'Connection successful!' });
		emu.removeCertificate(scenario.clientId, parseCertificate(certs.app).thumbprintSha256);
		try {
			tokenBroker.reset();
			const bad = await testCredential(helper, 'bad');
			expect(bad.status).toBe('Error');
			expect(bad.message).toMatch(/AADSTS700027.*Upload the certificate's public part/s);
		} finally {
			emu.addCertificate(scenario.clientId, certs.app.certificate);
		}
	});
});

describe('client secret expiry', () => {
	it('an expired secret (AADSTS7000222) says so and how to rotate it, and points to certificates', async () => {
		const secret = emu.addSecret(scenario.clientId, { value: 'Exp8Q~expired-secret-value-0123456789ab', expired: true });
		const { error } = await run(certCredential({ authentication: 'clientSecret', clientSecret: secret }));
		expect(error?.message).toMatch(/client secret of app .* has expired \(AADSTS7000222\)/);
		expect(error?.description).toMatch(/New client secret.*every other n8n credential that uses this app.*delete the expired secret.*Certificate/s);
		expect(JSON.stringify({ m: error?.message, d: error?.description })).not.toContain(secret);
	});
});
