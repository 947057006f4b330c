/**
 * Pure polling algorithm for the Defender alert trigger: no n8n types, no HTTP.
 *
 * One "stream" is one tenant × one event kind:
 * - `created`: new alerts, ordered by `alertCreationTime`; one event per alert id;
 * - `updated`: alert changes, ordered by `lastUpdateTime`; one event per (id, lastUpdateTime) version,
 *   optionally only when a watched field (status, classification, …) changed.
 *
 * The caller gives a `fetchPage` that runs `GET /api/alerts?$filter=<field> ge <from>&$orderby=<field> asc
 * &$top=<top>&$skip=<skip>`, and stores the returned `state` (plain JSON) in workflow static data
 * (https://docs.n8n.io/code/cookbook/builtin/get-workflow-static-data/), which n8n rewrites into the workflow row
 * after every poll that emits. Alert properties: https://learn.microsoft.com/en-us/defender-endpoint/api/alerts.
 *
 * STATE (version 2; S = a state returned by pollStream or createStreamState; byte sizes are of S's JSON)
 * - `cursor` only moves forward. It is the greatest field timestamp of an alert that was *processed*
 *   (emitted, or recognised as already seen / not worth emitting), or the start boundary.
 * - `floor` is the lower bound of the next query, never lowered: max(start, cursor − overlap) at the time
 *   of the last poll, raised further only by a seen overflow that drops entries and counts them in
 *   `seenOverflow` (see below). Queries never go below it.
 * - `seen` maps the id of every alert with a processed item whose field timestamp is in [floor, cursor] to the
 *   greatest such timestamp, written as (cursor − timestamp) in 100 ns ticks. Entries below `floor` are pruned: no
 *   query can return them again, so the map is bounded by what lies inside the overlap window, not by history.
 *   An item whose id is in `seen` with a timestamp ≥ its own is not new: created stream, the alert was processed;
 *   updated stream, this version or a newer one was (an older version is never emitted after a newer one).
 * - `fingerprints` (updated stream with watchFields only; absent otherwise): the watched fields of each alert in
 *   the newest version processed. `fields` = the watched fields they hold (WATCH_FIELDS order); `byMinute` = minute
 *   of that version's lastUpdateTime (minutes since 1970) → alert id → the watched values packed as one string:
 *   per field, in `fields` order, joined by "." — comments: the comment count; other fields: "" for null, else the
 *   index of the string in `values` (a table that keeps its order, so unchanged entries keep their string).
 * - Encoding: numbers in base 64 (digits 0-9 A-Z a-z - _, most significant first); alert ids as keys through
 *   packId (a usual Defender id `da637399794050273582_760707377` becomes the 19 characters "~da" + 16 digits; any
 *   other id stays as it is). With real ids a `seen` entry is ~32 bytes (v1: ~94 for `id@timestamp → timestamp`)
 *   and a remembered alert ~28 (v1: ~220: all five fields and lastUpdateTime, for every alert, even without
 *   watchFields). States are values: pollStream never mutates one and caches the decoded form of those it returns
 *   (per object), so a caller must not mutate a state in place and pass it again (copy it instead).
 * - FINGERPRINT INVARIANT: every alert whose alertCreationTime ≥ `fingerprints.since` and that this stream has
 *   processed has its fingerprint. `since` starts at the start boundary and is raised, never lowered: past the
 *   minute of every fingerprint the byte budget evicts (`evicted` counts them), to cursor + 1 tick when fingerprints
 *   start without a record of what was processed (the stream was polled without watchFields, or they now include a
 *   field the stored ones lack: fingerprints are projected when the watched fields shrink, restarted when they
 *   grow). Relies on lastUpdateTime ≥ alertCreationTime, so an alert's creation lies before the minute it was
 *   last seen in.
 *
 * WATCH MODE (updated stream with watchFields): a new version V of alert A is compared with
 * - A's fingerprint, when there is one: emitted iff a watched field differs; `changedFields` = those fields,
 *   `previous` = their fingerprint values (observed by this trigger), `previousKnown: true`;
 * - nothing, when A has no fingerprint and was created at or after `since` (so no poll of this stream ever saw
 *   it: it was created and changed between two polls, or arrived late): emitted iff V differs from the values
 *   Defender gives a new alert (CREATION_DEFAULTS: status New, no classification, determination or assignee, no
 *   comments); `changedFields` = the differing fields, `previousKnown: false` and `previous: {}`: the old values
 *   were not observed and are not presented as if they were.
 * - nothing, otherwise (A is older than the trigger, has no creation time, or its fingerprint was evicted):
 *   V becomes A's baseline: its fingerprint is recorded and V is NOT emitted (counted in `suppressed` and
 *   `baselined`). A change that happened before this stream first saw A is not reported; the next one is.
 * So `previousKnown` is true exactly when every `previous` value was observed, and no emission rests on a value
 * the trigger did not see, except the documented creation values of an alert created while it was watching.
 *
 * GUARANTEES
 * - No duplicates: an item is emitted only if `seen` does not mark it as processed; once emitted it stays marked
 *   as long as a query can return it (entries leave only when they fall below `floor`, and queries start at
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
 *   In watch mode "emitted" means "emitted when the rules above say so"; a brand-new alert is its first version.
 * - n8n persistence: static data is saved only when a poll emits. A poll that emits nothing returns a
 *   deep-equal state (created mode, and updated mode without watchFields), so nothing is lost by not saving
 *   it (exception: a v1 input or fingerprints of another watch mode are converted, identically on every poll).
 *   In watch mode the unsaved part is only versions that were not emitted. After a restart they are re-read
 *   (while current and inside the window) and decided again: a suppressed version identically, because its
 *   watched fields equal the fingerprint; a baseline identically, or, if the alert has changed since, by the
 *   rules above, which never present an unobserved value as `previous`.
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
 * - An alert's lastUpdateTime is never before its alertCreationTime (fingerprint invariant).
 *
 * BOUNDED MEMORY IN BYTES AND ITS CONSEQUENCES
 * - `maxStateBytes` (default DEFAULT_MAX_STATE_BYTES) bounds stateBytes(S). A trigger's documented total is
 *   DEFAULT_TRIGGER_STATE_BYTES (8 MiB) for all its streams; the caller passes total / number of streams
 *   (streamStateBudget). Fingerprints go first: the alerts whose last processed version is oldest (by minute) are
 *   evicted until S fits, and `since` is raised past them, so an evicted alert's next version is a baseline: never
 *   a false change, but a watched change in that one version goes unreported (the price of the bound; v1 reported
 *   it against guessed creation values). Only when `seen` alone does not fit, or has more than `maxSeen` entries,
 *   is `seen` cut, as follows.
 * - `seen` over the cap (maxSeen entries, or the bytes left after the fixed fields): the oldest whole tie groups
 *   are dropped and `floor` is raised to the oldest kept timestamp; the dropped count is added to `seenOverflow`.
 *   Dropped items lie below the new floor, so they are never re-read: still no duplicates and no stall. The price:
 *   an alert with a timestamp below the raised floor that becomes visible later (a late arrival) is not
 *   delivered. Only then can an alert be lost. (The alternative "keep the newest maxSeen entries, query from
 *   cursor − overlap anyway" re-emits the dropped items on every poll and, when there are more of them than
 *   `maxItems`, never gets past them: duplicates forever and a stalled trigger. See the test suite.)
 *   The newest tie group is always kept whole, so the cap can only be exceeded by more alerts sharing one 100 ns
 *   tick than it holds (then S may exceed maxStateBytes). Then nothing is dropped and the floor is NOT raised: a
 *   raise without a drop would put late arrivals between cursor − overlap and that tick out of reach with no
 *   overflow recorded (issue 10 item 9). So every raise of the floor above max(start, cursor − overlap) comes with
 *   a non-zero increase of `seenOverflow`, and a lost alert always lies below a floor raised by such a poll.
 *   Size the budget to hold the late-arrival window: ~32 bytes per alert updated (created) within `overlap`.
 * - Measured (bench/trigger-state.ts: 1,000 alerts/h, 3 versions each, 15-minute window, one poll a minute, 12 h):
 *   New Alert 7.8 KiB per stream (v1 16.3 KiB); Updated Alert 23.5 KiB (v1 2.1 MiB: 10,000 fingerprints kept
 *   without watchFields); watching status + classification with the 50-tenant share of 8 MiB, 32 bytes of state per
 *   remembered alert (~5,200 alerts, about 5 h of this load), 8.0 MiB for 50 tenants (v1 106 MiB).
 *
 * VERSIONS
 * - createStreamState and pollStream write version 2. pollStream and isStreamState also accept version 1 and
 *   migrate it on input: `seen` keeps the same items (v1 updated keys `id@t` collapse to the newest t per id);
 *   v1 fingerprints keep the watched fields' values and their minute, losslessly; `since` = floor, or past the
 *   oldest kept fingerprint when v1's 10,000-entry cap may have evicted some. Without watchFields they are dropped.
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

/** The watched values of one alert version, readable (v1 states stored this for every alert). Plain JSON. */
export interface Fingerprint {
	lastUpdateTime: string | null;
	status: string | null;
	classification: string | null;
	determination: string | null;
	assignedTo: string | null;
	commentsCount: number;
}

