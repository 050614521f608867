export const REMOTE_COMMANDS = [];
