/**
 * One trigger poll over one or many tenants: pure (no n8n types, no HTTP). The caller injects `openTenant` (the
 * backend of a tenant), the clocks (host and API), the process memory of primed boundaries, and the previous static
 * data; it gets back the next static data, what to emit, what goes to Tenant Failures, whether the poll must emit
 * even without alerts (so n8n persists a new boundary) and, in single-tenant mode, the error to throw. Each tenant
 * is one stream of trigger/poller.ts (`pollStream`), keyed "<kind>:<tenant GUID>" (trigger/state.pure.ts).
 *
 * STATE INVARIANTS (P = previous static data, N = the `state` returned)
 * - N.v = TRIGGER_STATE_VERSION (2). P is read by readStoredState: versions 1 and 2; anything else, and any stream
 *   value that is not a stream state, is UNREADABLE (see RECOVERY), never silently replaced by a fresh start.
 * - Identity: a tenant's stream is keyed by the GUID of the tenant its token was issued for (`tenantGuid()`, the
 *   token's `tid`; no request when the token is cached). Its stored stream is looked up under that key, under the
 *   tenant as listed and as the backend names it (version-1 keys), under the legacy "<kind>:" key (single-tenant
 *   mode), and, when none of these exists, under any other domain key of P whose domain resolves (openTenant +
 *   tenantGuid; at most MAX_ALIAS_LOOKUPS domains per poll) to the same GUID.
 *   Of several found, the one with the greatest cursor is used (the others' alerts lie below its window). N holds
 *   it under the GUID key only. So a tenant re-spelled from domain to GUID or back neither replays nor loses.
 * - A tenant that was polled gets the state pollStream returned. A tenant that failed, or was skipped for lack of
 *   time, keeps its P stream unchanged; one without a stream gets one at its start boundary once its GUID is known.
 * - Streams in P of tenants not polled in this poll (no longer listed, other event kind, unreadable entries) are
 *   copied to N unchanged (domain keys resolved in this poll move to their GUID key), at most `maxRetainedStreams`
 *   of them (in P's order), so re-adding a tenant or switching the event back neither replays nor loses.
 * - N.resumeAt = "<kind>:<tenant as listed>" of the first tenant (in this poll's order) skipped for lack of time.
 * - Bytes: each polled stream gets `maxStateBytes` = totalStateBytes / (listed tenants) (poller.streamStateBudget).
 *
 * START BOUNDARY (a stream without state; issue 10 items 2 and 3)
 * - Start From = Now / Hours Back: the API's clock (`serverNow`, from the Date header of its responses; the caller
 *   may make one small request to learn it) minus START_MARGIN_MS (minus the hours). Only when the API's clock is
 *   unknown (no Date header): the host clock minus HOST_CLOCK_MARGIN_MS. A host clock minutes off neither loses
 *   the alerts after activation nor delivers the ones before it. Start Date: the date.
 * - A boundary this process primed for a stream is reused when a later poll finds the stream missing (n8n dropped
 *   the state that poll returned with null: scheduler ticks, durable cursors), and the poll then `persist`s: it
 *   emits (at least an empty execution) so n8n saves/commits it. With `stagedState` (n8n's durable poll cursors:
 *   static data is a staged copy committed only with an execution or by a scheduled tick) every poll that primes a
 *   stream persists, because the activation poll's null result is never committed.
 *
 * RECOVERY (unreadable state, issue 10 item 7)
 * - A tenant whose stored stream is damaged resumes just after that stream's own cursor (or at its floor), else
 *   after the greatest cursor of its kind found anywhere in P, else of any kind, else from "now" — never from Start
 *   From, which would deliver history again (trigger/state.pure.ts resumePoint) —
 *   and gets one `failures` entry (kind 'state') saying what was found and where it resumed. When P as a whole is
 *   unreadable (unknown version, wrong shape), tenants without a readable stream resume the same way and ONE
 *   `failures` entry (tenant '') reports it. These entries are reported in single-tenant mode too.
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
 * PAGE SIZE (automatic, issue 10 item 10): a poll reads the late-arrival window it already holds in `seen` (W
 * alerts) and then up to `maxItems` new ones, so the automatic `$top` is W + maxItems + 1 (at least AUTO_MIN_PAGE,
 * at most MAX_PAGE_SIZE, or AUTO_MAX_PAGE_WITH_EVIDENCE with evidence): one request per poll while that fits, so a
 * drain costs ⌈backlog / page⌉ requests for the new alerts plus one window re-read per poll, instead of re-reading
 * the growing window in pages of 1,000. A page size set in the node is used as given.
 *
 * OUTPUT POLICY
 * - `alerts` and `failures` follow this poll's tenant order; a tenant's alerts come before its failure; state
 *   recovery entries come first.
 * - Multi-tenant: a failing tenant never stops the others; it gives one `failures` entry (with the alerts it
 *   emitted before failing, which are in `alerts`). Nothing is thrown.
 * - Single tenant: API failures never go to `failures`. A failure with nothing emitted is `fatal` (the caller
 *   applies `state` and throws it); a failure after some alerts is `dropped` (the alerts are delivered, the next
 *   poll retries from there; the caller only logs it).
 *
 * WHAT HOLDS IN EACH n8n MODE (n8n 2.41.1; the caller's overlap guard makes polls of one trigger sequential per
 * process). The algorithm's guarantee (trigger/poller.ts) is relative to the state n8n hands back; n8n's hand-off is:
 * - Standard mode (default): static data lives in the active workflow in memory; when a poll emits, n8n starts
 *   saving it (`void saveStaticData`, not awaited) and starts the execution in parallel
 *   (packages/cli/src/workflows/triggers/trigger-execution-context.factory.ts `__emit`). A null poll saves nothing
 *   (the algorithm returns a deep-equal state then). The activation poll's static data is saved after activation
 *   (active-workflow-manager.ts `add()`). A crash (or a failed save, which n8n only logs) between the save and the
 *   execution's creation can lose the emitted alerts (saved, not run) or deliver them again after a restart (run,
 *   not saved): at-least/at-most once within that window of milliseconds, not exactly once.
 * - Scheduler (N8N_SCHEDULER_POLL_TRIGGERS_ENABLED): the same save on emit, but every tick rebuilds the workflow
 *   from the database, so a null tick's state is gone by the next tick: covered for new streams by the primed
 *   memory + `persist` above (one empty execution).
 * - Queue mode / multi-main: polls run in the main (the leader) and save as in standard mode; executions run on
 *   workers. After a leader change the new leader's activation poll reads the database copy: the same window as a
 *   crash. The overlap guard is per process; n8n runs a trigger's polls on one leader.
 * - Durable poll cursors (N8N_POLLER_DURABLE_CURSORS_ENABLED, opt-in in 2.41.1, needs the scheduler flags): the
 *   static data is committed in the same database transaction that creates the execution, fenced by the tick's
 *   lease (poll-cursor.service.ts `commitWithExecution`): exactly once across crashes. A null tick commits it alone.
 */