/** Version 1 (read and migrated, never written). */
export interface StreamStateV1 {
	v: 1;
	kind: EventKind;
	cursor: string;
	floor: string;
	/** Dedup key → field timestamp (canonical). created: key = id; updated: key = `${id}@${lastUpdateTime}`. */
	seen: Record<string, string>;
	/** updated only: alert id → last processed version. */
	fingerprints?: Record<string, Fingerprint>;
	seenOverflow?: number;
}

/** Watch-mode memory of the updated stream (see the header). */
export interface FingerprintStore {
	/** Watched fields the fingerprints hold, comma-separated, in WATCH_FIELDS order. */
	fields: string;
	/** Every processed alert created at or after this instant has a fingerprint. Canonical. */
	since: string;
	/** String table the packed values refer to by index. */
	values: string[];
	/** Minute of the last processed lastUpdateTime (base 36) → alert id → packed watched values. */
	byMinute: Record<string, Record<string, string>>;
	/** Fingerprints ever evicted by the byte budget (absent while 0). */
	evicted?: number;
}

export interface StreamStateV2 {
	v: 2;
	kind: EventKind;
	/** Greatest processed field timestamp (or the start boundary), canonical. */
	cursor: string;
	/** Lower bound of the next query; `seen` is complete from here up to `cursor`. Canonical. */
	floor: string;
	/** Alert id → cursor − (its greatest processed field timestamp ≥ floor), in ticks, base 36. */
	seen: Record<string, string>;
	/** Total number of seen entries ever dropped by the caps (absent while 0). */
	seenOverflow?: number;
	/** updated stream with watchFields only. */
	fingerprints?: FingerprintStore;
}

/** A stored stream state of any version pollStream accepts. pollStream and createStreamState return version 2. */
export type StreamState = StreamStateV1 | StreamStateV2;

