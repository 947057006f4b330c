 
/**
 * The emulator: one HTTPS server on 127.0.0.1 serving Entra (token/discovery), the Defender API and the control
 * API, plus a CONNECT proxy that tunnels real hostnames (login.microsoftonline.com, eu.api.security.microsoft.com…)
 * to it. See index.ts for the public entry point.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { EmulatorClock } from './clock';
import { handleControl } from './control';
import { DefenderService } from './defender';
import { Directory, KNOWN_ROLES, validateRoles } from './directory';
import { EntraService, type EntraRequest } from './entra';
import { FaultQueue } from './faults';
import { GraphService } from './graph';
import { IndicatorService } from './indicators';
import { MachineService } from './machines';
import { apiError, defaultApiCode, defaultApiMessage, queryToObject, sleep, type Reply } from './http-util';
import { decodeJwt, JwtSigner } from './jwt';
import { RequestLog } from './log';
import { certificateTargets, createConnectProxy, type ProxyConnectRecord } from './proxy';
import { RateLimiter } from './ratelimit';
import { createScenario } from './scenario';
import { TenantStore } from './store';
import type {
	Alert,
	AlertInput,
	App,
	AppCertificateInfo,
	AppInput,
	ClockSource,
	Consent,
	EmulatorOptions,
	FaultInfo,
	FaultSpec,
	HuntingEvent,
	IssueTokenOptions,
	Machine,
	RateLimitConfig,
	RequestFilter,
	RequestKind,
	RequestLogEntry,
	Scenario,
	ScenarioOptions,
	SecretInput,
	SeedOptions,
	SeedResult,
	Tenant,
	TenantInput,
	ThrottleCount,
	TokenCount,
	TokenTarget,
} from './types';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const DEFAULT_CERT_DIR = path.resolve(__dirname, '..', '.certs');
/** Roles an admin-consent grants when the app registration does not list its own (the MSSP set). */
export const DEFAULT_REQUESTED_ROLES = ['Alert.ReadWrite.All', 'Machine.Read.All', 'File.Read.All', 'Ip.Read.All', 'URL.Read.All', 'User.Read.All'];

interface PendingLog {
	entry: RequestLogEntry;
	started: number;
}

export class Emulator {
	readonly clock: EmulatorClock;
	readonly directory: Directory;
	readonly ca: string;
	readonly caPath: string;
	readonly certDir: string;
	/** Set when started with `options.scenario`. */
	scenario?: Scenario;

	private readonly signer = new JwtSigner();
	private readonly entra: EntraService;
	private readonly defender: DefenderService;
	/** Indicators (custom IoCs): stored per tenant, settings (cap, import size, …), see indicators.ts. */
	readonly indicators: IndicatorService;
	/** Machines and machine actions (lifecycle timing, outcomes, fleets), see machines.ts. */
	readonly machineApi: MachineService;
	/** Microsoft Graph security alerts_v2 and $batch on the same tenant stores (settings, Graph-only alerts), see graph.ts. */
	readonly graph: GraphService;
	private readonly limiter: RateLimiter;
	private readonly faultQueue = new FaultQueue();
	private readonly log: RequestLog;
	private readonly stores = new Map<string, TenantStore>();
	private readonly requestedRoles = new Map<string, string[]>();
	private readonly proxyRecords: ProxyConnectRecord[] = [];
	private readonly sockets = new Set<Socket>();
	private readonly proxiedSockets = new WeakSet<Socket>();
	private readonly httpsServer: https.Server;
	private readonly proxyServer: http.Server;
	private latencyMs: number;
	private closed = false;
	private httpsPort = 0;
	private proxyPortNumber = 0;

