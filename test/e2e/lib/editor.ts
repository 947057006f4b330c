/**
 * Page helpers for n8n 2.41's editor, using the data-test-id attributes the editor itself is tested with
 * (found by inspecting the live DOM of 2.41.1):
 *   canvas-add-button (empty canvas "Add first step"), node-creator-plus-button (top-right +), node-creator,
 *   node-creator-search-bar (input), item-iterator-item > node-creator-item-name, ndv, ndv-close-button,
 *   parameter-input-<name>, parameter-item, canvas-node, node-credentials-slot.
 * Dropdown options of `options` parameters render as visible [role="option"] elements.
 */
import type { Locator, Page } from 'playwright-core';
import type { N8nInstance } from './n8n';

export const tid = (id: string): string => `[data-test-id="${id}"]`;

/** Opens a new, empty workflow (the editor autosaves it once nodes are added). */
export async function openNewWorkflow(page: Page, instance: N8nInstance): Promise<void> {
	await page.goto(`${instance.baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
	await page.locator(tid('canvas-add-button')).or(page.locator(tid('node-creator-plus-button'))).first().waitFor({ state: 'visible' });
}

/** Opens the node creator (from the empty-canvas button when there is no node yet, else the top-right +). */
export async function openNodeCreator(page: Page): Promise<Locator> {
	const emptyCanvas = page.locator(tid('canvas-add-button'));
	if (await emptyCanvas.isVisible()) await emptyCanvas.click();
	else await page.locator(tid('node-creator-plus-button')).click();
	const creator = page.locator(tid('node-creator'));
	await creator.waitFor({ state: 'visible' });
	return creator;
}

/** The node-creator entry whose name is exactly `name` (nodes, actions and categories are all item-iterator-items). */
export function creatorItem(page: Page, name: string | RegExp): Locator {
	const exact = typeof name === 'string' ? new RegExp(`^\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : name;
	return page
		.locator(`${tid('node-creator')} ${tid('item-iterator-item')}`)
		.filter({ has: page.locator(tid('node-creator-item-name'), { hasText: exact }) })
		.or(page.locator(`${tid('node-creator')} ${tid('item-iterator-item')}`).filter({ hasText: exact }))
		.first();
}

/** Types into the node creator's search bar. */
export async function searchNodeCreator(page: Page, text: string): Promise<void> {
	const input = page.locator(`input${tid('node-creator-search-bar')}, ${tid('node-creator-search-bar')} input`).first();
	await input.fill(text);
}

/** Adds the Manual Trigger ("Trigger manually") to an empty canvas. */
export async function addManualTrigger(page: Page): Promise<void> {
	await openNodeCreator(page);
	await searchNodeCreator(page, 'manual');
	await creatorItem(page, /^(Manual Trigger|Trigger manually)$/).click();
	await page.locator(tid('canvas-trigger-node')).first().waitFor({ state: 'visible' });
	// Adding a trigger may open its panel or leave the creator open; get back to the canvas.
	await closeOverlays(page);
}

/** Closes an open node panel (NDV) or node creator. */
export async function closeOverlays(page: Page): Promise<void> {
	const ndvClose = page.locator(tid('ndv-close-button'));
	if (await ndvClose.isVisible()) await ndvClose.click();
	if (await page.locator(tid('node-creator')).isVisible()) await page.keyboard.press('Escape');
	await page.locator(tid('ndv')).waitFor({ state: 'hidden' }).catch(() => undefined);
}

/** The node panel (NDV). */
export function ndv(page: Page): Locator {
	return page.locator(tid('ndv'));
}

/** Opens an `options` parameter's dropdown in the open NDV and returns the visible option texts (name + description). */
export async function readParameterOptions(page: Page, parameterName: string): Promise<string[]> {
	const input = ndv(page).locator(tid(`parameter-input-${parameterName}`));
	await input.click();
	const options = page.locator('[role="option"]:visible, .el-select-dropdown__item:visible');
	await options.first().waitFor({ state: 'visible' });
	const texts = (await options.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
	await page.keyboard.press('Escape');
	await options.first().waitFor({ state: 'hidden' }).catch(() => undefined);
	return texts;
}

/** The displayed value of an `options`/string parameter in the open NDV. */
export async function readParameterValue(page: Page, parameterName: string): Promise<string> {
	const input = ndv(page).locator(`${tid(`parameter-input-${parameterName}`)} input`).first();
	return (await input.inputValue()).trim();
}

/** Facts about every <img> inside `scope` (used to check that node icons really loaded). */
export async function imageFacts(scope: Locator): Promise<Array<{ src: string; naturalWidth: number; complete: boolean; visible: boolean }>> {
	return await scope.locator('img').evaluateAll((els) =>
		els.map((el) => {
			// No DOM lib in this tsconfig: describe the few HTMLImageElement fields used.
			const img = el as unknown as { getAttribute(name: string): string | null; naturalWidth: number; complete: boolean; offsetParent: unknown };
			return { src: img.getAttribute('src') ?? '', naturalWidth: img.naturalWidth, complete: img.complete, visible: img.offsetParent !== null };
		}),
	);
}
