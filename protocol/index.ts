export * from './errors';
export * from './usage';
export * from './requests';
export * from './responses';
