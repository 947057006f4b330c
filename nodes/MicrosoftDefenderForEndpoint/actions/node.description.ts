import type { INodeProperties } from 'n8n-workflow';

import { customerTenantProperty, regionProperty } from '../descriptions/common';
import * as alert from './alert';
import * as tenant from './tenant';

const notConsentLink = { hide: { operation: ['getConsentLink'] } };

/** Every parameter of the node: resource, operation, region, customer tenant, then each operation's own. */
export const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Alert', value: 'alert', description: 'Defender for Endpoint alerts' },
			{ name: 'Tenant', value: 'tenant', description: 'MSSP onboarding: consent links and access checks' },
		],
		default: 'alert',
	},
	...alert.description.slice(0, 1),
	...tenant.description.slice(0, 1),
	{ ...regionProperty, displayOptions: notConsentLink },
	{ ...customerTenantProperty, displayOptions: notConsentLink },
	...alert.description.slice(1),
	...tenant.description.slice(1),
];