import type { AlertListQuery, AlertRecord } from '../backend/types';
import { fromDate, normalizeTimestamp } from '../helpers/timestamps';
import {
	type AlertRecord as StreamAlert,
	createStreamState,
	DEFAULT_TRIGGER_STATE_BYTES,
	type Emitted,
	type EventKind,
	isProcessed,
	MAX_PAGE_SIZE,
	pollStream,
	type StreamState,
	streamStateBudget,
	type TimeField,
	type WatchField,
} from './poller';
import { cursorTicks, readStoredState, recoveredBoundary, splitKey, type StoredState, streamKey, TRIGGER_STATE_VERSION, type TriggerState } from './state.pure';
import type { TenantEntry } from './tenants';

export type { TriggerState } from './state.pure';
export const STATE_VERSION = TRIGGER_STATE_VERSION;
/** Streams of tenants that are no longer listed, kept for when they come back. */
export const MAX_RETAINED_STREAMS = 1000;
/** Start From = Now: this much before the API's "now" (its Date header is to the second and a little behind). */
export const START_MARGIN_MS = 2_000;
/** Start From = Now when the API's clock is unknown: this much before the host's "now" (host clocks drift). */
export const HOST_CLOCK_MARGIN_MS = 5 * 60_000;
export const AUTO_MIN_PAGE = 1000;
/** Version-1 domain keys resolved to their GUID per poll at most (each may cost one token request, once). */
export const MAX_ALIAS_LOOKUPS = 200;
export const AUTO_MAX_PAGE_WITH_EVIDENCE = 1000;

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A stream page request: `filter` is the Defender for Endpoint OData of it (`<field> ge <from>` and the server filter);
 * `stream` says the same structurally, for an API that takes another query language (trigger/graphStream.ts).
 */
export type StreamListQuery = AlertListQuery & { stream?: { field: TimeField; from: string } };

