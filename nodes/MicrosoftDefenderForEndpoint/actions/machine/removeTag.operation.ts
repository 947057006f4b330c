import { tagOperation } from './tag';

export const { description, execute } = tagOperation('Remove', 'removeTag', {
	machine: 'The machine to remove the tag from',
	tag: 'The tag to remove',
});
