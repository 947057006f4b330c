import type { IDataObject, ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { ALL_DETERMINATIONS, CLASSIFICATION_LABELS, type Classification, DETERMINATION_LABELS, DETERMINATIONS } from '../helpers/enums';

/** Determinations valid for the Classification chosen in the same Update Fields collection (all when none). */
export async function getDeterminations(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const fields = (this.getCurrentNodeParameter('updateFields') ?? {}) as IDataObject;
	const classification = fields.classification as Classification | undefined;
	const values = classification && DETERMINATIONS[classification] ? DETERMINATIONS[classification] : ALL_DETERMINATIONS;
	const forText = classification && DETERMINATIONS[classification] ? ` (${CLASSIFICATION_LABELS[classification]})` : '';
	return values.map((value) => ({
		name: DETERMINATION_LABELS[value] ?? value,
		value,
		description: `Sent to Defender as "${value}"${forText}`,
	}));
}
