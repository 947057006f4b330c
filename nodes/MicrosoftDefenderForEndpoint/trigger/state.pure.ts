/**
 * The trigger node's static data: its versions, how an old version is read, and what is recovered from data that
 * cannot be read (issue 10 items 6 and 7). Pure: no n8n types.
 *
 * VERSIONS
 * - 2 (written): `{ v: 2, streams: { "<kind>:<tenant GUID>": StreamState }, resumeAt? }`. A stream is keyed by the
 *   GUID of the tenant its token was issued for (the token's `tid`), however the tenant is spelled in the node.
 * - 1 (read, migrated): the same shape, keyed by the tenant as typed, lower case (a GUID or a domain), and in
 *   single-tenant mode once by "<kind>:" alone. The orchestrator finds such a stream under the listed spelling, the
 *   backend's spelling, the legacy key or (domain keys) by resolving the domain to its GUID, and writes it back under
 *   the GUID key only.
 * - Stream states themselves are trigger/poller.ts's (it reads its own version 1 and writes version 2).
 *
 * UNREADABLE DATA
 * - Whole: a version this node does not know (e.g. written by a newer release), `streams` not an object, or keys
 *   that are not this node's at all. Streams inside it that are valid stream states are still used.
 * - One stream: a value under a stream key that is not a valid stream state of its kind.
 * Nothing unreadable is silently replaced by a fresh start (that replays history with Hours Back or a Start Date):
 * `recoveredBoundary` gives the newest position that can be recovered — just after the damaged stream's own cursor
 * (or its floor), else
 * the greatest cursor of its kind anywhere in the data (a JSON walk, bounded), else of any kind — and the caller
 * resumes there, says so on the Tenant Failures output and logs a warning. Only when nothing at all can be recovered
 * does it start from "now" (never from Start From), and says that too.
 */
import { fromTicks, toTicks } from '../helpers/timestamps';
import { type EventKind, isStreamState, type StreamState } from './poller';

export const TRIGGER_STATE_VERSION = 2;
/** Versions this node reads. */
export const READABLE_VERSIONS: readonly number[] = [1, 2];

/** The trigger node's static data as this version writes it. */
export interface TriggerState {
	v: number;
	/** "<kind>:<tenant GUID>" → the stream's state (trigger/poller.ts); damaged entries of unlisted tenants kept as found */
	streams: Record<string, StreamState>;
	/** Key of the first tenant (as listed) a poll skipped for lack of time: the next poll starts there. */
	resumeAt?: string;
}

export interface DamagedStream {
	raw: unknown;
	/** where it resumes: one tick after its cursor, or its floor, when one of them is still a timestamp */
	boundary?: string;
}

export interface StoredState {
	/** no static data yet (first activation): not a problem */
	fresh: boolean;
	/** the version found (undefined when none) */
	version: unknown;
	/** readable stream states by key */
	valid: Map<string, StreamState>;
	/** stream keys whose value is not a readable stream state */
	damaged: Map<string, DamagedStream>;
	/** what is wrong with the data as a whole (unknown version, wrong shape); undefined when it is readable */
	problem?: string;
	/** the latest resume point (see resumePoint) found anywhere, per kind and over all kinds */
	recovered: Partial<Record<EventKind | 'any', string>>;
	resumeAt?: string;
}

const MAX_WALK_NODES = 200_000;

export function splitKey(key: string): { kind: string; tenant: string } {
	const i = key.indexOf(':');
	return i < 0 ? { kind: key, tenant: '' } : { kind: key.slice(0, i), tenant: key.slice(i + 1) };
}

export function streamKey(kind: EventKind, tenant: string): string {
	return `${kind}:${tenant.toLowerCase()}`;
}

function ticks(value: unknown): bigint | undefined {
	if (typeof value !== 'string') return undefined;
	try {
		return toTicks(value);
	} catch {
		return undefined;
	}
}

/** The later of two timestamps (either may be undefined). */
export function laterOf(a: string | undefined, b: string | undefined): string | undefined {
	const ta = ticks(a);
	const tb = ticks(b);
	if (ta === undefined) return tb === undefined ? undefined : b;
	if (tb === undefined) return a;
	return tb > ta ? b : a;
}

