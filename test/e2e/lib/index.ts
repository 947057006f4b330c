export * from './paths';
export * from './proc';
export * from './n8n';
export * from './pack';
export * from './emulator';
export * from './browser';
export * from './workflows';
export * from './editor';
