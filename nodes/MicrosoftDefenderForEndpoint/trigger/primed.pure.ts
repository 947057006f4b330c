/**
 * Start boundaries of streams this process primed and has not yet seen persisted (issue 10 item 3).
 *
 * Why: a poll that primes a stream (Start From: its first boundary) and emits nothing is not always persisted by
 * n8n 2.41. Standard mode saves the activation poll's static data (packages/cli/src/active-workflow-manager.ts
 * `add()` calls saveStaticData after the triggers are added), but with the scheduler
 * (N8N_SCHEDULER_POLL_TRIGGERS_ENABLED) every tick rebuilds the workflow from the database and a tick that returns
 * null saves nothing, and with durable poll cursors (N8N_POLLER_DURABLE_CURSORS_ENABLED) the activation poll's
 * staged cursor is dropped when it returns null (packages/core/src/execution-engine/poll-trigger-executor.ts
 * commits only for scheduled ticks). A later poll that finds the stream missing would prime it again from a new
 * "now" and lose what arrived in between. With this memory it primes it from the SAME boundary, and tells the
 * caller to make n8n persist it (the orchestrator's `persist` flag).
 *
 * Bounded: at most MAX_TRIGGERS triggers × MAX_STREAMS streams (oldest trigger forgotten first). Pure.
 */

const MAX_TRIGGERS = 1000;
const MAX_STREAMS = 1000;

export class PrimedStarts {
	private readonly byTrigger = new Map<string, Map<string, string>>();

	get(trigger: string, stream: string): string | undefined {
		return this.byTrigger.get(trigger)?.get(stream);
	}

	set(trigger: string, stream: string, start: string): void {
		let streams = this.byTrigger.get(trigger);
		if (!streams) {
			if (this.byTrigger.size >= MAX_TRIGGERS) this.byTrigger.delete(this.byTrigger.keys().next().value as string);
			streams = new Map();
			this.byTrigger.set(trigger, streams);
		}
		if (!streams.has(stream) && streams.size >= MAX_STREAMS) streams.delete(streams.keys().next().value as string);
		streams.set(stream, start);
	}

	/** The stream was found in the static data: its boundary is persisted (or held by n8n in memory). */
	forget(trigger: string, stream: string): void {
		const streams = this.byTrigger.get(trigger);
		if (!streams) return;
		streams.delete(stream);
		if (streams.size === 0) this.byTrigger.delete(trigger);
	}

	clear(): void {
		this.byTrigger.clear();
	}
}

export const primedStarts = new PrimedStarts();
