/**
 * Defender timestamps carry up to 7 fraction digits (100 ns ticks), e.g. `2025-03-04T09:15:22.4817263Z`,
 * and sometimes fewer (`…59.2Z`). JavaScript `Date` keeps only milliseconds, so comparing or storing
 * them through `Date` loses order between alerts in the same millisecond and re-reads or skips alerts.
 *
 * Everything here works on a canonical string form `YYYY-MM-DDTHH:MM:SS.fffffffZ` (always 7 digits, UTC)
 * whose lexical order equals time order, and on BigInt ticks for arithmetic. No n8n types inside.
 */

const TIMESTAMP_RE =
	/^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

const TICKS_PER_MS = 10_000n;
const TICKS_PER_SECOND = 10_000_000n;

/** True when `value` parses as an ISO-8601 timestamp this module understands. */
export function isTimestamp(value: unknown): value is string {
	return typeof value === 'string' && toTicksOrUndefined(value) !== undefined;
}

function toTicksOrUndefined(value: string): bigint | undefined {
	const m = TIMESTAMP_RE.exec(value.trim());
	if (!m) return undefined;
	const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
	const month = Number(mo);
	const day = Number(d);
	const hour = Number(h);
	const minute = Number(mi);
	const second = Number(s);
	if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
		return undefined;
	}
	// Date.UTC is exact for whole milliseconds, which is all we ask of it here.
	const baseMs = Date.UTC(Number(y), month - 1, day, hour, minute, second);
	if (Number.isNaN(baseMs)) return undefined;
	const check = new Date(baseMs);
	if (check.getUTCDate() !== day) return undefined; // 31 February and friends
	let ticks = BigInt(baseMs) * TICKS_PER_MS;
	// 9 digits allowed on input (other tools print nanoseconds); digits past the 7th are truncated.
	ticks += BigInt(frac.padEnd(7, '0').slice(0, 7));
	if (zone.toUpperCase() !== 'Z') {
		const sign = zone.startsWith('-') ? -1n : 1n;
		const digits = zone.slice(1).replace(':', '');
		const offsetMinutes = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
		ticks -= sign * offsetMinutes * 60n * TICKS_PER_SECOND;
	}
	return ticks;
}

/** Parse to 100 ns ticks since the Unix epoch. Throws on anything that is not a timestamp. */
export function toTicks(value: string): bigint {
	const ticks = toTicksOrUndefined(value);
	if (ticks === undefined) throw new Error(`Not an ISO-8601 timestamp: "${value}"`);
	return ticks;
}

/** Canonical 7-digit UTC form of a tick count. */
export function fromTicks(ticks: bigint): string {
	const ms = ticks / TICKS_PER_MS;
	let rest = ticks % TICKS_PER_MS;
	let msNumber = Number(ms);
	if (rest < 0n) {
		rest += TICKS_PER_MS;
		msNumber -= 1;
	}
	const iso = new Date(msNumber).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
	const fraction = iso.slice(20, 23) + rest.toString().padStart(4, '0');
	return `${iso.slice(0, 19)}.${fraction}Z`;
}

/** Canonical form of any accepted timestamp string (`…59.2Z` → `…59.2000000Z`). */
export function normalizeTimestamp(value: string): string {
	return fromTicks(toTicks(value));
}

/** Canonical form of a JavaScript Date (millisecond precision, the rest zero). */
export function fromDate(date: Date): string {
	return fromTicks(BigInt(date.getTime()) * TICKS_PER_MS);
}

/** -1, 0 or 1, exact to the tick. Accepts non-canonical input. */
export function compareTimestamps(a: string, b: string): number {
	const ta = toTicks(a);
	const tb = toTicks(b);
	return ta < tb ? -1 : ta > tb ? 1 : 0;
}

export function addMilliseconds(value: string, ms: number): string {
	return fromTicks(toTicks(value) + BigInt(Math.trunc(ms)) * TICKS_PER_MS);
}

export function maxTimestamp(a: string, b: string): string {
	return compareTimestamps(a, b) >= 0 ? a : b;
}
