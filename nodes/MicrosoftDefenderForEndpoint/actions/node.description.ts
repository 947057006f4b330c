import type { INodeProperties } from 'n8n-workflow';

import { customerTenantProperty, regionProperty } from '../descriptions/common';
import * as alert from './alert';
import * as indicator from './indicator';
import * as machine from './machine';
import * as machineAction from './machineAction';
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
			{ name: 'Indicator', value: 'indicator', description: 'Custom indicators (IoCs): file hashes, certificates, IPs, domains and URLs to allow, audit, warn on or block' },
			{ name: 'Machine', value: 'machine', description: 'Devices: look up, list, find by IP or tag, tags, logged-on users, alerts' },
			{
				name: 'Machine Action',
				value: 'machineAction',
				description: 'Device response actions (isolate, scan, restrict, collect package, quarantine, offboard) with guard-rails, and their status',
			},
			{ name: 'Tenant', value: 'tenant', description: 'MSSP onboarding: consent links and access checks' },
		],
		default: 'alert',
	},
	...alert.description.slice(0, 1),
	...indicator.description.slice(0, 1),
	...machine.description.slice(0, 1),
	...machineAction.description.slice(0, 1),
	...tenant.description.slice(0, 1),
	{ ...regionProperty, displayOptions: notConsentLink },
	{ ...customerTenantProperty, displayOptions: notConsentLink },
	...alert.description.slice(1),
	...indicator.description.slice(1),
	...machine.description.slice(1),
	...machineAction.description.slice(1),
	...tenant.description.slice(1),
];
