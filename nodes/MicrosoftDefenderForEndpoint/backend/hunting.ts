/**
 * Advanced hunting through Microsoft Graph: `POST /v1.0/security/runHuntingQuery`
 * (https://learn.microsoft.com/en-us/graph/api/security-security-runhuntingquery). Always a Microsoft Graph session
 * (the cloud's Graph host and token scope) with the credential's app, whatever its Alerts API: the Defender for
 * Endpoint API's advanced hunting (`/api/advancedqueries/run`) is retired (MC1220762) and is not used.
 *
 * Says WHAT the call is; `defenderRequest` paces it under the `hunting` class (45 calls per minute per app and tenant,
 * the documented budget), waits out a 429 up to Max Throttle Wait and maps the common failures. This module adds what
 * is specific to hunting:
 * - Retries: a hunting query only reads, so sending it again is safe. It is sent again (at most twice, with backoff)
 *   when no answer came (connection reset, refused, DNS) or on 502/503. It is not sent again after a timeout (the
 *   service's, or ours after HUNTING_REQUEST_TIMEOUT_MS) or a 500/504: the same query would most likely run as long
 *   again, and the tenant's CPU quota pays for every run.
 * - Failures named by their limit (row limit, ~3-minute timeout, CPU quota, KQL errors), each with a next step
 *   (limits: https://learn.microsoft.com/en-us/graph/api/resources/security-api-overview,
 *   https://learn.microsoft.com/en-us/defender-xdr/api-advanced-hunting).
 */
import type { ICredentialDataDecryptedObject, IDataObject, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError, sleep } from 'n8n-workflow';

import { HUNTING_LIMITS, type HuntingFailureKind, huntingFailureKind, HuntingResponseError, type HuntingResult, readHuntingResponse } from '../core/hunting';
import { isGuid } from '../core/ids';
import { decodeTokenClaims } from '../core/jwt';
import { redact } from '../core/redact';
import { GRAPH_HUNTING_ROLES } from '../helpers/permissions';
import { processSettings } from '../transport/processState';
import { type DefenderContext, type DefenderSession, defenderRequest, describeFailure, openSession, sessionToken, ThrottledError } from '../transport/request';
import { addHints } from './hints';
import { type BackendTarget, validatedTarget } from './index';

/** Client timeout of one hunting call: above the service's own ~3 minutes, so its answer (not our abort) says why. */
export const HUNTING_REQUEST_TIMEOUT_MS = 200_000;
/** Sends after the first when no answer came (connection lost) or on 502/503. */
const MAX_RESENDS = 2;
const RESEND_TRANSPORT = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ERR_SOCKET_CONNECTION_TIMEOUT']);
/** Our own client timeout (axios): the query ran past the limit; not sent again. */
const CLIENT_TIMEOUT = new Set(['ECONNABORTED']);

const LIMITS_DOC = 'https://learn.microsoft.com/en-us/defender-xdr/api-advanced-hunting';

export interface HuntingRun extends HuntingResult {
	/** the result has exactly the row limit: the service may have cut it off (it does not say so in every case) */
	rowLimitReached: boolean;
}

export interface HuntingBackend {
	readonly name: 'graph';
	/** tenant the calls go to (GUID or domain, as configured) */
	readonly tenantId: string;
	/** the tenant GUID for output (from the token when the tenant was given by domain; no request) */
	outputTenantId(): Promise<string>;
	/** run one KQL query; `timespan` as validated by core/hunting parseTimespan (undefined: the service's 30 days) */
	runQuery(query: string, timespan?: string): Promise<HuntingRun>;
}

type Session = DefenderSession & { data: ICredentialDataDecryptedObject };

function apiFailure(node: INode, itemIndex: number | undefined, message: string, description: string, status: number | undefined, code: string | undefined, requestId: string | undefined): NodeApiError {
	const tail = requestId ? ` Request ID: ${requestId}.` : '';
	return new NodeApiError(
		node,
		{ message: redact(message), code: code ?? null, target: requestId ?? null, status: status ?? null } as JsonObject,
		{ message: redact(message), description: redact(`${description}${tail}`), httpCode: status ? String(status) : undefined, itemIndex },
	);
}

