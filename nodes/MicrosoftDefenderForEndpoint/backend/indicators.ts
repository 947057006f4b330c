/**
 * Indicators (custom IoCs) of the Defender for Endpoint API (`/api/indicators…`), on top of the shared transport.
 * Indicator resource type: https://learn.microsoft.com/en-us/defender-endpoint/api/ti-indicator.
 */
import type { IDataObject, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { capMessage, type IndicatorAction, type IndicatorType, isIndicatorCapError, MAX_IMPORT_BATCH, MAX_INDICATOR_PAGE } from '../helpers/indicators';
import { INDICATOR_ROLES } from '../helpers/permissions';
import { type ApiRequest, type DefenderContext, defenderRequest, openSession } from '../transport/request';
import type { BackendOptions } from './mde';
import { stripContext } from './entities';

export type IndicatorRecord = { id: string; indicatorValue?: string; indicatorType?: string; [key: string]: unknown };

/** The body of one indicator, as Submit and Import take it (camelCase, as documented). */
export interface IndicatorInput {
	indicatorValue: string;
	indicatorType: IndicatorType;
	action: IndicatorAction;
	title: string;
	description: string;
	severity?: string;
	/** canonical UTC */
	expirationTime?: string;
	recommendedActions?: string;
	/** device (RBAC) group names; empty = all devices */
	rbacGroupNames?: string[];
	generateAlert?: boolean;
	/** only applied when the indicator is created (Submit Indicator API) */
	application?: string;
}

/** One entry of the import response, aligned with the indicator sent at the same position. */
export interface ImportResult {
	id: string | null;
	indicator: string | null;
	isFailed: boolean;
	failureReason: string | null;
}

export interface IndicatorListQuery {
	/** OData $filter, already built */
	filter?: string;
	top: number;
	skip?: number;
}

export interface IndicatorBackend {
	/** tenant the calls go to (GUID or domain, as configured) */
	readonly tenantId: string;
	readonly maxPageSize: number;
	readonly maxImportSize: number;
	/** Submit or update (upsert by type + value) one indicator; returns the stored indicator. */
	submit(input: IndicatorInput): Promise<IndicatorRecord>;
	/** Submit or update up to maxImportSize indicators in one call; one result per input, in input order. */
	importIndicators(inputs: IndicatorInput[]): Promise<ImportResult[]>;
	list(query: IndicatorListQuery): Promise<IndicatorRecord[]>;
	/** 204 on success; a missing indicator is a NodeApiError (404) that says so. */
	delete(id: string): Promise<void>;
}

function text(value: unknown): string | null {
	return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

/** Read one import result, whatever the casing of its properties (the example uses camelCase; not promised). */
function readResult(raw: unknown): ImportResult {
	const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
	const pick = (name: string): unknown => r[name] ?? r[name.charAt(0).toUpperCase() + name.slice(1)];
	const failed = pick('isFailed');
	return {
		id: text(pick('id')),
		indicator: text(pick('indicator')) ?? text(pick('indicatorValue')),
		isFailed: failed === true || failed === 'true' || failed === 'True',
		failureReason: text(pick('failureReason')),
	};
}

/**
 * Results in the order of `inputs`. The documented response lists one result per indicator; we match by position
 * when the counts agree and the values do, else by value (a result the API left out becomes a failure).
 */
export function alignImportResults(inputs: Array<Pick<IndicatorInput, 'indicatorValue'>>, body: unknown): ImportResult[] {
	const raw = (body && typeof body === 'object' ? ((body as { value?: unknown }).value ?? (body as { Value?: unknown }).Value) : undefined) as unknown;
	const results = Array.isArray(raw) ? raw.map(readResult) : [];
	const same = (a: string | null, b: string) => a === null || a.toLowerCase() === b.toLowerCase();
	if (results.length === inputs.length && results.every((r, k) => same(r.indicator, inputs[k].indicatorValue))) return results;
	const pool = new Map<string, ImportResult[]>();
	for (const r of results) {
		if (r.indicator === null) continue;
		const key = r.indicator.toLowerCase();
		pool.set(key, [...(pool.get(key) ?? []), r]);
	}
	return inputs.map((input) => {
		const queue = pool.get(input.indicatorValue.toLowerCase());
		const found = queue?.shift();
		return found ?? { id: null, indicator: input.indicatorValue, isFailed: true, failureReason: 'Defender returned no import result for this indicator' };
	});
}

function toBody(input: IndicatorInput): IDataObject {
	const body: IDataObject = {
		indicatorValue: input.indicatorValue,
		indicatorType: input.indicatorType,
		action: input.action,
		title: input.title,
		description: input.description,
	};
	if (input.severity !== undefined) body.severity = input.severity;
	if (input.expirationTime !== undefined) body.expirationTime = input.expirationTime;
	if (input.recommendedActions !== undefined) body.recommendedActions = input.recommendedActions;
	// The parameter table says "comma-separated list", every example sends an array: we send the array.
	if (input.rbacGroupNames !== undefined) body.rbacGroupNames = input.rbacGroupNames;
	if (input.generateAlert !== undefined) body.generateAlert = input.generateAlert;
	if (input.application !== undefined) body.application = input.application;
	return body;
}

/** The exact body Submit sends (Dry Run shows it). */
export function submitBody(input: IndicatorInput): IDataObject {
	return toBody(input);
}

export async function mdeIndicatorBackend(ctx: DefenderContext, options: BackendOptions = {}): Promise<IndicatorBackend> {
	const session = await openSession(ctx, options);
	const base = { itemIndex: options.itemIndex, maxThrottleWaitMs: options.maxThrottleWaitMs, requiredRoles: INDICATOR_ROLES };

	const request = async <T>(req: Omit<ApiRequest, 'requiredRoles'>): Promise<T> => {
		try {
			return await defenderRequest<T>(ctx, { ...base, ...req }, session);
		} catch (error) {
			throw capFailure(error) ?? error;
		}
	};

	/** The per-tenant limit of active indicators, as one clear error (its wording is not documented). */
	function capFailure(error: unknown): NodeApiError | undefined {
		if (!(error instanceof NodeApiError) || error.httpCode === '429' || error.httpCode === '401') return undefined;
		const code = (error.errorResponse as { code?: unknown } | undefined)?.code;
		if (!isIndicatorCapError(typeof code === 'string' ? code : undefined, error.message)) return undefined;
		const cap = capMessage(session.tenantId);
		return new NodeApiError(ctx.getNode(), { message: cap.message, code: typeof code === 'string' ? code : 'IndicatorLimitReached' } as JsonObject, {
			message: cap.message,
			description: `${cap.hint} Defender said: ${error.message}`,
			httpCode: error.httpCode ?? undefined,
			itemIndex: options.itemIndex,
		});
	}

	return {
		tenantId: session.tenantId,
		maxPageSize: MAX_INDICATOR_PAGE,
		maxImportSize: MAX_IMPORT_BATCH,

		async submit(input: IndicatorInput): Promise<IndicatorRecord> {
			const indicator = await request<IndicatorRecord>({
				method: 'POST',
				path: ['indicators'],
				body: toBody(input),
				endpointClass: 'indicators',
				// Submit is an upsert keyed by type + value ("Submits or Updates", Submit or Update Indicator API): sending the
				// same body again after a lost response leaves the same single indicator, so it is safe to retry.
				idempotent: true,
			});
			return stripContext(indicator);
		},

		async importIndicators(inputs: IndicatorInput[]): Promise<ImportResult[]> {
			const body = await request<unknown>({
				method: 'POST',
				path: ['indicators', 'import'],
				body: { Indicators: inputs.map(toBody) } as unknown as IDataObject,
				endpointClass: 'indicatorImport',
				// Import "Submits or Updates" each indicator by type + value, like Submit: a repeated call after a lost
				// response updates the same indicators again and creates none twice, so it is safe to retry.
				idempotent: true,
			});
			return alignImportResults(inputs, body);
		},

		async list(query: IndicatorListQuery): Promise<IndicatorRecord[]> {
			const qs: IDataObject = { $top: Math.min(Math.max(1, query.top), MAX_INDICATOR_PAGE) };
			if (query.filter) qs.$filter = query.filter;
			if (query.skip) qs.$skip = query.skip;
			const body = await request<{ value?: IndicatorRecord[] }>({ method: 'GET', path: ['indicators'], qs, endpointClass: 'indicators', idempotent: true });
			return Array.isArray(body?.value) ? body.value : [];
		},

		async delete(id: string): Promise<void> {
			await request<unknown>({
				method: 'DELETE',
				path: ['indicators', id],
				endpointClass: 'indicators',
				// Deleting twice leaves the same state; a retry after a lost 204 answers 404, which the message allows for.
				idempotent: true,
				notFoundMessage: `Indicator ${id} was not found in tenant ${session.tenantId}: it does not exist, was already deleted or has expired, or was created by another app while this app has only Ti.ReadWrite`,
			});
		},
	};
}

