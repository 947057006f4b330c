/** Builds the OData `$filter` for Get Many from already validated values. No n8n types inside. */

/** OData string literal: single quotes doubled (`O'Brien` → `'O''Brien'`). */
export function odataString(value: string): string {
	return `'${value.replace(/'/g, "''")}'`;
}

export interface AlertFilterValues {
	status?: string[];
	severity?: string[];
	category?: string[];
	detectionSource?: string[];
	assignedTo?: string;
	incidentId?: number;
	investigationId?: number;
	/** canonical 7-digit UTC timestamps */
	createdAfter?: string;
	createdBefore?: string;
	updatedAfter?: string;
	updatedBefore?: string;
	/** user-written OData, ANDed in parentheses */
	raw?: string;
}

function anyOf(field: string, values: string[] | undefined): string | undefined {
	if (!values || values.length === 0) return undefined;
	const parts = values.map((v) => `${field} eq ${odataString(v)}`);
	return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
}

export function buildAlertFilter(f: AlertFilterValues): string | undefined {
	const clauses = [
		anyOf('status', f.status),
		anyOf('severity', f.severity),
		anyOf('category', f.category),
		anyOf('detectionSource', f.detectionSource),
		f.assignedTo !== undefined ? `assignedTo eq ${odataString(f.assignedTo)}` : undefined,
		f.incidentId !== undefined ? `incidentId eq ${f.incidentId}` : undefined,
		f.investigationId !== undefined ? `investigationId eq ${f.investigationId}` : undefined,
		f.createdAfter ? `alertCreationTime ge ${f.createdAfter}` : undefined,
		f.createdBefore ? `alertCreationTime lt ${f.createdBefore}` : undefined,
		f.updatedAfter ? `lastUpdateTime ge ${f.updatedAfter}` : undefined,
		f.updatedBefore ? `lastUpdateTime lt ${f.updatedBefore}` : undefined,
		f.raw && f.raw.trim() ? `(${f.raw.trim()})` : undefined,
	].filter((c): c is string => c !== undefined);
	return clauses.length ? clauses.join(' and ') : undefined;
}

/**
 * Cheap sanity check of a raw filter so an unbalanced quote or parenthesis cannot swallow the clauses it is
 * ANDed with. Returns a problem description or undefined.
 */
export function rawFilterProblem(raw: string): string | undefined {
	let depth = 0;
	let inString = false;
	for (let i = 0; i < raw.length; i++) {
		const c = raw[i];
		if (inString) {
			if (c === "'") {
				if (raw[i + 1] === "'") i++;
				else inString = false;
			}
			continue;
		}
		if (c === "'") inString = true;
		else if (c === '(') depth++;
		else if (c === ')') {
			depth--;
			if (depth < 0) return 'it closes a parenthesis that was never opened';
		}
	}
	if (inString) return 'a string literal is not closed (write a quote inside a string as two quotes: \'\')';
	if (depth > 0) return 'a parenthesis is not closed';
	return undefined;
}
