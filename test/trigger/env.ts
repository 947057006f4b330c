/**
 * Test environment for the polling trigger: the HTTPS emulator (TLS verified via NODE_EXTRA_CA_CERTS), a credential
 * pointing at it (custom cloud), and a "deployment" that runs poll() through n8n-core's real PollContext and models
 * n8n's legacy static-data persistence: the node's static data is saved only after a poll that returned items, and
 * a restart rebuilds the workflow from the last saved copy (JSON round-trip), dropping unsaved in-memory state.
 */
import type { IDataObject, INode, INodeCredentialsDetails, INodeExecutionData, INodeParameters, IRun } from 'n8n-workflow';

import { MicrosoftDefenderForEndpointTrigger } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node';
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { type Emulator, type EmulatorOptions, type RequestLogEntry, type Scenario, type ScenarioOptions } from '../emulator';
import { errorOf, outputOf, PACKAGE, pollHarness, type PollHarness, startEmulatorEnv, TestCredentialsHelper, TestNodeTypes } from '../harness';

export const TRIGGER_TYPE = `${PACKAGE}.microsoftDefenderForEndpointTrigger`;
export const TRIGGER_NAME = 'Defender Trigger';
export const STATIC_KEY = `node:${TRIGGER_NAME}`;

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
}

/** One active workflow with the trigger, across polls and n8n restarts. */
export interface Deployment {
	harness: PollHarness;
	/** static data as n8n last saved it to the database (after a poll that emitted) */
	saved: IDataObject;
	polls: number;
	/** poll in trigger mode; saves the static data when the poll returned items (legacy persistence) */
	poll(options?: { budgetMs?: number }): Promise<PollOutcome>;
	/** poll expecting an error; the state is not saved (n8n's __emitError saves nothing) */
	pollError(options?: { budgetMs?: number }): Promise<Error & { httpCode?: string; description?: string; retryAfterMs?: number }>;
	/** n8n restarts: the in-memory workflow is rebuilt from the saved static data */
	restart(parameters?: Record<string, unknown>): void;
	/** "Fetch test event" */
	manual(): Promise<{ run: IRun; items: IDataObject[]; error?: Error & { description?: string } }>;
	/** the node's static data in memory (JSON copy) */
	state(): { v?: number; streams?: Record<string, { cursor: string; floor: string; seen: Record<string, string>; fingerprints?: Record<string, unknown> }> };
	/** poll until a poll returns null (or `max` polls); returns every alert emitted, in order */
	drain(max?: number, options?: { budgetMs?: number }): Promise<{ alerts: IDataObject[]; polls: PollOutcome[] }>;
}

export interface TriggerEnv {
	emu: Emulator;
	scenario: Scenario;
	creds: TestCredentialsHelper;
	cred: INodeCredentialsDetails;
	nodeTypes: TestNodeTypes;
	/** tenant of the credential (scenario tenant 0) */
	tenantId: string;
	deploy(parameters: Record<string, unknown>, options?: { cred?: INodeCredentialsDetails; staticData?: IDataObject }): Deployment;
	addCredential(id: string, data: IDataObject): INodeCredentialsDetails;
	close(): Promise<void>;
}

export function triggerNode(parameters: Record<string, unknown>, cred: INodeCredentialsDetails): INode {
	return {
		id: 'trigger-1',
		name: TRIGGER_NAME,
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: parameters as INodeParameters,
		credentials: { microsoftDefenderForEndpointApi: cred },
	};
}

export async function createTriggerEnv(options: { emulator?: EmulatorOptions; scenario?: ScenarioOptions; pacerScale?: number } = {}): Promise<TriggerEnv> {
	const { emu, scenario, creds, tenantId, base, cred } = await startEmulatorEnv({ ...options, scenario: options.scenario ?? { tenants: 1, alertsPerTenant: 0 } });
	const nodeTypes = new TestNodeTypes({ [TRIGGER_TYPE]: new MicrosoftDefenderForEndpointTrigger() });

	const deploy = (parameters: Record<string, unknown>, opts: { cred?: INodeCredentialsDetails; staticData?: IDataObject } = {}): Deployment => {
		let params = parameters;
		const build = (staticData: IDataObject) =>
			pollHarness({ node: triggerNode(params, opts.cred ?? cred), nodeTypes, credentialsHelper: creds, staticData: JSON.parse(JSON.stringify(staticData)) as IDataObject });
		const d: Deployment = {
			harness: build(opts.staticData ?? {}),
			saved: JSON.parse(JSON.stringify(opts.staticData ?? {})) as IDataObject,
			polls: 0,
			async poll(pollOptions) {
				const since = emu.lastSeq();
				const started = performance.now();
				const raw = await d.harness.poll(pollOptions);
				const ms = performance.now() - started;
				d.polls++;
				if (raw !== null) d.saved = d.harness.snapshot();
				return {
					raw,
					alerts: (raw?.[0] ?? []).map((i) => i.json),
					failures: (raw?.[1] ?? []).map((i) => i.json),
					api: emu.requests({ kind: 'api', sinceSeq: since }),
					tokens: emu.tokenRequests({ sinceSeq: since }),
					ms,
				};
			},
			async pollError(pollOptions) {
				d.polls++;
				try {
					await d.harness.poll(pollOptions);
				} catch (error) {
					return error as Error & { httpCode?: string };
				}
				throw new Error('poll() was expected to throw');
			},
			restart(parameters2) {
				if (parameters2) params = parameters2;
				d.harness = build(d.saved);
			},
			async manual() {
				const run = await d.harness.manual();
				const error = errorOf(run, TRIGGER_NAME) as (Error & { description?: string }) | undefined;
				return { run, error, items: error ? [] : outputOf(run, TRIGGER_NAME).map((i) => i.json) };
			},
			state() {
				return (d.harness.snapshot()[STATIC_KEY] ?? {}) as ReturnType<Deployment['state']>;
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