export interface PollOptions {
	/** `$top`, 1..10000. */
	pageSize: number;
	/** Max alerts emitted per poll (≥ 1). */
	maxItems: number;
	/** Late-arrival window in milliseconds (≥ 0). */
	overlapMs: number;
	/** updated mode only: emit a version only when one of these changed. */
	watchFields?: readonly WatchField[];
	/** Cap on the entries of the seen map (default 20000); the byte budget applies as well. */
	maxSeen?: number;
	/** Optional cap on the number of fingerprints (none by default: the byte budget bounds them). */
	maxFingerprints?: number;
	/**
	 * Byte budget of this stream's state (JSON, UTF-8), default DEFAULT_MAX_STATE_BYTES. A trigger with N streams
	 * passes streamStateBudget(N) = DEFAULT_TRIGGER_STATE_BYTES / N.
	 */
	maxStateBytes?: number;
	/** True when the poll's time budget is spent: no further page is fetched. */
	deadline?: () => boolean;
}

export interface Emitted {
	alert: AlertRecord;
	/** Watch mode only: the watched fields that changed. */
	changedFields?: WatchField[];
	/**
	 * Watch mode only: the observed old value of each changed field (`comments`: the old comment count). Empty when
	 * `previousKnown` is false: an unobserved value is never filled in.
	 */
	previous?: Record<string, unknown>;
	/**
	 * Watch mode only: true when every changed field's old value was observed (the alert's fingerprint); false for
	 * an alert created while the trigger was watching, first seen already differing from the creation values.
	 */
	previousKnown?: boolean;
}

export interface PollResult {
	emitted: Emitted[];
	state: StreamStateV2;
	pagesFetched: number;
	/** True when the last page was short: everything visible at or after the lower bound was read. */
	drained: boolean;
	stoppedBy?: 'maxItems' | 'deadline' | 'error';
	/** Set with stoppedBy 'error' (a page failed after some items were emitted). */
	error?: unknown;
	/** Items without an id or a parseable field timestamp, or (server fault) below the lower bound. */
	skippedInvalid: number;
	/** updated mode: new versions that were processed but not emitted (no watched change, or a baseline). */
	suppressed: number;
	/** watch mode: of `suppressed`, versions recorded as the baseline of an alert without a fingerprint. */
	baselined?: number;
}

export const STREAM_STATE_VERSION = 2;
export const DEFAULT_MAX_SEEN = 20000;
/** Version 1's fingerprint cap: a v1 state holding this many may have evicted some (see VERSIONS). */
export const DEFAULT_MAX_FINGERPRINTS = 10000;
/** Documented state budget of one trigger, all its tenants' streams together. */
export const DEFAULT_TRIGGER_STATE_BYTES = 8 * 1024 * 1024;
/** Per-stream budget when the caller passes none: the share of one of 50 streams of DEFAULT_TRIGGER_STATE_BYTES. */
export const DEFAULT_MAX_STATE_BYTES = Math.floor(DEFAULT_TRIGGER_STATE_BYTES / 50);
export const MAX_PAGE_SIZE = 10000;

/**
 * Values Defender gives a new alert (alert resource type, https://learn.microsoft.com/en-us/defender-endpoint/api/alerts:
 * status starts at New; classification, determination and assignedTo are unset until someone sets them; comments
 * are added later). The reference only for an alert created while the trigger was watching and first seen already
 * changed; never reported as `previous`.
 */
export const CREATION_DEFAULTS: Readonly<Record<WatchField, unknown>> = Object.freeze({
	status: 'New',
	classification: null,
	determination: null,
	assignedTo: null,
	comments: 0,
});

const TICKS_PER_MINUTE = 600_000_000n;

export function fieldFor(kind: EventKind): TimeField {
	return kind === 'created' ? 'alertCreationTime' : 'lastUpdateTime';
}

export function createStreamState(kind: EventKind, start: string): StreamStateV2 {
	if (kind !== 'created' && kind !== 'updated') throw new Error(`Unknown event kind "${String(kind)}"`);
	const s = normalizeTimestamp(start);
	return { v: 2, kind, cursor: s, floor: s, seen: {} };
}

