export * from './columns';
export * from './data-source-options';
export * from './ids';
export * from './transaction-runner';
export * from './migrate';
