/**
 * The one place that talks HTTP to Defender. Operations describe WHAT they want (method, path segments, query,
 * body, endpoint class); this module owns base URLs per cloud and region, tokens, pacing, retries and error
 * mapping. Nothing else in the package builds a URL or a header.
 */
import { createHash } from 'node:crypto';

import {
	type IAdditionalCredentialOptions,
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

import { type ApiEndpoint, apiEndpoint, type ApiName, CloudConfigError, type CloudEndpoints } from '../core/clouds';
import { apiSaysWrongAudience, type AudienceProblem, audienceMatchesScope, isDefenderResource, otherApiName, wrongAudienceAdviceForScope, wrongAudienceForApi } from '../core/audience';
import { CREDENTIAL_TYPE, CredentialInputError, type DefenderCredential, readCredential, tokenTarget } from '../core/credentials';
import { isGuid } from '../core/ids';
import { DEFAULT_MAX_THROTTLE_WAIT_MS } from '../core/limits';
import { decodeTokenClaims } from '../core/jwt';
import { credentialOwnAllowedDomains, tokenHttpFrom } from './n8nHttp';
import { type EndpointClass, pacer } from './pacer';
import { redact } from '../core/redact';
import { processSettings } from './processState';
import { requestScope } from './requestScope';
import { serverClock } from './serverClock';
import { describeTransportCode, tokenBroker, TokenError, type TokenErrorKind } from './tokens';
import { USER_AGENT } from '../core/version';

export type DefenderContext = IExecuteFunctions | IPollFunctions | ILoadOptionsFunctions;

export interface ApiRequest {
	method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
	/**
	 * path segments after the API's prefix (`/api/` for Defender, `/v1.0/` for Graph), e.g. ['alerts', id, 'files'];
	 * each is URL-encoded (a leading `$`, as in Graph's `$batch`, is kept)
	 */
	path: string[];
	/**
	 * An absolute URL the API itself returned (a Graph `@odata.nextLink`) instead of `path` and `qs`. Sent only when
	 * its origin is exactly the session API's origin (and under its path prefix): the token never goes elsewhere.
	 */
	url?: string;
	/** extra request headers (e.g. Graph's Prefer) */
	headers?: Record<string, string>;
	/** how many units of the endpoint class's budget this call uses (a Graph `$batch` of n sub-requests: n); default 1 */
	paceUnits?: number;
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
	/** client timeout of one attempt (default REQUEST_TIMEOUT_MS); advanced hunting queries may run ~3 minutes */
	timeoutMs?: number;
}

export interface DefenderSession {
	credential: DefenderCredential;
	tenantId: string;
	/** `api.baseUrl` (kept for callers that need the origin only) */
	apiBaseUrl: string;
	endpoints: CloudEndpoints;
	/** which API this session talks to: base URL, path prefix, token scope (core/clouds `apiEndpoint`) */
	api: ApiEndpoint;
}

/** Graph: newer members of evolvable enums come back as themselves, not as `unknownFutureValue` (https://learn.microsoft.com/en-us/graph/best-practices-concept#handling-future-members-in-evolvable-enumerations). */
export const GRAPH_PREFER = 'include-unknown-enum-members';

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

/**
 * Validate the credential and the region for its cloud before any request is made. `api`: the API the session talks
 * to (default Defender for Endpoint; the Graph alert backend asks for 'graph', where a region does not apply).
 */
export async function openSession(
	ctx: DefenderContext,
	options: { itemIndex?: number; tenantId?: string; region?: string; api?: ApiName } = {},
): Promise<DefenderSession & { data: ICredentialDataDecryptedObject }> {
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
	let api: ApiEndpoint;
	try {
		api = apiEndpoint(credential.endpoints, options.api ?? 'defender', options.region);
	} catch (error) {
		if (error instanceof CloudConfigError) throw operationError(node, error.message, error.hint, options.itemIndex);
		throw new NodeOperationError(node, error as Error, { itemIndex: options.itemIndex });
	}
	return { credential, tenantId, apiBaseUrl: api.baseUrl, endpoints: credential.endpoints, api, data };
}

/** What messages call the session's API. */
function apiName(session: DefenderSession): string {
	return session.api?.api === 'graph' ? 'Microsoft Graph' : 'Defender';
}

/** The token n8n stored in the credential's expirable field ('' when none). */
function storedToken(session: { data: ICredentialDataDecryptedObject }): string {
	return typeof session.data.accessToken === 'string' ? session.data.accessToken : '';
}

/**
 * A token for the session's tenant (cached, single-flight, refreshed ahead of expiry by msal). A fresh process uses
 * the token n8n stored in the credential while it is valid for this tenant, instead of signing in again.
 */
export async function sessionToken(
	ctx: DefenderContext,
	session: DefenderSession & { data: ICredentialDataDecryptedObject },
	itemIndex?: number,
	rejectedToken?: string,
): Promise<string> {
	const http = tokenHttpFrom((opts) => ctx.helpers.httpRequest(opts), credentialOwnAllowedDomains(session.data));
	try {
		const token = await tokenBroker.acquire(tokenTarget(session.credential, session.tenantId, session.api.scope), http, { rejectedToken, storedToken: storedToken(session) || undefined });
		return token.accessToken;
	} catch (error) {
		throw tokenFailure(ctx.getNode(), error, session, itemIndex);
	}
}

type NodeApiErrorOptions = ConstructorParameters<typeof NodeApiError>[2];

/**
 * Sign-in failed; `tokenErrorKind` says why (invalidSecret, notConsented, …; see TokenErrorKind). `httpCode` is only
 * ever an HTTP status of the sign-in service; when there was no answer, `networkError` carries the cause.
 */
export class TokenFailureError extends NodeApiError {
	constructor(
		node: INode,
		readonly tokenErrorKind: TokenErrorKind,
		errorResponse: JsonObject,
		options: NodeApiErrorOptions,
		readonly networkError?: string,
	) {
		super(node, errorResponse, options);
		// NodeApiError falls back to any `code`-like property for httpCode; only an HTTP status belongs there.
		if (!options?.httpCode) this.httpCode = null;
	}
}

/** The API refused the token because it is for another API (its `aud`); `wrongAudience` is that audience. */
export class WrongAudienceError extends NodeApiError {
	constructor(
		node: INode,
		readonly wrongAudience: string,
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
	/** the network cause when no HTTP answer came (e.g. "connection refused"); httpCode stays for HTTP statuses */
	networkError?: string;
	/** the token's audience, when the API refused it as a token for another API */
	wrongAudience?: string;
}

export function failureFacts(error: unknown): FailureFacts {
	const info = describeFailure(error);
	const description = error instanceof NodeApiError || error instanceof NodeOperationError ? (error.description ?? undefined) : undefined;
	const networkError =
		error instanceof TokenFailureError ? error.networkError : info.status === undefined && info.transportCode ? describeTransportCode(info.transportCode) : undefined;
	const wrongAudience = (error as { wrongAudience?: unknown })?.wrongAudience;
	return {
		message: redact(error instanceof Error ? error.message : String(error)),
		...(description ? { description: redact(description) } : {}),
		...(info.status !== undefined ? { httpCode: info.status } : {}),
		...(error instanceof ThrottledError ? { retryAfterMs: error.retryAfterMs } : {}),
		...(error instanceof TokenFailureError ? { tokenErrorKind: error.tokenErrorKind } : {}),
		...(networkError ? { networkError } : {}),
		...(typeof wrongAudience === 'string' ? { wrongAudience } : {}),
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
		const status = error.details.status && error.details.status >= 100 ? String(error.details.status) : undefined;
		const networkError = !status && error.details.cause ? redact(error.details.cause) : undefined;
		return new TokenFailureError(
			node,
			error.kind,
			{ message: error.message, tokenErrorKind: error.kind, ...(status ? { status } : {}) } as JsonObject,
			{
				message: redact(error.message),
				description: redact(parts.join(' ')),
				httpCode: status,
				itemIndex,
			},
			networkError,
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
	const defender = errorBodyOf(body);
	const message = error instanceof Error ? error.message : String(error);
	return { status, headers, defender, transportCode, message };
}

/**
 * The `error` object of an API error body. Defender: `{code, message, target}` (target = correlation id); Graph:
 * `{code, message, innerError: {date, request-id, client-request-id}}` (https://learn.microsoft.com/en-us/graph/errors),
 * whose request-id becomes `target`.
 */
function errorBodyOf(body: unknown): FailureInfo['defender'] {
	let parsed = body;
	if (typeof parsed === 'string') {
		try {
			parsed = JSON.parse(parsed);
		} catch {
			/* not JSON */
		}
	}
	if (!parsed || typeof parsed !== 'object' || !('error' in (parsed as object))) return undefined;
	const e = (parsed as { error?: unknown }).error;
	if (!e || typeof e !== 'object') return undefined;
	const out = { ...(e as { code?: string; message?: string; target?: string }) };
	const inner = ((e as { innerError?: unknown; innererror?: unknown }).innerError ?? (e as { innererror?: unknown }).innererror) as Record<string, unknown> | undefined;
	if (typeof out.target !== 'string' && inner && typeof inner === 'object') {
		const requestId = inner['request-id'] ?? inner.requestId;
		if (typeof requestId === 'string') out.target = requestId;
	}
	return out;
}

/** A failed answer inside a Graph `$batch` response, as `describeFailure` would report it for a direct call. */
export function batchFailureInfo(status: number, headers: Record<string, unknown> | undefined, body: unknown): FailureInfo {
	const h = lowerHeaders(headers);
	const defender = errorBodyOf(body);
	return { status, headers: h, defender, message: defender?.message ?? `HTTP ${status}` };
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

/** Retry-After (seconds or an HTTP date) in ms; headers with lower-case names. */
export function retryAfterMs(headers: Record<string, string>): number | undefined {
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

/**
 * A 401/403 because the token is for another API: the API says so (its message or WWW-Authenticate header names the
 * audience), or the token's `aud` is another Microsoft API, or (403 without a roles message) neither the scope's
 * resource nor a Defender resource.
 */
function wrongAudience(info: FailureInfo, session: DefenderSession, token: string | undefined): AudienceProblem | undefined {
	if (info.status !== 401 && info.status !== 403) return undefined;
	const aud = decodeTokenClaims(token).aud;
	if (!aud) return undefined;
	const scope = session.api?.scope ?? session.endpoints.scope;
	const apiSays = apiSaysWrongAudience(info.defender?.message, info.headers['www-authenticate']);
	const known = wrongAudienceForApi(aud, scope, session.api?.api ?? 'defender');
	if (apiSays || known) return known ?? { audience: aud, api: otherApiName(aud) };
	const otherForDefender = session.api?.api !== 'graph' && !isDefenderResource(aud);
	if (info.status === 403 && !parseRequiredRoles(info.defender?.message) && otherForDefender && !audienceMatchesScope(aud, scope)) {
		return { audience: aud };
	}
	return undefined;
}

/** The NodeApiError for a failed answer (direct, or a Graph `$batch` sub-response), with the API's own name and advice. */
export function apiError(node: INode, info: FailureInfo, request: ApiRequest, session: DefenderSession, token: string | undefined): NodeApiError {
	const d = info.defender;
	const graph = session.api?.api === 'graph';
	const name = apiName(session);
	const scope = session.api?.scope ?? session.endpoints.scope;
	const correlation = d?.target ? ` ${graph ? 'Request ID' : 'Correlation ID'}: ${d.target}.` : '';
	const tenant = session.tenantId;
	const audience = wrongAudience(info, session, token);
	if (audience) {
		const said = d?.message ? ` ${name} answered: "${d.message}".` : '';
		const message = `${name} refused the token for tenant ${tenant} (HTTP ${info.status}): it was issued for another API, not for ${graph ? 'the Microsoft Graph Security API' : 'Defender for Endpoint'}`;
		return new WrongAudienceError(
			node,
			audience.audience,
			{ message: redact(message), code: d?.code ?? null, target: d?.target ?? null, status: info.status ?? null } as JsonObject,
			{
				message: redact(message),
				description: redact(`${wrongAudienceAdviceForScope(audience, scope, session.endpoints.cloud === 'custom', session.api?.api)}${said}${correlation}`),
				httpCode: String(info.status),
				itemIndex: request.itemIndex,
			},
		);
	}
	let message: string;
	let description: string;
	switch (info.status) {
		case 400:
			message = `${name} rejected the request (${d?.code ?? 'BadRequest'}): ${d?.message ?? info.message}`;
			description = 'Check the filter and field values of this item.';
			break;
		case 401:
			message = `${name} did not accept the access token for tenant ${tenant}, even after a fresh token was requested`;
			description = graph
				? 'The token was issued but Microsoft Graph refused it: check that the Cloud (and a custom Graph Token Scope) matches the tenant, and that the app is consented in this tenant.'
				: 'The token was issued but the API refused it: check that the Cloud and token scope match the tenant\'s Defender environment, and that the app is consented in this tenant.';
			break;
		case 403: {
			const roles = parseRequiredRoles(d?.message);
			const granted = decodeTokenClaims(token).roles ?? [];
			const needed = roles?.required.length ? roles.required : (request.requiredRoles ?? []);
			message = `The app lacks the permission for this operation in tenant ${tenant}${needed.length ? `: it needs ${needed.join(' or ')}` : ''}`;
			description = graph
				? `The Microsoft Graph token carries ${granted.length ? granted.join(', ') : 'no Microsoft Graph application permissions'}. In the app registration add the missing permission under API permissions → Microsoft Graph → Application permissions, then have an administrator of tenant ${tenant} consent again (every customer tenant must consent again after a permission is added: Tenant → Get Consent Link).`
				: `The token carries ${granted.length ? granted.join(', ') : 'no WindowsDefenderATP application permissions'}. In the app registration add the missing permission under API permissions → APIs my organization uses → WindowsDefenderATP → Application permissions, then grant admin consent in tenant ${tenant}.`;
			break;
		}
		case 404:
			message = request.notFoundMessage ?? `Not found in tenant ${tenant}: ${d?.message ?? 'the resource does not exist'}`;
			description = graph ? 'Check the ID (on Microsoft Graph: the alert\'s "id") and the tenant.' : 'Check the ID, the tenant and the region.';
			break;
		case 429:
			message = `${name} is throttling requests for tenant ${tenant}`;
			description = 'Retry later.';
			break;
		default:
			if (info.status && info.status >= 500) {
				message = `${name} had an internal failure (HTTP ${info.status}${d?.code ? `, ${d.code}` : ''})`;
				description = request.idempotent
					? `It persisted after ${MAX_5XX_RETRIES} retries; try again later.`
					: 'The request changes data and was not repeated automatically; check the alert before retrying.';
			} else if (info.transportCode) {
				message = `Could not reach ${name} at ${session.apiBaseUrl} (${describeTransportCode(info.transportCode)})`;
				description = graph
					? 'Check the network path or proxy from n8n, and (custom clouds) the Graph Base URL.'
					: 'Check the region, the network path or proxy from n8n, and (custom clouds) the API Base URL.';
			} else {
				message = `${name} request failed: ${info.message}`;
				description = 'See the details for the response.';
			}
	}
	return new NodeApiError(
		node,
		// apiMessage / transportCode: the API's own words and the network cause, for callers that name failures themselves (backend/hunting.ts)
		{ message: redact(message), code: d?.code ?? null, target: d?.target ?? null, status: info.status ?? null, apiMessage: d?.message ? redact(d.message) : null, transportCode: info.transportCode ?? null } as JsonObject,
		{
			message: redact(message),
			description: redact(`${description}${correlation}`),
			httpCode: info.status ? String(info.status) : undefined,
			itemIndex: request.itemIndex,
		},
	);
}

export function throttledError(node: INode, request: ApiRequest, session: DefenderSession, waitMs: number, info?: FailureInfo): NodeApiError {
	const retryAt = new Date(Date.now() + waitMs).toISOString();
	return new ThrottledError(
		node,
		waitMs,
		{ message: 'TooManyRequests', code: 'TooManyRequests', target: info?.defender?.target ?? null } as JsonObject,
		{
			message: `${apiName(session)} is throttling ${request.endpointClass} requests for tenant ${session.tenantId}; retry after ${formatDuration(waitMs)} (${retryAt})`,
			description: `The documented budget for this endpoint is per app and tenant. The wait exceeds the node's maximum throttle wait; raise "Max Throttle Wait" or run fewer items per minute.${info?.defender?.target ? ` Correlation ID: ${info.defender.target}.` : ''}`,
			httpCode: '429',
			itemIndex: request.itemIndex,
		},
	);
}

/**
 * n8n stores the credential's token only from `preAuthentication`, which it calls when the stored token is empty
 * (or after a 401). When this process had to sign in although a token is stored (it had expired, or belonged to an
 * older sign-in), hand n8n the credential with an empty token field: n8n then calls `preAuthentication`, which returns
 * the token just obtained, and persists it, so the next process can use it instead of signing in. Only for the
 * credential's own tenant (per-item customer tenants are not stored by n8n).
 */
function persistOptions(ctx: DefenderContext, session: DefenderSession & { data: ICredentialDataDecryptedObject }, token: string): IAdditionalCredentialOptions | undefined {
	const stored = storedToken(session);
	if (!stored || stored === token || session.tenantId !== session.credential.tenantId) return undefined;
	const details = ctx.getNode().credentials?.[CREDENTIAL_TYPE];
	if (!details?.id) return undefined;
	// once per credential and token in this process, however many items read the credential before n8n wrote it
	const key = `${details.id}|${createHash('sha256').update(token).digest('hex')}`;
	if (persistedTokens.has(key)) return undefined;
	persistedTokens.add(key);
	while (persistedTokens.size > 1000) {
		const oldest = persistedTokens.values().next().value;
		if (oldest === undefined) break;
		persistedTokens.delete(oldest);
	}
	return { credentialsDecrypted: { id: details.id, name: details.name, type: CREDENTIAL_TYPE, data: { ...session.data, accessToken: '' } } };
}

/** (credential id, token hash) pairs handed to n8n to store (see persistOptions); bounded. */
const persistedTokens = new Set<string>();

/**
 * The body of a `returnFullResponse` answer, recording its Date header in the server clock. Anything that is not a
 * full response (a test double, an older n8n) is taken as the body itself.
 */
function bodyOfFullResponse(result: unknown, url: string): unknown {
	if (result && typeof result === 'object' && 'statusCode' in result && 'headers' in result && 'body' in result) {
		const full = result as { body: unknown; headers: unknown };
		serverClock.record(url, lowerHeaders(full.headers).date);
		return full.body;
	}
	return result;
}

export function pacingKey(clientId: string, tenantGuid: string, endpointClass: EndpointClass): string {
	return `${clientId.toLowerCase()}|${tenantGuid.toLowerCase()}|${endpointClass}`;
}

/**
 * The API throttled part of a call that itself succeeded (a Graph `$batch` whose sub-requests answered 429 with their
 * own Retry-After): hold every request of this app, tenant and endpoint class for `ms`, as a 429 of a direct call does.
 */
export async function holdPacing(ctx: DefenderContext, session: DefenderSession & { data: ICredentialDataDecryptedObject }, endpointClass: EndpointClass, ms: number, itemIndex?: number): Promise<void> {
	const token = await sessionToken(ctx, session, itemIndex);
	const tid = decodeTokenClaims(token).tid ?? session.tenantId;
	pacer.blockFor(pacingKey(session.credential.clientId, tid, endpointClass), ms);
}

/** `/api/a/b` (Defender) or `/v1.0/a/b` (Graph); segments are URL-encoded, a leading `$` (Graph's `$batch`) is kept. */
export function apiPath(segments: string[], prefix: '/api' | '/v1.0' = '/api'): string {
	return `${prefix}/${segments.map((s) => encodeURIComponent(s).replace(/^%24/, '$')).join('/')}`;
}

/**
 * Whether `link` (an absolute URL the API returned, e.g. `@odata.nextLink`) is on the session API's own origin, exactly
 * (scheme, host and port), and under its path prefix. Only such a link is ever sent with the token.
 */
export function isOwnApiUrl(session: Pick<DefenderSession, 'api'>, link: string): boolean {
	let url: URL;
	let base: URL;
	try {
		url = new URL(link);
		base = new URL(session.api.baseUrl);
	} catch {
		return false;
	}
	if (url.origin !== base.origin || url.username || url.password) return false;
	const prefix = `${base.pathname.replace(/\/+$/, '')}${session.api.pathPrefix}/`;
	return url.pathname.startsWith(prefix);
}

/**
 * Send one API request (Defender for Endpoint or, for a Graph session, Microsoft Graph) with pacing, token, bounded
 * retries and error mapping. Returns the parsed body (undefined for empty bodies).
 */
export async function defenderRequest<T = unknown>(ctx: DefenderContext, request: ApiRequest, session: DefenderSession & { data: ICredentialDataDecryptedObject }): Promise<T> {
	const node = ctx.getNode();
	const graph = session.api.api === 'graph';
	if (request.url !== undefined && !isOwnApiUrl(session, request.url)) {
		let where = 'an unparsable address';
		try {
			where = new URL(request.url).origin;
		} catch {
			/* keep */
		}
		throw new NodeOperationError(node, `${apiName(session)} returned a next-page link to ${where}, not to ${new URL(session.api.baseUrl).origin}; it was not followed`, {
			description: 'The access token is only ever sent to the API\'s own origin. The items read so far are not returned; run the node again, and report this if it repeats.',
			itemIndex: request.itemIndex,
		});
	}
	const url = request.url ?? `${session.apiBaseUrl}${apiPath(request.path, session.api.pathPrefix)}`;
	const units = Math.max(1, Math.floor(request.paceUnits ?? 1));
	const maxWait = request.maxThrottleWaitMs ?? DEFAULT_MAX_THROTTLE_WAIT_MS;
	let throttleWaited = 0;
	let serverErrors = 0;
	let throttles = 0;

	// Budgets are per app + tenant: key them by the token's tenant GUID, so a tenant named by its domain in one item
	// and by its GUID in the next shares one budget (the token itself is cached; this costs no request).
	let token = await sessionToken(ctx, session, request.itemIndex);
	const claims = decodeTokenClaims(token);
	// A token that is surely for another API (e.g. a custom Token Scope of Microsoft Graph) is not sent: the answer
	// would be a 403 that reads like a missing permission.
	const foreign = wrongAudienceForApi(claims.aud, session.api.scope, session.api.api);
	if (foreign) {
		const message = `The access token for tenant ${session.tenantId} is for ${foreign.api ?? 'another API'}, not for ${graph ? 'the Microsoft Graph Security API' : 'Defender for Endpoint'}`;
		throw new WrongAudienceError(node, foreign.audience, { message } as JsonObject, {
			message,
			description: wrongAudienceAdviceForScope(foreign, session.api.scope, session.endpoints.cloud === 'custom', session.api.api),
			itemIndex: request.itemIndex,
		});
	}
	const tid = claims.tid ?? session.tenantId;
	const paceKey = pacingKey(session.credential.clientId, tid, request.endpointClass);
	// The first attempt sends that token; later attempts (after pacing, a 429 or a backoff) fetch it again, since it
	// may have been renewed meanwhile.
	let refetchToken = false;

	for (;;) {
		// `units` slots of the budget (one per sub-request of a Graph $batch), each waited for like a single call.
		for (let paced = 0; paced < units; ) {
			const delay = pacer.delayFor(paceKey, request.endpointClass);
			if (delay > 0) {
				if (throttleWaited + delay > maxWait) throw throttledError(node, request, session, delay);
				throttleWaited += delay;
				await sleep(delay);
				refetchToken = true;
				continue;
			}
			pacer.record(paceKey, request.endpointClass);
			paced += 1;
		}

		if (refetchToken) token = await sessionToken(ctx, session, request.itemIndex);
		refetchToken = true; // any further attempt follows a wait or a failed send
		// The credential's preAuthentication reads the scope: after a 401 it replaces the token of THIS API.
		const scope = { tenantId: session.tenantId, token, scope: session.api.scope };
		const options: IHttpRequestOptions = {
			method: request.method,
			url,
			qs: request.url === undefined ? request.qs : undefined,
			body: request.body,
			json: true,
			headers: {
				'User-Agent': USER_AGENT,
				Accept: 'application/json',
				...(request.body ? { 'Content-Type': 'application/json' } : {}),
				...(graph ? { Prefer: GRAPH_PREFER } : {}),
				...(request.headers ?? {}),
			},
			disableFollowRedirect: true,
			sendCredentialsOnCrossOriginRedirect: false,
			timeout: request.timeoutMs ?? REQUEST_TIMEOUT_MS,
			// Internal only: the headers give the API's clock (Date, transport/serverClock.ts); callers get the body.
			returnFullResponse: true,
		};
		const persist = persistOptions(ctx, session, token);
		try {
			const result = await requestScope.run(scope, async () => await ctx.helpers.httpRequestWithAuthentication.call(ctx, CREDENTIAL_TYPE, options, persist));
			// n8n has now stored the token that was sent (see persistOptions): later calls of this session need not.
			if (persist) session.data.accessToken = scope.token ?? token;
			const body = bodyOfFullResponse(result, url);
			return (body === '' ? undefined : body) as T;
		} catch (error) {
			const info = describeFailure(error);
			serverClock.record(url, info.headers.date);
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
