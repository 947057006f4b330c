/**
 * Entra directory model: tenants (GUID + verified domains), app registrations (client id, secrets, home tenant),
 * per-tenant service principals with granted WindowsDefenderATP application roles, issued-token registry,
 * revocations and per (tenant, client, scope) token counters.
 */
import { randomBytes } from 'node:crypto';
import type { EmulatorClock } from './clock';
import { guid } from './http-util';
import type { JwtSigner, JwtPayload } from './jwt';
import type {
	App,
	AppInput,
	AppSecretInfo,
	Consent,
	IssueTokenOptions,
	SecretInput,
	Tenant,
	TenantInput,
	TokenCount,
	TokenTarget,
} from './types';

/** WindowsDefenderATP application roles (the Permissions sections of the API pages, plus the TVM/score roles of the same app). */
export const KNOWN_ROLES: readonly string[] = [
	'Alert.Read.All',
	'Alert.ReadWrite.All',
	'Machine.Read.All',
	'Machine.ReadWrite.All',
	'Machine.Isolate',
	'Machine.Scan',
	'Machine.CollectForensics',
	'Machine.RestrictExecution',
	'Machine.StopAndQuarantine',
	'Machine.Offboard',
	'Machine.LiveResponse',
	'Ti.ReadWrite',
	'Ti.ReadWrite.All',
	'AdvancedQuery.Read.All',
	'URL.Read.All',
	'File.Read.All',
	'Ip.Read.All',
	'User.Read.All',
	'Score.Read.All',
	'SecurityConfiguration.Read.All',
	'SecurityRecommendation.Read.All',
	'Software.Read.All',
	'Vulnerability.Read.All',
	'RemediationTasks.Read.All',
];

/** Resources (token `aud`) the Defender API accepts (the API host names and the documented resource https://api.securitycenter.microsoft.com). */
export const ACCEPTED_RESOURCES: readonly string[] = [
	'https://api.securitycenter.microsoft.com',
	'https://securitycenter.onmicrosoft.com/windowsatpservice',
	'https://api.security.microsoft.com',
	'https://api.securitycenter.windows.com',
	'https://api-gcc.securitycenter.microsoft.us',
	'https://api-gov.securitycenter.microsoft.us',
	'https://securitycenter.onmicrosoft.us/windowsatpservice',
];

export const DEFAULT_RESOURCE = ACCEPTED_RESOURCES[0];

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => GUID_RE.test(value);

/** Canonical accepted resource for `value` (case-insensitive, trailing slash ignored), or undefined. */
export function canonicalResource(value: string): string | undefined {
	const v = value.trim().replace(/\/+$/, '').toLowerCase();
	return ACCEPTED_RESOURCES.find((r) => r === v);
}

interface SecretRecord {
	id: string;
	value: string;
	expired: boolean;
}

interface AppRecord {
	clientId: string;
	name: string;
	homeTenantId: string;
	multiTenant: boolean;
	secrets: SecretRecord[];
}

interface Grant {
	servicePrincipalId: string;
	roles: Set<string>;
}

interface IssuedToken {
	tenantId: string;
	clientId: string;
	issuedTicks: bigint;
}

export interface IssuedTokenResult {
	accessToken: string;
	expiresIn: number;
	expiresOn: number;
	notBefore: number;
	audience: string;
}

export function randomSecret(): string {
	// Entra secret values: 40 chars of [A-Za-z0-9~._-], e.g. "Q~" style; keep the visual style.
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-';
	const bytes = randomBytes(40);
	let out = '';
	for (const b of bytes) out += alphabet[b % alphabet.length];
	return `${out.slice(0, 3)}8Q~${out.slice(3, 37)}`;
}

export class Directory {
	private readonly tenants = new Map<string, Tenant>();
	private readonly domainIndex = new Map<string, string>();
	private readonly apps = new Map<string, AppRecord>();
	private readonly grants = new Map<string, Map<string, Grant>>();
	private readonly revocations = new Map<string, bigint>();
	private readonly issued = new Map<string, IssuedToken>();
	private readonly counts = new Map<string, TokenCount>();
	tokenLifetimeSeconds: number;

	constructor(
		private readonly clock: EmulatorClock,
		private readonly signer: JwtSigner,
		tokenLifetimeSeconds = 3599,
	) {
		this.tokenLifetimeSeconds = tokenLifetimeSeconds;
	}

	// ------------------------------------------------------------------------------------------------ tenants

	addTenant(input: TenantInput): Tenant {
		const id = (input.id ?? guid()).toLowerCase();
		if (!isGuid(id)) throw new Error(`Tenant id must be a GUID: ${id}`);
		if (this.tenants.has(id)) throw new Error(`Tenant ${id} already exists`);
		const domains = (input.domains && input.domains.length > 0
			? input.domains
			: [`${input.name.toLowerCase().replace(/[^a-z0-9]/g, '')}.onmicrosoft.com`]
		).map((d) => d.toLowerCase());
		for (const d of domains) {
			if (this.domainIndex.has(d)) throw new Error(`Domain ${d} is already verified in another tenant`);
		}
		const tenant: Tenant = { id, name: input.name, domains };
		this.tenants.set(id, tenant);
		for (const d of domains) this.domainIndex.set(d, id);
		return { ...tenant, domains: [...domains] };
	}

