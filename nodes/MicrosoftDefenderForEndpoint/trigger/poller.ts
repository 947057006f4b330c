/**
 * Pure polling algorithm for the Defender alert trigger: no n8n types, no HTTP.
 *
 * One "stream" is one tenant × one event kind:
 * - `created`: new alerts, ordered by `alertCreationTime`; one event per alert id;
 * - `updated`: alert changes, ordered by `lastUpdateTime`; one event per (id, lastUpdateTime) version,
 *   optionally only when a watched field (status, classification, …) changed.
 *
 * The caller gives a `fetchPage` that runs `GET /api/alerts?$filter=<field> ge <from>&$orderby=<field> asc
 * &$top=<top>&$skip=<skip>`, and stores the returned `state` (plain JSON) in workflow static data.
 *
 * STATE INVARIANTS (S = a state returned by pollStream or createStreamState)
 * - `cursor` only moves forward. It is the greatest field timestamp of an alert that was *processed*
 *   (emitted, or recognised as already seen / not worth emitting), or the start boundary.
 * - `floor` is the lower bound of the next query, never lowered: max(start, cursor − overlap) at the time
 *   of the last poll, raised further only by a seen-map overflow that drops entries and counts them in
 *   `seenOverflow` (see below). Queries never go below it.
 * - `seen` holds the dedup key of every processed item whose field timestamp is in [floor, cursor].
 *   Entries below `floor` are pruned: no query can return them again, so the map is bounded by what lies
 *   inside the overlap window, not by history.
 *
 * GUARANTEES
 * - No duplicates: an item is emitted only if its key is not in `seen`; once emitted it stays in `seen` as
 *   long as a query can return it (entries leave only when they fall below `floor`, and queries start at
 *   ≥ floor). This survives restarts at any point: the state is emitted together with the items, and a
 *   state that is discarded (n8n's legacy persistence drops the static data of polls that returned no
 *   items) only ever rolls back to a state saved together with everything emitted so far.
 * - No losses: every alert whose field timestamp t ≥ start is emitted, provided it became visible in the
 *   API no later than t + overlap ("late arrival inside the overlap window"). Proof sketch: the cursor
 *   never exceeds the timestamp of an item that was visible when it was processed, so when the alert
 *   becomes visible cursor ≤ t + overlap and the next query starts at ≤ t. Every poll reads in ascending
 *   order and stops early only *before* an unprocessed item, keeping cursor = last processed timestamp
 *   (never a page's last item), so the cursor cannot pass t before the alert is processed. Alerts whose
 *   timestamp is already older than cursor − overlap when they become visible are out of reach: that is
 *   what the overlap window is for. Updated stream: the API shows only an alert's current version, so a
 *   version replaced before any poll read it is never seen; the newest version of every alert always is.
 *   (A brand-new alert is also its first version; with watchFields it is emitted only if it already differs
 *   from the creation defaults.)
 * - n8n persistence: static data is saved only when a poll emits. A poll that emits nothing returns a
 *   deep-equal state (created mode, and updated mode without watchFields), so nothing is lost by not saving
 *   it. In watch mode the unsaved part is only suppressed versions (no watched change); after a restart they
 *   are re-read and decided identically, because a suppressed version's watched fields equal the fingerprint.
 * - Errors: if a page fails before anything was emitted, pollStream rejects (input state still valid). If
 *   items were emitted, it resolves with them, `stoppedBy: 'error'`, and a state advanced only past them.
 * - maxItems: the poll stops at the first item that would be emitted beyond `maxItems` (already-seen and
 *   suppressed items after the last emitted one are still consumed), so `drained` is exact.
 * - Progress: every page either moves the lower bound forward or (when a whole page is one tie group at
 *   the lower bound) increases `$skip`, so a poll never loops and a backlog of any size drains over polls
 *   of at most `maxItems` emitted items each, in ascending order.
 *
 * ASSUMPTIONS
 * - The server honours `field ge from` and `$orderby field asc`. Ties (equal timestamps) come back in an
 *   order that is stable between the requests of ONE poll; this is needed only for the `$skip` step inside a
 *   single tie group larger than a page. Items inserted/removed/moved while one poll pages can shift `$skip`;
 *   the skipped item then has a timestamp ≤ the new cursor and is re-read by the next poll while it lies
 *   inside the overlap window.
 * - Timestamps are compared exactly, to the 100 ns tick, through helpers/timestamps.ts (never `Date`).
 *
 * BOUNDED MEMORY AND ITS ONE CONSEQUENCE
 * - `seen` above `maxSeen` after pruning: the oldest whole tie groups are dropped and `floor` is raised to the
 *   oldest kept timestamp; the dropped count is added to `seenOverflow`. Dropped items lie below the new
 *   floor, so they are never re-read: still no duplicates and no stall. The price: an alert with a
 *   timestamp below the raised floor that becomes visible later (a late arrival) is not delivered. Only
 *   then can an alert be lost. (The alternative "keep the newest maxSeen entries, query from cursor − overlap
 *   anyway" re-emits the dropped items on every poll and, when there are more of them than `maxItems`,
 *   never gets past them: duplicates forever and a stalled trigger. See the test suite.)
 *   The newest tie group is always kept whole, so the cap can only be exceeded by more than `maxSeen`
 *   alerts sharing one 100 ns tick. Then nothing is dropped and the floor is NOT raised: a raise without a
 *   drop would put late arrivals between cursor − overlap and that tick out of reach with no overflow
 *   recorded (issue 10 item 9). So every raise of the floor above max(start, cursor − overlap) comes with a
 *   non-zero increase of `seenOverflow`, and a lost alert always lies below a floor raised by such a poll.
 * - `fingerprints` above `maxFingerprints`: the alerts with the oldest lastUpdateTime are forgotten. A later
 *   update of such an alert is compared against creation defaults (`previousKnown: false`), so it may be
 *   emitted although the watched fields did not change since its last event.
 */

