/**
 * Test environment for the polling trigger: the HTTPS emulator (TLS verified via NODE_EXTRA_CA_CERTS), a credential
 * pointing at it (custom cloud), and a "deployment" that runs poll() through n8n-core's real PollContext and models
 * how n8n 2.41.1 persists the node's static data (`persistence`):
 * - 'emitOnly' (default, the strictest): saved only after a poll that returned items; the in-memory copy carries
 *   over between polls; a restart rebuilds the workflow from the last saved copy (JSON round-trip).
 * - 'standard': n8n's standard mode. As emitOnly, and the activation poll (the first poll after deploy() or
 *   restart()) is saved whatever it returned (ActiveWorkflowManager.add saves static data after the triggers).
 * - 'scheduler': N8N_SCHEDULER_POLL_TRIGGERS_ENABLED: every tick rebuilds the workflow from the saved copy (nothing
 *   carries over in memory); saved after a poll that returned items, and after the activation poll (first poll after
 *   deploy(); a restart runs none: the scheduled job already exists).
 * - 'durable': N8N_POLLER_DURABLE_CURSORS_ENABLED: every poll works on a plain copy of the committed cursor; it is
 *   committed with an execution (items returned) or by a scheduled tick that returned null; the activation poll's
 *   copy is dropped when it returns null (poll-trigger-executor.ts commits only when `!testingTrigger`).
 * Every deployment has its own workflow id (the overlap guard is keyed by workflow + node). A restart also clears
 * the trigger's process memory (trigger/processMemory.ts), as a real process restart does. The node type gets n8n's
 * `pollTimes` parameter as n8n's loader adds it (DirectoryLoader.applySpecialNodeParameters).
 */
import { PollContext } from 'n8n-core';
import { commonPollingParameters } from 'n8n-core/dist/nodes-loader/constants';
import { type IDataObject, type INode, type INodeCredentialsDetails, type INodeExecutionData, type INodeParameters, type INodeType, type IRun, type IWorkflowBase, Workflow } from 'n8n-workflow';

import { MicrosoftDefenderForEndpointTrigger } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node';
import { resetTriggerProcessMemory } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/processMemory';
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { type Emulator, type EmulatorOptions, type RequestLogEntry, type Scenario, type ScenarioOptions } from '../emulator';
import { additionalData, errorOf, outputOf, PACKAGE, runWorkflow, startEmulatorEnv, TestCredentialsHelper, TestNodeTypes } from '../harness';

export const TRIGGER_TYPE = `${PACKAGE}.microsoftDefenderForEndpointTrigger`;
export const TRIGGER_NAME = 'Defender Trigger';
export const STATIC_KEY = `node:${TRIGGER_NAME}`;
export const NODE_ID = 'trigger-1';

export type Persistence = 'emitOnly' | 'standard' | 'scheduler' | 'durable';

export interface PollOutcome {
	/** what poll() returned (null = n8n starts no execution) */
	raw: INodeExecutionData[][] | null;
	/** output 0 */
	alerts: IDataObject[];
	/** output 1 ("Tenant Failures") */
	failures: IDataObject[];
	/** API requests the emulator saw during this poll */
	api: RequestLogEntry[];
	/** token requests the emulator saw during this poll */
	tokens: RequestLogEntry[];
	ms: number;
	/** the state n8n persisted after this poll (per the persistence model) */
	persisted: boolean;
}

export interface PollHarnessLike {
	workflow: Workflow;
	snapshot(): IDataObject;
}

/** One active workflow with the trigger, across polls and n8n restarts. */
export interface Deployment {
	workflowId: string;
	persistence: Persistence;
	harness: PollHarnessLike;
	/** static data as n8n last saved it (durable: the committed cursor, under STATIC_KEY) */
	saved: IDataObject;
	polls: number;
	/** what the node logged in trigger-mode polls */
	logs: Array<{ level: string; message: string }>;
	/** poll in trigger mode; persistence per the model */
	poll(options?: { budgetMs?: number }): Promise<PollOutcome>;
	/** poll expecting an error; the state is not saved (n8n's __emitError saves nothing) */
	pollError(options?: { budgetMs?: number }): Promise<Error & { httpCode?: string; description?: string; retryAfterMs?: number }>;
	/** n8n restarts: the in-memory workflow is rebuilt from the saved static data; process memory is gone */
	restart(parameters?: Record<string, unknown>): void;
	/** the workflow is published again with new parameters WITHOUT an activation poll (scheduler: jobs unchanged) */
	republish(parameters: Record<string, unknown>): void;
	/** "Fetch test event" */
	manual(): Promise<{ run: IRun; items: IDataObject[]; error?: Error & { description?: string } }>;
	/** the node's static data the next poll reads (JSON copy) */
	state(): { v?: number; streams?: Record<string, { cursor: string; floor: string; seen: Record<string, string>; fingerprints?: Record<string, unknown> }>; [k: string]: unknown };
	/** poll until a poll returns null (or `max` polls); returns every alert emitted, in order */
	drain(max?: number, options?: { budgetMs?: number }): Promise<{ alerts: IDataObject[]; polls: PollOutcome[] }>;
}

