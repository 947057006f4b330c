import { randomUUID } from 'node:crypto';

/** What a route handler hands back; the server applies latency, logging and writes it. */
export interface Reply {
	status: number;
	headers: Record<string, string>;
	body?: string;
	/** Destroy the socket instead of answering. */
	reset?: boolean;
	/** For the request log. */
	errorCode?: string;
	aadsts?: number;
}

export const ODATA_JSON = 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
export const PLAIN_JSON = 'application/json; charset=utf-8';

export function guid(): string {
	return randomUUID();
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
	return { status, headers: { 'content-type': PLAIN_JSON, ...headers }, body: JSON.stringify(value) };
}

export function odataReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
	return {
		status,
		headers: { 'content-type': ODATA_JSON, 'odata-version': '4.0', ...headers },
		body: JSON.stringify(value),
	};
}

/** Defender error envelope `{"error":{"code","message","target"}}` with a fresh GUID target. */
export function apiError(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
	const target = guid();
	const reply = jsonReply(status, { error: { code, message, target } }, { 'request-id': target, ...headers });
	reply.errorCode = code;
	return reply;
}

export function defaultApiCode(status: number): string {
	switch (status) {
		case 400:
			return 'BadRequest';
		case 401:
			return 'Unauthorized';
		case 403:
			return 'Forbidden';
		case 404:
			return 'NotFound';
		case 405:
			return 'MethodNotAllowed';
		case 409:
			return 'Conflict';
		case 429:
			return 'TooManyRequests';
		case 503:
			return 'ServiceUnavailable';
		default:
			return status >= 500 ? 'InternalServerError' : 'BadRequest';
	}
}

export function defaultApiMessage(status: number): string {
	switch (status) {
		case 429:
			return 'API call quota exceeded. Quota reached either by number of requests or by CPU. Retry in a few seconds.';
		case 500:
			return 'An internal error occurred. Please retry the request.';
		case 502:
			return 'Bad gateway.';
		case 503:
			return 'The service is temporarily unavailable. Please retry the request.';
		case 504:
			return 'The request timed out.';
		default:
			return `Request failed with status ${status}.`;
	}
}

export function queryToObject(params: URLSearchParams): Record<string, string | string[]> {
	const out: Record<string, string | string[]> = {};
	for (const [key, value] of params) {
		const existing = out[key];
		if (existing === undefined) out[key] = value;
		else if (Array.isArray(existing)) existing.push(value);
		else out[key] = [existing, value];
	}
	return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
