/**
 * Advanced hunting on Microsoft Graph (`POST /v1.0/security/runHuntingQuery`), the pure part: the documented limits,
 * the checks made before any request (query text, Timespan), the response read tolerantly, the failure kinds read from
 * the service's message, and the output row shape. No n8n types (see ARCHITECTURE.md, "Pure modules").
 *
 *   Run hunting query  https://learn.microsoft.com/en-us/graph/api/security-security-runhuntingquery
 *                      (body `{"Query": "<KQL>", "Timespan": "<ISO 8601>"}`; without Timespan the query looks back 30
 *                      days; when the query has its own time filter the shorter span applies)
 *   Limits             https://learn.microsoft.com/en-us/graph/api/resources/security-api-overview (advanced hunting:
 *                      at least 45 calls per minute per tenant, 100,000 rows, about 3 minutes per query, a CPU quota),
 *                      https://learn.microsoft.com/en-us/defender-xdr/api-advanced-hunting (the same limits; 429 beyond)
 *
 * The Defender for Endpoint API's `/api/advancedqueries/run` is retired (MC1220762): this package does not use it.
 *
 * Not stated by Microsoft, so both answers are handled: the casing of the response properties (`schema`/`Schema`,
 * `name`/`Name`), whether a Timespan may be an interval (`start/end`; accepted here and passed on as typed), and how
 * the service words the row-limit, timeout and CPU-quota failures (`huntingFailureKind` reads them by meaning, and a
 * result of exactly the row limit is reported as possibly cut off).
 */

/** Documented limits of advanced hunting (see the links above). */
export const HUNTING_LIMITS = {
	/** rows a query may return */
	maxRows: 100_000,
	/** a query runs for about this long before the service cancels it */
	queryTimeoutMs: 180_000,
	/** calls per minute per tenant ("at least 45") */
	callsPerMinute: 45,
	/** lookback without a Timespan */
	defaultLookbackDays: 30,
} as const;

/** Parameter errors found before any request (the node turns them into NodeOperationError with the item index). */
export class HuntingInputError extends Error {
	constructor(
		message: string,
		readonly hint: string,
	) {
		super(message);
		this.name = 'HuntingInputError';
	}
}

/** The hunting response did not have the documented shape. */
export class HuntingResponseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'HuntingResponseError';
	}
}

/** The KQL text, trimmed; an empty query (or only `//` comments) is refused. */
export function validateHuntingQuery(raw: unknown): string {
	const text = typeof raw === 'string' ? raw.trim() : raw === undefined || raw === null ? '' : String(raw).trim();
	const withoutComments = text.replace(/\/\/[^\n]*/g, '').trim();
	if (!withoutComments) {
		throw new HuntingInputError(
			'The hunting query is empty',
			'Enter a KQL query, e.g. AlertInfo | where Severity == "High" | take 10 (tables: https://learn.microsoft.com/en-us/defender-xdr/advanced-hunting-schema-tables).',
		);
	}
	return text;
}

export interface Timespan {
	/** as sent to the service (upper-cased designators, surrounding spaces removed) */
	text: string;
	/** the span in milliseconds (years as 365 days, months as 30 days) */
	durationMs: number;
}

const DURATION = /^P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

