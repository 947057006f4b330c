import {
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
	type JsonObject,
	NodeApiError,
	NodeConnectionTypes,
	NodeOperationError,
} from 'n8n-workflow';

import { mdeBackend } from './backend/mde';
import { regionProperty } from './descriptions/common';
import { categoryFilter, detectionSourceFilter, severityFilter, statusFilter } from './descriptions/filters';
import type { AlertBackend } from './backend/types';
import { fromDate, isTimestamp, normalizeTimestamp } from './helpers/timestamps';
import { buildTriggerFilter, type TriggerFilters } from './trigger/filters';
import {
	type AlertRecord,
	createStreamState,
	type Emitted,
	emittedKey,
	type EventKind,
	isStreamState,
	pollStream,
	type StreamState,
	type WatchField,
	WATCH_FIELDS,
} from './trigger/poller';
import { parseTenantList, type TenantEntry } from './trigger/tenants';
import { CredentialInputError } from './core/credentials';
import { describeFailure } from './transport/request';

const STATE_VERSION = 1;
const DEFAULT_BUDGET_MS = 5 * 60_000;
const DEFAULT_MAX_THROTTLE_WAIT_S = 60;
const MAX_THROTTLE_WAIT_S = 3600;
/** Streams of tenants that are no longer listed, kept for when they come back. */
const MAX_RETAINED_STREAMS = 1000;

interface TriggerState {
	v: number;
	/** "<kind>:<tenant id>" → the stream's state (trigger/poller.ts) */
	streams: Record<string, StreamState>;
	/** Key of the first tenant a poll skipped for lack of time: the next poll starts there. */
	resumeAt?: string;
}

interface TenantOutcome {
	tenant: TenantEntry;
	/** stream key "<kind>:<tenant id>" */
	key: string;
	/** not polled: the time budget was spent before this tenant's turn */
	skipped?: boolean;
	emitted: Emitted[];
	state?: StreamState;
	error?: unknown;
	portalUrl?: (id: string) => string;
	tenantId: string;
}

function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

async function runPool<T, R>(items: T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
		while (next < items.length) {
			const index = next++;
			results[index] = await worker(items[index]);
		}
	});
	await Promise.all(runners);
	return results;
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

function throttleWaitMs(ctx: IPollFunctions, options: IDataObject): number {
	const raw = options.maxThrottleWait ?? DEFAULT_MAX_THROTTLE_WAIT_S;
	const seconds = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
	if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_THROTTLE_WAIT_S) {
		throw new NodeOperationError(ctx.getNode(), `Max Throttle Wait must be a number of seconds from 0 to ${MAX_THROTTLE_WAIT_S}, got "${String(raw)}"`);
	}
	return Math.round(seconds * 1000);
}

function decorate(alert: IDataObject, kind: EventKind, backend: AlertBackend, tenant: TenantEntry): IDataObject {
	const id = String(alert.id);
	return {
		...alert,
		event: kind === 'created' ? 'newAlert' : 'updatedAlert',
		portalUrl: backend.portalUrl(id),
		tenantId: backend.tenantId,
		...(tenant.label ? { customerLabel: tenant.label } : {}),
		dedupKey: `${backend.tenantId}:${id}`,
	};
}

function decorateEmitted(e: Emitted, kind: EventKind, outcome: TenantOutcome): IDataObject {
	const id = String(e.alert.id);
	return {
		...(e.alert as IDataObject),
		event: kind === 'created' ? 'newAlert' : 'updatedAlert',
		...(outcome.portalUrl ? { portalUrl: outcome.portalUrl(id) } : {}),
		tenantId: outcome.tenantId,
		...(outcome.tenant.label ? { customerLabel: outcome.tenant.label } : {}),
		dedupKey: `${outcome.tenantId}:${id}`,
		...(e.changedFields ? { changedFields: e.changedFields, previous: e.previous ?? {}, previousKnown: e.previousKnown ?? false } : {}),
	};
}

export class MicrosoftDefenderForEndpointTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Defender for Endpoint Trigger',
		name: 'microsoftDefenderForEndpointTrigger',
		icon: { light: 'file:../../icons/defender.svg', dark: 'file:../../icons/defender.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["event"] === "updatedAlert" ? "Updated alerts" : "New alerts"}}',
		description: 'Starts the workflow when Microsoft Defender for Endpoint raises or updates an alert; each alert exactly once',
		defaults: { name: 'Microsoft Defender for Endpoint Trigger' },
		credentials: [{ name: 'microsoftDefenderForEndpointApi', required: true }],
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Alerts', 'Tenant Failures'],
		properties: [
			{
				displayName: 'Event',
				name: 'event',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'New Alert', value: 'newAlert', description: 'An alert was created (by alertCreationTime)' },
					{ name: 'Updated Alert', value: 'updatedAlert', description: 'An alert changed (by lastUpdateTime)' },
				],
				default: 'newAlert',
			},
			{
				displayName: 'Only When These Fields Change',
				name: 'watchFields',
				type: 'multiOptions',
				options: [
					{ name: 'Assigned To', value: 'assignedTo' },
					{ name: 'Classification', value: 'classification' },
					{ name: 'Comments', value: 'comments' },
					{ name: 'Determination', value: 'determination' },
					{ name: 'Status', value: 'status' },
				],
				default: [],
				displayOptions: { show: { event: ['updatedAlert'] } },
				description: 'Emit an update only when one of these changed since the alert was last seen (output adds changedFields and previous). Empty: every update.',
			},
			regionProperty,
			{
				displayName: 'Tenants',
				name: 'tenants',
				type: 'string',
				default: '',
				placeholder: 'e.g. 11111111-…=Contoso, fabrikam.onmicrosoft.com=Fabrikam',
				description:
					'MSSP: poll these customer tenants with the credential\'s multi-tenant app. Comma- or newline-separated "tenant" or "tenant=Label" entries, or an expression returning a list of IDs or {tenantId, label} objects. Empty: the credential\'s tenant. Each tenant has its own cursor; a failing tenant goes to the Tenant Failures output without stopping the others.',
			},
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				options: [categoryFilter, detectionSourceFilter, severityFilter, statusFilter],
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Hours Back',
						name: 'hoursBack',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 24,
						displayOptions: { show: { startFrom: ['hoursBack'] } },
					},
					{
						displayName: 'Include Evidence',
						name: 'includeEvidence',
						type: 'boolean',
						default: false,
						description: 'Whether to include each alert\'s evidence (files, processes, users…); larger responses',
					},
					{
						displayName: 'Late Arrival Window (Minutes)',
						name: 'overlapMinutes',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 1440 },
						default: 15,
						description: 'Alerts can appear in the API a while after their timestamp; each poll re-reads this window and skips what it already emitted',
					},
					{
						displayName: 'Max Alerts per Poll',
						name: 'maxAlertsPerPoll',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 50000 },
						default: 500,
						description: 'Per tenant. A larger backlog drains over the next polls, oldest first, without gaps.',
					},
					{
						displayName: 'Max Concurrent Tenants',
						name: 'concurrency',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 50 },
						default: 5,
						description: 'How many tenants are polled at the same time',
					},
					{
						displayName: 'Max Throttle Wait (Seconds)',
						name: 'maxThrottleWait',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 3600 },
						default: 60,
						description:
							'How long Defender throttling (HTTP 429) may be waited out within one poll (never beyond the poll\'s time budget). Beyond it the poll fails (with Tenants: the tenant goes to Tenant Failures) saying when to retry; nothing is lost.',
					},
					{
						displayName: 'Output',
						name: 'outputMode',
						type: 'options',
						options: [
							{ name: 'One Item per Alert', value: 'perAlert' },
							{ name: 'One Item With All Alerts', value: 'single' },
						],
						default: 'perAlert',
					},
					{
						displayName: 'Page Size',
						name: 'pageSize',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 10000 },
						default: 0,
						description: 'Alerts per API request (up to 10,000). 0: automatic (1,000, or Max Alerts per Poll when larger). Smaller pages help when evidence is included.',
					},
					{
						displayName: 'Start Date',
						name: 'startDate',
						type: 'dateTime',
						default: '',
						displayOptions: { show: { startFrom: ['date'] } },
					},
					{
						displayName: 'Start From',
						name: 'startFrom',
						type: 'options',
						options: [
							{ name: 'Now', value: 'now', description: 'Only alerts from the moment the workflow is activated' },
							{ name: 'Hours Back', value: 'hoursBack', description: 'Also deliver the last N hours on the first poll' },
							{ name: 'Date', value: 'date', description: 'Deliver everything since this date on the first poll' },
						],
						default: 'now',
						description: 'Where the first poll starts (later polls continue from where the previous one stopped)',
					},
				],
			},
		],
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const node = this.getNode();
		const manual = this.getMode() === 'manual';
		const event = this.getNodeParameter('event', 'newAlert') as string;
		const kind: EventKind = event === 'updatedAlert' ? 'updated' : 'created';
		const region = this.getNodeParameter('region', 'global') as string;
		const filters = this.getNodeParameter('filters', {}) as TriggerFilters;
		const options = this.getNodeParameter('options', {}) as IDataObject;
		const rawWatch = kind === 'updated' ? (this.getNodeParameter('watchFields', []) as unknown) : [];
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
			tenants = parseTenantList(this.getNodeParameter('tenants', '') as unknown);
		} catch (error) {
			if (error instanceof CredentialInputError) throw new NodeOperationError(node, error.message, { description: error.hint });
			throw error instanceof NodeOperationError ? error : new NodeOperationError(node, error as Error);
		}
		const multiTenant = tenants.length > 0;
		if (!multiTenant) tenants = [{ tenantId: '', label: undefined }];

		const includeEvidence = options.includeEvidence === true;
		const outputMode = (options.outputMode as string) ?? 'perAlert';
		const field = kind === 'created' ? 'alertCreationTime' : 'lastUpdateTime';
		const and = (...parts: Array<string | undefined>) => parts.filter(Boolean).map((p) => `(${p})`).join(' and ');

		const backendFor = async (tenant: TenantEntry, maxThrottleWaitMs: number): Promise<AlertBackend> =>
			await mdeBackend(this, { tenantId: tenant.tenantId || undefined, region, maxThrottleWaitMs });

		if (manual) {
			// "Fetch test event": the newest matching alert of each tenant (up to 3 tenants), state untouched.
			const samples: INodeExecutionData[] = [];
			for (const tenant of tenants.slice(0, 3)) {
				const backend = await backendFor(tenant, 30_000);
				const alerts = await backend.listAlerts({ filter: serverFilter, top: 1, orderBy: `${field} desc`, expandEvidence: includeEvidence });
				for (const alert of alerts) samples.push({ json: decorate(alert as IDataObject, kind, backend, tenant) });
			}
			if (samples.length === 0) {
				throw new NodeOperationError(node, 'No alert matches the filters yet, so there is no sample to show', {
					description: 'The credential and filters work. Widen the filters, or activate the workflow and wait for the next alert.',
					level: 'warning',
				});
			}
			return [outputMode === 'single' ? [{ json: { alerts: samples.map((s) => s.json), count: samples.length } }] : samples, []];
		}

		const budgetFn = (this as unknown as { getPollBudgetMs?: () => number }).getPollBudgetMs;
		const budgetMs = typeof budgetFn === 'function' ? budgetFn.call(this) : DEFAULT_BUDGET_MS;
		const startedAt = Date.now();
		// Leave a fifth of the budget (at least 2 s) to build the output and let n8n save the state.
		const stopAt = startedAt + Math.max(0, budgetMs - Math.max(2000, budgetMs / 5));
		// A stream that has only re-read alerts it already processed (the late-arrival window) has made no progress
		// yet: stopping it then would leave its state unchanged and the next poll would re-read the same pages, for
		// ever. Such a stream may go on until this harder deadline (a tenth of the budget, at least 250 ms, left).
		const hardStopAt = startedAt + Math.max(0, budgetMs - Math.max(250, budgetMs / 10));
		const deadline = () => Date.now() >= stopAt;
		const maxItems = Math.max(1, Math.trunc(Number(options.maxAlertsPerPoll ?? 500)));
		const overlapMs = Math.max(0, Number(options.overlapMinutes ?? 15)) * 60_000;
		// Every poll re-reads the late-arrival window, so pages are not tied to Max Alerts per Poll: a busy tenant
		// with thousands of alerts in the window still needs only a request or two per poll.
		const pageSize = Math.min(10_000, Math.max(1, Math.trunc(Number(options.pageSize ?? 0)) || Math.max(1000, maxItems)));
		const concurrency = Math.max(1, Math.trunc(Number(options.concurrency ?? 5)));
		const maxThrottleWaitMs = throttleWaitMs(this, options);
		const start = startBoundary(this, options);

		const staticData = this.getWorkflowStaticData('node') as unknown as Partial<TriggerState>;
		const previous: Record<string, StreamState> = staticData.v === STATE_VERSION && staticData.streams ? staticData.streams : {};
		const keyOf = (tenantId: string) => `${kind}:${tenantId.toLowerCase()}`;
		// Single-tenant streams were once keyed without the tenant ("<kind>:"); read such a state once.
		const legacyKey = `${kind}:`;

		// Fairness under the time budget: tenants not started before the deadline are skipped this poll and go first next poll.
		const resumeIndex = multiTenant && staticData.resumeAt ? tenants.findIndex((t) => keyOf(t.tenantId) === staticData.resumeAt) : -1;
		const order = resumeIndex > 0 ? [...tenants.slice(resumeIndex), ...tenants.slice(0, resumeIndex)] : tenants;
		let startedTenants = 0;

		const outcomes = await runPool(order, concurrency, async (tenant): Promise<TenantOutcome> => {
			if (startedTenants > 0 && deadline()) {
				return { tenant, tenantId: tenant.tenantId, key: keyOf(tenant.tenantId), emitted: [], skipped: true };
			}
			startedTenants++;
			let key = keyOf(tenant.tenantId);
			try {
				const remaining = Math.max(1000, stopAt - Date.now());
				const backend = await backendFor(tenant, Math.min(remaining, maxThrottleWaitMs));
				key = keyOf(backend.tenantId);
				const stored = previous[key] ?? (multiTenant ? undefined : previous[legacyKey]);
				const state = isStreamState(stored, kind) ? stored : createStreamState(kind, start);
				let progressed = false;
				const result = await pollStream(
					state,
					async (req) => {
						const page = await backend.listAlerts({
							filter: and(`${req.field} ge ${req.from}`, serverFilter),
							orderBy: `${req.field} asc`,
							top: req.top,
							skip: req.skip,
							expandEvidence: includeEvidence,
						});
						progressed ||= page.some((alert) => {
							const k = emittedKey(kind, alert as AlertRecord);
							return k !== undefined && !Object.hasOwn(state.seen, k);
						});
						return page;
					},
					{ pageSize, maxItems, overlapMs, watchFields: watchFields as WatchField[], deadline: () => Date.now() >= (progressed ? stopAt : hardStopAt) },
				);
				return { tenant, key, tenantId: backend.tenantId, emitted: result.emitted, state: result.state, error: result.error, portalUrl: (id) => backend.portalUrl(id) };
			} catch (error) {
				return { tenant, key, tenantId: tenant.tenantId, emitted: [], error };
			}
		});

		const alerts: INodeExecutionData[] = [];
		const failures: INodeExecutionData[] = [];
		const streams: Record<string, StreamState> = {};
		let resumeAt: string | undefined;
		for (const outcome of outcomes) {
			const key = outcome.key;
			const kept = previous[key] ?? (multiTenant ? undefined : previous[legacyKey]);
			// A tenant that failed or was skipped keeps its state; a new one starts at the Start From boundary of this poll.
			streams[key] = outcome.state ?? (isStreamState(kept, kind) ? kept : createStreamState(kind, start));
			if (outcome.skipped) {
				resumeAt ??= key;
				continue;
			}
			for (const e of outcome.emitted) {
				alerts.push({ json: decorateEmitted(e, kind, outcome) });
			}
			if (outcome.error !== undefined) {
				const info = describeFailure(outcome.error);
				const retryAfter = (outcome.error as { retryAfterMs?: number }).retryAfterMs;
				failures.push({
					json: {
						tenantId: outcome.tenantId || null,
						customerLabel: outcome.tenant.label ?? null,
						error: errorMessage(outcome.error),
						description: (outcome.error as { description?: string }).description ?? null,
						httpCode: info.status ?? null,
						retryAfterSeconds: retryAfter !== undefined ? Math.ceil(retryAfter / 1000) : null,
						alertsEmitted: outcome.emitted.length,
					},
				});
			}
		}
		// Streams of tenants no longer listed (or of the other event) are kept, so re-adding a tenant or switching the
		// event back neither replays history nor loses the late-arrival memory. Bounded: at most MAX_RETAINED_STREAMS.
		let retained = 0;
		for (const [key, state] of Object.entries(previous)) {
			if (Object.hasOwn(streams, key) || (key === legacyKey && !multiTenant)) continue;
			if (retained++ >= MAX_RETAINED_STREAMS) break;
			streams[key] = state;
		}

		// Static data changes only here, together with what is returned (n8n saves it when items are emitted).
		staticData.v = STATE_VERSION;
		staticData.streams = streams;
		if (resumeAt !== undefined) staticData.resumeAt = resumeAt;
		else delete staticData.resumeAt;

		if (!multiTenant && failures.length > 0 && alerts.length === 0) {
			const error = outcomes[0].error;
			if (error instanceof NodeApiError || error instanceof NodeOperationError) throw error;
			throw new NodeApiError(node, { message: errorMessage(error) } as JsonObject, { message: errorMessage(error) });
		}
		if (!multiTenant && failures.length > 0) {
			// Alerts were fetched before the failure: deliver them now; the next poll retries from there.
			this.logger.warn(`Defender trigger: a page failed after ${alerts.length} alerts were read; continuing next poll: ${failures[0].json.error as string}`);
			failures.length = 0;
		}
		if (alerts.length === 0 && failures.length === 0) return null;
		const main = outputMode === 'single' && alerts.length > 0 ? [{ json: { alerts: alerts.map((a) => a.json), count: alerts.length } }] : alerts;
		return [main, failures];
	}
}
