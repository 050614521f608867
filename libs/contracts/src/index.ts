export * from './errors';
export * from './instances';
export * from './limits';
export * from './patterns';
export * from './validation';
export * from './screen.dto';
export * from './names';
export * from './session-payloads.dto';
