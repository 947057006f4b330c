/**
 * Last line of defence: no secret or bearer token may reach an error message, a log line or an output item.
 * Known secrets are registered by the token layer; JWT-shaped strings and Authorization headers are masked too.
 */
const knownSecrets = new Set<string>();
const MAX_KNOWN = 1000;

export function registerSecret(value: string | undefined): void {
	if (!value || value.length < 6) return;
	if (knownSecrets.size >= MAX_KNOWN) {
		const first = knownSecrets.values().next().value;
		if (first !== undefined) knownSecrets.delete(first);
	}
	knownSecrets.add(value);
}

const JWT_RE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER_RE = /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const SECRET_PARAM_RE = /(client_secret=)[^&\s"']+/gi;

export function redact(text: string): string {
	let out = text.replace(JWT_RE, '[redacted token]').replace(BEARER_RE, '$1[redacted]').replace(SECRET_PARAM_RE, '$1[redacted]');
	for (const secret of knownSecrets) {
		if (out.includes(secret)) out = out.split(secret).join('[redacted secret]');
	}
	return out;
}

/** Deep-redact every string in a JSON-like value (used on error contexts and bodies we surface). */
export function redactDeep<T>(value: T, depth = 0): T {
	if (depth > 8) return value;
	if (typeof value === 'string') return redact(value) as unknown as T;
	if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1)) as unknown as T;
	if (value && typeof value === 'object') {
		const out: Record<string, unknown> = {};
		for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
			if (/^(authorization|client_secret|clientSecret|accessToken|access_token|password)$/i.test(k)) {
				out[k] = '[redacted]';
			} else {
				out[k] = redactDeep(v, depth + 1);
			}
		}
		return out as T;
	}
	return value;
}
