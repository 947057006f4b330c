/** Read the claims of an access token without verifying it (the API verifies; we only explain its contents). */
export interface TokenClaims {
	tid?: string;
	aud?: string;
	appid?: string;
	roles?: string[];
	exp?: number;
}

export function decodeTokenClaims(token: string | undefined): TokenClaims {
	if (!token) return {};
	const parts = token.split('.');
	if (parts.length < 2) return {};
	try {
		const json = Buffer.from(parts[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
		const claims = JSON.parse(json) as Record<string, unknown>;
		return {
			tid: typeof claims.tid === 'string' ? claims.tid : undefined,
			aud: typeof claims.aud === 'string' ? claims.aud : undefined,
			appid: typeof claims.appid === 'string' ? claims.appid : undefined,
			roles: Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [],
			exp: typeof claims.exp === 'number' ? claims.exp : undefined,
		};
	} catch {
		return {};
	}
}
