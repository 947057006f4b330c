import type { ICredentialDataDecryptedObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { optionsCollection } from '../../descriptions/common';
import { GRAPH_PERMISSIONS, PACKAGE_PERMISSIONS } from '../../helpers/permissions';
import { readCommonLabel } from '../../helpers/params';
import { CLOUD_LABELS, consentLink } from '../../core/clouds';
import { CREDENTIAL_TYPE, CredentialInputError, readCredential } from '../../core/credentials';
import { inputError } from '../../helpers/validation';

const properties: INodeProperties[] = [
	{
		displayName:
			'Send the link to a Global Administrator (or Privileged Role Administrator) of the customer tenant. After they accept, run Tenant → Check Access with their tenant ID. Moving to the Microsoft Graph Security API: add the Graph permissions (SecurityAlert.ReadWrite.All or SecurityAlert.Read.All) to the app first; every customer must then accept the link again.',
		name: 'consentNotice',
		type: 'notice',
		default: '',
	},
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['tenant'], operation: ['getConsentLink'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const label = readCommonLabel(this, i);
	const data = (await this.getCredentials(CREDENTIAL_TYPE, i)) as ICredentialDataDecryptedObject;
	let credential;
	try {
		credential = readCredential(data);
	} catch (error) {
		if (error instanceof CredentialInputError) throw inputError(node, i, `Credential: ${error.message}`, error.hint);
		throw new NodeOperationError(node, error as Error, { itemIndex: i });
	}
	const consentUrl = consentLink(credential.endpoints, credential.clientId);
	const json = {
		consentUrl,
		cloud: CLOUD_LABELS[credential.endpoints.cloud],
		clientId: credential.clientId,
		api: 'WindowsDefenderATP',
		alertsApi: credential.alertsApi,
		permissions: PACKAGE_PERMISSIONS.map((p) => ({ ...p, type: 'Application' })),
		// Microsoft Graph Security API (the credential's Alerts API option): consented again by each customer once added.
		graphPermissions: GRAPH_PERMISSIONS.map((p) => ({ ...p, api: 'Microsoft Graph', type: 'Application' })),
		instructions:
			`1. In the app registration ${credential.clientId} (home tenant ${credential.tenantId}) add the WindowsDefenderATP application permissions listed here ` +
			'(API permissions → Add a permission → APIs my organization uses → WindowsDefenderATP) and make sure the app is multi-tenant. ' +
			`For the Microsoft Graph Security API (Alerts API = Microsoft Graph) also add the Microsoft Graph application permissions in graphPermissions (API permissions → Add a permission → Microsoft Graph → Application permissions: ${GRAPH_PERMISSIONS.filter((p) => !/^Planned/.test(p.requiredFor)).map((p) => p.permission).join(', ')}). ` +
			`2. Send ${consentUrl} to a Global Administrator of the customer tenant; they sign in and accept the permissions. Every customer tenant must do this again after permissions are added to the app (a consent covers only the permissions the app had then). ` +
			'3. Run Tenant → Check Access with the customer\'s tenant ID or domain to confirm (it reports each API), then set Customer Tenant on the other operations.',
		...(label !== undefined ? { customerLabel: label } : {}),
	};
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}
