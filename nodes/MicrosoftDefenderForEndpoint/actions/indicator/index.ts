import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../interfaces';
import * as del from './delete.operation';
import * as getAll from './getAll.operation';
import * as submit from './submit.operation';
import * as submitMany from './submitMany.operation';

export const operations: Record<string, OperationModule> = { delete: del, getAll, submit, submitMany };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['indicator'] } },
		options: [
			{
				name: 'Delete',
				value: 'delete',
				action: 'Delete an indicator',
				description: 'Delete one indicator by its ID, or by its type and value; returns a confirmation item',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many indicators',
				description: 'List the tenant\'s indicators, filtered by type, action or value; one item per indicator',
			},
			{
				name: 'Submit',
				value: 'submit',
				action: 'Submit an indicator',
				description:
					'Create or update (same type and value) one indicator per item: a file hash, certificate, IP, domain or URL to allow, audit, warn on or block; returns the stored indicator',
			},
			{
				name: 'Submit Many',
				value: 'submitMany',
				action: 'Submit many indicators',
				description:
					'Create or update one indicator per input item with import calls of up to 500 indicators; returns one item per input item with its ID or the reason Defender gave for rejecting it',
			},
		],
		default: 'getAll',
	},
	...getAll.description,
	...submit.description,
	...submitMany.description,
	...del.description,
];
