/**
 * The one place that talks HTTP to Defender. Operations describe WHAT they want (method, path segments, query,
 * body, endpoint class); this module owns base URLs per cloud and region, tokens, pacing, retries and error
 * mapping. Nothing else in the package builds a URL or a header.
 */
import {
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type ILoadOptionsFunctions,
	type INode,
	type IPollFunctions,
	type JsonObject,
	NodeApiError,
	NodeOperationError,
	sleep,
} from 'n8n-workflow';

import { apiBaseForRegion, CloudConfigError, type CloudEndpoints } from '../core/clouds';
import { CREDENTIAL_TYPE, CredentialInputError, type DefenderCredential, readCredential, tokenTarget } from '../core/credentials';
import { isGuid } from '../core/ids';
import { DEFAULT_MAX_THROTTLE_WAIT_MS } from '../core/limits';
import { decodeTokenClaims } from '../core/jwt';
import { credentialOwnAllowedDomains, tokenHttpFrom } from './n8nHttp';
import { type EndpointClass, pacer } from './pacer';
import { redact } from '../core/redact';
import { processSettings } from './processState';
import { requestScope } from './requestScope';
import { describeTransportCode, tokenBroker, TokenError, type TokenErrorKind } from './tokens';
import { USER_AGENT } from '../core/version';

export type DefenderContext = IExecuteFunctions | IPollFunctions | ILoadOptionsFunctions;

export interface ApiRequest {
	method: 'GET' | 'POST' | 'PATCH';
	/** path segments after `/api/`, e.g. ['alerts', id, 'files']; each is URL-encoded */
	path: string[];
	qs?: IDataObject;
	body?: IDataObject;
	endpointClass: EndpointClass;
	/** safe to send again after a 5xx, reset or timeout */
	idempotent: boolean;
	itemIndex?: number;
	/** longest total time to wait out throttling before failing the item (default 5 minutes) */
	maxThrottleWaitMs?: number;
	/** message for a 404, e.g. "Alert x was not found in tenant y" */
	notFoundMessage?: string;
	/** permissions this call needs, named in a 403 message when the API does not name them */
	requiredRoles?: string[];
}

export interface DefenderSession {
	credential: DefenderCredential;
	tenantId: string;
	apiBaseUrl: string;
	endpoints: CloudEndpoints;
}

const MAX_5XX_RETRIES = 3;
const MAX_THROTTLE_RETRIES = 10;
const REQUEST_TIMEOUT_MS = 100_000;
const RETRYABLE_TRANSPORT = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET']);


function operationError(node: INode, message: string, hint: string, itemIndex?: number): NodeOperationError {
	return new NodeOperationError(node, redact(message), { description: redact(hint), itemIndex });
}

async function readCredentialData(ctx: DefenderContext, itemIndex?: number): Promise<ICredentialDataDecryptedObject> {
	const getCredentials = ctx.getCredentials as (type: string, itemIndex?: number) => Promise<ICredentialDataDecryptedObject>;
	return await getCredentials.call(ctx, CREDENTIAL_TYPE, itemIndex ?? 0);
}

/** Validate the credential and the region for its cloud before any request is made. */
export async function openSession(ctx: DefenderContext, options: { itemIndex?: number; tenantId?: string; region?: string } = {}): Promise<DefenderSession & { data: ICredentialDataDecryptedObject }> {
	const node = ctx.getNode();
	const data = await readCredentialData(ctx, options.itemIndex);
	let credential: DefenderCredential;
	try {
		credential = readCredential(data);
	} catch (error) {
		if (error instanceof CredentialInputError) {
			throw operationError(node, `Credential: ${error.message}`, error.hint, options.itemIndex);
		}
		throw new NodeOperationError(node, error as Error, { itemIndex: options.itemIndex });
	}
	// The customer tenant was validated by backend/index.ts (backendFor), the one place that checks node input.
	const tenantId = options.tenantId ?? credential.tenantId;
	let apiBaseUrl: string;
	try {
		apiBaseUrl = apiBaseForRegion(credential.endpoints, options.region);
	} catch (error) {
		if (error instanceof CloudConfigError) throw operationError(node, error.message, error.hint, options.itemIndex);
		throw new NodeOperationError(node, error as Error, { itemIndex: options.itemIndex });
	}
	return { credential, tenantId, apiBaseUrl, endpoints: credential.endpoints, data };
}

