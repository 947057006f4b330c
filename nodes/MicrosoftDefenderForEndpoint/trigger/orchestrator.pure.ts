/**
 * One trigger poll over one or many tenants: pure (no n8n types, no HTTP). The caller injects `openTenant` (the
 * backend of a tenant), the clock, and the previous static data; it gets back the next static data, what to emit,
 * what goes to Tenant Failures and, in single-tenant mode, the error to throw. Each tenant is one stream of
 * trigger/poller.ts (`pollStream`), keyed "<kind>:<tenant id, lower case>".
 *
 * STATE INVARIANTS (P = previous static data, N = the `state` returned)
 * - N.v = STATE_VERSION. P.streams is read only when P.v = STATE_VERSION (anything else starts from no streams);
 *   P.resumeAt is honoured in multi-tenant mode only.
 * - A tenant that was polled gets the state pollStream returned. A tenant that failed, or was skipped for lack of
 *   time, keeps its P stream unchanged; one without a (valid) P stream gets a fresh one at `start`.
 * - Streams in P of tenants not polled in this poll (no longer listed, or of the other event kind) are copied to
 *   N unchanged, at most `maxRetainedStreams` of them (in P's order), so re-adding a tenant or switching the event
 *   back neither replays history nor loses the late-arrival memory.
 * - Legacy key: single-tenant streams were once keyed "<kind>:" (no tenant). In single-tenant mode a missing
 *   "<kind>:<tenant>" stream is read from "<kind>:" and N holds it under the new key only (the old key is
 *   dropped). In multi-tenant mode the legacy key is never read, only retained like any unlisted stream.
 * - N.resumeAt = key of the first tenant (in this poll's order) skipped for lack of time; absent when none was.
 *
 * SCHEDULING
 * - At most `concurrency` tenants are in flight at once. Tenants start in list order, rotated so that P.resumeAt
 *   (multi-tenant only) goes first: tenants skipped by one poll are the first ones of the next.
 * - Deadlines from `now()` at the start and `budgetMs`: soft = budget − max(2 s, budget / 5), hard = budget −
 *   max(250 ms, budget / 10), leaving time to build the output and let n8n save the state. The first tenant
 *   always starts; a later one not started before the soft deadline is skipped. A started stream fetches no page
 *   after the soft deadline once a page held an alert it had not processed; until then (it has only re-read the
 *   late-arrival window, so stopping would leave its state unchanged and the next poll would re-read the same
 *   pages for ever) it may go on until the hard deadline.
 * - The throttle wait a tenant may spend is min(maxThrottleWaitMs, max(1 s, time to the soft deadline)).
 *
 * OUTPUT POLICY
 * - `alerts` and `failures` follow this poll's tenant order; a tenant's alerts come before its failure.
 * - Multi-tenant: a failing tenant never stops the others; it gives one `failures` entry (with the alerts it
 *   emitted before failing, which are in `alerts`). Nothing is thrown.
 * - Single tenant: no `failures` ever. A failure with nothing emitted is `fatal` (the caller applies `state` and
 *   throws it); a failure after some alerts is `dropped` (the alerts are delivered, the next poll retries from
 *   there; the caller only logs it).
 */
import type { AlertListQuery, AlertRecord } from '../backend/types';
import {
	type AlertRecord as StreamAlert,
	createStreamState,
	type Emitted,
	emittedKey,
	type EventKind,
	isStreamState,
	pollStream,
	type StreamState,
	type WatchField,
} from './poller';
import type { TenantEntry } from './tenants';

export const STATE_VERSION = 1;
/** Streams of tenants that are no longer listed, kept for when they come back. */
export const MAX_RETAINED_STREAMS = 1000;

/** The trigger node's static data. */
export interface TriggerState {
	v: number;
	/** "<kind>:<tenant id>" → the stream's state (trigger/poller.ts) */
	streams: Record<string, StreamState>;
	/** Key of the first tenant a poll skipped for lack of time: the next poll starts there. */
	resumeAt?: string;
}

/** What the orchestration needs of a tenant's backend (backend/types.ts AlertBackend is one). */
export interface TenantApi {
	/** tenant the calls go to, as the backend names it (GUID or domain) */
	readonly tenantId: string;
	listAlerts(query: AlertListQuery): Promise<AlertRecord[]>;
	portalUrl(id: string): string;
}

/** Opens a tenant's backend; `tenant.tenantId` '' is the credential's tenant. May reject (the tenant then fails). */
export type OpenTenant = (tenant: TenantEntry, maxThrottleWaitMs: number) => Promise<TenantApi>;

export interface TriggerPlan {
	kind: EventKind;
	/** never empty; [{ tenantId: '' }] in single-tenant mode */
	tenants: TenantEntry[];
	multiTenant: boolean;
	serverFilter?: string;
	includeEvidence: boolean;
	watchFields: readonly WatchField[];
	maxItems: number;
	overlapMs: number;
	pageSize: number;
	concurrency: number;
	maxThrottleWaitMs: number;
	/** Start From boundary of a stream seen for the first time */
	start: string;
	budgetMs: number;
}

export interface TriggerDeps {
	openTenant: OpenTenant;
	/** milliseconds (Date.now in production) */
	now: () => number;
	/** default MAX_RETAINED_STREAMS */
	maxRetainedStreams?: number;
}

export interface EmittedAlert {
	emitted: Emitted;
	tenant: TenantEntry;
	/** the backend the alert came from (its tenantId and portal links) */
	api: TenantApi;
}

export interface TenantFailure {
	tenant: TenantEntry;
	/** the backend's tenant id when the failure came after alerts were emitted, else the tenant as listed */
	tenantId: string;
	error: unknown;
	alertsEmitted: number;
}

