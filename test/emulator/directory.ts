/**
 * Entra directory model: tenants (GUID + verified domains), app registrations (client id, secrets, home tenant),
 * per-tenant service principals with granted WindowsDefenderATP application roles, issued-token registry,
 * revocations and per (tenant, client, scope) token counters.
 */
import { createHash, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import type { EmulatorClock } from './clock';
import { guid } from './http-util';
import type { JwtSigner, JwtPayload } from './jwt';
import type {
	App,
	AppCertificateInfo,
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

/**
 * Microsoft Graph resources per cloud (https://learn.microsoft.com/en-us/graph/deployments) and the Graph app id a
 * token may carry as `aud`. The Graph routes (graph.ts) accept only these; the Defender API refuses them. The token
 * endpoint issues them once Graph is enabled (GraphService.configure adds them to `otherResources`).
 */
export const GRAPH_RESOURCES: readonly string[] = ['https://graph.microsoft.com', 'https://graph.microsoft.us', 'https://dod-graph.microsoft.us', '00000003-0000-0000-c000-000000000000'];

/** Microsoft Graph application roles the package uses (alerts; incidents and hunting for later). */
export const GRAPH_ROLES: readonly string[] = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All', 'SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All', 'ThreatHunting.Read.All'];

/**
 * The roles a token for `audience` carries: a consent lists the roles of every API the app asked for, and Entra puts
 * only the resource's own roles into its token (Graph roles into Graph tokens, WindowsDefenderATP roles into the rest).
 */
export function rolesForAudience(roles: string[], audience: string): string[] {
	const graph = GRAPH_RESOURCES.includes(audience.replace(/\/+$/, '').toLowerCase());
	return roles.filter((r) => GRAPH_ROLES.includes(r) === graph);
}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => GUID_RE.test(value);

/** Canonical accepted resource for `value` (case-insensitive, trailing slash ignored), or undefined. */
export function canonicalResource(value: string): string | undefined {
	const v = value.trim().replace(/\/+$/, '').toLowerCase();
	return ACCEPTED_RESOURCES.find((r) => r === v);
}

/**
 * Other APIs the token endpoint issues tokens for by default (as Entra does), which the Defender API refuses: a
 * credential pointed at Azure Resource Manager or Key Vault by mistake gets a token, then a wrong-audience answer.
 * (Microsoft Graph is added with EmulatorOptions.otherResources; by default it answers AADSTS500011, which the
 * emulator's own tests rely on.)
 */
export const DEFAULT_OTHER_RESOURCES: readonly string[] = ['https://management.azure.com', 'https://vault.azure.net'];

interface CertificateRecord {
	thumbprintSha256: string;
	thumbprintSha1: string;
	subject: string;
	notBeforeMs: number;
	notAfterMs: number;
	publicKey: KeyObject;
	pem: string;
}

function certificateRecord(pem: string): CertificateRecord {
	let x509: X509Certificate;
	try {
		x509 = new X509Certificate(pem);
	} catch {
		throw new Error('Not a PEM (or DER) X.509 certificate');
	}
	return {
		thumbprintSha256: createHash('sha256').update(x509.raw).digest('hex').toUpperCase(),
		thumbprintSha1: createHash('sha1').update(x509.raw).digest('hex').toUpperCase(),
		subject: x509.subject,
		notBeforeMs: Date.parse(x509.validFrom),
		notAfterMs: Date.parse(x509.validTo),
		publicKey: x509.publicKey,
		pem: x509.toString(),
	};
}

/** The certificate an assertion names, as the token endpoint needs it to verify the signature. */
export interface AssertionCertificate {
	thumbprintSha256: string;
	thumbprintSha1: string;
	publicKey: KeyObject;
	notBeforeMs: number;
	notAfterMs: number;
	/** found through subject-name/issuer trust (x5c), not a registered certificate */
	viaSubject: boolean;
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
	certificates: CertificateRecord[];
	trustedSubjects: string[];
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
	/** resources besides Defender's that tokens are issued for (see DEFAULT_OTHER_RESOURCES) */
	otherResources: string[] = [...DEFAULT_OTHER_RESOURCES];

	constructor(
		private readonly clock: EmulatorClock,
		private readonly signer: JwtSigner,
		tokenLifetimeSeconds = 3599,
	) {
		this.tokenLifetimeSeconds = tokenLifetimeSeconds;
	}

	/** Canonical resource the token endpoint issues tokens for (Defender's or another API's), or undefined. */
	issuableResource(value: string): string | undefined {
		const v = value.trim().replace(/\/+$/, '').toLowerCase();
		return canonicalResource(v) ?? this.otherResources.map((r) => r.replace(/\/+$/, '').toLowerCase()).find((r) => r === v);
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
			certificates: (input.certificates ?? []).map(certificateRecord),
			trustedSubjects: [...(input.trustedCertificateSubjects ?? [])],
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

	/** Register a certificate (its public part) on the app, as under Certificates & secrets → Certificates. */
	addCertificate(clientId: string, pem: string): AppCertificateInfo {
		const app = this.getAppRecord(clientId);
		const record = certificateRecord(pem);
		if (!app.certificates.some((c) => c.thumbprintSha256 === record.thumbprintSha256)) app.certificates.push(record);
		return this.certificateInfo(record);
	}

	/** Remove a certificate by SHA-256 or SHA-1 thumbprint (hex, any case). */
	removeCertificate(clientId: string, thumbprint: string): void {
		const app = this.getAppRecord(clientId);
		const t = thumbprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
		app.certificates = app.certificates.filter((c) => c.thumbprintSha256 !== t && c.thumbprintSha1 !== t);
	}

	/** Trust a certificate subject for subject-name/issuer authentication (x5c). */
	trustCertificateSubject(clientId: string, subject: string): void {
		this.getAppRecord(clientId).trustedSubjects.push(subject);
	}

	/**
	 * The certificate a client assertion's header names: a registered one by `x5t#S256` (or the SHA-1 `x5t`), else
	 * the `x5c` leaf when its subject is trusted for subject-name/issuer authentication.
	 */
	assertionCertificate(clientId: string, header: { x5tS256?: string; x5t?: string; x5c?: string[] }): AssertionCertificate | undefined {
		const app = this.findApp(clientId);
		if (!app) return undefined;
		const hex = (b64?: string) => (b64 ? Buffer.from(b64, 'base64url').toString('hex').toUpperCase() : undefined);
		const s256 = hex(header.x5tS256);
		const s1 = hex(header.x5t);
		const registered = app.certificates.find((c) => (s256 !== undefined && c.thumbprintSha256 === s256) || (s1 !== undefined && c.thumbprintSha1 === s1));
		if (registered) return { ...registered, viaSubject: false };
		const leaf = header.x5c?.[0];
		if (leaf && app.trustedSubjects.length > 0) {
			let record: CertificateRecord;
			try {
				record = certificateRecord(new X509Certificate(Buffer.from(leaf, 'base64')).toString());
			} catch {
				return undefined;
			}
			const cn = /(?:^|\n)CN=([^\n]+)/.exec(record.subject)?.[1];
			const trusted = app.trustedSubjects.some((t) => t === record.subject || t === cn || t === `CN=${cn}`);
			const matches = (s256 === undefined || s256 === record.thumbprintSha256) && (s1 === undefined || s1 === record.thumbprintSha1);
			if (trusted && matches) return { ...record, viaSubject: true };
		}
		return undefined;
	}

	private certificateInfo(c: CertificateRecord): AppCertificateInfo {
		return {
			thumbprintSha256: c.thumbprintSha256,
			thumbprintSha1: c.thumbprintSha1,
			subject: c.subject.replace(/\n/g, ', '),
			notBefore: new Date(c.notBeforeMs).toISOString(),
			notAfter: new Date(c.notAfterMs).toISOString(),
			expired: this.clock.nowSeconds() * 1000 > c.notAfterMs,
		};
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

	listApps(): Array<Omit<App, 'secrets'> & { secrets: AppSecretInfo[]; certificates: AppCertificateInfo[] }> {
		return [...this.apps.values()].map((a) => ({
			clientId: a.clientId,
			name: a.name,
			homeTenantId: a.homeTenantId,
			multiTenant: a.multiTenant,
			secrets: a.secrets.map((s) => ({ id: s.id, hint: s.value.slice(0, 3), expired: s.expired })),
			certificates: a.certificates.map((c) => this.certificateInfo(c)),
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
		const audience = options.resource ?? DEFAULT_RESOURCE;
		const roles = options.roles ?? (grant ? rolesForAudience([...grant.roles], audience) : []);
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
		if (!KNOWN_ROLES.includes(role) && !GRAPH_ROLES.includes(role)) {
			throw new Error(`Unknown WindowsDefenderATP application role '${role}'. Known: ${KNOWN_ROLES.join(', ')} (Microsoft Graph: ${GRAPH_ROLES.join(', ')})`);
		}
	}
}
