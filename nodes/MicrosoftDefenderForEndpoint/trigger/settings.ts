/**
 * The trigger's parameters, read and checked before any request (the trigger's counterpart of Get Many's
 * `readListSettings`). No request, no static data.
 *
 * INVARIANTS
 * - Every input check of a poll happens here, in this order, each with its message: watched fields, filters,
 *   Tenants, then, for a trigger poll only, Max Throttle Wait (core/limits' trigger limits) and Start From / Hours
 *   Back / Start Date. An invalid Tenants ENTRY is not an error of the poll: it is returned in `invalidTenants`
 *   (the node reports each on Tenant Failures on every poll, trigger/tenants.ts) and the valid ones are polled.
 * - Start From is returned as a rule (`startFrom`), not as a timestamp: the orchestrator turns Now / Hours Back into
 *   a boundary with the API's clock (trigger/orchestrator.pure.ts START BOUNDARY), never the host's alone.
 * - The time budget follows trigger/schedule.pure.ts: min(n8n's budget, poll interval − max(5 s, interval / 10)),
 *   the interval from the node's `pollTimes`, so a poll ends before the next one is due.
 * - Max Alerts per Poll defaults to DEFAULT_MAX_ALERTS_PER_POLL; Page Size 0 (the default) is automatic.
 * - Manual mode ("Fetch test event") reads only what the sample needs: the poll-only options are neither read nor
 *   checked then (`manual: true` carries none of them), so a sample never fails on an option it does not use.
 * - Region is passed on as given: backendFor (backend/index.ts) validates it with the customer tenant.
 * - No Tenants parameter means one entry '' (the credential's tenant), `multiTenant` false. A Tenants parameter
 *   whose every entry is invalid is multi-tenant with no tenant to poll (never the credential's tenant instead).
 */
import { type IDataObject, type IPollFunctions, NodeOperationError } from 'n8n-workflow';

import { CredentialInputError } from '../core/credentials';
import { LimitInputError, parseMaxThrottleWaitMs, THROTTLE_WAIT } from '../core/limits';
import { isTimestamp, normalizeTimestamp } from '../helpers/timestamps';
import type { AlertWhere } from '../core/graphAlerts';
import { INCIDENT_SEVERITIES, INCIDENT_STATUSES, type IncidentWhere } from '../core/graphIncidents';
import { validateEnumList } from '../helpers/validation';
import { buildAlertFilter } from '../helpers/odata';
import { readTriggerWhere, type TriggerFilters } from './filters';
import type { StartFrom } from './orchestrator.pure';
import { type EventKind, type WatchField, WATCH_FIELDS } from './poller';
import { DEFAULT_BUDGET_MS, pollBudgetMs, pollIntervalMs } from './schedule.pure';
import { type InvalidTenantEntry, parseTenantList, type TenantEntry } from './tenants';

export { DEFAULT_BUDGET_MS };

/**
 * Default of Max Alerts per Poll (per tenant). Measured in a real n8n 2.41.1, standard mode, SQLite
 * (test/e2e/trigger-drain.e2e.ts, E2E_MEASURE=1): the node and n8n's hand-off take 0.07–0.2 ms per alert (2,500
 * alerts: 0.4 s from the last page to the run, 0.65 s until n8n lists the execution finished); the process's RSS
 * grows by ~165 MB at its first execution whatever the size, and not measurably more for up to 10,000 alerts after
 * that; what grows with the size is the saved execution data, 2.8 KB per alert (7 MB for 2,500). 2,500 is the
 * smallest round size that drains a 12,000-alert burst in 5 polls (issue 10 item 10) and keeps that data smallest.
 */
export const DEFAULT_MAX_ALERTS_PER_POLL = 2500;

