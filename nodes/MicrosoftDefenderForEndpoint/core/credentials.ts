/** Reading and validating the credential's fields: every mistake is reported before any request is made. */
import { CloudConfigError, type CloudEndpoints, resolveCloud } from './clouds';
import { isGuid } from './ids';

export const CREDENTIAL_TYPE = 'microsoftDefenderForEndpointApi';

export class CredentialInputError extends Error {
	constructor(
		message: string,
		readonly hint: string,
	) {
		super(message);
		this.name = 'CredentialInputError';
	}
}

const DOMAIN_RE = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** A tenant is a GUID or a verified domain; `common`, `organizations` and `consumers` cannot issue app tokens. */
export function validateTenantId(raw: unknown, label = 'Tenant ID'): string {
	const value = typeof raw === 'string' ? raw.trim() : '';
	if (!value) {
		throw new CredentialInputError(`${label} is empty`, 'Enter the tenant GUID (Entra ID → Overview → Tenant ID) or a verified domain such as contoso.onmicrosoft.com.');
	}
	if (/^(common|organizations|consumers)$/i.test(value)) {
		throw new CredentialInputError(
			`${label} "${value}" is not a specific tenant`,
			'App-only tokens are issued by one tenant: enter its GUID or verified domain (e.g. contoso.onmicrosoft.com).',
		);
	}
	if (isGuid(value)) return value.toLowerCase();
	if (DOMAIN_RE.test(value)) return value.toLowerCase();
	throw new CredentialInputError(
		`${label} "${value.length > 80 ? `${value.slice(0, 80)}…` : value}" is neither a GUID nor a domain`,
		'Use the tenant GUID (8-4-4-4-12 hex digits) or a verified domain such as contoso.onmicrosoft.com.',
	);
}

/** What the token layer needs to ask for one tenant's token. */
export interface TokenTarget {
	authorityHost: string; // https://login.microsoftonline.com
	tenantId: string;
	clientId: string;
	clientSecret: string;
	scope: string;
	/** Authority msal does not know (custom cloud / emulator): msal then reads its OpenID configuration. */
	customAuthority: boolean;
}

export interface DefenderCredential {
	tenantId: string;
	clientId: string;
	clientSecret: string;
	endpoints: CloudEndpoints;
}

export function readCredential(data: Record<string, unknown>): DefenderCredential {
	const tenantId = validateTenantId(data.tenantId);
	const clientId = typeof data.clientId === 'string' ? data.clientId.trim() : '';
	if (!clientId) {
		throw new CredentialInputError('Application (client) ID is empty', 'Copy the Application (client) ID from the app registration\'s Overview page.');
	}
	if (!isGuid(clientId)) {
		throw new CredentialInputError(
			`Application (client) ID "${clientId.slice(0, 60)}" is not a GUID`,
			'Copy the Application (client) ID (8-4-4-4-12 hex digits) from the app registration\'s Overview page.',
		);
	}
	const clientSecret = typeof data.clientSecret === 'string' ? data.clientSecret.trim() : '';
	if (!clientSecret) {
		throw new CredentialInputError('Client Secret is empty', 'Create a secret under Certificates & secrets in the app registration and paste its Value.');
	}
	let endpoints: CloudEndpoints;
	try {
		endpoints = resolveCloud({
			cloud: data.cloud as string | undefined,
			authorityHost: data.authorityHost as string | undefined,
			apiBaseUrl: data.apiBaseUrl as string | undefined,
			scope: data.scope as string | undefined,
		});
	} catch (error) {
		if (error instanceof CloudConfigError) throw new CredentialInputError(error.message, error.hint);
		throw error;
	}
	return { tenantId, clientId: clientId.toLowerCase(), clientSecret, endpoints };
}

export function tokenTarget(credential: DefenderCredential, tenantId = credential.tenantId): TokenTarget {
	return {
		authorityHost: credential.endpoints.authorityHost,
		tenantId,
		clientId: credential.clientId,
		clientSecret: credential.clientSecret,
		scope: credential.endpoints.scope,
		customAuthority: credential.endpoints.customAuthority,
	};
}
