/**
 * Control API under `/_emulator/` (no auth; the server only listens on 127.0.0.1). Thin JSON wrappers over the
 * in-process methods, for out-of-process users (demo, end-to-end suite driving a real n8n).
 */
import type { Emulator } from './emulator';
import { graphControl } from './graph';
import { indicatorControl } from './indicators';
import { isPlainObject, jsonReply, type Reply } from './http-util';
import type { AlertInput, EndpointClass, FaultSpec, RequestFilter, RequestKind } from './types';

export interface ControlRequest {
	method: string;
	/** Segments after `_emulator`. */
	segments: string[];
	query: URLSearchParams;
	body: Buffer;
}

class ControlError extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

const bad = (message: string): ControlError => new ControlError(400, message);

function parseBody(req: ControlRequest): unknown {
	const text = req.body.toString('utf8').trim();
	if (!text) return {};
	try {
		return JSON.parse(text) as unknown;
	} catch {
		throw bad('Body is not valid JSON');
	}
}

function objectBody(req: ControlRequest): Record<string, unknown> {
	const body = parseBody(req);
	if (!isPlainObject(body)) throw bad('A JSON object is expected');
	return body;
}

function str(body: Record<string, unknown>, name: string, required = true): string | undefined {
	const v = body[name];
	if (v === undefined || v === null) {
		if (required) throw bad(`'${name}' is required`);
		return undefined;
	}
	if (typeof v !== 'string') throw bad(`'${name}' must be a string`);
	return v;
}

function roles(body: Record<string, unknown>): string[] {
	const v = body.roles;
	if (!Array.isArray(v) || v.some((r) => typeof r !== 'string')) throw bad("'roles' must be an array of strings");
	return v as string[];
}

function num(body: Record<string, unknown>, name: string): number {
	const v = body[name];
	if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`'${name}' must be a number`);
	return v;
}

export function requestFilterFromQuery(query: URLSearchParams): RequestFilter {
	const filter: RequestFilter = {};
	const kind = query.get('kind');
	if (kind) filter.kind = kind as RequestKind;
	for (const key of ['method', 'host', 'tenantId', 'clientId'] as const) {
		const v = query.get(key);
		if (v) filter[key] = v;
	}
	const path = query.get('path');
	if (path) filter.path = path;
	const pathRegex = query.get('pathRegex');
	if (pathRegex) filter.path = new RegExp(pathRegex);
	const endpointClass = query.get('endpointClass');
	if (endpointClass) filter.endpointClass = endpointClass as EndpointClass;
	const status = query.get('status');
	if (status) filter.status = Number(status);
	const viaProxy = query.get('viaProxy');
	if (viaProxy) filter.viaProxy = viaProxy === 'true';
	const sinceSeq = query.get('sinceSeq');
	if (sinceSeq) filter.sinceSeq = Number(sinceSeq);
	return filter;
}

function faultFromJson(body: Record<string, unknown>): FaultSpec {
	const spec = { ...body } as FaultSpec & { match?: Record<string, unknown> };
	const match = body.match;
	if (match !== undefined) {
		if (!isPlainObject(match)) throw bad("'match' must be an object");
		const path = match.path;
		const pathRegex = match.pathRegex;
		const m: Record<string, unknown> = { ...match };
		delete m.pathRegex;
		if (typeof pathRegex === 'string') m.path = new RegExp(pathRegex, typeof match.flags === 'string' ? match.flags : undefined);
		else if (isPlainObject(path) && typeof path.regex === 'string') {
			m.path = new RegExp(path.regex, typeof path.flags === 'string' ? path.flags : undefined);
		}
		delete m.flags;
		spec.match = m;
	}
	return spec as FaultSpec;
}

export function handleControl(emulator: Emulator, req: ControlRequest): Reply {
	try {
		return route(emulator, req);
	} catch (error) {
		const status = error instanceof ControlError ? error.status : 400;
		return jsonReply(status, { error: { code: status === 404 ? 'NotFound' : 'BadRequest', message: error instanceof Error ? error.message : String(error) } });
	}
}

