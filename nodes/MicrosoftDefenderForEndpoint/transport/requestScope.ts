import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-request context shared between the transport and the credential's `preAuthentication`/`authenticate`
 * hooks, which n8n calls in the middle of `httpRequestWithAuthentication` without a way to pass arguments.
 *
 * - `tenantId`: the tenant this request is for (the credential's, or a per-item customer tenant override).
 * - `token`: the token the transport obtained for that tenant; `authenticate` sends it, and when n8n calls
 *   `preAuthentication` after a 401 it is the token the API rejected, so exactly that one gets replaced.
 * - `scope`: the token scope of the API this request goes to (Defender for Endpoint or Microsoft Graph): the
 *   credential asks the broker for a token of THAT scope, so a 401 from Graph refreshes the Graph token. Absent:
 *   the scope of the credential's Alerts API (what n8n's credential Test button sends to).
 */
export interface RequestScope {
	tenantId: string;
	token?: string;
	scope?: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
