/**
 * The credential test as n8n runs it: a started n8n 2.41.1, POST /api/v1/credentials/{id}/test (n8n runs the
 * credential type's preAuthentication and test request), against the Entra + Defender emulator. A good
 * credential passes; a wrong secret and a tenant without consent fail with messages a no-code user can act on;
 * no secret value ends up in any log n8n wrote, even at debug level.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
	createInstance,
	disposeInstance,
	emulatorCredential,
	importCredentials,
	installPackage,
	packTarball,
	readAllLogs,
	REPO_ROOT,
	start,
	startEmulatorProcess,
	testCredential,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';
import { describeEntry, emulatorRequests, logMark, type LogEntry } from './lib/scenario';

describe('the credential test in a running n8n', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contosoId: string;
	let fabrikamId: string;
	// Shaped like a real Entra secret value (40 characters with ~), but not the app's.
	const wrongSecret = `Xy8Q~${randomBytes(26).toString('base64url').slice(0, 35)}`;
	const results: Record<string, { status: 'OK' | 'Error'; message: string }> = {};
	const certFile = (name: string) => readFileSync(join(REPO_ROOT, 'test', '.certs', 'client', name), 'utf8');
	const passphrase = certFile('passphrase.txt').trim();
	const certCredential = (state: Parameters<typeof emulatorCredential>[0], id: string, name: string, files: { cert: string; key: string }) => {
		const c = emulatorCredential(state, { id, name });
		delete (c.data as Record<string, unknown>).clientSecret;
		Object.assign(c.data, { authentication: 'certificate', certificate: certFile(files.cert), privateKey: certFile(files.key), privateKeyPassphrase: passphrase });
		return c;
	};
	const requests: Record<string, LogEntry[]> = {};

	/** Every log file of the instance: its logs folder (n8n.log, server and CLI output) and any *.log n8n wrote itself. */
	const logFiles = (): string[] => {
		const out: string[] = [];
		const walk = (dir: string, all: boolean): void => {
			for (const name of readdirSync(dir)) {
				const path = join(dir, name);
				if (statSync(path).isDirectory()) {
					if (name !== 'node_modules') walk(path, all);
				} else if (all || /\.log(\.\d+)?$/.test(name)) out.push(path);
			}
		};
		walk(n8n.logDir, true);
		walk(n8n.n8nFolder, false);
		return out;
	};

	const run = async (id: string): Promise<void> => {
		const mark = await logMark(emulator);
		results[id] = await testCredential(n8n, id);
		requests[id] = await emulatorRequests(emulator, { sinceSeq: mark });
		console.log(`[e2e] credential test ${id}: ${results[id].status} — ${results[id].message.slice(0, 200)}`);
	};

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({ noRateLimits: true });
		const { state } = emulator;
		contosoId = state.tenants[0].id;
		fabrikamId = state.tenants[1].id;
		expect(wrongSecret).not.toBe(state.clientSecret);
		await emulator.control('POST', '/revoke-consent', { tenantId: fabrikamId, clientId: state.clientId });

		n8n = await createInstance({ name: 'credential', logLevel: 'debug' });
		await installPackage(n8n, await tgz);
		await emulator.control('POST', `/apps/${state.clientId}/certificates`, { pem: certFile('app.pem') });
		const swapped = emulatorCredential(state, { id: 'credSwapped', name: 'MDE Contoso (fields swapped)', clientSecret: state.clientId });
		(swapped.data as Record<string, unknown>).clientId = state.clientSecret;
		await importCredentials(n8n, [
			emulatorCredential(state, { id: 'credGood', name: 'MDE Contoso' }),
			emulatorCredential(state, { id: 'credWrongSecret', name: 'MDE Contoso (wrong secret)', clientSecret: wrongSecret }),
			emulatorCredential(state, { id: 'credNoConsent', name: 'MDE Fabrikam (no consent)', tenantId: fabrikamId }),
			certCredential(state, 'credCert', 'MDE Contoso (certificate)', { cert: 'app.pem', key: 'app-key-encrypted.pem' }),
			certCredential(state, 'credCertUnknown', 'MDE Contoso (certificate not uploaded)', { cert: 'other.pem', key: 'other-key.pem' }),
			certCredential(state, 'credCertMismatch', 'MDE Contoso (key of another certificate)', { cert: 'app.pem', key: 'other-key.pem' }),
			swapped,
		]);
		await start(n8n);
		// Good first, then the wrong secret for the same tenant and app: a token cached for the good secret must not
		// make the wrong one pass.
		await run('credGood');
		await run('credWrongSecret');
		await run('credNoConsent');
		await run('credCert');
		await run('credCertUnknown');
		await run('credCertMismatch');
		await run('credSwapped');
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('passes for a good credential (token from Entra, one alert request to Defender)', () => {
		expect(results.credGood).toEqual({ status: 'OK', message: expect.any(String) });
		const tokens = requests.credGood.filter((e) => e.kind === 'token');
		expect(tokens.map(describeEntry)).toHaveLength(1);
		expect(tokens[0]).toMatchObject({ status: 200, tenantId: contosoId });
		const api = requests.credGood.filter((e) => e.kind === 'api');
		expect(api.map(describeEntry)).toEqual([expect.stringMatching(/^api GET \/api\/alerts\?\$top=1 → 200/)]);
	});

	it('fails for a wrong secret, naming AADSTS7000215 and telling to paste the secret VALUE', () => {
		expect(results.credWrongSecret.status).toBe('Error');
		const message = results.credWrongSecret.message;
		expect(message).toContain('AADSTS7000215');
		expect(message).toMatch(/secret VALUE/);
		expect(message).toContain(emulator.state.clientId);
		expect(message).not.toContain(wrongSecret);
		const tokens = requests.credWrongSecret.filter((e) => e.kind === 'token');
		expect(tokens.map(describeEntry)).toHaveLength(1);
		expect(tokens[0].aadsts).toBe(7000215);
		expect(requests.credWrongSecret.filter((e) => e.kind === 'api').map(describeEntry)).toEqual([]);
	});

	it('fails for a tenant whose administrator has not consented, naming AADSTS7000229 and the consent link', () => {
		expect(results.credNoConsent.status).toBe('Error');
		const message = results.credNoConsent.message;
		expect(message).toContain('AADSTS7000229');
		expect(message).toContain(fabrikamId);
		expect(message).toMatch(/consent link/i);
		const tokens = requests.credNoConsent.filter((e) => e.kind === 'token');
		expect(tokens.map(describeEntry)).toHaveLength(1);
		expect(tokens[0]).toMatchObject({ aadsts: 7000229, tenantId: fabrikamId });
		expect(requests.credNoConsent.filter((e) => e.kind === 'api').map(describeEntry)).toEqual([]);
	});

	it('signs in with a certificate (encrypted key): the emulator verified the client assertion', () => {
		expect(results.credCert).toEqual({ status: 'OK', message: expect.any(String) });
		const tokens = requests.credCert.filter((e) => e.kind === 'token');
		expect(tokens.map(describeEntry)).toHaveLength(1);
		expect(tokens[0]).toMatchObject({ status: 200, tenantId: contosoId });
	});

	it('a certificate not uploaded to the app: AADSTS700027 and what to upload; a key of another certificate: before any request', () => {
		expect(results.credCertUnknown.status).toBe('Error');
		expect(results.credCertUnknown.message).toMatch(/AADSTS700027.*Upload the certificate's public part/s);
		expect(requests.credCertUnknown.filter((e) => e.kind === 'token').map((e) => e.aadsts)).toEqual([700027]);
		expect(results.credCertMismatch.status).toBe('Error');
		expect(results.credCertMismatch.message).toMatch(/private key does not belong to the certificate/);
		expect(requests.credCertMismatch.filter((e) => e.kind !== 'control')).toEqual([]);
	});

	it('fields swapped (the secret in Application ID): names the field, never the value, before any request', () => {
		expect(results.credSwapped.status).toBe('Error');
		expect(results.credSwapped.message).toMatch(/Application \(client\) ID is not a GUID \(the value entered looks like a client secret value: did you paste the client secret into this field\?\)/);
		expect(results.credSwapped.message).not.toContain(emulator.state.clientSecret);
		expect(requests.credSwapped.filter((e) => e.kind !== 'control')).toEqual([]);
	});

	it('writes no secret value to any n8n log (n8n.log, the server output, the CLI output), at debug level', () => {
		const files = logFiles();
		const logs = [readAllLogs(n8n), ...files.map((f) => readFileSync(f, 'utf8'))].join('\n');
		console.log(`[e2e] log files read: ${files.map((f) => relative(n8n.userFolder, f)).join(', ')} (${logs.length} characters)`);
		// The logs are real: the server logged at debug level and the credential tests ran.
		expect(logs.length).toBeGreaterThan(1000);
		expect(logs).toMatch(/"level":"debug"/);
		expect(logs).toContain('AADSTS7000215');
		for (const [name, secret] of [
			['the good secret', emulator.state.clientSecret],
			['the wrong secret', wrongSecret],
			['the private key', certFile('app-key.pem').split('\n')[1]],
			['the encrypted private key', certFile('app-key-encrypted.pem').split('\n')[1]],
			['the passphrase', passphrase],
		] as const) {
			const at = logs.indexOf(secret);
			expect(at === -1 ? `${name}: not in the logs` : `${name} found: …${logs.slice(Math.max(0, at - 200), at + 50)}…`).toBe(`${name}: not in the logs`);
		}
	});
});