function route(emulator: Emulator, req: ControlRequest): Reply {
	const [a, b, c, d] = req.segments;
	const m = req.method;
	const ok = (value: unknown = { ok: true }): Reply => jsonReply(200, value);
	const key = `${m} ${a ?? ''}`;

	switch (key) {
		case 'GET state':
			return ok(emulator.state());
		case 'GET requests': {
			const value = emulator.requests(requestFilterFromQuery(req.query));
			return ok({ count: value.length, value });
		}
		case 'GET count':
			return ok({ count: emulator.count(requestFilterFromQuery(req.query)) });
		case 'POST reset-log':
			emulator.resetLog();
			return ok();
		case 'GET proxy-connects':
			return ok({ value: emulator.proxyConnects() });
		case 'GET apps':
			return ok({ value: emulator.apps() });
		case 'POST apps': {
			if (b !== undefined && c === 'secrets') {
				const body = objectBody(req);
				return ok({ secret: emulator.addSecret(b, { value: str(body, 'value', false), expired: body.expired === true }) });
			}
			if (b !== undefined && c === 'certificates') {
				// {pem} registers a certificate; {trustedSubject} trusts a subject for subject-name/issuer sign-in
				const body = objectBody(req);
				const subject = str(body, 'trustedSubject', false);
				if (subject !== undefined) {
					emulator.trustCertificateSubject(b, subject);
					return ok();
				}
				return ok(emulator.addCertificate(b, str(body, 'pem')!));
			}
			const body = objectBody(req);
			return ok(emulator.addApp(body as never));
		}
		case 'DELETE apps': {
			if (b === undefined || c !== 'certificates' || d === undefined) throw new ControlError(404, 'Use DELETE /_emulator/apps/{clientId}/certificates/{thumbprint}');
			emulator.removeCertificate(b, d);
			return ok();
		}
		case 'POST wrong-audience-status': {
			const status = num(objectBody(req), 'status');
			emulator.setWrongAudienceStatus(status as 401 | 403);
			return ok({ status });
		}
		case 'POST expire-secret': {
			const body = objectBody(req);
			emulator.expireSecret(str(body, 'clientId')!, str(body, 'secret')!);
			return ok();
		}
		case 'POST consent': {
			const body = objectBody(req);
			return ok(emulator.grantConsent(str(body, 'tenantId')!, str(body, 'clientId')!, roles(body)));
		}
		case 'POST revoke-consent': {
			const body = objectBody(req);
			emulator.revokeConsent({ tenantId: str(body, 'tenantId')!, clientId: str(body, 'clientId')! });
			return ok();
		}
		case 'POST roles': {
			const body = objectBody(req);
			return ok(emulator.setRoles(str(body, 'tenantId')!, str(body, 'clientId')!, roles(body)));
		}
		case 'POST revoke-tokens': {
			const body = objectBody(req);
			emulator.revokeTokens({ tenantId: str(body, 'tenantId', false), clientId: str(body, 'clientId', false) });
			return ok();
		}
		case 'POST token-lifetime': {
			emulator.setTokenLifetime(num(objectBody(req), 'seconds'));
			return ok({ seconds: emulator.tokenLifetimeSeconds });
		}
		case 'POST issue-token': {
			const body = objectBody(req);
			return ok({ access_token: emulator.issueToken(body as never) });
		}
		case 'GET token-counts': {
			const filter = {
				tenantId: req.query.get('tenantId') ?? undefined,
				clientId: req.query.get('clientId') ?? undefined,
				scope: req.query.get('scope') ?? undefined,
			};
			const value = emulator.tokenCounts(filter);
			return ok({ total: value.reduce((s, x) => s + x.count, 0), value });
		}
		case 'GET faults':
			return ok({ value: emulator.faults().map((f) => ({ id: f.id, remaining: f.remaining })) });
		case 'POST faults':
			return ok({ id: emulator.injectFault(faultFromJson(objectBody(req))) });
		case 'DELETE faults':
			if (b !== undefined) emulator.removeFault(Number(b));
			else emulator.clearFaults();
			return ok();
		case 'GET rate-limits':
			return ok({ ...emulator.rateLimits(), throttled: emulator.throttleCounts() });
		case 'POST rate-limits': {
			if (b === 'disable') emulator.disableRateLimits();
			else if (b === 'enable') emulator.enableRateLimits();
			else if (b === 'reset') emulator.resetRateLimits(objectBody(req).counts === true);
			else if (b === 'defaults') emulator.restoreDefaultRateLimits();
			else if (b === undefined) {
				const body = objectBody(req);
				if (body.disabled === true) emulator.disableRateLimits();
				else emulator.setRateLimits(body as never);
			} else throw new ControlError(404, `Unknown rate-limits action '${b}'`);
			return ok(emulator.rateLimits());
		}
		case 'POST latency':
			emulator.setLatency(num(objectBody(req), 'ms'));
			return ok({ ms: emulator.latency });
		case 'POST batch-size':
			emulator.setMaxBatchSize(num(objectBody(req), 'max'));
			return ok();
		case 'POST page-size':
			emulator.setMaxPageSize(num(objectBody(req), 'max'));
			return ok();
		case 'GET clock':
			return ok({ now: emulator.now() });
		case 'POST clock': {
			const body = objectBody(req);
			if (body.reset === true) emulator.clock.reset();
			if (typeof body.now === 'string') {
				const fixed = body.now;
				emulator.setClock(() => fixed);
			}
			if (typeof body.offsetMs === 'number') emulator.setClockOffset(body.offsetMs);
			if (typeof body.advanceMs === 'number') emulator.advanceClock(body.advanceMs);
			return ok({ now: emulator.now() });
		}
		case 'POST scenario':
			return ok(emulator.createScenario(objectBody(req) as never));
		case 'GET tenants':
			if (b === undefined) return ok({ value: emulator.tenants() });
			return tenantRoute(emulator, req, b, c, d);
		case 'POST tenants':
			if (b === undefined) return ok(emulator.addTenant(objectBody(req) as never));
			return tenantRoute(emulator, req, b, c, d);
		case 'PATCH tenants':
			return tenantRoute(emulator, req, b, c, d);
		case 'GET machine-api':
		case 'POST machine-api':
			return emulator.machineApi.control(req);
		case 'GET indicators':
		case 'POST indicators':
		case 'DELETE indicators':
			return indicatorControl(emulator.indicators, (t) => emulator.findTenant(t)?.id, req);
		case 'GET graph':
		case 'POST graph':
			return graphControl(emulator.graph, req);
		default:
			throw new ControlError(404, `Unknown control endpoint ${m} /_emulator/${req.segments.join('/')}`);
	}
}

