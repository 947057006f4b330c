/**
 * The API's clock as seen from this process: one estimate per API origin, from the `Date` header of its
 * responses (RFC 9110 §6.6.1, https://www.rfc-editor.org/rfc/rfc9110#field.date: the origin's time when it
 * generated the response, to the second). The trigger's start boundary ("Start From: Now") is taken from here, so a
 * host clock that is minutes off neither loses nor replays alerts (issue 10 item 2).
 *
 * ESTIMATE
 * - A response received at host time `r` with `Date: D` gives offset = D − r. D is truncated to the second and was
 *   generated before `r`, so D − r ≤ (true server time − host time) at `r`: the estimate is never AHEAD of the server,
 *   it is behind by at most 1 s + the response's one-way latency. A start boundary taken from it can only be early.
 * - The latest sample wins (host clocks get stepped by NTP; an old sample would be wrong after a step).
 * - `now(origin)` = host now + offset, or undefined when this process has not heard from that origin yet.
 * Bounded: MAX_ORIGINS origins (oldest forgotten first).
 */

const MAX_ORIGINS = 200;

export interface ClockSample {
	/** server time − host time, ms (see ESTIMATE) */
	offsetMs: number;
	/** host time of the response, ms */
	observedAt: number;
}

export class ServerClock {
	private readonly samples = new Map<string, ClockSample>();

	constructor(private readonly hostNow: () => number = () => Date.now()) {}

	/** Records a response's Date header (ignored when missing or unparseable). `receivedAt` defaults to now. */
	record(url: string, dateHeader: unknown, receivedAt: number = this.hostNow()): void {
		const origin = originOf(url);
		const text = Array.isArray(dateHeader) ? dateHeader[0] : dateHeader;
		if (!origin || typeof text !== 'string' || text.trim() === '') return;
		const serverMs = Date.parse(text);
		if (Number.isNaN(serverMs)) return;
		this.samples.delete(origin);
		if (this.samples.size >= MAX_ORIGINS) this.samples.delete(this.samples.keys().next().value as string);
		this.samples.set(origin, { offsetMs: serverMs - receivedAt, observedAt: receivedAt });
	}

	sample(url: string): ClockSample | undefined {
		const origin = originOf(url);
		return origin ? this.samples.get(origin) : undefined;
	}

	/** The server's time now (ms), or undefined when no response of this origin was seen. */
	now(url: string): number | undefined {
		const s = this.sample(url);
		return s === undefined ? undefined : this.hostNow() + s.offsetMs;
	}

	clear(): void {
		this.samples.clear();
	}
}

export function originOf(url: string): string | undefined {
	try {
		return new URL(url).origin.toLowerCase();
	} catch {
		return undefined;
	}
}

/** Process-wide: every node, execution and workflow of this n8n process shares it. */
export const serverClock = new ServerClock();
