/**
 * HTTP CONNECT proxy: tunnels to the emulator's own HTTPS server for hostnames the server certificate covers, on
 * port 443 only. Nothing is ever connected to the outside world.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';

export interface ProxyConnectRecord {
	at: string;
	target: string;
	allowed: boolean;
	reason?: string;
}

export interface AllowedTargets {
	dns: string[];
	ips: string[];
}

/** DNS and IP SANs of a PEM certificate. */
export function certificateTargets(certPem: string): AllowedTargets {
	const san = new X509Certificate(certPem).subjectAltName ?? '';
	const dns: string[] = [];
	const ips: string[] = [];
	for (const part of san.split(/,\s*/)) {
		const [kind, ...rest] = part.split(':');
		const value = rest.join(':').trim().toLowerCase();
		if (kind === 'DNS') dns.push(value);
		else if (kind === 'IP Address') ips.push(value === '0:0:0:0:0:0:0:1' ? '::1' : value);
	}
	return { dns, ips };
}

export function hostAllowed(host: string, targets: AllowedTargets): boolean {
	const h = host.toLowerCase().replace(/^\[|\]$/g, '');
	if (targets.ips.includes(h)) return true;
	return targets.dns.some((pattern) => {
		if (pattern.startsWith('*.')) {
			const suffix = pattern.slice(1);
			return h.endsWith(suffix) && !h.slice(0, -suffix.length).includes('.') && h.length > suffix.length;
		}
		return pattern === h;
	});
}

function parseTarget(target: string): { host: string; port: number } | undefined {
	const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(target);
	if (!m) return undefined;
	return { host: m[1], port: Number(m[2]) };
}

export function createConnectProxy(
	targets: AllowedTargets,
	deliver: (socket: Socket) => void,
	record: (entry: ProxyConnectRecord) => void,
): http.Server {
	const server = http.createServer((req, res) => {
		// Absolute-form proxying (plain http:// through the proxy) is refused: clients must tunnel https.
		record({ at: new Date().toISOString(), target: req.url ?? '', allowed: false, reason: 'not CONNECT' });
		res.writeHead(405, { 'content-type': 'text/plain', allow: 'CONNECT', connection: 'close' });
		res.end('The emulator proxy only supports CONNECT tunnels to https targets on port 443.\n');
	});
	server.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
		const target = req.url ?? '';
		const parsed = parseTarget(target);
		const refuse = (reason: string): void => {
			record({ at: new Date().toISOString(), target, allowed: false, reason });
			socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}\n`);
		};
		if (!parsed) return refuse(`Malformed CONNECT target '${target}'.`);
		if (parsed.port !== 443) return refuse(`CONNECT to port ${parsed.port} refused: only 443 is tunnelled.`);
		if (!hostAllowed(parsed.host, targets)) return refuse(`CONNECT to '${parsed.host}' refused: not a host the emulator serves.`);
		record({ at: new Date().toISOString(), target, allowed: true });
		socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
		if (head && head.length > 0) socket.unshift(head);
		deliver(socket);
	});
	server.on('clientError', (_err, socket) => {
		if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
		else socket.destroy();
	});
	return server;
}
