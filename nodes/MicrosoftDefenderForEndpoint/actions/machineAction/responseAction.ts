/**
 * The device response actions (Isolate, Release, Antivirus Scan, Restrict / Remove Restriction, Collect
 * Investigation Package, Stop and Quarantine File, Offboard): one engine, one description builder, the
 * guard-rails in one place. Every operation file declares its spec and calls `runResponseActions`.
 *
 * Order of work (all items of the run together, so a batch is guarded, de-duplicated and waited for as one):
 *  1. read and validate every item — no request; the AI-agent opt-in and the Offboard confirmation are checked here;
 *  2. Max Machines per Execution on the references (IDs, DNS names, alert devices) — no request;
 *  3. resolve DNS names and read tags for Exclude Tags (reads only);
 *  4. Max Machines per Execution again on the resolved machines — still nothing sent;
 *  5. excluded machines are skipped (or fail), Dry Run items output what would be sent;
 *  6. one POST per distinct (tenant, machine, action, body); ActiveRequestAlreadyExists = the pending action;
 *  7. Wait for Completion: all pending actions polled together, one list call per 25 IDs per round.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, sleep, updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { type ActionBody, type ActionKind, type MachineActionRecord, type MachineBackend, type MachineRecord } from '../../backend/machines';
import { optionsCollection } from '../../descriptions/common';
import { machineLocator } from '../../descriptions/machines';
import { agentOptInProperty, assertAgentAllowed, isAgentFilled } from '../../helpers/agentGuard';
import { errorItem, withItemIndex } from '../../helpers/errors';
import {
	checkMaxMachines,
	excludedTagsOf,
	isTerminalStatus,
	MAX_MACHINES_DEFAULT,
	MAX_MACHINES_LIMIT,
	machineLedger,
	machineRefFromAlert,
	type MachineRef,
	parseTagList,
	refKey,
	refText,
	resolveDnsMatches,
	WAIT_DEFAULTS,
	WAIT_LIMITS,
	WaitPlan,
} from '../../helpers/machines';
import { type CommonParams, readCommon } from '../../helpers/params';
import { inputError, validateInteger } from '../../helpers/validation';
import { describeFailure } from '../../transport/request';
import { checked, lookupDnsName, machineKey, readMachineRef } from '../machine/common';

export interface ResponseActionSpec {
	/** the n8n operation value, e.g. 'isolate' */
	operation: string;
	kind: ActionKind;
	/** "Isolate", as the operation is named in the editor */
	title: string;
	/** isolate, restrict, quarantine, offboard: refused when an AI agent calls the node unless the author opted in */
	destructive: boolean;
	/** the machine may come from an alert in the input item (its machineId) */
	alertSource: boolean;
	/** the operation's own body fields (IsolationType, ScanType, Sha1), validated; throws for bad input */
	body?: (ctx: IExecuteFunctions, i: number) => Omit<ActionBody, 'Comment'>;
	/** extra checks before anything happens (Offboard's confirmation) */
	confirm?: (ctx: IExecuteFunctions, i: number) => void;
	/** parameters of the operation shown after the machine (Isolation Type, Scan Type, SHA-1, …) */
	properties?: INodeProperties[];
	/** Collect Investigation Package: offer the download link after waiting */
	packageLink?: boolean;
}

/** The audit-trail default: who asked (this workflow and execution), so a Defender action points back to n8n. */
export const DEFAULT_COMMENT = '={{ "n8n workflow " + ($workflow.name ? $workflow.name + " (" + $workflow.id + ")" : $workflow.id) + ", execution " + $execution.id }}';