	constructor(private readonly options: EmulatorOptions = {}) {
		this.certDir = path.resolve(options.certDir ?? DEFAULT_CERT_DIR);
		const cert = readFileSync(path.join(this.certDir, 'server.pem'), 'utf8');
		const key = readFileSync(path.join(this.certDir, 'server-key.pem'), 'utf8');
		this.caPath = path.join(this.certDir, 'ca.pem');
		this.ca = readFileSync(this.caPath, 'utf8');
		this.clock = new EmulatorClock(options.clock);
		this.directory = new Directory(this.clock, this.signer, options.tokenLifetimeSeconds ?? 3599);
		this.limiter = new RateLimiter(options.rateLimits);
		this.log = new RequestLog(options.logLimit ?? 200_000);
		this.latencyMs = options.latencyMs ?? 0;
		this.entra = new EntraService(this.directory, this.signer, this.clock);
		this.defender = new DefenderService(this.directory, this.signer, this.clock, this.limiter, (tid) => this.store(tid), {
			maxBatchSize: options.maxBatchSize ?? 500,
			maxPageSize: options.maxPageSize ?? 10_000,
			wrongAudienceStatus: options.wrongAudienceStatus ?? 403,
		});
		if (options.otherResources) this.directory.otherResources = [...options.otherResources];
		this.indicators = new IndicatorService(this.clock, (clientId) => this.directory.listApps().find((a) => a.clientId.toLowerCase() === clientId.toLowerCase())?.name);
		this.defender.extraRoutes.push((req) => this.indicators.route(req));
		this.machineApi = new MachineService(this.clock, (tid) => this.store(tid), (t) => this.findTenant(t)?.id, () => this.defender.settings.maxPageSize);
		this.defender.extraRoutes.push((req) => this.machineApi.route(req));
		this.graph = new GraphService(this.directory, this.signer, this.clock, this.limiter, (tid) => this.store(tid), (t) => this.findTenant(t)?.id);
		if (options.graph) this.graph.configure({ ...(options.graph === true ? {} : options.graph), enabled: true });

		this.httpsServer = https.createServer({ cert, key, keepAlive: true }, (req, res) => {
			this.onRequest(req, res).catch((error: unknown) => {
				if (!res.headersSent) {
					const reply = apiError(500, 'InternalServerError', `Emulator error: ${error instanceof Error ? error.message : String(error)}`);
					res.writeHead(reply.status, reply.headers).end(reply.body);
				} else {
					res.destroy();
				}
			});
		});
		this.httpsServer.keepAliveTimeout = 30_000;
		this.httpsServer.headersTimeout = 35_000;
		this.httpsServer.on('connection', (socket: Socket) => this.track(socket));
		this.httpsServer.on('tlsClientError', (_err, socket) => socket.destroy());

		this.proxyServer = createConnectProxy(
			certificateTargets(cert),
			(socket) => {
				this.proxiedSockets.add(socket);
				this.httpsServer.emit('connection', socket);
			},
			(record) => this.proxyRecords.push(record),
		);
		this.proxyServer.on('connection', (socket: Socket) => this.track(socket));
	}

	private track(socket: Socket): void {
		this.sockets.add(socket);
		socket.once('close', () => this.sockets.delete(socket));
	}

	async listen(): Promise<void> {
		const listen = (server: http.Server | https.Server, port: number): Promise<number> =>
			new Promise((resolve, reject) => {
				server.once('error', reject);
				server.listen(port, '127.0.0.1', () => {
					server.off('error', reject);
					resolve((server.address() as AddressInfo).port);
				});
			});
		this.httpsPort = await listen(this.httpsServer, this.options.port ?? 0);
		try {
			this.proxyPortNumber = await listen(this.proxyServer, this.options.proxyPort ?? 0);
		} catch (error) {
			this.httpsServer.close();
			throw error;
		}
		if (this.options.scenario) this.scenario = createScenario(this, this.options.scenario);
	}

	get port(): number {
		return this.httpsPort;
	}
	get url(): string {
		return `https://127.0.0.1:${this.httpsPort}`;
	}
	get proxyPort(): number {
		return this.proxyPortNumber;
	}
	get proxyUrl(): string {
		return `http://127.0.0.1:${this.proxyPortNumber}`;
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		const closing = [this.httpsServer, this.proxyServer].map(
			(server) => new Promise<void>((resolve) => server.close(() => resolve())),
		);
		this.httpsServer.closeAllConnections();
		this.proxyServer.closeAllConnections();
		for (const socket of this.sockets) socket.destroy();
		await Promise.all(closing);
	}

	// ============================================================================================ request pipeline

	private isProxied(socket: Socket): boolean {
		const parent = (socket as Socket & { _parent?: Socket })._parent;
		return this.proxiedSockets.has(socket) || (parent !== undefined && parent !== null && this.proxiedSockets.has(parent));
	}