interface Failure {
	status?: number;
	transportCode?: string;
	/** the service's own message (Graph's error.message) */
	apiMessage?: string;
	code?: string;
	requestId?: string;
	message: string;
}

/** What failed, from the transport's error (its errorResponse keeps the API's message and the network cause). */
function failureOf(error: unknown): Failure {
	const info = describeFailure(error);
	const response = ((error as { errorResponse?: unknown })?.errorResponse ?? {}) as Record<string, unknown>;
	const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
	return {
		status: info.status,
		transportCode: info.transportCode ?? text(response.transportCode),
		apiMessage: info.defender?.message ?? text(response.apiMessage),
		code: info.defender?.code ?? text(response.code),
		requestId: info.defender?.target ?? text(response.target),
		message: info.message,
	};
}

/** The node error for a failed hunting call: the limit it hit with a next step, or the transport's own error. */
export function huntingError(node: INode, itemIndex: number | undefined, tenant: string, error: unknown): NodeApiError | NodeOperationError {
	if (error instanceof ThrottledError) {
		error.description = redact(
			`${error.description ?? ''} Advanced hunting allows ${HUNTING_LIMITS.callsPerMinute} calls per minute per tenant and a CPU quota per tenant shared with every app and portal user (${LIMITS_DOC}); the node paces its own calls under the first.`.trim(),
		);
		return error;
	}
	const info = failureOf(error);
	const graphMessage = info.apiMessage;
	const kind: HuntingFailureKind | undefined =
		info.status === undefined && info.transportCode && CLIENT_TIMEOUT.has(info.transportCode) ? 'timeout' : huntingFailureKind(info.status, graphMessage);
	const said = graphMessage ? `: ${graphMessage}` : '';
	const code = info.code;
	const requestId = info.requestId;
	switch (kind) {
		case 'cpuQuota':
			return apiFailure(
				node,
				itemIndex,
				`Advanced hunting's CPU quota is used up in tenant ${tenant}${said}`,
				`The quota is per tenant and shared with every app and portal user; it frees up over time. Run the query later, make it cheaper (filter on Timestamp first, fewer joins and columns, a shorter Timespan), or spread queries over time (${LIMITS_DOC}).`,
				info.status,
				code,
				requestId,
			);
		case 'rowLimit':
			return apiFailure(
				node,
				itemIndex,
				`The hunting query's result is too large in tenant ${tenant} (at most ${HUNTING_LIMITS.maxRows.toLocaleString('en-US')} rows)${said}`,
				'Narrow it: a where on Timestamp or a shorter Timespan, fewer columns (project), summarize, or take/limit N.',
				info.status,
				code,
				requestId,
			);
		case 'timeout':
			return apiFailure(
				node,
				itemIndex,
				`The hunting query ran too long in tenant ${tenant} (advanced hunting cancels a query after about ${HUNTING_LIMITS.queryTimeoutMs / 60_000} minutes)${said || (info.status === undefined ? ': no answer within the time allowed' : '')}`,
				`It was not sent again (it would most likely run as long again). Make it cheaper: filter on Timestamp first, a shorter Timespan, fewer joins, has instead of contains (${LIMITS_DOC}).`,
				info.status,
				code,
				requestId,
			);
		case 'query':
			return apiFailure(
				node,
				itemIndex,
				`Microsoft Graph rejected the hunting query${code ? ` (${code})` : ''}${said || `: ${info.message}`}`,
				'Fix the KQL and run again: table and column names are case-sensitive (https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-schema-tables). The query was not sent again.',
				info.status,
				code,
				requestId,
			);
		default:
			if (info.status !== undefined && info.status >= 500) {
				return apiFailure(
					node,
					itemIndex,
					`Microsoft Graph failed to run the hunting query (HTTP ${info.status}${code ? `, ${code}` : ''})${said}`,
					info.status === 502 || info.status === 503
						? `It persisted after ${MAX_RESENDS} more attempts (a hunting query only reads, so it is safe to send again); try again later.`
						: 'It was not sent again automatically (a server failure on a long query would most likely repeat); try again later or make the query cheaper.',
					info.status,
					code,
					requestId,
				);
			}
			if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
			return new NodeOperationError(node, redact(error instanceof Error ? error.message : String(error)), { itemIndex });
	}
}

