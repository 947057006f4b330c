/**
 * The trigger with a certificate credential (issue 11: "certificate sign-in works … the trigger"), through n8n-core's
 * PollContext against the emulator: the emulator verifies the client assertion against the certificate registered
 * for the app; priming, delivery exactly once and an idle poll behave as with a client secret, one token per
 * lifetime, and no poll output or error carries the key.
 */
import { START_MARGIN_MS } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/orchestrator.pure';
import { certs } from '../credential/certs';
import { resetBetweenTests } from '../harness';
import { createTriggerEnv, ids, type TriggerEnv } from './env';

let env: TriggerEnv;

beforeAll(async () => {
	env = await createTriggerEnv({ scenario: { tenants: 1, alertsPerTenant: 5 } });
	env.emu.addCertificate(env.scenario.clientId, certs.app.certificate);
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	resetBetweenTests(env.emu);
	env.emu.advanceClock(START_MARGIN_MS + 1000);
});

const keyLine = (pem: string) => pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l))[1];

test('New Alert with a certificate credential: primes, delivers each alert once, idle poll is one request, no key anywhere', async () => {
	const cred = env.addCredential('cred-cert', { clientSecret: '', authentication: 'certificate', certificate: certs.app.certificate, privateKey: certs.encryptedKey, privateKeyPassphrase: certs.passphrase });
	const d = env.deploy({ event: 'newAlert' }, { cred });
	const first = await d.poll();
	expect(first.raw).toBeNull();
	expect(first.tokens).toHaveLength(1);

	const added = env.emu.addAlerts(env.tenantId, 3);
	const second = await d.poll();
	expect(ids(second.alerts)).toEqual(added.map((a) => a.id));
	expect(second.tokens).toHaveLength(0);

	const idle = await d.poll();
	expect(idle.raw).toBeNull();
	expect(idle.api).toHaveLength(1);

	const text = JSON.stringify([first.raw, second.raw, idle.raw]);
	expect(text).not.toContain(keyLine(certs.encryptedKey));
	expect(text).not.toContain(keyLine(certs.app.privateKey));
	expect(text).not.toContain(certs.passphrase);
});

test('a certificate the app does not know fails the single-tenant poll with AADSTS700027, before any API request', async () => {
	const cred = env.addCredential('cred-cert-unknown', { clientSecret: '', authentication: 'certificate', ...certs.other });
	const d = env.deploy({ event: 'newAlert' }, { cred });
	const error = await d.pollError();
	expect(error.message + String(error.description ?? '')).toMatch(/AADSTS700027/);
	expect(env.emu.requests({ kind: 'api' })).toHaveLength(0);
	expect(JSON.stringify({ message: error.message, description: error.description })).not.toContain(keyLine(certs.other.privateKey));
});
