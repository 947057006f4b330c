/**
 * Runs our nodes through n8n-core's real engine (WorkflowExecute, PollContext, n8n's HTTP stack) with a
 * credentials helper that behaves like n8n 2.41's CLI CredentialsHelper (packages/cli/src/credentials-helper.ts):
 * same preAuthentication condition (hidden expirable field empty, expired, or a credential test), the same
 * allowed-domains restriction around `this.helpers.httpRequest`, and persistence of the refreshed token.
 */
import 'reflect-metadata';

import { ExecutionLifecycleHooks, PollContext, WorkflowExecute } from 'n8n-core';
import * as workflowLib from 'n8n-workflow';
import {
	createRunExecutionData,
	type ICredentialDataDecryptedObject,
	type ICredentials,
	ICredentialsHelper,
	type ICredentialType,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestHelper,
	type IHttpRequestOptions,
	type INode,
	type INodeCredentialsDetails,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypes,
	type IRun,
	type IVersionedNodeType,
	type IWorkflowBase,
	type IWorkflowExecuteAdditionalData,
	type IConnections,
	NodeConnectionTypes,
	NodeHelpers,
	Workflow,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { MicrosoftDefenderForEndpointApi } from '../../credentials/MicrosoftDefenderForEndpointApi.credentials';
import { type ProcessStateOptions, resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { type Emulator, type EmulatorOptions, type ScenarioOptions, startEmulator } from '../emulator';

export const PACKAGE = 'n8n-nodes-defender-endpoint';
export const CREDENTIAL_TYPE = 'microsoftDefenderForEndpointApi';

function restrictToCredentialDomains(helpers: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): IHttpRequestHelper {
	const getAllowed = (workflowLib as unknown as { getCredentialOwnRequestAllowedDomains: (c: ICredentialDataDecryptedObject) => string | undefined })
		.getCredentialOwnRequestAllowedDomains;
	return {
		helpers: {
			httpRequest: async (requestOptions: IHttpRequestOptions) => {
				const allowedDomains = getAllowed(credentials);
				if (allowedDomains === undefined) return await helpers.helpers.httpRequest(requestOptions);
				if (requestOptions.allowedDomains !== undefined) {
					throw new Error('This credential restricts requests to specific domains, which cannot be combined with the domains its authentication step asks for.');
				}
				return await helpers.helpers.httpRequest({ ...requestOptions, allowedDomains });
			},
		},
	} as IHttpRequestHelper;
}

class StoredCredentials {
	constructor(
		readonly id: string,
		readonly name: string,
		readonly type: string,
		private data: ICredentialDataDecryptedObject,
	) {}

	async getData(): Promise<ICredentialDataDecryptedObject> {
		return JSON.parse(JSON.stringify(this.data)) as ICredentialDataDecryptedObject;
	}

	setData(data: ICredentialDataDecryptedObject): void {
		this.data = JSON.parse(JSON.stringify(data)) as ICredentialDataDecryptedObject;
	}
}

export class TestCredentialsHelper extends ICredentialsHelper {
	private readonly store = new Map<string, StoredCredentials>();
	readonly types: Record<string, ICredentialType>;
	/** how many times a refreshed token was persisted (n8n writes the credential row each time) */
	persisted = 0;
	preAuthCalls = 0;

	constructor(types: ICredentialType[] = [new MicrosoftDefenderForEndpointApi()]) {
		super();
		this.types = Object.fromEntries(types.map((t) => [t.name, t]));
	}

	add(id: string, data: ICredentialDataDecryptedObject, type = CREDENTIAL_TYPE, name = id): INodeCredentialsDetails {
		this.store.set(id, new StoredCredentials(id, name, type, { accessToken: '', ...data }));
		return { id, name };
	}

	async stored(id: string): Promise<ICredentialDataDecryptedObject> {
		const s = this.store.get(id);
		if (!s) throw new Error(`no credential ${id}`);
		return await s.getData();
	}

	getParentTypes(): string[] {
		return [];
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	async authenticate(credentials: ICredentialDataDecryptedObject, typeName: string, requestOptions: IHttpRequestOptions): Promise<IHttpRequestOptions> {
		const type = this.types[typeName];
		if (typeof type.authenticate === 'function') return await type.authenticate(credentials, requestOptions);
		return requestOptions;
	}

	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.types[typeName];
		const expirable = type.properties.find((p) => p.type === 'hidden' && p.typeOptions?.expirable === true);
		if (expirable?.name === undefined || typeof type.preAuthentication !== 'function') return undefined;
		const isTesting = node?.parameters?.temp === '' && node?.type === 'n8n-nodes-base.noOp';
		if (credentials[expirable.name] === '' || credentialsExpired || isTesting) {
			this.preAuthCalls += 1;
			const output = await type.preAuthentication.call(restrictToCredentialDomains(helpers, credentials), credentials);
			if (output[expirable.name] === undefined) return undefined;
			if (node.credentials) {
				const details = node.credentials[typeName];
				const stored = this.store.get(details.id ?? '');
				if (stored) {
					const data = await stored.getData();
					stored.setData({ ...data, ...output } as ICredentialDataDecryptedObject);
					this.persisted += 1;
				}
				return Object.assign(credentials, output);
			}
		}
		return undefined;
	}

	async runPreAuthentication(): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async getCredentials(nodeCredentials: INodeCredentialsDetails): Promise<ICredentials> {
		const s = this.store.get(nodeCredentials.id ?? '');
		if (!s) throw new Error(`Credential ${nodeCredentials.id} not found`);
		return s as unknown as ICredentials;
	}

	async getDecrypted(_additionalData: IWorkflowExecuteAdditionalData, nodeCredentials: INodeCredentialsDetails): Promise<ICredentialDataDecryptedObject> {
		const s = this.store.get(nodeCredentials.id ?? '');
		if (!s) throw new Error(`Credential ${nodeCredentials.id} not found`);
		return await s.getData();
	}

	async updateCredentials(nodeCredentials: INodeCredentialsDetails, _type: string, data: ICredentialDataDecryptedObject): Promise<void> {
		this.store.get(nodeCredentials.id ?? '')?.setData(data);
	}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(type: string): INodeProperties[] {
		return this.types[type]?.properties ?? [];
	}
}

/** Stand-in for n8n-nodes-base.manualTrigger: passes its input on, as the real one does in manual mode. */
class ManualTrigger implements INodeType {
	description = {
		displayName: 'Manual Trigger',
		name: 'manualTrigger',
		group: ['trigger'],
		version: 1,
		description: '',
		defaults: { name: 'Manual Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

export class TestNodeTypes implements INodeTypes {
	private readonly types: Record<string, INodeType | IVersionedNodeType> = {};

	constructor(nodes: Record<string, INodeType | IVersionedNodeType>) {
		this.types['n8n-nodes-base.manualTrigger'] = new ManualTrigger();
		for (const [name, node] of Object.entries(nodes)) this.types[name] = node;
	}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const t = this.types[nodeType];
		if (!t) throw new Error(`Unknown node type ${nodeType}`);
		return t;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes(): IDataObject {
		return {};
	}
}

export function additionalData(credentialsHelper: ICredentialsHelper, mode: WorkflowExecuteMode, workflowData: IWorkflowBase): IWorkflowExecuteAdditionalData {
	return {
		executionId: `exec-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
		hooks: new ExecutionLifecycleHooks(mode, '1', workflowData),
		credentialsHelper,
		webhookWaitingBaseUrl: 'http://localhost/waiting-webhook',
		formWaitingBaseUrl: 'http://localhost/form-waiting',
		webhookBaseUrl: 'http://localhost/webhook',
		webhookTestBaseUrl: 'http://localhost/webhook-test',
		restApiUrl: 'http://localhost/rest',
		instanceBaseUrl: 'http://localhost/',
		variables: {},
		userId: 'user-1',
	} as unknown as IWorkflowExecuteAdditionalData;
}

export interface RunOptions {
	nodes: INode[];
	connections: IConnections;
	nodeTypes: INodeTypes;
	credentialsHelper: TestCredentialsHelper;
	/** items fed to the start node (default: one empty item) */
	input?: INodeExecutionData[];
	startNode?: string;
	staticData?: IDataObject;
}

export async function runWorkflow(options: RunOptions): Promise<IRun> {
	const workflowData = {
		id: 'wf-1',
		name: 'test',
		nodes: options.nodes,
		connections: options.connections,
		active: false,
		settings: {},
		createdAt: new Date(),
		updatedAt: new Date(),
	} as unknown as IWorkflowBase;
	const workflow = new Workflow({
		id: 'wf-1',
		nodes: options.nodes,
		connections: options.connections,
		active: false,
		nodeTypes: options.nodeTypes,
		staticData: options.staticData ?? {},
	});
	const data = additionalData(options.credentialsHelper, 'manual', workflowData);
	const start = workflow.getNode(options.startNode ?? options.nodes[0].name);
	if (!start) throw new Error('start node missing');
	const done = new Promise<IRun>((resolve) => {
		data.hooks!.addHandler('workflowExecuteAfter', (run: IRun) => resolve(run));
	});
	const runData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [{ node: start, data: { main: [options.input ?? [{ json: {} }]] }, source: null }],
		},
	});
	const execute = new WorkflowExecute(data, 'manual', runData);
	void execute.processRunExecutionData(workflow);
	return await done;
}

/** Output items of a node in a finished run (first run, first output by default). */
export function outputOf(run: IRun, nodeName: string, output = 0, runIndex = 0): INodeExecutionData[] {
	const nodeRuns = run.data.resultData.runData[nodeName];
	if (!nodeRuns) throw new Error(`node ${nodeName} did not run; error: ${run.data.resultData.error?.message}`);
	const r = nodeRuns[runIndex];
	if (r.error) throw r.error;
	return (r.data?.main?.[output] ?? []) as INodeExecutionData[];
}

export function errorOf(run: IRun, nodeName: string): Error | undefined {
	return run.data.resultData.runData[nodeName]?.[0]?.error ?? run.data.resultData.error ?? undefined;
}

/** A simple "Manual Trigger → node" workflow. */
export function singleNodeWorkflow(node: Omit<INode, 'position' | 'id' | 'typeVersion'> & { typeVersion?: number }): { nodes: INode[]; connections: IConnections } {
	const trigger: INode = { id: 't', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
	const target: INode = { id: 'n', typeVersion: 1, position: [200, 0], ...node } as INode;
	return {
		nodes: [trigger, target],
		connections: { Start: { main: [[{ node: target.name, type: NodeConnectionTypes.Main, index: 0 }]] } },
	};
}

export interface PollHarness {
	workflow: Workflow;
	node: INode;
	staticData: IDataObject;
	/** run poll() in trigger mode; returns what n8n would emit (null = no execution) */
	poll(options?: { budgetMs?: number }): Promise<INodeExecutionData[][] | null>;
	/** the "Fetch test event" path: manual mode through WorkflowExecute */
	manual(): Promise<IRun>;
	/** JSON round-trip of the node's static data, as after an n8n restart that had saved it */
	snapshot(): IDataObject;
}

export function pollHarness(options: { node: INode; nodeTypes: INodeTypes; credentialsHelper: TestCredentialsHelper; staticData?: IDataObject }): PollHarness {
	const staticData: IDataObject = options.staticData ?? {};
	const workflow = new Workflow({ id: 'wf-poll', nodes: [options.node], connections: {}, active: true, nodeTypes: options.nodeTypes, staticData });
	const node = workflow.getNode(options.node.name)!;
	const wfData = { id: 'wf-poll', name: 'poll', nodes: [options.node], connections: {}, active: true, settings: {} } as unknown as IWorkflowBase;
	return {
		workflow,
		node,
		staticData,
		async poll(pollOptions = {}) {
			const ad = additionalData(options.credentialsHelper, 'trigger', wfData);
			const budget = pollOptions.budgetMs;
			const ctx = new PollContext(workflow, node, ad, 'trigger', 'activate', undefined, undefined, undefined, undefined, undefined, budget === undefined ? undefined : () => budget);
			const type = options.nodeTypes.getByNameAndVersion(node.type, node.typeVersion);
			return await type.poll!.call(ctx);
		},
		async manual() {
			return await runWorkflow({ nodes: [options.node], connections: {}, nodeTypes: options.nodeTypes, credentialsHelper: options.credentialsHelper, staticData });
		},
		snapshot() {
			return JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject;
		},
	};
}

/**
 * The credential "Test" button, as n8n 2.41's CredentialsTester.runRequestTest does it: a temporary noOp node whose
 * only property routes the credential's `test.request`, run by n8n-core's RoutingNode with the decrypted data,
 * preAuthentication forced, and the `rules` applied to the failing response.
 */
export async function testCredential(credentialsHelper: TestCredentialsHelper, credentialId: string): Promise<{ status: 'OK' | 'Error'; message: string }> {
	const { ExecuteContext, RoutingNode } = await import('n8n-core');
	const type = credentialsHelper.types[CREDENTIAL_TYPE];
	const test = type.test!;
	const data = await credentialsHelper.stored(credentialId);
	const node: INode = {
		id: 'temp',
		parameters: {},
		name: 'Temp-Node',
		type: 'n8n-nodes-base.noOp',
		typeVersion: 1,
		position: [0, 0],
		credentials: { [CREDENTIAL_TYPE]: { id: credentialId, name: credentialId } },
	};
	const nodeTypeCopy = {
		description: {
			displayName: 'No Operation',
			name: 'n8n-nodes-base.noOp',
			group: ['organization'],
			version: 1,
			description: '',
			defaults: { name: 'No Operation' },
			inputs: [NodeConnectionTypes.Main],
			outputs: [NodeConnectionTypes.Main],
			credentials: [{ name: CREDENTIAL_TYPE, required: true }],
			properties: [{ displayName: 'Temp', name: 'temp', type: 'string', routing: { request: test.request }, default: '' }],
		},
	} as unknown as INodeType;
	const nodeTypes = new TestNodeTypes({ 'n8n-nodes-base.noOp': nodeTypeCopy });
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	const ad = additionalData(credentialsHelper, 'internal', { id: 'cred-test', name: 'cred-test', nodes: [node], connections: {}, active: false, settings: {} } as unknown as IWorkflowBase);
	const runExecutionData = workflowLib.createEmptyRunExecutionData();
	const ctx = new ExecuteContext(workflow, node, ad, 'internal', runExecutionData, 0, [], { main: [[{ json: {} }]] }, { node, data: {}, source: null }, []);
	const credentialsDecrypted = { id: credentialId, name: credentialId, type: CREDENTIAL_TYPE, data };
	const routingNode = new RoutingNode(ctx, nodeTypeCopy, credentialsDecrypted);
	try {
		await routingNode.runNode();
	} catch (error) {
		const e = error as { cause?: { response?: { status: number; statusText?: string }; code?: string }; message: string };
		if (e.cause?.response) {
			for (const rule of test.rules ?? []) {
				if (rule.type === 'responseCode' && rule.properties.value === e.cause.response.status) {
					return { status: 'Error', message: rule.properties.message };
				}
			}
			return { status: 'Error', message: e.cause.response.statusText || `Received HTTP status code: ${e.cause.response.status}` };
		} else if (e.cause?.code) {
			return { status: 'Error', message: e.cause.code };
		}
		return { status: 'Error', message: e.message.toString() };
	}
	return { status: 'OK', message: 'Connection successful!' };
}

/**
 * Engine-test setup shared by the node and trigger suites: the emulator (rate limits off unless a test turns them
 * on), a scenario, and a credential of the scenario's first tenant pointed at the emulator. The client's pacing
 * windows shrink by `pacerScale` so suites making many calls are not paced for minutes, and the 5xx backoff is short.
 */
/** The process settings of the running engine-test environment (kept by resetBetweenTests). */
let envProcessOptions: ProcessStateOptions = {};

export async function startEmulatorEnv(options: { emulator?: EmulatorOptions; scenario?: ScenarioOptions; pacerScale?: number } = {}) {
	envProcessOptions = { pacerTimeScale: options.pacerScale ?? 0.001, retryBackoffBaseMs: 5 };
	resetProcessState(envProcessOptions);
	const emu = await startEmulator({ rateLimits: false, ...options.emulator });
	const scenario = emu.createScenario(options.scenario ?? { tenants: 1, alertsPerTenant: 0 });
	const creds = new TestCredentialsHelper();
	const tenantId = scenario.tenants[0].id;
	const base = { cloud: 'custom', authorityHost: emu.url, apiBaseUrl: emu.url, clientId: scenario.clientId, clientSecret: scenario.clientSecret };
	const cred = creds.add('cred-1', { ...base, tenantId });
	return { emu, scenario, creds, tenantId, base, cred };
}

/** Between tests: fresh token cache and pacing, no faults or latency, an empty request log. */
export function resetBetweenTests(emu: Emulator): void {
	resetProcessState(envProcessOptions);
	emu.clearFaults();
	emu.setLatency(0);
	emu.resetLog();
}