/** The parameters of one response-action operation, in display order. */
export function responseActionDescription(spec: ResponseActionSpec): INodeProperties[] {
	const machineSource: INodeProperties[] = spec.alertSource
		? [
				{
					displayName: 'Machine Source',
					name: 'machineSource',
					type: 'options',
					options: [
						{
							name: 'Alert in the Input Item',
							value: 'alertItem',
							description: 'The device of the alert each input item holds (its machineId), e.g. from Alert → Get Many or the trigger',
						},
						{ name: 'Machine', value: 'machine', description: 'A machine given by ID, DNS name or from the list' },
					],
					default: 'machine',
					description: 'Where the machine to act on comes from',
				},
			]
		: [];
	const locator = machineLocator(`The machine to ${spec.title.toLowerCase()}. By DNS name: a name that matches more than one machine is an error that lists them; nothing is sent.`);
	if (spec.alertSource) locator.displayOptions = { show: { machineSource: ['machine'] } };
	const wait: INodeProperties[] = [
		{
			displayName: 'Wait for Completion',
			name: 'waitForCompletion',
			type: 'boolean',
			default: false,
			description:
				'Whether to wait until the action has finished (Succeeded, Failed, Cancelled or TimeOut) and output the final action. All actions of the run are polled together: one list call per 25 actions per round.',
		},
		{
			displayName: 'Max Wait (Seconds)',
			name: 'maxWait',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: WAIT_LIMITS.maxWaitSeconds },
			default: 600,
			description: 'How long to wait at most; an action still pending then is output as it is, with waitTimedOut: true (it keeps running in Defender)',
			displayOptions: { show: { waitForCompletion: [true] } },
		},
		{
			displayName: 'Poll Interval (Seconds)',
			name: 'pollInterval',
			type: 'number',
			typeOptions: { minValue: WAIT_LIMITS.minPollSeconds, maxValue: WAIT_LIMITS.maxPollSeconds },
			default: 15,
			description: 'Time between status checks while waiting',
			displayOptions: { show: { waitForCompletion: [true] } },
		},
	];
	if (spec.packageLink) {
		wait.push({
			displayName: 'Get Download Link When Done',
			name: 'includeDownloadLink',
			type: 'boolean',
			default: true,
			description: 'Whether to add the package\'s short-lived download link (packageDownloadUrl) once the collection succeeded (Get Package SAS URI allows 2 calls a minute)',
			displayOptions: { show: { waitForCompletion: [true] } },
		});
	}
	const properties: INodeProperties[] = [
		...machineSource,
		locator,
		...(spec.properties ?? []),
		{
			displayName: 'Comment',
			name: 'comment',
			type: 'string',
			default: DEFAULT_COMMENT,
			required: true,
			description:
				'Reason recorded with the action in Defender\'s action center (the API requires one). The default names this workflow and execution, so the audit trail points back to n8n; add a ticket number if you have one.',
		},
		...wait,
		{
			displayName: 'Max Machines per Execution',
			name: 'maxMachines',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_MACHINES_LIMIT },
			default: MAX_MACHINES_DEFAULT,
			description:
				'Guard-rail: the most distinct machines this node may act on in one execution (across all items and loop iterations). Above it the node stops before sending anything and says so; raise it when a larger response is intended.',
		},
		{
			displayName: 'Exclude Tags',
			name: 'excludeTags',
			type: 'string',
			default: '',
			placeholder: 'e.g. critical-server, domain-controller',
			description:
				'Guard-rail: machines carrying any of these device tags (comma-separated) are never acted on; their items get a skipped result (see Options → Excluded Machines). Checking costs one read per 25 machines.',
		},
		{
			displayName: 'Dry Run',
			name: 'dryRun',
			type: 'boolean',
			default: false,
			description: 'Whether to only validate the items, resolve the machines and apply the guard-rails, and output the request that would be sent — without sending it',
		},
		...(spec.destructive
			? [
					agentOptInProperty(`${spec.title.toLowerCase()} machines`, {
						show: { '@tool': [true] },
					}),
				]
			: []),
		optionsCollection([
			{
				displayName: 'Excluded Machines',
				name: 'onExcluded',
				type: 'options',
				options: [
					{ name: 'Fail the Item', value: 'error', description: 'An error for the item (continue-on-fail makes it an error item)' },
					{ name: 'Skip (Output a Skipped Item)', value: 'skip', description: 'An item with skipped: true and the matching tags' },
				],
				default: 'skip',
				description: 'What happens to items whose machine carries an Exclude Tag',
			},
		]),
	];
	return updateDisplayOptions({ show: { resource: ['machineAction'], operation: [spec.operation] } }, properties);
}