/** True when `value` looks like a state (version 1 or 2) this module wrote for `kind` (use it before trusting static data). */
export function isStreamState(value: unknown, kind?: EventKind): value is StreamState {
	if (typeof value !== 'object' || value === null) return false;
	const s = value as Record<string, unknown>;
	if ((s.v !== 1 && s.v !== 2) || (s.kind !== 'created' && s.kind !== 'updated')) return false;
	if (kind !== undefined && s.kind !== kind) return false;
	if (parseTicks(s.cursor) === undefined || parseTicks(s.floor) === undefined) return false;
	if (!isRecord(s.seen)) return false;
	const f = s.fingerprints;
	if (f === undefined) return true;
	if (s.v === 1) return typeof f === 'object' && f !== null;
	return isRecord(f) && typeof f.fields === 'string' && parseTicks(f.since) !== undefined && Array.isArray(f.values) && isRecord(f.byMinute);
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
 * True when pollStream, given `state`, would treat this alert record as already processed (not new): its id is
 * in `seen` (created) or with a timestamp ≥ its lastUpdateTime (updated). False for records without a usable id
 * or timestamp. Works on both state versions; `state` is treated as immutable (the decoded map is cached).
 */
export function isProcessed(state: StreamState, alert: AlertRecord): boolean {
	if (typeof alert?.id !== 'string' || alert.id === '') return false;
	const t = parseTicks(alert[fieldFor(state.kind)]);
	if (t === undefined) return false;
	const prev = decodeSeen(state).get(alert.id);
	return prev !== undefined && (state.kind === 'created' || t <= prev);
}

/** UTF-8 length of the state's JSON: what it costs in n8n's workflow row. */
export function stateBytes(state: StreamState): number {
	return utf8Length(JSON.stringify(state));
}

/** Sizes of a state (for benchmarks and diagnostics). */
export function stateStats(state: StreamState): { version: 1 | 2; bytes: number; seenEntries: number; fingerprints: number } {
	const fingerprints =
		state.v === 1 ? Object.keys(state.fingerprints ?? {}).length : state.fingerprints ? countFingerprints(state.fingerprints) : 0;
	return { version: state.v, bytes: stateBytes(state), seenEntries: Object.keys(state.seen).length, fingerprints };
}

/** The seen map in readable form: alert id → canonical timestamp (both versions; v1 updated: the newest per id). */
export function seenTimestamps(state: StreamState): Record<string, string> {
	return Object.fromEntries([...decodeSeen(state)].map(([id, t]) => [id, fromTicks(t)]));
}

/**
 * The fingerprints in readable form: alert id → the remembered watched values (`comments`: the count). Version 2:
 * the stored fields; version 1: all five. Empty without fingerprints.
 */
export function rememberedAlerts(state: StreamState): Record<string, Partial<Record<WatchField, unknown>>> {
	const out: Array<[string, Partial<Record<WatchField, unknown>>]> = [];
	if (state.v === 1) {
		for (const [id, fp] of Object.entries(state.fingerprints ?? {})) {
			out.push([id, Object.fromEntries(WATCH_FIELDS.map((f) => [f, fingerprintValue(fp, f)]))]);
		}
	} else if (state.fingerprints) {
		const fields = state.fingerprints.fields.split(',').filter((f): f is WatchField => WATCH_FIELDS.includes(f as WatchField));
		const index = openIndex(state, fields, toTicks(state.cursor), 1);
		for (const [id, e] of index.map) out.push([id, Object.fromEntries(fields.map((f, i) => [f, e.values[i]]))]);
	}
	return Object.fromEntries(out);
}

function countFingerprints(store: FingerprintStore): number {
	let n = 0;
	for (const group of Object.values(store.byMinute)) n += Object.keys(group).length;
	return n;
}

/** Per-stream byte budget (PollOptions.maxStateBytes) for a trigger with `streams` streams. */
export function streamStateBudget(streams: number, totalBytes: number = DEFAULT_TRIGGER_STATE_BYTES): number {
	return Math.max(1, Math.floor(totalBytes / Math.max(1, Math.trunc(streams) || 1)));
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

type Value = string | null | number;

/** The value of a watched field as fingerprints compare it (`comments`: the number of comments). */
function watchedValue(alert: AlertRecord, field: WatchField): Value {
	// Only the number of comments is kept: a change is "comments added" (comment text would only bloat the state).
	if (field === 'comments') return Array.isArray(alert.comments) ? (alert.comments as unknown[]).length : 0;
	return str(alert[field]);
}

export function fingerprintOf(alert: AlertRecord): Fingerprint {
	const t = parseTicks(alert.lastUpdateTime);
	return {
		lastUpdateTime: t === undefined ? null : fromTicks(t),
		status: str(alert.status),
		classification: str(alert.classification),
		determination: str(alert.determination),
		assignedTo: str(alert.assignedTo),
		commentsCount: watchedValue(alert, 'comments') as number,
	};
}

function fingerprintValue(fp: Fingerprint, field: WatchField): Value {
	return field === 'comments' ? fp.commentsCount : fp[field];
}

/**
 * Watched fields that differ between `previous` and `next`. `previous` undefined (the alert was never observed):
 * compared with CREATION_DEFAULTS, and the answer's `previous` is empty with `previousKnown: false`.
 */
export function diffFingerprint(
	previous: Fingerprint | undefined,
	next: Fingerprint,
	watchFields: readonly WatchField[],
): { changedFields: WatchField[]; previous: Record<string, unknown>; previousKnown: boolean } {
	const fields = WATCH_FIELDS.filter((f) => watchFields.includes(f));
	const before = fields.map((f) => (previous ? fingerprintValue(previous, f) : (CREATION_DEFAULTS[f] as Value)));
	return diffValues(fields, previous ? before : undefined, fields.map((f) => fingerprintValue(next, f)));
}

/** `known` undefined: compare with CREATION_DEFAULTS, report nothing as previous. */
function diffValues(
	fields: readonly WatchField[],
	known: readonly Value[] | undefined,
	next: readonly Value[],
): { changedFields: WatchField[]; previous: Record<string, unknown>; previousKnown: boolean } {
	const changedFields: WatchField[] = [];
	const previous: Record<string, unknown> = {};
	fields.forEach((f, i) => {
		const before = known ? known[i] : CREATION_DEFAULTS[f];
		if (before === next[i]) return;
		changedFields.push(f);
		if (known) previous[f] = before;
	});
	return { changedFields, previous, previousKnown: known !== undefined };
}

function parseTicks(value: unknown): bigint | undefined {
	if (typeof value !== 'string') return undefined;
	try {
		return toTicks(value);
	} catch {
		return undefined;
	}
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function utf8Length(s: string): number {
	let n = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c < 0x80) n += 1;
		else if (c < 0x800) n += 2;
		else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
			n += 4;
			i++;
		} else n += 3;
	}
	return n;
}

const jsonBytes = (value: unknown) => utf8Length(JSON.stringify(value));

/** jsonBytes of a string, without building the JSON when nothing needs escaping. */
function jsonStringBytes(s: string): number {
	let n = 2;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) return jsonBytes(s);
		n++;
	}
	return n;
}

/** Digits of the state's numbers (base 64, JSON-safe: no escaping, and "." and "~" stay free as separators). */
const B64 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
const B64_RE = /^[0-9A-Za-z_-]{1,24}$/;

