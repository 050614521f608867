export * from './signalling';
export * from './keys';
export * from './clipboard';