import { addMilliseconds, fromTicks, maxTimestamp, normalizeTimestamp, toTicks } from '../helpers/timestamps';

export type EventKind = 'created' | 'updated';
export type TimeField = 'alertCreationTime' | 'lastUpdateTime';
export type WatchField = 'status' | 'classification' | 'determination' | 'assignedTo' | 'comments';
export const WATCH_FIELDS: readonly WatchField[] = [
	'status',
	'classification',
	'determination',
	'assignedTo',
	'comments',
];

export interface AlertRecord {
	id: string;
	alertCreationTime?: string | null;
	lastUpdateTime?: string | null;
	[k: string]: unknown;
}

export interface PageRequest {
	field: TimeField;
	/** Inclusive lower bound (`ge`), canonical 7-digit form. */
	from: string;
	skip: number;
	top: number;
	order: 'asc';
}

/** Items with field ≥ from, ordered by field ascending (ties in a stable order), `top` items after `skip`. */
export type FetchPage = (req: PageRequest) => Promise<AlertRecord[]>;

/** What the updated stream remembers per alert. Plain JSON. */
export interface Fingerprint {
	lastUpdateTime: string | null;
	status: string | null;
	classification: string | null;
	determination: string | null;
	assignedTo: string | null;
	commentsCount: number;
}

export interface StreamState {
	v: 1;
	kind: EventKind;
	/** Greatest processed field timestamp (or the start boundary), canonical. */
	cursor: string;
	/** Lower bound of the next query; `seen` is complete from here up to `cursor`. Canonical. */
	floor: string;
	/** Dedup key → field timestamp (canonical). created: key = id; updated: key = `${id}@${lastUpdateTime}`. */
	seen: Record<string, string>;
	/** updated only: alert id → last processed version. */
	fingerprints?: Record<string, Fingerprint>;
	/** Total number of seen entries ever dropped by the `maxSeen` cap (absent while 0). */
	seenOverflow?: number;
}

export interface PollOptions {
	/** `$top`, 1..10000. */
	pageSize: number;
	/** Max alerts emitted per poll (≥ 1). */
	maxItems: number;
	/** Late-arrival window in milliseconds (≥ 0). */
	overlapMs: number;
	/** updated mode only: emit a version only when one of these changed. */
	watchFields?: readonly WatchField[];
	/** Cap on the seen map (default 20000). */
	maxSeen?: number;
	/** Cap on fingerprints (default 10000); the least recently updated alerts are forgotten first. */
	maxFingerprints?: number;
	/** True when the poll's time budget is spent: no further page is fetched. */
	deadline?: () => boolean;
}

export interface Emitted {
	alert: AlertRecord;
	/** Watch mode only: the watched fields that changed. */
	changedFields?: WatchField[];
	/** Watch mode only: old value of each changed field (`comments`: the old comment count). */
	previous?: Record<string, unknown>;
	/** Watch mode only: false when the alert was unknown and was compared against creation defaults. */
	previousKnown?: boolean;
}

export interface PollResult {
	emitted: Emitted[];
	state: StreamState;
	pagesFetched: number;
	/** True when the last page was short: everything visible at or after the lower bound was read. */
	drained: boolean;
	stoppedBy?: 'maxItems' | 'deadline' | 'error';
	/** Set with stoppedBy 'error' (a page failed after some items were emitted). */
	error?: unknown;
	/** Items without an id or a parseable field timestamp, or (server fault) below the lower bound. */
	skippedInvalid: number;
	/** updated mode: new versions that were processed but not emitted (no watched change, or stale). */
	suppressed: number;
}