/** Base-64 digits of a non-negative integer, left-padded with "0" to `width`. */
function toB64(n: bigint | number, width = 1): string {
	let out = '';
	if (typeof n === 'number' || n <= BigInt(Number.MAX_SAFE_INTEGER)) {
		let v = Number(n);
		do {
			out = B64[v % 64] + out;
			v = Math.floor(v / 64);
		} while (v > 0);
	} else {
		let v = n;
		do {
			out = B64[Number(v & 63n)] + out;
			v >>= 6n;
		} while (v > 0n);
	}
	return out.padStart(width, '0');
}

function fromB64(s: unknown): bigint | undefined {
	if (typeof s !== 'string' || !B64_RE.test(s)) return undefined;
	let n = 0n;
	for (const ch of s) n = n * 64n + BigInt(B64.indexOf(ch));
	return n;
}

/**
 * Alert ids as state keys. A Defender id of the usual form (`da637399794050273582_760707377`: two letters, an
 * 18-digit number, "_", a 32-bit integer) is written as "~" + the letters + the number's two 9-digit halves in
 * 5 base-64 digits each + the integer + 2³¹ in 6 (19 characters instead of 30–31); any other id as it is, with a
 * leading "~" doubled. Exact both ways: the pattern admits no leading zeros and no "-0".
 */
const DEFENDER_ID = /^([a-z]{2})([1-9]\d{8})(\d{9})_(0|-?[1-9]\d{0,9})$/;
const PACKED_ID = /^~[a-z]{2}[0-9A-Za-z_-]{16}$/;
const INT32 = 2 ** 31;

/** Base-64 digits of a safe non-negative integer, exactly `width` of them (the caller keeps n < 64^width). */
function numB64(n: number, width: number): string {
	let out = '';
	for (let i = 0; i < width; i++) {
		out = B64[n % 64] + out;
		n = Math.floor(n / 64);
	}
	return out;
}

function b64Num(s: string, from: number, to: number): number {
	let n = 0;
	for (let i = from; i < to; i++) n = n * 64 + B64.indexOf(s[i]);
	return n;
}

export function packId(id: string): string {
	const m = DEFENDER_ID.exec(id);
	if (m) {
		const low = Number(m[4]);
		if (low >= -INT32 && low < INT32) return `~${m[1]}${numB64(Number(m[2]), 5)}${numB64(Number(m[3]), 5)}${numB64(low + INT32, 6)}`;
	}
	return id.charCodeAt(0) === 126 ? `~${id}` : id; // "~"
}

/** Inverse of packId; undefined for a key packId never writes. */
export function unpackId(key: string): string | undefined {
	if (key.charCodeAt(0) !== 126) return key;
	if (key.charCodeAt(1) === 126) return key.slice(1);
	if (!PACKED_ID.test(key)) return undefined;
	const high = b64Num(key, 3, 8);
	const mid = b64Num(key, 8, 13);
	const low = b64Num(key, 13, 19) - INT32;
	if (high < 1e8 || high >= 1e9 || mid >= 1e9 || low >= INT32) return undefined;
	return `${key.slice(1, 3)}${high}${String(mid).padStart(9, '0')}_${low}`;
}

/** Minute (since 1970; 0 before) of a timestamp: the fingerprint's eviction bucket. */
function minuteOf(t: bigint): number {
	return t <= 0n ? 0 : Number(t / TICKS_PER_MINUTE);
}
const minuteEnd = (minute: number) => (BigInt(minute) + 1n) * TICKS_PER_MINUTE;

// ---------------------------------------------------------------- seen

/**
 * Decoded forms of the states pollStream returned (and of inputs already decoded), so that the next poll, which
 * usually gets the same object back, needs not parse them again. States are values: pollStream never mutates
 * one, and a caller must not mutate one in place and pass it again (copy it instead, e.g. a JSON round trip).
 */
const seenCache = new WeakMap<object, ReadonlyMap<string, bigint>>();
const storeCache = new WeakMap<object, CachedStore>();

/** Alert id → greatest processed field timestamp, from a state of either version. */
function decodeSeen(state: StreamState): ReadonlyMap<string, bigint> {
	const cached = seenCache.get(state);
	if (cached) return cached;
	const out = new Map<string, bigint>();
	if (state.v === 1) {
		for (const [key, ts] of Object.entries(state.seen)) {
			const t = parseTicks(ts);
			const at = key.lastIndexOf('@');
			if (t === undefined || (state.kind === 'updated' && at < 0)) continue;
			const id = state.kind === 'created' ? key : key.slice(0, at);
			const prev = out.get(id);
			if (prev === undefined || t > prev) out.set(id, t);
		}
	} else {
		const cursor = toTicks(state.cursor);
		for (const [key, delta] of Object.entries(state.seen)) {
			const id = unpackId(key);
			const d = fromB64(delta);
			if (id !== undefined && d !== undefined) out.set(id, cursor - d);
		}
	}
	seenCache.set(state, out);
	return out;
}

// ---------------------------------------------------------------- fingerprints

/** One remembered alert. Immutable (shared between a poll's index and the cache). */
interface FpEntry {
	minute: number;
	values: readonly Value[];
	/** packId(id) */
	key: string;
	/** The values packed against the index's table, when known. */
	packed?: string;
}
/** Decoded fingerprints for one poll's watched fields. `map` is in eviction order (oldest first). */
interface FpIndex {
	fields: readonly WatchField[];
	since: bigint;
	map: Map<string, FpEntry>;
	evicted: number;
	/** String table the entries' `packed` refer to; new strings are appended. */
	table: readonly string[];
}
interface CachedStore {
	since: bigint;
	evicted: number;
	map: ReadonlyMap<string, FpEntry>;
	table: readonly string[];
}

const fieldsKey = (fields: readonly WatchField[]) => fields.join(',');

