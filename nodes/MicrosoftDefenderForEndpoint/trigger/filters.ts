/** Server-side filters of the trigger, as an OData $filter (values checked against the known sets first). */
import { ALERT_STATUSES, DETECTION_SOURCES, SEVERITIES } from '../helpers/enums';

/** Multi-option values, or (from an expression) a comma/newline-separated string. */
export interface TriggerFilters {
	severity?: string[] | string;
	status?: string[] | string;
	detectionSource?: string[] | string;
	category?: string[] | string;
}

export class FilterInputError extends Error {}

/** OData string literal: single quotes doubled. */
export function odataString(value: string): string {
	return `'${value.replace(/'/g, "''")}'`;
}

function anyOf(field: string, values: string[]): string | undefined {
	if (values.length === 0) return undefined;
	return values.map((v) => `${field} eq ${odataString(v)}`).join(' or ');
}

/** An expression may give a string ("High, Medium") instead of a list: never drop such a filter silently. */
function listOf(values: unknown): string[] {
	if (values === undefined || values === null) return [];
	const raw = Array.isArray(values) ? values : [values];
	return raw.flatMap((v) => (v === undefined || v === null ? [] : String(v).split(/[,\n]/))).map((v) => v.trim()).filter(Boolean);
}

function checked(label: string, values: unknown, allowed: readonly string[], free = false): string[] {
	const list = listOf(values);
	for (const v of list) {
		if (!free && !allowed.includes(v)) {
			throw new FilterInputError(`Unknown ${label} "${v}". Use one of: ${allowed.join(', ')}`);
		}
		if (!/^[A-Za-z0-9 _.-]{1,100}$/.test(v)) throw new FilterInputError(`${label} "${v}" contains characters a Defender value never has`);
	}
	return [...new Set(list)];
}

export function buildTriggerFilter(filters: TriggerFilters): string | undefined {
	const parts = [
		anyOf('severity', checked('severity', filters.severity, SEVERITIES)),
		anyOf('status', checked('status', filters.status, ALERT_STATUSES)),
		anyOf('detectionSource', checked('detection source', filters.detectionSource, DETECTION_SOURCES, true)),
		anyOf('category', checked('category', filters.category, [], true)),
	].filter((p): p is string => p !== undefined);
	if (parts.length === 0) return undefined;
	return parts.map((p) => `(${p})`).join(' and ');
}
