/** Queue of injected faults, consumed in insertion order by matching requests. */
import type { FaultInfo, FaultSpec, RequestKind } from './types';

export interface FaultContext {
	method: string;
	/** path + query string */
	pathWithQuery: string;
	kind: RequestKind;
	/** Resolved tenant GUID and the raw tenant path segment (token requests by domain). */
	tenantIds: string[];
}

interface QueuedFault {
	id: number;
	remaining: number;
	spec: FaultSpec;
}

export class FaultQueue {
	private faults: QueuedFault[] = [];
	private nextId = 1;

	add(spec: FaultSpec): number {
		const times = spec.times ?? 1;
		if (!(times > 0)) throw new Error('injectFault: times must be > 0');
		if (spec.status !== undefined && (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599)) {
			throw new Error(`injectFault: invalid status ${spec.status}`);
		}
		if (spec.status === undefined && !spec.reset && spec.delayMs === undefined) {
			throw new Error('injectFault: give status, reset or delayMs');
		}
		const id = this.nextId++;
		this.faults.push({ id, remaining: times, spec });
		return id;
	}

	clear(): void {
		this.faults = [];
	}

	remove(id: number): void {
		this.faults = this.faults.filter((f) => f.id !== id);
	}

	list(): FaultInfo[] {
		return this.faults.map((f) => ({ id: f.id, remaining: f.remaining, spec: f.spec }));
	}

	take(ctx: FaultContext): FaultSpec | undefined {
		const index = this.faults.findIndex((f) => matches(f.spec, ctx));
		if (index < 0) return undefined;
		const fault = this.faults[index];
		fault.remaining -= 1;
		if (fault.remaining <= 0) this.faults.splice(index, 1);
		return fault.spec;
	}
}

function matches(spec: FaultSpec, ctx: FaultContext): boolean {
	if (ctx.kind === 'control') return false;
	const m = spec.match ?? {};
	if (m.method !== undefined && m.method.toUpperCase() !== ctx.method.toUpperCase()) return false;
	if (m.kind !== undefined && m.kind !== ctx.kind) return false;
	if (m.tenantId !== undefined && !ctx.tenantIds.some((t) => t.toLowerCase() === m.tenantId!.toLowerCase())) return false;
	if (m.path !== undefined) {
		if (typeof m.path === 'string') {
			if (!ctx.pathWithQuery.includes(m.path)) return false;
		} else {
			m.path.lastIndex = 0;
			if (!m.path.test(ctx.pathWithQuery)) return false;
		}
	}
	return true;
}
