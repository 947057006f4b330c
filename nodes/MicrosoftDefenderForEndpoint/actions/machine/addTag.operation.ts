import { tagOperation } from './tag';

export const { description, execute } = tagOperation('Add', 'addTag', {
	machine: 'The machine to tag',
	tag: 'The tag to add (a tag the machine already has is left as it is)',
});
