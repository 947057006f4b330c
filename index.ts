export { MicrosoftDefenderForEndpointApi } from './credentials/MicrosoftDefenderForEndpointApi.credentials';
export { MicrosoftDefenderForEndpoint } from './nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';
export { MicrosoftDefenderForEndpointTrigger } from './nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node';
