/** Request log: every request, with attribution, never with secrets or tokens. */
import type { RequestFilter, RequestLogEntry } from './types';

export class RequestLog {
	private entries: RequestLogEntry[] = [];
	private seq = 0;

	constructor(private readonly limit: number) {}

	nextSeq(): number {
		return ++this.seq;
	}

	add(entry: RequestLogEntry): void {
		this.entries.push(entry);
		if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
	}

	/** Control-API requests are only returned when `filter.kind === 'control'`. */
	query(filter: RequestFilter = {}): RequestLogEntry[] {
		return this.entries.filter((e) => {
			if (filter.kind === undefined ? e.kind === 'control' : e.kind !== filter.kind) return false;
			if (filter.method !== undefined && e.method !== filter.method.toUpperCase()) return false;
			if (filter.host !== undefined && e.host.toLowerCase() !== filter.host.toLowerCase()) return false;
			if (filter.tenantId !== undefined && e.tenantId?.toLowerCase() !== filter.tenantId.toLowerCase()) return false;
			if (filter.clientId !== undefined && e.clientId?.toLowerCase() !== filter.clientId.toLowerCase()) return false;
			if (filter.endpointClass !== undefined && e.endpointClass !== filter.endpointClass) return false;
			if (filter.status !== undefined && e.status !== filter.status) return false;
			if (filter.viaProxy !== undefined && e.viaProxy !== filter.viaProxy) return false;
			if (filter.sinceSeq !== undefined && e.seq <= filter.sinceSeq) return false;
			if (filter.path !== undefined) {
				if (typeof filter.path === 'string') {
					if (!e.path.includes(filter.path)) return false;
				} else {
					filter.path.lastIndex = 0;
					if (!filter.path.test(e.path)) return false;
				}
			}
			if (filter.where && !filter.where(e)) return false;
			return true;
		}).map((e) => ({ ...e, query: { ...e.query } }));
	}

	reset(): void {
		this.entries = [];
	}

	get size(): number {
		return this.entries.length;
	}

	lastSeq(): number {
		return this.seq;
	}
}