/** An ISO 8601 duration (P7D, PT12H, P1DT6H, P2W) in ms, or undefined when it is not one. */
export function durationMs(text: string): number | undefined {
	const m = DURATION.exec(text);
	if (!m) return undefined;
	const [, y, mo, w, d, h, mi, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
	return Math.round((y * 365 + mo * 30 + w * 7 + d) * DAY_MS + h * 3_600_000 + mi * 60_000 + s * 1000);
}

function dateTimeMs(text: string): number | undefined {
	if (!DATE_TIME.test(text)) return undefined;
	const ms = Date.parse(text);
	return Number.isNaN(ms) ? undefined : ms;
}

const TIMESPAN_HINT =
	'Use an ISO 8601 duration such as P7D (7 days), PT12H (12 hours) or P1DT6H, or an interval such as 2025-03-01T00:00:00Z/2025-03-08T00:00:00Z. Leave it empty for the default of the last 30 days.';

/**
 * The Timespan parameter: empty → undefined (the service's 30-day default); an ISO 8601 duration (P7D, PT12H, …);
 * or an interval `start/end` or `start/duration` with zoned date-times. Anything else, or a span of zero, is refused.
 */
export function parseTimespan(raw: unknown): Timespan | undefined {
	if (raw === undefined || raw === null) return undefined;
	const text = String(raw).trim();
	if (text === '') return undefined;
	const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
	const upper = text.toUpperCase();
	const duration = durationMs(upper);
	if (duration !== undefined) {
		if (duration <= 0) throw new HuntingInputError(`Timespan "${shown}" is zero`, TIMESPAN_HINT);
		return { text: upper, durationMs: duration };
	}
	const parts = text.split('/');
	if (parts.length === 2) {
		const start = dateTimeMs(parts[0].trim().toUpperCase());
		const endAsDate = dateTimeMs(parts[1].trim().toUpperCase());
		const endAsDuration = durationMs(parts[1].trim().toUpperCase());
		if (start !== undefined && (endAsDate !== undefined || endAsDuration !== undefined)) {
			const span = endAsDate !== undefined ? endAsDate - start : (endAsDuration as number);
			if (span <= 0) throw new HuntingInputError(`Timespan "${shown}" ends before it starts`, TIMESPAN_HINT);
			return { text: `${parts[0].trim().toUpperCase()}/${parts[1].trim().toUpperCase()}`, durationMs: span };
		}
	}
	throw new HuntingInputError(`Timespan "${shown}" is not an ISO 8601 duration or interval`, TIMESPAN_HINT);
}

export interface HuntingColumn {
	name: string;
	type: string;
}

export interface HuntingResult {
	schema: HuntingColumn[];
	results: Array<Record<string, unknown>>;
}

function prop(object: Record<string, unknown>, name: string): unknown {
	if (name in object) return object[name];
	const capital = name.charAt(0).toUpperCase() + name.slice(1);
	return object[capital];
}

/** `{schema: [{name, type}], results: [...]}`, also when the service capitalises the property names. */
export function readHuntingResponse(body: unknown): HuntingResult {
	if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HuntingResponseError('Microsoft Graph answered the hunting query without a JSON object');
	const b = body as Record<string, unknown>;
	const schemaRaw = prop(b, 'schema');
	const resultsRaw = prop(b, 'results');
	if (!Array.isArray(resultsRaw)) throw new HuntingResponseError('Microsoft Graph answered the hunting query without a "results" list');
	const schema: HuntingColumn[] = Array.isArray(schemaRaw)
		? schemaRaw
				.filter((c): c is Record<string, unknown> => !!c && typeof c === 'object')
				.map((c) => ({ name: String(prop(c, 'name') ?? ''), type: String(prop(c, 'type') ?? '') }))
		: [];
	const results = resultsRaw.map((r) => (r && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>) : { value: r }));
	return { schema, results };
}

export type HuntingFailureKind = 'cpuQuota' | 'rowLimit' | 'timeout' | 'query';

/**
 * What a failed hunting call means, from its HTTP status and the service's message (the wording is not documented:
 * matched by meaning). `query`: a 400 that is none of the limits, i.e. a syntax or semantic error in the KQL.
 * Undefined: not a hunting-specific failure (permissions, tokens, throttling, 5xx: the transport's own messages).
 */
export function huntingFailureKind(status: number | undefined, message: string | undefined): HuntingFailureKind | undefined {
	const text = message ?? '';
	if (status === undefined) return undefined;
	if (status !== 429 && /\bcpu\b|resource quota|quota (?:was |has been )?exceeded|exceeded (?:the |your )?(?:\w+ )?quota/i.test(text)) return 'cpuQuota';
	if (/record count limit|row(?:s)? limit|too many rows|maximum number of rows|result set (?:has )?exceeded|result (?:set )?(?:is )?too large|data size limit|E_QUERY_RESULT_SET_TOO_LARGE/i.test(text)) return 'rowLimit';
	if (status === 408 || status === 504 || /timed? ?out|execution time|time limit|canceled because it exceeded/i.test(text)) return 'timeout';
	if (status === 400) return 'query';
	return undefined;
}

/** Output fields the node adds to every row; a result column of the same name is kept as `column_<name>`. */
export interface RowDecoration {
	tenantId: string;
	customerLabel?: string;
}

export function decorateRow(row: Record<string, unknown>, decoration: RowDecoration): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(row)) {
		if (key === 'tenantId' || key === 'customerLabel') out[`column_${key}`] = value;
		else out[key] = value;
	}
	out.tenantId = decoration.tenantId;
	if (decoration.customerLabel !== undefined) out.customerLabel = decoration.customerLabel;
	return out;
}
