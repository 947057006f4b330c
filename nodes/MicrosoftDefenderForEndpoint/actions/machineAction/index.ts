import type { INodeProperties } from 'n8n-workflow';

import type { OperationModule } from '../interfaces';
import * as cancel from './cancel.operation';
import * as collectInvestigationPackage from './collectInvestigationPackage.operation';
import * as get from './get.operation';
import * as getAll from './getAll.operation';
import * as getPackageDownloadLink from './getPackageDownloadLink.operation';
import * as isolate from './isolate.operation';
import * as offboard from './offboard.operation';
import * as releaseIsolation from './releaseIsolation.operation';
import * as removeAppRestriction from './removeAppRestriction.operation';
import * as restrictAppExecution from './restrictAppExecution.operation';
import * as runAntivirusScan from './runAntivirusScan.operation';
import * as stopAndQuarantineFile from './stopAndQuarantineFile.operation';

export const operations: Record<string, OperationModule> = {
	cancel,
	collectInvestigationPackage,
	get,
	getAll,
	getPackageDownloadLink,
	isolate,
	offboard,
	releaseIsolation,
	removeAppRestriction,
	restrictAppExecution,
	runAntivirusScan,
	stopAndQuarantineFile,
};

const guarded = ' Guard-rails: a comment, Max Machines per Execution, Exclude Tags, Dry Run.';

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['machineAction'] } },
		options: [
			{
				name: 'Cancel',
				value: 'cancel',
				action: 'Cancel a machine action',
				description: 'Cancel a machine action that is still pending or in progress (needs its ID); returns the action',
			},
			{
				name: 'Collect Investigation Package',
				value: 'collectInvestigationPackage',
				action: 'Collect an investigation package',
				description: `Collect a forensic investigation package from a machine, optionally wait and add its download link.${guarded}`,
			},
			{
				name: 'Get',
				value: 'get',
				action: 'Get a machine action',
				description: 'Retrieve one machine action by ID, with its current status',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many machine actions',
				description: 'List machine actions filtered by machine, status, type, requestor or creation time; one item per action',
			},
			{
				name: 'Get Package Download Link',
				value: 'getPackageDownloadLink',
				action: 'Get an investigation package download link',
				description: 'Return the short-lived download link of a succeeded investigation package collection',
			},
			{
				name: 'Isolate',
				value: 'isolate',
				action: 'Isolate a machine',
				description: `Isolate machines from the network (full or selective), e.g. the device of an alert; optionally wait for completion.${guarded}`,
			},
			{
				name: 'Offboard',
				value: 'offboard',
				action: 'Offboard a machine',
				description: `Offboard a machine from Defender for Endpoint (needs the explicit confirmation).${guarded}`,
			},
			{
				name: 'Release From Isolation',
				value: 'releaseIsolation',
				action: 'Release a machine from isolation',
				description: `Undo an isolation; optionally wait for completion.${guarded}`,
			},
			{
				name: 'Remove App Restriction',
				value: 'removeAppRestriction',
				action: 'Remove an app execution restriction',
				description: `Undo Restrict App Execution on a machine.${guarded}`,
			},
			{
				name: 'Restrict App Execution',
				value: 'restrictAppExecution',
				action: 'Restrict app execution on a machine',
				description: `Allow only Microsoft-signed applications to run on a machine.${guarded}`,
			},
			{
				name: 'Run Antivirus Scan',
				value: 'runAntivirusScan',
				action: 'Run an antivirus scan on a machine',
				description: `Start a quick or full Microsoft Defender Antivirus scan, e.g. on the device of an alert.${guarded}`,
			},
			{
				name: 'Stop and Quarantine File',
				value: 'stopAndQuarantineFile',
				action: 'Stop and quarantine a file on a machine',
				description: `Stop the processes of a file (by SHA-1) on a machine and quarantine it.${guarded}`,
			},
		],
		default: 'getAll',
	},
	...getAll.description,
	...get.description,
	...isolate.description,
	...releaseIsolation.description,
	...runAntivirusScan.description,
	...restrictAppExecution.description,
	...removeAppRestriction.description,
	...collectInvestigationPackage.description,
	...getPackageDownloadLink.description,
	...stopAndQuarantineFile.description,
	...offboard.description,
	...cancel.description,
];
