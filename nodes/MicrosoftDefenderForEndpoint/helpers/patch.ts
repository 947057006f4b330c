/** Reads and checks the Update Fields collection into an alert patch, before any request. */
import type { IDataObject, INode } from 'n8n-workflow';

import type { AlertPatch } from '../backend/types';
import { ALL_DETERMINATIONS, CLASSIFICATIONS, type Classification, DETERMINATIONS, WRITABLE_STATUSES } from './enums';
import { inputError, validateEnum } from './validation';

function text(value: unknown): string | undefined {
	if (value === undefined || value === null) return undefined;
	const s = typeof value === 'string' ? value : String(value);
	return s.trim() === '' ? undefined : s;
}

export function readPatch(node: INode, itemIndex: number, fields: IDataObject): AlertPatch {
	const patch: AlertPatch = {};
	const status = text(fields.status);
	if (status !== undefined) patch.status = validateEnum(node, itemIndex, 'Status', status, WRITABLE_STATUSES);
	const assignedTo = text(fields.assignedTo);
	if (assignedTo !== undefined) patch.assignedTo = assignedTo.trim();
	const classification = text(fields.classification);
	if (classification !== undefined) patch.classification = validateEnum(node, itemIndex, 'Classification', classification, CLASSIFICATIONS);
	const determination = text(fields.determination);
	if (determination !== undefined) {
		if (patch.classification) {
			const allowed = DETERMINATIONS[patch.classification as Classification];
			const match = allowed.find((d) => d.toLowerCase() === determination.trim().toLowerCase());
			if (!match) {
				throw inputError(
					node,
					itemIndex,
					`Determination "${determination}" does not fit Classification "${patch.classification}"`,
					`For ${patch.classification} use one of: ${allowed.join(', ')}.`,
				);
			}
			patch.determination = match;
		} else {
			patch.determination = validateEnum(node, itemIndex, 'Determination', determination, ALL_DETERMINATIONS);
		}
	}
	const comment = text(fields.comment);
	if (comment !== undefined) patch.comment = comment;
	if (Object.keys(patch).length === 0) {
		throw inputError(node, itemIndex, 'Update Fields is empty', 'Add at least one field to change: Status, Assigned To, Classification, Determination or Comment.');
	}
	return patch;
}

/** Stable text form of a patch, for grouping identical changes. */
export function patchKey(patch: AlertPatch): string {
	const keys = Object.keys(patch).sort() as Array<keyof AlertPatch>;
	return JSON.stringify(keys.map((k) => [k, patch[k]]));
}