/** True when the state's fingerprints are not stored for exactly `fields` in version 2 (they must be converted). */
function needsConversion(state: StreamState, fields: readonly WatchField[]): boolean {
	if (state.v === 1) return state.fingerprints !== undefined && Object.keys(state.fingerprints).length > 0;
	return state.fingerprints !== undefined && state.fingerprints.fields !== fieldsKey(fields);
}

/** The fingerprints of `state` for `fields` (see FINGERPRINT INVARIANT and VERSIONS in the header). */
function openIndex(state: StreamState, fields: readonly WatchField[], cursor0: bigint, seenSize: number): FpIndex {
	const map = new Map<string, FpEntry>();
	// Nothing processed yet (fresh state): complete from the start; otherwise from after everything processed so far.
	const afterAll = cursor0 + 1n;
	const none = (since: bigint, evicted = 0): FpIndex => ({ fields, since, map, evicted, table: [] });
	if (state.v === 1) {
		const fps = state.fingerprints;
		if (!fps) return none(seenSize === 0 ? cursor0 : afterAll);
		let since = toTicks(state.floor);
		const rows: Array<[string, bigint, Fingerprint]> = [];
		for (const [id, fp] of Object.entries(fps)) {
			const t = fp && typeof fp === 'object' ? parseTicks(fp.lastUpdateTime) : undefined;
			if (t === undefined) since = since > afterAll ? since : afterAll; // not convertible: as if evicted
			else rows.push([id, t, fp]);
		}
		rows.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
		// v1 evicted the oldest lastUpdateTime first once over its cap: everything evicted is ≤ the oldest kept.
		if (Object.keys(fps).length >= DEFAULT_MAX_FINGERPRINTS && rows.length > 0 && rows[0][1] + 1n > since) since = rows[0][1] + 1n;
		for (const [id, t, fp] of rows) {
			map.set(id, { minute: minuteOf(t), values: fields.map((f) => fingerprintValue(fp, f)), key: packId(id) });
		}
		return { fields, since, map, evicted: 0, table: [] };
	}
	const store = state.fingerprints;
	if (!store) return none(seenSize === 0 ? cursor0 : afterAll);
	const same = store.fields === fieldsKey(fields);
	const cached = same ? storeCache.get(store) : undefined;
	if (cached) return { fields, since: cached.since, map: new Map(cached.map), evicted: cached.evicted, table: cached.table };
	let since = toTicks(store.since);
	const evicted = Number.isSafeInteger(store.evicted) && (store.evicted as number) > 0 ? (store.evicted as number) : 0;
	const stored = store.fields.split(',') as WatchField[];
	const pick = fields.map((f) => stored.indexOf(f));
	if (pick.some((i) => i < 0) || stored.some((f) => !WATCH_FIELDS.includes(f))) {
		// A newly watched field has no recorded values: start over after everything processed so far.
		return none(since > afterAll ? since : afterAll, evicted);
	}
	const table = store.values.every((v) => typeof v === 'string') ? store.values : [];
	const rows: Array<[number, string, FpEntry]> = [];
	for (const [key, group] of Object.entries(store.byMinute)) {
		const m = fromB64(key);
		if (m === undefined || m > BigInt(Number.MAX_SAFE_INTEGER) || !isRecord(group)) continue; // not written here
		const minute = Number(m);
		for (const [k, packed] of Object.entries(group)) {
			const id = unpackId(k);
			const values = unpack(packed, stored, table);
			if (id !== undefined && values) {
				rows.push([minute, id, same ? { minute, values, key: k, packed: packed as string } : { minute, values: pick.map((i) => values[i]), key: k }]);
			} else if (minuteEnd(minute) > since) since = minuteEnd(minute); // unreadable: as if evicted
		}
	}
	rows.sort((a, b) => a[0] - b[0]);
	for (const [, id, entry] of rows) map.set(id, entry);
	return { fields, since, map, evicted, table: same ? table : [] };
}

function unpack(packed: unknown, fields: readonly WatchField[], table: readonly string[]): Value[] | undefined {
	if (typeof packed !== 'string') return undefined;
	const parts = packed.split('.');
	if (parts.length !== fields.length) return undefined;
	const out: Value[] = [];
	for (let i = 0; i < parts.length; i++) {
		if (fields[i] !== 'comments' && parts[i] === '') {
			out.push(null);
			continue;
		}
		const n = fromB64(parts[i]);
		if (n === undefined) return undefined;
		if (fields[i] === 'comments') out.push(Number(n));
		else if (n < BigInt(table.length)) out.push(table[Number(n)]);
		else return undefined;
	}
	return out;
}

/** The entry's values packed against `table`, appending strings it lacks (to `table` and `index`). */
function pack(entry: FpEntry, fields: readonly WatchField[], table: string[], index: Map<string, number>): string {
	let out = '';
	for (let k = 0; k < fields.length; k++) {
		const v = entry.values[k];
		if (k > 0) out += '.';
		if (fields[k] === 'comments') out += toB64(v as number);
		else if (v !== null) {
			let n = index.get(v as string);
			if (n === undefined) {
				n = table.push(v as string) - 1;
				index.set(v as string, n);
			}
			out += toB64(n);
		}
	}
	return out;
}

/**
 * Writes `index` into at most `room` bytes (an upper bound of the JSON it adds to an empty store) and `maxCount`
 * entries: newest minute first, within a minute the most recently processed first; once one entry does not fit,
 * it and every older one are evicted and `since` is raised past their minutes. The string table keeps its order
 * (so unchanged entries keep their packed strings) and is compacted when an entry no longer refers to a string.
 */