	private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const started = performance.now();
		const host = req.headers.host ?? `127.0.0.1:${this.httpsPort}`;
		const url = new URL(req.url ?? '/', 'https://emulator.invalid');
		const method = (req.method ?? 'GET').toUpperCase();
		let segments: string[];
		try {
			segments = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
		} catch {
			segments = url.pathname.split('/').filter(Boolean);
		}
		const kind = classify(segments);
		const entry: RequestLogEntry = {
			seq: this.log.nextSeq(),
			at: new Date().toISOString(),
			method,
			host,
			path: url.pathname,
			query: kind === 'token' ? {} : queryToObject(url.searchParams),
			kind,
			status: 0,
			viaProxy: this.isProxied(req.socket),
			userAgent: req.headers['user-agent'],
			durationMs: 0,
		};
		const pending: PendingLog = { entry, started };

		const body = await readBody(req);
		if (body === undefined) {
			const reply = apiError(413, 'RequestEntityTooLarge', `Request body exceeds ${MAX_BODY_BYTES} bytes.`);
			return this.send(res, reply, pending);
		}
		const contentType = String(req.headers['content-type'] ?? '');
		const clientRequestId = typeof req.headers['client-request-id'] === 'string' ? req.headers['client-request-id'] : undefined;

		// Attribution before faults, so faults can match on the tenant.
		const tenantIds: string[] = [];
		if (kind === 'api') {
			const auth = req.headers.authorization;
			const token = auth && /^Bearer\s+(\S+)$/i.exec(auth.trim())?.[1];
			const decoded = token ? decodeJwt(token) : undefined;
			if (decoded && typeof decoded.payload.tid === 'string') {
				entry.tenantId = decoded.payload.tid;
				tenantIds.push(decoded.payload.tid);
			}
			if (decoded && typeof decoded.payload.appid === 'string') entry.clientId = decoded.payload.appid;
		} else if (kind === 'token' || kind === 'discovery') {
			const segment = segments[0] ?? '';
			tenantIds.push(segment);
			const tenant = this.directory.findTenant(segment);
			if (tenant) {
				entry.tenantId = tenant.id;
				tenantIds.push(tenant.id);
			}
		}

		const fault = kind === 'control' ? undefined : this.faultQueue.take({ method, pathWithQuery: url.pathname + url.search, kind, tenantIds });
		if (fault) {
			entry.faulted = true;
			if (fault.delayMs) await sleep(fault.delayMs);
			if (fault.reset) {
				entry.reset = true;
				this.finishLog(pending, 0);
				req.socket.destroy();
				return;
			}
			if (fault.status !== undefined) {
				if (kind === 'token') {
					const form = new URLSearchParams(body.toString('utf8'));
					entry.clientId = form.get('client_id') ?? undefined;
					entry.scope = (form.get('scope') ?? form.get('resource')) ?? undefined;
				}
				if (this.latencyMs > 0) await sleep(this.latencyMs);
				return this.send(res, this.faultReply(fault, kind, host, clientRequestId), pending);
			}
		}