/** A token for the session's tenant (cached, single-flight, refreshed ahead of expiry by msal). */
export async function sessionToken(
	ctx: DefenderContext,
	session: DefenderSession & { data: ICredentialDataDecryptedObject },
	itemIndex?: number,
	rejectedToken?: string,
): Promise<string> {
	const http = tokenHttpFrom((opts) => ctx.helpers.httpRequest(opts), credentialOwnAllowedDomains(session.data));
	try {
		const token = await tokenBroker.acquire(tokenTarget(session.credential, session.tenantId), http, { rejectedToken });
		return token.accessToken;
	} catch (error) {
		throw tokenFailure(ctx.getNode(), error, session, itemIndex);
	}
}

type NodeApiErrorOptions = ConstructorParameters<typeof NodeApiError>[2];

/** Sign-in failed; `tokenErrorKind` says why (invalidSecret, notConsented, …; see TokenErrorKind). */
export class TokenFailureError extends NodeApiError {
	constructor(
		node: INode,
		readonly tokenErrorKind: TokenErrorKind,
		errorResponse: JsonObject,
		options: NodeApiErrorOptions,
	) {
		super(node, errorResponse, options);
	}
}

/** Throttling lasted longer than the caller may wait; `retryAfterMs` is when the API will take requests again. */
export class ThrottledError extends NodeApiError {
	readonly headers: Record<string, string>;

	constructor(
		node: INode,
		readonly retryAfterMs: number,
		errorResponse: JsonObject,
		options: NodeApiErrorOptions,
	) {
		super(node, errorResponse, options);
		this.headers = { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) };
	}
}

/** What callers report about a failed call (Tenant Failures items, Check Access rows), read without casts. */
export interface FailureFacts {
	message: string;
	description?: string;
	/** HTTP status, when there was a response */
	httpCode?: number;
	/** set for throttling beyond the allowed wait */
	retryAfterMs?: number;
	/** set when getting a token failed */
	tokenErrorKind?: TokenErrorKind;
}

export function failureFacts(error: unknown): FailureFacts {
	const info = describeFailure(error);
	const description = error instanceof NodeApiError || error instanceof NodeOperationError ? (error.description ?? undefined) : undefined;
	return {
		message: redact(error instanceof Error ? error.message : String(error)),
		...(description ? { description: redact(description) } : {}),
		...(info.status !== undefined ? { httpCode: info.status } : {}),
		...(error instanceof ThrottledError ? { retryAfterMs: error.retryAfterMs } : {}),
		...(error instanceof TokenFailureError ? { tokenErrorKind: error.tokenErrorKind } : {}),
	};
}

export function tokenFailure(node: INode, error: unknown, session: DefenderSession, itemIndex?: number): NodeApiError | NodeOperationError {
	if (error instanceof TokenError) {
		const parts = [error.hint];
		if (error.kind === 'invalidSecret' && isGuid(session.credential.clientSecret)) {
			parts.push('The secret you entered looks like a Secret ID (a GUID); the Value is a longer random string.');
		}
		if (error.details.correlationId) parts.push(`Correlation ID: ${error.details.correlationId}`);
		if (error.details.traceId) parts.push(`Trace ID: ${error.details.traceId}`);
		return new TokenFailureError(
			node,
			error.kind,
			{ message: error.message, code: error.kind } as JsonObject,
			{
				message: redact(error.message),
				description: redact(parts.join(' ')),
				httpCode: error.details.status ? String(error.details.status) : undefined,
				itemIndex,
			},
		);
	}
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(node, redact(`Could not get an access token: ${message}`), { itemIndex });
}

