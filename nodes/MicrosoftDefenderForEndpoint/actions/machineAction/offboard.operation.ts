import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { type ResponseActionSpec, responseActionDescription, runResponseActions, requireConfirmation } from './responseAction';

export const spec: ResponseActionSpec = {
	operation: 'offboard',
	kind: 'offboard',
	title: 'Offboard',
	destructive: true,
	alertSource: false,
	properties: [
		{
			displayName:
				'Offboarding removes the device from Defender for Endpoint: it stops reporting and is no longer protected by EDR until it is onboarded again on the device itself. Not available for macOS and Linux.',
			name: 'offboardNotice',
			type: 'notice',
			default: '',
		},
		{
			displayName: 'Confirm Offboarding',
			name: 'confirmOffboard',
			type: 'boolean',
			default: false,
			description: 'Whether you confirm that the machine should be offboarded. Off: the node refuses to send the request. Set it as a fixed value; a value an AI agent fills in does not count.',
		},
	],
	confirm: (ctx, i) =>
		requireConfirmation(
			ctx,
			i,
			'confirmOffboard',
			'Offboarding is not confirmed',
			'Offboard removes the device from Defender for Endpoint and cannot be undone from here. Turn on "Confirm Offboarding" (a fixed value) to send it; nothing was sent.',
		),
};

export const description = responseActionDescription(spec);

export async function executeAll(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	return await runResponseActions(this, items, spec);
}