/** What the orchestration needs of a tenant's backend (backend/types.ts AlertBackend is one). */
export interface TenantApi {
	/** tenant the calls go to, as the backend names it (GUID or domain) */
	readonly tenantId: string;
	listAlerts(query: StreamListQuery): Promise<AlertRecord[]>;
	/**
	 * False for a processed alert that a filter the API could not apply excludes: the stream consumes it (it is never
	 * read as new again) but it is not delivered. Absent: every emitted alert is delivered.
	 */
	deliver?(alert: AlertRecord): boolean;
	/** the API's own record of an alert the poller emitted (absent: the alert is that record) */
	rawOf?(alert: AlertRecord): AlertRecord;
	portalUrl(id: string): string;
	/** GUID of the tenant the token is issued for (the token's `tid`); undefined: use `tenantId` */
	tenantGuid?(): Promise<string | undefined>;
}

/** Opens a tenant's backend; `tenant.tenantId` '' is the credential's tenant. May reject (the tenant then fails). */
export type OpenTenant = (tenant: TenantEntry, maxThrottleWaitMs: number) => Promise<TenantApi>;

export type StartFrom = { mode: 'now' } | { mode: 'hoursBack'; hours: number } | { mode: 'date'; at: string };

export interface TriggerPlan {
	kind: EventKind;
	/** never empty in single-tenant mode ([{ tenantId: '' }]); may be empty with Tenants (all entries invalid) */
	tenants: TenantEntry[];
	multiTenant: boolean;
	serverFilter?: string;
	includeEvidence: boolean;
	watchFields: readonly WatchField[];
	maxItems: number;
	overlapMs: number;
	/** `$top`; undefined or 0: automatic (PAGE SIZE) */
	pageSize?: number;
	concurrency: number;
	maxThrottleWaitMs: number;
	/** Start From of a stream seen for the first time */
	startFrom: StartFrom;
	budgetMs: number;
}

/** Start boundaries this process primed, for one trigger (trigger/primed.pure.ts). */
export interface PrimedMemory {
	get(stream: string): string | undefined;
	set(stream: string, start: string): void;
	forget(stream: string): void;
}

export interface TriggerDeps {
	openTenant: OpenTenant;
	/** host milliseconds (Date.now in production): deadlines only */
	now: () => number;
	/**
	 * The API's time in ms for this tenant's API (`fromApi`), or the host's when unknown. The caller may send one
	 * small request through `api` to learn it. Default: the host clock, `fromApi: false`.
	 */
	serverNow?: (api?: TenantApi) => Promise<{ ms: number; fromApi: boolean }>;
	/** default: no memory */
	primed?: PrimedMemory;
	/** static data is a staged copy n8n commits only with an execution (durable poll cursors) */
	stagedState?: boolean;
	/** default MAX_RETAINED_STREAMS */
	maxRetainedStreams?: number;
	/** all streams' state bytes together (default poller.DEFAULT_TRIGGER_STATE_BYTES) */
	totalStateBytes?: number;
}

export interface EmittedAlert {
	emitted: Emitted;
	tenant: TenantEntry;
	/** the backend the alert came from (its tenantId and portal links) */
	api: TenantApi;
}

export interface TenantFailure {
	tenant: TenantEntry;
	/** the tenant's GUID when known, else the tenant as listed; '' for the state as a whole */
	tenantId: string;
	error: unknown;
	alertsEmitted: number;
	/** 'state': the stored state could not be read and was recovered (see RECOVERY); absent for API failures */
	kind?: 'state';
}

/** The stored state could not be read; `resumedFrom` is where the stream(s) continue. */
export class StateRecoveryError extends Error {
	constructor(
		message: string,
		readonly description: string,
		readonly resumedFrom: string,
	) {
		super(message);
		this.name = 'StateRecoveryError';
	}
}

export interface TriggerPollResult {
	/** the next static data: the caller stores it before returning or throwing */
	state: TriggerState;
	alerts: EmittedAlert[];
	/** Tenant Failures (multi-tenant API failures; state recoveries in both modes) */
	failures: TenantFailure[];
	/** single tenant, nothing emitted: the caller throws `fatal.error` */
	fatal?: TenantFailure;
	/** single tenant, failure after `alerts` were read: delivered anyway, the failure is only logged */
	dropped?: TenantFailure;
	/** the poll must emit even with nothing to deliver, so n8n persists a boundary (START BOUNDARY) */
	persist: boolean;
}