export interface TriggerPollResult {
	/** the next static data: the caller stores it before returning or throwing */
	state: TriggerState;
	alerts: EmittedAlert[];
	/** Tenant Failures (multi-tenant only) */
	failures: TenantFailure[];
	/** single tenant, nothing emitted: the caller throws `fatal.error` */
	fatal?: TenantFailure;
	/** single tenant, failure after `alerts` were read: delivered anyway, the failure is only logged */
	dropped?: TenantFailure;
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
	api?: TenantApi;
	tenantId: string;
}

export async function runPool<T, R>(items: T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
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

const and = (...parts: Array<string | undefined>) => parts.filter(Boolean).map((p) => `(${p})`).join(' and ');

export async function runTriggerPoll(plan: TriggerPlan, previousData: Partial<TriggerState>, deps: TriggerDeps): Promise<TriggerPollResult> {
	const { kind, multiTenant, tenants } = plan;
	const { now } = deps;
	const previous: Record<string, StreamState> = previousData.v === STATE_VERSION && previousData.streams ? previousData.streams : {};
	const keyOf = (tenantId: string) => `${kind}:${tenantId.toLowerCase()}`;
	const legacyKey = `${kind}:`;
	const storedFor = (key: string): unknown => previous[key] ?? (multiTenant ? undefined : previous[legacyKey]);

	const startedAt = now();
	const stopAt = startedAt + Math.max(0, plan.budgetMs - Math.max(2000, plan.budgetMs / 5));
	const hardStopAt = startedAt + Math.max(0, plan.budgetMs - Math.max(250, plan.budgetMs / 10));
	const deadline = () => now() >= stopAt;

	const resumeIndex = multiTenant && previousData.resumeAt ? tenants.findIndex((t) => keyOf(t.tenantId) === previousData.resumeAt) : -1;
	const order = resumeIndex > 0 ? [...tenants.slice(resumeIndex), ...tenants.slice(0, resumeIndex)] : tenants;
	let startedTenants = 0;

	const outcomes = await runPool(order, plan.concurrency, async (tenant): Promise<TenantOutcome> => {
		if (startedTenants > 0 && deadline()) {
			return { tenant, tenantId: tenant.tenantId, key: keyOf(tenant.tenantId), emitted: [], skipped: true };
		}
		startedTenants++;
		let key = keyOf(tenant.tenantId);
		try {
			const remaining = Math.max(1000, stopAt - now());
			const api = await deps.openTenant(tenant, Math.min(remaining, plan.maxThrottleWaitMs));
			key = keyOf(api.tenantId);
			const stored = storedFor(key);
			const state = isStreamState(stored, kind) ? stored : createStreamState(kind, plan.start);
			let progressed = false;
			const result = await pollStream(
				state,
				async (req) => {
					const page = await api.listAlerts({
						filter: and(`${req.field} ge ${req.from}`, plan.serverFilter),
						orderBy: `${req.field} asc`,
						top: req.top,
						skip: req.skip,
						expandEvidence: plan.includeEvidence,
					});
					progressed ||= page.some((alert) => {
						const k = emittedKey(kind, alert as StreamAlert);
						return k !== undefined && !Object.hasOwn(state.seen, k);
					});
					return page;
				},
				{ pageSize: plan.pageSize, maxItems: plan.maxItems, overlapMs: plan.overlapMs, watchFields: plan.watchFields, deadline: () => now() >= (progressed ? stopAt : hardStopAt) },
			);
			return { tenant, key, tenantId: api.tenantId, emitted: result.emitted, state: result.state, error: result.error, api };
		} catch (error) {
			return { tenant, key, tenantId: tenant.tenantId, emitted: [], error };
		}
	});

	const alerts: EmittedAlert[] = [];
	const failures: TenantFailure[] = [];
	const streams: Record<string, StreamState> = {};
	let resumeAt: string | undefined;
	for (const outcome of outcomes) {
		const { key, api } = outcome;
		const kept = storedFor(key);
		streams[key] = outcome.state ?? (isStreamState(kept, kind) ? kept : createStreamState(kind, plan.start));
		if (outcome.skipped) {
			resumeAt ??= key;
			continue;
		}
		if (api) for (const emitted of outcome.emitted) alerts.push({ emitted, tenant: outcome.tenant, api });
		if (outcome.error !== undefined) {
			failures.push({ tenant: outcome.tenant, tenantId: outcome.tenantId, error: outcome.error, alertsEmitted: outcome.emitted.length });
		}
	}
	const maxRetained = deps.maxRetainedStreams ?? MAX_RETAINED_STREAMS;
	let retained = 0;
	for (const [key, state] of Object.entries(previous)) {
		if (Object.hasOwn(streams, key) || (key === legacyKey && !multiTenant)) continue;
		if (retained++ >= maxRetained) break;
		streams[key] = state;
	}

	const state: TriggerState = { v: STATE_VERSION, streams, ...(resumeAt !== undefined ? { resumeAt } : {}) };
	if (multiTenant || failures.length === 0) return { state, alerts, failures };
	// Single tenant: no Tenant Failures output; the one failure is thrown, or only logged when alerts came first.
	return alerts.length === 0 ? { state, alerts, failures: [], fatal: failures[0] } : { state, alerts, failures: [], dropped: failures[0] };
}

/** Writes `state` into n8n's static data object in place (n8n saves it when the poll emits). */
export function writeTriggerState(target: Partial<TriggerState>, state: TriggerState): void {
	target.v = state.v;
	target.streams = state.streams;
	if (state.resumeAt !== undefined) target.resumeAt = state.resumeAt;
	else delete target.resumeAt;
}