interface Planned {
	i: number;
	common: CommonParams;
	ref: MachineRef;
	body: ActionBody;
	dryRun: boolean;
	exclude: string[];
	onExcluded: 'skip' | 'error';
	maxMachines: number;
	wait?: { maxWaitMs: number; pollMs: number };
	downloadLink: boolean;
	/** tenant + region as given: the backend group */
	group: string;
	// filled in by resolution
	machineId?: string;
	machine?: MachineRecord;
	failed?: boolean;
}

interface Group {
	backend: MachineBackend;
	tenantId: string;
	/** the first item of the group (errors of the group go there) */
	first: Planned;
	perIdPolling: boolean;
}

function readItem(ctx: IExecuteFunctions, i: number, json: IDataObject, spec: ResponseActionSpec): Planned {
	const node = ctx.getNode();
	const common = readCommon(ctx, i);
	if (spec.destructive) assertAgentAllowed(ctx, i, `${spec.title} (a device response action)`);
	spec.confirm?.(ctx, i);
	const source = spec.alertSource ? (ctx.getNodeParameter('machineSource', i, 'machine') as string) : 'machine';
	if (source !== 'machine' && source !== 'alertItem') throw inputError(node, i, `Machine Source "${String(source)}" is not valid`, 'Use Machine or Alert in the Input Item.');
	const ref = source === 'alertItem' ? checked(node, i, machineRefFromAlert(json)) : readMachineRef(ctx, i);
	const rawComment = ctx.getNodeParameter('comment', i, '') as unknown;
	const comment = rawComment === undefined || rawComment === null ? '' : String(rawComment).trim();
	if (!comment) {
		throw inputError(node, i, 'Comment is empty', 'Defender requires a comment for every response action. Enter the reason (e.g. a ticket number), or keep the default that names the workflow and execution.');
	}
	if (comment.length > 4000) throw inputError(node, i, 'Comment is longer than 4,000 characters', 'Shorten the comment; link to the ticket instead.');
	const extra = spec.body?.(ctx, i) ?? {};
	const waitForCompletion = ctx.getNodeParameter('waitForCompletion', i, false) === true;
	const wait = waitForCompletion
		? {
				maxWaitMs: validateInteger(node, i, 'Max Wait (Seconds)', ctx.getNodeParameter('maxWait', i, WAIT_DEFAULTS.maxWaitSeconds), 1, WAIT_LIMITS.maxWaitSeconds) * 1000,
				pollMs:
					validateInteger(node, i, 'Poll Interval (Seconds)', ctx.getNodeParameter('pollInterval', i, WAIT_DEFAULTS.pollIntervalSeconds), WAIT_LIMITS.minPollSeconds, WAIT_LIMITS.maxPollSeconds) *
					1000,
			}
		: undefined;
	const options = ctx.getNodeParameter('options', i, {}) as IDataObject;
	const onExcluded = options.onExcluded === 'error' ? 'error' : options.onExcluded === undefined || options.onExcluded === 'skip' ? 'skip' : undefined;
	if (!onExcluded) throw inputError(node, i, `Excluded Machines "${String(options.onExcluded)}" is not valid`, 'Use Skip or Fail the Item.');
	return {
		i,
		common,
		ref,
		body: { Comment: comment, ...extra },
		dryRun: ctx.getNodeParameter('dryRun', i, false) === true,
		exclude: parseTagList(ctx.getNodeParameter('excludeTags', i, '')),
		onExcluded,
		maxMachines: validateInteger(node, i, 'Max Machines per Execution', ctx.getNodeParameter('maxMachines', i, MAX_MACHINES_DEFAULT), 1, MAX_MACHINES_LIMIT),
		wait,
		downloadLink: spec.packageLink === true && wait !== undefined && ctx.getNodeParameter('includeDownloadLink', i, true) !== false,
		group: JSON.stringify([String(common.customerTenant ?? '').toLowerCase(), common.region]),
	};
}

function outputItem(ctx: IExecuteFunctions, i: number, json: IDataObject): INodeExecutionData {
	return ctx.helpers.constructExecutionMetaData(ctx.helpers.returnJsonArray(json), { itemData: { item: i } })[0];
}