/** Whether a failed send may be repeated: no answer came, or 502/503 (the query only reads). */
function resendable(error: unknown): boolean {
	if (error instanceof ThrottledError) return false;
	const info = failureOf(error);
	if (info.status === 502 || info.status === 503) return true;
	return info.status === undefined && info.transportCode !== undefined && RESEND_TRANSPORT.has(info.transportCode);
}

/** The hunting backend of one tenant (validates region and tenant like every backend factory). */
export async function huntingBackendFor(ctx: DefenderContext, target: BackendTarget): Promise<HuntingBackend> {
	const options = validatedTarget(ctx, target);
	const node = ctx.getNode();
	const itemIndex = options.itemIndex;
	// Graph has one host per cloud: the Region does not apply (the parameter is hidden for this resource).
	const session: Session = await openSession(ctx, { itemIndex, tenantId: options.tenantId, api: 'graph' });

	return {
		name: 'graph',
		tenantId: session.tenantId,

		async outputTenantId(): Promise<string> {
			if (isGuid(session.tenantId)) return session.tenantId.toLowerCase();
			const claims = decodeTokenClaims(await sessionToken(ctx, session, itemIndex));
			return claims.tid && isGuid(claims.tid) ? claims.tid.toLowerCase() : session.tenantId;
		},

		async runQuery(query: string, timespan?: string): Promise<HuntingRun> {
			const body: IDataObject = { Query: query };
			if (timespan !== undefined) body.Timespan = timespan;
			let raw: unknown;
			for (let attempt = 0; ; attempt++) {
				try {
					raw = await defenderRequest(
						ctx,
						{
							method: 'POST',
							path: ['security', 'runHuntingQuery'],
							body,
							endpointClass: 'hunting',
							// Read-only, but resent here only for lost answers and 502/503 (see the header), not by the transport.
							idempotent: false,
							itemIndex,
							maxThrottleWaitMs: options.maxThrottleWaitMs,
							timeoutMs: HUNTING_REQUEST_TIMEOUT_MS,
							requiredRoles: GRAPH_HUNTING_ROLES,
						},
						session,
					);
					break;
				} catch (error) {
					if (attempt < MAX_RESENDS && resendable(error)) {
						const base = processSettings.retryBackoffBaseMs;
						await sleep(base * 2 ** attempt + Math.floor(Math.random() * base * 0.2));
						continue;
					}
					throw huntingError(node, itemIndex, session.tenantId, error);
				}
			}
			let result: HuntingResult;
			try {
				result = readHuntingResponse(raw);
			} catch (error) {
				if (error instanceof HuntingResponseError) {
					throw new NodeOperationError(node, error.message, {
						itemIndex,
						description: 'The answer did not have the documented shape ({schema, results}). Run the node again; report this if it repeats.',
					});
				}
				throw new NodeOperationError(node, error as Error, { itemIndex });
			}
			const rowLimitReached = result.results.length >= HUNTING_LIMITS.maxRows;
			if (rowLimitReached) {
				addHints(ctx, [
					`A hunting query returned ${result.results.length.toLocaleString('en-US')} rows in tenant ${session.tenantId}, advanced hunting's maximum: the result may be cut off. Narrow the query (Timestamp filter, shorter Timespan, summarize) to be sure to see every row.`,
				]);
			}
			return { ...result, rowLimitReached };
		},
	};
}