export const DEFAULT_MAX_SEEN = 20000;
export const DEFAULT_MAX_FINGERPRINTS = 10000;
export const MAX_PAGE_SIZE = 10000;

/** Values a new alert starts with; the reference when an alert is first seen in the updated stream. */
export const CREATION_DEFAULTS: Readonly<Record<WatchField, unknown>> = Object.freeze({
	status: 'New',
	classification: null,
	determination: null,
	assignedTo: null,
	comments: 0,
});

export function fieldFor(kind: EventKind): TimeField {
	return kind === 'created' ? 'alertCreationTime' : 'lastUpdateTime';
}

export function createStreamState(kind: EventKind, start: string): StreamState {
	if (kind !== 'created' && kind !== 'updated') throw new Error(`Unknown event kind "${String(kind)}"`);
	const s = normalizeTimestamp(start);
	const state: StreamState = { v: 1, kind, cursor: s, floor: s, seen: {} };
	if (kind === 'updated') state.fingerprints = {};
	return state;
}

/** True when `value` looks like a state this module wrote for `kind` (use it before trusting static data). */
export function isStreamState(value: unknown, kind?: EventKind): value is StreamState {
	if (typeof value !== 'object' || value === null) return false;
	const s = value as Partial<StreamState>;
	if (s.v !== 1 || (s.kind !== 'created' && s.kind !== 'updated')) return false;
	if (kind !== undefined && s.kind !== kind) return false;
	if (parseTicks(s.cursor) === undefined || parseTicks(s.floor) === undefined) return false;
	if (typeof s.seen !== 'object' || s.seen === null || Array.isArray(s.seen)) return false;
	if (s.fingerprints !== undefined && (typeof s.fingerprints !== 'object' || s.fingerprints === null)) return false;
	return true;
}

/** Inclusive lower bound of the next query: max(floor, cursor − overlap). */
export function windowStart(state: Pick<StreamState, 'cursor' | 'floor'>, overlapMs: number): string {
	return normalizeTimestamp(maxTimestamp(state.floor, addMilliseconds(state.cursor, -overlapMs)));
}

/** Dedup key of an alert in a stream, or undefined when the id or the field timestamp is unusable. */
export function emittedKey(kind: EventKind, alert: AlertRecord): string | undefined {
	if (typeof alert?.id !== 'string' || alert.id === '') return undefined;
	const t = parseTicks(alert[fieldFor(kind)]);
	if (t === undefined) return undefined;
	return kind === 'created' ? alert.id : `${alert.id}@${fromTicks(t)}`;
}

/**
 * For the manual "Fetch test event" mode: the newest `top` alerts by the stream's field. Needs no state;
 * the caller builds `$orderby=<field> desc&$top=<top>` and must not touch the stored state.
 */
export function sampleRequest(kind: EventKind, top = 1): { field: TimeField; order: 'desc'; top: number } {
	return { field: fieldFor(kind), order: 'desc', top: Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(top))) };
}

function str(value: unknown): string | null {
	if (value === undefined || value === null) return null;
	return typeof value === 'string' ? value : JSON.stringify(value);
}

export function fingerprintOf(alert: AlertRecord): Fingerprint {
	const t = parseTicks(alert.lastUpdateTime);
	// Only the number of comments is kept: a change is "comments added" (comment text would only bloat the state).
	const comments = Array.isArray(alert.comments) ? (alert.comments as unknown[]) : [];
	return {
		lastUpdateTime: t === undefined ? null : fromTicks(t),
		status: str(alert.status),
		classification: str(alert.classification),
		determination: str(alert.determination),
		assignedTo: str(alert.assignedTo),
		commentsCount: comments.length,
	};
}

function watchedValue(fp: Fingerprint, field: WatchField): unknown {
	return field === 'comments' ? fp.commentsCount : fp[field];
}

/**
 * Watched fields that differ between `previous` (undefined: compare against CREATION_DEFAULTS) and `next`.
 * `previous` in the answer maps each changed field to its old value (`comments`: old comment count).
 */
export function diffFingerprint(
	previous: Fingerprint | undefined,
	next: Fingerprint,
	watchFields: readonly WatchField[],
): { changedFields: WatchField[]; previous: Record<string, unknown>; previousKnown: boolean } {
	const changedFields: WatchField[] = [];
	const old: Record<string, unknown> = {};
	for (const f of WATCH_FIELDS) {
		if (!watchFields.includes(f)) continue;
		const before = previous ? watchedValue(previous, f) : CREATION_DEFAULTS[f];
		if (before !== watchedValue(next, f)) {
			changedFields.push(f);
			old[f] = before;
		}
	}
	return { changedFields, previous: old, previousKnown: previous !== undefined };
}

