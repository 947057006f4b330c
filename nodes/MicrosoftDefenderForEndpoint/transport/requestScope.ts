import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-request context shared between the transport and the credential's `preAuthentication`/`authenticate`
 * hooks, which n8n calls in the middle of `httpRequestWithAuthentication` without a way to pass arguments.
 *
 * - `tenantId`: the tenant this request is for (the credential's, or a per-item customer tenant override).
 * - `token`: the token the transport obtained for that tenant; `authenticate` sends it, and when n8n calls
 *   `preAuthentication` after a 401 it is the token the API rejected, so exactly that one gets replaced.
 */
export interface RequestScope {
	tenantId: string;
	token?: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