function encodeStore(index: FpIndex, room: number, maxCount: number | undefined): FingerprintStore {
	const minutes = new Map<number, string[]>();
	for (const [id, e] of index.map) {
		const ids = minutes.get(e.minute);
		if (ids) ids.push(id);
		else minutes.set(e.minute, [id]);
	}
	const table = [...index.table];
	const tableIndex = new Map(table.map((v, i) => [v, i]));
	let used = jsonBytes(table) - 2;
	let tableCount = table.length;
	const kept: Array<{ minute: number; items: Array<[string, FpEntry]> }> = [];
	let count = 0;
	let evicted = index.evicted;
	let since = index.since;
	let full = false;
	for (const minute of [...minutes.keys()].sort((a, b) => b - a)) {
		const ids = minutes.get(minute)!;
		const items: Array<[string, FpEntry]> = [];
		for (let i = ids.length - 1; i >= 0; i--) {
			let entry = index.map.get(ids[i])!;
			if (!full) {
				if (entry.packed === undefined) entry = { ...entry, packed: pack(entry, index.fields, table, tableIndex) };
				let cost = jsonStringBytes(entry.key) + jsonStringBytes(entry.packed!) + 2;
				for (; tableCount < table.length; tableCount++) cost += jsonStringBytes(table[tableCount]) + 1;
				if (items.length === 0) cost += jsonStringBytes(toB64(minute)) + 4;
				if (used + cost <= room && (maxCount === undefined || count < maxCount)) {
					used += cost;
					count++;
					items.push([ids[i], entry]);
					continue;
				}
				full = true;
			}
			evicted++;
			if (minuteEnd(minute) > since) since = minuteEnd(minute);
		}
		if (items.length > 0) kept.push({ minute, items: items.reverse() }); // processing order, oldest first
	}

	// Drop strings no kept entry refers to; the rest keep their order, so no index (and no packed string) grows.
	let finalTable: string[] = table;
	const referenced = new Set<string>();
	for (const { items } of kept) for (const [, e] of items) for (const v of e.values) if (typeof v === 'string') referenced.add(v);
	if (referenced.size < table.length) {
		finalTable = table.filter((v) => referenced.has(v));
		const finalIndex = new Map(finalTable.map((v, i) => [v, i]));
		for (const group of kept) {
			group.items = group.items.map(([id, e]) => [id, { ...e, packed: pack(e, index.fields, finalTable, finalIndex) }]);
		}
	}

	// Object.fromEntries defines own properties: safe for an id "__proto__".
	const byMinute = Object.fromEntries(kept.map(({ minute, items }) => [toB64(minute), Object.fromEntries(items.map(([, e]) => [e.key, e.packed!]))]));
	const store: FingerprintStore = { fields: fieldsKey(index.fields), since: fromTicks(since), values: finalTable, byMinute };
	if (evicted > 0) store.evicted = evicted;
	// What openIndex would decode from `store`: the same entries in the same order (minute, then the objects' order).
	const byKey = new Map<string, [string, FpEntry]>();
	for (const { items } of kept) for (const [id, e] of items) byKey.set(e.key, [id, e]);
	const rows: Array<[string, FpEntry]> = [];
	for (const group of Object.values(byMinute)) for (const k of Object.keys(group)) rows.push(byKey.get(k)!);
	rows.sort((a, b) => a[1].minute - b[1].minute);
	storeCache.set(store, { since, evicted, map: new Map(rows), table: finalTable });
	return store;
}

// ---------------------------------------------------------------- poll

function validate(options: PollOptions): void {
	const { pageSize, maxItems, overlapMs } = options;
	if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
		throw new RangeError(`pageSize must be an integer in 1..${MAX_PAGE_SIZE}`);
	}
	if (!Number.isInteger(maxItems) || maxItems < 1) throw new RangeError('maxItems must be an integer ≥ 1');
	if (!Number.isFinite(overlapMs) || overlapMs < 0) throw new RangeError('overlapMs must be ≥ 0');
	for (const cap of [options.maxSeen, options.maxFingerprints, options.maxStateBytes]) {
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
	const watch =
		kind === 'updated' && options.watchFields && options.watchFields.length > 0
			? WATCH_FIELDS.filter((f) => options.watchFields!.includes(f))
			: undefined;

	const cursor0 = toTicks(state.cursor);
	const from = windowStart(state, overlapMs);
	const fromT = toTicks(from);

	const seen = decodeSeen(state);
	const added = new Map<string, bigint>();
	let index: FpIndex | undefined; // decoded on first use
	const fingerprints = () => (index ??= openIndex(state, watch!, cursor0, seen.size));
	let fpTouched = false;

	const emitted: Emitted[] = [];
	let maxProcessed = cursor0;
	let skippedInvalid = 0;
	let suppressed = 0;
	let baselined = 0;
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
			const { id } = alert;
			const prev = added.get(id) ?? seen.get(id);
			if (prev !== undefined && (kind === 'created' || t <= prev)) {
				// Processed already (or, updated stream, a newer version was: an older one is never emitted after it).
				if (t > maxProcessed) maxProcessed = t;
				continue;
			}

			let emit: Emitted | undefined = { alert };
			let values: Value[] | undefined;
			let baseline = false;
			if (watch) {
				const fps = fingerprints();
				values = watch.map((f) => watchedValue(alert, f));
				const known = fps.map.get(id);
				const created = parseTicks(alert.alertCreationTime);
				if (known || (created !== undefined && created >= fps.since)) {
					const d = diffValues(watch, known?.values, values);
					emit =
						d.changedFields.length > 0
							? { alert, changedFields: d.changedFields, previous: d.previous, previousKnown: d.previousKnown }
							: undefined;
				} else {
					emit = undefined; // older than the trigger, or forgotten: this version is the baseline
					baseline = true;
				}
			}
			if (emit && emitted.length >= maxItems) {
				stoppedBy = 'maxItems';
				break paging; // this item is NOT processed: the cursor stays at the last processed one
			}
			added.set(id, t);
			if (t > maxProcessed) maxProcessed = t;
			if (values) {
				const fps = fingerprints();
				const key = fps.map.get(id)?.key ?? packId(id);
				fps.map.delete(id); // re-inserted last: the map stays in processing order
				fps.map.set(id, { minute: minuteOf(t), values, key });
				fpTouched = true;
			}
			if (emit) emitted.push(emit);
			else {
				suppressed++;
				if (baseline) baselined++;
			}
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

	let fp: FingerprintSource = { kind: 'none' };
	if (watch) {
		if (fpTouched || needsConversion(state, watch)) fp = { kind: 'index', index: fingerprints() };
		else if (state.v === 2 && state.fingerprints) fp = { kind: 'keep', store: state.fingerprints, open: fingerprints };
	}
	const next = buildState(state, seen, added, maxProcessed, cursor0, overlapMs, options, fp);
	const result: PollResult = { emitted, state: next, pagesFetched, drained, skippedInvalid, suppressed };
	if (watch) result.baselined = baselined;
	if (stoppedBy) result.stoppedBy = stoppedBy;
	if (stoppedBy === 'error') result.error = error;
	return result;
}

