/**
 * One sign-in per tenant per token lifetime across processes, in a real n8n 2.41.1: 20 fresh `n8n execute`
 * processes of a workflow that reads alerts make ONE token request. The first process signs in and n8n stores the
 * token in the credential (its expirable field); every later process starts with an empty token cache and uses the
 * stored token while it is valid for the tenant. Counted by the emulator (every token POST it answered).
 * A second credential signs in with a certificate (Authentication = Certificate) the same way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
	chain,
	createInstance,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	execute,
	importCredentials,
	importWorkflow,
	installPackage,
	manualTriggerNode,
	nodeItems,
	packTarball,
	REPO_ROOT,
	startEmulatorProcess,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';
import { emulatorRequests, logMark } from './lib/scenario';

const PROCESSES = 20;
const certFile = (name: string) => readFileSync(join(REPO_ROOT, 'test', '.certs', 'client', name), 'utf8');

describe('token requests across n8n processes (n8n execute)', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let secretWorkflow: string;
	let certWorkflow: string;

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({ noRateLimits: true });
		const { state } = emulator;
		await emulator.control('POST', `/apps/${state.clientId}/certificates`, { pem: certFile('app.pem') });
		n8n = await createInstance({ name: 'tokens' });
		await installPackage(n8n, await tgz);
		const cert = emulatorCredential(state, { id: 'credCert', name: 'MDE (certificate)' });
		delete (cert.data as Record<string, unknown>).clientSecret;
		Object.assign(cert.data, { authentication: 'certificate', certificate: certFile('app.pem'), privateKey: certFile('app-key-encrypted.pem'), privateKeyPassphrase: certFile('passphrase.txt').trim() });
		await importCredentials(n8n, [emulatorCredential(state, { id: 'credSecret', name: 'MDE (secret)' }), cert]);
		const getMany = (credentialId: string, credentialName: string) =>
			defenderNode('Get Many', { resource: 'alert', operation: 'getAll', returnAll: false, limit: 1 }, { credentialId, credentialName });
		secretWorkflow = await importWorkflow(n8n, chain('e2e: tokens (secret)', [manualTriggerNode(), getMany('credSecret', 'MDE (secret)')]));
		certWorkflow = await importWorkflow(n8n, chain('e2e: tokens (certificate)', [manualTriggerNode(), getMany('credCert', 'MDE (certificate)')]));
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	const runMany = async (workflowId: string, processes: number) => {
		const mark = await logMark(emulator);
		const durations: number[] = [];
		for (let p = 0; p < processes; p++) {
			const result = await execute(n8n, workflowId);
			durations.push(result.durationMs);
			expect(result.ok ? 'ok' : `run ${p + 1}: ${result.errorMessage}`).toBe('ok');
			expect(nodeItems(result.run, 'Get Many')).toHaveLength(1);
		}
		const tokens = await emulatorRequests(emulator, { kind: 'token', sinceSeq: mark });
		const api = await emulatorRequests(emulator, { kind: 'api', sinceSeq: mark });
		return { tokens, api, durations };
	};

	it(`${PROCESSES} fresh n8n execute processes with a client secret → 1 token request`, async () => {
		const { tokens, api, durations } = await runMany(secretWorkflow, PROCESSES);
		console.log(`[e2e] ${PROCESSES} × n8n execute (secret): ${tokens.length} token request(s), ${api.length} API requests, ${(durations.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in total`);
		expect(tokens.map((e) => e.status)).toEqual([200]);
		expect(api.map((e) => e.status)).toEqual(new Array(PROCESSES).fill(200));
	});

	it('5 fresh processes with a certificate (encrypted key) → 1 token request, by client assertion', async () => {
		const { tokens, api } = await runMany(certWorkflow, 5);
		console.log(`[e2e] 5 × n8n execute (certificate): ${tokens.length} token request(s), ${api.length} API requests`);
		expect(tokens.map((e) => e.status)).toEqual([200]);
		expect(api).toHaveLength(5);
	});
});