/** What both a trigger poll and "Fetch test event" need. */
export interface SampleSettings {
	kind: EventKind;
	/** alerts (either API) or incidents (Microsoft Graph: trigger/incidentStream.pure.ts) */
	subject: 'alert' | 'incident';
	/** incident events: the Incident Filters (Graph values) */
	incidentWhere: IncidentWhere;
	/** updated mode: emit only when one of these changed; empty: every update (always empty in created mode) */
	watchFields: WatchField[];
	/** Region parameter as given (validated by backendFor) */
	region: unknown;
	/** OData $filter of the Filters parameter (Defender for Endpoint API) */
	serverFilter?: string;
	/** the same filters, structured (Microsoft Graph: trigger/graphStream.ts renders them) */
	serverWhere: AlertWhere;
	/** customer tenants; [{ tenantId: '' }] (the credential's tenant) when Tenants is empty */
	tenants: TenantEntry[];
	/** Tenants entries that are not a tenant (reported on Tenant Failures, never polled) */
	invalidTenants: InvalidTenantEntry[];
	multiTenant: boolean;
	includeEvidence: boolean;
	outputMode: 'perAlert' | 'single';
	/** the action node's Simplify: the same keys on the Defender API and Microsoft Graph */
	simplify: boolean;
}

/** What only a trigger poll needs. */
export interface PollSettings {
	/** alerts emitted per tenant per poll, ≥ 1 */
	maxItems: number;
	/** late-arrival window */
	overlapMs: number;
	/** $top of each request; undefined: automatic (trigger/orchestrator.pure.ts PAGE SIZE) */
	pageSize?: number;
	/** tenants polled at the same time, ≥ 1 */
	concurrency: number;
	maxThrottleWaitMs: number;
	/** first-run boundary rule (Start From) */
	startFrom: StartFrom;
	/** the poll's time budget (trigger/schedule.pure.ts) */
	budgetMs: number;
	/** shortest time between two polls from `pollTimes`, when n8n gave them */
	intervalMs?: number;
}

export type TriggerSettings = SampleSettings & ({ manual: true } | ({ manual: false } & PollSettings));

export function readTriggerSettings(ctx: IPollFunctions): TriggerSettings {
	const node = ctx.getNode();
	const event = ctx.getNodeParameter('event', 'newAlert') as string;
	const kind: EventKind = event === 'updatedAlert' || event === 'updatedIncident' ? 'updated' : 'created';
	const subject = event === 'newIncident' || event === 'updatedIncident' ? 'incident' : 'alert';
	const region = ctx.getNodeParameter('region', 'global') as unknown;
	const filters = (subject === 'alert' ? ctx.getNodeParameter('filters', {}) : {}) as TriggerFilters;
	const incidentWhere = subject === 'incident' ? readIncidentTriggerWhere(node, ctx.getNodeParameter('incidentFilters', {}) as IDataObject) : {};
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const rawWatch = event === 'updatedAlert' ? (ctx.getNodeParameter('watchFields', []) as unknown) : [];
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
	let serverWhere: AlertWhere;
	let tenants: TenantEntry[];
	let invalidTenants: InvalidTenantEntry[];
	try {
		serverWhere = readTriggerWhere(node, filters);
		serverFilter = buildAlertFilter(serverWhere);
		({ tenants, invalid: invalidTenants } = parseTenantList(ctx.getNodeParameter('tenants', '') as unknown));
	} catch (error) {
		if (error instanceof CredentialInputError) throw new NodeOperationError(node, error.message, { description: error.hint });
		throw error instanceof NodeOperationError ? error : new NodeOperationError(node, error as Error);
	}
	const multiTenant = tenants.length > 0 || invalidTenants.length > 0;
	const sample: SampleSettings = {
		kind,
		subject,
		incidentWhere,
		watchFields: watchFields as WatchField[],
		region,
		serverFilter,
		serverWhere,
		tenants: multiTenant ? tenants : [{ tenantId: '', label: undefined }],
		invalidTenants,
		multiTenant,
		includeEvidence: options.includeEvidence === true,
		outputMode: options.outputMode === 'single' ? 'single' : 'perAlert',
		simplify: options.simplify === true,
	};
	if (ctx.getMode() === 'manual') return { ...sample, manual: true };

	const budgetFn = (ctx as unknown as { getPollBudgetMs?: () => number }).getPollBudgetMs;
	const maxItems = Math.max(1, Math.trunc(Number(options.maxAlertsPerPoll ?? DEFAULT_MAX_ALERTS_PER_POLL)) || DEFAULT_MAX_ALERTS_PER_POLL);
	let maxThrottleWaitMs: number;
	try {
		maxThrottleWaitMs = parseMaxThrottleWaitMs(options.maxThrottleWait, THROTTLE_WAIT.trigger);
	} catch (error) {
		// parseMaxThrottleWaitMs throws only LimitInputError
		throw new NodeOperationError(node, error instanceof LimitInputError ? error.message : (error as Error));
	}
	const explicitPage = Math.trunc(Number(options.pageSize ?? 0));
	const intervalMs = pollIntervalMs(ctx.getNodeParameter('pollTimes', undefined) as unknown);
	return {
		...sample,
		manual: false,
		maxItems,
		overlapMs: Math.max(0, Number(options.overlapMinutes ?? 15)) * 60_000,
		pageSize: Number.isFinite(explicitPage) && explicitPage > 0 ? Math.min(10_000, explicitPage) : undefined,
		concurrency: Math.max(1, Math.trunc(Number(options.concurrency ?? 5))),
		maxThrottleWaitMs,
		startFrom: startRule(ctx, options),
		budgetMs: pollBudgetMs({ n8nBudgetMs: typeof budgetFn === 'function' ? budgetFn.call(ctx) : undefined, intervalMs }),
		...(intervalMs !== undefined ? { intervalMs } : {}),
	};
}

