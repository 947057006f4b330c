/**
 * The trigger's parameters, read and checked before any request (the trigger's counterpart of Get Many's
 * `readListSettings`). No request, no static data.
 *
 * INVARIANTS
 * - Every input check of a poll happens here, in this order, each with its message: watched fields, filters,
 *   Tenants (a CredentialInputError becomes a NodeOperationError with its hint as description), then, for a
 *   trigger poll only, Max Throttle Wait (core/limits' trigger limits) and Start From / Hours Back / Start Date.
 * - Manual mode ("Fetch test event") reads only what the sample needs: the poll-only options are neither read nor
 *   checked then (`manual: true` carries none of them), so a sample never fails on an option it does not use.
 * - Region is passed on as given: backendFor (backend/index.ts) validates it with the customer tenant.
 * - `tenants` is never empty: no Tenants parameter means one entry '' (the credential's tenant), `multiTenant` false.
 */
import { type IDataObject, type IPollFunctions, NodeOperationError } from 'n8n-workflow';

import { CredentialInputError } from '../core/credentials';
import { LimitInputError, parseMaxThrottleWaitMs, THROTTLE_WAIT } from '../core/limits';
import { fromDate, isTimestamp, normalizeTimestamp } from '../helpers/timestamps';
import { buildTriggerFilter, type TriggerFilters } from './filters';
import { type EventKind, type WatchField, WATCH_FIELDS } from './poller';
import { parseTenantList, type TenantEntry } from './tenants';

/** Time budget of a poll when n8n gives none (n8n versions without getPollBudgetMs). */
export const DEFAULT_BUDGET_MS = 5 * 60_000;

/** What both a trigger poll and "Fetch test event" need. */
export interface SampleSettings {
	kind: EventKind;
	/** updated mode: emit only when one of these changed; empty: every update (always empty in created mode) */
	watchFields: WatchField[];
	/** Region parameter as given (validated by backendFor) */
	region: unknown;
	/** OData $filter of the Filters parameter */
	serverFilter?: string;
	/** customer tenants; [{ tenantId: '' }] (the credential's tenant) when Tenants is empty */
	tenants: TenantEntry[];
	multiTenant: boolean;
	includeEvidence: boolean;
	outputMode: 'perAlert' | 'single';
}

/** What only a trigger poll needs. */
export interface PollSettings {
	/** alerts emitted per tenant per poll, ≥ 1 */
	maxItems: number;
	/** late-arrival window */
	overlapMs: number;
	/** $top of each request */
	pageSize: number;
	/** tenants polled at the same time, ≥ 1 */
	concurrency: number;
	maxThrottleWaitMs: number;
	/** first-run boundary (Start From), canonical 7-digit timestamp */
	start: string;
	/** the poll's time budget */
	budgetMs: number;
}

export type TriggerSettings = SampleSettings & ({ manual: true } | ({ manual: false } & PollSettings));

export function readTriggerSettings(ctx: IPollFunctions): TriggerSettings {
	const node = ctx.getNode();
	const event = ctx.getNodeParameter('event', 'newAlert') as string;
	const kind: EventKind = event === 'updatedAlert' ? 'updated' : 'created';
	const region = ctx.getNodeParameter('region', 'global') as unknown;
	const filters = ctx.getNodeParameter('filters', {}) as TriggerFilters;
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const rawWatch = kind === 'updated' ? (ctx.getNodeParameter('watchFields', []) as unknown) : [];
	// An expression may give "status, classification" instead of a list.
	const watchFields = (Array.isArray(rawWatch) ? rawWatch : typeof rawWatch === 'string' ? rawWatch.split(/[,\n]/) : [])
		.map((f) => String(f).trim())
		.filter(Boolean);
	for (const f of watchFields) {
		if (!WATCH_FIELDS.includes(f as WatchField)) {
			throw new NodeOperationError(node, `Unknown field to watch: "${f}"`, { description: `Use any of: ${WATCH_FIELDS.join(', ')}.` });
		}
	}

	let serverFilter: string | undefined;
	let tenants: TenantEntry[];
	try {
		serverFilter = buildTriggerFilter(node, filters);
		tenants = parseTenantList(ctx.getNodeParameter('tenants', '') as unknown);
	} catch (error) {
		if (error instanceof CredentialInputError) throw new NodeOperationError(node, error.message, { description: error.hint });
		throw error instanceof NodeOperationError ? error : new NodeOperationError(node, error as Error);
	}
	const multiTenant = tenants.length > 0;
	const sample: SampleSettings = {
		kind,
		watchFields: watchFields as WatchField[],
		region,
		serverFilter,
		tenants: multiTenant ? tenants : [{ tenantId: '', label: undefined }],
		multiTenant,
		includeEvidence: options.includeEvidence === true,
		outputMode: options.outputMode === 'single' ? 'single' : 'perAlert',
	};
	if (ctx.getMode() === 'manual') return { ...sample, manual: true };

	const budgetFn = (ctx as unknown as { getPollBudgetMs?: () => number }).getPollBudgetMs;
	const maxItems = Math.max(1, Math.trunc(Number(options.maxAlertsPerPoll ?? 500)));
	let maxThrottleWaitMs: number;
	try {
		maxThrottleWaitMs = parseMaxThrottleWaitMs(options.maxThrottleWait, THROTTLE_WAIT.trigger);
	} catch (error) {
		// parseMaxThrottleWaitMs throws only LimitInputError
		throw new NodeOperationError(node, error instanceof LimitInputError ? error.message : (error as Error));
	}
	return {
		...sample,
		manual: false,
		maxItems,
		overlapMs: Math.max(0, Number(options.overlapMinutes ?? 15)) * 60_000,
		// Every poll re-reads the late-arrival window, so pages are not tied to Max Alerts per Poll: a busy tenant
		// with thousands of alerts in the window still needs only a request or two per poll.
		pageSize: Math.min(10_000, Math.max(1, Math.trunc(Number(options.pageSize ?? 0)) || Math.max(1000, maxItems))),
		concurrency: Math.max(1, Math.trunc(Number(options.concurrency ?? 5))),
		maxThrottleWaitMs,
		start: startBoundary(ctx, options),
		budgetMs: typeof budgetFn === 'function' ? budgetFn.call(ctx) : DEFAULT_BUDGET_MS,
	};
}

/** First-run boundary from the Start From option, as a canonical 7-digit timestamp. */
function startBoundary(ctx: IPollFunctions, options: IDataObject): string {
	const startFrom = (options.startFrom as string) ?? 'now';
	if (startFrom === 'hoursBack') {
		const hours = Number(options.hoursBack ?? 24);
		if (!Number.isFinite(hours) || hours < 0) {
			throw new NodeOperationError(ctx.getNode(), `Hours Back must be a non-negative number, got "${String(options.hoursBack)}"`);
		}
		return fromDate(new Date(Date.now() - hours * 3_600_000));
	}
	if (startFrom === 'date') {
		const raw = options.startDate as string | undefined;
		if (!raw || !isTimestamp(raw)) {
			throw new NodeOperationError(ctx.getNode(), `Start Date "${String(raw ?? '')}" is not a date`, { description: 'Pick a date, or use an ISO 8601 timestamp such as 2026-01-31T00:00:00Z.' });
		}
		return normalizeTimestamp(raw);
	}
	return fromDate(new Date());
}
