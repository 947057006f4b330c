/**
 * Test environment for the action node: the HTTPS emulator (TLS verified via NODE_EXTRA_CA_CERTS), a credential
 * pointing at it (custom cloud), and a runner that executes the node through n8n's real engine.
 */
import type { IDataObject, INodeCredentialsDetails, INodeExecutionData, INodeParameterResourceLocator, INodeParameters, IRun } from 'n8n-workflow';

import { MicrosoftDefenderForEndpoint } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';
import { resetProcessState } from '../../nodes/MicrosoftDefenderForEndpoint/transport/processState';
import { type Emulator, type EmulatorOptions, type RequestFilter, type Scenario, type ScenarioOptions } from '../emulator';
import { errorOf, outputOf, PACKAGE, runWorkflow, singleNodeWorkflow, startEmulatorEnv, TestCredentialsHelper, TestNodeTypes } from '../harness';

export const NODE_TYPE = `${PACKAGE}.microsoftDefenderForEndpoint`;
export const NODE_NAME = 'Defender';

export interface TestEnv {
	emu: Emulator;
	scenario: Scenario;
	creds: TestCredentialsHelper;
	cred: INodeCredentialsDetails;
	nodeTypes: TestNodeTypes;
	/** tenant of the credential */
	tenantId: string;
	close(): Promise<void>;
	/** API requests the emulator saw (optionally since a log sequence number) */
	api(filter?: Omit<RequestFilter, 'kind'>): ReturnType<Emulator['requests']>;
	run(parameters: Record<string, unknown>, options?: RunOpts): Promise<RunResult>;
	addCredential(id: string, data: IDataObject): INodeCredentialsDetails;
}

export interface RunOpts {
	input?: IDataObject[];
	continueOnFail?: boolean;
	cred?: INodeCredentialsDetails;
}

export interface RunResult {
	run: IRun;
	items: INodeExecutionData[];
	error?: Error & { description?: string; context?: IDataObject; httpCode?: string };
}

export function rl(value: string, mode: 'id' | 'url' | 'list' = 'id'): INodeParameterResourceLocator {
	return { __rl: true, mode, value };
}

export async function createEnv(options: { emulator?: EmulatorOptions; scenario?: ScenarioOptions; pacerScale?: number } = {}): Promise<TestEnv> {
	const { emu, scenario, creds, tenantId, base, cred } = await startEmulatorEnv({ ...options, scenario: options.scenario ?? { tenants: 2, alertsPerTenant: 30 } });
	const nodeTypes = new TestNodeTypes({ [NODE_TYPE]: new MicrosoftDefenderForEndpoint() });
	const env: TestEnv = {
		emu,
		scenario,
		creds,
		cred,
		nodeTypes,
		tenantId,
		async close() {
			await emu.close();
			resetProcessState();
		},
		api(filter = {}) {
			return emu.requests({ ...filter, kind: 'api' });
		},
		addCredential(id, data) {
			return creds.add(id, { ...base, tenantId, ...data });
		},
		async run(parameters, opts = {}) {
			const wf = singleNodeWorkflow({
				name: NODE_NAME,
				type: NODE_TYPE,
				parameters: parameters as INodeParameters,
				credentials: { microsoftDefenderForEndpointApi: opts.cred ?? cred },
				...(opts.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
			});
			const run = await runWorkflow({
				...wf,
				nodeTypes,
				credentialsHelper: creds,
				input: (opts.input ?? [{}]).map((json) => ({ json })),
			});
			const error = errorOf(run, NODE_NAME) as RunResult['error'];
			let items: INodeExecutionData[] = [];
			if (!error) items = outputOf(run, NODE_NAME);
			return { run, items, error };
		},
	};
	return env;
}