/** Incident Filters: Status and Severity in Graph's values (checked here, before any request). */
function readIncidentTriggerWhere(node: ReturnType<IPollFunctions['getNode']>, filters: IDataObject): IncidentWhere {
	const where: IncidentWhere = {};
	const status = validateEnumList(node, 0, 'Incident Status', filters.status, INCIDENT_STATUSES);
	const severity = validateEnumList(node, 0, 'Incident Severity', filters.severity, INCIDENT_SEVERITIES);
	if (status.length) where.status = status;
	if (severity.length) where.severity = severity;
	return where;
}

/** The Start From option as a rule; dates are validated and normalized here. */
function startRule(ctx: IPollFunctions, legacyOptions: IDataObject): StartFrom {
	// Version 1.1 has Start From, Hours Back and Start Date top-level; saved version-1 nodes have them in Options
	// (trigger/description.ts). Read them where the node's version has them.
	const topLevel = (ctx.getNode().typeVersion ?? 1) >= 1.1;
	const read = (name: string, fallback: unknown): unknown => (topLevel ? ctx.getNodeParameter(name, fallback) : legacyOptions[name]);
	const options: IDataObject = { startFrom: read('startFrom', 'now') as string, hoursBack: read('hoursBack', 24) as number, startDate: read('startDate', '') as string };
	const startFrom = (options.startFrom as string) ?? 'now';
	if (startFrom === 'hoursBack') {
		const hours = Number(options.hoursBack ?? 24);
		if (!Number.isFinite(hours) || hours < 0) {
			throw new NodeOperationError(ctx.getNode(), `Hours Back must be a non-negative number, got "${String(options.hoursBack)}"`);
		}
		return { mode: 'hoursBack', hours };
	}
	if (startFrom === 'date') {
		const raw = options.startDate as string | undefined;
		if (!raw || !isTimestamp(raw)) {
			throw new NodeOperationError(ctx.getNode(), `Start Date "${String(raw ?? '')}" is not a date`, { description: 'Pick a date, or use an ISO 8601 timestamp such as 2026-01-31T00:00:00Z.' });
		}
		return { mode: 'date', at: normalizeTimestamp(raw) };
	}
	return { mode: 'now' };
}