		let reply: Reply;
		if (kind === 'control') {
			reply = handleControl(this, { method, segments: segments.slice(1), query: url.searchParams, body });
		} else if (kind === 'api' && segments[0]?.toLowerCase() === 'v1.0') {
			// Microsoft Graph (graph.ts): same tenants, stores, rate limiter and log
			const outcome = this.graph.handle({
				method,
				host,
				segments: segments.slice(1),
				query: url.searchParams,
				body,
				contentType,
				authorization: req.headers.authorization,
				prefer: typeof req.headers.prefer === 'string' ? req.headers.prefer : undefined,
				clientRequestId,
			});
			reply = outcome.reply;
			if (outcome.tenantId) entry.tenantId = outcome.tenantId;
			if (outcome.clientId) entry.clientId = outcome.clientId;
			entry.endpointClass = outcome.endpointClass;
		} else if (kind === 'api') {
			const versioned = segments[1]?.toLowerCase() === 'v1.0';
			const outcome = this.defender.handle({
				method,
				host,
				segments: segments.slice(versioned ? 2 : 1),
				basePath: versioned ? `/${segments[0]}/${segments[1]}` : `/${segments[0]}`,
				query: url.searchParams,
				body,
				contentType,
				authorization: req.headers.authorization,
			});
			reply = outcome.reply;
			if (outcome.tenantId) entry.tenantId = outcome.tenantId;
			if (outcome.clientId) entry.clientId = outcome.clientId;
			entry.endpointClass = outcome.endpointClass;
		} else {
			const entraReq: EntraRequest = { method, host, segments, query: url.searchParams, body, contentType, clientRequestId, authorization: req.headers.authorization };
			const outcome = this.routeEntra(entraReq);
			reply = outcome.reply;
			if (outcome.tenantId) entry.tenantId = outcome.tenantId;
			if (outcome.clientId) entry.clientId = outcome.clientId;
			if (outcome.scope) entry.scope = outcome.scope;
		}
		if (this.latencyMs > 0 && kind !== 'control') await sleep(this.latencyMs);
		this.send(res, reply, pending);
	}

	private routeEntra(req: EntraRequest): { reply: Reply; tenantId?: string; clientId?: string; scope?: string } {
		const [tenant, ...rest] = req.segments;
		const r = rest.map((s) => s.toLowerCase()).join('/');
		switch (r) {
			case 'oauth2/v2.0/token':
				return this.entra.token(req, tenant, 'v2');
			case 'oauth2/token':
				return this.entra.token(req, tenant, 'v1');
			case 'v2.0/.well-known/openid-configuration':
				return this.entra.openIdConfiguration(req, tenant, true);
			case '.well-known/openid-configuration':
				return this.entra.openIdConfiguration(req, tenant, false);
			case 'discovery/instance':
				return this.entra.instanceDiscovery(req);
			case 'discovery/v2.0/keys':
				return this.entra.keys(req, tenant, true);
			case 'discovery/keys':
				return this.entra.keys(req, tenant, false);
			case 'v2.0/adminconsent':
			case 'adminconsent':
				return this.entra.adminConsent(req, tenant, (clientId) => this.requestedRoles.get(clientId) ?? DEFAULT_REQUESTED_ROLES);
			default:
				return { reply: apiError(404, 'NotFound', `No route for ${req.method} /${req.segments.join('/')}`) };
		}
	}

	private faultReply(fault: FaultSpec, kind: RequestKind, host: string, clientRequestId: string | undefined): Reply {
		const status = fault.status ?? 500;
		const headers: Record<string, string> = {};
		if (fault.headers === undefined && status === 429) headers['retry-after'] = '1';
		if (fault.headers === undefined && status === 401 && kind === 'api') headers['www-authenticate'] = 'Bearer error="invalid_token"';
		for (const [k, v] of Object.entries(fault.headers ?? {})) headers[k.toLowerCase()] = v;
		if (fault.body !== undefined) {
			const body = typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
			return {
				status,
				headers: { 'content-type': typeof fault.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers },
				body,
			};
		}
		if (kind === 'token' || kind === 'discovery') {
			const [error, code, message] =
				status === 429
					? ['temporarily_unavailable', 90055, 'TenantThrottlingError: There are too many incoming requests. This exception is thrown for blocked tenants.']
					: status >= 500
						? ['temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.']
						: ['invalid_request', 90100, 'The request is badly formed or invalid.'];
			const reply = this.entra.error({ host, clientRequestId }, status, error, code, message);
			Object.assign(reply.headers, headers);
			return reply;
		}
		return apiError(status, defaultApiCode(status), defaultApiMessage(status), headers);
	}

	private send(res: http.ServerResponse, reply: Reply, pending: PendingLog): void {
		if (reply.reset) {
			pending.entry.reset = true;
			this.finishLog(pending, 0);
			res.socket?.destroy();
			return;
		}
		pending.entry.errorCode = reply.errorCode;
		pending.entry.aadsts = reply.aadsts;
		this.finishLog(pending, reply.status);
		const body = reply.body ?? '';
		const headers = { ...reply.headers };
		if (!('content-length' in headers)) headers['content-length'] = String(Buffer.byteLength(body));
		// The emulator's clock, not the host's: tests shift one against the other (clock skew).
		headers.date = new Date(this.clock.nowMs()).toUTCString();
		res.writeHead(reply.status, headers);
		res.end(body);
	}

	private finishLog(pending: PendingLog, status: number): void {
		pending.entry.status = status;
		pending.entry.durationMs = Math.round((performance.now() - pending.started) * 100) / 100;
		this.log.add(pending.entry);
	}

	// ============================================================================================ directory

	addTenant(input: TenantInput): Tenant {
		const tenant = this.directory.addTenant(input);
		this.store(tenant.id);
		return tenant;
	}

	/** Create an app registration. `requestedRoles` = API permissions an admin-consent grants. */
	addApp(input: AppInput & { requestedRoles?: string[] }): App {
		const app = this.directory.addApp(input);
		if (input.requestedRoles) {
			validateRoles(input.requestedRoles);
			this.requestedRoles.set(app.clientId, [...input.requestedRoles]);
		}
		return app;
	}

	addSecret(clientId: string, input?: SecretInput): string {
		return this.directory.addSecret(clientId, input);
	}
	/** Register a certificate (PEM, public part) on an app: client assertions signed by its key are accepted. */
	addCertificate(clientId: string, pem: string): AppCertificateInfo {
		return this.directory.addCertificate(clientId, pem);
	}
	/** Remove a registered certificate by SHA-256 or SHA-1 thumbprint (hex). */
	removeCertificate(clientId: string, thumbprint: string): void {
		this.directory.removeCertificate(clientId, thumbprint);
	}
	/** Trust a certificate subject (CN or full subject) for subject-name/issuer authentication through x5c. */
	trustCertificateSubject(clientId: string, subject: string): void {
		this.directory.trustCertificateSubject(clientId, subject);
	}
	/** How the API answers a valid token for another API: 403 (default) or 401. */
	setWrongAudienceStatus(status: 401 | 403): void {
		if (status !== 401 && status !== 403) throw new Error('wrongAudienceStatus must be 401 or 403');
		this.defender.settings.wrongAudienceStatus = status;
	}
	expireSecret(clientId: string, secret: string): void {
		this.directory.expireSecret(clientId, secret);
	}
	removeSecret(clientId: string, secret: string): void {
		this.directory.removeSecret(clientId, secret);
	}
	grantConsent(tenantId: string, clientId: string, roles: string[]): Consent {
		return this.directory.grantConsent(tenantId, clientId, roles);
	}
	revokeConsent(target: { tenantId: string; clientId: string }): void {
		this.directory.revokeConsent(target);
	}
	setRoles(tenantId: string, clientId: string, roles: string[]): Consent {
		return this.directory.setRoles(tenantId, clientId, roles);
	}
	revokeTokens(target: TokenTarget = {}): void {
		this.directory.revokeTokens(target);
	}
	setTokenLifetime(seconds: number): void {
		if (!Number.isInteger(seconds) || seconds < 1) throw new Error('Token lifetime must be a positive integer (seconds)');
		this.directory.tokenLifetimeSeconds = seconds;
	}
	get tokenLifetimeSeconds(): number {
		return this.directory.tokenLifetimeSeconds;
	}
	/** Mint a token directly (no HTTP, not counted). For negative tests: expired, foreign aud, missing roles… */
	issueToken(options: IssueTokenOptions): string {
		return this.directory.issueToken(options).accessToken;
	}
	tenants(): Tenant[] {
		return this.directory.listTenants();
	}
	findTenant(idOrDomain: string): Tenant | undefined {
		return this.directory.findTenant(idOrDomain);
	}
	apps(): ReturnType<Directory['listApps']> {
		return this.directory.listApps();
	}
	consents(): Consent[] {
		return this.directory.listConsents();
	}
	tokenCounts(filter?: Partial<Omit<TokenCount, 'count'>>): TokenCount[] {
		return this.directory.tokenCounts(filter);
	}
	/** Tokens issued by the token endpoint, summed over the matching (tenant, client, scope) keys. */
	tokensIssued(filter?: Partial<Omit<TokenCount, 'count'>>): number {
		return this.directory.tokensIssued(filter);
	}
	get knownRoles(): readonly string[] {
		return KNOWN_ROLES;
	}

	// ============================================================================================ data

	/** The tenant's data store (created on first use). */
	store(tenantId: string): TenantStore {
		const tenant = this.directory.getTenant(tenantId);
		let store = this.stores.get(tenant.id);
		if (!store) {
			store = new TenantStore(tenant.id, tenant.domains[0] ?? `${tenant.id}.onmicrosoft.com`, this.clock);
			this.stores.set(tenant.id, store);
		}
		return store;
	}

	seedTenant(tenantId: string, options: SeedOptions = {}): SeedResult {
		return this.store(tenantId).seed(options, this.clock.nowTicks());
	}

	/** Add alerts (partial alerts, or a count of generated ones). Returns the stored alerts (with evidence). */
	addAlerts(tenantId: string, alerts: AlertInput[] | number): Alert[] {
		const inputs = typeof alerts === 'number' ? Array.from({ length: alerts }, () => ({})) : alerts;
		return this.store(tenantId).addAlerts(inputs);
	}

	/** Server-side change (bumps lastUpdateTime to a fresh tick unless the patch sets it). */
	updateAlert(tenantId: string, id: string, patch: Partial<Alert> & { hidden?: boolean; visibleAfter?: string | number }): Alert {
		return this.store(tenantId).update(id, patch);
	}

	/** Raw alert (ignores visibility), or undefined. */
	getAlert(tenantId: string, id: string): Alert | undefined {
		const stored = this.store(tenantId).byId.get(id);
		return stored ? structuredClone(stored.alert) : undefined;
	}

	/** All alerts of a tenant in insertion order (ignores visibility). */
	listAlerts(tenantId: string): Alert[] {
		return this.store(tenantId).alerts.map((s) => structuredClone(s.alert));
	}

	isAlertVisible(tenantId: string, id: string): boolean {
		const store = this.store(tenantId);
		const stored = store.byId.get(id);
		return stored !== undefined && store.isVisible(stored, this.clock.nowTicks());
	}

	/** Hide an alert from the API without changing it. */
	hideAlert(tenantId: string, id: string): void {
		const stored = this.requireStored(tenantId, id);
		stored.hidden = true;
	}

	/** Make a hidden/delayed alert visible now (its timestamps stay as they are: a late arrival). */
	revealAlert(tenantId: string, id: string): void {
		const stored = this.requireStored(tenantId, id);
		stored.hidden = false;
		stored.visibleAfterTicks = undefined;
	}

	private requireStored(tenantId: string, id: string) {
		const stored = this.store(tenantId).byId.get(id);
		if (!stored) throw new Error(`Unknown alert ${id} in tenant ${tenantId}`);
		return stored;
	}

	addEvents(tenantId: string, events: Array<Partial<HuntingEvent> & { reportId: string | number; eventTime: string; machineId: string }>): HuntingEvent[] {
		return this.store(tenantId).addEvents(events);
	}
	events(tenantId: string): HuntingEvent[] {
		return this.store(tenantId).entities.events.map((e) => ({ ...e }));
	}
	machines(tenantId: string): Machine[] {
		return [...this.store(tenantId).entities.machines.values()].map((m) => structuredClone(m));
	}
	/** Forget a device: /alerts/{id}/machine then answers 404 for its alerts. */
	removeMachine(tenantId: string, machineId: string): void {
		this.store(tenantId).removeMachine(machineId);
	}

	// ============================================================================================ behaviour knobs

	setRateLimits(config: Partial<RateLimitConfig>): void {
		this.limiter.set(config);
	}
	disableRateLimits(): void {
		this.limiter.disable();
	}
	enableRateLimits(): void {
		this.limiter.enable();
	}
	/** Forget consumed budget; `counts: true` also clears the 429 counters. */
	resetRateLimits(counts = false): void {
		this.limiter.reset(counts);
	}
	restoreDefaultRateLimits(): void {
		this.limiter.restoreDefaults();
	}
	rateLimits(): { enabled: boolean; rules: RateLimitConfig } {
		return this.limiter.current();
	}
	throttleCounts(): ThrottleCount[] {
		return this.limiter.throttleCounts();
	}

	injectFault(spec: FaultSpec): number {
		return this.faultQueue.add(spec);
	}
	removeFault(id: number): void {
		this.faultQueue.remove(id);
	}
	clearFaults(): void {
		this.faultQueue.clear();
	}
	faults(): FaultInfo[] {
		return this.faultQueue.list();
	}

	setLatency(ms: number): void {
		if (!(ms >= 0)) throw new Error('Latency must be ≥ 0');
		this.latencyMs = ms;
	}
	get latency(): number {
		return this.latencyMs;
	}

	setMaxBatchSize(n: number): void {
		this.defender.settings.maxBatchSize = n;
	}
	setMaxPageSize(n: number): void {
		this.defender.settings.maxPageSize = n;
	}

	/** Replace the clock source (undefined = real time). Writes stay strictly increasing. */
	setClock(source: ClockSource | undefined): void {
		this.clock.setClock(source);
	}
	setClockOffset(ms: number): void {
		this.clock.setOffset(ms);
	}
	advanceClock(ms: number): void {
		this.clock.advance(ms);
	}
	/** Emulator time, 7 digits. */
	now(): string {
		return this.clock.now();
	}

	// ============================================================================================ log

	requests(filter?: RequestFilter): RequestLogEntry[] {
		return this.log.query(filter);
	}
	count(filter?: RequestFilter): number {
		return this.log.query(filter).length;
	}
	tokenRequests(filter: Omit<RequestFilter, 'kind'> = {}): RequestLogEntry[] {
		return this.log.query({ ...filter, kind: 'token' });
	}
	lastRequest(filter?: RequestFilter): RequestLogEntry | undefined {
		const all = this.log.query(filter);
		return all[all.length - 1];
	}
	/** Sequence number of the newest log entry (use as `sinceSeq`). */
	lastSeq(): number {
		return this.log.lastSeq();
	}
	resetLog(): void {
		this.log.reset();
	}
	proxyConnects(): ProxyConnectRecord[] {
		return this.proxyRecords.map((r) => ({ ...r }));
	}

	state(): Record<string, unknown> {
		const byKind: Record<string, number> = {};
		for (const kind of ['token', 'discovery', 'api', 'other'] as const) byKind[kind] = this.log.query({ kind }).length;
		return {
			url: this.url,
			proxyUrl: this.proxyUrl,
			caPath: this.caPath,
			now: this.clock.info(),
			tokenLifetimeSeconds: this.directory.tokenLifetimeSeconds,
			latencyMs: this.latencyMs,
			maxBatchSize: this.defender.settings.maxBatchSize,
			maxPageSize: this.defender.settings.maxPageSize,
			rateLimits: this.limiter.current(),
			faults: this.faultQueue.list().map((f) => ({ ...f, spec: serializableFault(f.spec) })),
			tenants: this.directory.listTenants().map((t) => {
				const store = this.stores.get(t.id);
				return {
					...t,
					alerts: store?.alerts.length ?? 0,
					visibleAlerts: store ? store.alerts.filter((s) => store.isVisible(s, this.clock.nowTicks())).length : 0,
					machines: store?.entities.machines.size ?? 0,
					events: store?.entities.events.length ?? 0,
				};
			}),
			apps: this.directory.listApps(),
			consents: this.directory.listConsents(),
			counts: {
				requests: byKind,
				tokensIssued: this.directory.tokenCounts(),
				throttled: this.limiter.throttleCounts(),
			},
			lastSeq: this.log.lastSeq(),
		};
	}

	createScenario(options: ScenarioOptions): Scenario {
		return createScenario(this, options);
	}
}

export function serializableFault(spec: FaultSpec): Record<string, unknown> {
	const match = spec.match ? { ...spec.match, path: spec.match.path instanceof RegExp ? { regex: spec.match.path.source, flags: spec.match.path.flags } : spec.match.path } : undefined;
	return { ...spec, match };
}

function classify(segments: string[]): RequestKind {
	const first = segments[0]?.toLowerCase();
	if (first === 'api' || first === 'v1.0') return 'api';
	if (first === '_emulator') return 'control';
	const rest = segments.slice(1).map((s) => s.toLowerCase()).join('/');
	if (rest === 'oauth2/v2.0/token' || rest === 'oauth2/token') return 'token';
	if (
		rest === 'v2.0/.well-known/openid-configuration' ||
		rest === '.well-known/openid-configuration' ||
		rest === 'discovery/instance' ||
		rest === 'discovery/v2.0/keys' ||
		rest === 'discovery/keys'
	) {
		return 'discovery';
	}
	return 'other';
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let tooLarge = false;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) tooLarge = true;
			else chunks.push(chunk);
		});
		req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

/** Start an emulator (HTTPS + CONNECT proxy on 127.0.0.1). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
	const emulator = new Emulator(options);
	await emulator.listen();
	return emulator;
}

