import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../interfaces';
import * as addTag from './addTag.operation';
import * as findByIp from './findByIp.operation';
import * as findByTag from './findByTag.operation';
import * as get from './get.operation';
import * as getAll from './getAll.operation';
import * as getAlerts from './getAlerts.operation';
import * as getLogonUsers from './getLogonUsers.operation';
import * as removeTag from './removeTag.operation';

export const operations: Record<string, OperationModule> = { addTag, findByIp, findByTag, get, getAll, getAlerts, getLogonUsers, removeTag };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['machine'] } },
		options: [
			{
				name: 'Add Tag',
				value: 'addTag',
				action: 'Add a tag to a machine',
				description: 'Add a device tag to one machine (by ID or DNS name) and return the machine',
			},
			{
				name: 'Find by IP',
				value: 'findByIp',
				action: 'Find machines by IP address',
				description: 'Find the machines that had an internal IP address around a time (15 minutes before and after, last 30 days)',
			},
			{
				name: 'Find by Tag',
				value: 'findByTag',
				action: 'Find machines by tag',
				description: 'Find the machines that carry a device tag (exact or starts-with); one item per machine',
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get a machine',
				description: 'Retrieve one machine by ID or DNS name (a DNS name that matches two machines is an error listing them)',
			},
			{
				name: 'Get Alerts',
				value: 'getAlerts',
				action: 'Get the alerts of a machine',
				description: 'Return the alerts of one machine, shaped like the Alert resource\'s output; one item per alert',
			},
			{
				name: 'Get Logged-On Users',
				value: 'getLogonUsers',
				action: 'Get the users logged on to a machine',
				description: 'Return the users who logged on to one machine (needs User.Read.All); one item per user',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many machines',
				description: 'List machines filtered by health, risk score, exposure, OS platform, tag, last seen or DNS name prefix; one item per machine',
			},
			{
				name: 'Remove Tag',
				value: 'removeTag',
				action: 'Remove a tag from a machine',
				description: 'Remove a device tag from one machine and return the machine',
			},
		],
		default: 'getAll',
	},
	...getAll.description,
	...get.description,
	...findByIp.description,
	...findByTag.description,
	...addTag.description,
	...removeTag.description,
	...getLogonUsers.description,
	...getAlerts.description,
];
