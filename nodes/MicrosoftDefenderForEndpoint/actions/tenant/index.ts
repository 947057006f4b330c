import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../interfaces';
import * as checkAccess from './checkAccess.operation';
import * as getConsentLink from './getConsentLink.operation';

export const operations: Record<string, OperationModule> = { checkAccess, getConsentLink };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['tenant'] } },
		options: [
			{
				name: 'Check Access',
				value: 'checkAccess',
				action: 'Check access to tenants',
				description:
					'For each tenant (default: the credential\'s or the Customer Tenant), try to sign in, list the granted permissions and which operations they allow, optionally probe the API, and say what to do next; one item per tenant',
			},
			{
				name: 'Get Consent Link',
				value: 'getConsentLink',
				action: 'Get the admin consent link',
				description:
					'Return the admin-consent URL a customer tenant\'s administrator opens to onboard (MSSP), with the permissions to grant and instructions; makes no request',
			},
		],
		default: 'checkAccess',
	},
	...checkAccess.description,
	...getConsentLink.description,
];
