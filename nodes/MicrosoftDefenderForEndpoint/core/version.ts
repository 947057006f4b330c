/** Kept equal to package.json "version" (a unit test checks it). */
export const PACKAGE_VERSION = '0.1.0';

/** Microsoft asks partners to identify themselves: `MdePartner-<Company>-<Product>/<Version>` (https://learn.microsoft.com/en-us/defender-endpoint/get-started-partner-integration). */
export const USER_AGENT = `MdePartner-n8nCommunity-DefenderEndpointNodes/${PACKAGE_VERSION}`;