function tenantRoute(emulator: Emulator, req: ControlRequest, tenant: string | undefined, what: string | undefined, id: string | undefined): Reply {
	if (!tenant) throw new ControlError(404, 'Tenant missing');
	if (!emulator.findTenant(tenant)) throw new ControlError(404, `Unknown tenant ${tenant}`);
	const m = req.method;
	const action = req.segments[4];
	const ok = (value: unknown = { ok: true }): Reply => jsonReply(200, value);
	if (what === 'seed' && m === 'POST') return ok(emulator.seedTenant(tenant, objectBody(req) as never));
	if (what === 'machines' && m === 'GET') return ok({ value: emulator.machines(tenant) });
	if (what === 'events') {
		if (m === 'GET') return ok({ value: emulator.events(tenant) });
		if (m === 'POST') {
			const body = parseBody(req);
			const list = Array.isArray(body) ? body : isPlainObject(body) && Array.isArray(body.events) ? body.events : undefined;
			if (!list) throw bad('Send an array of events or {events:[…]}');
			return ok({ value: emulator.addEvents(tenant, list as never) });
		}
	}
	if (what === 'alerts') {
		if (id === undefined) {
			if (m === 'GET') return ok({ value: emulator.listAlerts(tenant) });
			if (m === 'POST') {
				const body = parseBody(req);
				let input: AlertInput[] | number;
				if (Array.isArray(body)) input = body as AlertInput[];
				else if (isPlainObject(body) && typeof body.count === 'number') input = body.count;
				else if (isPlainObject(body) && Array.isArray(body.alerts)) input = body.alerts as AlertInput[];
				else throw bad('Send an array of partial alerts, {count: n} or {alerts: […]}');
				const value = emulator.addAlerts(tenant, input);
				return ok({ count: value.length, value });
			}
		} else if (action === undefined) {
			if (m === 'GET') {
				const alert = emulator.getAlert(tenant, id);
				if (!alert) throw new ControlError(404, `Unknown alert ${id}`);
				return ok({ ...alert, visible: emulator.isAlertVisible(tenant, id) });
			}
			if (m === 'PATCH' || m === 'POST') return ok(emulator.updateAlert(tenant, id, objectBody(req) as never));
		} else if (m === 'POST' && action === 'hide') {
			emulator.hideAlert(tenant, id);
			return ok();
		} else if (m === 'POST' && action === 'reveal') {
			emulator.revealAlert(tenant, id);
			return ok();
		}
	}
	throw new ControlError(404, `Unknown control endpoint ${m} /_emulator/${req.segments.join('/')}`);
}
