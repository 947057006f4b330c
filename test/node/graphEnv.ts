/**
 * Test environment for the Graph backend: the emulator with Microsoft Graph enabled, tenants whose consent includes
 * SecurityAlert.ReadWrite.All, and two credentials on the same app: `cred` (Alerts API = Defender for Endpoint API,
 * as saved credentials are) and `graphCred` (Alerts API = Microsoft Graph Security API).
 */
import type { IDataObject, INode, INodeCredentialsDetails, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { type EmulatorOptions, MSSP_ROLES, type ScenarioOptions } from '../emulator';
import { errorOf, outputOf, runWorkflow } from '../harness';
import { createEnv, NODE_TYPE, type RunOpts, type RunResult, type TestEnv } from './env';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const GRAPH_ROLES_RW = ['SecurityAlert.ReadWrite.All'];

export interface GraphEnv extends TestEnv {
	graphCred: INodeCredentialsDetails;
	/** run the action node with the Graph credential */
	runGraph(parameters: Record<string, unknown>, options?: RunOpts): Promise<RunResult>;
	/** a Graph credential with other fields (e.g. another tenant, a custom Graph scope) */
	addGraphCredential(id: string, data?: IDataObject): INodeCredentialsDetails;
	/** Graph API requests the emulator saw */
	graphApi(sinceSeq?: number): ReturnType<TestEnv['emu']['requests']>;
	/** Manual Trigger → node A → node B, both with the given credential; outputs of both */
	runChain(first: Record<string, unknown>, second: Record<string, unknown>, cred: INodeCredentialsDetails): Promise<{ first: INodeExecutionData[]; second: INodeExecutionData[]; error?: Error }>;
}

export async function createGraphEnv(options: { emulator?: EmulatorOptions; scenario?: Partial<ScenarioOptions> } = {}): Promise<GraphEnv> {
	const env = await createEnv({
		emulator: { graph: true, ...options.emulator },
		scenario: { tenants: 2, alertsPerTenant: 30, roles: [...MSSP_ROLES, ...GRAPH_ROLES_RW], ...options.scenario },
	});
	const addGraphCredential = (id: string, data: IDataObject = {}) => env.addCredential(id, { alertsApi: 'graph', graphBaseUrl: env.emu.url, graphScope: GRAPH_SCOPE, ...data });
	const graphCred = addGraphCredential('graph-cred');
	return {
		...env,
		graphCred,
		addGraphCredential,
		async runGraph(parameters, opts = {}) {
			return await env.run(parameters, { ...opts, cred: opts.cred ?? graphCred });
		},
		graphApi(sinceSeq) {
			return env.emu.requests({ kind: 'api', path: /^\/v1\.0\//, ...(sinceSeq === undefined ? {} : { sinceSeq }) });
		},
		async runChain(first, second, cred) {
			const trigger: INode = { id: 't', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
			const a: INode = { id: 'a', name: 'List', type: NODE_TYPE, typeVersion: 1, position: [200, 0], parameters: first as INodeParameters, credentials: { microsoftDefenderForEndpointApi: cred } };
			const b: INode = { id: 'b', name: 'Change', type: NODE_TYPE, typeVersion: 1, position: [400, 0], parameters: second as INodeParameters, credentials: { microsoftDefenderForEndpointApi: cred } };
			const run = await runWorkflow({
				nodes: [trigger, a, b],
				connections: {
					Start: { main: [[{ node: 'List', type: NodeConnectionTypes.Main, index: 0 }]] },
					List: { main: [[{ node: 'Change', type: NodeConnectionTypes.Main, index: 0 }]] },
				},
				nodeTypes: env.nodeTypes,
				credentialsHelper: env.creds,
			});
			const error = errorOf(run, 'List') ?? errorOf(run, 'Change');
			if (error) return { first: [], second: [], error };
			return { first: outputOf(run, 'List'), second: outputOf(run, 'Change') };
		},
	};
}