interface FailureInfo {
	status?: number;
	headers: Record<string, string>;
	defender?: { code?: string; message?: string; target?: string };
	transportCode?: string;
	message: string;
}

function lowerHeaders(headers: unknown): Record<string, string> {
	const out: Record<string, string> = {};
	if (headers && typeof headers === 'object') {
		const source = typeof (headers as { toJSON?: () => unknown }).toJSON === 'function' ? (headers as { toJSON: () => unknown }).toJSON() : headers;
		for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
			if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v);
		}
	}
	return out;
}

/** Dig the HTTP status, headers and Defender error body out of whatever n8n/axios threw. */
export function describeFailure(error: unknown): FailureInfo {
	const seen = new Set<unknown>();
	let current: unknown = error;
	let status: number | undefined;
	let headers: Record<string, string> = {};
	let body: unknown;
	let transportCode: string | undefined;
	while (current && typeof current === 'object' && !seen.has(current)) {
		seen.add(current);
		const c = current as {
			httpCode?: string | null;
			response?: { status?: number; headers?: unknown; data?: unknown };
			code?: string;
			cause?: unknown;
			errorResponse?: unknown;
			status?: number;
		};
		if (c.response && typeof c.response === 'object') {
			status ??= c.response.status;
			if (Object.keys(headers).length === 0) headers = lowerHeaders(c.response.headers);
			body ??= c.response.data;
		}
		if (!status && c.httpCode && /^\d{3}$/.test(c.httpCode)) status = Number(c.httpCode);
		if (typeof c.code === 'string' && /^[A-Z_]+$/.test(c.code)) transportCode ??= c.code;
		current = c.cause ?? c.errorResponse;
	}
	let defender: FailureInfo['defender'];
	let parsed = body;
	if (typeof parsed === 'string') {
		try {
			parsed = JSON.parse(parsed);
		} catch {
			/* not JSON */
		}
	}
	if (parsed && typeof parsed === 'object' && 'error' in (parsed as object)) {
		const e = (parsed as { error?: unknown }).error;
		if (e && typeof e === 'object') defender = e as FailureInfo['defender'];
	}
	const message = error instanceof Error ? error.message : String(error);
	return { status, headers, defender, transportCode, message };
}

/** A TokenError anywhere in the cause chain (the credential's preAuthentication wraps it for n8n). */
function findTokenError(error: unknown): TokenError | undefined {
	const seen = new Set<unknown>();
	let current: unknown = error;
	while (current && typeof current === 'object' && !seen.has(current)) {
		if (current instanceof TokenError) return current;
		seen.add(current);
		const c = current as { cause?: unknown; errorResponse?: unknown };
		current = c.cause ?? c.errorResponse;
	}
	return undefined;
}

