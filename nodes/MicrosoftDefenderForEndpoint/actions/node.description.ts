import type { INodeProperties } from 'n8n-workflow';

import { customerTenantProperty, isMainField, regionProperty } from '../descriptions/common';
import * as alert from './alert';
import * as hunting from './hunting';
import * as incident from './incident';
import * as indicator from './indicator';
import * as machine from './machine';
import * as machineAction from './machineAction';
import * as tenant from './tenant';

const notConsentLink = { hide: { operation: ['getConsentLink'] } };
const notMainField = (p: INodeProperties): boolean => !isMainField(p);

/** Every parameter of the node: resource, operation, each operation's main fields, region, customer tenant, then the rest. */
export const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Alert', value: 'alert', description: 'Defender for Endpoint alerts' },
			{ name: 'Hunting', value: 'hunting', description: 'Advanced hunting: run KQL queries over Defender XDR data (Microsoft Graph), per customer tenant' },
			{ name: 'Incident', value: 'incident', description: 'Defender XDR incidents (Microsoft Graph): list, get, update status, classification, owner and tags, comment' },
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
	...hunting.description.slice(0, 1),
	...incident.description.slice(0, 1),
	...indicator.description.slice(0, 1),
	...machine.description.slice(0, 1),
	...machineAction.description.slice(0, 1),
	...tenant.description.slice(0, 1),
	// WHAT (the alert, the machine, the filters…) before WHERE (Region, Customer Tenant), then the rest, Options last
	...alert.description.slice(1).filter(isMainField),
	...hunting.description.slice(1).filter(isMainField),
	...incident.description.slice(1).filter(isMainField),
	...indicator.description.slice(1).filter(isMainField),
	...machine.description.slice(1).filter(isMainField),
	...machineAction.description.slice(1).filter(isMainField),
	...tenant.description.slice(1).filter(isMainField),
	// Hunting runs on Microsoft Graph (one host per cloud): no Region.
	{ ...regionProperty, displayOptions: { hide: { operation: ['getConsentLink'], resource: ['hunting'] } } },
	{ ...customerTenantProperty, displayOptions: notConsentLink },
	...alert.description.slice(1).filter(notMainField),
	...hunting.description.slice(1).filter(notMainField),
	...incident.description.slice(1).filter(notMainField),
	...indicator.description.slice(1).filter(notMainField),
	...machine.description.slice(1).filter(notMainField),
	...machineAction.description.slice(1).filter(notMainField),
	...tenant.description.slice(1).filter(notMainField),
];