export async function runResponseActions(ctx: IExecuteFunctions, items: INodeExecutionData[], spec: ResponseActionSpec): Promise<INodeExecutionData[]> {
	const node = ctx.getNode();
	const continueOnFail = ctx.continueOnFail();
	const results: Array<INodeExecutionData | undefined> = new Array(items.length);
	const fail = (p: { i: number; failed?: boolean } | number, error: unknown): void => {
		const i = typeof p === 'number' ? p : p.i;
		if (typeof p !== 'number') p.failed = true;
		if (!continueOnFail) throw withItemIndex(node, error, i);
		results[i] = errorItem(error, i);
	};

	// 1. Every item validated before any request.
	const planned: Planned[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			planned.push(readItem(ctx, i, items[i].json, spec));
		} catch (error) {
			fail(i, error);
		}
	}
	if (planned.length === 0) return results.filter((r): r is INodeExecutionData => r !== undefined);

	// 2. Max Machines per Execution on the references: nothing has been sent, nothing has been read.
	const ledgerKey = `${ctx.getExecutionId?.() ?? 'no-execution'}|${node.name}`;
	const max = Math.min(...planned.map((p) => p.maxMachines));
	const earlier = machineLedger.machines(ledgerKey).size;
	const freshRefs = new Set<string>();
	for (const p of planned) {
		const key = `${p.group}|${refKey(p.ref)}`;
		if (machineLedger.alias(ledgerKey, key) === undefined) freshRefs.add(key);
	}
	const byRefs = checkMaxMachines({ fresh: freshRefs.size, earlier, max }, 'references');
	if (!byRefs.ok) throw new NodeOperationError(node, byRefs.message, { description: byRefs.hint, itemIndex: planned[0].i });

	// 3. Backends per tenant/region; DNS names resolved; tags read when Exclude Tags is set.
	const groups = new Map<string, Group>();
	for (const p of planned) {
		if (groups.has(p.group)) continue;
		const members = planned.filter((q) => q.group === p.group);
		try {
			const backend = await machineBackendFor(ctx, { itemIndex: p.i, ...p.common, maxThrottleWaitMs: Math.max(...members.map((q) => q.common.maxThrottleWaitMs)) });
			groups.set(p.group, { backend, tenantId: await backend.outputTenantId(), first: p, perIdPolling: false });
		} catch (error) {
			for (const q of members) fail(q, error);
		}
	}
	for (const [key, group] of groups) {
		const members = planned.filter((q) => q.group === key && !q.failed);
		const { backend } = group;
		const dnsNames = [...new Set(members.filter((q) => q.ref.kind === 'dnsName').map((q) => refText(q.ref)))];
		const byName = new Map<string, MachineRecord[]>();
		for (const name of dnsNames) {
			try {
				byName.set(name, await lookupDnsName(backend, name));
			} catch (error) {
				for (const q of members.filter((m) => m.ref.kind === 'dnsName' && refText(m.ref) === name)) fail(q, error);
			}
		}
		for (const q of members) {
			if (q.failed) continue;
			if (q.ref.kind === 'id') {
				q.machineId = q.ref.id;
				continue;
			}
			const found = resolveDnsMatches(q.ref.name, backend.tenantId, byName.get(q.ref.name) ?? []);
			if (!found.ok) fail(q, new NodeOperationError(node, found.message, { itemIndex: q.i, description: found.hint }));
			else {
				q.machineId = found.value.id.toLowerCase();
				q.machine = found.value;
			}
		}
		const needTags = members.filter((q) => !q.failed && q.exclude.length > 0 && !q.machine);
		if (needTags.length > 0) {
			const ids = [...new Set(needTags.map((q) => q.machineId!))];
			try {
				const machines = await backend.machinesByIds(ids);
				const byId = new Map(machines.map((m) => [m.id.toLowerCase(), m]));
				for (const q of needTags) {
					const m = byId.get(q.machineId!);
					if (m) q.machine = m;
					else
						fail(
							q,
							new NodeOperationError(node, `Machine ${q.machineId} was not found in tenant ${backend.tenantId}`, {
								itemIndex: q.i,
								description: 'Exclude Tags needs the machine\'s tags, and Defender does not know this device ID here. Check the ID, the customer tenant and the region.',
							}),
						);
				}
			} catch (error) {
				for (const q of needTags) fail(q, error);
			}
		}
	}

	// 4. Max Machines per Execution on the resolved machines: still nothing sent.
	const live = planned.filter((p) => !p.failed && p.machineId && groups.has(p.group));
	const known = machineLedger.machines(ledgerKey);
	const fresh = new Set(live.map((p) => machineKey(groups.get(p.group)!.tenantId, p.machineId!)).filter((k) => !known.has(k)));
	const byMachines = checkMaxMachines({ fresh: fresh.size, earlier: known.size, max }, 'machines');
	if (!byMachines.ok) throw new NodeOperationError(node, byMachines.message, { description: byMachines.hint, itemIndex: live[0]?.i ?? planned[0].i });

	// 5. Exclude Tags and Dry Run.
	const toSend: Planned[] = [];
	for (const p of live) {
		const group = groups.get(p.group)!;
		const hits = p.machine ? excludedTagsOf(p.machine, p.exclude) : [];
		const base: IDataObject = {
			operation: spec.operation,
			machineId: p.machineId!,
			computerDnsName: (p.machine?.computerDnsName as string | undefined) ?? (p.ref.kind === 'dnsName' ? p.ref.name : null),
			tenantId: group.tenantId,
			...(p.common.customerLabel !== undefined ? { customerLabel: p.common.customerLabel } : {}),
		};
		if (hits.length > 0) {
			const message = `Machine ${p.machineId} carries the excluded tag${hits.length > 1 ? 's' : ''} ${hits.join(', ')}: ${spec.title.toLowerCase()} was not sent`;
			if (p.onExcluded === 'error') {
				fail(p, new NodeOperationError(node, message, { itemIndex: p.i, description: 'Exclude Tags protects these machines. Remove the tag from Exclude Tags (or from the machine) if this action is intended.' }));
				continue;
			}
			results[p.i] = outputItem(ctx, p.i, { ...base, skipped: true, reason: message, excludedTags: hits, dedupKey: machineKey(group.tenantId, p.machineId!) });
			continue;
		}
		if (p.dryRun) {
			results[p.i] = outputItem(ctx, p.i, {
				...base,
				dryRun: true,
				request: { method: 'POST', path: group.backend.actionPath(p.machineId!, spec.kind), body: { ...p.body } as IDataObject },
				guardRails: { maxMachines: max, machinesThisRun: fresh.size, machinesEarlierInExecution: known.size, excludeTags: p.exclude },
				dedupKey: machineKey(group.tenantId, p.machineId!),
			});
			continue;
		}
		toSend.push(p);
	}

	// 6. One request per distinct (tenant, machine, action, body); the machines are counted before sending.
	const sends = new Map<string, Planned[]>();
	for (const p of toSend) {
		const key = JSON.stringify([p.group, p.machineId, spec.kind, p.body]);
		const list = sends.get(key) ?? [];
		list.push(p);
		sends.set(key, list);
	}
	machineLedger.record(
		ledgerKey,
		toSend.map((p) => machineKey(groups.get(p.group)!.tenantId, p.machineId!)),
		toSend.map((p) => [`${p.group}|${refKey(p.ref)}`, machineKey(groups.get(p.group)!.tenantId, p.machineId!)] as [string, string]),
	);
	interface Sent {
		members: Planned[];
		group: string;
		action: MachineActionRecord;
		alreadyPending: boolean;
		waitError?: string;
		waitTimedOut?: boolean;
		packageDownloadUrl?: string;
		packageError?: string;
	}
	const sent: Sent[] = [];
	for (const members of sends.values()) {
		const first = members[0];
		const group = groups.get(first.group)!;
		try {
			const result = await group.backend.runAction(first.machineId!, spec.kind, first.body);
			sent.push({ members, group: first.group, action: result.action, alreadyPending: result.alreadyPending });
		} catch (error) {
			for (const p of members) fail(p, error);
		}
	}

	// 7. Wait for completion: every pending action of the run polled together.
	const plan = new WaitPlan();
	const started = Date.now();
	const latest = new Map<string, MachineActionRecord>();
	const keyOf = (group: string, id: string) => `${group}|${String(id).toLowerCase()}`;
	for (const s of sent) {
		const waits = s.members.map((p) => p.wait).filter((w): w is { maxWaitMs: number; pollMs: number } => w !== undefined);
		if (waits.length === 0 || typeof s.action.id !== 'string') continue;
		latest.set(keyOf(s.group, s.action.id), s.action);
		plan.add({
			id: s.action.id.toLowerCase(),
			group: s.group,
			deadline: started + Math.max(...waits.map((w) => w.maxWaitMs)),
			pollMs: Math.min(...waits.map((w) => w.pollMs)),
			status: String(s.action.status ?? 'Pending'),
		});
	}
	const waitErrors = new Map<string, string>();
	for (let delay = plan.nextDelay(Date.now()); delay !== undefined; delay = plan.nextDelay(Date.now())) {
		const due = plan.round(Date.now());
		await sleep(delay);
		for (const call of due) {
			const group = groups.get(call.group)!;
			let actions: MachineActionRecord[] = [];
			try {
				if (!group.perIdPolling) {
					try {
						actions = await group.backend.actionsByIds(call.ids);
					} catch (error) {
						// A filter the API refuses (400): read these actions one by one from now on.
						if (describeFailure(error).status !== 400) throw withItemIndex(node, error, group.first.i);
						group.perIdPolling = true;
					}
				}
				if (group.perIdPolling) for (const id of call.ids) actions.push(await group.backend.getAction(id));
			} catch (error) {
				const message = error instanceof Error ? error.message : String(error);
				for (const id of call.ids) {
					waitErrors.set(keyOf(call.group, id), message);
					plan.update(call.group, id, 'WaitFailed');
				}
				continue;
			}
			for (const a of actions) {
				if (typeof a?.id !== 'string') continue;
				latest.set(keyOf(call.group, a.id), a);
				plan.update(call.group, a.id.toLowerCase(), String(a.status ?? ''));
			}
		}
	}
	const waitedMs = Date.now() - started;
	for (const s of sent) {
		if (!s.members.some((p) => p.wait)) continue;
		const key = keyOf(s.group, s.action.id);
		s.action = latest.get(key) ?? s.action;
		s.waitError = waitErrors.get(key);
		s.waitTimedOut = !s.waitError && !isTerminalStatus(s.action.status);
		if (s.members.some((p) => p.downloadLink) && s.action.status === 'Succeeded') {
			try {
				s.packageDownloadUrl = await groups.get(s.group)!.backend.packageUri(s.action.id);
			} catch (error) {
				s.packageError = error instanceof Error ? error.message : String(error);
			}
		}
	}

	// 8. One output item per input item.
	for (const s of sent) {
		const group = groups.get(s.group)!;
		for (const p of s.members) {
			const json: IDataObject = {
				...(s.action as IDataObject),
				tenantId: group.tenantId,
				dedupKey: `${group.tenantId}:${String(s.action.id).toLowerCase()}`,
				machinePortalUrl: group.backend.portalUrl(p.machineId!),
				alreadyPending: s.alreadyPending,
			};
			if (s.members.length > 1) json.itemsSharingAction = s.members.length;
			if (p.wait) {
				json.completed = isTerminalStatus(s.action.status);
				json.waitTimedOut = s.waitTimedOut === true;
				json.waitedSeconds = Math.round(waitedMs / 100) / 10;
				if (s.waitError) json.waitError = s.waitError;
			}
			if (s.packageDownloadUrl !== undefined) json.packageDownloadUrl = s.packageDownloadUrl;
			if (s.packageError !== undefined) json.packageError = s.packageError;
			if (p.common.customerLabel !== undefined) json.customerLabel = p.common.customerLabel;
			results[p.i] = outputItem(ctx, p.i, json);
		}
	}
	return results.filter((r): r is INodeExecutionData => r !== undefined);
}

/** Offboard's confirmation: an explicit switch the author sets (not a value the AI agent fills in). */
export function requireConfirmation(ctx: IExecuteFunctions, i: number, name: string, message: string, hint: string): void {
	const node = ctx.getNode();
	if (isAgentFilled(node.parameters?.[name]) || ctx.getNodeParameter(name, i, false) !== true) throw inputError(node, i, message, hint);
}
