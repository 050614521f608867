export * from './signalling';
export * from './keys';
