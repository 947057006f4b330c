/**
 * Helpers for the emulator's own tests (and usable by other suites): TLS trust for global fetch, token
 * acquisition, and an HTTPS request through the CONNECT proxy with a real hostname.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';

const CA_PATH = path.resolve(__dirname, '..', '.certs', 'ca.pem');

/**
 * Global fetch trusts the emulator CA when NODE_EXTRA_CA_CERTS points at it (read at process start; scripts/jest.sh
 * sets it). If it does not, fall back to the undici package (in n8n's dependency tree): its fetch with a dispatcher
 * that trusts the system roots plus the emulator CA replaces the global fetch of this test context (Jest's VM
 * context does not let the built-in fetch see undici's global dispatcher). TLS verification stays on either way.
 */
export function ensureFetchTrustsEmulator(caPath = CA_PATH): void {
	if (process.env.NODE_EXTRA_CA_CERTS && path.resolve(process.env.NODE_EXTRA_CA_CERTS) === path.resolve(caPath)) return;
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const undici = require('undici') as { Agent: new (o: unknown) => unknown; setGlobalDispatcher: (d: unknown) => void; fetch: typeof fetch };
	undici.setGlobalDispatcher(new undici.Agent({ connect: { ca: [...tls.rootCertificates, readFileSync(caPath, 'utf8')] } }));
	globalThis.fetch = undici.fetch;
}

export interface TokenRequest {
	tenant: string;
	clientId: string;
	clientSecret: string;
	scope?: string;
	/** v1 endpoint with resource= instead of scope= */
	resource?: string;
	extra?: Record<string, string>;
	headers?: Record<string, string>;
}

export async function requestToken(baseUrl: string, r: TokenRequest): Promise<{ status: number; body: Record<string, unknown> }> {
	const v1 = r.resource !== undefined;
	const form = new URLSearchParams({
		grant_type: 'client_credentials',
		client_id: r.clientId,
		client_secret: r.clientSecret,
		...(v1 ? { resource: r.resource! } : { scope: r.scope ?? 'https://api.securitycenter.microsoft.com/.default' }),
		...(r.extra ?? {}),
	});
	const res = await fetch(`${baseUrl}/${r.tenant}/oauth2${v1 ? '' : '/v2.0'}/token`, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded', ...(r.headers ?? {}) },
		body: form,
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function getToken(baseUrl: string, r: TokenRequest): Promise<string> {
	const { status, body } = await requestToken(baseUrl, r);
	if (status !== 200) throw new Error(`token request failed: ${status} ${JSON.stringify(body)}`);
	return body.access_token as string;
}

export interface RawResponse {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: string;
}

/** HTTPS request to `url` (real hostname) tunnelled through the emulator's CONNECT proxy; TLS verified with the CA. */
export function requestViaProxy(
	proxyUrl: string,
	url: string,
	options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<RawResponse> {
	const target = new URL(url);
	const proxy = new URL(proxyUrl);
	const ca = options.ca ?? readFileSync(CA_PATH, 'utf8');
	return new Promise((resolve, reject) => {
		const connect = http.request({ host: proxy.hostname, port: Number(proxy.port), method: 'CONNECT', path: `${target.hostname}:${target.port || 443}` });
		connect.on('error', reject);
		connect.on('connect', (res, socket) => {
			if (res.statusCode !== 200) {
				socket.destroy();
				reject(Object.assign(new Error(`CONNECT refused: ${res.statusCode}`), { statusCode: res.statusCode }));
				return;
			}
			const req = https.request(
				{
					host: target.hostname,
					port: Number(target.port || 443),
					defaultPort: 443,
					servername: target.hostname,
					path: target.pathname + target.search,
					method: options.method ?? 'GET',
					headers: { ...(options.headers ?? {}), ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}) },
					// no agent: the request uses createConnection (the tunnel) and never resolves the hostname
					createConnection: () => tls.connect({ socket, servername: target.hostname, ca }),
				},
				(response) => {
					const chunks: Buffer[] = [];
					response.on('data', (c: Buffer) => chunks.push(c));
					response.on('end', () => {
						socket.destroy();
						resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
					});
				},
			);
			req.on('error', reject);
			req.end(options.body);
		});
		connect.end();
	});
}

/** Status line of a CONNECT attempt (for refusal tests). */
export function connectStatus(proxyUrl: string, target: string): Promise<number> {
	const proxy = new URL(proxyUrl);
	return new Promise((resolve, reject) => {
		const req = http.request({ host: proxy.hostname, port: Number(proxy.port), method: 'CONNECT', path: target });
		req.on('connect', (res, socket) => {
			socket.destroy();
			resolve(res.statusCode ?? 0);
		});
		req.on('response', (res) => {
			res.resume();
			resolve(res.statusCode ?? 0);
		});
		req.on('error', reject);
		req.end();
	});
}