	/** Find a tenant by GUID or verified domain (case-insensitive). */
	findTenant(idOrDomain: string): Tenant | undefined {
		const key = idOrDomain.toLowerCase();
		const id = this.tenants.has(key) ? key : this.domainIndex.get(key);
		return id ? this.tenants.get(id) : undefined;
	}

	getTenant(idOrDomain: string): Tenant {
		const tenant = this.findTenant(idOrDomain);
		if (!tenant) throw new Error(`Unknown tenant ${idOrDomain}`);
		return tenant;
	}

	listTenants(): Tenant[] {
		return [...this.tenants.values()].map((t) => ({ ...t, domains: [...t.domains] }));
	}

	// ------------------------------------------------------------------------------------------------ apps

	addApp(input: AppInput): App {
		const clientId = (input.clientId ?? guid()).toLowerCase();
		if (!isGuid(clientId)) throw new Error(`clientId must be a GUID: ${clientId}`);
		if (this.apps.has(clientId)) throw new Error(`App ${clientId} already exists`);
		const home = this.getTenant(input.homeTenantId);
		const secretInputs = input.secrets ?? [randomSecret()];
		const secrets = secretInputs.map((s) => this.makeSecret(typeof s === 'string' ? { value: s } : s));
		const record: AppRecord = {
			clientId,
			name: input.name,
			homeTenantId: home.id,
			multiTenant: input.multiTenant ?? true,
			secrets,
		};
		this.apps.set(clientId, record);
		this.grantConsent(home.id, clientId, input.homeRoles ?? []);
		return this.publicApp(record, true);
	}

	private makeSecret(input: SecretInput): SecretRecord {
		return { id: guid(), value: input.value ?? randomSecret(), expired: input.expired ?? false };
	}

	addSecret(clientId: string, input: SecretInput = {}): string {
		const app = this.getAppRecord(clientId);
		const secret = this.makeSecret(input);
		app.secrets.push(secret);
		return secret.value;
	}

	/** Mark a secret (by value or secret id) as expired: the token endpoint answers AADSTS7000222. */
	expireSecret(clientId: string, secret: string): void {
		const app = this.getAppRecord(clientId);
		const record = app.secrets.find((s) => s.value === secret || s.id === secret);
		if (!record) throw new Error(`App ${clientId} has no such secret`);
		record.expired = true;
	}

	removeSecret(clientId: string, secret: string): void {
		const app = this.getAppRecord(clientId);
		app.secrets = app.secrets.filter((s) => s.value !== secret && s.id !== secret);
	}

	findApp(clientId: string): AppRecord | undefined {
		return this.apps.get(clientId.toLowerCase());
	}

	private getAppRecord(clientId: string): AppRecord {
		const app = this.findApp(clientId);
		if (!app) throw new Error(`Unknown app ${clientId}`);
		return app;
	}

	private publicApp(record: AppRecord, withSecrets: boolean): App {
		return {
			clientId: record.clientId,
			name: record.name,
			homeTenantId: record.homeTenantId,
			multiTenant: record.multiTenant,
			secrets: withSecrets ? record.secrets.map((s) => s.value) : [],
		};
	}

	listApps(): Array<Omit<App, 'secrets'> & { secrets: AppSecretInfo[] }> {
		return [...this.apps.values()].map((a) => ({
			clientId: a.clientId,
			name: a.name,
			homeTenantId: a.homeTenantId,
			multiTenant: a.multiTenant,
			secrets: a.secrets.map((s) => ({ id: s.id, hint: s.value.slice(0, 3), expired: s.expired })),
		}));
	}

	// ------------------------------------------------------------------------------------------------ consent

	/** Create (or update) the app's service principal in the tenant with these application roles. */
	grantConsent(tenantId: string, clientId: string, roles: string[]): Consent {
		const tenant = this.getTenant(tenantId);
		const app = this.getAppRecord(clientId);
		validateRoles(roles);
		let perTenant = this.grants.get(tenant.id);
		if (!perTenant) {
			perTenant = new Map();
			this.grants.set(tenant.id, perTenant);
		}
		const existing = perTenant.get(app.clientId);
		const grant: Grant = existing ?? { servicePrincipalId: guid(), roles: new Set() };
		grant.roles = new Set(roles);
		perTenant.set(app.clientId, grant);
		return { tenantId: tenant.id, clientId: app.clientId, servicePrincipalId: grant.servicePrincipalId, roles: [...grant.roles] };
	}

	/** Replace the granted roles. Tokens already issued keep their `roles` claim (as in Entra). */
	setRoles(tenantId: string, clientId: string, roles: string[]): Consent {
		const grant = this.findGrant(tenantId, clientId);
		if (!grant) throw new Error(`App ${clientId} has no service principal in tenant ${tenantId}`);
		return this.grantConsent(tenantId, clientId, roles);
	}

