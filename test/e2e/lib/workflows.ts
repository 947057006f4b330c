/**
 * Builders for the workflows and credentials the e2e tests import. Node types are the names users get from a
 * community install (`<package>.<node>`), never `CUSTOM.*`.
 */
import type { INode, IWorkflowBase } from 'n8n-workflow';
import type { EmulatorState } from './emulator';
import type { CredentialImport } from './n8n';
import { newWorkflowId } from './n8n';
import { PACKAGE_NAME } from './paths';

export const NODE_TYPE = `${PACKAGE_NAME}.microsoftDefenderForEndpoint`;
export const TRIGGER_TYPE = `${PACKAGE_NAME}.microsoftDefenderForEndpointTrigger`;
export const CREDENTIAL_TYPE = 'microsoftDefenderForEndpointApi';
export const NODE_DISPLAY_NAME = 'Microsoft Defender for Endpoint';
export const TRIGGER_DISPLAY_NAME = 'Microsoft Defender for Endpoint Trigger';
export const CREDENTIAL_DISPLAY_NAME = 'Microsoft Defender for Endpoint API';

export type ImportableWorkflow = Partial<IWorkflowBase> & Pick<IWorkflowBase, 'name' | 'nodes' | 'connections'>;

/**
 * A credential of cloud `custom` pointing at the emulator (authority and API on the emulator's https URL; the n8n
 * process trusts the test CA through NODE_EXTRA_CA_CERTS). `tenantId` defaults to the emulator's first tenant.
 */
export function emulatorCredential(
	state: EmulatorState,
	options: { id?: string; name?: string; tenantId?: string; clientSecret?: string; scope?: string; apiBaseUrl?: string; authorityHost?: string } = {},
): CredentialImport {
	return {
		id: options.id ?? 'mdeEmulatorCred1',
		name: options.name ?? 'MDE (emulator)',
		type: CREDENTIAL_TYPE,
		data: {
			cloud: 'custom',
			tenantId: options.tenantId ?? state.tenants[0]?.id ?? state.homeTenantId,
			clientId: state.clientId,
			clientSecret: options.clientSecret ?? state.clientSecret,
			authorityHost: options.authorityHost ?? state.url,
			apiBaseUrl: options.apiBaseUrl ?? state.url,
			...(options.scope ? { scope: options.scope } : {}),
			accessToken: '',
		},
	};
}

/** A node of this package (or any type) with sensible defaults; position is filled in by manualWorkflow/chain. */
export function defenderNode(
	name: string,
	parameters: INode['parameters'],
	options: { credentialId?: string; credentialName?: string; type?: string; typeVersion?: number; extra?: Partial<INode> } = {},
): INode {
	return {
		id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`,
		name,
		type: options.type ?? NODE_TYPE,
		typeVersion: options.typeVersion ?? 1,
		position: [0, 0],
		parameters,
		credentials: { [CREDENTIAL_TYPE]: { id: options.credentialId ?? 'mdeEmulatorCred1', name: options.credentialName ?? 'MDE (emulator)' } },
		...options.extra,
	};
}

export function manualTriggerNode(name = 'When clicking ‘Execute workflow’'): INode {
	return { id: 'node-manual', name, type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
}

export function noOpNode(name = 'No Operation'): INode {
	return { id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`, name, type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [0, 0], parameters: {} };
}

/** Connects the given nodes in a straight line (main output 0 → main input 0) and lays them out left to right. */
export function chain(name: string, nodes: INode[], extra: Partial<IWorkflowBase> = {}): ImportableWorkflow {
	const connections: IWorkflowBase['connections'] = {};
	nodes.forEach((node, i) => {
		node.position = [i * 240, 0];
		const next = nodes[i + 1];
		if (next) connections[node.name] = { main: [[{ node: next.name, type: 'main', index: 0 }]] };
	});
	return { id: newWorkflowId(), name, nodes, connections, settings: { executionOrder: 'v1' }, active: false, ...extra };
}

/** Manual Trigger → the given nodes: what `n8n execute --id` can run. */
export function manualWorkflow(name: string, nodes: INode[], extra: Partial<IWorkflowBase> = {}): ImportableWorkflow {
	return chain(name, [manualTriggerNode(), ...nodes], extra);
}

/** A workflow of built-in nodes only (Manual Trigger → No Operation), for checking the harness itself. */
export function builtInOnlyWorkflow(name = 'e2e harness check'): ImportableWorkflow {
	return manualWorkflow(name, [noOpNode()]);
}