type FingerprintSource =
	| { kind: 'none' }
	| { kind: 'index'; index: FpIndex }
	| { kind: 'keep'; store: FingerprintStore; open: () => FpIndex };

function buildState(
	state: StreamState,
	seen: ReadonlyMap<string, bigint>,
	added: Map<string, bigint>,
	maxProcessed: bigint,
	cursor0: bigint,
	overlapMs: number,
	options: PollOptions,
	fp: FingerprintSource,
): StreamStateV2 {
	const cursor = maxProcessed > cursor0 ? fromTicks(maxProcessed) : normalizeTimestamp(state.cursor);
	const cursorT = toTicks(cursor);
	let floor = windowStart({ cursor, floor: state.floor }, overlapMs);
	let floorT = toTicks(floor);
	const budget = options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;

	// Union, then prune everything below the next query's lower bound.
	const entries: Array<[string, bigint]> = [];
	for (const [id, t] of seen) if (!added.has(id) && t >= floorT) entries.push([id, t]);
	for (const [id, t] of added) if (t >= floorT) entries.push([id, t]);

	let overflow = state.seenOverflow ?? 0;
	// Fixed part of the state (canonical timestamps all have the same length), with room for the largest counters.
	const skeletonStore = (fields: string, evicted: number): FingerprintStore => ({ fields, since: cursor, values: [], byMinute: {}, evicted });
	const skeleton: StreamStateV2 = { v: 2, kind: state.kind, cursor, floor: cursor, seen: {}, seenOverflow: overflow + entries.length };
	if (fp.kind === 'keep') skeleton.fingerprints = skeletonStore(fp.store.fields, Number.MAX_SAFE_INTEGER);
	if (fp.kind === 'index') skeleton.fingerprints = skeletonStore(fieldsKey(fp.index.fields), fp.index.evicted + fp.index.map.size);
	const seenRoom = budget - jsonBytes(skeleton);

	const encoded = entries.map(([id, t]) => [packId(id), toB64(cursorT - t), t, id] as const);
	const entryBytes = (e: (typeof encoded)[number]) => jsonStringBytes(e[0]) + e[1].length + 4; // "id":"d",
	let seenBytes = 0;
	for (const e of encoded) seenBytes += entryBytes(e);
	const maxSeen = options.maxSeen ?? DEFAULT_MAX_SEEN;
	let kept = encoded;
	if (encoded.length > maxSeen || seenBytes > seenRoom) {
		// Keep the newest whole tie groups; raise the floor to the oldest kept one (see header).
		const sorted = [...encoded].sort((a, b) => (a[2] < b[2] ? 1 : a[2] > b[2] ? -1 : 0));
		let n = 0;
		let bytes = 0;
		while (n < sorted.length) {
			let end = n + 1;
			let groupBytes = entryBytes(sorted[n]);
			while (end < sorted.length && sorted[end][2] === sorted[n][2]) groupBytes += entryBytes(sorted[end++]);
			if (n > 0 && (end > maxSeen || bytes + groupBytes > seenRoom)) break;
			bytes += groupBytes;
			n = end;
		}
		// n === sorted.length: the whole map is the newest tie group, kept whole. Nothing is dropped, so the floor
		// stays at the window start: raising it would lose late arrivals in [floor, that tick) without a trace.
		if (n < sorted.length) {
			overflow += sorted.length - n;
			kept = sorted.slice(0, n);
			floorT = sorted[n - 1][2];
			floor = fromTicks(floorT);
		}
	}

	const next: StreamStateV2 = { v: 2, kind: state.kind, cursor, floor, seen: Object.fromEntries(kept.map((e) => [e[0], e[1]])) };
	seenCache.set(next, new Map(kept.map((e) => [e[3], e[2]])));
	if (overflow > 0) next.seenOverflow = overflow;

	if (fp.kind === 'keep') {
		next.fingerprints = fp.store;
		const cap = options.maxFingerprints;
		if (stateBytes(next) <= budget && (cap === undefined || countFingerprints(fp.store) <= cap)) return next;
		fp = { kind: 'index', index: fp.open() };
	}
	if (fp.kind === 'index') {
		const room = budget - jsonBytes({ ...next, fingerprints: skeletonStore(fieldsKey(fp.index.fields), fp.index.evicted + fp.index.map.size) });
		next.fingerprints = encodeStore(fp.index, room, options.maxFingerprints);
	}
	return next;
}