	/** Delete the service principal: the token endpoint then answers AADSTS7000229. */
	revokeConsent(target: { tenantId: string; clientId: string }): void {
		const tenant = this.getTenant(target.tenantId);
		this.grants.get(tenant.id)?.delete(target.clientId.toLowerCase());
	}

	findGrant(tenantId: string, clientId: string): Grant | undefined {
		const tenant = this.findTenant(tenantId);
		if (!tenant) return undefined;
		return this.grants.get(tenant.id)?.get(clientId.toLowerCase());
	}

	listConsents(): Consent[] {
		const out: Consent[] = [];
		for (const [tenantId, perTenant] of this.grants) {
			for (const [clientId, grant] of perTenant) {
				out.push({ tenantId, clientId, servicePrincipalId: grant.servicePrincipalId, roles: [...grant.roles] });
			}
		}
		return out;
	}

	// ------------------------------------------------------------------------------------------------ tokens

	/** Issue a signed token (the token endpoint calls this after validation; tests may call it directly). */
	issueToken(options: IssueTokenOptions, countScope?: string): IssuedTokenResult {
		const tenant = this.getTenant(options.tenantId);
		const app = this.getAppRecord(options.clientId);
		const grant = this.findGrant(tenant.id, app.clientId);
		const roles = options.roles ?? (grant ? [...grant.roles] : []);
		const audience = options.resource ?? DEFAULT_RESOURCE;
		const lifetime = options.lifetimeSeconds ?? this.tokenLifetimeSeconds;
		const issuedTicks = this.clock.writeTicks();
		const iat = Math.floor(Number(issuedTicks / 10_000_000n)) + (options.issuedAtOffsetSeconds ?? 0);
		const exp = iat + lifetime;
		const uti = randomBytes(16).toString('base64url').slice(0, 22);
		const oid = grant?.servicePrincipalId ?? guid();
		const iss = `https://sts.windows.net/${tenant.id}/`;
		const payload: JwtPayload = {
			aud: audience,
			iss,
			iat,
			nbf: iat,
			exp,
			aio: randomBytes(48).toString('base64'),
			app_displayname: app.name,
			appid: app.clientId,
			appidacr: '1',
			idp: iss,
			idtyp: 'app',
			oid,
			rh: `0.${randomBytes(24).toString('base64url')}.`,
			sub: oid,
			tid: tenant.id,
			uti,
			jti: uti,
			ver: '1.0',
		};
		if (roles.length > 0) payload.roles = [...roles];
		Object.assign(payload, options.claims ?? {});
		const accessToken = this.signer.sign(payload);
		this.issued.set(uti, { tenantId: tenant.id, clientId: app.clientId, issuedTicks });
		if (countScope !== undefined) {
			const key = `${tenant.id}|${app.clientId}|${countScope}`;
			const entry = this.counts.get(key) ?? { tenantId: tenant.id, clientId: app.clientId, scope: countScope, count: 0 };
			entry.count += 1;
			this.counts.set(key, entry);
		}
		return { accessToken, expiresIn: lifetime, expiresOn: exp, notBefore: iat, audience };
	}

	/** Reject every token issued up to now for the target (tenant and/or client; both omitted = all). */
	revokeTokens(target: TokenTarget = {}): void {
		const tenantKey = target.tenantId ? this.getTenant(target.tenantId).id : '*';
		const clientKey = target.clientId ? target.clientId.toLowerCase() : '*';
		this.revocations.set(`${tenantKey}|${clientKey}`, this.clock.writeTicks());
	}

	/** Whether the registry knows the token (uti) and it was not revoked afterwards. */
	tokenStatus(uti: unknown): 'valid' | 'unknown' | 'revoked' {
		if (typeof uti !== 'string') return 'unknown';
		const token = this.issued.get(uti);
		if (!token) return 'unknown';
		for (const key of [
			`${token.tenantId}|${token.clientId}`,
			`${token.tenantId}|*`,
			`*|${token.clientId}`,
			'*|*',
		]) {
			const at = this.revocations.get(key);
			if (at !== undefined && token.issuedTicks <= at) return 'revoked';
		}
		return 'valid';
	}

	tokenCounts(filter: Partial<Omit<TokenCount, 'count'>> = {}): TokenCount[] {
		return [...this.counts.values()]
			.filter(
				(c) =>
					(filter.tenantId === undefined || c.tenantId === this.findTenant(filter.tenantId)?.id) &&
					(filter.clientId === undefined || c.clientId === filter.clientId.toLowerCase()) &&
					(filter.scope === undefined || c.scope === filter.scope),
			)
			.map((c) => ({ ...c }));
	}

	tokensIssued(filter: Partial<Omit<TokenCount, 'count'>> = {}): number {
		return this.tokenCounts(filter).reduce((sum, c) => sum + c.count, 0);
	}

	resetTokenCounts(): void {
		this.counts.clear();
	}
}

export function validateRoles(roles: string[]): void {
	for (const role of roles) {
		if (!KNOWN_ROLES.includes(role)) {
			throw new Error(`Unknown WindowsDefenderATP application role '${role}'. Known: ${KNOWN_ROLES.join(', ')}`);
		}
	}
}