function parseTicks(value: unknown): bigint | undefined {
	if (typeof value !== 'string') return undefined;
	try {
		return toTicks(value);
	} catch {
		return undefined;
	}
}

/** Own-property write that is safe for any key (an id of "__proto__" must not touch the prototype). */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
	Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function validate(options: PollOptions): void {
	const { pageSize, maxItems, overlapMs } = options;
	if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
		throw new RangeError(`pageSize must be an integer in 1..${MAX_PAGE_SIZE}`);
	}
	if (!Number.isInteger(maxItems) || maxItems < 1) throw new RangeError('maxItems must be an integer ≥ 1');
	if (!Number.isFinite(overlapMs) || overlapMs < 0) throw new RangeError('overlapMs must be ≥ 0');
	for (const cap of [options.maxSeen, options.maxFingerprints]) {
		if (cap !== undefined && (!Number.isInteger(cap) || cap < 1)) throw new RangeError('caps must be integers ≥ 1');
	}
	for (const f of options.watchFields ?? []) {
		if (!WATCH_FIELDS.includes(f)) throw new RangeError(`Unknown watch field "${String(f)}"`);
	}
}

export async function pollStream(
	state: StreamState,
	fetchPage: FetchPage,
	options: PollOptions,
): Promise<PollResult> {
	validate(options);
	if (!isStreamState(state)) throw new TypeError('Invalid stream state');
	const { kind } = state;
	const field = fieldFor(kind);
	const { pageSize, maxItems, overlapMs } = options;
	const watch = kind === 'updated' && options.watchFields && options.watchFields.length > 0 ? options.watchFields : undefined;

	const cursor0 = toTicks(state.cursor);
	const from = windowStart(state, overlapMs);
	const fromT = toTicks(from);

	const oldSeen = state.seen;
	const added: Record<string, string> = {};
	const isSeen = (k: string) => Object.hasOwn(oldSeen, k) || Object.hasOwn(added, k);
	let fingerprints = state.fingerprints; // copied on first write
	let fpTouched = false;

	const emitted: Emitted[] = [];
	let maxProcessed = cursor0;
	let skippedInvalid = 0;
	let suppressed = 0;
	let pagesFetched = 0;
	let drained = false;
	let stoppedBy: PollResult['stoppedBy'];
	let error: unknown;

	let lower = from;
	let lowerT = fromT;
	let skip = 0;

	paging: for (;;) {
		if (pagesFetched > 0 && options.deadline?.()) {
			stoppedBy = 'deadline';
			break;
		}
		let page: AlertRecord[];
		try {
			page = await fetchPage({ field, from: lower, skip, top: pageSize, order: 'asc' });
			if (!Array.isArray(page)) throw new TypeError('fetchPage did not return an array');
		} catch (e) {
			// Nothing emitted: reject, the caller saves nothing and the input state stays valid.
			if (emitted.length === 0) throw e;
			stoppedBy = 'error';
			error = e;
			break;
		}
		pagesFetched++;

		let pageLastT: bigint | undefined;
		for (const alert of page) {
			const t = alert && typeof alert.id === 'string' && alert.id !== '' ? parseTicks(alert[field]) : undefined;
			if (t === undefined) {
				skippedInvalid++;
				continue;
			}
			if (pageLastT === undefined || t > pageLastT) pageLastT = t;
			if (t < fromT) {
				// Outside the query (server fault). Never emit: seen was pruned below `from`.
				skippedInvalid++;
				continue;
			}
			const ts = fromTicks(t);
			const key = kind === 'created' ? alert.id : `${alert.id}@${ts}`;
			if (isSeen(key)) {
				if (t > maxProcessed) maxProcessed = t;
				continue;
			}

			let emit: Emitted | undefined = { alert };
			let fp: Fingerprint | undefined;
			if (kind === 'updated') {
				fp = { ...fingerprintOf(alert), lastUpdateTime: ts };
				const stored = fingerprints && Object.hasOwn(fingerprints, alert.id) ? fingerprints[alert.id] : undefined;
				const known = stored && typeof stored === 'object' ? stored : undefined;
				const knownT = known ? parseTicks(known.lastUpdateTime) : undefined;
				if (knownT !== undefined && t <= knownT) {
					// An older (or the same) version than one already processed: never emit it, keep the newer fingerprint.
					emit = undefined;
					fp = undefined;
				} else if (watch) {
					const d = diffFingerprint(known, fp, watch);
					emit =
						d.changedFields.length > 0
							? { alert, changedFields: d.changedFields, previous: d.previous, previousKnown: d.previousKnown }
							: undefined;
				}
			}
			if (emit && emitted.length >= maxItems) {
				stoppedBy = 'maxItems';
				break paging; // this item is NOT processed: the cursor stays at the last processed one
			}
			put(added, key, ts);
			if (t > maxProcessed) maxProcessed = t;
			if (fp) {
				if (!fpTouched) {
					fingerprints = { ...(fingerprints ?? {}) };
					fpTouched = true;
				}
				put(fingerprints as Record<string, Fingerprint>, alert.id, fp);
			}
			if (emit) emitted.push(emit);
			else suppressed++;
		}

		if (page.length < pageSize) {
			drained = true;
			break;
		}
		if (pageLastT === undefined || pageLastT <= lowerT) {
			skip += pageSize; // the whole page is one tie group at `lower`: step through it
		} else {
			lower = fromTicks(pageLastT); // re-reading the ties at the new bound is harmless: they are in seen
			lowerT = pageLastT;
			skip = 0;
		}
	}

	const next = buildState(state, added, maxProcessed, cursor0, overlapMs, options);
	if (kind === 'updated') {
		if (fpTouched) next.fingerprints = capFingerprints(fingerprints ?? {}, options.maxFingerprints ?? DEFAULT_MAX_FINGERPRINTS);
		else if (state.fingerprints !== undefined) next.fingerprints = state.fingerprints;
	}
	const result: PollResult = { emitted, state: next, pagesFetched, drained, skippedInvalid, suppressed };
	if (stoppedBy) result.stoppedBy = stoppedBy;
	if (stoppedBy === 'error') result.error = error;
	return result;
}

