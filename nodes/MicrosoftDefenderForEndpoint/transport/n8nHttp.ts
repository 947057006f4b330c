/** Adapts an n8n HTTP helper (`this.helpers.httpRequest`) to the token layer's small HTTP interface. */
import * as workflow from 'n8n-workflow';
import type { ICredentialDataDecryptedObject, IHttpRequestOptions } from 'n8n-workflow';

import type { TokenHttp, TokenHttpResponse } from './tokens';

type HttpRequestHelper = (options: IHttpRequestOptions) => Promise<unknown>;

interface FullResponse {
	body?: unknown;
	headers?: Record<string, unknown>;
	statusCode?: number;
}

function bodyToString(body: unknown): string {
	if (body === undefined || body === null) return '';
	if (typeof body === 'string') return body;
	if (Buffer.isBuffer(body)) return body.toString('utf8');
	return JSON.stringify(body);
}

function headersToRecord(headers: Record<string, unknown> | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(headers ?? {})) {
		if (v !== undefined && v !== null) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
	}
	return out;
}

/**
 * The allowed-domains list a credential sets for its own authentication requests (n8n ≥ 2.41). n8n applies it
 * itself inside `preAuthentication`; when the transport fetches a token proactively it applies the same rule.
 * Older n8n versions have no such restriction (the function does not exist there).
 */
export function credentialOwnAllowedDomains(data: ICredentialDataDecryptedObject): string | undefined {
	const fn = (workflow as unknown as { getCredentialOwnRequestAllowedDomains?: (d: ICredentialDataDecryptedObject) => string | undefined })
		.getCredentialOwnRequestAllowedDomains;
	return typeof fn === 'function' ? fn(data) : undefined;
}

export function tokenHttpFrom(httpRequest: HttpRequestHelper, allowedDomains?: string): TokenHttp {
	return async (request) => {
		const options: IHttpRequestOptions = {
			method: request.method,
			url: request.url,
			headers: request.headers,
			body: request.body,
			timeout: request.timeout,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			encoding: 'text',
			json: false,
			disableFollowRedirect: true,
			...(allowedDomains !== undefined ? { allowedDomains } : {}),
		};
		const raw = (await httpRequest(options)) as FullResponse;
		const response: TokenHttpResponse = {
			status: raw.statusCode ?? 0,
			headers: headersToRecord(raw.headers),
			body: bodyToString(raw.body),
		};
		return response;
	};
}