export interface DeployOptions {
	cred?: INodeCredentialsDetails;
	staticData?: IDataObject;
	persistence?: Persistence;
	workflowId?: string;
}

export interface TriggerEnv {
	emu: Emulator;
	scenario: Scenario;
	creds: TestCredentialsHelper;
	cred: INodeCredentialsDetails;
	nodeTypes: TestNodeTypes;
	/** tenant of the credential (scenario tenant 0) */
	tenantId: string;
	deploy(parameters: Record<string, unknown>, options?: DeployOptions): Deployment;
	addCredential(id: string, data: IDataObject): INodeCredentialsDetails;
	close(): Promise<void>;
}

export function triggerNode(parameters: Record<string, unknown>, cred: INodeCredentialsDetails): INode {
	return {
		id: NODE_ID,
		name: TRIGGER_NAME,
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: parameters as INodeParameters,
		credentials: { microsoftDefenderForEndpointApi: cred },
	};
}

/** The trigger as n8n's loader serves it: its description with the common `pollTimes` parameter first. */
export function loadedTriggerType(): INodeType {
	const trigger = new MicrosoftDefenderForEndpointTrigger();
	return {
		description: { ...trigger.description, properties: [...(commonPollingParameters as INodeType['description']['properties']), ...trigger.description.properties] },
		poll: trigger.poll,
	};
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value ?? {})) as T;
let deployments = 0;