interface TenantOutcome {
	tenant: TenantEntry;
	/** stream key under which N stores it (GUID), when known */
	key?: string;
	/** not polled: the time budget was spent before this tenant's turn */
	skipped?: boolean;
	emitted: Emitted[];
	state?: StreamState;
	error?: unknown;
	api?: TenantApi;
	tenantId: string;
	recovery?: StateRecoveryError;
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

/** Automatic `$top` for a stream (PAGE SIZE). */
export function autoPageSize(state: StreamState, maxItems: number, includeEvidence: boolean): number {
	const windowed = state.seen && typeof state.seen === 'object' ? Object.keys(state.seen).length : 0;
	const cap = includeEvidence ? AUTO_MAX_PAGE_WITH_EVIDENCE : MAX_PAGE_SIZE;
	return Math.min(cap, Math.max(AUTO_MIN_PAGE, windowed + maxItems + 1));
}

export async function runTriggerPoll(plan: TriggerPlan, previousData: unknown, deps: TriggerDeps): Promise<TriggerPollResult> {
	const { kind, multiTenant, tenants } = plan;
	const { now } = deps;
	const stored: StoredState = readStoredState(previousData);
	const listedKey = (tenantId: string) => streamKey(kind, tenantId);
	const legacyKey = `${kind}:`;
	const consumed = new Set<string>();
	const serverNow = deps.serverNow ?? (async () => ({ ms: now(), fromApi: false }));
	let persist = false;

	const startedAt = now();
	const stopAt = startedAt + Math.max(0, plan.budgetMs - Math.max(2000, plan.budgetMs / 5));
	const hardStopAt = startedAt + Math.max(0, plan.budgetMs - Math.max(250, plan.budgetMs / 10));
	const deadline = () => now() >= stopAt;
	const maxStateBytes = streamStateBudget(Math.max(1, tenants.length), deps.totalStateBytes ?? DEFAULT_TRIGGER_STATE_BYTES);

	/** "now" by the API's clock (or the host's), minus its margin. */
	const nowBoundary = async (api?: TenantApi): Promise<{ at: number; fromApi: boolean }> => {
		const t = await serverNow(api);
		return { at: t.ms - (t.fromApi ? START_MARGIN_MS : HOST_CLOCK_MARGIN_MS), fromApi: t.fromApi };
	};
	const startFor = async (api?: TenantApi): Promise<string> => {
		const s = plan.startFrom;
		if (s.mode === 'date') return normalizeTimestamp(s.at);
		const { at } = await nowBoundary(api);
		return fromDate(new Date(at - (s.mode === 'hoursBack' ? s.hours * 3_600_000 : 0)));
	};

	// Domain keys of P (version 1) resolved to the GUID their token is issued for, once per poll.
	const aliasCache = new Map<string, Promise<string | undefined>>();
	const resolveAlias = (domain: string): Promise<string | undefined> => {
		let p = aliasCache.get(domain);
		if (!p) {
			if (aliasCache.size >= MAX_ALIAS_LOOKUPS) return Promise.resolve(undefined);
			p = (async () => {
				try {
					const api = await deps.openTenant({ tenantId: domain }, Math.max(1000, Math.min(plan.maxThrottleWaitMs, stopAt - now())));
					return (await api.tenantGuid?.())?.toLowerCase();
				} catch {
					return undefined; // stays under its domain key (retained)
				}
			})();
			aliasCache.set(domain, p);
		}
		return p;
	};
	const resolvedAliases = new Map<string, string>();
	const domainKeys = () =>
		[...stored.valid.keys()].filter((k) => {
			const { kind: k0, tenant } = splitKey(k);
			return k0 === kind && tenant !== '' && !GUID_RE.test(tenant) && !consumed.has(k);
		});

	/** The stored stream of a tenant whose GUID is `guid` (see STATE INVARIANTS: Identity). */
	const findStored = async (guid: string, tenant: TenantEntry, api: TenantApi): Promise<{ state?: StreamState; damagedKey?: string }> => {
		const candidates = [...new Set([streamKey(kind, guid), tenant.tenantId ? listedKey(tenant.tenantId) : undefined, listedKey(api.tenantId), multiTenant ? undefined : legacyKey])].filter(
			(k): k is string => k !== undefined,
		);
		let best: StreamState | undefined;
		let damagedKey: string | undefined;
		const take = (k: string) => {
			const s = stored.valid.get(k);
			if (s && s.kind === kind) {
				consumed.add(k);
				if (!best || cursorTicks(s) > cursorTicks(best)) best = s;
			}
		};
		for (const k of candidates) {
			take(k);
			if (stored.damaged.has(k)) {
				consumed.add(k);
				damagedKey ??= k;
			}
		}
		if (!best && !damagedKey) {
			for (const k of domainKeys()) {
				const domain = splitKey(k).tenant;
				const g = await resolveAlias(domain);
				if (g) resolvedAliases.set(k, g);
				if (g === guid) take(k);
			}
		}
		return { state: best, damagedKey };
	};

	const resumeIndex = multiTenant && stored.resumeAt ? tenants.findIndex((t) => listedKey(t.tenantId) === stored.resumeAt) : -1;
	const order = resumeIndex > 0 ? [...tenants.slice(resumeIndex), ...tenants.slice(0, resumeIndex)] : tenants;
	let startedTenants = 0;
	let wholeStateRecovered: string | undefined;

	/** A tenant whose GUID (its stream key) is not known yet: remember this poll's boundary for it (process memory). */
	const rememberListed = async (tenant: TenantEntry): Promise<void> => {
		if (!deps.primed || !tenant.tenantId || plan.startFrom.mode === 'date' || deps.primed.get(listedKey(tenant.tenantId)) !== undefined) return;
		if (stored.valid.has(listedKey(tenant.tenantId))) return;
		deps.primed.set(listedKey(tenant.tenantId), await startFor());
	};

	const outcomes = await runPool(order, plan.concurrency, async (tenant): Promise<TenantOutcome> => {
		if (startedTenants > 0 && deadline()) {
			await rememberListed(tenant);
			return { tenant, tenantId: tenant.tenantId, emitted: [], skipped: true };
		}
		startedTenants++;
		let key: string | undefined;
		let tenantId = tenant.tenantId;
		let created: StreamState | undefined;
		let recovery: StateRecoveryError | undefined;
		try {
			const remaining = Math.max(1000, stopAt - now());
			const api = await deps.openTenant(tenant, Math.min(remaining, plan.maxThrottleWaitMs));
			const guid = ((await api.tenantGuid?.()) ?? api.tenantId).toLowerCase();
			tenantId = guid || api.tenantId;
			key = streamKey(kind, tenantId);
			const found = await findStored(tenantId, tenant, api);
			let state: StreamState;
			if (found.state) {
				state = found.state;
				deps.primed?.forget(key);
			} else if (found.damagedKey || (stored.problem && !stored.fresh)) {
				const boundary = recoveredBoundary(stored, kind, found.damagedKey);
				const from = boundary ?? fromDate(new Date((await nowBoundary(api)).at));
				state = createStreamState(kind, from);
				if (found.damagedKey && !stored.problem) {
					recovery = new StateRecoveryError(
						`The trigger's saved state for this tenant could not be read; resumed from ${from}`,
						boundary
							? `Its stored position was damaged. Polling continues from the newest position found in the saved state (${from}), not from Start From, so nothing before it is delivered again; an alert that arrived late before it may be missing.`
							: `Nothing usable was found in the saved state, so polling continues from now (${from}); alerts since the last delivered one may be missing.`,
						from,
					);
				} else wholeStateRecovered ??= from;
			} else {
				const primed = deps.primed?.get(key) ?? (tenant.tenantId ? deps.primed?.get(listedKey(tenant.tenantId)) : undefined);
				if (primed !== undefined) {
					// This process primed it before and n8n did not keep it: same boundary, and make n8n persist it now.
					state = createStreamState(kind, primed);
					persist = true;
				} else {
					state = createStreamState(kind, await startFor(api));
					deps.primed?.set(key, state.cursor);
					if (deps.stagedState) persist = true;
				}
			}
			created = state;
			let progressed = false;
			const result = await pollStream(
				state,
				async (req) => {
					const page = await api.listAlerts({
						filter: and(`${req.field} ge ${req.from}`, plan.serverFilter),
						stream: { field: req.field, from: req.from },
						orderBy: `${req.field} asc`,
						top: req.top,
						skip: req.skip,
						expandEvidence: plan.includeEvidence,
					});
					progressed ||= page.some((alert) => !isProcessed(state, alert as StreamAlert));
					return page;
				},
				{
					pageSize: plan.pageSize && plan.pageSize > 0 ? plan.pageSize : autoPageSize(state, plan.maxItems, plan.includeEvidence),
					maxItems: plan.maxItems,
					overlapMs: plan.overlapMs,
					watchFields: plan.watchFields,
					maxStateBytes,
					deadline: () => now() >= (progressed ? stopAt : hardStopAt),
				},
			);
			return { tenant, key, tenantId, emitted: result.emitted, state: result.state, error: result.error, api, recovery };
		} catch (error) {
			if (!key) await rememberListed(tenant).catch(() => undefined);
			return { tenant, key, tenantId, emitted: [], error, state: created, recovery };
		}
	});

	const alerts: EmittedAlert[] = [];
	const failures: TenantFailure[] = [];
	const recoveries: TenantFailure[] = [];
	const streams: Record<string, StreamState> = {};
	let resumeAt: string | undefined;
	for (const outcome of outcomes) {
		const { key, api } = outcome;
		if (key && outcome.state) streams[key] = outcome.state;
		if (outcome.recovery) recoveries.push({ tenant: outcome.tenant, tenantId: outcome.tenantId, error: outcome.recovery, alertsEmitted: 0, kind: 'state' });
		if (outcome.skipped) {
			resumeAt ??= listedKey(outcome.tenant.tenantId);
			continue;
		}
		if (api) for (const emitted of outcome.emitted) if (api.deliver?.(emitted.alert) ?? true) alerts.push({ emitted, tenant: outcome.tenant, api });
		if (outcome.error !== undefined) {
			failures.push({ tenant: outcome.tenant, tenantId: outcome.tenantId, error: outcome.error, alertsEmitted: outcome.emitted.length });
		}
	}
	if (stored.problem && !stored.fresh) {
		const from = wholeStateRecovered ?? recoveredBoundary(stored, kind);
		recoveries.unshift({
			tenant: { tenantId: '' },
			tenantId: '',
			alertsEmitted: 0,
			kind: 'state',
			error: new StateRecoveryError(
				`The trigger's saved state could not be read: ${stored.problem}`,
				from
					? `Each tenant without a readable stream resumes from the newest position found for it in that data (its own cursor, else the newest of any stream, ${from} here), not from Start From, so nothing before it is delivered again; an alert that arrived late before it may be missing.`
					: 'No position could be recovered from it: streams without a readable position start from now; alerts since the last delivered one may be missing.',
				from ?? '',
			),
		});
	}

	// Streams of P not polled now: kept (listed-but-skipped tenants first, then up to maxRetained others).
	const maxRetained = deps.maxRetainedStreams ?? MAX_RETAINED_STREAMS;
	const listed = new Set(tenants.filter((t) => t.tenantId).map((t) => listedKey(t.tenantId)));
	let retained = 0;
	const keep = (k: string, v: unknown) => {
		if (Object.hasOwn(streams, k) || consumed.has(k)) return;
		if (!listed.has(k)) {
			if (retained >= maxRetained) return;
			retained++;
		}
		streams[k] = v as StreamState;
	};
	for (const [k, v] of stored.valid) {
		if (k === legacyKey && !multiTenant) continue;
		const alias = resolvedAliases.get(k);
		keep(alias ? streamKey(kind, alias) : k, v);
	}
	for (const [k, d] of stored.damaged) keep(k, d.raw);

	const state: TriggerState = { v: TRIGGER_STATE_VERSION, streams, ...(resumeAt !== undefined ? { resumeAt } : {}) };
	if (multiTenant) return { state, alerts, failures: [...recoveries, ...failures], persist };
	if (failures.length === 0) return { state, alerts, failures: recoveries, persist };
	// Single tenant: API failures are thrown, or only logged when alerts came first.
	return alerts.length === 0 && recoveries.length === 0
		? { state, alerts, failures: [], fatal: failures[0], persist }
		: { state, alerts, failures: recoveries, dropped: failures[0], persist };
}

/** Writes `state` into n8n's static data object in place (n8n saves it when the poll emits). */
export function writeTriggerState(target: Record<string, unknown>, state: TriggerState): void {
	// `incidents` holds the incident events' own state (trigger/incidentStream.pure.ts), kept while alerts are polled
	for (const k of Object.keys(target)) if (k !== 'v' && k !== 'streams' && k !== 'resumeAt' && k !== 'incidents') delete target[k];
	target.v = state.v;
	target.streams = state.streams;
	if (state.resumeAt !== undefined) target.resumeAt = state.resumeAt;
	else delete target.resumeAt;
}
