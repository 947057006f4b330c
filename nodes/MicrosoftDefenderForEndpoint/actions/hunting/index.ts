import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../interfaces';
import * as runQuery from './runQuery.operation';

export const operations: Record<string, OperationModule> = { runQuery };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['hunting'] } },
		options: [
			{
				name: 'Run Query',
				value: 'runQuery',
				action: 'Run an advanced hunting query',
				description:
					'Run a KQL query over Microsoft Defender XDR advanced hunting data (Microsoft Graph runHuntingQuery, needs ThreatHunting.Read.All) in the item\'s tenant; one item per row, or one item with all rows',
			},
		],
		default: 'runQuery',
	},
	...runQuery.description,
];
