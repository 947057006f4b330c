import type { ICredentialDataDecryptedObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { optionsCollection } from '../../descriptions/common';
import { PACKAGE_PERMISSIONS } from '../../helpers/permissions';
import { readCommonLabel } from '../../helpers/params';
import { CLOUD_LABELS, consentLink } from '../../core/clouds';
import { CREDENTIAL_TYPE, CredentialInputError, readCredential } from '../../core/credentials';
import { inputError } from '../../helpers/validation';

const properties: INodeProperties[] = [
	{
		displayName:
			'Send the link to a Global Administrator (or Privileged Role Administrator) of the customer tenant. After they accept, run Tenant → Check Access with their tenant ID.',
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
		permissions: PACKAGE_PERMISSIONS.map((p) => ({ ...p, type: 'Application' })),
		instructions:
			`1. In the app registration ${credential.clientId} (home tenant ${credential.tenantId}) add the WindowsDefenderATP application permissions listed here ` +
			'(API permissions → Add a permission → APIs my organization uses → WindowsDefenderATP) and make sure the app is multi-tenant. ' +
			`2. Send ${consentUrl} to a Global Administrator of the customer tenant; they sign in and accept the permissions. ` +
			'3. Run Tenant → Check Access with the customer\'s tenant ID or domain to confirm, then set Customer Tenant on the other operations.',
		...(label !== undefined ? { customerLabel: label } : {}),
	};
	return this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });
}
