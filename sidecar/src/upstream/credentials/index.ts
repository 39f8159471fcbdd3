export type { CredentialRequest, CredentialSource, UpstreamCredential } from './credential.ts';
export { CredentialError, type CredentialErrorCode } from './credential.ts';
export { credentialOf, parsePrincipalCredentials } from './per-principal.ts';
export { type CredentialResult, type CredentialSourceDeps, createCredentialSource } from './source.ts';