function retryAfterMs(headers: Record<string, string>): number | undefined {
	const value = headers['retry-after'];
	if (!value) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function formatDuration(ms: number): string {
	if (ms < 1000) return `${Math.max(1, Math.round(ms))} ms`;
	if (ms < 120_000) return `${Math.ceil(ms / 1000)} s`;
	return `${Math.ceil(ms / 60_000)} min`;
}

function parseRequiredRoles(message: string | undefined): { required: string[]; granted: string[] } | undefined {
	if (!message) return undefined;
	const m = /required roles:\s*([^.]*?)(?:,?\s*application roles:\s*([^.]*))?\.?$/i.exec(message);
	if (!m) return undefined;
	const split = (s?: string) => (s ?? '').split(',').map((r) => r.trim()).filter(Boolean);
	return { required: split(m[1]), granted: split(m[2]) };
}

function apiError(node: INode, info: FailureInfo, request: ApiRequest, session: DefenderSession, token: string | undefined): NodeApiError {
	const d = info.defender;
	const correlation = d?.target ? ` Correlation ID: ${d.target}.` : '';
	const tenant = session.tenantId;
	let message: string;
	let description: string;
	switch (info.status) {
		case 400:
			message = `Defender rejected the request (${d?.code ?? 'BadRequest'}): ${d?.message ?? info.message}`;
			description = 'Check the filter and field values of this item.';
			break;
		case 401:
			message = `Defender did not accept the access token for tenant ${tenant}, even after a fresh token was requested`;
			description = 'The token was issued but the API refused it: check that the Cloud and token scope match the tenant\'s Defender environment, and that the app is consented in this tenant.';
			break;
		case 403: {
			const roles = parseRequiredRoles(d?.message);
			const granted = decodeTokenClaims(token).roles ?? [];
			const needed = roles?.required.length ? roles.required : (request.requiredRoles ?? []);
			message = `The app lacks the permission for this operation in tenant ${tenant}${needed.length ? `: it needs ${needed.join(' or ')}` : ''}`;
			description = `The token carries ${granted.length ? granted.join(', ') : 'no WindowsDefenderATP application permissions'}. In the app registration add the missing permission under API permissions → APIs my organization uses → WindowsDefenderATP → Application permissions, then grant admin consent in tenant ${tenant}.`;
			break;
		}
		case 404:
			message = request.notFoundMessage ?? `Not found in tenant ${tenant}: ${d?.message ?? 'the resource does not exist'}`;
			description = 'Check the ID, the tenant and the region.';
			break;
		case 429:
			message = `Defender is throttling requests for tenant ${tenant}`;
			description = 'Retry later.';
			break;
		default:
			if (info.status && info.status >= 500) {
				message = `Defender had an internal failure (HTTP ${info.status}${d?.code ? `, ${d.code}` : ''})`;
				description = request.idempotent
					? `It persisted after ${MAX_5XX_RETRIES} retries; try again later.`
					: 'The request changes data and was not repeated automatically; check the alert before retrying.';
			} else if (info.transportCode) {
				message = `Could not reach Defender at ${session.apiBaseUrl} (${describeTransportCode(info.transportCode)})`;
				description = 'Check the region, the network path or proxy from n8n, and (custom clouds) the API Base URL.';
			} else {
				message = `Defender request failed: ${info.message}`;
				description = 'See the details for the response.';
			}
	}
	return new NodeApiError(
		node,
		{ message: redact(message), code: d?.code ?? null, target: d?.target ?? null, status: info.status ?? null } as JsonObject,
		{
			message: redact(message),
			description: redact(`${description}${correlation}`),
			httpCode: info.status ? String(info.status) : undefined,
			itemIndex: request.itemIndex,
		},
	);
}

function throttledError(node: INode, request: ApiRequest, session: DefenderSession, waitMs: number, info?: FailureInfo): NodeApiError {
	const retryAt = new Date(Date.now() + waitMs).toISOString();
	return new ThrottledError(
		node,
		waitMs,
		{ message: 'TooManyRequests', code: 'TooManyRequests', target: info?.defender?.target ?? null } as JsonObject,
		{
			message: `Defender is throttling ${request.endpointClass} requests for tenant ${session.tenantId}; retry after ${formatDuration(waitMs)} (${retryAt})`,
			description: `The documented budget for this endpoint is per app and tenant. The wait exceeds the node's maximum throttle wait; raise "Max Throttle Wait" or run fewer items per minute.${info?.defender?.target ? ` Correlation ID: ${info.defender.target}.` : ''}`,
			httpCode: '429',
			itemIndex: request.itemIndex,
		},
	);
}

export function pacingKey(clientId: string, tenantGuid: string, endpointClass: EndpointClass): string {
	return `${clientId.toLowerCase()}|${tenantGuid.toLowerCase()}|${endpointClass}`;
}

export function apiPath(segments: string[]): string {
	return `/api/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

/**
 * Send one Defender API request with pacing, token, bounded retries and error mapping. Returns the parsed body
 * (undefined for empty bodies).
 */
export async function defenderRequest<T = unknown>(ctx: DefenderContext, request: ApiRequest, session: DefenderSession & { data: ICredentialDataDecryptedObject }): Promise<T> {
	const node = ctx.getNode();
	const url = `${session.apiBaseUrl}${apiPath(request.path)}`;
	const maxWait = request.maxThrottleWaitMs ?? DEFAULT_MAX_THROTTLE_WAIT_MS;
	let throttleWaited = 0;
	let serverErrors = 0;
	let throttles = 0;

	// Budgets are per app + tenant: key them by the token's tenant GUID, so a tenant named by its domain in one item
	// and by its GUID in the next shares one budget (the token itself is cached; this costs no request).
	let token = await sessionToken(ctx, session, request.itemIndex);
	const tid = decodeTokenClaims(token).tid ?? session.tenantId;
	const paceKey = pacingKey(session.credential.clientId, tid, request.endpointClass);
	// The first attempt sends that token; later attempts (after pacing, a 429 or a backoff) fetch it again, since it
	// may have been renewed meanwhile.
	let refetchToken = false;

	for (;;) {
		const delay = pacer.delayFor(paceKey, request.endpointClass);
		if (delay > 0) {
			if (throttleWaited + delay > maxWait) throw throttledError(node, request, session, delay);
			throttleWaited += delay;
			await sleep(delay);
			refetchToken = true;
			continue;
		}
		pacer.record(paceKey, request.endpointClass);

		if (refetchToken) token = await sessionToken(ctx, session, request.itemIndex);
		refetchToken = true; // any further attempt follows a wait or a failed send
		const scope = { tenantId: session.tenantId, token };
		const options: IHttpRequestOptions = {
			method: request.method,
			url,
			qs: request.qs,
			body: request.body,
			json: true,
			headers: { 'User-Agent': USER_AGENT, Accept: 'application/json', ...(request.body ? { 'Content-Type': 'application/json' } : {}) },
			disableFollowRedirect: true,
			sendCredentialsOnCrossOriginRedirect: false,
			timeout: REQUEST_TIMEOUT_MS,
		};
		try {
			const result = await requestScope.run(scope, async () => await ctx.helpers.httpRequestWithAuthentication.call(ctx, CREDENTIAL_TYPE, options));
			return (result === '' ? undefined : result) as T;
		} catch (error) {
			const info = describeFailure(error);
			const tokenError = findTokenError(error);
			if (tokenError) {
				// n8n refreshed the token after a 401 (preAuthentication) and that failed, e.g. consent was revoked.
				throw tokenFailure(node, tokenError, session, request.itemIndex);
			}
			if (info.status === 429) {
				throttles += 1;
				const wait = retryAfterMs(info.headers) ?? Math.min(60_000, 1000 * 2 ** throttles);
				pacer.blockFor(paceKey, wait);
				if (throttleWaited + wait > maxWait || throttles > MAX_THROTTLE_RETRIES) {
					throw throttledError(node, request, session, wait, info);
				}
				throttleWaited += wait;
				await sleep(wait);
				continue;
			}
			const retryable = (info.status !== undefined && info.status >= 500) || (info.status === undefined && info.transportCode !== undefined && RETRYABLE_TRANSPORT.has(info.transportCode));
			if (retryable && request.idempotent && serverErrors < MAX_5XX_RETRIES) {
				serverErrors += 1;
				const base = processSettings.retryBackoffBaseMs;
				await sleep(base * 2 ** (serverErrors - 1) + Math.floor(Math.random() * base * 0.2));
				continue;
			}
			if (info.status === undefined && !info.transportCode && error instanceof NodeOperationError) {
				throw new NodeOperationError(node, error, { itemIndex: request.itemIndex });
			}
			throw apiError(node, info, request, session, scope.token);
		}
	}
}
