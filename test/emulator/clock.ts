import { fromTicks, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import type { ClockSource } from './types';

const TICKS_PER_MS = 10_000n;

/** Real time with sub-millisecond digits (performance.now is monotonic and has µs resolution). */
function realTicks(): bigint {
	return BigInt(Math.floor((performance.timeOrigin + performance.now()) * 10_000));
}

function sourceToTicks(value: Date | number | string): bigint {
	if (value instanceof Date) return BigInt(value.getTime()) * TICKS_PER_MS;
	if (typeof value === 'number') return BigInt(Math.floor(value * 10_000));
	return toTicks(value);
}

/**
 * The emulator clock. Reads (`nowTicks`) follow the source plus offset; writes (`writeTicks`) are strictly
 * increasing across the whole emulator, so two successive server-side writes never share a timestamp.
 */
export class EmulatorClock {
	private source: ClockSource | undefined;
	private offsetTicks = 0n;
	private lastWrite = 0n;

	constructor(source?: ClockSource) {
		this.source = source;
	}

	/** Replace the time source (undefined = real time). */
	setClock(source: ClockSource | undefined): void {
		this.source = source;
	}

	/** Shift the clock by this many milliseconds (replaces any previous offset). */
	setOffset(ms: number): void {
		this.offsetTicks = BigInt(Math.trunc(ms)) * TICKS_PER_MS;
	}

	/** Move the clock forward by `ms` (adds to the offset). */
	advance(ms: number): void {
		this.offsetTicks += BigInt(Math.trunc(ms)) * TICKS_PER_MS;
	}

	reset(): void {
		this.source = undefined;
		this.offsetTicks = 0n;
	}

	nowTicks(): bigint {
		const base = this.source ? sourceToTicks(this.source()) : realTicks();
		return base + this.offsetTicks;
	}

	nowMs(): number {
		return Number(this.nowTicks() / TICKS_PER_MS);
	}

	nowSeconds(): number {
		return Math.floor(this.nowMs() / 1000);
	}

	now(): string {
		return fromTicks(this.nowTicks());
	}

	/** Timestamp for a write: never equal to or before the previous write. */
	writeTicks(): bigint {
		let ticks = this.nowTicks();
		if (ticks <= this.lastWrite) ticks = this.lastWrite + 1n;
		this.lastWrite = ticks;
		return ticks;
	}

	write(): string {
		return fromTicks(this.writeTicks());
	}

	info(): { now: string; offsetMs: number; custom: boolean } {
		return { now: this.now(), offsetMs: Number(this.offsetTicks / TICKS_PER_MS), custom: this.source !== undefined };
	}
}

/**
 * Newtonsoft-style rendering used by the real API for lastUpdateTime: trailing zero digits of the fraction are
 * dropped (`…59.2000000Z` → `…59.2Z`, `…59.0000000Z` → `…59Z`).
 */
export function trimFraction(canonical: string): string {
	const m = /^(.*T\d{2}:\d{2}:\d{2})\.(\d{7})Z$/.exec(canonical);
	if (!m) return canonical;
	const digits = m[2].replace(/0+$/, '');
	return digits ? `${m[1]}.${digits}Z` : `${m[1]}Z`;
}
