import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_SCENARIO } from './index';
import { ensureFetchTrustsEmulator, getToken } from './test-helpers';

ensureFetchTrustsEmulator();

const ROOT = path.resolve(__dirname, '..', '..');

interface State {
	url: string;
	proxyUrl: string;
	caPath: string;
	clientId: string;
	clientSecret: string;
	tenants: Array<{ id: string; domain: string; name: string; alertCount: number; events: Array<{ reportId: string; eventTime: string; machineId: string }> }>;
}

function startCli(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; state: State }> {
	 
	const child = spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', 'test/emulator/cli.ts', ...args], { cwd: ROOT, env: { ...process.env } });
	return new Promise((resolve, reject) => {
		let out = '';
		let err = '';
		child.stderr.on('data', (c: Buffer) => (err += c.toString()));
		child.stdout.on('data', (c: Buffer) => {
			out += c.toString();
			const line = out.split('\n')[0];
			if (out.includes('\n')) resolve({ child, state: JSON.parse(line) as State });
		});
		child.once('exit', (code) => reject(new Error(`CLI exited early (${code}): ${err}`)));
	});
}

const exitCode = (child: ChildProcessWithoutNullStreams): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)));

describe('CLI', () => {
	it('starts the default scenario, writes the state file, serves it, and exits 0 on SIGTERM', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'mde-emu-'));
		const stateFile = path.join(dir, 'state.json');
		const { child, state } = await startCli(['--state-file', stateFile, '--secret', 'cli-secret~value']);
		try {
			expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ url: state.url, clientId: DEFAULT_SCENARIO.clientId, clientSecret: 'cli-secret~value' });
			expect(state.caPath).toBe(path.join(ROOT, 'test', '.certs', 'ca.pem'));
			expect(state.tenants.map((t) => [t.id, t.domain, t.name, t.alertCount])).toEqual([
				['11111111-2222-3333-4444-555555555555', 'contoso.onmicrosoft.com', 'Contoso', 40],
				['22222222-3333-4444-5555-666666666666', 'fabrikam.onmicrosoft.com', 'Fabrikam', 40],
			]);
			const token = await getToken(state.url, { tenant: 'contoso.onmicrosoft.com', clientId: state.clientId, clientSecret: state.clientSecret });
			const res = await fetch(`${state.url}/api/alerts?$filter=severity eq 'High' and status eq 'New'`, { headers: { authorization: `Bearer ${token}` } });
			const high = ((await res.json()) as { value: Array<{ machineId: string | null; relatedUser: unknown }> }).value;
			expect(high.length).toBeGreaterThanOrEqual(3);
			expect(high.some((a) => a.machineId && a.relatedUser)).toBe(true);

			// A Node 24 process with only HTTPS_PROXY + NODE_USE_ENV_PROXY reaches the real hostnames on the emulator.
			const script = `
				const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: '${state.clientId}', client_secret: '${state.clientSecret}', scope: 'https://api.securitycenter.microsoft.com/.default' });
				const t = await (await fetch('https://login.microsoftonline.com/fabrikam.onmicrosoft.com/oauth2/v2.0/token', { method: 'POST', body: form })).json();
				const r = await fetch('https://uk.api.security.microsoft.com/api/alerts?$top=3', { headers: { authorization: 'Bearer ' + t.access_token } });
				const b = await r.json();
				console.log(JSON.stringify({ status: r.status, n: b.value.length, ctx: b['@odata.context'] }));`;
			 
			const proxied = spawn(process.execPath, ['--input-type=module', '-e', script], {
				env: { ...process.env, NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: state.proxyUrl, NODE_EXTRA_CA_CERTS: state.caPath },
			});
			let out = '';
			proxied.stdout.on('data', (c: Buffer) => (out += c.toString()));
			expect(await exitCode(proxied)).toBe(0);
			expect(JSON.parse(out)).toEqual({ status: 200, n: 3, ctx: 'https://uk.api.security.microsoft.com/api/$metadata#Alerts' });
			const log = (await (await fetch(`${state.url}/_emulator/requests?viaProxy=true`)).json()) as { value: Array<{ host: string; kind: string; tenantId: string }> };
			expect(log.value.map((e) => [e.kind, e.host, e.tenantId])).toEqual([
				['token', 'login.microsoftonline.com', '22222222-3333-4444-5555-666666666666'],
				['api', 'uk.api.security.microsoft.com', '22222222-3333-4444-5555-666666666666'],
			]);
		} finally {
			child.kill('SIGTERM');
		}
		expect(await exitCode(child)).toBe(0);
	});

	it('loads a seed file', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'mde-emu-'));
		const seedFile = path.join(dir, 'seed.json');
		writeFileSync(
			seedFile,
			JSON.stringify({
				app: { clientId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', name: 'Seeded app', secret: 's3cr3t' },
				tenants: [{ id: '33333333-4444-4555-8666-777777777777', name: 'Litware', domain: 'litware.onmicrosoft.com', alerts: 5, roles: ['Alert.Read.All'] }],
				rateLimits: false,
			}),
		);
		const { child, state } = await startCli(['--seed-file', seedFile]);
		try {
			expect(state).toMatchObject({ clientId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', clientSecret: 's3cr3t' });
			expect(state.tenants).toEqual([expect.objectContaining({ id: '33333333-4444-4555-8666-777777777777', domain: 'litware.onmicrosoft.com', alertCount: 5 })]);
		} finally {
			child.kill('SIGINT');
		}
		expect(await exitCode(child)).toBe(0);
	});
});