/** Cursor of a stream state (any version), comparable. */
export function cursorTicks(state: StreamState): bigint {
	return ticks(state.cursor) ?? -1n;
}

/**
 * Where a stream resumes from what is left of it: one tick after its cursor (everything up to the cursor was
 * processed: nothing is delivered twice; only an alert sharing the cursor's 100 ns tick that the last poll had not
 * reached yet could be missed), else its floor (the last late-arrival window may be delivered again).
 */
function resumePoint(value: Record<string, unknown>): string | undefined {
	const c = ticks(value.cursor);
	if (c !== undefined) return fromTicks(c + 1n);
	return ticks(value.floor) !== undefined ? (value.floor as string) : undefined;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Greatest `cursor` (and, failing that, `floor`) timestamps anywhere in `raw`, by the kind they belong to. */
function walk(raw: unknown): Partial<Record<EventKind | 'any', string>> {
	const out: Partial<Record<EventKind | 'any', string>> = {};
	const note = (kind: string | undefined, value: unknown) => {
		if (ticks(value) === undefined) return;
		const v = value as string;
		out.any = laterOf(out.any, v);
		if (kind === 'created' || kind === 'updated') out[kind] = laterOf(out[kind], v);
	};
	let visited = 0;
	const stack: Array<{ value: unknown; kind?: string; depth: number }> = [{ value: raw, depth: 0 }];
	while (stack.length > 0 && visited < MAX_WALK_NODES) {
		const { value, kind, depth } = stack.pop()!;
		visited++;
		if (!isPlainObject(value) || depth > 6) continue;
		const ownKind = value.kind === 'created' || value.kind === 'updated' ? (value.kind as string) : kind;
		const position = resumePoint(value);
		if (position) note(ownKind, position);
		for (const [key, child] of Object.entries(value)) {
			if (key === 'seen' || key === 'fingerprints') continue;
			const childKind = key.startsWith('created:') ? 'created' : key.startsWith('updated:') ? 'updated' : ownKind;
			stack.push({ value: child, kind: childKind, depth: depth + 1 });
		}
	}
	return out;
}

/** Reads the node's static data (any version, any damage) without throwing. */
export function readStoredState(raw: unknown): StoredState {
	const state: StoredState = { fresh: false, version: undefined, valid: new Map(), damaged: new Map(), recovered: {} };
	if (raw === undefined || raw === null || (isPlainObject(raw) && Object.keys(raw).every((k) => (raw as Record<string, unknown>)[k] === undefined))) {
		state.fresh = true;
		return state;
	}
	if (!isPlainObject(raw)) {
		state.problem = 'it is not an object';
		state.recovered = walk(raw);
		return state;
	}
	state.version = raw.v;
	if (typeof raw.resumeAt === 'string') state.resumeAt = raw.resumeAt;
	const readable = typeof raw.v === 'number' && READABLE_VERSIONS.includes(raw.v);
	if (raw.v === undefined && raw.streams === undefined) state.problem = 'it is not in this node\'s format';
	else if (!readable) state.problem = `it was written in format version ${JSON.stringify(raw.v)}, which this version of the node cannot read`;
	if (raw.streams !== undefined && !isPlainObject(raw.streams)) state.problem ??= 'its list of streams is damaged';
	if (isPlainObject(raw.streams)) {
		for (const [key, value] of Object.entries(raw.streams)) {
			const { kind } = splitKey(key);
			if ((kind === 'created' || kind === 'updated') && isStreamState(value, kind)) {
				state.valid.set(key, value);
				continue;
			}
			const boundary = isPlainObject(value) ? resumePoint(value) : undefined;
			state.damaged.set(key, { raw: value, ...(boundary ? { boundary } : {}) });
		}
	}
	state.recovered = walk(raw);
	return state;
}

/**
 * The newest boundary a stream of `kind` can resume from when its own state is lost: the damaged entry's cursor,
 * else the greatest cursor of that kind anywhere, else of any kind. Undefined when the data holds none.
 */
export function recoveredBoundary(stored: StoredState, kind: EventKind, damagedKey?: string): string | undefined {
	const own = damagedKey ? stored.damaged.get(damagedKey)?.boundary : undefined;
	return own ?? stored.recovered[kind] ?? stored.recovered.any;
}
