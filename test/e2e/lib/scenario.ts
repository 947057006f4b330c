/**
 * Small helpers for the scenario suites (operations, credential, trigger): fan-out workflows, full node output
 * (with pairedItem), the emulator's request log, and trigger executions.
 */
import type { INode, INodeExecutionData, IRun, IWorkflowBase } from 'n8n-workflow';
import type { RequestLogEntry } from '../../emulator/types';
import type { EmulatorProcess } from './emulator';
import type { ApiExecution } from './n8n';
import { newWorkflowId } from './n8n';
import { manualTriggerNode, type ImportableWorkflow } from './workflows';

/**
 * Manual Trigger → several independent branches (each a straight line of nodes), one workflow for `n8n execute`.
 * With executionOrder v1 the branches run one after the other, top to bottom.
 */
export function fanOutWorkflow(name: string, branches: INode[][], extra: Partial<IWorkflowBase> = {}): ImportableWorkflow {
	const trigger = manualTriggerNode();
	const connections: IWorkflowBase['connections'] = { [trigger.name]: { main: [branches.map((b) => ({ node: b[0].name, type: 'main' as const, index: 0 }))] } };
	const nodes: INode[] = [trigger];
	branches.forEach((branch, row) => {
		branch.forEach((node, col) => {
			node.position = [240 + col * 240, row * 200];
			nodes.push(node);
			const next = branch[col + 1];
			if (next) connections[node.name] = { main: [[{ node: next.name, type: 'main', index: 0 }]] };
		});
	});
	return { id: newWorkflowId(), name, nodes, connections, settings: { executionOrder: 'v1' }, active: false, ...extra };
}

/** Every output item (json + pairedItem) of a node; throws with the node's error when it failed or did not run. */
export function outputOf(run: IRun, nodeName: string, outputIndex = 0): INodeExecutionData[] {
	const task = run.data.resultData.runData[nodeName]?.[0];
	if (!task) {
		const top = (run.data.resultData.error as { message?: string } | undefined)?.message;
		throw new Error(`Node "${nodeName}" did not run (ran: ${Object.keys(run.data.resultData.runData).join(', ')})${top ? `; workflow error: ${top}` : ''}`);
	}
	if (task.error) {
		const e = task.error as unknown as { message?: string; description?: string };
		throw new Error(`Node "${nodeName}" failed: ${e.message ?? ''}${e.description ? ` — ${e.description}` : ''}`);
	}
	return task.data?.main?.[outputIndex] ?? [];
}

/** The json of every output item of a node (see outputOf). */
export function jsonOf(run: IRun, nodeName: string, outputIndex = 0): Array<Record<string, unknown>> {
	return outputOf(run, nodeName, outputIndex).map((item) => item.json as Record<string, unknown>);
}

export type LogEntry = RequestLogEntry;

/** The emulator's log entries (non-control kinds unless `kind` says otherwise), filtered by query parameters. */
export async function emulatorRequests(
	emulator: EmulatorProcess,
	filter: { kind?: string; tenantId?: string; method?: string; path?: string; pathRegex?: string; sinceSeq?: number } = {},
): Promise<LogEntry[]> {
	const query = new URLSearchParams();
	for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value));
	const result = await emulator.control<{ value: LogEntry[] }>('GET', `/requests?${query.toString()}`);
	return result.value;
}

/**
 * Highest request sequence number the emulator has logged so far (all kinds, control included): requests that
 * arrive later have greater numbers. Use with `sinceSeq` to look at what one run did.
 */
export async function logMark(emulator: EmulatorProcess): Promise<number> {
	const [others, control] = await Promise.all([emulatorRequests(emulator), emulatorRequests(emulator, { kind: 'control' })]);
	return Math.max(0, ...others.map((e) => e.seq), ...control.map((e) => e.seq));
}

/** `<method> <path>?<query>` of a log entry, for readable failure messages. */
export function describeEntry(e: LogEntry): string {
	const q = Object.entries(e.query ?? {})
		.map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
		.join('&');
	return `${e.kind} ${e.method} ${e.path}${q ? `?${q}` : ''} → ${e.status}${e.aadsts ? ` AADSTS${e.aadsts}` : ''}${e.tenantId ? ` [${e.tenantId}]` : ''}`;
}

/** The emulator clock (same real-time source as n8n, 7-digit UTC). */
export async function emulatorNow(emulator: EmulatorProcess): Promise<string> {
	return (await emulator.control<{ now: string }>('GET', '/clock')).now;
}

/** The items a trigger node emitted in one execution (output 0 = alerts). */
export function triggerItems(execution: ApiExecution, nodeName: string, outputIndex = 0): Array<Record<string, unknown>> {
	const task = execution.data?.resultData.runData[nodeName]?.[0];
	return (task?.data?.main?.[outputIndex] ?? []).map((item) => item.json as Record<string, unknown>);
}