function buildState(
	state: StreamState,
	added: Record<string, string>,
	maxProcessed: bigint,
	cursor0: bigint,
	overlapMs: number,
	options: PollOptions,
): StreamState {
	const cursor = maxProcessed > cursor0 ? fromTicks(maxProcessed) : state.cursor;
	let floor = windowStart({ cursor, floor: state.floor }, overlapMs);
	let floorT = toTicks(floor);

	// Union, then prune everything below the next query's lower bound.
	const entries: Array<[string, string, bigint]> = [];
	for (const source of [state.seen, added]) {
		for (const [k, ts] of Object.entries(source)) {
			if (source === state.seen && Object.hasOwn(added, k)) continue;
			const t = parseTicks(ts);
			if (t !== undefined && t >= floorT) entries.push([k, ts, t]);
		}
	}

	let overflow = state.seenOverflow ?? 0;
	const maxSeen = options.maxSeen ?? DEFAULT_MAX_SEEN;
	let kept = entries;
	if (entries.length > maxSeen) {
		// Keep the newest whole tie groups; raise the floor to the oldest kept one (see header).
		const sorted = [...entries].sort((a, b) => (a[2] < b[2] ? 1 : a[2] > b[2] ? -1 : 0));
		let n = 0;
		while (n < sorted.length) {
			let end = n + 1;
			while (end < sorted.length && sorted[end][2] === sorted[n][2]) end++;
			if (n > 0 && end > maxSeen) break;
			n = end;
		}
		// n === sorted.length: the whole map is the newest tie group, kept whole. Nothing is dropped, so the floor
		// stays at the window start: raising it would lose late arrivals in [floor, that tick) without a trace.
		if (n < sorted.length) {
			const keptSet = new Set(sorted.slice(0, n).map((e) => e[0]));
			overflow += entries.length - n;
			kept = entries.filter((e) => keptSet.has(e[0]));
			floorT = sorted[n - 1][2];
			floor = fromTicks(floorT);
		}
	}

	const seen: Record<string, string> = {};
	for (const [k, ts] of kept) put(seen, k, ts);
	const next: StreamState = { v: 1, kind: state.kind, cursor, floor, seen };
	if (overflow > 0) next.seenOverflow = overflow;
	return next;
}

function capFingerprints(fps: Record<string, Fingerprint>, max: number): Record<string, Fingerprint> {
	const ids = Object.keys(fps);
	if (ids.length <= max) return fps;
	const tick = (id: string) => parseTicks(fps[id].lastUpdateTime) ?? -1n;
	const order = ids
		.map((id) => [id, tick(id)] as const)
		.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
	const out: Record<string, Fingerprint> = {};
	for (const [id] of order.slice(order.length - max)) put(out, id, fps[id]);
	return out;
}
