/** Identifier shapes shared by the credential, the transport and the output (one definition each). No n8n types. */
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID in its 8-4-4-4-12 hex form (tenant IDs, application IDs, and a pasted Secret ID). */
export function isGuid(value: unknown): boolean {
	return typeof value === 'string' && GUID_RE.test(value);
}
