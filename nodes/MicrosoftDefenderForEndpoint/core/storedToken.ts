/**
 * Whether the access token n8n stored in the credential (its expirable `accessToken` field, persisted by n8n after
 * `preAuthentication`) may be sent instead of signing in again. A new n8n process (every `n8n execute`, every
 * queue-mode worker) starts with an empty token cache; using a still-valid stored token keeps it to one sign-in per
 * tenant per token lifetime. The token is only read, never verified: the API verifies it, and a 401 replaces it.
 * No n8n types.
 */
import { audienceMatchesScope } from './audience';
import { isGuid } from './ids';

/** msal renews its own tokens 300 s before expiry (DEFAULT_TOKEN_RENEWAL_OFFSET_SEC); a stored token gets the same margin. */
export const STORED_TOKEN_MARGIN_MS = 300_000;

export interface StoredTokenClaims {
	tid?: string;
	aud?: string;
	appid?: string;
	azp?: string;
	exp?: number;
	nbf?: number;
}

export function readStoredTokenClaims(token: string): StoredTokenClaims | undefined {
	const parts = token.split('.');
	if (parts.length !== 3 || !parts[0].startsWith('eyJ')) return undefined;
	try {
		const claims = JSON.parse(Buffer.from(parts[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
		const str = (k: string) => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
		const num = (k: string) => (typeof claims[k] === 'number' ? (claims[k] as number) : undefined);
		return { tid: str('tid'), aud: str('aud'), appid: str('appid'), azp: str('azp'), exp: num('exp'), nbf: num('nbf') };
	} catch {
		return undefined;
	}
}

export interface StoredTokenTarget {
	/** tenant asked for: a GUID, or a domain */
	tenantId: string;
	/** the GUID a domain tenant is known to belong to (learned from an earlier token in this process) */
	tenantGuid?: string;
	clientId: string;
	scope: string;
}

export type StoredTokenVerdict = { usable: true; expiresOnMs: number } | { usable: false; reason: 'malformed' | 'expired' | 'notYetValid' | 'otherTenant' | 'unknownTenant' | 'otherAudience' | 'otherApp' };

export function judgeStoredToken(token: string, target: StoredTokenTarget, nowMs: number = Date.now()): StoredTokenVerdict {
	const claims = readStoredTokenClaims(token);
	if (!claims || claims.exp === undefined) return { usable: false, reason: 'malformed' };
	const expiresOnMs = claims.exp * 1000;
	if (nowMs + STORED_TOKEN_MARGIN_MS >= expiresOnMs) return { usable: false, reason: 'expired' };
	if (claims.nbf !== undefined && claims.nbf * 1000 > nowMs + STORED_TOKEN_MARGIN_MS) return { usable: false, reason: 'notYetValid' };
	const tid = (claims.tid ?? '').toLowerCase();
	const wanted = target.tenantId.toLowerCase();
	const guid = isGuid(wanted) ? wanted : target.tenantGuid?.toLowerCase();
	if (!guid) return { usable: false, reason: 'unknownTenant' };
	if (tid !== guid) return { usable: false, reason: 'otherTenant' };
	if (!audienceMatchesScope(claims.aud, target.scope)) return { usable: false, reason: 'otherAudience' };
	const app = (claims.appid ?? claims.azp ?? '').toLowerCase();
	if (app !== target.clientId.toLowerCase()) return { usable: false, reason: 'otherApp' };
	return { usable: true, expiresOnMs };
}