export async function createTriggerEnv(options: { emulator?: EmulatorOptions; scenario?: ScenarioOptions; pacerScale?: number } = {}): Promise<TriggerEnv> {
	const { emu, scenario, creds, tenantId, base, cred } = await startEmulatorEnv({ ...options, scenario: options.scenario ?? { tenants: 1, alertsPerTenant: 0 } });
	const nodeTypes = new TestNodeTypes({ [TRIGGER_TYPE]: loadedTriggerType() });

	const deploy = (parameters: Record<string, unknown>, opts: DeployOptions = {}): Deployment => {
		resetTriggerProcessMemory();
		const persistence = opts.persistence ?? 'emitOnly';
		const workflowId = opts.workflowId ?? `wf-poll-${++deployments}`;
		let params = parameters;
		const wfData = () => ({ id: workflowId, name: 'poll', nodes: [triggerNode(params, opts.cred ?? cred)], connections: {}, active: true, settings: {} }) as unknown as IWorkflowBase;
		const buildWorkflow = (staticData: IDataObject) =>
			new Workflow({ id: workflowId, nodes: [triggerNode(params, opts.cred ?? cred)], connections: {}, active: true, nodeTypes, staticData: clone(staticData) });
		const initial = clone(opts.staticData ?? {});
		let workflow = buildWorkflow(initial);
		/** durable: the committed cursor of the node */
		let committed: IDataObject = clone((initial[STATIC_KEY] as IDataObject | undefined) ?? {});
		let activationPending = true;
		let lastSnapshot: IDataObject | undefined;

		const runPoll = async (budgetMs?: number): Promise<{ raw: INodeExecutionData[][] | null; activation: boolean; staged?: IDataObject }> => {
			const activation = activationPending;
			activationPending = false;
			if (persistence === 'scheduler') workflow = buildWorkflow(d.saved);
			const node = workflow.getNode(TRIGGER_NAME)!;
			const ad = additionalData(creds, 'trigger', wfData());
			const budget = budgetMs === undefined ? undefined : () => budgetMs;
			const staged = persistence === 'durable' ? clone(committed) : undefined;
			const ctx = new PollContext(
				workflow,
				node,
				ad,
				'trigger',
				activation ? 'activate' : 'update',
				undefined,
				undefined,
				undefined,
				undefined,
				staged ? () => staged : undefined,
				budget,
			);
			// Record what the node logs (n8n's logger comes from n8n-core's own DI container).
			const record = (level: string) => (message: unknown) => d.logs.push({ level, message: String(message) });
			Object.defineProperty(ctx, 'logger', { value: { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') } });
			const type = nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
			const raw = await type.poll!.call(ctx);
			return { raw, activation, staged };
		};

		const afterPoll = (raw: INodeExecutionData[][] | null, activation: boolean, staged?: IDataObject): boolean => {
			let persisted = false;
			if (persistence === 'durable') {
				lastSnapshot = staged;
				if (raw !== null || !activation) {
					committed = clone(staged ?? {});
					persisted = true;
				}
				d.saved = { [STATIC_KEY]: clone(committed) };
				return persisted;
			}
			if (raw !== null || (activation && persistence !== 'emitOnly')) {
				d.saved = clone(workflow.staticData as IDataObject);
				persisted = true;
			}
			return persisted;
		};

		const d: Deployment = {
			workflowId,
			persistence,
			harness: {
				get workflow() {
					return workflow;
				},
				snapshot: () => (persistence === 'durable' ? { [STATIC_KEY]: clone(lastSnapshot ?? committed) } : clone(workflow.staticData as IDataObject)),
			},
			saved: persistence === 'durable' ? { [STATIC_KEY]: clone(committed) } : clone(initial),
			polls: 0,
			logs: [],
			async poll(pollOptions) {
				const since = emu.lastSeq();
				const started = performance.now();
				const { raw, activation, staged } = await runPoll(pollOptions?.budgetMs);
				const ms = performance.now() - started;
				d.polls++;
				const persisted = afterPoll(raw, activation, staged);
				return {
					raw,
					alerts: (raw?.[0] ?? []).map((i) => i.json),
					failures: (raw?.[1] ?? []).map((i) => i.json),
					api: emu.requests({ kind: 'api', sinceSeq: since }),
					tokens: emu.tokenRequests({ sinceSeq: since }),
					ms,
					persisted,
				};
			},
			async pollError(pollOptions) {
				d.polls++;
				try {
					await runPoll(pollOptions?.budgetMs);
				} catch (error) {
					return error as Error & { httpCode?: string };
				}
				throw new Error('poll() was expected to throw');
			},
			restart(parameters2) {
				if (parameters2) params = parameters2;
				resetTriggerProcessMemory();
				workflow = buildWorkflow(d.saved);
				// Standard mode runs the activation poll again at startup; the scheduler does not (its job exists).
				activationPending = persistence === 'standard' || persistence === 'emitOnly';
				lastSnapshot = undefined;
			},
			republish(parameters2) {
				params = parameters2;
				workflow = buildWorkflow(persistence === 'durable' ? {} : d.saved);
			},
			async manual() {
				const run = await runWorkflow({ nodes: [triggerNode(params, opts.cred ?? cred)], connections: {}, nodeTypes, credentialsHelper: creds, staticData: workflow.staticData as IDataObject });
				const error = errorOf(run, TRIGGER_NAME) as (Error & { description?: string }) | undefined;
				return { run, error, items: error ? [] : outputOf(run, TRIGGER_NAME).map((i) => i.json) };
			},
			state() {
				if (persistence === 'durable') return clone(committed) as ReturnType<Deployment['state']>;
				const source = persistence === 'scheduler' ? d.saved : (workflow.staticData as IDataObject);
				return clone((source[STATIC_KEY] ?? {}) as ReturnType<Deployment['state']>);
			},
			async drain(max = 50, pollOptions) {
				const alerts: IDataObject[] = [];
				const polls: PollOutcome[] = [];
				for (let i = 0; i < max; i++) {
					const p = await d.poll(pollOptions);
					polls.push(p);
					if (p.raw === null) break;
					alerts.push(...p.alerts);
				}
				return { alerts, polls };
			},
		};
		return d;
	};

	return {
		emu,
		scenario,
		creds,
		cred,
		nodeTypes,
		tenantId,
		deploy,
		addCredential(id, data) {
			return creds.add(id, { ...base, tenantId, ...data });
		},
		async close() {
			await emu.close();
			resetProcessState();
			resetTriggerProcessMemory();
		},
	};
}

/** ISO timestamp `ms` from now (3 digits; the emulator keeps them as 7). */
export function isoFromNow(ms: number): string {
	return new Date(Date.now() + ms).toISOString();
}

export function ids(items: IDataObject[]): string[] {
	return items.map((a) => String(a.id));
}

export function expectNoDuplicates(list: string[]): void {
	const seen = new Set<string>();
	const dups = list.filter((x) => (seen.has(x) ? true : (seen.add(x), false)));
	expect(dups).toEqual([]);
}

export const sleepMs = async (ms: number): Promise<void> => await new Promise((r) => setTimeout(r, ms));

/**
 * Shifts this process's wall clock (`Date`, `Date.now()`) by `offsetMs`, as a host whose clock is off would see
 * it. Timers, `performance` (the emulator's clock source) and TLS are untouched. Returns the function that undoes it.
 */
export function shiftHostClock(offsetMs: number): () => void {
	const RealDate = Date;
	class ShiftedDate extends RealDate {
		constructor(...args: unknown[]) {
			if (args.length === 0) super(RealDate.now() + offsetMs);
			else super(...(args as [string | number | Date]));
		}
		static now(): number {
			return RealDate.now() + offsetMs;
		}
	}
	globalThis.Date = ShiftedDate as DateConstructor;
	return () => {
		globalThis.Date = RealDate;
	};
}
